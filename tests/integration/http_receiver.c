/*
 * http_receiver.c — the test HTTP receiver (http_receiver.h).
 *
 * Threads: the test's (start, queries, stop) and the receiver's own, which
 * accepts, reads and answers. Owns: the listening socket, the connections
 * held open in HR_SILENT mode, the recorded requests (under mu).
 *
 * inv. 1: every blocking call is a poll() of at most 50 ms followed by a
 *         look at the stop flag, so hr_stop returns within ~100 ms.
 * inv. 2: a request is recorded once it is complete (headers and
 *         Content-Length bytes of body), before it is answered.
 */
#include "http_receiver.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_REQ 1024
#define MAX_HELD 64
#define MAX_BYTES (1024 * 1024)
#define READ_LIMIT_MS 5000 /* a request must be complete within this */

struct hr_server {
	int lfd, port;
	enum hr_mode mode;
	int fail_n;
	pthread_t thread;
	atomic_bool stop;
	pthread_mutex_t mu;
	struct hr_request req[MAX_REQ];
	size_t n;
	int held[MAX_HELD];
	int nheld;
};

static long long mono_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void send_all(int fd, const char *s)
{
	size_t len = strlen(s), off = 0;
	while (off < len) {
		ssize_t k = send(fd, s + off, len - off, MSG_NOSIGNAL);
		if (k <= 0)
			return;
		off += (size_t)k;
	}
}

/* The value of header name in the head (NUL-terminated), into out. */
static int header(const char *head, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name);
	for (const char *p = strstr(head, "\r\n"); p; p = strstr(p + 2, "\r\n")) {
		const char *line = p + 2;
		if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
			const char *v = line + nl + 1;
			while (*v == ' ')
				v++;
			size_t vl = strcspn(v, "\r\n");
			snprintf(out, cap, "%.*s", (int)vl, v);
			return 0;
		}
	}
	out[0] = '\0';
	return -1;
}

/* Reads one request from fd; 0 and *r filled, or -1 (closed, malformed, too slow, stopping). */
static int read_request(struct hr_server *s, int fd, struct hr_request *r)
{
	size_t cap = 65536, len = 0, need = 0, head_len = 0;
	char *buf = malloc(cap + 1);
	long long until = mono_ms() + READ_LIMIT_MS;
	bool continued = false;

	if (!buf)
		return -1;
	for (;;) {
		if (head_len && len >= head_len + need)
			break;
		if (atomic_load(&s->stop) || mono_ms() >= until)
			goto fail;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 50) <= 0)
			continue;
		if (len == cap) {
			if (cap >= MAX_BYTES)
				goto fail;
			char *nb = realloc(buf, cap * 2 + 1);
			if (!nb)
				goto fail;
			buf = nb;
			cap *= 2;
		}
		ssize_t k = recv(fd, buf + len, cap - len, 0);
		if (k <= 0)
			goto fail;
		len += (size_t)k;
		buf[len] = '\0';
		if (!head_len) {
			char *e = strstr(buf, "\r\n\r\n");
			if (!e)
				continue;
			head_len = (size_t)(e - buf) + 4;
			char v[64];
			*e = '\0'; /* the head alone, for the header lookups */
			if (header(buf, "Content-Length", v, sizeof v) == 0)
				need = strtoul(v, NULL, 10);
			if (sscanf(buf, "%15s %511s", r->method, r->target) != 2)
				goto fail;
			header(buf, "Content-Type", r->content_type, sizeof r->content_type);
			if (header(buf, "Expect", v, sizeof v) == 0 && strcasecmp(v, "100-continue") == 0 && !continued) {
				send_all(fd, "HTTP/1.1 100 Continue\r\n\r\n");
				continued = true;
			}
			*e = '\r';
			if (need > MAX_BYTES)
				goto fail;
		}
	}
	r->body = malloc(need + 1);
	if (!r->body)
		goto fail;
	memcpy(r->body, buf + head_len, need);
	r->body[need] = '\0';
	r->len = need;
	free(buf);
	return 0;
fail:
	free(buf);
	return -1;
}

static void serve(struct hr_server *s, int fd)
{
	struct hr_request r;

	memset(&r, 0, sizeof r);
	if (read_request(s, fd, &r)) {
		close(fd);
		return;
	}
	pthread_mutex_lock(&s->mu);
	size_t i = s->n;
	int status = s->mode == HR_SILENT ? 0 : s->mode == HR_FAIL_FIRST && (int)i < s->fail_n ? 500 : 200;
	r.status = status;
	if (s->n < MAX_REQ)
		s->req[s->n++] = r;
	else
		free(r.body);
	pthread_mutex_unlock(&s->mu);
	if (!status) { /* HR_SILENT: keep it open, say nothing */
		if (s->nheld < MAX_HELD)
			s->held[s->nheld++] = fd;
		else
			close(fd);
		return;
	}
	send_all(fd, status == 200 ? "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 27\r\n"
				     "Connection: close\r\n\r\n{\"errcode\":0,\"errmsg\":\"ok\"}"
				   : "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
	shutdown(fd, SHUT_WR);
	close(fd);
}

static void *run(void *arg)
{
	struct hr_server *s = arg;
	while (!atomic_load(&s->stop)) {
		struct pollfd p = {.fd = s->lfd, .events = POLLIN};
		if (poll(&p, 1, 50) <= 0)
			continue;
		int fd = accept(s->lfd, NULL, NULL);
		if (fd >= 0)
			serve(s, fd);
	}
	return NULL;
}

int hr_start(struct hr_server **out, enum hr_mode mode, int fail_n)
{
	struct hr_server *s = calloc(1, sizeof *s);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof a;
	int one = 1, rc;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->mode = mode;
	s->fail_n = fail_n;
	pthread_mutex_init(&s->mu, NULL);
	if ((s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		goto fail;
	setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(s->lfd, (struct sockaddr *)&a, sizeof a) || listen(s->lfd, 16) ||
	    getsockname(s->lfd, (struct sockaddr *)&a, &al))
		goto fail;
	s->port = ntohs(a.sin_port);
	if ((rc = pthread_create(&s->thread, NULL, run, s))) {
		errno = rc;
		goto fail;
	}
	*out = s;
	return 0;
fail:
	rc = -errno;
	if (s->lfd > 0)
		close(s->lfd);
	pthread_mutex_destroy(&s->mu);
	free(s);
	return rc ? rc : -EIO;
}

int hr_port(const struct hr_server *s) { return s->port; }

size_t hr_count(struct hr_server *s)
{
	pthread_mutex_lock(&s->mu);
	size_t n = s->n;
	pthread_mutex_unlock(&s->mu);
	return n;
}

int hr_wait(struct hr_server *s, size_t n, int timeout_ms)
{
	long long until = mono_ms() + timeout_ms;
	while (hr_count(s) < n) {
		if (mono_ms() >= until)
			return -ETIMEDOUT;
		struct timespec t = {0, 20000000L};
		nanosleep(&t, NULL);
	}
	return 0;
}

const struct hr_request *hr_get(struct hr_server *s, size_t i)
{
	pthread_mutex_lock(&s->mu);
	const struct hr_request *r = i < s->n ? &s->req[i] : NULL;
	pthread_mutex_unlock(&s->mu);
	return r;
}

void hr_stop(struct hr_server *s)
{
	if (!s)
		return;
	atomic_store(&s->stop, true);
	pthread_join(s->thread, NULL);
	close(s->lfd);
	for (int i = 0; i < s->nheld; i++)
		close(s->held[i]);
	for (size_t i = 0; i < s->n; i++)
		free(s->req[i].body);
	pthread_mutex_destroy(&s->mu);
	free(s);
}
