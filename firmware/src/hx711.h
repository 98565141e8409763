/* HX711 load-cell ADC, bit-banged: PD_SCK on PD2, DOUT on PD3, RATE on PD5. */
#ifndef HX711_H
#define HX711_H
#include <stdint.h>

void hx711_init(uint8_t fast);
void hx711_set_rate(uint8_t fast); /* RATE pin: 0 = 10 SPS, 1 = 80 SPS */
void hx711_power_down(void);
void hx711_power_up(void);
uint8_t hx711_ready(void);
uint8_t hx711_powered(void);
int32_t hx711_read(void); /* channel A, gain 128 for the next conversion too */
int32_t hx711_last_raw(void);

#endif
