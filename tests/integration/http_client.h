/*
 * http_client.h — the hub config's "http" member for the tests that talk to
 * the API (the client itself: hh_http_get / hh_http_request, hub_helpers.h).
 */
#ifndef HTTP_CLIENT_H
#define HTTP_CLIENT_H

#include <stddef.h>

#include "hub_helpers.h"

/* The hub config's "http" member (no comma; for hh_hub_opts.top_extra):
 * 127.0.0.1:port and three tokens, "reg" (regulator), "mgr" (manager of
 * p1) and "adm" (admin), given in the clear and stored hashed. 0 or -1. */
int hc_http_member(int port, const char *reg, const char *mgr, const char *adm, char *out, size_t cap);

#endif /* HTTP_CLIENT_H */
