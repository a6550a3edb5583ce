/*
 * http_client.h — the tests' HTTP client for the hub's API: one request to
 * 127.0.0.1:port with libcurl (no proxy, a 15 s bound), an optional bearer
 * token and JSON body; the status and the whole body come back.
 * Call curl_global_init once per process first (the tests' setup does).
 */
#ifndef HTTP_CLIENT_H
#define HTTP_CLIENT_H

#include <stddef.h>

struct hc_resp {
	long status;
	char *body; /* NUL-terminated, never NULL after hc_request: free it (hc_resp_free) */
	size_t len;
};

/* method (GET, POST, …) path; token and body may be NULL. 0, or -1 with
 * curl's reason in r->body when the request did not complete. */
int hc_request(int port, const char *method, const char *path, const char *token, const char *body,
	       struct hc_resp *r);
void hc_resp_free(struct hc_resp *r);
/* The hub config's "http" member (no comma; for hh_hub_opts.top_extra):
 * 127.0.0.1:port and three tokens, "reg" (regulator), "mgr" (manager of
 * p1) and "adm" (admin), given in the clear and stored hashed. 0 or -1. */
int hc_http_member(int port, const char *reg, const char *mgr, const char *adm, char *out, size_t cap);

#endif /* HTTP_CLIENT_H */
