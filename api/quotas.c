/*
 * Per-project quotas: Nova's defaults, overridden per project in the
 * quotas table (db/quotas.c). Enforced when servers are created (Nova's
 * TooManyInstances, 403) and for keypairs; shown in /v2.1/limits and
 * /v2.1/os-quota-sets (show, detail, defaults; update and revert for
 * admins). Resources kumo does not have (floating ips, security groups...)
 * are shown with Nova's defaults and never enforced.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "db/db.h"

#define P_QS "os_compute_api:os-quota-sets:"

/* Nova's [quota] defaults; `until` is the microversion that dropped the
 * key from the API (0 = still there). */
static const struct {
	const char *name;
	int64_t def;
	int until;
} resources[] = {
	{ "instances", 10, 0 }, { "cores", 20, 0 }, { "ram", 51200, 0 },
	{ "key_pairs", 100, 0 }, { "metadata_items", 128, 0 },
	{ "server_groups", 10, 0 }, { "server_group_members", 10, 0 },
	{ "fixed_ips", -1, API_MV(2, 36) }, { "floating_ips", 10, API_MV(2, 36) },
	{ "security_groups", 10, API_MV(2, 36) },
	{ "security_group_rules", 20, API_MV(2, 36) },
	{ "injected_files", 5, API_MV(2, 57) },
	{ "injected_file_content_bytes", 10240, API_MV(2, 57) },
	{ "injected_file_path_bytes", 255, API_MV(2, 57) },
};
#define NRES (sizeof resources / sizeof *resources)

static bool shown(const struct api_req *r, size_t i)
{
	return resources[i].until == 0 || r->mv < resources[i].until;
}

static int64_t default_of(const char *resource)
{
	for (size_t i = 0; i < NRES; i++)
		if (strcmp(resources[i].name, resource) == 0)
			return resources[i].def;
	return -1;
}

int api_quota_limit(struct api_req *r, const char *project,
    const char *resource, int64_t *limit)
{
	int rc = db_quota_get(r->api->db, project, resource, limit);

	if (rc == DB_NOTFOUND) {
		*limit = default_of(resource);
		return 0;
	}
	return rc == DB_OK ? 0 : api_error(r, ERR_INTERNAL);
}

/* ---- enforcement at create ---- */

struct quota_use {
	const char *name;
	int64_t limit, used, per;   /* per: what one instance takes */
};

/* Appends "a" or ", a" to buf. */
static void join(char *buf, size_t len, const char *s)
{
	size_t n = strlen(buf);

	snprintf(buf + n, len - n, "%s%s", n ? ", " : "", s);
}

/* Nova's TooManyInstances text over the resources that do not fit. */
static int too_many(struct api_req *r, const struct quota_use *u, size_t nu,
    int min, int max, int64_t fits_limit)
{
	char overs[64] = "", req[96] = "", used[96] = "", allowed[96] = "", t[48];

	for (size_t i = 0; i < nu; i++) {
		if (u[i].limit < 0 || u[i].used + u[i].per * min <= u[i].limit)
			continue;
		join(overs, sizeof overs, u[i].name);
		if (i == 0 && min != max)
			snprintf(t, sizeof t, "%d-%d", min, max);
		else
			snprintf(t, sizeof t, "%lld", (long long)(u[i].per * max));
		join(req, sizeof req, t);
		snprintf(t, sizeof t, "%lld", (long long)u[i].used);
		join(used, sizeof used, t);
		snprintf(t, sizeof t, "%lld", (long long)u[i].limit);
		join(allowed, sizeof allowed, t);
	}
	log_info("quota exceeded for %s in project %s: %lld more fit",
	    overs, r->project_id, (long long)fits_limit);
	return api_error(r, ERR_QUOTA_EXCEEDED, overs, req, used, allowed, overs);
}

/* The project's instances/cores/ram limits and usage. */
static int load_use(struct api_req *r, const struct db_flavor *fl,
    struct quota_use u[3])
{
	u[0] = (struct quota_use){ "instances", 0, 0, 1 };
	u[1] = (struct quota_use){ "cores", 0, 0, fl->vcpus };
	u[2] = (struct quota_use){ "ram", 0, 0, fl->memory_mb };
	for (size_t i = 0; i < 3; i++)
		if (api_quota_limit(r, r->project_id, u[i].name, &u[i].limit) != 0)
			return API_ERROR;
	if (db_instance_usage(r->api->db, r->project_id, &u[0].used, &u[1].used,
	    &u[2].used) != DB_OK)
		return api_error(r, ERR_INTERNAL);
	return 0;
}

int api_quota_check_build(struct api_req *r, const struct db_flavor *fl,
    int min, int max, int *count)
{
	struct quota_use u[3];
	int64_t fits = max;

	if (load_use(r, fl, u) != 0)
		return API_ERROR;
	for (size_t i = 0; i < 3; i++) {
		int64_t room;

		if (u[i].limit < 0 || u[i].per <= 0)
			continue;
		room = u[i].limit > u[i].used ? (u[i].limit - u[i].used) / u[i].per : 0;
		if (room < fits)
			fits = room;
	}
	if (fits < min)
		return too_many(r, u, 3, min, max, fits);
	*count = (int)fits;
	return 0;
}

int api_quota_recheck(struct api_req *r, const struct db_flavor *fl, int count)
{
	struct quota_use u[3];

	if (load_use(r, fl, u) != 0)
		return API_ERROR;
	for (size_t i = 0; i < 3; i++)
		if (u[i].limit >= 0 && u[i].used > u[i].limit) {
			for (size_t j = 0; j < 3; j++)   /* as before this request */
				u[j].used -= u[j].per * count;
			return too_many(r, u, 3, count, count, 0);
		}
	return 0;
}

/* ---- /v2.1/os-quota-sets ---- */

/* A project's own quotas, or any project's for admins. */
static int may_see(struct api_req *r, const char *action)
{
	char policy[96];

	if (r->is_admin || strcmp(r->id, r->project_id) == 0)
		return 0;
	snprintf(policy, sizeof policy, P_QS "%s", action);
	return api_error(r, ERR_POLICY, policy);
}

/* {"quota_set": {"id": project, resource: limit | {in_use, limit,
 * reserved}}}; defaults ignores the project's overrides. */
static enum api_rc quota_set_reply(struct api_req *r, bool defaults,
    bool detail, bool with_id)
{
	int64_t usage[3] = { 0, 0, 0 }, limit;
	json_t *qs = json_object(), *body;

	if (detail && db_instance_usage(r->api->db, r->id, &usage[0], &usage[1],
	    &usage[2]) != DB_OK) {
		json_decref(qs);
		return api_error(r, ERR_INTERNAL);
	}
	if (with_id)
		json_object_set_new(qs, "id", view_str(r->id));
	for (size_t i = 0; i < NRES; i++) {
		if (!shown(r, i))
			continue;
		limit = resources[i].def;
		if (!defaults && api_quota_limit(r, r->id, resources[i].name, &limit)) {
			json_decref(qs);
			return API_ERROR;
		}
		json_object_set_new(qs, resources[i].name, !detail ? json_integer(limit) :
		    json_pack("{s:I, s:I, s:i}", "in_use", (json_int_t)(i < 3 ? usage[i] : 0),
		    "limit", (json_int_t)limit, "reserved", 0));
	}
	body = json_object();
	json_object_set_new(body, "quota_set", qs);
	return api_reply(r, 200, body);
}

enum api_rc quotas_show(struct api_req *r)
{
	return may_see(r, "show") ? API_ERROR : quota_set_reply(r, false, false, true);
}

enum api_rc quotas_detail(struct api_req *r)
{
	return may_see(r, "detail") ? API_ERROR : quota_set_reply(r, false, true, true);
}

enum api_rc quotas_defaults(struct api_req *r)
{
	return quota_set_reply(r, true, false, true);
}

/* Nova's update schema: known resources, integers >= -1, and "force". */
int quotas_validate_update(struct api_req *r, const json_t *qs)
{
	const char *key;
	json_t *v;
	int64_t n;
	bool b;

	json_object_foreach((json_t *)qs, key, v) {
		size_t i = 0;

		if (strcmp(key, "force") == 0) {
			if (v_bool_param(r, "force", v, &b))
				return API_ERROR;
			continue;
		}
		while (i < NRES && !(strcmp(resources[i].name, key) == 0 && shown(r, i)))
			i++;
		if (i == NRES)
			return api_invalid(r, "quota_set", qs, "Additional properties "
			    "are not allowed ('%.60s' was unexpected)", key);
		if (v_int_param(r, key, v, -1, 0x7fffffff, &n))
			return API_ERROR;
	}
	return 0;
}

enum api_rc quotas_update(struct api_req *r)
{
	static const char *const top[] = { "quota_set", NULL };
	const json_t *qs = json_object_get(r->json_in, "quota_set");
	const char *key;
	json_t *v;
	int64_t n;

	if (v_required(r, NULL, r->json_in, "quota_set") ||
	    v_no_extra(r, NULL, r->json_in, top) || v_object(r, "quota_set", qs) ||
	    quotas_validate_update(r, qs))
		return API_ERROR;
	if (strlen(r->id) >= DB_NAME)
		return api_error(r, ERR_BAD_REQUEST, "Invalid project id");
	json_object_foreach((json_t *)qs, key, v) {
		if (strcmp(key, "force") == 0)
			continue;
		v_int_param(r, key, v, -1, 0x7fffffff, &n);
		if (db_quota_set(r->api->db, r->id, key, n) != DB_OK)
			return api_error(r, ERR_INTERNAL);
		log_info("quota %s of project %s set to %lld", key, r->id, (long long)n);
	}
	return quota_set_reply(r, false, false, false);
}

enum api_rc quotas_delete(struct api_req *r)
{
	if (db_quota_delete(r->api->db, r->id) != DB_OK)
		return api_error(r, ERR_INTERNAL);
	log_info("quotas of project %s reverted to the defaults", r->id);
	return api_reply(r, 202, NULL);
}
