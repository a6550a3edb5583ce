/*
 * modbus_server.c — a real Modbus TCP server for test_agent_modbus.c, on
 * libmodbus: `ph_modbus_server PORT` listens on 127.0.0.1:PORT and answers
 * reads of 32 holding and 32 input registers with fixed values (below),
 * one client at a time, until killed. Addresses past 31 get the
 * ILLEGAL DATA ADDRESS exception.
 *
 *   holding 0     0xFF85            int16 -123
 *   holding 1     5000              uint16
 *   holding 2..3  0x0001 0x86A0     int32 100000, big word order
 *   holding 4..5  0x420D 0x0000     float32 35.25, big word order
 *   holding 6..7  0x0000 0x4148     float32 12.5, little word order
 *   holding 10    12500             uint16
 *   input 0       1350              uint16
 */
#include <errno.h>
#include <modbus.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: ph_modbus_server PORT\n");
		return 2;
	}
	modbus_t *ctx = modbus_new_tcp("127.0.0.1", atoi(argv[1]));
	modbus_mapping_t *map = modbus_mapping_new(0, 0, 32, 32);
	if (!ctx || !map)
		return 1;
	uint16_t *h = map->tab_registers;
	h[0] = 0xFF85;
	h[1] = 5000;
	h[2] = 0x0001;
	h[3] = 0x86A0;
	h[4] = 0x420D;
	h[5] = 0x0000;
	h[6] = 0x0000;
	h[7] = 0x4148;
	h[10] = 12500;
	map->tab_input_registers[0] = 1350;
	int s = modbus_tcp_listen(ctx, 1);
	if (s < 0) {
		fprintf(stderr, "ph_modbus_server: listen: %s\n", modbus_strerror(errno));
		return 1;
	}
	for (;;) {
		if (modbus_tcp_accept(ctx, &s) < 0)
			continue;
		uint8_t q[MODBUS_TCP_MAX_ADU_LENGTH];
		for (;;) {
			int n = modbus_receive(ctx, q);
			if (n < 0)
				break;
			if (n > 0)
				modbus_reply(ctx, q, n, map);
		}
		close(modbus_get_socket(ctx));
	}
}
