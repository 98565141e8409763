/* Settings that survive a reset (EEPROM), and the checksum shared with the wire. */
#ifndef CONFIG_H
#define CONFIG_H
#include <stdint.h>

/* Centinewtons per HX711 count before calibration: a nominal 2000 counts per newton
 * (a 200 kg, 2 mV/V cell at gain 128 gives about that). CAL replaces it. */
#define DEFAULT_SCALE 0.05f

struct config {
	uint16_t magic;
	int32_t tare;   /* raw HX711 reading taken as zero */
	float scale;    /* centinewtons per count */
	char serial[13];
	uint16_t crc;   /* CRC-16/XMODEM of everything above */
};

uint16_t crc16(const char *data, uint8_t len);
void config_load(struct config *c);
void config_save(struct config *c);

#endif
