/*
 * The token of kumo-compute's own calls to kumo-api, as Nova's services
 * get theirs through keystoneauth: the [service_user] logs in with its
 * password (user and project by name and domain name), the token from
 * X-Subject-Token is reused until a minute before its expires_at, and a
 * call refused with 401 makes the caller ask for a new one (`refused`).
 * Without [service_user] auth_url, [glance] auth_token is sent as it is
 * (noauth2 clouds).
 *
 * Neither the password nor a token is ever logged.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "compute/compute.h"

#define RENEW_BEFORE_S 60  /* a token this close to expiry is renewed */
#define LOGIN_TIMEOUT_S 30L
#define ANSWER_MAX 65536   /* a ?nocatalog answer is under 1 KiB */

/* What the login answered: the token header and the body. */
struct answer {
	char token[COMPUTE_TOKEN_MAX];
	bool bad_token;            /* too long, or not printable */
	char body[ANSWER_MAX];
	size_t len;
};

json_t *compute_token_request(const struct kumo_conf *conf)
{
	return json_pack("{s:{s:{s:[s], s:{s:{s:s, s:{s:s}, s:s}}}, "
	    "s:{s:{s:s, s:{s:s}}}}}",
	    "auth", "identity", "methods", "password",
	    "password", "user", "name", conf->service_username,
	    "domain", "name", conf->service_user_domain_name,
	    "password", conf->service_password,
	    "scope", "project", "name", conf->service_project_name,
	    "domain", "name", conf->service_project_domain_name);
}

int compute_token_expiry(const char *body, size_t len, time_t *expires)
{
	json_t *root, *exp;
	int64_t t;
	int rc = -1;

	if ((root = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return -1;
	exp = json_object_get(json_object_get(root, "token"), "expires_at");
	if (json_is_string(exp) && time_parse_utc(json_string_value(exp), &t) == 0) {
		*expires = (time_t)t;
		rc = 0;
	}
	json_decref(root);
	return rc;
}

/* Keystone's {"error": {"message": ...}} into msg, or "" without one. */
static void keystone_message(const struct answer *a, char *msg, size_t len)
{
	json_t *root = json_loadb(a->body, a->len, 0, NULL);
	const char *m = json_string_value(json_object_get(json_object_get(root,
	    "error"), "message"));

	str_copy_utf8(msg, m ? m : "", len);
	json_decref(root);
}

static size_t on_body(char *buf, size_t size, size_t n, void *arg)
{
	struct answer *a = arg;
	size_t len = size * n;

	if (len > sizeof a->body - a->len)
		return 0;
	memcpy(a->body + a->len, buf, len);
	a->len += len;
	return len;
}

/* Keeps X-Subject-Token of the final response (a 100 Continue's headers
 * come first, each response starting with its status line). */
static size_t on_header(char *buf, size_t size, size_t n, void *arg)
{
	static const char name[] = "X-Subject-Token:";
	struct answer *a = arg;
	size_t len = size * n, i = sizeof name - 1;

	if (len >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
		explicit_bzero(a->token, sizeof a->token);
		a->bad_token = false;
	}
	if (len < i || strncasecmp(buf, name, i) != 0)
		return len;
	while (i < len && (buf[i] == ' ' || buf[i] == '\t'))
		i++;
	while (len > i && (buf[len - 1] == '\r' || buf[len - 1] == '\n' ||
	    buf[len - 1] == ' '))
		len--;
	a->bad_token = len - i == 0 || len - i >= sizeof a->token;
	for (size_t j = i; j < len && !a->bad_token; j++)
		a->bad_token = buf[j] <= ' ' || buf[j] > '~';
	if (!a->bad_token) {
		memcpy(a->token, buf + i, len - i);
		a->token[len - i] = '\0';
	}
	return size * n;
}

/* POSTs the login into a: the HTTP status, or -1 (logged). */
static long post_login(const struct kumo_conf *conf, const char *url,
    struct answer *a)
{
	struct curl_slist *hdrs = NULL;
	json_t *req = compute_token_request(conf);
	char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
	long status = -1;
	CURLcode rc = CURLE_OUT_OF_MEMORY;
	CURL *h = NULL;

	json_decref(req);
	/* appending to a list returns its head, or NULL */
	if (body == NULL ||
	    (hdrs = curl_slist_append(NULL, "Content-Type: application/json")) == NULL ||
	    curl_slist_append(hdrs, "Accept: application/json") == NULL ||
	    (h = http_new(url, hdrs)) == NULL)
		goto fail;
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, a);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, a);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, LOGIN_TIMEOUT_S);
	if ((rc = curl_easy_perform(h)) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
fail:
	if (rc != CURLE_OK)
		log_warnx("service user %s: login at %s failed: %s",
		    conf->service_username, url, curl_easy_strerror(rc));
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	if (body != NULL) {
		explicit_bzero(body, strlen(body));
		free(body);
	}
	return status;
}

/* Logs in as the service user into t: 0, or -1 (logged once) with a
 * reason. */
static int login(const struct kumo_conf *conf, struct compute_token *t,
    char *reason, size_t rlen)
{
	const char *base = conf->service_auth_url;
	size_t blen = strlen(base);
	struct answer *a;
	char url[CONF_STR + 32], msg[256];
	long status;
	int rc = -1;

	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	if (str_fmt(url, sizeof url, "%.*s/auth/tokens?nocatalog", (int)blen,
	    base) < 0 || (a = calloc(1, sizeof *a)) == NULL) {
		snprintf(reason, rlen, "service user %s: cannot set up the login",
		    conf->service_username);
		return -1;
	}
	if ((status = post_login(conf, url, a)) < 0) {
		snprintf(reason, rlen, "service user %s: login failed",
		    conf->service_username);
	} else if (status != 201) {
		keystone_message(a, msg, sizeof msg);
		log_warnx("service user %s: login at %s failed: %ld %s",
		    conf->service_username, url, status, msg);
		snprintf(reason, rlen, "service user %s: login failed: %ld %s",
		    conf->service_username, status, msg);
	} else if (a->bad_token || a->token[0] == '\0' ||
	    compute_token_expiry(a->body, a->len, &t->expires) < 0) {
		log_warnx("service user %s: login at %s answered 201 without a "
		    "usable X-Subject-Token and expires_at",
		    conf->service_username, url);
		snprintf(reason, rlen, "service user %s: login answered no "
		    "usable token", conf->service_username);
	} else {
		memcpy(t->value, a->token, sizeof t->value);
		log_info("service user %s: logged in at %s, token valid for %llds",
		    conf->service_username, url,
		    (long long)(t->expires - time(NULL)));
		rc = 0;
	}
	explicit_bzero(a, sizeof *a);
	free(a);
	return rc;
}

int compute_service_token(struct compute *c, const char *refused, char *out,
    size_t len, char *reason, size_t reasonlen)
{
	const struct kumo_conf *conf = c->conf;
	struct compute_token *t = &c->token;
	int rc = 0;

	if (conf->service_auth_url[0] == '\0') {
		if (str_copy(out, conf->glance_auth_token, len) == 0)
			return 0;
		snprintf(reason, reasonlen, "[glance] auth_token too long");
		return -1;
	}
	pthread_mutex_lock(&t->mu);
	if (t->value[0] != '\0' && ((refused != NULL &&
	    strcmp(refused, t->value) == 0) ||
	    time(NULL) + RENEW_BEFORE_S >= t->expires))
		explicit_bzero(t->value, sizeof t->value);
	if (t->value[0] == '\0')
		rc = login(conf, t, reason, reasonlen);
	if (rc == 0 && str_copy(out, t->value, len) < 0) {
		snprintf(reason, reasonlen, "service token too long");
		rc = -1;
	}
	pthread_mutex_unlock(&t->mu);
	return rc;
}

void compute_service_token_clear(struct compute *c)
{
	pthread_mutex_lock(&c->token.mu);
	explicit_bzero(c->token.value, sizeof c->token.value);
	pthread_mutex_unlock(&c->token.mu);
}
