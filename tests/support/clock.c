/*
 * clock.c — monotonic milliseconds and a sleep for the test helpers.
 *
 * Callers: every bounded wait in phtest (proc.c, broker.c, mqttc.c) and the
 * tests themselves. No state, any thread.
 */
#include "phtest.h"

#include <errno.h>
#include <time.h>

long long pht_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void pht_sleep_ms(int ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}
