/*
 * A caller's token checked by the external Keystone, as keystonemiddleware
 * does: a validation cached within token_cache_time (and the token's own
 * expires_at, checked on every request) answers at once; otherwise GET
 * <identity>/auth/tokens with X-Auth-Token = the service token,
 * X-Subject-Token = the caller's and OpenStack-Identity-Access-Rules: 1.
 * The catalog is not asked for (?nocatalog): kumo uses none of the user's.
 *
 *   200  the token's user, project (project-scoped tokens only) and role
 *        names become the request's identity, and are cached
 *   404  Keystone does not accept the token: 401, nothing cached
 *   401  Keystone refused the service token: a new one and one retry
 *   else (no answer, 5xx, a body that does not parse): 503
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/authtoken/authtoken.h"

int authtoken_start(struct api *api)
{
	const struct kumo_conf *conf = api->conf;
	const char *uri;
	struct authtoken *at;
	char err[256];

	if (strcmp(conf->auth_strategy, "keystone") != 0 ||
	    conf->authtoken_auth_url[0] == '\0')
		return 0;
	if (http_load(err, sizeof err) < 0) {
		log_warnx("[keystone_authtoken] auth_url: %s", err);
		return -1;
	}
	if ((at = calloc(1, sizeof *at)) == NULL)
		return -1;
	at->conf = conf;
	uri = conf->authtoken_www_authenticate_uri[0] != '\0' ?
	    conf->authtoken_www_authenticate_uri : conf->authtoken_auth_url;
	if (at_v3_url(conf->authtoken_auth_url, at->auth_url,
	    sizeof at->auth_url) < 0 || str_copy(at->login_uri, uri,
	    sizeof at->login_uri) < 0) {
		log_warnx("[keystone_authtoken] auth_url or www_authenticate_uri "
		    "is not a usable URL");
		free(at);
		return -1;
	}
	for (size_t n = strlen(at->login_uri); n > 0 &&
	    at->login_uri[n - 1] == '/'; n--)
		at->login_uri[n - 1] = '\0';
	if (at_service_init(at) < 0) {
		free(at);
		return -1;
	}
	at_cache_init(&at->cache);
	api->authtoken = at;
	log_info("keystone_authtoken: tokens are checked by the Keystone at %s "
	    "(cached %ds)", at->auth_url, conf->authtoken_cache_time);
	return 0;
}

void authtoken_stop(struct api *api)
{
	if (api->authtoken == NULL)
		return;
	at_cache_fini(&api->authtoken->cache);
	at_service_fini(api->authtoken);
	free(api->authtoken);
	api->authtoken = NULL;
}

const char *authtoken_login_uri(const struct api *api)
{
	return api->authtoken ? api->authtoken->login_uri : NULL;
}

/* An id Keystone gave: 1..64 printable characters, no spaces. */
static int id_copy(char *out, const char *s)
{
	if (s == NULL || s[0] == '\0' || str_copy(out, s, TOKEN_ID_LEN) < 0)
		return -1;
	for (const char *p = s; *p; p++)
		if (*p <= ' ' || *p > '~')
			return -1;
	return 0;
}

static void role_add(struct at_ident *id, const char *name)
{
	size_t used = strlen(id->role_names), n = strlen(name);

	id->roles |= api_role_bit(name);
	/* a policy's role: check splits on commas */
	if (n == 0 || strchr(name, ',') != NULL ||
	    used + n + 2 > sizeof id->role_names)
		return;
	if (used > 0)
		id->role_names[used++] = ',';
	memcpy(id->role_names + used, name, n + 1);
}

/* The validation body {"token": {...}} into id: 0, or -1. */
static int ident_parse(const struct http_answer *a, struct at_ident *id)
{
	json_t *root = a->body ? json_loadb(a->body, a->len, 0, NULL) : NULL;
	json_t *tok = json_object_get(root, "token"), *proj, *roles, *ro;
	const char *exp = json_string_value(json_object_get(tok, "expires_at"));
	const char *name;
	size_t i;
	int rc = -1;

	memset(id, 0, sizeof *id);
	proj = json_object_get(tok, "project");
	roles = json_object_get(tok, "roles");
	if (id_copy(id->user_id, json_string_value(json_object_get(
	    json_object_get(tok, "user"), "id"))) < 0 || exp == NULL ||
	    time_parse_utc(exp, &id->expires_at) < 0 ||
	    (proj != NULL && id_copy(id->project_id, json_string_value(
	    json_object_get(proj, "id"))) < 0) ||
	    (roles != NULL && !json_is_array(roles)))
		goto fail;
	json_array_foreach(roles, i, ro) {
		if ((name = json_string_value(json_object_get(ro, "name"))) == NULL)
			goto fail;
		role_add(id, name);
	}
	rc = 0;
fail:
	json_decref(root);
	return rc;
}

/* One validation call: its status (answer in a), or -1 (logged). */
static long ask(struct authtoken *at, const char *url, const char *svc,
    const char *tok, struct http_answer *a)
{
	char auth[AT_TOKEN_MAX + 32], subj[AT_TOKEN_MAX + 32], why[256];
	const char *hdrs[] = { "Accept: application/json", auth, subj,
	    "OpenStack-Identity-Access-Rules: 1", NULL };
	unsigned long n;
	int rc;

	snprintf(auth, sizeof auth, "X-Auth-Token: %s", svc);
	snprintf(subj, sizeof subj, "X-Subject-Token: %s", tok);
	rc = http_call(url, hdrs, NULL, a, why, sizeof why);
	explicit_bzero(auth, sizeof auth);
	explicit_bzero(subj, sizeof subj);
	n = __atomic_add_fetch(&at->validations, 1, __ATOMIC_RELAXED);
	if (rc < 0) {
		log_warnx("keystone_authtoken: validation at %s failed: %s", url,
		    why);
		return -1;
	}
	log_debug("keystone_authtoken: validation %lu at Keystone: %ld", n,
	    a->status);
	return a->status;
}

/* Asks Keystone about tok: 0 and id, or API_ERROR (401 or 503). */
static int validate(struct api_req *r, const char *tok, struct at_ident *id)
{
	struct authtoken *at = r->api->authtoken;
	char svc[AT_TOKEN_MAX], url[AT_URL_MAX], msg[256] = "";
	struct http_answer a;
	long status = 401;
	int rc = -1;

	for (int attempt = 0; attempt < 2 && status == 401; attempt++) {
		if (at_service_token(at, svc, url) < 0) {
			status = -1;
			break;
		}
		status = ask(at, url, svc, tok, &a);
		if (status == 401)
			at_service_refused(at, svc);
		if (status == 200 && ident_parse(&a, id) == 0)
			rc = 0;
		else if (status == 200)
			log_warnx("keystone_authtoken: Keystone's validation "
			    "answer does not parse");
		else if (status == 404)
			keystone_error_message(&a, msg, sizeof msg);
		else if (status > 0 && status != 401)
			log_warnx("keystone_authtoken: validation answered %ld",
			    status);
		http_answer_free(&a);
	}
	explicit_bzero(svc, sizeof svc);
	if (rc == 0)
		return 0;
	if (status == 404) {
		log_info("a token Keystone refused: %s", msg);
		return api_error(r, ERR_KS_AUTH);
	}
	if (status == 401)
		log_warnx("keystone_authtoken: Keystone refused the service "
		    "token of %s twice", at->conf->authtoken_username);
	return api_error(r, ERR_KS_UNAVAILABLE);
}

/* A token sent on to Keystone: printable ASCII, no spaces, bounded. */
static bool token_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= AT_TOKEN_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return false;
	return true;
}

int authtoken_authenticate(struct api_req *r, const char *tok)
{
	struct authtoken *at = r->api->authtoken;
	int64_t now = time(NULL);
	char key[AT_KEY_LEN];
	struct at_ident id;

	if (!token_ok(tok)) {
		log_info("a malformed token");
		return api_error(r, ERR_KS_AUTH);
	}
	sha256_hex(tok, strlen(tok), key);
	if (!at_cache_get(&at->cache, key, now, &id)) {
		if (validate(r, tok, &id) != 0)
			return API_ERROR;
		if (id.expires_at <= now) {
			log_info("an expired token of user %s", id.user_id);
			return api_error(r, ERR_KS_AUTH);
		}
		/* the entry's time starts with Keystone's answer */
		if (at->conf->authtoken_cache_time > 0)
			at_cache_put(&at->cache, key,
			    time(NULL) + at->conf->authtoken_cache_time, &id);
	}
	str_copy(r->user_id, id.user_id, sizeof r->user_id);
	str_copy(r->project_id, id.project_id, sizeof r->project_id);
	memcpy(r->role_names, id.role_names, sizeof r->role_names);
	r->roles = id.roles;
	r->is_admin = (id.roles & API_ROLE_ADMIN) != 0;
	memset(&r->token, 0, sizeof r->token);
	str_copy(r->token.user_id, id.user_id, sizeof r->token.user_id);
	str_copy(r->token.scope_id, id.project_id, sizeof r->token.scope_id);
	r->token.scope = id.project_id[0] ? TOKEN_PROJECT : TOKEN_UNSCOPED;
	r->token.expires_at = id.expires_at;
	return 0;
}
