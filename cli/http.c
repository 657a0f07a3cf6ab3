/* The CLI's HTTP: one libcurl easy handle reused for every request. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

#define CLI_MAX_BODY (64u << 20) /* refuse answers larger than 64 MiB */

struct buf {
	char *data;
	size_t len;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct buf *b = arg;
	size_t n = size * nmemb;
	char *p;

	if (b->len + n > CLI_MAX_BODY)
		return 0;
	if ((p = realloc(b->data, b->len + n + 1)) == NULL)
		return 0;
	memcpy(p + b->len, ptr, n);
	b->data = p;
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

int cli_http_init(struct cli *c)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	c->curl = curl_easy_init();
	return c->curl ? 0 : -1;
}

void cli_http_free(struct cli *c)
{
	if (c->curl)
		curl_easy_cleanup(c->curl);
	curl_global_cleanup();
}

int cli_request(struct cli *c, const char *method, const char *path,
    json_t *body, struct cli_resp *out)
{
	CURL *h = c->curl;
	struct curl_slist *hdrs = NULL;
	struct buf b = { NULL, 0 };
	char url[4096], tok[1024], *payload = NULL;
	CURLcode rc;
	int ret = -1;

	memset(out, 0, sizeof *out);
	if (snprintf(url, sizeof url, "%s%s", c->url, path) >= (int)sizeof url ||
	    snprintf(tok, sizeof tok, "X-Auth-Token: %s", c->token) >= (int)sizeof tok) {
		fprintf(stderr, "kumo: URL or token too long\n");
		goto fail;
	}
	hdrs = curl_slist_append(hdrs, tok);
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (body != NULL) {
		payload = json_dumps(body, JSON_COMPACT);
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, payload ? payload : "");
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	if ((rc = curl_easy_perform(h)) != CURLE_OK) {
		fprintf(stderr, "kumo: %s %s: %s\n", method, url, curl_easy_strerror(rc));
		goto fail;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
	if (b.len > 0)
		out->body = json_loadb(b.data, b.len, 0, NULL);
	ret = 0;
fail:
	json_decref(body);
	free(payload);
	free(b.data);
	curl_slist_free_all(hdrs);
	return ret;
}

void cli_resp_free(struct cli_resp *r)
{
	json_decref(r->body);
	r->body = NULL;
}

int cli_fail(const struct cli_resp *r)
{
	const char *kind, *msg = NULL;
	json_t *inner;

	/* Nova's error shape: {"itemNotFound": {"code": 404, "message": "..."}} */
	if (json_is_object(r->body) && json_object_size(r->body) == 1) {
		json_object_foreach(r->body, kind, inner)
			msg = json_string_value(json_object_get(inner, "message"));
	}
	fprintf(stderr, "kumo: %s (HTTP %ld)\n", msg ? msg : "request failed", r->status);
	if (r->status == 404)
		return CLI_NOTFOUND;
	if (r->status == 409)
		return CLI_CONFLICT;
	if (r->status == 401 || r->status == 403)
		return CLI_DENIED;
	if (r->status >= 500)
		return CLI_SERVER;
	if (r->status >= 400)
		return CLI_BADREQ;
	return CLI_ERR;
}
