/* The CLI's HTTP: one libcurl easy handle reused for every request. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

/* X-Subject-Token, the token a login answers, into the response. */
static size_t on_header(char *ptr, size_t size, size_t nmemb, void *arg)
{
	static const char name[] = "x-subject-token:";
	struct cli_resp *out = arg;
	size_t n = size * nmemb, skip = sizeof name - 1;

	if (n <= skip || n > 8192 || strncasecmp(ptr, name, skip) != 0)
		return n;
	while (skip < n && (ptr[skip] == ' ' || ptr[skip] == '\t'))
		skip++;
	while (n > skip && strchr(" \t\r\n", ptr[n - 1]))
		n--;
	free(out->subject_token);
	out->subject_token = strndup(ptr + skip, n - skip);
	return size * nmemb;
}

/* Resets the handle for method on url, answers into b and out; the
 * headers every request carries, or NULL (printed). */
static struct curl_slist *begin(struct cli *c, const char *method,
    const char *url, const char *token, struct buf *b, struct cli_resp *out)
{
	CURL *h = c->curl;
	struct curl_slist *hdrs = NULL;
	char tok[2048], mv[64];

	if ((token != NULL &&
	    snprintf(tok, sizeof tok, "X-Auth-Token: %s", token) >= (int)sizeof tok) ||
	    snprintf(mv, sizeof mv, "OpenStack-API-Version: compute %s",
	    c->microversion ? c->microversion : "") >= (int)sizeof mv) {
		fprintf(stderr, "kumo: token or microversion too long\n");
		return NULL;
	}
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	if (token != NULL)
		hdrs = curl_slist_append(hdrs, tok);
	if (c->microversion != NULL)
		hdrs = curl_slist_append(hdrs, mv);
	explicit_bzero(tok, sizeof tok);
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, out);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	return hdrs;
}

/* Runs the prepared request; the answer into out. 0 or -1 (printed). */
static int perform(struct cli *c, const char *method, const char *url,
    struct curl_slist *hdrs, struct buf *b, struct cli_resp *out)
{
	CURLcode rc;

	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hdrs);
	if ((rc = curl_easy_perform(c->curl)) != CURLE_OK) {
		fprintf(stderr, "kumo: %s %s: %s\n", method, url, curl_easy_strerror(rc));
		return -1;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &out->status);
	if (b->len > 0)
		out->body = json_loadb(b->data, b->len, 0, NULL);
	return 0;
}

/* c's base URL for path joined to it into url. 0 or -1 (printed). */
static int join(const struct cli *c, const char *path, char *url, size_t len)
{
	const char *base = strncmp(path, "/v2/", 4) == 0 ? c->image_url : c->url;

	if (base == NULL || *base == '\0') {
		fprintf(stderr, "kumo: no image endpoint in the catalog\n");
		return -1;
	}
	if (snprintf(url, len, "%s%s", base, path) >= (int)len) {
		fprintf(stderr, "kumo: URL too long\n");
		return -1;
	}
	return 0;
}

/* One request of payload (may be NULL) on url. */
static int send_once(struct cli *c, const char *method, const char *url,
    const char *token, const char *payload, struct cli_resp *out)
{
	struct curl_slist *hdrs;
	struct buf b = { NULL, 0 };
	int ret = -1;

	memset(out, 0, sizeof *out);
	if ((hdrs = begin(c, method, url, token, &b, out)) == NULL)
		goto fail;
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, 120L);
	if (payload != NULL) {
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, payload);
	}
	ret = perform(c, method, url, hdrs, &b, out);
fail:
	free(b.data);
	curl_slist_free_all(hdrs);
	if (ret < 0)
		cli_resp_free(out);
	return ret;
}

int cli_fetch(struct cli *c, const char *method, const char *url,
    const char *token, json_t *body, struct cli_resp *out)
{
	char *payload = NULL;
	int ret;

	if (body != NULL && (payload = json_dumps(body, JSON_COMPACT)) == NULL) {
		json_decref(body);
		memset(out, 0, sizeof *out);
		return -1;
	}
	json_decref(body);
	ret = send_once(c, method, url, token, payload, out);
	if (payload != NULL) {
		explicit_bzero(payload, strlen(payload));
		free(payload);
	}
	return ret;
}

int cli_request(struct cli *c, const char *method, const char *path,
    json_t *body, struct cli_resp *out)
{
	char url[4096], *payload = NULL;
	int ret = -1;

	memset(out, 0, sizeof *out);
	if (body != NULL && (payload = json_dumps(body, JSON_COMPACT)) == NULL)
		goto fail;
	if (join(c, path, url, sizeof url) < 0)
		goto fail;
	ret = send_once(c, method, url, c->token, payload, out);
	/* A cached token the API no longer takes (revoked, keys rotated):
	 * one fresh login, then the same request once more. */
	if (ret == 0 && out->status == 401 && c->sess != NULL && c->sess->cached &&
	    cli_auth_renew(c) == CLI_OK) {
		cli_resp_free(out);
		if (join(c, path, url, sizeof url) < 0)
			ret = -1;
		else
			ret = send_once(c, method, url, c->token, payload, out);
	}
fail:
	json_decref(body);
	free(payload);
	return ret;
}

struct upload {
	FILE *f;
	struct cli_progress prog;
	bool read_error;
};

static size_t on_read(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct upload *u = arg;
	size_t n = fread(ptr, size, nmemb, u->f);

	if (n == 0 && ferror(u->f)) {
		u->read_error = true;
		return CURL_READFUNC_ABORT;
	}
	return n;
}

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	struct upload *u = arg;

	(void)dltotal;
	(void)dlnow;
	cli_progress_update(&u->prog, (uint64_t)ulnow, (uint64_t)ultotal);
	return 0;
}

int cli_upload(struct cli *c, const char *path, FILE *f, int64_t size,
    const char *what, struct cli_resp *out)
{
	struct curl_slist *hdrs = NULL;
	struct buf b = { NULL, 0 };
	struct upload u = { .f = f };
	curl_off_t sent = 0;
	char url[4096];
	int ret = -1;

	memset(out, 0, sizeof *out);
	if (join(c, path, url, sizeof url) < 0 ||
	    (hdrs = begin(c, "PUT", url, c->token, &b, out)) == NULL)
		goto fail;
	hdrs = curl_slist_append(hdrs, "Content-Type: application/octet-stream");
	hdrs = curl_slist_append(hdrs, "Expect:"); /* no 100-continue round trip */
	curl_easy_setopt(c->curl, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c->curl, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(c->curl, CURLOPT_READDATA, &u);
	curl_easy_setopt(c->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)size);
	curl_easy_setopt(c->curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c->curl, CURLOPT_XFERINFODATA, &u);
	/* No overall timeout for a transfer of any size: give up on a stall. */
	curl_easy_setopt(c->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c->curl, CURLOPT_LOW_SPEED_TIME, 60L);
	cli_progress_start(&u.prog, what);
	ret = perform(c, "PUT", url, hdrs, &b, out);
	if (u.read_error) {
		fprintf(stderr, "kumo: %s: read error\n", what);
		cli_resp_free(out);
		ret = -1;
	}
	curl_easy_getinfo(c->curl, CURLINFO_SIZE_UPLOAD_T, &sent);
	cli_progress_end(&u.prog, (uint64_t)sent, ret == 0 && out->status / 100 == 2);
fail:
	free(b.data);
	curl_slist_free_all(hdrs);
	return ret;
}

void cli_resp_free(struct cli_resp *r)
{
	json_decref(r->body);
	r->body = NULL;
	if (r->subject_token != NULL)
		explicit_bzero(r->subject_token, strlen(r->subject_token));
	free(r->subject_token);
	r->subject_token = NULL;
}

int cli_exit_code(long status)
{
	if (status == 404)
		return CLI_NOTFOUND;
	if (status == 409)
		return CLI_CONFLICT;
	if (status == 401 || status == 403)
		return CLI_DENIED;
	if (status >= 500)
		return CLI_SERVER;
	if (status >= 400)
		return CLI_BADREQ;
	return CLI_ERR;
}

int cli_fail(const struct cli_resp *r)
{
	const char *kind, *msg = NULL;
	json_t *inner;
	char *text;

	/* Nova's error shape: {"itemNotFound": {"code": 404, "message": "..."}} */
	if (json_is_object(r->body) && json_object_size(r->body) == 1) {
		json_object_foreach(r->body, kind, inner)
			msg = json_string_value(json_object_get(inner, "message"));
	}
	text = cli_escape(msg ? msg : "request failed");
	fprintf(stderr, "kumo: %s (HTTP %ld)\n", text ? text : "request failed",
	    r->status);
	free(text);
	return cli_exit_code(r->status);
}
