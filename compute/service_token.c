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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compute/compute.h"

#define RENEW_BEFORE_S 60  /* a token this close to expiry is renewed */

json_t *compute_token_request(const struct kumo_conf *conf)
{
	return keystone_password_request(conf->service_username,
	    conf->service_user_domain_name, conf->service_password,
	    conf->service_project_name, conf->service_project_domain_name);
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

/* POSTs the login into a: 0, or -1 (logged). */
static int post_login(const struct kumo_conf *conf, const char *url,
    struct http_answer *a)
{
	static const char *const hdrs[] = { "Content-Type: application/json",
	    "Accept: application/json", NULL };
	json_t *req = compute_token_request(conf);
	char *body = req ? json_dumps(req, JSON_COMPACT) : NULL, why[256];
	int rc = -1;

	json_decref(req);
	if (body == NULL)
		snprintf(why, sizeof why, "cannot build the login");
	else
		rc = http_call(url, hdrs, body, a, why, sizeof why);
	if (rc < 0)
		log_warnx("service user %s: login at %s failed: %s",
		    conf->service_username, url, why);
	if (body != NULL) {
		explicit_bzero(body, strlen(body));
		free(body);
	}
	return rc;
}

/* Logs in as the service user into t: 0, or -1 (logged once) with a
 * reason. */
static int login(const struct kumo_conf *conf, struct compute_token *t,
    char *reason, size_t rlen)
{
	const char *base = conf->service_auth_url;
	size_t blen = strlen(base);
	struct http_answer a;
	char url[CONF_STR + 32], msg[256];
	int rc = -1;

	memset(&a, 0, sizeof a);
	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	if (str_fmt(url, sizeof url, "%.*s/auth/tokens?nocatalog", (int)blen,
	    base) < 0) {
		snprintf(reason, rlen, "service user %s: cannot set up the login",
		    conf->service_username);
		return -1;
	}
	if (post_login(conf, url, &a) < 0) {
		snprintf(reason, rlen, "service user %s: login failed",
		    conf->service_username);
	} else if (a.status != 201) {
		keystone_error_message(&a, msg, sizeof msg);
		log_warnx("service user %s: login at %s failed: %ld %s",
		    conf->service_username, url, a.status, msg);
		snprintf(reason, rlen, "service user %s: login failed: %ld %s",
		    conf->service_username, a.status, msg);
	} else if (a.subject[0] == '\0' ||
	    strlen(a.subject) >= sizeof t->value || a.body == NULL ||
	    compute_token_expiry(a.body, a.len, &t->expires) < 0) {
		log_warnx("service user %s: login at %s answered 201 without a "
		    "usable X-Subject-Token and expires_at",
		    conf->service_username, url);
		snprintf(reason, rlen, "service user %s: login answered no "
		    "usable token", conf->service_username);
	} else {
		str_copy(t->value, a.subject, sizeof t->value);
		log_info("service user %s: logged in at %s, token valid for %llds",
		    conf->service_username, url,
		    (long long)(t->expires - time(NULL)));
		rc = 0;
	}
	http_answer_free(&a);
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
