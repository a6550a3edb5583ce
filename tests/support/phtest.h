/*
 * phtest.h — support library for parkhub's integration tests.
 *
 * Temp dirs, child processes, a private Mosquitto broker on a free loopback
 * port, and a small blocking MQTT client built on Paho async. Everything
 * here is for tests: every wait is bounded, failures return a negative
 * errno value (-ETIMEDOUT, -EIO, ...) instead of aborting, and nothing ever
 * touches a process it did not start (signals go by PID / process group,
 * never by name) or the system broker on port 1883.
 *
 * Threads: the process and broker helpers are meant for the test's own
 * thread. A struct pht_mqtt may be used by one test thread while Paho's
 * threads deliver into it.
 *
 * Environment: PHT_KEEP=1 keeps broker temp dirs (config, log, persistence
 * file) after pht_broker_cleanup and prints where they are.
 */
#ifndef PHTEST_H
#define PHTEST_H

#include <stddef.h>
#include <sys/types.h>

/* ---- clock (clock.c) ---------------------------------------------------- */

/* Milliseconds on CLOCK_MONOTONIC. */
long long pht_now_ms(void);
/* Sleeps ms milliseconds (restarts after signals). */
void pht_sleep_ms(int ms);

/* ---- temp dirs (tmp.c) -------------------------------------------------- */

/* Makes a fresh directory $TMPDIR/parkhub-test-XXXXXX (or under /tmp) and
 * writes its path to out. 0 or -errno (-ENAMETOOLONG when cap is short). */
int pht_tmpdir(char *out, size_t cap);
/* Removes dir and everything below it (does not follow symlinks).
 * 0 (also when dir does not exist) or -errno. */
int pht_rmtree(const char *dir);

/* ---- processes (proc.c) ------------------------------------------------- */

struct pht_proc {
	pid_t pid;      /* 0 when not running / already reaped */
	char log[512];  /* where stdout+stderr go ("" = /dev/null) */
};

/* fork+exec argv[0] (a path; PATH is not searched) with argv (NULL-ended).
 * stdin is /dev/null, stdout+stderr are appended to logpath (NULL = discard),
 * the child leads its own process group and gets SIGKILL when the spawning
 * thread exits (so a failed or crashed test leaves no process behind; spawn
 * from the test's own thread). Returns 0 once exec succeeded, or
 * -errno (exec's errno is reported back, e.g. -ENOENT). argv is borrowed. */
int pht_proc_spawn(struct pht_proc *p, const char *const argv[], const char *logpath);
/* Sends sig to the child's process group. 0, -ESRCH when not running. */
int pht_proc_kill(struct pht_proc *p, int sig);
/* Waits up to timeout_ms for the child to exit and reaps it (pid becomes 0).
 * status gets the raw wait status (may be NULL). 0, -ETIMEDOUT when it is
 * still running, -ECHILD when there is nothing to wait for. */
int pht_proc_wait(struct pht_proc *p, int timeout_ms, int *status);
/* SIGTERM, wait up to timeout_ms, then SIGKILL and reap. pid becomes 0.
 * 0 when it ended on SIGTERM (or was not running), 1 when SIGKILL was
 * needed, -errno on failure. */
int pht_proc_stop(struct pht_proc *p, int timeout_ms);
/* 1 while the child has not exited, 0 otherwise (does not reap). */
int pht_proc_alive(const struct pht_proc *p);

/* Runs argv to completion with stdout+stderr captured in out (NUL-terminated,
 * truncated to cap-1 bytes; output past that is read and dropped).
 * exit_code gets the exit status, or 128+signal when it was killed.
 * 0, -ETIMEDOUT (the process group is then SIGKILLed and reaped), or -errno. */
int pht_run(const char *const argv[], int timeout_ms, char *out, size_t cap, int *exit_code);

/* ---- broker (broker.c) -------------------------------------------------- */

struct pht_broker {
	struct pht_proc proc;  /* proc.log = <dir>/mosquitto.log */
	int port;
	char dir[512];         /* temp dir: mosquitto.conf, mosquitto.log, persistence */
	char conf[600];        /* <dir>/mosquitto.conf */
	char extra[2048];      /* extra_conf as given (before %DIR% expansion) */
	char uri[48];          /* "tcp://127.0.0.1:<port>" */
};

/* max_packet_size of the tests' broker: PH_MQTT_MAX_PACKET_BYTES
 * (include/parkhub/batch.h), as make-park.sh sets it in production. */
#define PHT_MAX_PACKET 263168

/* A TCP port on 127.0.0.1 that was free a moment ago; -errno on failure. */
int pht_free_port(void);
/* Starts /usr/sbin/mosquitto (PHT_MOSQUITTO overrides the path) on a free
 * loopback port in a fresh temp dir and waits (<= 5 s) until it accepts
 * TCP connections. The config has listener <port> 127.0.0.1,
 * allow_anonymous true, persistence false, max_queued_messages 0 (no limit:
 * the test broker never drops QoS 1 messages), max_packet_size
 * PHT_MAX_PACKET (as in production), set_tcp_nodelay true (else
 * ~40 ms Nagle/delayed-ACK stalls per message), user root when run as root
 * (else mosquitto 2 switches to user mosquitto, which cannot write the 0700
 * dir), log to stderr (appended to <dir>/mosquitto.log across restarts;
 * startup failures are also printed to our stderr). extra_conf (may be
 * NULL) is appended verbatim, with every %DIR% replaced by the temp dir;
 * a default is left out when extra_conf sets the same key. When the port is taken in between, retries
 * on a new port (5 tries). 0 or -errno; on failure nothing keeps running
 * (call pht_broker_cleanup to remove the dir). b must not hold a running
 * broker (it is overwritten). */
int pht_broker_start(struct pht_broker *b, const char *extra_conf);
/* SIGTERM, wait <= 5 s, then SIGKILL. Mosquitto writes its persistence file
 * on SIGTERM. 0 (also when not running) or -errno. */
int pht_broker_stop(struct pht_broker *b);
/* SIGKILL (no persistence save, like a crash) and reap. */
int pht_broker_kill(struct pht_broker *b);
/* Stops the broker if it runs, starts it again on the same port, dir and
 * config, and waits (<= 5 s) until it accepts connections. */
int pht_broker_restart(struct pht_broker *b);
/* Stops the broker if it runs and removes its dir unless PHT_KEEP is set. */
void pht_broker_cleanup(struct pht_broker *b);
/* "tcp://127.0.0.1:<port>", stored in b. */
const char *pht_broker_uri(const struct pht_broker *b);

/* ---- blocking MQTT test client (mqttc.c) -------------------------------- */

/* Paho async (paho-mqtt3as), MQTT 3.1.1, no Paho persistence. Received
 * messages are copied into a queue bounded at PHT_MQTT_QUEUE_MAX messages;
 * past that they are dropped and counted.
 *
 * Each connected client also subscribes (QoS 0) to a private topic
 * $pht/wake/<pid>/<n>, used to wake Paho's receive thread so that a second
 * client's connect takes ~40 ms instead of ~2.1 s (see mqttc.c). Filters
 * like "#" do not match $ topics, and those messages never reach the queue.
 *
 * Return values: 0 or -errno:
 * -ETIMEDOUT (no answer in time), -ECONNREFUSED (connect failed),
 * -ENOTCONN (not connected), -EACCES (subscription refused), -EIO (other
 * failure from Paho), -EINVAL, -ENOMEM. */
#define PHT_MQTT_QUEUE_MAX 1000000u

struct pht_mqtt;

/* Returns new client (not yet connected), or NULL. uri and client_id are
 * borrowed. */
struct pht_mqtt *pht_mqtt_new(const char *uri, const char *client_id);
/* Connects (keepalive 10 s, cleansession = clean) and waits for CONNACK.
 * Returns 0 at once while Paho still believes it is connected: after a
 * broker stop/restart call pht_mqtt_wait_lost first, then this to
 * reconnect. When no other client of the process is connected, a connect
 * can take ~1 s (Paho's poll; nothing to wake it with). */
int pht_mqtt_connect(struct pht_mqtt *m, int clean, int timeout_ms);
/* Subscribes and waits for SUBACK; a refused subscription is -EACCES. */
int pht_mqtt_subscribe(struct pht_mqtt *m, const char *filter, int qos, int timeout_ms);
/* Publishes and waits for Paho's onSuccess (PUBACK at QoS 1, written to the
 * socket at QoS 0). payload is borrowed. */
int pht_mqtt_publish(struct pht_mqtt *m, const char *topic, const void *payload, size_t len,
		     int qos, int retained, int timeout_ms);
/* Pops the next received message. topic (may be NULL) gets the topic,
 * truncated to tcap-1 bytes. *payload (payload may be NULL to discard)
 * returns new: malloc'd, with an extra NUL after the plen bytes; caller frees.
 * 0 or -ETIMEDOUT. */
int pht_mqtt_next(struct pht_mqtt *m, int timeout_ms, char *topic, size_t tcap,
		  char **payload, size_t *plen);
/* Waits until Paho reported the connection lost (or it never connected).
 * 0 or -ETIMEDOUT. */
int pht_mqtt_wait_lost(struct pht_mqtt *m, int timeout_ms);
/* 1 while connected (as far as the callbacks have told), else 0. */
int pht_mqtt_connected(struct pht_mqtt *m);
/* Messages dropped because the queue was full. */
size_t pht_mqtt_dropped(struct pht_mqtt *m);
/* Changes the queue bound (for tests of the overflow counting). */
void pht_mqtt_set_queue_max(struct pht_mqtt *m, size_t max);
/* Messages waiting in the queue. */
size_t pht_mqtt_queued(struct pht_mqtt *m);
/* Disconnects (bounded), destroys the Paho client and frees everything,
 * queued messages included. Accepts NULL. */
void pht_mqtt_free(struct pht_mqtt *m);

#endif /* PHTEST_H */
