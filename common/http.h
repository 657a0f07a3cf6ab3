/*
 * common/http.h: what kumo's HTTP clients share. libcurl is loaded at
 * run time (http.c): its header gives the types, http_lib() the functions.
 *
 *   http.c       the libcurl set-up
 *   http_call.c  one call and its answer; the Keystone clients' pieces
 */
#ifndef KUMO_COMMON_HTTP_H
#define KUMO_COMMON_HTTP_H

#include <curl/curl.h>
#include <jansson.h>
#include <stddef.h>

/* The libcurl functions kumo calls, by their names after "curl_". */
#define HTTP_CURL_FUNCS(X) \
	X(global_init) X(easy_init) X(easy_setopt) X(easy_perform) \
	X(easy_getinfo) X(easy_cleanup) X(easy_strerror) X(slist_append) \
	X(slist_free_all)

struct http_lib {
	CURLcode (*global_init)(long flags);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *h, CURLoption opt, ...);
	CURLcode (*easy_perform)(CURL *h);
	CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
	void (*easy_cleanup)(CURL *h);
	const char *(*easy_strerror)(CURLcode rc);
	struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
	void (*slist_free_all)(struct curl_slist *l);
};

/* Loads and initialises libcurl once: 0, or -1 and why (a daemon that
 * needs HTTP calls asks at start, to fail there). */
int http_load(char *err, size_t errlen);
/* libcurl's functions, or NULL (why logged once) when it cannot load. */
const struct http_lib *http_lib(void);

/* A curl handle for url with hdrs (borrowed until the transfer is done):
 * http and https only, no signals, a 10 s connect timeout, an abort when
 * under 1 KiB/s for 60 s. NULL when curl cannot make one. */
CURL *http_new(const char *url, struct curl_slist *hdrs);

#define HTTP_TOKEN_MAX 4096   /* the longest token kept (Fernet: ~200) */

struct http_answer {
	long status;
	char *body;                     /* owned, NUL-terminated; NULL = none */
	size_t len, cap;
	char subject[HTTP_TOKEN_MAX];   /* X-Subject-Token; "" = none or unusable */
};

/* One call: POST post (JSON) when not NULL, else GET, with hdrs ("Name:
 * value", NULL-terminated; wiped after). 0 and a's status, body (at most
 * 1 MiB) and X-Subject-Token; -1 when no answer came (why set). a is the
 * caller's to http_answer_free either way. */
int http_call(const char *url, const char *const *hdrs, const char *post,
    struct http_answer *a, char *why, size_t whylen);
void http_answer_free(struct http_answer *a);
/* Keystone's {"error": {"message"}} of a, or "". */
void keystone_error_message(const struct http_answer *a, char *msg,
    size_t len);
/* The password login openstackclient sends: the user and the project by
 * name and domain name. A new reference (the caller wipes its dump). */
json_t *keystone_password_request(const char *user, const char *user_domain,
    const char *password, const char *project, const char *project_domain);

#endif
