/*
 * http_client.c — see http_client.h.
 */
#include "http_client.h"

#include <stdio.h>

#include "api/api.h" /* ph_api_token_hash_hex */

int hc_http_member(int port, const char *reg, const char *mgr, const char *adm, char *out, size_t cap)
{
	char hr[65], hm[65], ha[65];
	if (ph_api_token_hash_hex(reg, hr) || ph_api_token_hash_hex(mgr, hm) || ph_api_token_hash_hex(adm, ha))
		return -1;
	int n = snprintf(out, cap,
			 "\"http\": {\"listen\": \"127.0.0.1\", \"port\": %d, \"tokens\": ["
			 "{\"name\": \"reg\", \"sha256\": \"%s\", \"role\": \"regulator\"},"
			 "{\"name\": \"mgr\", \"sha256\": \"%s\", \"role\": \"manager\", \"parks\": [\"p1\"]},"
			 "{\"name\": \"adm\", \"sha256\": \"%s\", \"role\": \"admin\"}]}",
			 port, hr, hm, ha);
	return n > 0 && (size_t)n < cap ? 0 : -1;
}
