/* Interrupt-driven USART0 with ring buffers, so the main loop never waits on the wire. */
#ifndef UART_H
#define UART_H
#include <stdint.h>

#define UART_OVERRUN 0x100 /* uart_read(): bytes were lost before this point */

void uart_init(uint32_t baud);
int16_t uart_read(void); /* a byte, UART_OVERRUN, or -1 when nothing is waiting */
uint8_t uart_readable(void);
uint8_t uart_try_write(const char *data, uint8_t len); /* all or nothing */
void uart_write(const char *data, uint8_t len);        /* waits for room */

#endif
