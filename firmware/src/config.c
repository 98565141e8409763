/* EEPROM settings: a magic number and a CRC, so a blank or damaged EEPROM gives the
 * defaults rather than garbage scaling. */
#include "config.h"

#include <avr/eeprom.h>
#include <stddef.h>
#include <string.h>
#include <util/crc16.h>

#define MAGIC 0x4848 /* "HH" */

static struct config EEMEM stored;

uint16_t crc16(const char *data, uint8_t len)
{
	uint16_t crc = 0;
	while (len--)
		crc = _crc_xmodem_update(crc, (uint8_t)*data++);
	return crc;
}

static uint16_t config_crc(const struct config *c)
{
	return crc16((const char *)c, (uint8_t)offsetof(struct config, crc));
}

void config_load(struct config *c)
{
	eeprom_read_block(c, &stored, sizeof *c);
	if (c->magic == MAGIC && c->crc == config_crc(c) && c->serial[12] == 0 &&
	    c->scale == c->scale /* not NaN */)
		return;
	memset(c, 0, sizeof *c);
	c->magic = MAGIC;
	c->scale = DEFAULT_SCALE;
}

void config_save(struct config *c)
{
	c->magic = MAGIC;
	c->crc = config_crc(c);
	eeprom_update_block(c, &stored, sizeof *c); /* writes only the bytes that changed */
}
