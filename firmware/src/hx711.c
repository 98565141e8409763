/* The HX711 says a conversion is ready by pulling DOUT low; 24 clock pulses shift it out
 * MSB first, and a 25th selects channel A at gain 128 for the next one. PD_SCK held high
 * for more than 60 us powers the chip down; taking it low powers it up again, and the
 * first conversion comes after the settling time (400 ms at 10 SPS, 50 ms at 80 SPS). */
#include "hx711.h"

#include <avr/interrupt.h>
#include <avr/io.h>
#include <util/delay.h>

#define SCK PD2
#define DOUT PD3
#define RATE PD5

static uint8_t powered;
static int32_t last;

void hx711_init(uint8_t fast)
{
	DDRD |= _BV(SCK) | _BV(RATE);
	DDRD &= ~_BV(DOUT);
	PORTD &= ~(_BV(SCK) | _BV(DOUT));
	hx711_set_rate(fast);
	powered = 1;
}

void hx711_set_rate(uint8_t fast)
{
	if (fast)
		PORTD |= _BV(RATE);
	else
		PORTD &= ~_BV(RATE);
}

void hx711_power_down(void)
{
	PORTD |= _BV(SCK);
	powered = 0;
}

void hx711_power_up(void)
{
	if (!powered) {
		PORTD &= ~_BV(SCK);
		powered = 1;
	}
}

uint8_t hx711_powered(void)
{
	return powered;
}

uint8_t hx711_ready(void)
{
	return powered && !(PIND & _BV(DOUT));
}

static uint8_t pulse(void)
{
	/* Interrupts off only while the clock is high, so no ISR can stretch a pulse to
	 * the 60 us that would power the chip down. */
	cli();
	PORTD |= _BV(SCK);
	_delay_us(1);
	uint8_t bit = (PIND & _BV(DOUT)) ? 1 : 0;
	PORTD &= ~_BV(SCK);
	sei();
	_delay_us(1);
	return bit;
}

int32_t hx711_read(void)
{
	uint32_t v = 0;
	for (uint8_t i = 0; i < 24; i++)
		v = (v << 1) | pulse();
	pulse(); /* 25th: channel A, gain 128 */
	if (v & 0x800000UL)
		v |= 0xFF000000UL; /* sign-extend the 24-bit two's complement */
	last = (int32_t)v;
	return last;
}

int32_t hx711_last_raw(void)
{
	return last;
}
