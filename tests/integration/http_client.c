/*
 * http_client.c — see http_client.h. One curl easy handle per request; the
 * body grows with realloc as it arrives.
 */
#include "http_client.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h" /* ph_api_token_hash_hex */

static size_t on_body(char *p, size_t sz, size_t n, void *u)
{
	struct hc_resp *r = u;
	char *nb = realloc(r->body, r->len + sz * n + 1);
	if (!nb)
		return 0;
	memcpy(nb + r->len, p, sz * n);
	r->body = nb;
	r->len += sz * n;
	r->body[r->len] = 0;
	return sz * n;
}

int hc_request(int port, const char *method, const char *path, const char *token, const char *body,
	       struct hc_resp *r)
{
	memset(r, 0, sizeof *r);
	char url[1024], auth[600];
	snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
	CURL *c = curl_easy_init();
	if (!c)
		return -1;
	struct curl_slist *h = NULL;
	if (token) {
		snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
		h = curl_slist_append(h, auth);
	}
	if (body)
		h = curl_slist_append(h, "Content-Type: application/json");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (body)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 15000L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	CURLcode rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	if (!r->body)
		r->body = calloc(1, 1);
	if (rc != CURLE_OK) {
		free(r->body);
		r->body = strdup(curl_easy_strerror(rc));
		r->len = r->body ? strlen(r->body) : 0;
		return -1;
	}
	return 0;
}

void hc_resp_free(struct hc_resp *r)
{
	free(r->body);
	memset(r, 0, sizeof *r);
}

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
