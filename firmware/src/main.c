/*
 * Hip Hook reference sensor: ATmega328P (Arduino Uno / Nano, 16 MHz), an HX711 load-cell
 * amplifier and a lever microswitch, speaking protocol v1 (docs/protocol.md) at 115200 8N1.
 *
 * Wiring (Arduino pin names): HX711 PD_SCK D2, DOUT D3, RATE D5 (low 10 SPS, high 80 SPS);
 * lever switch between D4 and GND (internal pull-up; closed = engaged); LED D13 = lever.
 *
 * The main loop sleeps (idle mode) between interrupts: the 1 kHz clock tick, a received
 * byte, or the transmitter wanting its next byte. Every tick it looks at the HX711's DOUT;
 * a sample is read only when the converter has one, so the HX711 paces the stream.
 */
#include <avr/interrupt.h>
#include <avr/io.h>
#include <avr/sleep.h>
#include <avr/wdt.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "hx711.h"
#include "uart.h"

#define FW_VERSION "1.0.0"
#define MODEL "HipHook-AVR"
#define BAUD_RATE 115200UL

#define LEVER_BIT PD4
#define LED_BIT PB5
#define DEBOUNCE_MS 20
#define HEARTBEAT_MS 1000
#define LINE_MAX 64 /* protocol: at most 64 bytes including the newline */

#define FORCE_MIN_CN (-50000L)
#define FORCE_MAX_CN 300000L

/* -- the millisecond clock and the lever debouncer (Timer0, 1 kHz) --------------------- */

static volatile uint32_t clock_ms;
static volatile uint8_t lever_state;   /* debounced: 1 engaged */
static volatile uint8_t lever_changed; /* set by the tick, cleared by the main loop */
static volatile uint32_t lever_at;     /* when the new level began (after the last bounce) */
static uint8_t lever_candidate;
static uint8_t lever_stable;
static uint32_t lever_since;

ISR(TIMER0_COMPA_vect)
{
	uint32_t now = ++clock_ms;
	uint8_t raw = (PIND & _BV(LEVER_BIT)) ? 0 : 1;
	if (raw != lever_candidate) {
		lever_candidate = raw;
		lever_since = now;
		lever_stable = 0;
	} else if (raw != lever_state && ++lever_stable >= DEBOUNCE_MS) {
		lever_state = raw;
		lever_at = lever_since;
		lever_changed = 1;
	}
}

static uint32_t millis(void)
{
	uint32_t v;
	uint8_t s = SREG;
	cli();
	v = clock_ms;
	SREG = s;
	return v;
}

static void clock_init(void)
{
	TCCR0A = _BV(WGM01);              /* CTC */
	OCR0A = (F_CPU / 64 / 1000) - 1;  /* 249: 1 ms at 16 MHz */
	TCCR0B = _BV(CS01) | _BV(CS00);   /* clk/64 */
	TIMSK0 = _BV(OCIE0A);
	TCCR1B = _BV(CS10);               /* free-running at 16 MHz: jitter for the serial */
}

/* -- device lines: BODY*CCCC\n ---------------------------------------------------------- */

static char out[LINE_MAX];
static uint8_t out_len;

static void put_c(char c)
{
	if (out_len < LINE_MAX - 6)
		out[out_len++] = c;
}

static void put_s(const char *s)
{
	while (*s)
		put_c(*s++);
}

static void put_u(uint32_t v)
{
	char buf[11];
	ultoa(v, buf, 10);
	put_s(buf);
}

static void put_i(int32_t v)
{
	char buf[12];
	ltoa(v, buf, 10);
	put_s(buf);
}

static void begin(char tag)
{
	out_len = 0;
	put_c(tag);
}

/* Append the checksum and the newline; send. A sample may be dropped when the transmit
 * buffer is full (its sequence number is spent, so the host counts it as lost); every
 * other line waits for room. */
static uint8_t finish(uint8_t may_drop)
{
	static const char hex[] = "0123456789ABCDEF";
	uint16_t crc = crc16(out, out_len);
	out[out_len++] = '*';
	out[out_len++] = hex[(crc >> 12) & 15];
	out[out_len++] = hex[(crc >> 8) & 15];
	out[out_len++] = hex[(crc >> 4) & 15];
	out[out_len++] = hex[crc & 15];
	out[out_len++] = '\n';
	if (may_drop)
		return uart_try_write(out, out_len);
	uart_write(out, out_len);
	return 1;
}

static void reply_ok(const char *cmd)
{
	begin('K');
	put_s(cmd);
	finish(0);
}

static void reply_ok_value(const char *cmd, uint32_t value)
{
	begin('K');
	put_s(cmd);
	put_c(',');
	put_u(value);
	finish(0);
}

static void refuse(const char *cmd, const char *reason)
{
	begin('E');
	put_s(cmd);
	put_c(',');
	put_s(reason);
	finish(0);
}

/* -- watchdog: a hang resets the board instead of needing a replug -------------------- */

/* After a watchdog reset the watchdog stays on at its shortest timeout: switch it off
 * before anything else runs (avr-libc's recipe), then main() sets it up again. */
void early_wdt_off(void) __attribute__((naked, used, section(".init3")));
void early_wdt_off(void)
{
	MCUSR = 0;
	wdt_disable();
}

/* -- state ------------------------------------------------------------------------------ */

static struct config cfg;      /* tare, scale, serial: kept in EEPROM */
static uint8_t streaming;
static uint16_t seq;
static uint8_t rate_hz = 80;   /* power-on rate: the HX711's fast setting */
static uint8_t rate_pin_low;   /* the board ties the HX711's RATE pin to ground: 10 only */
static uint32_t last_conv_ms;
static uint8_t slow_runs;
static uint32_t lever_sent_ms;
static uint8_t lever_sent = 0xff; /* last state sent (0xff: none yet) */

enum { JOB_NONE, JOB_TARE, JOB_CAL };
static uint8_t job;            /* a TARE or CAL waiting for fresh conversions */
static uint8_t job_left;
static int32_t job_sum;
static uint8_t job_count;
static uint32_t job_grams;

static void hx_need(void)
{
	/* The converter runs while streaming or measuring, and sleeps otherwise. */
	if (streaming || job != JOB_NONE) {
		if (!hx711_powered())
			last_conv_ms = 0; /* the settling time is no conversion interval */
		hx711_power_up();
	} else {
		hx711_power_down();
	}
}

/* Many HX711 boards tie RATE to ground. At 80 Hz asked and 10 Hz given, three slow
 * intervals in a row say so: from then on the rate in force is 10 and 80 is refused. */
static void check_rate(uint32_t ms)
{
	if (rate_hz == 80 && last_conv_ms) {
		if (ms - last_conv_ms >= 60) {
			if (++slow_runs >= 3) {
				rate_pin_low = 1;
				rate_hz = 10;
			}
		} else {
			slow_runs = 0;
		}
	}
	last_conv_ms = ms;
}

static void send_lever(uint8_t state, uint32_t ms)
{
	begin('L');
	put_u(ms);
	put_c(',');
	put_c(state ? '1' : '0');
	finish(0);
	lever_sent = state;
	lever_sent_ms = millis();
}

static void ensure_serial(void)
{
	/* First use of a fresh board: a serial number from the timing of the host's first
	 * command (microsecond jitter) and the clock; kept in EEPROM from then on. */
	if (cfg.serial[0])
		return;
	static const char hex[] = "0123456789ABCDEF";
	uint16_t t = TCNT0 | ((uint16_t)TCNT1 << 8);
	uint32_t mix = (millis() * 2654435761UL) ^ ((uint32_t)t * 40503UL) ^ hx711_last_raw();
	cfg.serial[0] = 'H';
	cfg.serial[1] = 'H';
	for (uint8_t i = 0; i < 6; i++) {
		cfg.serial[2 + i] = hex[mix & 15];
		mix >>= 4;
	}
	cfg.serial[8] = 0;
	config_save(&cfg);
}

/* -- samples -------------------------------------------------------------------------- */

static int32_t to_cn(int32_t raw)
{
	float f = (float)(raw - cfg.tare) * cfg.scale;
	if (f < (float)FORCE_MIN_CN)
		return FORCE_MIN_CN;
	if (f > (float)FORCE_MAX_CN)
		return FORCE_MAX_CN;
	return (int32_t)(f < 0 ? f - 0.5f : f + 0.5f);
}

static void finish_job(void)
{
	int32_t avg = job_sum / job_count;
	if (job == JOB_TARE) {
		cfg.tare = avg;
		config_save(&cfg);
		reply_ok("TARE");
	} else {
		int32_t delta = avg - cfg.tare;
		/* Next to nothing on the tool, judged with the nominal scale so that a badly
		 * set scale cannot lock calibration out. A negative delta is a load cell
		 * mounted the other way round: the scale turns negative and it reads right. */
		if (labs(delta) * DEFAULT_SCALE < 50.0f) {
			refuse("CAL", "NOLOAD");
		} else {
			cfg.scale = (float)job_grams * 0.980665f / (float)delta;
			config_save(&cfg);
			reply_ok_value("CAL", job_grams);
		}
	}
	job = JOB_NONE;
	hx_need();
}

static void on_conversion(int32_t raw, uint32_t ms)
{
	check_rate(ms);
	if (job != JOB_NONE) {
		job_sum += raw;
		if (++job_count >= job_left)
			finish_job();
	}
	if (streaming) {
		begin('S');
		put_u(seq);
		put_c(',');
		put_u(ms);
		put_c(',');
		put_i(to_cn(raw));
		finish(1);
		seq++;
	}
}

static void start_job(uint8_t kind, uint32_t grams)
{
	job = kind;
	job_grams = grams;
	job_sum = 0;
	job_count = 0;
	job_left = rate_hz == 80 ? 16 : 4; /* 0.2 s or 0.4 s of fresh readings */
	hx_need();
}

/* -- host commands (same grammar as parse_command in app/core/protocol.py) -------------- */

static uint8_t hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return 0xff;
}

static uint8_t is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static const char *const commands[] = {"ID", "START", "STOP", "TARE", "RATE", "CAL", "BAUD"};
enum { C_ID, C_START, C_STOP, C_TARE, C_RATE, C_CAL, C_BAUD, C_COUNT };

static void command(char *s, uint8_t len, uint8_t overlong)
{
	if (overlong) {
		refuse("?", "LONG");
		return;
	}
	while (len && is_space(*s)) {
		s++;
		len--;
	}
	while (len && is_space(s[len - 1]))
		len--;
	if (!len)
		return;
	if (len >= LINE_MAX) {
		refuse("?", "LONG");
		return;
	}
	/* An optional *CCCC: when present it must be right. */
	int8_t star = -1;
	for (uint8_t i = 0; i < len; i++)
		if (s[i] == '*')
			star = i;
	if (star >= 0) {
		uint16_t want = 0;
		uint8_t ok = (len - star - 1) == 4;
		for (uint8_t i = star + 1; ok && i < len; i++) {
			uint8_t h = hexval(s[i]);
			if (h == 0xff)
				ok = 0;
			want = (want << 4) | h;
		}
		if (!ok || crc16(s, star) != want) {
			refuse("?", "CHECKSUM");
			return;
		}
		len = star;
	}
	/* WORD{1,8} then optionally one space and -?DIGITS{1,7}. */
	char name[9];
	uint8_t n = 0;
	while (n < len && n < 9 && ((s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= 'a' && s[n] <= 'z'))) {
		name[n] = s[n] & ~0x20;
		n++;
	}
	uint8_t has_arg = 0, neg = 0, digits = 0;
	int32_t arg = 0;
	uint8_t i = n;
	uint8_t ok = n >= 1 && n <= 8;
	if (ok && i < len) {
		has_arg = 1;
		ok = s[i++] == ' ';
		if (ok && i < len && s[i] == '-') {
			neg = 1;
			i++;
		}
		while (ok && i < len && s[i] >= '0' && s[i] <= '9' && digits < 8) {
			arg = arg * 10 + (s[i++] - '0');
			digits++;
		}
		ok = ok && i == len && digits >= 1 && digits <= 7;
	}
	if (!ok) {
		refuse("?", "SYNTAX");
		return;
	}
	name[n] = 0;
	if (neg)
		arg = -arg;
	uint8_t c = 0;
	while (c < C_COUNT && strcmp(name, commands[c]) != 0)
		c++;
	if (c == C_COUNT) {
		refuse(name, "UNKNOWN");
		return;
	}
	uint8_t needs = c == C_RATE || c == C_CAL || c == C_BAUD;
	if (needs != has_arg) {
		refuse(name, "ARG");
		return;
	}
	ensure_serial();
	switch (c) {
	case C_ID:
		begin('I');
		put_s("1," MODEL "," FW_VERSION ",");
		put_s(cfg.serial);
		put_c(',');
		put_u(rate_hz);
		put_c(',');
		put_u(BAUD_RATE);
		finish(0);
		break;
	case C_START:
		if (!streaming) {
			streaming = 1;
			hx_need();
		}
		reply_ok_value("START", rate_hz);
		send_lever(lever_state, millis()); /* the host learns the lever state at once */
		break;
	case C_STOP:
		streaming = 0;
		hx_need();
		reply_ok("STOP");
		break;
	case C_TARE:
		start_job(JOB_TARE, 0);
		break;
	case C_RATE:
		/* The HX711 converts at 10 or 80 per second and nothing between: any other
		 * rate is outside this device's allowed values (a faster baud rate would not
		 * help, so never BUDGET). Both fit 115200 baud. */
		if ((arg != 10 && arg != 80) || (arg == 80 && rate_pin_low)) {
			refuse("RATE", "RANGE");
			break;
		}
		if (arg != rate_hz) {
			rate_hz = arg;
			hx711_set_rate(rate_hz == 80);
			last_conv_ms = 0;
			slow_runs = 0;
		}
		reply_ok_value("RATE", rate_hz);
		break;
	case C_CAL:
		if (arg < 100 || arg > 200000L) {
			refuse("CAL", "RANGE");
			break;
		}
		start_job(JOB_CAL, arg);
		break;
	case C_BAUD:
		/* 16 MHz cannot make 230400 and faster within the UART's tolerance (3.5 % and
		 * 8.5 % off); 115200 carries both HX711 rates, so it is the only one offered. */
		if (arg == (int32_t)BAUD_RATE)
			reply_ok_value("BAUD", BAUD_RATE);
		else
			refuse("BAUD", "RANGE");
		break;
	}
}

/* Assemble received bytes into lines; the part of an over-long line past 64 bytes is
 * thrown away and the line refused when its newline comes. */
static char cmd[LINE_MAX];
static uint8_t cmd_len;
static uint8_t cmd_over;

static void poll_uart(void)
{
	int16_t b;
	while ((b = uart_read()) >= 0) {
		if (b == UART_OVERRUN) {
			cmd_over = 1;
			continue;
		}
		if (b == '\n') {
			command(cmd, cmd_len, cmd_over);
			cmd_len = 0;
			cmd_over = 0;
		} else if (cmd_len < LINE_MAX) {
			cmd[cmd_len++] = (char)b;
		} else {
			cmd_over = 1;
		}
	}
}

/* -- main ------------------------------------------------------------------------------- */

int main(void)
{
	DDRB |= _BV(LED_BIT);
	PORTD |= _BV(LEVER_BIT); /* pull-up: the switch pulls the pin to ground */
	config_load(&cfg);
	clock_init();
	uart_init(BAUD_RATE);
	hx711_init(rate_hz == 80);
	hx711_power_down();
	set_sleep_mode(SLEEP_MODE_IDLE);
	wdt_enable(WDTO_1S);
	sei();

	for (;;) {
		wdt_reset();
		poll_uart();
		if (hx711_ready()) {
			uint32_t ms = millis();
			on_conversion(hx711_read(), ms);
		}
		if (lever_changed) {
			cli();
			uint8_t state = lever_state;
			uint32_t at = lever_at;
			lever_changed = 0;
			sei();
			if (state)
				PORTB |= _BV(LED_BIT);
			else
				PORTB &= ~_BV(LED_BIT);
			if (state != lever_sent)
				send_lever(state, at);
		}
		if (streaming && millis() - lever_sent_ms >= HEARTBEAT_MS)
			send_lever(lever_state, millis());
		/* Sleep until the next interrupt (at most 1 ms: the clock tick). */
		cli();
		if (!uart_readable()) {
			sleep_enable();
			sei();
			sleep_cpu();
			sleep_disable();
		}
		sei();
	}
}
