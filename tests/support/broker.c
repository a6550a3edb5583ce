/*
 * broker.c — a private Mosquitto for one test: free loopback port, temp dir,
 * generated config, start / stop / kill / restart, cleanup.
 *
 * Callers: integration tests (directly, and through their hub/agent
 * fixtures). Test thread only. Owns the broker child (via proc.c) and its
 * temp dir.
 *
 * Life cycle:
 *
 *   (zero) --start--> running --stop/kill--> stopped --restart--> running
 *                        \------------------restart-----------------/
 *   any --cleanup--> (zero)   (dir removed unless PHT_KEEP)
 *
 * inv. 1: "running" means the child accepts TCP connections on 127.0.0.1:port
 *         and the listening socket is the child's own (checked in /proc, so a
 *         stranger that grabbed the port is never mistaken for our broker).
 * inv. 2: restart never changes port, dir or config.
 * inv. 3: every wait is bounded (5 s for readiness, 5 s for stop).
 * inv. 4: the broker never listens on anything but 127.0.0.1 and never
 *         touches the system broker's port 1883 (the port comes from bind(0)).
 */
#include "phtest.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define READY_MS 5000
#define STOP_MS 5000
#define POLL_MS 20
#define START_TRIES 5

int pht_free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = 0 };
	socklen_t len = sizeof sa;
	int fd, port, e;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
		e = errno;
		close(fd);
		return -e;
	}
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* 1 when a TCP connect to 127.0.0.1:port succeeds. */
static int port_accepts(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd, ok;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
	close(fd);
	return ok;
}

/* inv. 1: 1 when pid holds the socket listening on port (per /proc/net/tcp),
 * 0 when not, 1 as well when /proc cannot tell. */
static int listener_is_ours(pid_t pid, int port)
{
	unsigned long inodes[8];
	int n = 0, found = 0;
	char line[512], path[64], link[64], want[40];
	FILE *f = fopen("/proc/net/tcp", "r");
	DIR *d;
	struct dirent *de;

	if (!f)
		return 1;
	while (fgets(line, sizeof line, f) && n < 8) {
		unsigned int lport, st;
		unsigned long ino;
		if (sscanf(line, " %*d: %*x:%x %*x:%*x %x %*x:%*x %*x:%*x %*x %*u %*u %lu",
			   &lport, &st, &ino) == 3 &&
		    (int)lport == port && st == 0x0A)
			inodes[n++] = ino;
	}
	fclose(f);
	if (n == 0)
		return 0;
	snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return 1;
	while (!found && (de = readdir(d))) {
		char fdpath[96];
		ssize_t r;
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(fdpath, sizeof fdpath, "%s/%s", path, de->d_name) >= (int)sizeof fdpath)
			continue;
		r = readlink(fdpath, link, sizeof link - 1);
		if (r <= 0)
			continue;
		link[r] = '\0';
		for (int i = 0; i < n && !found; i++) {
			snprintf(want, sizeof want, "socket:[%lu]", inodes[i]);
			found = strcmp(link, want) == 0;
		}
	}
	closedir(d);
	return found;
}

/* 1 when extra sets key (a line starting with "key" + blank). */
static int extra_sets(const char *extra, const char *key)
{
	size_t klen = strlen(key);
	const char *s = extra;

	while (s && *s) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (strncmp(s, key, klen) == 0 && (s[klen] == ' ' || s[klen] == '\t'))
			return 1;
		s = strchr(s, '\n');
		if (s)
			s++;
	}
	return 0;
}

/* Writes <dir>/mosquitto.conf for b->port. */
static int write_conf(struct pht_broker *b)
{
	const char *x = b->extra, *hit;
	FILE *f = fopen(b->conf, "w");

	if (!f)
		return -errno;
	fprintf(f, "# written by phtest (tests/support/broker.c) for one test\n");
	fprintf(f, "listener %d 127.0.0.1\n", b->port);
	if (!extra_sets(x, "allow_anonymous"))
		fprintf(f, "allow_anonymous true\n");
	if (!extra_sets(x, "persistence"))
		fprintf(f, "persistence false\n");
	/* 0 = no limit: the tests' broker never drops queued QoS 1 messages. */
	if (!extra_sets(x, "max_queued_messages"))
		fprintf(f, "max_queued_messages 0\n");
	/* Without it, Nagle holds a small PUBLISH behind the subscriber's
	 * delayed ACK of the previous packet: ~40 ms per message, measured. */
	if (!extra_sets(x, "set_tcp_nodelay"))
		fprintf(f, "set_tcp_nodelay true\n");
	/* As in production (deploy/production/make-park.sh): a packet larger
	 * than the hub accepts is refused by the broker (PHT_MAX_PACKET). */
	if (!extra_sets(x, "max_packet_size"))
		fprintf(f, "max_packet_size %d\n", PHT_MAX_PACKET);
	if (!extra_sets(x, "log_dest"))
		fprintf(f, "log_dest stderr\n");
	if (!extra_sets(x, "log_timestamp_format"))
		fprintf(f, "log_timestamp_format %%Y-%%m-%%dT%%H:%%M:%%S\n");
	/* As root, mosquitto 2 would switch to user "mosquitto", which cannot
	 * write to our 0700 temp dir. */
	if (geteuid() == 0 && !extra_sets(x, "user"))
		fprintf(f, "user root\n");
	if (*x) {
		fprintf(f, "# extra_conf\n");
		while ((hit = strstr(x, "%DIR%"))) {
			fwrite(x, 1, (size_t)(hit - x), f);
			fputs(b->dir, f);
			x = hit + 5;
		}
		fputs(x, f);
		fputc('\n', f);
	}
	if (fclose(f) != 0)
		return -errno;
	return 0;
}

static long file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

/* 1 when the log, from offset on, contains needle. */
static int log_has(const char *path, long offset, const char *needle)
{
	char buf[8192];
	size_t n;
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;
	fseek(f, offset, SEEK_SET);
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

static void log_dump(const struct pht_broker *b, long offset, const char *why)
{
	char buf[2048];
	size_t n;
	FILE *f = fopen(b->proc.log, "r");

	fprintf(stderr, "phtest: mosquitto on port %d: %s (log %s)\n", b->port, why, b->proc.log);
	if (!f)
		return;
	fseek(f, offset, SEEK_SET);
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	fprintf(stderr, "%s\n", buf);
}

/* Spawns mosquitto with b->conf and waits until it is ready (inv. 1).
 * 0, -EADDRINUSE (it exited: port taken), -EIO (it exited otherwise),
 * -ETIMEDOUT (not ready in time; it has been killed), -errno. */
static int launch(struct pht_broker *b)
{
	const char *exe = getenv("PHT_MOSQUITTO");
	char logpath[sizeof b->proc.log];
	const char *argv[] = { NULL, "-c", b->conf, NULL };
	long offset;
	long long deadline;
	int rc;

	argv[0] = exe && *exe ? exe : "/usr/sbin/mosquitto";
	if (snprintf(logpath, sizeof logpath, "%s/mosquitto.log", b->dir) >= (int)sizeof logpath)
		return -ENAMETOOLONG;
	offset = file_size(logpath);
	rc = pht_proc_spawn(&b->proc, argv, logpath);
	if (rc != 0)
		return rc;
	deadline = pht_now_ms() + READY_MS;
	for (;;) {
		if (!pht_proc_alive(&b->proc)) {
			pht_proc_wait(&b->proc, 1000, NULL);
			if (log_has(logpath, offset, "in use"))
				return -EADDRINUSE;
			log_dump(b, offset, "exited during start");
			return -EIO;
		}
		if (port_accepts(b->port) && listener_is_ours(b->proc.pid, b->port))
			return 0;
		if (pht_now_ms() >= deadline)
			break;
		pht_sleep_ms(POLL_MS);
	}
	log_dump(b, offset, "not accepting connections after 5 s");
	pht_proc_stop(&b->proc, 1000);
	return -ETIMEDOUT;
}

static void set_port(struct pht_broker *b, int port)
{
	b->port = port;
	snprintf(b->uri, sizeof b->uri, "tcp://127.0.0.1:%d", port);
}

int pht_broker_start(struct pht_broker *b, const char *extra_conf)
{
	int rc;

	if (!b)
		return -EINVAL;
	memset(b, 0, sizeof *b);
	if (extra_conf) {
		if (strlen(extra_conf) >= sizeof b->extra)
			return -E2BIG;
		strcpy(b->extra, extra_conf);
	}
	rc = pht_tmpdir(b->dir, sizeof b->dir);
	if (rc != 0)
		return rc;
	if (snprintf(b->conf, sizeof b->conf, "%s/mosquitto.conf", b->dir) >= (int)sizeof b->conf)
		return -ENAMETOOLONG;
	rc = -EADDRINUSE;
	for (int i = 0; i < START_TRIES && rc == -EADDRINUSE; i++) {
		int port = pht_free_port();
		if (port < 0)
			return port;
		set_port(b, port);
		rc = write_conf(b);
		if (rc == 0)
			rc = launch(b);
	}
	if (rc == 0 && getenv("PHT_KEEP"))
		fprintf(stderr, "phtest: broker %s in %s\n", b->uri, b->dir);
	return rc;
}

int pht_broker_stop(struct pht_broker *b)
{
	int rc;

	if (!b)
		return -EINVAL;
	rc = pht_proc_stop(&b->proc, STOP_MS);
	return rc < 0 ? rc : 0;
}

int pht_broker_kill(struct pht_broker *b)
{
	int rc;

	if (!b)
		return -EINVAL;
	if (b->proc.pid <= 0)
		return 0;
	pht_proc_kill(&b->proc, SIGKILL);
	rc = pht_proc_wait(&b->proc, STOP_MS, NULL);
	return rc == -ECHILD ? 0 : rc;
}

int pht_broker_restart(struct pht_broker *b)
{
	long long deadline;
	int rc;

	if (!b || !b->port || !b->dir[0])
		return -EINVAL;
	rc = pht_broker_stop(b);
	if (rc != 0)
		return rc;
	/* inv. 2: same port. If someone holds it, wait for it within the bound. */
	deadline = pht_now_ms() + READY_MS;
	for (;;) {
		rc = launch(b);
		if (rc != -EADDRINUSE || pht_now_ms() >= deadline)
			return rc;
		pht_sleep_ms(50);
	}
}

void pht_broker_cleanup(struct pht_broker *b)
{
	if (!b)
		return;
	pht_broker_stop(b);
	if (b->dir[0]) {
		if (getenv("PHT_KEEP"))
			fprintf(stderr, "phtest: kept broker dir %s\n", b->dir);
		else
			pht_rmtree(b->dir);
	}
	memset(b, 0, sizeof *b);
}

const char *pht_broker_uri(const struct pht_broker *b)
{
	return b ? b->uri : "";
}
