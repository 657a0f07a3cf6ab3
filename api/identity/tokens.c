/*
 * Keystone's version documents and token calls (research/keystone-anchor.md
 * 3.2-3.7): POST /v3/auth/tokens issues (password, token or application
 * credential; project, domain or system scope, or none), GET and HEAD
 * validate, DELETE revokes; /v3/auth/catalog, /auth/projects, /auth/domains.
 *
 * No answer tells an unknown user from a wrong password: both are the same
 * 401, and an unknown user costs a password check of a dummy hash. Failed
 * logins are counted per user and per client address (core.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/identity/identity.h"

static json_t *version_doc(const struct api_req *r)
{
	char href[300];

	snprintf(href, sizeof href, "%s/identity/v3/", r->base_url);
	return json_pack("{s:s, s:s, s:s, s:[{s:s, s:o}], s:[{s:s, s:s}]}",
	    "id", "v3.14", "status", "stable", "updated", "2020-04-07T00:00:00Z",
	    "links", "rel", "self", "href", view_str(href),
	    "media-types", "base", "application/json",
	    "type", "application/vnd.openstack.identity-v3+json");
}

enum api_rc ks_versions(struct api_req *r)
{
	api_header_add(r, "Location", "%s/identity/v3/", r->base_url);
	return api_reply(r, 300, json_pack("{s:{s:[o]}}", "versions", "values",
	    version_doc(r)));
}

enum api_rc ks_version_v3(struct api_req *r)
{
	return api_reply(r, 200, json_pack("{s:o}", "version", version_doc(r)));
}

/* ---- POST /v3/auth/tokens ---- */

/* A domain object {"id"} or {"name"}: 0 and *d, -1 when it does not exist
 * (an authentication failure), or API_ERROR. */
static int find_domain(struct api_req *r, const json_t *obj, const char *in,
    struct db_domain *d)
{
	int bad = 0, rc;
	const char *id = ks_str(r, obj, "id", DB_ID - 1, &bad);
	const char *name = ks_str(r, obj, "name", DB_NAME - 1, &bad);

	if (bad)
		return API_ERROR;
	if (!json_is_object(obj) || (id == NULL && name == NULL))
		return api_error(r, ERR_KS_EXPECTING, "domain", in);
	rc = id ? db_domain_get(r->api->db, id, d) :
	    db_domain_get_by_name(r->api->db, name, d);
	if (rc == DB_NOTFOUND)
		return -1;
	return rc == DB_OK ? (d->enabled ? 0 : -1) : api_error(r, ERR_INTERNAL);
}

/* The user named by {"id"} or {"name", "domain"}: 0, -1 when there is
 * none, or API_ERROR. key receives the throttle key. */
static int find_user(struct api_req *r, const json_t *uobj,
    struct db_user *u, char *key, size_t keylen)
{
	struct db_domain d;
	int bad = 0, rc;
	const char *id = ks_str(r, uobj, "id", DB_ID - 1, &bad);
	const char *name = ks_str(r, uobj, "name", DB_NAME - 1, &bad);

	if (bad)
		return API_ERROR;
	if (id != NULL) {
		snprintf(key, keylen, "user:%s", id);
		rc = db_user_get(r->api->db, id, u);
	} else if (name != NULL) {
		json_t *dom = json_object_get(uobj, "domain");

		if (dom == NULL)
			return api_error(r, ERR_KS_EXPECTING, "domain", "user");
		snprintf(key, keylen, "user:%.64s/%s",
		    json_string_value(json_object_get(dom, "id")) ?
		    json_string_value(json_object_get(dom, "id")) :
		    json_string_value(json_object_get(dom, "name")) ?
		    json_string_value(json_object_get(dom, "name")) : "", name);
		if ((rc = find_domain(r, dom, "user", &d)) != 0)
			return rc;
		rc = db_user_get_by_name(r->api->db, d.id, name, u);
	} else {
		return api_error(r, ERR_KS_EXPECTING, "id or name", "user");
	}
	if (rc == DB_NOTFOUND)
		return -1;
	return rc == DB_OK ? 0 : api_error(r, ERR_INTERNAL);
}

/* A login waiting for its secret's check (deferred: bcrypt runs off the
 * HTTP workers). The check always runs, against a dummy hash when there is
 * no user or credential, so that the time tells nothing. */
struct login {
	char *secret;                  /* owned, wiped */
	char hash[PASSWORD_HASH_MAX];  /* "" = the dummy */
	bool found;                    /* a user or credential, usable */
	bool ok;                       /* the secret matched (work's answer) */
	bool fallback;                 /* unscoped when the default project fails */
	int scope_rc;                  /* parse_scope's: 0 or -1 */
	struct token t;
	char ukey[400], akey[80];
};

/* Counts a failed login against the user and the client's address. */
static int login_failed(struct api_req *r, const char *ukey, const char *akey)
{
	ks_throttle_fail(r->api, ukey);
	ks_throttle_fail(r->api, akey);
	return api_error(r, ERR_KS_AUTH);
}

static void login_free(void *arg)
{
	struct login *l = arg;

	if (l == NULL)
		return;
	if (l->secret != NULL) {
		explicit_bzero(l->secret, strlen(l->secret));
		free(l->secret);
	}
	explicit_bzero(l, sizeof *l);
	free(l);
}

static struct login *login_new(struct api_req *r, const char *secret)
{
	struct login *l = calloc(1, sizeof *l);

	if (l == NULL || (l->secret = strdup(secret ? secret : "")) == NULL) {
		free(l);
		return NULL;
	}
	str_copy(l->akey, "addr:", sizeof l->akey);
	api_client_addr(r, l->akey + 5, sizeof l->akey - 5);
	r->defer_state = l;
	r->defer_free = login_free;
	return l;
}

/* The user of {"password": {"user": {...}}}: the login to check, or NULL
 * with r's error set (a malformed body). */
static struct login *auth_password(struct api_req *r, const json_t *ident)
{
	json_t *pw = json_object_get(ident, "password");
	json_t *uobj = json_object_get(pw, "user");
	const char *secret = json_string_value(json_object_get(uobj, "password"));
	struct login *l;
	struct db_user u;
	int rc;

	memset(&u, 0, sizeof u);
	if (!json_is_object(pw)) {
		api_error(r, ERR_KS_EXPECTING, "password", "identity");
		return NULL;
	}
	if (!json_is_object(uobj)) {
		api_error(r, ERR_KS_EXPECTING, "user", "password");
		return NULL;
	}
	if (secret != NULL && strlen(secret) > 4096)
		secret = NULL;
	if ((l = login_new(r, secret)) == NULL) {
		api_error(r, ERR_INTERNAL);
		return NULL;
	}
	if ((rc = find_user(r, uobj, &u, l->ukey, sizeof l->ukey)) == API_ERROR)
		return NULL;
	l->found = rc == 0 && u.enabled && secret != NULL;
	if (rc == 0)
		str_copy(l->hash, u.password_hash, sizeof l->hash);
	l->t.methods = TOKEN_M_PASSWORD;
	str_copy(l->t.user_id, u.id, sizeof l->t.user_id);
	if (u.default_project_id[0] != '\0') {
		l->t.scope = TOKEN_PROJECT;  /* the default when no scope is asked */
		str_copy(l->t.scope_id, u.default_project_id, sizeof l->t.scope_id);
	}
	return l;
}

static int auth_token(struct api_req *r, const json_t *ident, struct token *t)
{
	json_t *tobj = json_object_get(ident, "token");
	const char *id = json_string_value(json_object_get(tobj, "id"));
	struct ks_auth a;
	struct token base;
	int rc;

	if (!json_is_object(tobj))
		return api_error(r, ERR_KS_EXPECTING, "token", "identity");
	if (id == NULL)
		return api_error(r, ERR_KS_INVALID, "'id' is a required property");
	if (ks_token_open(r->api, id, &base) < 0)
		return api_error(r, ERR_KS_AUTH);
	rc = ks_resolve(r, &base, &a);
	ks_auth_clear(&a);
	if (rc == API_ERROR)
		return API_ERROR;
	if (rc != 0)
		return api_error(r, ERR_KS_AUTH);
	if (base.methods & TOKEN_M_APPCRED)
		return api_error(r, ERR_KS_FORBIDDEN, "You are not authorized to "
		    "perform the requested action: Using a delegated token to "
		    "create another token is not allowed..");
	t->methods = base.methods | TOKEN_M_TOKEN;
	str_copy(t->user_id, base.user_id, sizeof t->user_id);
	t->expires_at = base.expires_at;   /* rescoping never extends */
	str_copy(t->audit_ids[1], base.audit_ids[0], sizeof t->audit_ids[1]);
	return 0;
}

/* {"id"} or {"name", "user": {...}} and "secret": the login to check, or
 * NULL with r's error set. */
static struct login *auth_app_cred(struct api_req *r, const json_t *auth,
    const json_t *ident)
{
	json_t *c = json_object_get(ident, "application_credential");
	const char *id = json_string_value(json_object_get(c, "id"));
	const char *name = json_string_value(json_object_get(c, "name"));
	const char *secret = json_string_value(json_object_get(c, "secret"));
	struct db_app_cred cred;
	struct login *l;
	struct db_user u;
	int rc;

	if (!json_is_object(c)) {
		api_error(r, ERR_KS_EXPECTING, "application_credential", "identity");
		return NULL;
	}
	if (json_object_get(auth, "scope") != NULL) {
		api_error(r, ERR_KS_AUTH);
		return NULL;
	}
	if (id == NULL && (name == NULL ||
	    !json_is_object(json_object_get(c, "user")))) {
		api_error(r, ERR_KS_EXPECTING, "id or name and user",
		    "application_credential");
		return NULL;
	}
	if (secret != NULL && strlen(secret) > 4096)
		secret = NULL;
	if ((l = login_new(r, secret)) == NULL) {
		api_error(r, ERR_INTERNAL);
		return NULL;
	}
	if (id != NULL) {
		snprintf(l->ukey, sizeof l->ukey, "appcred:%.64s", id);
		rc = db_app_cred_get(r->api->db, id, &cred);
	} else {
		if ((rc = find_user(r, json_object_get(c, "user"), &u, l->ukey,
		    sizeof l->ukey)) == API_ERROR)
			return NULL;
		rc = rc == 0 ? db_app_cred_get_by_name(r->api->db, u.id, name,
		    &cred) : DB_NOTFOUND;
	}
	if (rc != DB_OK && rc != DB_NOTFOUND) {
		api_error(r, ERR_INTERNAL);
		return NULL;
	}
	if (rc == DB_OK) {
		str_copy(l->hash, cred.secret_hash, sizeof l->hash);
		l->found = secret != NULL && (cred.expires_at == 0 ||
		    cred.expires_at > time(NULL));
		str_copy(l->t.user_id, cred.user_id, sizeof l->t.user_id);
		str_copy(l->t.appcred_id, cred.id, sizeof l->t.appcred_id);
		str_copy(l->t.scope_id, cred.project_id, sizeof l->t.scope_id);
	}
	l->t.methods = TOKEN_M_APPCRED;
	l->t.scope = TOKEN_PROJECT;
	return l;
}

/* auth.scope into t: absent keeps what the method chose (a user's default
 * project); 0, -1 when it names nothing that exists, or API_ERROR. */
static int parse_scope(struct api_req *r, const json_t *scope, struct token *t)
{
	json_t *p, *d, *sys;
	struct db_domain dom;
	struct db_project proj;
	int bad = 0, rc;

	if (scope == NULL)
		return 0;
	if (json_is_string(scope) && strcmp(json_string_value(scope),
	    "unscoped") == 0) {
		t->scope = TOKEN_UNSCOPED;
		t->scope_id[0] = '\0';
		return 0;
	}
	if ((p = json_object_get(scope, "project")) != NULL) {
		const char *id = ks_str(r, p, "id", DB_ID - 1, &bad);
		const char *name = ks_str(r, p, "name", DB_NAME - 1, &bad);

		if (bad)
			return API_ERROR;
		if (id == NULL && name == NULL)
			return api_error(r, ERR_KS_EXPECTING, "id or name", "project");
		if (id == NULL) {
			if (json_object_get(p, "domain") == NULL)
				return api_error(r, ERR_KS_EXPECTING, "domain",
				    "project");
			if ((rc = find_domain(r, json_object_get(p, "domain"),
			    "project", &dom)) != 0)
				return rc;
			rc = db_project_get_by_name(r->api->db, dom.id, name, &proj);
			if (rc != DB_OK)
				return rc == DB_NOTFOUND ? -1 :
				    api_error(r, ERR_INTERNAL);
			id = proj.id;
		}
		t->scope = TOKEN_PROJECT;
		return str_copy(t->scope_id, id, sizeof t->scope_id) < 0 ? -1 : 0;
	}
	if ((d = json_object_get(scope, "domain")) != NULL) {
		if ((rc = find_domain(r, d, "scope", &dom)) != 0)
			return rc;
		t->scope = TOKEN_DOMAIN;
		return str_copy(t->scope_id, dom.id, sizeof t->scope_id) < 0 ? -1 : 0;
	}
	sys = json_object_get(scope, "system");
	if (json_is_true(json_object_get(sys, "all"))) {
		t->scope = TOKEN_SYSTEM;
		str_copy(t->scope_id, "all", sizeof t->scope_id);
		return 0;
	}
	return api_error(r, ERR_KS_INVALID, "Invalid input for field 'scope': "
	    "expected 'project', 'domain', 'system' or \"unscoped\"");
}

/* methods: a non-empty list of known names, as a TOKEN_M_* mask. */
static int parse_methods(struct api_req *r, const json_t *ident, unsigned *m)
{
	json_t *list = json_object_get(ident, "methods"), *v;
	size_t i;

	if (!json_is_array(list) || json_array_size(list) == 0)
		return api_error(r, ERR_KS_INVALID, "'methods' is a required "
		    "property");
	*m = 0;
	json_array_foreach(list, i, v) {
		const char *s = json_string_value(v);

		if (s == NULL)
			return api_error(r, ERR_KS_INVALID, "Invalid input for "
			    "field 'methods': the names must be strings");
		if (strcmp(s, "password") == 0)
			*m |= TOKEN_M_PASSWORD;
		else if (strcmp(s, "token") == 0)
			*m |= TOKEN_M_TOKEN;
		else if (strcmp(s, "application_credential") == 0)
			*m |= TOKEN_M_APPCRED;
		else
			return api_error(r, ERR_KS_METHOD);
	}
	return 0;
}

/* A user's tokens are revoked up to and including the second of a
 * password change: a token issued in that same second, after it, is
 * dated one second later so that it lives. 0, or API_ERROR. */
static int after_revocation(struct api_req *r, struct token *t)
{
	static const char *const none[] = { NULL };
	bool revoked = true;

	for (int i = 0; i < 2 && revoked; i++) {
		if (db_token_revoked(r->api->db, t->user_id, t->issued_at, none,
		    &revoked) != DB_OK)
			return api_error(r, ERR_INTERNAL);
		if (revoked) {
			t->issued_at++;
			if (!(t->methods & TOKEN_M_TOKEN))
				t->expires_at++;
		}
	}
	return 0;
}

/* Seals t and answers 201 with the token in X-Subject-Token. */
static enum api_rc issue(struct api_req *r, struct token *t, bool fallback)
{
	char sealed[TOKEN_MAX];
	struct ks_auth a;
	json_t *body;
	int rc;

	if (after_revocation(r, t) != 0)
		return API_ERROR;
	rc = ks_resolve(r, t, &a);
	if (rc == -1 && fallback) {
		/* a default project the user lost: Keystone gives an unscoped
		 * token instead */
		ks_auth_clear(&a);
		t->scope = TOKEN_UNSCOPED;
		t->scope_id[0] = '\0';
		rc = ks_resolve(r, t, &a);
	}
	if (rc != 0) {
		ks_auth_clear(&a);
		if (rc == -1)
			log_debug("user %s has no role on the scope asked", t->user_id);
		return rc == -1 ? api_error(r, ERR_KS_AUTH) : API_ERROR;
	}
	if (ks_token_seal(r->api, t, sealed) < 0) {
		ks_auth_clear(&a);
		return api_error(r, ERR_INTERNAL);
	}
	body = ks_token_body(r, &a, !api_query_has(r, "nocatalog"));
	ks_auth_clear(&a);
	if (body == NULL)
		return API_ERROR;
	api_header_add(r, "X-Subject-Token", "%s", sealed);
	explicit_bzero(sealed, sizeof sealed);
	log_info("token issued to user %s (audit %s)", t->user_id,
	    t->audit_ids[0]);
	return api_reply(r, 201, body);
}

/* The new token's times and audit id; then it is sealed and answered. */
static enum api_rc issue_new(struct api_req *r, struct token *t, bool fallback)
{
	t->issued_at = time(NULL);
	if (t->expires_at == 0)
		t->expires_at = t->issued_at + r->api->conf->token_expiration;
	token_audit_id(t->audit_ids[0]);
	return issue(r, t, fallback);
}

/* On the pool: the secret against the stored hash (or the dummy). */
static void login_check(struct api_req *r)
{
	struct login *l = r->defer_state;

	if (l->hash[0] == '\0')
		l->ok = ks_password_ok(r->api, NULL, l->secret);  /* the dummy */
	else
		l->ok = password_verify(l->secret, l->hash);
}

/* Back on an HTTP worker: the answer of a checked login. */
static enum api_rc login_finish(struct api_req *r)
{
	struct login *l = r->defer_state;

	if (!l->ok || !l->found || l->scope_rc != 0)
		return login_failed(r, l->ukey, l->akey);
	ks_throttle_clear(r->api, l->ukey);
	return issue_new(r, &l->t, l->fallback);
}

enum api_rc ks_tokens_issue(struct api_req *r)
{
	json_t *auth = json_object_get(r->json_in, "auth");
	json_t *ident = json_object_get(auth, "identity");
	json_t *scope = json_object_get(auth, "scope");
	struct login *l;
	struct token t;
	unsigned m = 0;
	int rc;

	memset(&t, 0, sizeof t);
	if (!json_is_object(auth))
		return api_error(r, ERR_KS_EXPECTING, "auth", "request body");
	if (!json_is_object(ident))
		return api_error(r, ERR_KS_INVALID, "'identity' is a required "
		    "property");
	if (parse_methods(r, ident, &m) != 0)
		return API_ERROR;
	if (!(m & TOKEN_M_PASSWORD) && (m & TOKEN_M_TOKEN)) {
		/* rescoping: no secret to check */
		if (auth_token(r, ident, &t) != 0)
			return API_ERROR;
		if ((rc = parse_scope(r, scope, &t)) != 0)
			return rc == -1 ? api_error(r, ERR_KS_AUTH) : API_ERROR;
		return issue_new(r, &t, false);
	}
	l = (m & TOKEN_M_PASSWORD) ? auth_password(r, ident) :
	    auth_app_cred(r, auth, ident);
	if (l == NULL)
		return API_ERROR;
	if (ks_throttle_check(r, l->ukey) != 0 ||
	    ks_throttle_check(r, l->akey) != 0)
		return API_ERROR;
	/* a scope that names nothing fails as a wrong secret does, after the
	 * same check */
	if ((l->scope_rc = parse_scope(r, scope, &l->t)) == API_ERROR)
		return API_ERROR;
	l->fallback = scope == NULL && !(m & TOKEN_M_APPCRED);
	return api_defer(r, login_check, login_finish);
}

/* ---- GET, HEAD, DELETE /v3/auth/tokens ---- */

/* The subject token, resolved: 0, or API_ERROR (404s as Keystone's). */
static int subject(struct api_req *r, struct ks_auth *a)
{
	const char *s = api_header_get(r, "X-Subject-Token");
	struct token t;
	int rc;

	memset(a, 0, sizeof *a);
	if (s == NULL)
		return api_error(r, ERR_KS_NO_TOKEN);
	if (ks_token_open(r->api, s, &t) < 0)
		return api_error(r, ERR_KS_TOKEN_UNKNOWN);
	if ((rc = ks_resolve(r, &t, a)) != 0)
		return rc == -1 ? api_error(r, ERR_KS_TOKEN_INVALID) : API_ERROR;
	return 0;
}

static bool own_or_admin(const struct api_req *r, const struct token *t,
    bool service)
{
	return ks_admin(r) || (service && (r->roles & API_ROLE_SERVICE)) ||
	    strcmp(r->token.user_id, t->user_id) == 0;
}

enum api_rc ks_tokens_validate(struct api_req *r)
{
	struct ks_auth a;
	json_t *body;

	if (subject(r, &a) != 0 ||
	    ks_policy(r, own_or_admin(r, &a.tok, true), "validate_token") != 0) {
		ks_auth_clear(&a);
		return API_ERROR;
	}
	body = ks_token_body(r, &a, !api_query_has(r, "nocatalog"));
	ks_auth_clear(&a);
	if (body == NULL)
		return API_ERROR;
	api_header_add(r, "X-Subject-Token", "%s",
	    api_header_get(r, "X-Subject-Token"));
	return api_reply(r, 200, body);
}

enum api_rc ks_tokens_revoke(struct api_req *r)
{
	struct ks_auth a;
	int rc;

	if (subject(r, &a) != 0 ||
	    ks_policy(r, own_or_admin(r, &a.tok, false), "revoke_token") != 0) {
		ks_auth_clear(&a);
		return API_ERROR;
	}
	rc = db_revoke_audit_id(r->api->db, a.tok.audit_ids[0], a.tok.expires_at);
	log_info("token of user %s revoked (audit %s)", a.tok.user_id,
	    a.tok.audit_ids[0]);
	ks_auth_clear(&a);
	if (rc != DB_OK)
		return api_error(r, ERR_INTERNAL);
	return api_reply(r, 204, NULL);
}

/* ---- /v3/auth/catalog, /auth/projects, /auth/domains ---- */

enum api_rc ks_auth_catalog(struct api_req *r)
{
	json_t *cat;
	char self[300];

	if (r->token.scope == TOKEN_UNSCOPED)
		return api_error(r, ERR_KS_FORBIDDEN, "You are not authorized to "
		    "perform the requested action.");
	if ((cat = ks_catalog(r)) == NULL)
		return API_ERROR;
	snprintf(self, sizeof self, "%s/identity/v3/auth/catalog", r->base_url);
	return api_reply(r, 200, json_pack("{s:o, s:{s:o}}", "catalog", cat,
	    "links", "self", view_str(self)));
}

enum api_rc ks_auth_projects(struct api_req *r)
{
	json_t *list = ks_projects_json(r, r->token.user_id);

	if (list == NULL)
		return API_ERROR;
	return api_reply(r, 200, json_pack("{s:o, s:o}", "projects", list,
	    "links", ks_collection_links(r)));
}

enum api_rc ks_auth_domains(struct api_req *r)
{
	struct db_assignment_filter f = { .user_id = r->token.user_id };
	struct db_assignment *as;
	struct db_domain d;
	json_t *list;
	size_t n;

	if (db_assignment_list(r->api->db, &f, &as, &n) != DB_OK)
		return api_error(r, ERR_INTERNAL);
	list = json_array();
	for (size_t i = 0; i < n; i++) {
		bool seen = false;

		if (as[i].scope != DB_SCOPE_DOMAIN)
			continue;
		for (size_t j = 0; j < i; j++)
			seen |= as[j].scope == DB_SCOPE_DOMAIN &&
			    strcmp(as[j].target_id, as[i].target_id) == 0;
		if (!seen && db_domain_get(r->api->db, as[i].target_id, &d) ==
		    DB_OK && d.enabled)
			json_array_append_new(list, ks_domain_view(r, &d));
	}
	free(as);
	return api_reply(r, 200, json_pack("{s:o, s:o}", "domains", list,
	    "links", ks_collection_links(r)));
}
