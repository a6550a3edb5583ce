/*
 * mqttc.c — a small blocking MQTT client for tests, over Paho async
 * (paho-mqtt3as, MQTT 3.1.1, MQTTCLIENT_PERSISTENCE_NONE).
 *
 * Callers: integration tests (subscribe to what the hub/agent publish,
 * publish what they should receive). Two kinds of threads: the test thread
 * calls the pht_mqtt_* functions; Paho's threads run the callbacks below.
 * The struct owns the Paho handle, the received-message queue and the
 * pending operations.
 *
 * inv. 1: callbacks only copy, link, count and signal under m->mu: no
 *         blocking, no Paho calls, no option changes (DESIGN.md's Paho
 *         traps: issue 1341, crashes when options change in connectionLost).
 * inv. 2: the queue holds at most queue_max (PHT_MQTT_QUEUE_MAX) messages;
 *         past that a message is dropped and counted, never silently.
 * inv. 3: an operation's context (struct op) stays on m->ops until its
 *         waiter saw it finish; after pht_mqtt_free it is never freed.
 *         Paho runs a callback with its own lock released, so
 *         MQTTAsync_destroy can return while the callback of a message that
 *         just arrived (say the hub's "offline" as a test stops it) still
 *         runs: pht_mqtt_free therefore marks the client closed and keeps
 *         it, its ops, lock and condition on a list of retired clients (a
 *         test process is short; reachable, so no leak report) instead of
 *         freeing them, and a late callback only finds it closed. A CI
 *         run once aborted with "corrupted double-linked list" in
 *         test_hub_heartbeat's teardown before this.
 * inv. 4: every wait is bounded by the caller's timeout (CLOCK_MONOTONIC).
 * inv. 5: messages on $pht/wake/... are ours (see "waking Paho" below):
 *         never queued, never shown to a test.
 *
 * Waking Paho. Paho async 1.3.12 has one receive thread per process that
 * poll()s the sockets it knew when the poll began, for up to 1 s, with no
 * way to wake it. A client connecting while another client of the process
 * is connected therefore waits two such polls (TCP connect, then CONNACK):
 * 2.1 s per connect, measured. To cut that, every connected pht_mqtt
 * subscribes (QoS 0) to its own $pht/wake/<pid>/<n> topic ("#" does not
 * match $ topics); while a connect is pending we publish a byte there
 * through another connected client every 20 ms; the broker echoes it, the
 * poll returns, and the next poll includes the new socket. Best effort:
 * when the broker refuses the topic (ACLs), connects are just slower.
 */
#include "phtest.h"

#include <MQTTAsync.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum op_kind { OP_CONNECT, OP_SUBSCRIBE, OP_PUBLISH, OP_DISCONNECT };

struct op {
	struct op *next;
	struct pht_mqtt *m;
	enum op_kind kind;
	int done;
	int rc; /* 0 or -errno, set by the callback */
};

struct msg {
	struct msg *next;
	char *payload; /* plen bytes + NUL */
	size_t plen;
	char topic[];
};

struct pht_mqtt {
	MQTTAsync client;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int connected;
	int wake_ok;           /* subscribed to wake_topic on this connection */
	char wake_topic[64];
	struct pht_mqtt *reg_next; /* registry of live clients, under reg_mu */
	struct pht_mqtt *retired_next; /* retired clients (inv. 3), under reg_mu */
	int closed;                /* pht_mqtt_free ran: callbacks drop what comes (inv. 3) */
	struct op *ops;
	struct msg *head, *tail;
	size_t count, dropped, queue_max;
};

#define WAKE_PREFIX "$pht/wake/"
#define WAKE_EVERY_MS 20

/* Live clients, for waking Paho's receive thread. Lock order: reg_mu, then
 * a client's mu. Callbacks never take reg_mu. */
static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static struct pht_mqtt *reg_head;
static struct pht_mqtt *retired_head; /* inv. 3 */
static unsigned long reg_serial;

/* ---- callbacks (Paho's threads; inv. 1) ---------------------------------- */

static void op_finish(struct op *op, int rc)
{
	struct pht_mqtt *m = op->m;

	pthread_mutex_lock(&m->mu);
	op->done = 1;
	op->rc = rc;
	if (op->kind == OP_CONNECT)
		m->connected = rc == 0;
	if (op->kind == OP_DISCONNECT)
		m->connected = 0;
	pthread_cond_broadcast(&m->cv);
	pthread_mutex_unlock(&m->mu);
}

static void on_success(void *ctx, MQTTAsync_successData *resp)
{
	struct op *op = ctx;
	int rc = 0;

	/* MQTT 3.1.1 SUBACK return code 0x80: the broker refused the filter. */
	if (op->kind == OP_SUBSCRIBE && resp && resp->alt.qos == MQTT_BAD_SUBSCRIBE)
		rc = -EACCES;
	op_finish(op, rc);
}

static void on_failure(void *ctx, MQTTAsync_failureData *resp)
{
	struct op *op = ctx;
	int rc = -EIO;

	if (op->kind == OP_CONNECT)
		rc = -ECONNREFUSED;
	else if (op->kind == OP_SUBSCRIBE && resp && resp->code == MQTT_BAD_SUBSCRIBE)
		rc = -EACCES;
	else if (resp && resp->code == MQTTASYNC_DISCONNECTED)
		rc = -ENOTCONN;
	op_finish(op, rc);
}

static void on_lost(void *ctx, char *cause)
{
	struct pht_mqtt *m = ctx;

	(void)cause; /* always NULL in Paho async 1.3 */
	pthread_mutex_lock(&m->mu);
	m->connected = 0;
	m->wake_ok = 0;
	pthread_cond_broadcast(&m->cv);
	pthread_mutex_unlock(&m->mu);
}

static int on_message(void *ctx, char *topic, int tlen, MQTTAsync_message *pm)
{
	struct pht_mqtt *m = ctx;
	size_t tl = tlen > 0 ? (size_t)tlen : strlen(topic);
	size_t pl = pm->payloadlen > 0 ? (size_t)pm->payloadlen : 0;
	struct msg *x;

	if (tl >= sizeof WAKE_PREFIX - 1 && memcmp(topic, WAKE_PREFIX, sizeof WAKE_PREFIX - 1) == 0) {
		MQTTAsync_freeMessage(&pm); /* inv. 5 */
		MQTTAsync_free(topic);
		return 1;
	}
	x = malloc(sizeof *x + tl + 1);
	if (x && !(x->payload = malloc(pl + 1))) {
		free(x);
		x = NULL;
	}
	if (x) {
		x->next = NULL;
		x->plen = pl;
		memcpy(x->topic, topic, tl);
		x->topic[tl] = '\0';
		if (pl)
			memcpy(x->payload, pm->payload, pl);
		x->payload[pl] = '\0';
	}
	pthread_mutex_lock(&m->mu);
	if (!x || m->closed || m->count >= m->queue_max) { /* inv. 2 (out of memory too), inv. 3 */
		m->dropped++;
		pthread_mutex_unlock(&m->mu);
		if (x)
			free(x->payload);
		free(x);
	} else {
		if (m->tail)
			m->tail->next = x;
		else
			m->head = x;
		m->tail = x;
		m->count++;
		pthread_cond_broadcast(&m->cv);
		pthread_mutex_unlock(&m->mu);
	}
	MQTTAsync_freeMessage(&pm);
	MQTTAsync_free(topic);
	return 1; /* taken: Paho must not redeliver */
}

/* ---- operations (test thread) -------------------------------------------- */

static void deadline_after(struct timespec *ts, int timeout_ms)
{
	if (timeout_ms < 0)
		timeout_ms = 0;
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += timeout_ms / 1000;
	ts->tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static struct op *op_new(struct pht_mqtt *m, enum op_kind kind)
{
	struct op *op = calloc(1, sizeof *op);

	if (!op)
		return NULL;
	op->m = m;
	op->kind = kind;
	pthread_mutex_lock(&m->mu);
	op->next = m->ops;
	m->ops = op;
	pthread_mutex_unlock(&m->mu);
	return op;
}

/* Unlinks and frees op; m->mu held. */
static void op_drop_locked(struct pht_mqtt *m, struct op *op)
{
	for (struct op **pp = &m->ops; *pp; pp = &(*pp)->next) {
		if (*pp == op) {
			*pp = op->next;
			free(op);
			return;
		}
	}
}

/* Paho refused to start the operation: no callback will come. */
static int op_abort(struct pht_mqtt *m, struct op *op, int paho_rc)
{
	pthread_mutex_lock(&m->mu);
	op_drop_locked(m, op);
	pthread_mutex_unlock(&m->mu);
	switch (paho_rc) {
	case MQTTASYNC_DISCONNECTED:
		return -ENOTCONN;
	case MQTTASYNC_MAX_BUFFERED_MESSAGES:
	case MQTTASYNC_MAX_MESSAGES_INFLIGHT:
		return -ENOBUFS;
	case MQTTASYNC_BAD_UTF8_STRING:
	case MQTTASYNC_NULL_PARAMETER:
	case MQTTASYNC_BAD_QOS:
	case MQTTASYNC_BAD_STRUCTURE:
		return -EINVAL;
	default:
		return -EIO;
	}
}

/* Publishes one byte on the wake topic of some other connected client, so
 * Paho's receive thread leaves its poll (see "waking Paho"). */
static void wake_paho(const struct pht_mqtt *self)
{
	pthread_mutex_lock(&reg_mu);
	for (struct pht_mqtt *x = reg_head; x; x = x->reg_next) {
		int ok;
		if (x == self)
			continue;
		pthread_mutex_lock(&x->mu);
		ok = x->connected && x->wake_ok;
		pthread_mutex_unlock(&x->mu);
		if (ok) {
			MQTTAsync_message pm = MQTTAsync_message_initializer;
			pm.payload = (void *)"w";
			pm.payloadlen = 1;
			pm.qos = 0;
			if (MQTTAsync_sendMessage(x->client, x->wake_topic, &pm, NULL) == MQTTASYNC_SUCCESS)
				break;
		}
	}
	pthread_mutex_unlock(&reg_mu);
}

/* Waits for op's callback, waking Paho meanwhile when asked; inv. 3 on
 * timeout. */
static int op_wait_wake(struct pht_mqtt *m, struct op *op, int timeout_ms, int wake)
{
	struct timespec dl, slice;
	long long end = pht_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	int rc;

	deadline_after(&dl, timeout_ms);
	pthread_mutex_lock(&m->mu);
	while (!op->done) {
		long long left = end - pht_now_ms();
		if (left <= 0)
			break;
		if (!wake) {
			if (pthread_cond_timedwait(&m->cv, &m->mu, &dl) == ETIMEDOUT)
				break;
			continue;
		}
		deadline_after(&slice, left < WAKE_EVERY_MS ? (int)left : WAKE_EVERY_MS);
		pthread_cond_timedwait(&m->cv, &m->mu, &slice);
		if (!op->done) {
			pthread_mutex_unlock(&m->mu);
			wake_paho(m);
			pthread_mutex_lock(&m->mu);
		}
	}
	if (op->done) {
		rc = op->rc;
		op_drop_locked(m, op);
	} else {
		rc = -ETIMEDOUT; /* op stays on m->ops until pht_mqtt_free */
	}
	pthread_mutex_unlock(&m->mu);
	return rc;
}

static int op_wait(struct pht_mqtt *m, struct op *op, int timeout_ms)
{
	return op_wait_wake(m, op, timeout_ms, 0);
}

struct pht_mqtt *pht_mqtt_new(const char *uri, const char *client_id)
{
	MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer;
	pthread_condattr_t ca;
	struct pht_mqtt *m;

	if (!uri || !client_id)
		return NULL;
	m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	pthread_mutex_init(&m->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&m->cv, &ca);
	pthread_condattr_destroy(&ca);
	m->queue_max = PHT_MQTT_QUEUE_MAX;

	co.sendWhileDisconnected = 0;
	co.MQTTVersion = MQTTVERSION_3_1_1;
	if (MQTTAsync_createWithOptions(&m->client, uri, client_id, MQTTCLIENT_PERSISTENCE_NONE,
					NULL, &co) != MQTTASYNC_SUCCESS) {
		m->client = NULL;
		pht_mqtt_free(m);
		return NULL;
	}
	if (MQTTAsync_setCallbacks(m->client, m, on_lost, on_message, NULL) != MQTTASYNC_SUCCESS) {
		pht_mqtt_free(m);
		return NULL;
	}
	pthread_mutex_lock(&reg_mu);
	snprintf(m->wake_topic, sizeof m->wake_topic, WAKE_PREFIX "%d/%lu", (int)getpid(),
		 ++reg_serial);
	m->reg_next = reg_head;
	reg_head = m;
	pthread_mutex_unlock(&reg_mu);
	return m;
}

/* Best effort: lets other clients' connects wake Paho through this one. */
static void subscribe_wake(struct pht_mqtt *m)
{
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	struct op *op = op_new(m, OP_SUBSCRIBE);
	int rc;

	if (!op)
		return;
	ro.onSuccess = on_success;
	ro.onFailure = on_failure;
	ro.context = op;
	rc = MQTTAsync_subscribe(m->client, m->wake_topic, 0, &ro);
	if (rc != MQTTASYNC_SUCCESS) {
		op_abort(m, op, rc);
		return;
	}
	if (op_wait(m, op, 2000) == 0) {
		pthread_mutex_lock(&m->mu);
		m->wake_ok = m->connected;
		pthread_mutex_unlock(&m->mu);
	}
}

int pht_mqtt_connect(struct pht_mqtt *m, int clean, int timeout_ms)
{
	MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
	struct op *op;
	int rc;

	if (!m)
		return -EINVAL;
	if (MQTTAsync_isConnected(m->client))
		return 0;
	op = op_new(m, OP_CONNECT);
	if (!op)
		return -ENOMEM;
	co.keepAliveInterval = 10;
	co.cleansession = clean ? 1 : 0;
	co.connectTimeout = timeout_ms > 1000 ? (timeout_ms + 999) / 1000 : 1;
	co.MQTTVersion = MQTTVERSION_3_1_1;
	co.automaticReconnect = 0;
	co.onSuccess = on_success;
	co.onFailure = on_failure;
	co.context = op;
	rc = MQTTAsync_connect(m->client, &co);
	if (rc != MQTTASYNC_SUCCESS)
		return op_abort(m, op, rc);
	rc = op_wait_wake(m, op, timeout_ms, 1);
	if (rc == 0)
		subscribe_wake(m);
	return rc;
}

int pht_mqtt_subscribe(struct pht_mqtt *m, const char *filter, int qos, int timeout_ms)
{
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	struct op *op;
	int rc;

	if (!m || !filter || qos < 0 || qos > 2)
		return -EINVAL;
	op = op_new(m, OP_SUBSCRIBE);
	if (!op)
		return -ENOMEM;
	ro.onSuccess = on_success;
	ro.onFailure = on_failure;
	ro.context = op;
	rc = MQTTAsync_subscribe(m->client, filter, qos, &ro);
	if (rc != MQTTASYNC_SUCCESS)
		return op_abort(m, op, rc);
	return op_wait(m, op, timeout_ms);
}

int pht_mqtt_publish(struct pht_mqtt *m, const char *topic, const void *payload, size_t len,
		     int qos, int retained, int timeout_ms)
{
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	MQTTAsync_message pm = MQTTAsync_message_initializer;
	struct op *op;
	int rc;

	if (!m || !topic || (len && !payload) || len > INT_MAX || qos < 0 || qos > 2)
		return -EINVAL;
	op = op_new(m, OP_PUBLISH);
	if (!op)
		return -ENOMEM;
	pm.payload = (void *)payload; /* Paho copies it */
	pm.payloadlen = (int)len;
	pm.qos = qos;
	pm.retained = retained ? 1 : 0;
	ro.onSuccess = on_success;
	ro.onFailure = on_failure;
	ro.context = op;
	rc = MQTTAsync_sendMessage(m->client, topic, &pm, &ro);
	if (rc != MQTTASYNC_SUCCESS)
		return op_abort(m, op, rc);
	return op_wait(m, op, timeout_ms);
}

int pht_mqtt_next(struct pht_mqtt *m, int timeout_ms, char *topic, size_t tcap,
		  char **payload, size_t *plen)
{
	struct timespec dl;
	struct msg *x;

	if (payload)
		*payload = NULL;
	if (plen)
		*plen = 0;
	if (!m)
		return -EINVAL;
	deadline_after(&dl, timeout_ms);
	pthread_mutex_lock(&m->mu);
	while (!m->head)
		if (pthread_cond_timedwait(&m->cv, &m->mu, &dl) == ETIMEDOUT)
			break;
	x = m->head;
	if (x) {
		m->head = x->next;
		if (!m->head)
			m->tail = NULL;
		m->count--;
	}
	pthread_mutex_unlock(&m->mu);
	if (!x)
		return -ETIMEDOUT;

	if (topic && tcap) {
		size_t tl = strlen(x->topic);
		if (tl >= tcap)
			tl = tcap - 1;
		memcpy(topic, x->topic, tl);
		topic[tl] = '\0';
	}
	if (plen)
		*plen = x->plen;
	if (payload)
		*payload = x->payload;
	else
		free(x->payload);
	free(x);
	return 0;
}

int pht_mqtt_wait_lost(struct pht_mqtt *m, int timeout_ms)
{
	struct timespec dl;
	int rc;

	if (!m)
		return -EINVAL;
	deadline_after(&dl, timeout_ms);
	pthread_mutex_lock(&m->mu);
	while (m->connected)
		if (pthread_cond_timedwait(&m->cv, &m->mu, &dl) == ETIMEDOUT)
			break;
	rc = m->connected ? -ETIMEDOUT : 0;
	pthread_mutex_unlock(&m->mu);
	return rc;
}

int pht_mqtt_connected(struct pht_mqtt *m)
{
	int c;

	if (!m)
		return 0;
	pthread_mutex_lock(&m->mu);
	c = m->connected;
	pthread_mutex_unlock(&m->mu);
	return c;
}

size_t pht_mqtt_dropped(struct pht_mqtt *m)
{
	size_t n;

	if (!m)
		return 0;
	pthread_mutex_lock(&m->mu);
	n = m->dropped;
	pthread_mutex_unlock(&m->mu);
	return n;
}

void pht_mqtt_set_queue_max(struct pht_mqtt *m, size_t max)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->mu);
	m->queue_max = max;
	pthread_mutex_unlock(&m->mu);
}

size_t pht_mqtt_queued(struct pht_mqtt *m)
{
	size_t n;

	if (!m)
		return 0;
	pthread_mutex_lock(&m->mu);
	n = m->count;
	pthread_mutex_unlock(&m->mu);
	return n;
}

void pht_mqtt_free(struct pht_mqtt *m)
{
	if (!m)
		return;
	pthread_mutex_lock(&reg_mu);
	for (struct pht_mqtt **pp = &reg_head; *pp; pp = &(*pp)->reg_next) {
		if (*pp == m) {
			*pp = m->reg_next;
			break;
		}
	}
	pthread_mutex_unlock(&reg_mu);
	if (m->client) {
		if (MQTTAsync_isConnected(m->client)) {
			MQTTAsync_disconnectOptions dop = MQTTAsync_disconnectOptions_initializer;
			struct op *op = op_new(m, OP_DISCONNECT);
			if (op) {
				dop.timeout = 1000;
				dop.onSuccess = on_success;
				dop.onFailure = on_failure;
				dop.context = op;
				if (MQTTAsync_disconnect(m->client, &dop) == MQTTASYNC_SUCCESS)
					op_wait(m, op, 2000);
				/* else: op stays on the list, freed below */
			}
		}
		MQTTAsync_destroy(&m->client);
	}
	/* inv. 3: a callback that began before the destroy may still run: the
	 * messages go, the client and its ops stay, closed. */
	pthread_mutex_lock(&m->mu);
	m->closed = 1;
	while (m->head) {
		struct msg *x = m->head;
		m->head = x->next;
		free(x->payload);
		free(x);
	}
	m->tail = NULL;
	m->count = 0;
	pthread_mutex_unlock(&m->mu);
	pthread_mutex_lock(&reg_mu);
	m->retired_next = retired_head;
	retired_head = m;
	pthread_mutex_unlock(&reg_mu);
}
