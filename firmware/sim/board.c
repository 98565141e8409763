/*
 * The Hip Hook reference board, emulated: the real firmware (ELF) on simavr's ATmega328P
 * at 16 MHz, an HX711 model on PD2/PD3/PD5, a bouncing lever switch on PD4, and USART0
 * bridged to a pseudo-terminal that the app opens as it would a USB port.
 *
 *   board [--profile FILE] [--eeprom FILE] [--seed N] [--speed X] [--seconds S]
 *         [--link PATH] [--rate-pin-grounded] firmware.elf
 *
 * The pty's path is printed on stdout on a line of its own. Force and lever come from a
 * firmware_sim profile (seconds,newtons[,lever]) in emulated time, or from a built-in
 * routine cycle; lines on stdin steer the world while it runs:
 *   force N | weight GRAMS | lever 0|1 | speed X | auto | reset | quit
 * SIGUSR1 presses the reset button; SIGINT/SIGTERM stop (saving --eeprom first).
 * --speed 1 (the default) keeps emulated time in step with the wall clock; 0 runs as
 * fast as the host allows (for measurements). The firmware sleeps between interrupts
 * and the emulator sleeps with it, so a real-time board costs little CPU.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <avr_eeprom.h>
#include <avr_extint.h>
#include <avr_ioport.h>
#include <avr_uart.h>
#include <sim_avr.h>
#include <sim_elf.h>
#include <sim_irq.h>
#include <sim_time.h>

#define F_CPU 16000000UL
#define G 9.80665

/* The HX711 behind a load cell: counts per newton at gain 128 (a 200 kg, 2 mV/V cell on
 * a 4.3 V board: about 10 % more than the firmware's uncalibrated guess), the reading
 * with nothing on the tool, and the noise. */
#define COUNTS_PER_N 2193.0
#define ZERO_COUNTS 23000.0
#define NOISE_COUNTS 120.0
#define POWER_DOWN_US 60

static avr_t *avr;
static volatile sig_atomic_t running = 1, reset_asked;

/* -- world: force and lever over emulated time ----------------------------------------- */

static double *prof_t, *prof_f;
static int *prof_l;
static int prof_n;
static double force_override = NAN, weight_n;
static void set_speed(double x);
static int lever_override = -1;

static double now_s(void) { return (double)avr->cycle / F_CPU; }

static void world_builtin(double t, double *force, int *lever)
{
	/* firmware_sim's automatic cycle: position 8 s, press 40 s, lever 10 s. */
	double into = fmod(t, 58.0);
	*lever = 0;
	if (into < 8.0) {
		double f = 6.0 * sin(t * 0.9) * sin(t * 0.23);
		*force = f > 0 ? f : 0;
	} else if (into < 48.0) {
		*force = 150.0 * fmin(1.0, (into - 8.0) / 1.5);
	} else {
		*force = 130.0 * fmin(1.0, (into - 48.0) / 1.5);
		*lever = 1;
	}
}

static void world_at(double t, double *force, int *lever)
{
	if (prof_n == 0) {
		world_builtin(t, force, lever);
	} else {
		int i = 0;
		while (i < prof_n && prof_t[i] <= t)
			i++;
		if (i == 0) {
			*force = prof_f[0];
			*lever = prof_l[0];
		} else if (i >= prof_n) {
			*force = prof_f[prof_n - 1];
			*lever = prof_l[prof_n - 1];
		} else {
			double t0 = prof_t[i - 1], t1 = prof_t[i];
			double frac = t1 == t0 ? 0.0 : (t - t0) / (t1 - t0);
			*force = prof_f[i - 1] + (prof_f[i] - prof_f[i - 1]) * frac;
			*lever = prof_l[i - 1];
		}
	}
	if (!isnan(force_override))
		*force = force_override;
	if (lever_override >= 0)
		*lever = lever_override;
	*force += weight_n;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\r')
		s++;
	char *e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = 0;
	return s;
}

static int parse_number(char *s, double *out)
{
	char *end;
	s = trim(s);
	errno = 0;
	*out = strtod(s, &end);
	return *s && !*end && errno == 0 && isfinite(*out);
}

/* The format firmware_sim's Profile reads: `seconds,newtons[,lever]`, # comments. */
static void load_profile(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "board: cannot read profile %s: %s\n", path, strerror(errno));
		exit(2);
	}
	char line[512];
	int number = 0, cap = 0;
	while (fgets(line, sizeof line, f)) {
		number++;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = 0;
		char *s = trim(line);
		if (!*s)
			continue;
		char *parts[4];
		int n = 0;
		for (char *p = s; n < 4; n++) {
			parts[n] = p;
			char *comma = strchr(p, ',');
			if (!comma) {
				n++;
				break;
			}
			*comma = 0;
			p = comma + 1;
		}
		double t, force;
		const char *why = NULL;
		if (n != 2 && n != 3)
			why = "expected seconds,newtons[,lever]";
		else if (!parse_number(parts[0], &t) || !parse_number(parts[1], &force))
			why = "numbers must be finite, time not negative";
		else if (t < 0)
			why = "numbers must be finite, time not negative";
		else if (prof_n && t < prof_t[prof_n - 1])
			why = "times must not go backwards";
		if (why) {
			fprintf(stderr, "board: %s:%d: %s\n", path, number, why);
			exit(2);
		}
		if (prof_n == cap) {
			cap = cap ? cap * 2 : 64;
			prof_t = realloc(prof_t, cap * sizeof *prof_t);
			prof_f = realloc(prof_f, cap * sizeof *prof_f);
			prof_l = realloc(prof_l, cap * sizeof *prof_l);
		}
		char *lv = n == 3 ? trim(parts[2]) : "";
		prof_t[prof_n] = t;
		prof_f[prof_n] = force;
		prof_l[prof_n] = n == 3 && *lv && strcmp(lv, "0") != 0;
		prof_n++;
	}
	fclose(f);
	if (!prof_n) {
		fprintf(stderr, "board: %s: no points\n", path);
		exit(2);
	}
}

/* -- noise ------------------------------------------------------------------------------ */

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static double uniform(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return ((rng >> 11) + 0.5) / 9007199254740992.0;
}

static double gauss(void)
{
	return sqrt(-2.0 * log(uniform())) * cos(2 * M_PI * uniform());
}

/* -- HX711 ------------------------------------------------------------------------------ */

static avr_irq_t *pin_sck, *pin_dout, *pin_rate, *pin_lever;

static struct {
	int powered, sck, fast;
	int ready;       /* a conversion is waiting (DOUT low) */
	int pulses;      /* clock pulses since the conversion was ready */
	int gain_pulses; /* 25: A/128, 26: B/32, 27: A/64 */
	uint32_t data;
	unsigned long conversions, pulses_total;
} hx = {.powered = 1, .gain_pulses = 25};

static int dout_level = 1;

static void dout(int level)
{
	dout_level = level;
	avr_raise_irq(pin_dout, level);
}

static uint32_t hx_sample(void)
{
	double force;
	int lever;
	world_at(now_s(), &force, &lever);
	double v;
	if (hx.gain_pulses == 26) /* channel B: nothing connected */
		v = NOISE_COUNTS * gauss();
	else
		v = (ZERO_COUNTS + force * COUNTS_PER_N) * (hx.gain_pulses == 27 ? 0.5 : 1.0) +
		    NOISE_COUNTS * gauss();
	if (v > 8388607.0)
		v = 8388607.0;
	if (v < -8388608.0)
		v = -8388608.0;
	return (uint32_t)(int32_t)lrint(v) & 0xFFFFFF;
}

static avr_cycle_count_t hx_period(void)
{
	return F_CPU / (hx.fast ? 80 : 10);
}

static avr_cycle_count_t hx_convert(avr_t *a, avr_cycle_count_t when, void *param)
{
	(void)a;
	(void)param;
	if (!hx.powered)
		return 0;
	if (hx.pulses == 0 || hx.pulses >= 24) {
		/* a read in progress keeps its word; otherwise the new one replaces it */
		if (hx.pulses >= 25 && hx.pulses <= 27)
			hx.gain_pulses = hx.pulses;
		hx.data = hx_sample();
		hx.pulses = 0;
		hx.ready = 1;
		hx.conversions++;
		dout(0);
	}
	return when + hx_period();
}

static avr_cycle_count_t hx_power_down(avr_t *a, avr_cycle_count_t when, void *param)
{
	(void)when;
	(void)param;
	if (hx.sck && hx.powered) {
		hx.powered = 0;
		hx.ready = 0;
		avr_cycle_timer_cancel(a, hx_convert, NULL);
		dout(1);
	}
	return 0;
}

static void hx_start(avr_cycle_count_t first)
{
	avr_cycle_timer_cancel(avr, hx_convert, NULL);
	avr_cycle_timer_register(avr, first, hx_convert, NULL);
}

static void on_sck(avr_irq_t *irq, uint32_t value, void *param)
{
	(void)irq;
	(void)param;
	value = value & 1;
	if (value == (uint32_t)hx.sck)
		return;
	hx.sck = value;
	if (value) {
		hx.pulses_total++;
		avr_cycle_timer_register_usec(avr, POWER_DOWN_US, hx_power_down, NULL);
		if (!hx.powered || (!hx.ready && hx.pulses == 0))
			return;
		hx.ready = 0;
		hx.pulses++;
		if (hx.pulses <= 24)
			dout((hx.data >> (24 - hx.pulses)) & 1);
		else
			dout(1);
	} else {
		avr_cycle_timer_cancel(avr, hx_power_down, NULL);
		if (!hx.powered) {
			/* power-up resets the chip: gain 128, data after the settling time */
			hx.powered = 1;
			hx.ready = 0;
			hx.pulses = 0;
			hx.gain_pulses = 25;
			dout(1);
			hx_start(hx.fast ? F_CPU / 20 : F_CPU * 2 / 5); /* 50 or 400 ms */
		}
	}
}

static int rate_pin_grounded; /* --rate-pin-grounded: the board ties RATE low (10 SPS) */

static void on_rate(avr_irq_t *irq, uint32_t value, void *param)
{
	(void)irq;
	(void)param;
	if (rate_pin_grounded)
		value = 0;
	if ((int)(value & 1) == hx.fast)
		return;
	hx.fast = value & 1;
	if (hx.powered)
		hx_start(hx_period()); /* the next word comes at the new rate */
}

/* -- lever: a microswitch to ground, against the pin's pull-up, bouncing -------------- */

static int lever_level = 1; /* pin level: 0 when the switch is closed */
static int lever_target = 0;
static int bounces_left;

static void lever_drive(int level)
{
	lever_level = level;
	/* Tell the port that the outside world holds this pin, so writes to PORTD (the
	 * pull-up bit) do not overwrite what the switch does. */
	avr_ioport_external_t ext = {.name = 'D', .mask = 1 << 4, .value = (uint8_t)(level << 4)};
	avr_ioctl(avr, AVR_IOCTL_IOPORT_SET_EXTERNAL('D'), &ext);
	avr_raise_irq(pin_lever, level);
}

static avr_cycle_count_t lever_bounce(avr_t *a, avr_cycle_count_t when, void *param)
{
	(void)a;
	(void)param;
	if (bounces_left-- > 0) {
		lever_drive(!lever_level);
		return when + avr_usec_to_cycles(avr, 150 + (uint32_t)(uniform() * 700));
	}
	lever_drive(!lever_target);
	return 0;
}

static void lever_update(int engaged)
{
	if (engaged == lever_target)
		return;
	lever_target = engaged;
	fprintf(stderr, "# %.3f s lever %d\n", now_s(), engaged);
	/* contact chatter: a few flips over about 3 ms before it settles */
	bounces_left = 2 * (1 + (int)(uniform() * 3));
	avr_cycle_timer_cancel(avr, lever_bounce, NULL);
	avr_cycle_timer_register(avr, 1, lever_bounce, NULL);
}

/* -- UART <-> pseudo-terminal ---------------------------------------------------------- */

static int pty_master = -1, pty_slave = -1;
static char pty_name[128];
static avr_irq_t *uart_in;
static uint8_t tx_buf[8192];
static size_t tx_len;
static int uart_xon = 1;
static unsigned long xoffs;
static unsigned long bytes_out, bytes_lost;

static void on_uart_out(avr_irq_t *irq, uint32_t value, void *param)
{
	(void)irq;
	(void)param;
	if (tx_len < sizeof tx_buf)
		tx_buf[tx_len++] = (uint8_t)value;
	else
		bytes_lost++;
	bytes_out++;
}

static void on_xon(avr_irq_t *irq, uint32_t value, void *param)
{
	(void)irq;
	(void)value;
	(void)param;
	uart_xon = 1;
}

static void on_xoff(avr_irq_t *irq, uint32_t value, void *param)
{
	(void)irq;
	(void)value;
	(void)param;
	uart_xon = 0;
	xoffs++;
}

static void pty_open(void)
{
	struct termios raw;
	if (openpty(&pty_master, &pty_slave, pty_name, NULL, NULL) < 0) {
		fprintf(stderr, "board: cannot open a pseudo-terminal: %s\n", strerror(errno));
		exit(2);
	}
	/* raw: no echo, no line editing, before the host opens it and sets its own */
	tcgetattr(pty_slave, &raw);
	cfmakeraw(&raw);
	cfsetspeed(&raw, B115200);
	tcsetattr(pty_slave, TCSANOW, &raw);
	fcntl(pty_master, F_SETFL, fcntl(pty_master, F_GETFL) | O_NONBLOCK);
}

static void pty_flush(void)
{
	if (!tx_len)
		return;
	ssize_t n = write(pty_master, tx_buf, tx_len);
	if (n < 0)
		n = 0; /* nobody reading and the pty full: a USB bridge drops them too */
	bytes_lost += tx_len - (size_t)n;
	tx_len = 0;
}

static void pty_poll_input(void)
{
	/* A few bytes per poll (no more than 115200 baud carries), and each one only while
	 * the UART's receive FIFO has room (XON): what it cannot take yet waits here. */
	static uint8_t buf[8];
	static ssize_t have, next;
	if (next == have) {
		have = read(pty_master, buf, sizeof buf);
		next = 0;
		if (have < 0)
			have = 0;
	}
	while (next < have && uart_xon)
		avr_raise_irq(uart_in, buf[next++]);
}

static avr_cycle_count_t pty_rx_tick(avr_t *a, avr_cycle_count_t when, void *param)
{
	(void)a;
	(void)param;
	pty_poll_input();
	/* Host bytes land at odd moments, as USB frames do, not on the firmware's tick. */
	return when + avr_usec_to_cycles(avr, 500 + (uint32_t)(uniform() * 1000));
}

/* -- control lines on stdin ------------------------------------------------------------ */

static int stdin_open = 1;
static char ctl_buf[256];
static size_t ctl_len;

static void control(char *line)
{
	char *s = trim(line);
	double v;
	if (!*s)
		return;
	if (!strncmp(s, "force ", 6) && parse_number(s + 6, &v)) {
		force_override = v;
	} else if (!strncmp(s, "weight ", 7) && parse_number(s + 7, &v)) {
		weight_n = v * G / 1000.0;
	} else if (!strcmp(s, "lever 1") || !strcmp(s, "lever 0")) {
		lever_override = s[6] - '0';
	} else if (!strcmp(s, "auto")) {
		force_override = NAN;
		lever_override = -1;
		weight_n = 0;
	} else if (!strncmp(s, "speed ", 6) && parse_number(s + 6, &v) && v >= 0) {
		set_speed(v);
	} else if (!strcmp(s, "reset")) {
		reset_asked = 1;
	} else if (!strcmp(s, "quit")) {
		running = 0;
	} else {
		fprintf(stderr, "board: unknown control %s (force N | weight GRAMS | lever 0|1 | "
				"speed X | auto | reset | quit)\n", s);
		return;
	}
	fprintf(stderr, "# %.3f s %s\n", now_s(), s);
}

static void poll_stdin(void)
{
	struct pollfd p = {.fd = 0, .events = POLLIN};
	if (!stdin_open || poll(&p, 1, 0) <= 0)
		return;
	ssize_t n = read(0, ctl_buf + ctl_len, sizeof ctl_buf - 1 - ctl_len);
	if (n <= 0) {
		stdin_open = 0; /* closed or /dev/null: run on without controls */
		return;
	}
	ctl_len += n;
	char *nl;
	while ((nl = memchr(ctl_buf, '\n', ctl_len))) {
		*nl = 0;
		control(ctl_buf);
		size_t used = nl + 1 - ctl_buf;
		memmove(ctl_buf, nl + 1, ctl_len - used);
		ctl_len -= used;
	}
	if (ctl_len == sizeof ctl_buf - 1)
		ctl_len = 0; /* an endless line: forget it */
}

/* -- pacing and the housekeeping tick -------------------------------------------------- */

static double speed = 1.0;
static struct timespec wall0;
static double stop_after = 0;

static double wall_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - wall0.tv_sec) + (t.tv_nsec - wall0.tv_nsec) / 1e9;
}

static double wall_offset; /* wall seconds the emulation fell behind and let go */

static void pace(void)
{
	if (speed <= 0)
		return;
	double due = now_s() / speed + wall_offset;
	double late = wall_s() - due;
	if (late > 0.5) {
		wall_offset += late; /* the host stalled: carry on from here, no burst */
	} else if (late < -0.0005) {
		struct timespec t = wall0;
		double at = due;
		t.tv_sec += (time_t)at;
		t.tv_nsec += (long)((at - (time_t)at) * 1e9);
		if (t.tv_nsec >= 1000000000L) {
			t.tv_sec++;
			t.tv_nsec -= 1000000000L;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL);
	}
}

static void set_speed(double x)
{
	speed = x;
	if (speed > 0)
		wall_offset = wall_s() - now_s() / speed; /* from here on, at the new pace */
}

static avr_cycle_count_t tick(avr_t *a, avr_cycle_count_t when, void *param)
{
	(void)a;
	(void)param;
	double force;
	int lever;
	world_at(now_s(), &force, &lever);
	lever_update(lever);
	pty_flush();
	poll_stdin();
	pace();
	if (stop_after > 0 && now_s() >= stop_after)
		running = 0;
	return when + F_CPU / 1000;
}

static void idle_sleep(avr_t *a, avr_cycle_count_t how_long)
{
	(void)a;
	(void)how_long; /* pacing is done by the tick, against the wall clock */
}

static void after_reset(void)
{
	uint32_t flags = 0;
	avr_ioctl(avr, AVR_IOCTL_UART_SET_FLAGS('0'), &flags); /* no stdio dump, no poll sleep */
	avr->sleep = idle_sleep;
	/* PD2 and PD3 are also INT0/INT1. The firmware never enables them, but simavr polls a
	 * low level pin every few cycles in "strict" mode: with SCK and DOUT busy that costs
	 * a host core. Plain level mode is what the chip does. */
	avr_extint_set_strict_lvl_trig(avr, 0, 0);
	avr_extint_set_strict_lvl_trig(avr, 1, 0);
	avr_cycle_timer_register(avr, F_CPU / 1000, tick, NULL);
	avr_cycle_timer_register(avr, F_CPU / 1000 + 777, pty_rx_tick, NULL);
	if (hx.powered)
		hx_start(hx_period());
	/* A reset clears the PIN registers, but the IRQs remember the last level and only
	 * pass changes on: flip them to put the outside world back on the pins. */
	avr_raise_irq(pin_dout, !dout_level);
	dout(dout_level);
	avr_raise_irq(pin_lever, !lever_level);
	lever_drive(lever_level);
}

/* -- EEPROM file ------------------------------------------------------------------------ */

static const char *eeprom_path;

static void eeprom_load(void)
{
	uint8_t data[1024];
	FILE *f = fopen(eeprom_path, "rb");
	if (!f)
		return; /* a new board */
	size_t n = fread(data, 1, sizeof data, f);
	fclose(f);
	/* simavr answers -2 for a bad request (and -1 when it did it); some versions take at
	 * most size - 1 bytes at once. */
	avr_eeprom_desc_t d = {.ee = data, .offset = 0, .size = (uint32_t)n};
	if (n && avr_ioctl(avr, AVR_IOCTL_EEPROM_SET, &d) == -2) {
		d.size = (uint32_t)n - 1;
		avr_ioctl(avr, AVR_IOCTL_EEPROM_SET, &d);
	}
}

static void eeprom_save(void)
{
	uint8_t data[1024];
	memset(data, 0xff, sizeof data);
	avr_eeprom_desc_t d = {.ee = data, .offset = 0, .size = sizeof data};
	if (avr_ioctl(avr, AVR_IOCTL_EEPROM_GET, &d) == -2) {
		d.size = sizeof data - 1;
		if (avr_ioctl(avr, AVR_IOCTL_EEPROM_GET, &d) == -2) {
			fprintf(stderr, "board: simavr would not hand over the EEPROM\n");
			return;
		}
	}
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.tmp", eeprom_path);
	FILE *f = fopen(tmp, "wb");
	if (!f || fwrite(data, 1, sizeof data, f) != sizeof data || fclose(f) != 0 ||
	    rename(tmp, eeprom_path) != 0)
		fprintf(stderr, "board: cannot save EEPROM to %s: %s\n", eeprom_path, strerror(errno));
}

/* -- main ------------------------------------------------------------------------------- */

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		reset_asked = 1;
	else
		running = 0;
}

static void quiet_logger(avr_t *a, const int level, const char *format, va_list ap)
{
	(void)a;
	if (level <= LOG_ERROR)
		vfprintf(stderr, format, ap);
}

static void usage(void)
{
	fprintf(stderr, "usage: board [--profile FILE] [--eeprom FILE] [--seed N] [--speed X] "
			"[--seconds S] [--link PATH] [--rate-pin-grounded] firmware.elf\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *elf = NULL, *profile = NULL, *link_path = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--profile") && v)
			profile = argv[++i];
		else if (!strcmp(a, "--eeprom") && v)
			eeprom_path = argv[++i];
		else if (!strcmp(a, "--seed") && v)
			rng ^= strtoull(argv[++i], NULL, 10) * 0xBF58476D1CE4E5B9ULL + 1;
		else if (!strcmp(a, "--speed") && v)
			speed = atof(argv[++i]);
		else if (!strcmp(a, "--seconds") && v)
			stop_after = atof(argv[++i]);
		else if (!strcmp(a, "--rate-pin-grounded"))
			rate_pin_grounded = 1;
		else if (!strcmp(a, "--link") && v)
			link_path = argv[++i];
		else if (a[0] == '-' || elf)
			usage();
		else
			elf = a;
	}
	if (!elf)
		usage();
	if (profile)
		load_profile(profile);

	avr_global_logger_set(quiet_logger);
	elf_firmware_t fw;
	memset(&fw, 0, sizeof fw);
	if (elf_read_firmware(elf, &fw) != 0) {
		fprintf(stderr, "board: cannot load firmware %s (build it with make)\n", elf);
		return 2;
	}
	avr = avr_make_mcu_by_name("atmega328p");
	if (!avr) {
		fprintf(stderr, "board: this simavr has no ATmega328P\n");
		return 2;
	}
	avr_init(avr);
	avr->log = LOG_ERROR;
	fw.frequency = F_CPU;
	strcpy(fw.mmcu, "atmega328p");
	avr_load_firmware(avr, &fw);
	avr->frequency = F_CPU;
	if (eeprom_path)
		eeprom_load();

	pin_sck = avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ('D'), 2);
	pin_dout = avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ('D'), 3);
	pin_lever = avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ('D'), 4);
	pin_rate = avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ('D'), 5);
	avr_irq_register_notify(pin_sck, on_sck, NULL);
	avr_irq_register_notify(pin_rate, on_rate, NULL);
	uart_in = avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_INPUT);
	avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUTPUT),
				on_uart_out, NULL);
	avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XON),
				on_xon, NULL);
	avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XOFF),
				on_xoff, NULL);
	dout(1);
	hx_start(F_CPU * 2 / 5); /* power-on settling at 10 SPS */
	after_reset();

	pty_open();
	if (link_path) {
		unlink(link_path);
		if (symlink(pty_name, link_path) != 0) {
			fprintf(stderr, "board: cannot link %s: %s\n", link_path, strerror(errno));
			return 2;
		}
	}
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	printf("%s\n", link_path ? link_path : pty_name);
	fflush(stdout);
	fprintf(stderr, "# emulated ATmega328P at 16 MHz running %s, pty %s\n", elf, pty_name);
	fprintf(stderr, "# stdin: force N | weight GRAMS | lever 0|1 | speed X | auto | reset | quit; "
			"Ctrl-C to stop\n");

	clock_gettime(CLOCK_MONOTONIC, &wall0);
	int state = cpu_Running;
	while (running) {
		if (reset_asked) {
			reset_asked = 0;
			fprintf(stderr, "# %.3f s reset\n", now_s());
			avr_reset(avr);
			after_reset();
		}
		state = avr_run(avr);
		if (state == cpu_Done || state == cpu_Crashed) {
			fprintf(stderr, "board: the firmware stopped (%s) at %.3f s\n",
				state == cpu_Crashed ? "crashed" : "sleeping with interrupts off",
				now_s());
			break;
		}
	}
	pty_flush();
	double wall = wall_s();
	fprintf(stderr, "# emulated %.3f s in %.3f s wall (%.1fx real time); %lu bytes out, "
			"%lu dropped at the pty; %lu HX711 conversions, %lu clock pulses; %lu xoff\n",
		now_s(), wall, wall > 0 ? now_s() / wall : 0.0, bytes_out, bytes_lost, hx.conversions, hx.pulses_total, xoffs);
	if (eeprom_path)
		eeprom_save();
	if (link_path)
		unlink(link_path);
	return state == cpu_Crashed ? 1 : 0;
}
