/*
 * acker.c — bench/agent's stand-in for the hub (run.sh builds it with cc
 * against the build's libparkcommon.a).
 *
 * Subscribes (QoS 1) to parkhub/v1/+/+/+/ev/#, decodes every batch with the
 * common library (ph_batch_decode: the hub's own validation), counts the
 * records of each new (agent, epoch, seq), and acks cumulatively like the
 * hub: {"epoch":E,"upto":N} on …/{agent}/ack, N = highest seq with every
 * seq of the epoch up to it received (seqs below a batch's `oldest` count
 * as received: the agent declared them gone). One ack per (agent, epoch)
 * per round of ACK_EVERY_MS when N moved, never one per batch
 * (DESIGN.md: acks cost ~130 µs of CPU each inside Paho).
 *
 * Threads: Paho's receive thread decodes and counts (on_message); the main
 * thread sends acks and watches the clock. State is under `mu`.
 *
 * Usage: acker --uri URI --expect RECORDS --out FILE [--timeout S]
 *               [--park P --online]
 * Exits 0 once RECORDS records arrived (after a last ack), 1 on timeout or
 * error. FILE gets key=value lines: records, batches, dups, bad, acks,
 * first_ms, last_ms (wall clock ms of the first and last new record).
 */
#include <MQTTAsync.h>
#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "parkhub/batch.h"
#include "parkhub/catalog.h"
#include "parkhub/topic.h"

#define ACK_EVERY_MS 20
#define MAX_TRACKERS 64

struct tracker {
	char park[PH_ID_MAX + 1], ent[PH_ID_MAX + 1], agent[PH_ID_MAX + 1];
	int64_t epoch, upto, acked;
	uint8_t *seen;
	size_t cap;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct tracker tr[MAX_TRACKERS];
static int ntr;
static uint64_t records, batches, dups, bad, acks;
static int64_t first_ms, last_ms;
static volatile int connected, lost;
static struct ph_catalog *cat;
static struct ph_batch scratch; /* Paho's receive thread only */
static struct ph_batch_scratch tokens; /* the same */

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct tracker *tracker(const struct ph_topic *t, int64_t epoch)
{
	for (int i = 0; i < ntr; i++)
		if (tr[i].epoch == epoch && strcmp(tr[i].agent, t->agent) == 0 && strcmp(tr[i].ent, t->ent) == 0)
			return &tr[i];
	if (ntr == MAX_TRACKERS)
		return NULL;
	struct tracker *x = &tr[ntr++];
	memset(x, 0, sizeof *x);
	snprintf(x->park, sizeof x->park, "%s", t->park);
	snprintf(x->ent, sizeof x->ent, "%s", t->ent);
	snprintf(x->agent, sizeof x->agent, "%s", t->agent);
	x->epoch = epoch;
	return x;
}

static bool has(const struct tracker *x, int64_t seq) { return seq >= 0 && (size_t)seq < x->cap && x->seen[seq]; }

static int on_message(void *ctx, char *topic, int tlen, MQTTAsync_message *m)
{
	(void)ctx;
	struct ph_topic t;
	struct ph_err err = {0};
	size_t n = tlen ? (size_t)tlen : strlen(topic);

	if (ph_topic_parse(topic, n, &t, &err) == 0 && t.type == PH_TOPIC_EVENT) {
		struct ph_decode_opts o = {.cat = cat, .kind = t.kind, .scratch = &tokens};
		ph_batch_reset(&scratch, t.kind);
		int rc = ph_batch_decode(m->payload, (size_t)m->payloadlen, &o, &scratch, &err);
		pthread_mutex_lock(&mu);
		struct tracker *x = rc ? NULL : tracker(&t, scratch.epoch);
		if (!x || scratch.seq < 1) {
			bad++;
		} else {
			batches++;
			if ((size_t)scratch.seq >= x->cap) {
				size_t nc = x->cap ? x->cap : 4096;
				while (nc <= (size_t)scratch.seq)
					nc *= 2;
				uint8_t *s = realloc(x->seen, nc);
				if (s) {
					memset(s + x->cap, 0, nc - x->cap);
					x->seen = s;
					x->cap = nc;
				}
			}
			if ((size_t)scratch.seq >= x->cap) {
				bad++;
			} else if (x->seen[scratch.seq]) {
				dups++;
			} else {
				x->seen[scratch.seq] = 1;
				records += scratch.nrecords;
				int64_t now = wall_ms();
				if (!first_ms)
					first_ms = now;
				last_ms = now;
			}
			if (scratch.oldest - 1 > x->upto)
				x->upto = scratch.oldest - 1;
			while (has(x, x->upto + 1))
				x->upto++;
		}
		pthread_mutex_unlock(&mu);
	} else {
		pthread_mutex_lock(&mu);
		bad++;
		pthread_mutex_unlock(&mu);
	}
	MQTTAsync_freeMessage(&m);
	MQTTAsync_free(topic);
	return 1;
}

static void on_lost(void *ctx, char *cause)
{
	(void)ctx;
	(void)cause;
	connected = 0;
	lost = 1;
}

static void on_connect(void *ctx, MQTTAsync_successData *d)
{
	(void)ctx;
	(void)d;
	connected = 1;
}

static void on_connect_fail(void *ctx, MQTTAsync_failureData *d)
{
	(void)ctx;
	(void)d;
	lost = 1;
}

static volatile int subscribed;
static void on_sub(void *ctx, MQTTAsync_successData *d)
{
	(void)ctx;
	(void)d;
	subscribed = 1;
}

/* Acks every tracker whose upto moved; returns how many were sent. */
static int send_acks(MQTTAsync c)
{
	struct {
		char topic[PH_TOPIC_MAX];
		char body[96];
		struct tracker *x;
		int64_t upto;
	} out[MAX_TRACKERS];
	int n = 0, sent = 0;

	pthread_mutex_lock(&mu);
	for (int i = 0; i < ntr; i++) {
		struct tracker *x = &tr[i];
		if (x->upto <= x->acked)
			continue;
		if (ph_topic_agent(out[n].topic, sizeof out[n].topic, PH_TOPIC_ACK, x->park, x->ent, x->agent, 0))
			continue;
		snprintf(out[n].body, sizeof out[n].body, "{\"epoch\":%lld,\"upto\":%lld}", (long long)x->epoch,
			 (long long)x->upto);
		out[n].x = x;
		out[n].upto = x->upto;
		n++;
	}
	pthread_mutex_unlock(&mu);
	for (int i = 0; i < n; i++) {
		MQTTAsync_message m = MQTTAsync_message_initializer;
		MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
		m.payload = out[i].body;
		m.payloadlen = (int)strlen(out[i].body);
		m.qos = 1;
		if (MQTTAsync_sendMessage(c, out[i].topic, &m, &ro) == MQTTASYNC_SUCCESS) {
			pthread_mutex_lock(&mu);
			out[i].x->acked = out[i].upto;
			acks++;
			pthread_mutex_unlock(&mu);
			sent++;
		}
	}
	return sent;
}

static void usage(void)
{
	fputs("usage: acker --uri URI --expect RECORDS --out FILE [--timeout S] [--park P --online]\n", stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"uri", required_argument, NULL, 'u'},    {"expect", required_argument, NULL, 'e'},
		{"out", required_argument, NULL, 'o'},    {"timeout", required_argument, NULL, 't'},
		{"park", required_argument, NULL, 'p'},   {"online", no_argument, NULL, 'O'},
		{NULL, 0, NULL, 0},
	};
	const char *uri = NULL, *outp = NULL, *park = "p1";
	uint64_t expect = 0;
	int timeout_s = 300, online = 0, c;
	struct ph_err err = {0};

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'u': uri = optarg; break;
		case 'e': expect = strtoull(optarg, NULL, 10); break;
		case 'o': outp = optarg; break;
		case 't': timeout_s = atoi(optarg); break;
		case 'p': park = optarg; break;
		case 'O': online = 1; break;
		default: usage();
		}
	}
	if (!uri || !outp || !expect)
		usage();
	if (ph_catalog_load_builtin(&cat, &err)) {
		fprintf(stderr, "acker: %s\n", err.msg);
		return 1;
	}
	ph_batch_init(&scratch, PH_KIND_EMISSION);
	ph_batch_scratch_init(&tokens);

	MQTTAsync client;
	char id[64];
	snprintf(id, sizeof id, "bench-acker-%d", (int)getpid());
	MQTTAsync_createOptions cro = MQTTAsync_createOptions_initializer;
	cro.maxBufferedMessages = 1000;
	if (MQTTAsync_createWithOptions(&client, uri, id, MQTTCLIENT_PERSISTENCE_NONE, NULL, &cro) !=
	    MQTTASYNC_SUCCESS)
		return 1;
	MQTTAsync_setCallbacks(client, NULL, on_lost, on_message, NULL);
	MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
	co.keepAliveInterval = 30;
	co.cleansession = 1;
	co.maxInflight = 1000;
	co.onSuccess = on_connect;
	co.onFailure = on_connect_fail;
	if (MQTTAsync_connect(client, &co) != MQTTASYNC_SUCCESS)
		return 1;
	int64_t t0 = mono_ms();
	while (!connected && !lost && mono_ms() - t0 < 10000)
		usleep(5000);
	if (!connected) {
		fprintf(stderr, "acker: cannot connect to %s\n", uri);
		return 1;
	}
	MQTTAsync_responseOptions so = MQTTAsync_responseOptions_initializer;
	so.onSuccess = on_sub;
	MQTTAsync_subscribe(client, "parkhub/v1/+/+/+/ev/#", 1, &so);
	while (!subscribed && !lost && mono_ms() - t0 < 10000)
		usleep(5000);
	if (!subscribed) {
		fprintf(stderr, "acker: subscription not confirmed\n");
		return 1;
	}
	if (online) {
		char topic[PH_TOPIC_MAX], body[] = "{\"v\":1,\"hub\":\"bench\",\"state\":\"online\"}";
		snprintf(topic, sizeof topic, "parkhub/v1/%s/hub", park);
		MQTTAsync_message m = MQTTAsync_message_initializer;
		MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
		m.payload = body;
		m.payloadlen = (int)strlen(body);
		m.qos = 1;
		m.retained = 1;
		MQTTAsync_sendMessage(client, topic, &m, &ro);
	}
	/* Ready: run.sh waits for this line before starting the agent. */
	printf("ready\n");
	fflush(stdout);

	int rc = 1;
	int64_t deadline = mono_ms() + (int64_t)timeout_s * 1000;
	while (mono_ms() < deadline && !lost) {
		usleep(ACK_EVERY_MS * 1000);
		send_acks(client);
		pthread_mutex_lock(&mu);
		bool done = records >= expect;
		pthread_mutex_unlock(&mu);
		if (done) {
			usleep(ACK_EVERY_MS * 1000);
			send_acks(client);
			rc = 0;
			break;
		}
	}
	usleep(200000); /* let the last acks go out */
	FILE *f = fopen(outp, "w");
	if (f) {
		pthread_mutex_lock(&mu);
		fprintf(f, "records=%llu\nbatches=%llu\ndups=%llu\nbad=%llu\nacks=%llu\nfirst_ms=%lld\nlast_ms=%lld\n",
			(unsigned long long)records, (unsigned long long)batches, (unsigned long long)dups,
			(unsigned long long)bad, (unsigned long long)acks, (long long)first_ms, (long long)last_ms);
		pthread_mutex_unlock(&mu);
		fclose(f);
	}
	if (rc)
		fprintf(stderr, "acker: %s after %llu of %llu records\n", lost ? "connection lost" : "timeout",
			(unsigned long long)records, (unsigned long long)expect);
	MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
	d.timeout = 1000;
	MQTTAsync_disconnect(client, &d);
	usleep(100000);
	MQTTAsync_destroy(&client);
	return rc;
}
