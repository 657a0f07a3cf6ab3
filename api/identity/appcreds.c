/*
 * Application credentials (research/keystone-anchor.md 3.9): a user's named
 * secret that logs in to one project with some of the user's roles. The
 * secret is shown once, at creation, and stored as a bcrypt hash; a token
 * made from an application credential may not manage them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/identity/identity.h"

#define SECRET_BYTES 64   /* Keystone's generated secrets: 86 characters */

static json_t *role_ref(const struct api_req *r, const struct db_role *ro)
{
	json_t *v = ks_role_view(r, ro);

	json_object_del(v, "links");
	return v;
}

static json_t *cred_view(struct api_req *r, const struct db_app_cred *c)
{
	json_t *roles = json_array(), *v;
	char ids[sizeof c->roles], *save = NULL, ts[32];
	struct db_role ro;

	str_copy(ids, c->roles, sizeof ids);
	for (char *id = strtok_r(ids, ",", &save); id != NULL;
	    id = strtok_r(NULL, ",", &save))
		if (db_role_get(r->api->db, id, &ro) == DB_OK)
			json_array_append_new(roles, role_ref(r, &ro));
	v = json_pack("{s:s, s:o, s:o, s:s, s:s, s:n, s:n, s:b, s:o, s:o}",
	    "id", c->id, "name", view_str(c->name), "description",
	    view_str_or_null(c->description), "user_id", c->user_id,
	    "project_id", c->project_id, "system", "expires_at",
	    "unrestricted", c->unrestricted, "roles", roles,
	    "links", ks_links(r, "application_credentials", c->id));
	if (c->expires_at != 0) {
		ks_time(c->expires_at, ts);
		ts[strlen(ts) - 1] = '\0';   /* Keystone echoes it without the Z */
		json_object_set_new(v, "expires_at", json_string(ts));
	}
	return v;
}

/* "2030-01-01T00:00:00[.ffffff][Z]" -> seconds: 0, or -1. */
static int parse_time(const char *s, int64_t *out)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof tm);
	if ((end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return -1;
	if (*end == '.')
		for (end++; *end >= '0' && *end <= '9'; end++)
			;
	if (*end == 'Z')
		end++;
	if (*end != '\0')
		return -1;
	*out = (int64_t)timegm(&tm);
	return 0;
}

/* The roles asked for (each {"id"} or {"name"}), all of them the token's;
 * none asked: every role of the token. Comma-separated ids into out. */
static int cred_roles(struct api_req *r, const json_t *want, char *out,
    size_t len)
{
	struct db_role *mine;
	size_t n, i;
	json_t *w;
	int rc = 0;

	if (db_effective_roles(r->api->db, r->token.user_id, DB_SCOPE_PROJECT,
	    r->token.scope_id, &mine, &n) != DB_OK)
		return api_error(r, ERR_INTERNAL);
	out[0] = '\0';
	if (want == NULL || json_array_size(want) == 0) {
		for (i = 0; i < n && rc == 0; i++)
			rc = str_fmt(out + strlen(out), len - strlen(out), "%s%s",
			    out[0] ? "," : "", mine[i].id);
	} else if (!json_is_array(want)) {
		rc = -1;
	} else {
		json_array_foreach(want, i, w) {
			const char *id = json_string_value(json_object_get(w, "id"));
			const char *name = json_string_value(json_object_get(w, "name"));
			size_t k;

			for (k = 0; k < n; k++)
				if ((id && strcmp(id, mine[k].id) == 0) ||
				    (name && strcmp(name, mine[k].name) == 0))
					break;
			if (k == n || str_fmt(out + strlen(out), len - strlen(out),
			    "%s%s", out[0] ? "," : "", mine[k].id) < 0) {
				rc = -1;
				break;
			}
		}
	}
	free(mine);
	if (rc < 0)
		return api_error(r, ERR_KS_INVALID, "Invalid application credential: "
		    "Cannot create an application credential with unassigned role");
	return 0;
}

/* "unrestricted": absent is null (stored false), else a boolean. */
static int opt_unrestricted(struct api_req *r, const json_t *in, bool *out)
{
	json_t *v = json_object_get(in, "unrestricted");

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return api_error(r, ERR_KS_INVALID, "Invalid input for field "
		    "'unrestricted': not a boolean");
	*out = json_is_true(v);
	return 0;
}

static int not_by_app_cred(struct api_req *r)
{
	if (!(r->token.methods & TOKEN_M_APPCRED))
		return 0;
	return api_error(r, ERR_KS_FORBIDDEN, "You are not authorized to perform "
	    "the requested action: Using method 'application_credential' is not "
	    "allowed for managing additional application credentials..");
}

enum api_rc ks_app_creds_create(struct api_req *r)
{
	json_t *in = json_object_get(r->json_in, "application_credential"), *body;
	struct db_app_cred c = { .id = "" };
	char secret[SECRET_BYTES * 2];
	const char *name, *desc, *given, *exp;
	int bad = 0, rc;

	if (ks_policy(r, strcmp(r->token.user_id, r->id) == 0,
	    "create_application_credential") != 0 || not_by_app_cred(r) != 0)
		return API_ERROR;
	if (!json_is_object(in))
		return api_error(r, ERR_KS_EXPECTING, "application_credential",
		    "request body");
	if (r->token.scope != TOKEN_PROJECT)
		return api_error(r, ERR_KS_FORBIDDEN, "You are not authorized to "
		    "perform the requested action: an application credential "
		    "needs a project-scoped token.");
	name = ks_str(r, in, "name", DB_NAME - 1, &bad);
	desc = ks_str(r, in, "description", DB_NAME - 1, &bad);
	exp = ks_str(r, in, "expires_at", 40, &bad);
	given = json_string_value(json_object_get(in, "secret"));
	if (bad)
		return API_ERROR;
	if (name == NULL)
		return api_error(r, ERR_KS_INVALID, "'name' is a required property");
	if (exp != NULL && (parse_time(exp, &c.expires_at) < 0 ||
	    c.expires_at <= time(NULL)))
		return api_error(r, ERR_KS_INVALID, "Invalid input for field "
		    "'expires_at': a time in the future, 2030-01-01T00:00:00");
	if (given != NULL && (*given == '\0' || strlen(given) > 4096))
		return api_error(r, ERR_KS_INVALID, "Invalid input for field "
		    "'secret': 1 to 4096 characters");
	if (opt_unrestricted(r, in, &c.unrestricted) != 0 ||
	    cred_roles(r, json_object_get(in, "roles"), c.roles,
	    sizeof c.roles) != 0)
		return API_ERROR;
	if (given == NULL && crypto_secret(SECRET_BYTES, secret,
	    sizeof secret) < 0)
		return api_error(r, ERR_INTERNAL);
	str_copy(c.name, name, sizeof c.name);
	str_copy(c.description, desc ? desc : "", sizeof c.description);
	str_copy(c.user_id, r->token.user_id, sizeof c.user_id);
	str_copy(c.project_id, r->token.scope_id, sizeof c.project_id);
	if (password_hash(given ? given : secret,
	    r->api->conf->password_hash_rounds, c.secret_hash) < 0)
		return api_error(r, ERR_INTERNAL);
	if ((rc = db_app_cred_create(r->api->db, &c)) != DB_OK) {
		explicit_bzero(secret, sizeof secret);
		if (rc == DB_CONFLICT)
			return api_error(r, ERR_KS_CONFLICT, "application_credential",
			    c.name);
		return ks_db_error(r, rc, "project", c.project_id);
	}
	body = cred_view(r, &c);
	json_object_set_new(body, "secret", json_string(given ? given : secret));
	explicit_bzero(secret, sizeof secret);
	log_info("application credential %s created for user %s", c.id, c.user_id);
	return api_reply(r, 201, json_pack("{s:o}", "application_credential", body));
}

static int own_creds(struct api_req *r, const char *rule)
{
	return ks_policy(r, ks_admin(r) || strcmp(r->token.user_id, r->id) == 0,
	    rule);
}

enum api_rc ks_app_creds_list(struct api_req *r)
{
	const char *name = api_query_get(r, "name");
	struct db_app_cred *c;
	json_t *list;
	size_t n;

	if (own_creds(r, "list_application_credentials") != 0)
		return API_ERROR;
	if (db_app_cred_list(r->api->db, r->id, &c, &n) != DB_OK)
		return api_error(r, ERR_INTERNAL);
	list = json_array();
	for (size_t i = 0; i < n; i++)
		if (name == NULL || strcmp(name, c[i].name) == 0)
			json_array_append_new(list, cred_view(r, &c[i]));
	free(c);
	return api_reply(r, 200, json_pack("{s:o, s:o}", "application_credentials",
	    list, "links", ks_collection_links(r)));
}

/* The user's credential r->id2: 0, or API_ERROR (404). */
static int cred_get(struct api_req *r, struct db_app_cred *c)
{
	int rc = db_app_cred_get(r->api->db, r->id2, c);

	if (rc == DB_OK && strcmp(c->user_id, r->id) != 0)
		rc = DB_NOTFOUND;
	if (rc != DB_OK)
		return ks_db_error(r, rc, "Application Credential", r->id2);
	return 0;
}

enum api_rc ks_app_creds_show(struct api_req *r)
{
	struct db_app_cred c;

	if (own_creds(r, "get_application_credential") != 0 ||
	    cred_get(r, &c) != 0)
		return API_ERROR;
	return api_reply(r, 200, json_pack("{s:o}", "application_credential",
	    cred_view(r, &c)));
}

enum api_rc ks_app_creds_delete(struct api_req *r)
{
	struct db_app_cred c;
	int rc;

	if (own_creds(r, "delete_application_credential") != 0 ||
	    not_by_app_cred(r) != 0 || cred_get(r, &c) != 0)
		return API_ERROR;
	if ((rc = db_app_cred_delete(r->api->db, r->id, c.id)) != DB_OK)
		return ks_db_error(r, rc, "Application Credential", c.id);
	log_info("application credential %s deleted", c.id);
	return api_reply(r, 204, NULL);
}
