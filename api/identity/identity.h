/*
 * api/identity/: kumo's own Keystone v3 subset, served by kumo-api at
 * /identity/v3 ([identity] enabled), in Keystone's JSON, headers and
 * errors (research/keystone-anchor.md).
 *
 *   core.c      the key repository (reloaded when it changes), the caller's
 *               token resolved against the database (identity_authenticate),
 *               the token body, failed-login throttling
 *   tokens.c    version discovery; POST/GET/HEAD/DELETE /v3/auth/tokens;
 *               /v3/auth/catalog, /auth/projects, /auth/domains
 *   catalog.c   the service catalog; services, endpoints, regions
 *   admin.c     users, projects, roles, grants, role assignments, domains
 *   appcreds.c  application credentials
 *   view.c      Keystone's shapes: links, collections, times, objects
 *
 * Policy is Keystone's default (Zed): admin-only administration, a user may
 * read and change what is their own (ks_policy).
 */
#ifndef KUMO_API_IDENTITY_H
#define KUMO_API_IDENTITY_H

#include "api/api.h"
#include "db/db.h"

/* What a valid token says, resolved from the database. */
struct ks_auth {
	struct token tok;
	struct db_user user;
	struct db_domain user_domain;
	struct db_project project;       /* TOKEN_PROJECT */
	struct db_domain scope_domain;   /* the project's domain, or the
	                                  * domain scope */
	struct db_app_cred cred;         /* TOKEN_M_APPCRED */
	struct db_role *roles;           /* effective roles on the scope */
	size_t n_roles;
};

/* ---- core.c ---- */
/* Opens s with the current keys (re-read when the repository changed):
 * 0, or -1 when it is not one of ours. */
int ks_token_open(struct api *api, const char *s, struct token *t);
/* Seals t with the primary key: 0, or -1 (logged). */
int ks_token_seal(struct api *api, const struct token *t, char out[TOKEN_MAX]);
/* Resolves an opened token: 0 when it is valid now (unexpired, unrevoked,
 * its user, domain and scope enabled, roles on the scope), -1 when it is
 * not, API_ERROR when the database failed (r's error set). a is the
 * caller's to clear (ks_auth_clear) either way. */
int ks_resolve(struct api_req *r, const struct token *t, struct ks_auth *a);
void ks_auth_clear(struct ks_auth *a);
unsigned ks_role_bits(const struct db_role *roles, size_t n);
/* Keystone's token body {"token": {...}}; NULL on a database failure (r's
 * error set). */
json_t *ks_token_body(struct api_req *r, const struct ks_auth *a,
    bool catalog);
/* A user's password, as Keystone checks it: a dummy hash is checked for a
 * user that does not exist, so that the time does not tell. */
bool ks_password_ok(struct api *api, const struct db_user *u, const char *pw);
/* Failed logins: 0 when key (a user, or a client address) may try again,
 * else API_ERROR (429 with Retry-After). */
int ks_throttle_check(struct api_req *r, const char *key);
void ks_throttle_fail(struct api *api, const char *key);
void ks_throttle_clear(struct api *api, const char *key);

/* ---- admin.c ---- */
/* The enabled projects user_id has a role on, as Keystone's project views;
 * NULL on a database failure (r's error set). */
json_t *ks_projects_json(struct api_req *r, const char *user_id);

/* ---- catalog.c ---- */
/* The catalog list [{"endpoints": [...], "id", "type", "name"}]; NULL on
 * a database failure (r's error set). */
json_t *ks_catalog(struct api_req *r);

/* ---- view.c ---- */
/* "2026-12-07T14:26:59.000000Z" */
void ks_time(int64_t t, char out[32]);
/* {"self": "<base>/identity/v3/<coll>/<id>"} */
json_t *ks_links(const struct api_req *r, const char *coll, const char *id);
/* {"next": null, "self": "<the request's URL>", "previous": null} */
json_t *ks_collection_links(struct api_req *r);
json_t *ks_domain_ref(const struct db_domain *d);   /* {"id", "name"} */
json_t *ks_user_view(const struct api_req *r, const struct db_user *u);
json_t *ks_project_view(const struct api_req *r, const struct db_project *p);
json_t *ks_role_view(const struct api_req *r, const struct db_role *ro);
json_t *ks_domain_view(const struct api_req *r, const struct db_domain *d);
/* A string member of obj: the value, or NULL when absent; API_ERROR (400)
 * through *bad when present and not a string of 1..max bytes. */
const char *ks_str(struct api_req *r, const json_t *obj, const char *key,
    size_t max, int *bad);
/* policy: 0 when allowed, else API_ERROR (403 naming identity:<rule>) */
int ks_policy(struct api_req *r, bool allowed, const char *rule);
bool ks_admin(const struct api_req *r);
/* The database's answer as Keystone's error: DB_NOTFOUND -> 404 "Could
 * not find <kind>: <id>.", DB_CONFLICT -> 409, else 500. */
int ks_db_error(struct api_req *r, int rc, const char *kind, const char *id);

#endif
