/*
 * Keystone's administration calls that clients and tempest use: users,
 * projects, roles, grants (role assignments on a project or domain), the
 * role assignment list, domains. Policy is Keystone's default (Zed): admin
 * for all of it, except that users read themselves and change their own
 * password, and read their own project.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/identity/identity.h"

/* An optional boolean member: 0, or API_ERROR when not a boolean. */
static int opt_bool(struct api_req *r, const json_t *obj, const char *key,
    bool *out)
{
	json_t *v = json_object_get(obj, key);
	char msg[128];

	if (v == NULL)
		return 0;
	if (!json_is_boolean(v)) {
		snprintf(msg, sizeof msg, "Invalid input for field '%s': %s is "
		    "not of type 'boolean'", key, json_is_string(v) ? "a string" :
		    "the value");
		return api_error(r, ERR_KS_INVALID, msg);
	}
	*out = json_is_true(v);
	return 0;
}

/* The request's object {"<key>": {...}}: it, or NULL and 400. */
static json_t *body_object(struct api_req *r, const char *key)
{
	json_t *o = json_object_get(r->json_in, key);

	if (!json_is_object(o)) {
		api_error(r, ERR_KS_EXPECTING, key, "request body");
		return NULL;
	}
	return o;
}

static int need_admin(struct api_req *r, const char *rule)
{
	return ks_policy(r, ks_admin(r), rule);
}

/* ---- users ---- */

static int user_fields(struct api_req *r, const json_t *in, struct db_user *u,
    bool *password_set)
{
	int bad = 0;
	const char *name = ks_str(r, in, "name", DB_NAME - 1, &bad);
	const char *dom = ks_str(r, in, "domain_id", DB_ID - 1, &bad);
	const char *proj = ks_str(r, in, "default_project_id", DB_ID - 1, &bad);
	json_t *pw = json_object_get(in, "password");
	struct db_project p;

	if (bad || opt_bool(r, in, "enabled", &u->enabled) != 0)
		return API_ERROR;
	if (name != NULL)
		str_copy(u->name, name, sizeof u->name);
	if (dom != NULL)
		str_copy(u->domain_id, dom, sizeof u->domain_id);
	if (proj != NULL) {
		if (db_project_get(r->api->db, proj, &p) != DB_OK)
			return api_error(r, ERR_KS_NOT_FOUND, "project", proj);
		str_copy(u->default_project_id, proj, sizeof u->default_project_id);
	}
	*password_set = false;
	if (pw != NULL && !json_is_null(pw)) {
		const char *s = json_string_value(pw);

		if (s == NULL || strlen(s) > 4096 || strlen(s) !=
		    json_string_length(pw))
			return api_error(r, ERR_KS_INVALID, "Invalid input for "
			    "field 'password': a string of at most 4096 bytes");
		if (password_hash(s, r->api->conf->password_hash_rounds,
		    u->password_hash) < 0)
			return api_error(r, ERR_INTERNAL);
		*password_set = true;
	}
	return 0;
}

enum api_rc ks_users_list(struct api_req *r)
{
	const char *name = api_query_get(r, "name");
	const char *dom = api_query_get(r, "domain_id");
	struct db_user *u;
	json_t *list;
	size_t n;

	if (need_admin(r, "list_users") != 0)
		return API_ERROR;
	if (db_user_list(r->api->db, dom, &u, &n) != DB_OK)
		return api_error(r, ERR_INTERNAL);
	list = json_array();
	for (size_t i = 0; i < n; i++)
		if (name == NULL || strcmp(name, u[i].name) == 0)
			json_array_append_new(list, ks_user_view(r, &u[i]));
	free(u);
	return api_reply(r, 200, json_pack("{s:o, s:o}", "users", list,
	    "links", ks_collection_links(r)));
}

enum api_rc ks_users_create(struct api_req *r)
{
	json_t *in = body_object(r, "user");
	struct db_user u = { .domain_id = "default", .enabled = true };
	bool pw;
	int rc;

	if (in == NULL || need_admin(r, "create_user") != 0 ||
	    user_fields(r, in, &u, &pw) != 0)
		return API_ERROR;
	if (u.name[0] == '\0')
		return api_error(r, ERR_KS_INVALID, "'name' is a required property");
	if ((rc = db_user_create(r->api->db, &u)) != DB_OK)
		return rc == DB_NOTFOUND ? api_error(r, ERR_KS_NOT_FOUND, "domain",
		    u.domain_id) : ks_db_error(r, rc, "user", u.name);
	log_info("user %s (%s) created", u.id, u.name);
	return api_reply(r, 201, json_pack("{s:o}", "user", ks_user_view(r, &u)));
}

enum api_rc ks_users_show(struct api_req *r)
{
	struct db_user u;
	int rc;

	if (ks_policy(r, ks_admin(r) || strcmp(r->token.user_id, r->id) == 0,
	    "get_user") != 0)
		return API_ERROR;
	if ((rc = db_user_get(r->api->db, r->id, &u)) != DB_OK)
		return ks_db_error(r, rc, "user", r->id);
	return api_reply(r, 200, json_pack("{s:o}", "user", ks_user_view(r, &u)));
}

enum api_rc ks_users_update(struct api_req *r)
{
	json_t *in = body_object(r, "user");
	struct db_user u;
	bool was_enabled, pw;
	int rc;

	if (in == NULL || need_admin(r, "update_user") != 0)
		return API_ERROR;
	if ((rc = db_user_get(r->api->db, r->id, &u)) != DB_OK)
		return ks_db_error(r, rc, "user", r->id);
	was_enabled = u.enabled;
	if (json_object_get(in, "domain_id") != NULL)
		return api_error(r, ERR_KS_INVALID, "Invalid input for field "
		    "'domain_id': a user cannot move to another domain");
	if (user_fields(r, in, &u, &pw) != 0)
		return API_ERROR;
	if ((rc = db_user_update(r->api->db, &u)) != DB_OK)
		return ks_db_error(r, rc, "user", u.name);
	/* tokens of a disabled user, or issued before a new password, end */
	if ((was_enabled && !u.enabled) || pw)
		db_revoke_user(r->api->db, u.id, time(NULL));
	log_info("user %s updated%s%s", u.id, pw ? " (password)" : "",
	    was_enabled && !u.enabled ? " (disabled)" : "");
	return api_reply(r, 200, json_pack("{s:o}", "user", ks_user_view(r, &u)));
}

enum api_rc ks_users_delete(struct api_req *r)
{
	int rc;

	if (need_admin(r, "delete_user") != 0)
		return API_ERROR;
	if ((rc = db_user_delete(r->api->db, r->id)) != DB_OK)
		return ks_db_error(r, rc, "user", r->id);
	db_revoke_user(r->api->db, r->id, time(NULL));
	log_info("user %s deleted", r->id);
	return api_reply(r, 204, NULL);
}

/* POST /v3/users/{id}/password {"user": {"password", "original_password"}}:
 * the user's own, checked against the original. */
enum api_rc ks_users_password(struct api_req *r)
{
	json_t *in = body_object(r, "user");
	const char *pw, *orig;
	struct db_user u;
	char akey[80] = "addr:", ukey[100];
	int rc;

	if (in == NULL || ks_policy(r, strcmp(r->token.user_id, r->id) == 0,
	    "change_password") != 0)
		return API_ERROR;
	pw = json_string_value(json_object_get(in, "password"));
	orig = json_string_value(json_object_get(in, "original_password"));
	if (pw == NULL || orig == NULL || strlen(pw) > 4096)
		return api_error(r, ERR_KS_INVALID, "'password' and "
		    "'original_password' are required properties");
	if ((rc = db_user_get(r->api->db, r->id, &u)) != DB_OK)
		return ks_db_error(r, rc, "user", r->id);
	api_client_addr(r, akey + 5, sizeof akey - 5);
	snprintf(ukey, sizeof ukey, "user:%s", u.id);
	if (ks_throttle_check(r, ukey) != 0 || ks_throttle_check(r, akey) != 0)
		return API_ERROR;
	if (!ks_password_ok(r->api, &u, orig)) {
		ks_throttle_fail(r->api, ukey);
		ks_throttle_fail(r->api, akey);
		return api_error(r, ERR_KS_AUTH);
	}
	if (password_hash(pw, r->api->conf->password_hash_rounds,
	    u.password_hash) < 0 || db_user_update(r->api->db, &u) != DB_OK)
		return api_error(r, ERR_INTERNAL);
	db_revoke_user(r->api->db, u.id, time(NULL));
	log_info("user %s changed their password", u.id);
	return api_reply(r, 204, NULL);
}

json_t *ks_projects_json(struct api_req *r, const char *user_id)
{
	struct db_project *p;
	json_t *list;
	size_t n;

	if (db_user_projects(r->api->db, user_id, &p, &n) != DB_OK) {
		api_error(r, ERR_INTERNAL);
		return NULL;
	}
	list = json_array();
	for (size_t i = 0; i < n; i++)
		if (p[i].enabled)
			json_array_append_new(list, ks_project_view(r, &p[i]));
	free(p);
	return list;
}

enum api_rc ks_users_projects(struct api_req *r)
{
	json_t *list;

	if (ks_policy(r, ks_admin(r) || strcmp(r->token.user_id, r->id) == 0,
	    "list_user_projects") != 0)
		return API_ERROR;
	if ((list = ks_projects_json(r, r->id)) == NULL)
		return API_ERROR;
	return api_reply(r, 200, json_pack("{s:o, s:o}", "projects", list,
	    "links", ks_collection_links(r)));
}

/* ---- projects ---- */

static int project_fields(struct api_req *r, const json_t *in,
    struct db_project *p)
{
	int bad = 0;
	const char *name = ks_str(r, in, "name", 64, &bad);
	const char *dom = ks_str(r, in, "domain_id", DB_ID - 1, &bad);
	const char *desc;
	json_t *d = json_object_get(in, "description");

	if (bad || opt_bool(r, in, "enabled", &p->enabled) != 0)
		return API_ERROR;
	if (json_is_true(json_object_get(in, "is_domain")))
		return api_error(r, ERR_KS_INVALID, "Invalid input for field "
		    "'is_domain': kumo keeps domains apart from projects");
	if (name != NULL)
		str_copy(p->name, name, sizeof p->name);
	if (dom != NULL)
		str_copy(p->domain_id, dom, sizeof p->domain_id);
	if (d != NULL && !json_is_null(d)) {
		desc = json_string_value(d);
		if (desc == NULL || strlen(desc) >= sizeof p->description)
			return api_error(r, ERR_KS_INVALID, "Invalid input for "
			    "field 'description': a string of at most 255 bytes");
		str_copy(p->description, desc, sizeof p->description);
	}
	return 0;
}

enum api_rc ks_projects_list(struct api_req *r)
{
	const char *name = api_query_get(r, "name");
	const char *dom = api_query_get(r, "domain_id");
	struct db_project *p;
	json_t *list;
	size_t n;

	if (need_admin(r, "list_projects") != 0)
		return API_ERROR;
	if (db_project_list(r->api->db, dom, &p, &n) != DB_OK)
		return api_error(r, ERR_INTERNAL);
	list = json_array();
	for (size_t i = 0; i < n; i++)
		if (name == NULL || strcmp(name, p[i].name) == 0)
			json_array_append_new(list, ks_project_view(r, &p[i]));
	free(p);
	return api_reply(r, 200, json_pack("{s:o, s:o}", "projects", list,
	    "links", ks_collection_links(r)));
}

enum api_rc ks_projects_create(struct api_req *r)
{
	json_t *in = body_object(r, "project");
	struct db_project p = { .domain_id = "default", .enabled = true };
	int rc;

	if (in == NULL || need_admin(r, "create_project") != 0 ||
	    project_fields(r, in, &p) != 0)
		return API_ERROR;
	if (p.name[0] == '\0')
		return api_error(r, ERR_KS_INVALID, "'name' is a required property");
	if ((rc = db_project_create(r->api->db, &p)) != DB_OK)
		return rc == DB_NOTFOUND ? api_error(r, ERR_KS_NOT_FOUND, "domain",
		    p.domain_id) : ks_db_error(r, rc, "project", p.name);
	log_info("project %s (%s) created", p.id, p.name);
	return api_reply(r, 201, json_pack("{s:o}", "project",
	    ks_project_view(r, &p)));
}

enum api_rc ks_projects_show(struct api_req *r)
{
	struct db_project p;
	int rc;

	if (ks_policy(r, ks_admin(r) || (r->token.scope == TOKEN_PROJECT &&
	    strcmp(r->token.scope_id, r->id) == 0), "get_project") != 0)
		return API_ERROR;
	if ((rc = db_project_get(r->api->db, r->id, &p)) != DB_OK)
		return ks_db_error(r, rc, "project", r->id);
	return api_reply(r, 200, json_pack("{s:o}", "project",
	    ks_project_view(r, &p)));
}

enum api_rc ks_projects_update(struct api_req *r)
{
	json_t *in = body_object(r, "project");
	struct db_project p;
	int rc;

	if (in == NULL || need_admin(r, "update_project") != 0)
		return API_ERROR;
	if ((rc = db_project_get(r->api->db, r->id, &p)) != DB_OK)
		return ks_db_error(r, rc, "project", r->id);
	if (json_object_get(in, "domain_id") != NULL)
		return api_error(r, ERR_KS_INVALID, "Invalid input for field "
		    "'domain_id': a project cannot move to another domain");
	if (project_fields(r, in, &p) != 0)
		return API_ERROR;
	if ((rc = db_project_update(r->api->db, &p)) != DB_OK)
		return ks_db_error(r, rc, "project", p.name);
	log_info("project %s updated", p.id);
	return api_reply(r, 200, json_pack("{s:o}", "project",
	    ks_project_view(r, &p)));
}

enum api_rc ks_projects_delete(struct api_req *r)
{
	int rc;

	if (need_admin(r, "delete_project") != 0)
		return API_ERROR;
	if ((rc = db_project_delete(r->api->db, r->id)) != DB_OK)
		return ks_db_error(r, rc, "project", r->id);
	log_info("project %s deleted", r->id);
	return api_reply(r, 204, NULL);
}

/* ---- roles ---- */

enum api_rc ks_roles_list(struct api_req *r)
{
	const char *name = api_query_get(r, "name");
	struct db_role *ro;
	json_t *list;
	size_t n;

	if (need_admin(r, "list_roles") != 0)
		return API_ERROR;
	if (db_role_list(r->api->db, &ro, &n) != DB_OK)
		return api_error(r, ERR_INTERNAL);
	list = json_array();
	for (size_t i = 0; i < n; i++)
		if (name == NULL || strcmp(name, ro[i].name) == 0)
			json_array_append_new(list, ks_role_view(r, &ro[i]));
	free(ro);
	return api_reply(r, 200, json_pack("{s:o, s:o}", "roles", list,
	    "links", ks_collection_links(r)));
}

enum api_rc ks_roles_create(struct api_req *r)
{
	json_t *in = body_object(r, "role");
	struct db_role ro = { .id = "" };
	const char *name, *desc;
	int bad = 0, rc;

	if (in == NULL || need_admin(r, "create_role") != 0)
		return API_ERROR;
	name = ks_str(r, in, "name", DB_NAME - 1, &bad);
	desc = ks_str(r, in, "description", DB_NAME - 1, &bad);
	if (bad)
		return API_ERROR;
	if (name == NULL)
		return api_error(r, ERR_KS_INVALID, "'name' is a required property");
	str_copy(ro.name, name, sizeof ro.name);
	str_copy(ro.description, desc ? desc : "", sizeof ro.description);
	if ((rc = db_role_create(r->api->db, &ro)) != DB_OK)
		return ks_db_error(r, rc, "role", ro.name);
	log_info("role %s (%s) created", ro.id, ro.name);
	return api_reply(r, 201, json_pack("{s:o}", "role", ks_role_view(r, &ro)));
}

enum api_rc ks_roles_show(struct api_req *r)
{
	struct db_role ro;
	int rc;

	if (need_admin(r, "get_role") != 0)
		return API_ERROR;
	if ((rc = db_role_get(r->api->db, r->id, &ro)) != DB_OK)
		return ks_db_error(r, rc, "role", r->id);
	return api_reply(r, 200, json_pack("{s:o}", "role", ks_role_view(r, &ro)));
}

enum api_rc ks_roles_delete(struct api_req *r)
{
	struct db_role ro;
	int rc;

	if (need_admin(r, "delete_role") != 0)
		return API_ERROR;
	if ((rc = db_role_get(r->api->db, r->id, &ro)) != DB_OK)
		return ks_db_error(r, rc, "role", r->id);
	if (ro.immutable)
		return api_error(r, ERR_KS_FORBIDDEN, "You are not authorized to "
		    "perform the requested action: the role is immutable.");
	if ((rc = db_role_delete(r->api->db, r->id)) != DB_OK)
		return ks_db_error(r, rc, "role", r->id);
	log_info("role %s deleted", r->id);
	return api_reply(r, 204, NULL);
}

/* ---- grants: /v3/{projects|domains}/{id}/users/{id}/roles[/{id}] ---- */

/* The assignment the path names, its target, user and role checked. */
static int grant_of(struct api_req *r, struct db_assignment *a, bool role)
{
	struct db_project p;
	struct db_domain d;
	struct db_user u;
	struct db_role ro;
	bool project = strncmp(r->path, "/identity/v3/projects/", 22) == 0;
	int rc;

	memset(a, 0, sizeof *a);
	a->scope = project ? DB_SCOPE_PROJECT : DB_SCOPE_DOMAIN;
	rc = project ? db_project_get(r->api->db, r->id, &p) :
	    db_domain_get(r->api->db, r->id, &d);
	if (rc != DB_OK)
		return ks_db_error(r, rc, project ? "project" : "domain", r->id);
	if ((rc = db_user_get(r->api->db, r->id2, &u)) != DB_OK)
		return ks_db_error(r, rc, "user", r->id2);
	if (role && (rc = db_role_get(r->api->db, r->id3, &ro)) != DB_OK)
		return ks_db_error(r, rc, "role", r->id3);
	str_copy(a->target_id, r->id, sizeof a->target_id);
	str_copy(a->user_id, r->id2, sizeof a->user_id);
	str_copy(a->role_id, r->id3, sizeof a->role_id);
	return 0;
}

static int grant_find(struct api_req *r, const struct db_assignment *a,
    bool *found)
{
	struct db_assignment_filter f = { .user_id = a->user_id,
	    .role_id = a->role_id };
	struct db_assignment *list;
	size_t n;

	if (a->scope == DB_SCOPE_PROJECT)
		f.project_id = a->target_id;
	else
		f.domain_id = a->target_id;
	if (db_assignment_list(r->api->db, &f, &list, &n) != DB_OK)
		return api_error(r, ERR_INTERNAL);
	free(list);
	*found = n > 0;
	return 0;
}

enum api_rc ks_grants_put(struct api_req *r)
{
	struct db_assignment a;

	if (need_admin(r, "create_grant") != 0 || grant_of(r, &a, true) != 0)
		return API_ERROR;
	if (db_assignment_add(r->api->db, &a) != DB_OK)
		return api_error(r, ERR_INTERNAL);
	log_info("role %s granted to user %s on %s", a.role_id, a.user_id,
	    a.target_id);
	return api_reply(r, 204, NULL);
}

enum api_rc ks_grants_check(struct api_req *r)
{
	struct db_assignment a;
	bool found;
	char what[300];

	if (need_admin(r, "check_grant") != 0 || grant_of(r, &a, true) != 0 ||
	    grant_find(r, &a, &found) != 0)
		return API_ERROR;
	if (!found) {
		snprintf(what, sizeof what, "%s, user %s, target %s", a.role_id,
		    a.user_id, a.target_id);
		return api_error(r, ERR_KS_NOT_FOUND, "role assignment with role",
		    what);
	}
	return api_reply(r, 204, NULL);
}

enum api_rc ks_grants_delete(struct api_req *r)
{
	struct db_assignment a;
	bool found;
	int rc;

	if (need_admin(r, "revoke_grant") != 0 || grant_of(r, &a, true) != 0 ||
	    grant_find(r, &a, &found) != 0)
		return API_ERROR;
	if (!found)
		return api_error(r, ERR_KS_NOT_FOUND, "role assignment", a.role_id);
	if ((rc = db_assignment_remove(r->api->db, &a)) != DB_OK)
		return ks_db_error(r, rc, "role assignment", a.role_id);
	log_info("role %s revoked from user %s on %s", a.role_id, a.user_id,
	    a.target_id);
	return api_reply(r, 204, NULL);
}

enum api_rc ks_grants_list(struct api_req *r)
{
	struct db_assignment a;
	struct db_role *ro;
	json_t *list;
	size_t n;

	if (need_admin(r, "list_grants") != 0 || grant_of(r, &a, false) != 0)
		return API_ERROR;
	if (db_effective_roles(r->api->db, a.user_id, a.scope, a.target_id,
	    &ro, &n) != DB_OK)
		return api_error(r, ERR_INTERNAL);
	list = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, ks_role_view(r, &ro[i]));
	free(ro);
	return api_reply(r, 200, json_pack("{s:o, s:o}", "roles", list,
	    "links", ks_collection_links(r)));
}

/* ---- GET /v3/role_assignments ---- */

/* ?include_names: names (and domains) beside the ids, as Keystone adds
 * them. */
static void add_names(struct api_req *r, json_t *v, const struct db_assignment *a,
    const char *role_id)
{
	struct db *db = r->api->db;
	struct db_user u;
	struct db_project p;
	struct db_domain d;
	struct db_role ro;
	json_t *scope = json_object_get(v, "scope");

	if (db_user_get(db, a->user_id, &u) == DB_OK &&
	    db_domain_get(db, u.domain_id, &d) == DB_OK) {
		json_object_set_new(json_object_get(v, "user"), "name", view_str(u.name));
		json_object_set_new(json_object_get(v, "user"), "domain",
		    ks_domain_ref(&d));
	}
	if (db_role_get(db, role_id, &ro) == DB_OK)
		json_object_set_new(json_object_get(v, "role"), "name",
		    view_str(ro.name));
	if (a->scope == DB_SCOPE_PROJECT &&
	    db_project_get(db, a->target_id, &p) == DB_OK &&
	    db_domain_get(db, p.domain_id, &d) == DB_OK) {
		json_object_set_new(json_object_get(scope, "project"), "name",
		    view_str(p.name));
		json_object_set_new(json_object_get(scope, "project"), "domain",
		    ks_domain_ref(&d));
	} else if (a->scope == DB_SCOPE_DOMAIN &&
	    db_domain_get(db, a->target_id, &d) == DB_OK) {
		json_object_set_new(json_object_get(scope, "domain"), "name",
		    view_str(d.name));
	}
}

static json_t *assignment_view(struct api_req *r,
    const struct db_assignment *a, const char *role_id)
{
	const char *kind = a->scope == DB_SCOPE_PROJECT ? "project" :
	    a->scope == DB_SCOPE_DOMAIN ? "domain" : "system";
	char href[800];
	json_t *scope, *v;

	if (a->scope == DB_SCOPE_SYSTEM) {
		snprintf(href, sizeof href, "%s/identity/v3/system/users/%s/"
		    "roles/%s", r->base_url, a->user_id, role_id);
		scope = json_pack("{s:{s:b}}", "system", "all", 1);
	} else {
		snprintf(href, sizeof href, "%s/identity/v3/%ss/%s/users/%s/"
		    "roles/%s", r->base_url, kind, a->target_id, a->user_id,
		    role_id);
		scope = json_pack("{s:{s:s}}", kind, "id", a->target_id);
	}
	v = json_pack("{s:{s:o}, s:o, s:{s:s}, s:{s:s}}", "links",
	    "assignment", view_str(href), "scope", scope, "user", "id",
	    a->user_id, "role", "id", role_id);
	if (api_query_has(r, "include_names"))
		add_names(r, v, a, role_id);
	return v;
}

enum api_rc ks_role_assignments(struct api_req *r)
{
	struct db_assignment_filter f = {
		.user_id = api_query_get(r, "user.id"),
		.project_id = api_query_get(r, "scope.project.id"),
		.domain_id = api_query_get(r, "scope.domain.id"),
		.role_id = api_query_get(r, "role.id"),
	};
	bool effective = api_query_has(r, "effective");
	struct db_assignment *as;
	json_t *list;
	size_t n;

	if (need_admin(r, "list_role_assignments") != 0)
		return API_ERROR;
	if (effective)
		f.role_id = NULL;   /* implied roles are matched below */
	if (db_assignment_list(r->api->db, &f, &as, &n) != DB_OK)
		return api_error(r, ERR_INTERNAL);
	list = json_array();
	for (size_t i = 0; i < n; i++) {
		struct db_role *ro;
		size_t nr;
		bool dup = false;

		if (!effective) {
			json_array_append_new(list, assignment_view(r, &as[i],
			    as[i].role_id));
			continue;
		}
		/* one entry per effective role of each (user, target) */
		for (size_t j = 0; j < i; j++)
			dup |= as[j].scope == as[i].scope &&
			    strcmp(as[j].user_id, as[i].user_id) == 0 &&
			    strcmp(as[j].target_id, as[i].target_id) == 0;
		if (dup || db_effective_roles(r->api->db, as[i].user_id,
		    as[i].scope, as[i].target_id, &ro, &nr) != DB_OK)
			continue;
		for (size_t k = 0; k < nr; k++) {
			const char *want = api_query_get(r, "role.id");

			if (want == NULL || strcmp(want, ro[k].id) == 0)
				json_array_append_new(list, assignment_view(r,
				    &as[i], ro[k].id));
		}
		free(ro);
	}
	free(as);
	return api_reply(r, 200, json_pack("{s:o, s:o}", "role_assignments",
	    list, "links", ks_collection_links(r)));
}

/* ---- domains ---- */

enum api_rc ks_domains_list(struct api_req *r)
{
	const char *name = api_query_get(r, "name");
	struct db_domain *d;
	json_t *list;
	size_t n;

	if (need_admin(r, "list_domains") != 0)
		return API_ERROR;
	if (db_domain_list(r->api->db, &d, &n) != DB_OK)
		return api_error(r, ERR_INTERNAL);
	list = json_array();
	for (size_t i = 0; i < n; i++)
		if (name == NULL || strcmp(name, d[i].name) == 0)
			json_array_append_new(list, ks_domain_view(r, &d[i]));
	free(d);
	return api_reply(r, 200, json_pack("{s:o, s:o}", "domains", list,
	    "links", ks_collection_links(r)));
}

/* Admins, and users whose token's project or domain is in the domain. */
static bool domain_visible(struct api_req *r, const char *id)
{
	struct db_project p;

	if (ks_admin(r))
		return true;
	if (r->token.scope == TOKEN_DOMAIN)
		return strcmp(r->token.scope_id, id) == 0;
	return r->token.scope == TOKEN_PROJECT &&
	    db_project_get(r->api->db, r->token.scope_id, &p) == DB_OK &&
	    strcmp(p.domain_id, id) == 0;
}

enum api_rc ks_domains_show(struct api_req *r)
{
	struct db_domain d;
	int rc;

	if (ks_policy(r, domain_visible(r, r->id), "get_domain") != 0)
		return API_ERROR;
	if ((rc = db_domain_get(r->api->db, r->id, &d)) != DB_OK)
		return ks_db_error(r, rc, "domain", r->id);
	return api_reply(r, 200, json_pack("{s:o}", "domain",
	    ks_domain_view(r, &d)));
}
