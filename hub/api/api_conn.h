/* api_conn.h — the HTTP API's connection deadlines (api_conn.c): a request's
 * headers and body must arrive within a time that no trickle of bytes can
 * push back. libmicrohttpd's own connection timeout is an idle timeout (each
 * byte received restarts it), so api.c hands every connection to this
 * module and tells it where each request stands. Only api.c includes this
 * header (it carries libmicrohttpd types). */
#ifndef PH_API_CONN_H
#define PH_API_CONN_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

#include "parkhub/err.h"

struct api_conns;

struct api_conns_stats {
  uint64_t cut_headers, cut_body; /* connections closed at a deadline, by phase */
  uint64_t opened;                /* connections seen */
  int open;                       /* connections open now */
};

/* Starts the watchdog thread. header_ms: from a connection's start, or the
 * end of its previous request, until the request's headers are in;
 * body_ms: from then until the body is in. Returns new (api_conns_stop).
 * PH_ENOMEM, PH_EIO (no thread). */
int api_conns_start(int64_t header_ms, int64_t body_ms, struct api_conns **out, struct ph_err *err);
/* Joins the watchdog and frees. Call after MHD_stop_daemon (which closes
 * every connection). Accepts NULL. */
void api_conns_stop(struct api_conns *cs);

/* MHD_OPTION_NOTIFY_CONNECTION, with cls = the struct api_conns *. */
void api_conns_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                      enum MHD_ConnectionNotificationCode code);

/* From the request callbacks, on libmicrohttpd's thread of c: */
/* the headers are in: the body deadline starts */
void api_conns_headers_in(struct api_conns *cs, struct MHD_Connection *c);
/* true once the body deadline has passed (the caller ends the connection) */
bool api_conns_body_late(struct api_conns *cs, struct MHD_Connection *c);
/* the request is complete and being answered: no deadline while it is */
void api_conns_answering(struct api_conns *cs, struct MHD_Connection *c);
/* the request is over; on a kept-alive connection the next one's header
 * deadline starts now */
void api_conns_request_done(struct api_conns *cs, struct MHD_Connection *c);

void api_conns_stats(struct api_conns *cs, struct api_conns_stats *st);

#endif
