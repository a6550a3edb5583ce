/*
 * http_receiver.h — a small HTTP/1.1 server for tests, on 127.0.0.1 and a
 * port the kernel picks: it records every request (method, target,
 * Content-Type, body) and answers 200, or 500 to the first fail_n requests,
 * or never (it reads the request, keeps the connection open and says
 * nothing: a webhook endpoint that hangs).
 *
 * One thread per receiver, one connection at a time (answers carry
 * "Connection: close"); "Expect: 100-continue" is honoured. Every wait is
 * bounded (poll with a timeout, a stop flag checked every 50 ms). For
 * tests only: no keep-alive, no chunked request bodies.
 */
#ifndef HTTP_RECEIVER_H
#define HTTP_RECEIVER_H

#include <stddef.h>

enum hr_mode {
	HR_OK,         /* 200 to everything */
	HR_FAIL_FIRST, /* 500 to the first fail_n requests, then 200 */
	HR_SILENT,     /* reads each request, never answers */
};

struct hr_request {
	char method[16];
	char target[512];       /* path and query */
	char content_type[128];
	char *body;             /* NUL-terminated; owned by the receiver */
	size_t len;
	int status;             /* what it answered; 0: nothing */
};

struct hr_server;

/* Binds, listens and starts the thread. 0 or -errno. */
int hr_start(struct hr_server **out, enum hr_mode mode, int fail_n);
int hr_port(const struct hr_server *s);
/* Requests received so far (complete ones). */
size_t hr_count(struct hr_server *s);
/* Waits until at least n requests arrived; 0 or -ETIMEDOUT. */
int hr_wait(struct hr_server *s, size_t n, int timeout_ms);
/* Request i (valid until hr_stop), or NULL. */
const struct hr_request *hr_get(struct hr_server *s, size_t i);
/* Stops the thread, closes every connection, frees. Accepts NULL. */
void hr_stop(struct hr_server *s);

#endif /* HTTP_RECEIVER_H */
