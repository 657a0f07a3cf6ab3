/*
 * One call to an HTTP service, Keystone's above all: the answer's status,
 * its body (bounded) and its X-Subject-Token; and what kumo's Keystone
 * clients (kumo-api's service token, kumo-compute's) share: the password
 * login's body and Keystone's error message. The request headers hold
 * tokens: their copies in curl's list are wiped before they are freed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "common/common.h"
#include "common/http.h"

#define BODY_MAX (1 << 20)   /* a token with a large catalog: some KiB */
#define CALL_TIMEOUT_S 30L

static size_t on_body(char *buf, size_t size, size_t n, void *arg)
{
	struct http_answer *a = arg;
	size_t len = size * n, cap;
	char *p;

	if (len > BODY_MAX - a->len)
		return 0;
	if (a->len + len + 1 > a->cap) {
		cap = a->cap ? a->cap * 2 : 4096;
		while (cap < a->len + len + 1)
			cap *= 2;
		if ((p = realloc(a->body, cap)) == NULL)
			return 0;
		a->body = p;
		a->cap = cap;
	}
	memcpy(a->body + a->len, buf, len);
	a->len += len;
	a->body[a->len] = '\0';
	return len;
}

/* Keeps X-Subject-Token of the final response (each response's headers
 * start with its status line). */
static size_t on_header(char *buf, size_t size, size_t n, void *arg)
{
	static const char name[] = "X-Subject-Token:";
	struct http_answer *a = arg;
	size_t len = size * n, i = sizeof name - 1;
	bool bad;

	if (len >= 5 && strncmp(buf, "HTTP/", 5) == 0)
		explicit_bzero(a->subject, sizeof a->subject);
	if (len < i || strncasecmp(buf, name, i) != 0)
		return len;
	while (i < len && (buf[i] == ' ' || buf[i] == '\t'))
		i++;
	while (len > i && (buf[len - 1] == '\r' || buf[len - 1] == '\n' ||
	    buf[len - 1] == ' '))
		len--;
	bad = len - i == 0 || len - i >= sizeof a->subject;
	for (size_t j = i; j < len && !bad; j++)
		bad = buf[j] <= ' ' || buf[j] > '~';
	if (!bad) {
		memcpy(a->subject, buf + i, len - i);
		a->subject[len - i] = '\0';
	}
	return size * n;
}

static void list_free(const struct http_lib *cu, struct curl_slist *list)
{
	for (struct curl_slist *l = list; l != NULL; l = l->next)
		explicit_bzero(l->data, strlen(l->data));
	cu->slist_free_all(list);
}

int http_call(const char *url, const char *const *hdrs, const char *post,
    struct http_answer *a, char *why, size_t whylen)
{
	const struct http_lib *cu = http_lib();
	struct curl_slist *list = NULL, *l;
	CURLcode rc = CURLE_OUT_OF_MEMORY;
	CURL *h = NULL;

	memset(a, 0, sizeof *a);
	if (cu == NULL) {
		snprintf(why, whylen, "libcurl cannot be loaded");
		return -1;
	}
	for (size_t i = 0; hdrs[i] != NULL; i++) {
		if ((l = cu->slist_append(list, hdrs[i])) == NULL)
			goto fail;
		list = l;
	}
	if ((h = http_new(url, list)) == NULL)
		goto fail;
	if (post != NULL)
		cu->easy_setopt(h, CURLOPT_POSTFIELDS, post);
	cu->easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	cu->easy_setopt(h, CURLOPT_WRITEDATA, a);
	cu->easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	cu->easy_setopt(h, CURLOPT_HEADERDATA, a);
	cu->easy_setopt(h, CURLOPT_TIMEOUT, CALL_TIMEOUT_S);
	if ((rc = cu->easy_perform(h)) == CURLE_OK)
		cu->easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a->status);
fail:
	if (rc != CURLE_OK)
		snprintf(why, whylen, "%s", cu->easy_strerror(rc));
	cu->easy_cleanup(h);
	list_free(cu, list);
	return rc == CURLE_OK ? 0 : -1;
}

void http_answer_free(struct http_answer *a)
{
	if (a->body != NULL) {
		explicit_bzero(a->body, a->len);
		free(a->body);
	}
	explicit_bzero(a, sizeof *a);
}

void keystone_error_message(const struct http_answer *a, char *msg, size_t len)
{
	json_t *root = a->body ? json_loadb(a->body, a->len, 0, NULL) : NULL;
	const char *m = json_string_value(json_object_get(json_object_get(root,
	    "error"), "message"));

	str_copy_utf8(msg, m ? m : "", len);
	json_decref(root);
}

json_t *keystone_password_request(const char *user, const char *user_domain,
    const char *password, const char *project, const char *project_domain)
{
	return json_pack("{s:{s:{s:[s], s:{s:{s:s, s:{s:s}, s:s}}}, "
	    "s:{s:{s:s, s:{s:s}}}}}",
	    "auth", "identity", "methods", "password",
	    "password", "user", "name", user, "domain", "name", user_domain,
	    "password", password,
	    "scope", "project", "name", project, "domain", "name", project_domain);
}
