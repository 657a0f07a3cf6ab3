/*
 * kumo-api's own token at the external Keystone, as keystonemiddleware
 * gets Nova's: POST <auth_url>/auth/tokens with the password method by
 * user and domain names, scoped to the project by names, the catalog
 * included; X-Subject-Token is reused until a minute before its
 * expires_at. Validations go to the identity endpoint of that catalog for
 * [keystone_authtoken] interface and region_name (auth_url without one).
 *
 * A failed login is logged once with Keystone's status and message (again
 * only when the status changes); never the password nor a token.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/authtoken/authtoken.h"

#define RENEW_BEFORE_S 60

int at_v3_url(const char *url, char *out, size_t len)
{
	size_t n = strlen(url);

	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
		return -1;
	while (n > 0 && url[n - 1] == '/')
		n--;
	if (n >= 3 && strncmp(url + n - 3, "/v3", 3) == 0)
		return str_fmt(out, len, "%.*s", (int)n, url);
	/* an unversioned root (Nova's install guide): its v3 API */
	return str_fmt(out, len, "%.*s/v3", (int)n, url);
}

int at_service_init(struct authtoken *at)
{
	memset(&at->service, 0, sizeof at->service);
	return pthread_mutex_init(&at->service.mu, NULL) == 0 ? 0 : -1;
}

void at_service_fini(struct authtoken *at)
{
	explicit_bzero(at->service.token, sizeof at->service.token);
	pthread_mutex_destroy(&at->service.mu);
}

static bool endpoint_fits(const struct kumo_conf *conf, const json_t *ep)
{
	const char *ifc = json_string_value(json_object_get(ep, "interface"));
	const char *rid = json_string_value(json_object_get(ep, "region_id"));
	const char *reg = json_string_value(json_object_get(ep, "region"));
	const char *want = conf->authtoken_region_name;

	if (ifc == NULL || strcmp(ifc, conf->authtoken_interface) != 0)
		return false;
	return want[0] == '\0' || (rid && strcmp(rid, want) == 0) ||
	    (reg && strcmp(reg, want) == 0);
}

/* The identity endpoint of the token body's catalog into out: 0, or -1. */
static int catalog_identity(const struct kumo_conf *conf, const json_t *body,
    char *out, size_t len)
{
	const json_t *cat = json_object_get(json_object_get(body, "token"),
	    "catalog"), *svc, *ep;
	const char *type, *url;
	size_t i, j;

	json_array_foreach(cat, i, svc) {
		type = json_string_value(json_object_get(svc, "type"));
		if (type == NULL || strcmp(type, "identity") != 0)
			continue;
		json_array_foreach(json_object_get(svc, "endpoints"), j, ep) {
			url = json_string_value(json_object_get(ep, "url"));
			if (url != NULL && endpoint_fits(conf, ep))
				return at_v3_url(url, out, len);
		}
	}
	return -1;
}

/* The login answer into the service state: 0, or -1 (why set). */
static int keep_login(struct authtoken *at, const struct http_answer *a,
    char *why, size_t whylen)
{
	struct at_service *s = &at->service;
	json_t *body = a->body ? json_loadb(a->body, a->len, 0, NULL) : NULL;
	const char *exp = json_string_value(json_object_get(json_object_get(body,
	    "token"), "expires_at"));
	char base[AT_URL_MAX];
	int rc = -1;

	if (a->subject[0] == '\0' || exp == NULL ||
	    time_parse_utc(exp, &s->expires) < 0) {
		snprintf(why, whylen, "201 without a usable X-Subject-Token and "
		    "expires_at");
		goto fail;
	}
	if (catalog_identity(at->conf, body, base, sizeof base) < 0)
		str_copy(base, at->auth_url, sizeof base);
	if (str_fmt(s->validate_url, sizeof s->validate_url,
	    "%s/auth/tokens?nocatalog", base) < 0) {
		snprintf(why, whylen, "the identity endpoint's URL is too long");
		goto fail;
	}
	memcpy(s->token, a->subject, sizeof s->token);
	rc = 0;
fail:
	json_decref(body);
	return rc;
}

/* Logs in: 0, or -1 with why and the status (-1 = no answer). */
static int login(struct authtoken *at, long *status, char *why, size_t whylen)
{
	const struct kumo_conf *c = at->conf;
	json_t *req = keystone_password_request(c->authtoken_username,
	    c->authtoken_user_domain_name, c->authtoken_password,
	    c->authtoken_project_name, c->authtoken_project_domain_name);
	char *post = req ? json_dumps(req, JSON_COMPACT) : NULL, url[AT_URL_MAX];
	const char *hdrs[] = { "Content-Type: application/json",
	    "Accept: application/json", NULL };
	struct http_answer a;
	int rc = -1;

	json_decref(req);
	*status = -1;
	if (post == NULL || str_fmt(url, sizeof url, "%s/auth/tokens",
	    at->auth_url) < 0) {
		snprintf(why, whylen, "cannot build the login");
		free(post);
		return -1;
	}
	if (http_call(url, hdrs, post, &a, why, whylen) == 0) {
		*status = a.status;
		if (a.status == 201)
			rc = keep_login(at, &a, why, whylen);
		else
			keystone_error_message(&a, why, whylen);
	}
	http_answer_free(&a);
	explicit_bzero(post, strlen(post));
	free(post);
	return rc;
}

int at_service_token(struct authtoken *at, char tok[AT_TOKEN_MAX],
    char url[AT_URL_MAX])
{
	struct at_service *s = &at->service;
	const char *user = at->conf->authtoken_username;
	char why[256] = "";
	long status = 0;
	int rc = 0;

	pthread_mutex_lock(&s->mu);
	if (s->token[0] != '\0' && time(NULL) + RENEW_BEFORE_S >= s->expires)
		explicit_bzero(s->token, sizeof s->token);
	if (s->token[0] == '\0' && (rc = login(at, &status, why, sizeof why)) < 0) {
		if (s->failed != status)
			log_warnx("keystone_authtoken: service login as %s at %s "
			    "failed: %ld %s", user, at->auth_url, status, why);
		s->failed = status;
	} else if (status != 0) {
		log_info("keystone_authtoken: logged in as %s at %s; tokens are "
		    "validated at %s", user, at->auth_url, s->validate_url);
		s->failed = 0;
	}
	if (rc == 0) {
		memcpy(tok, s->token, AT_TOKEN_MAX);
		memcpy(url, s->validate_url, AT_URL_MAX);
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

void at_service_refused(struct authtoken *at, const char *tok)
{
	pthread_mutex_lock(&at->service.mu);
	if (strcmp(at->service.token, tok) == 0)
		explicit_bzero(at->service.token, sizeof at->service.token);
	pthread_mutex_unlock(&at->service.mu);
}
