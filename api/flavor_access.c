/*
 * Private flavors' access, as Nova's os-flavor-access: GET
 * /v2.1/flavors/{id}/os-flavor-access lists the projects a private flavor
 * is given to; POST /v2.1/flavors/{id}/action with addTenantAccess or
 * removeTenantAccess changes them (each action its own admin rule). All
 * three answer {"flavor_access": [{"flavor_id", "tenant_id"}, ...]}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "db/db.h"

#define P_FA "os_compute_api:os-flavor-access"

static json_t *access_view(const char *flavorid,
    const struct db_flavor_access *list, size_t n)
{
	json_t *arr = json_array(), *body = json_object();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:s, s:s}", "flavor_id",
		    flavorid, "tenant_id", list[i].project_id));
	json_object_set_new(body, "flavor_access", arr);
	return body;
}

static enum api_rc reply_access(struct api_req *r, const char *flavorid)
{
	struct db_flavor_access *list;
	json_t *body;
	size_t n;

	if (db_flavor_access_list(r->api->db, flavorid, &list, &n) != DB_OK)
		return api_error(r, ERR_INTERNAL);
	body = access_view(flavorid, list, n);
	free(list);
	return api_reply(r, 200, body);
}

static int load(struct api_req *r, struct db_flavor *f)
{
	int rc = api_flavor_get(r, r->id, f);

	if (rc == DB_NOTFOUND)
		return api_error(r, ERR_FLAVOR_NOT_FOUND, r->id);
	return rc == DB_OK ? 0 : api_error(r, ERR_INTERNAL);
}

enum api_rc flavor_access_list(struct api_req *r)
{
	struct db_flavor f;

	if (load(r, &f) != 0)
		return API_ERROR;
	if (f.is_public)
		return api_error(r, ERR_FLAVOR_ACCESS_PUBLIC);
	return reply_access(r, f.flavorid);
}

/* {"tenant": a string of 1 to 255 characters}, Nova's schema. */
static int parse_tenant(struct api_req *r, const char *action,
    const json_t *v, char *tenant, size_t len)
{
	static const char *const keys[] = { "tenant", NULL };

	if (v_object(r, action, v) || v_required(r, action, v, "tenant") ||
	    v_string(r, "tenant", json_object_get(v, "tenant"), 1, 255, tenant,
	    len) || v_no_extra(r, action, v, keys))
		return API_ERROR;
	return 0;
}

/* Nova's verify_project_id: with kumo's own identity service, a project
 * it does not know is refused (400); noauth2 and an external Keystone
 * take the id as it is, as Nova does when it cannot ask. */
static int verify_project(struct api_req *r, const char *tenant)
{
	struct db_project p;
	char msg[320];
	int rc;

	if (!r->api->conf->identity_enabled || r->api->identity == NULL)
		return 0;
	if ((rc = db_project_get(r->api->db, tenant, &p)) == DB_OK)
		return 0;
	if (rc != DB_NOTFOUND)
		return api_error(r, ERR_INTERNAL);
	snprintf(msg, sizeof msg, "Project ID %s is not a valid project.", tenant);
	return api_error(r, ERR_BAD_REQUEST, msg);
}

static enum api_rc add_access(struct api_req *r, const struct db_flavor *f,
    const char *tenant)
{
	int rc;

	/* before 2.7 Nova added access to a public flavor, to no effect */
	if (f->is_public && r->mv >= API_MV(2, 7))
		return api_error(r, ERR_FLAVOR_IS_PUBLIC);
	rc = db_flavor_access_add(r->api->db, f->flavorid, tenant);
	if (rc == DB_CONFLICT)
		return api_error(r, ERR_FLAVOR_ACCESS_EXISTS, f->flavorid, tenant);
	if (rc == DB_NOTFOUND)  /* deleted meanwhile */
		return api_error(r, ERR_FLAVOR_NOT_FOUND, f->flavorid);
	if (rc != DB_OK)
		return api_error(r, ERR_INTERNAL);
	log_info("flavor %s: access given to project %s", f->flavorid, tenant);
	return reply_access(r, f->flavorid);
}

static enum api_rc remove_access(struct api_req *r, const struct db_flavor *f,
    const char *tenant)
{
	int rc = db_flavor_access_remove(r->api->db, f->flavorid, tenant);

	if (rc == DB_NOTFOUND)
		return api_error(r, ERR_FLAVOR_ACCESS_NOT_FOUND, f->flavorid, tenant);
	if (rc != DB_OK)
		return api_error(r, ERR_INTERNAL);
	log_info("flavor %s: access of project %s removed", f->flavorid, tenant);
	return reply_access(r, f->flavorid);
}

static const struct {
	const char *key;
	const char *rule;
	enum api_rc (*run)(struct api_req *r, const struct db_flavor *f,
	    const char *tenant);
} actions[] = {
	{ "addTenantAccess", P_FA ":add_tenant_access", add_access },
	{ "removeTenantAccess", P_FA ":remove_tenant_access", remove_access },
};

/* As servers_action: exactly one key; then the rule, the schema, the
 * flavor, the run. */
enum api_rc flavors_action(struct api_req *r)
{
	char tenant[256];
	struct db_flavor f;
	json_t *v;
	int i;

	if ((i = api_action_pick(r, actions, sizeof actions / sizeof *actions,
	    sizeof *actions, &v)) < 0)
		return API_ERROR;
	if (api_policy_check(r, actions[i].rule) != 0 ||
	    parse_tenant(r, actions[i].key, v, tenant, sizeof tenant) != 0 ||
	    verify_project(r, tenant) != 0 || load(r, &f) != 0)
		return API_ERROR;
	return actions[i].run(r, &f, tenant);
}
