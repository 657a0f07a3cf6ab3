/* /v2.1/limits (the project's quotas and usage; admins may ask for
 * another project with ?tenant_id=) and /v2.1/os-availability-zone (the
 * one zone, "nova"). */
#include <string.h>

#include "api/api.h"
#include "db/db.h"

static void set_int(json_t *o, const char *key, json_int_t v)
{
	json_object_set_new(o, key, json_integer(v));
}

/* The limits shown from quotas: Nova's key and the quota resource. */
static const struct {
	const char *key;
	const char *resource;
} quota_limits[] = {
	{ "maxTotalInstances", "instances" }, { "maxTotalCores", "cores" },
	{ "maxTotalRAMSize", "ram" }, { "maxServerMeta", "metadata_items" },
	{ "maxTotalKeypairs", "key_pairs" }, { "maxServerGroups", "server_groups" },
	{ "maxServerGroupMembers", "server_group_members" },
};

static int absolute_limits(struct api_req *r, const char *project, json_t *abs)
{
	int64_t instances = 0, cores = 0, ram = 0, limit;

	for (size_t i = 0; i < sizeof quota_limits / sizeof *quota_limits; i++) {
		if (api_quota_limit(r, project, quota_limits[i].resource, &limit))
			return API_ERROR;
		set_int(abs, quota_limits[i].key, limit);
	}
	if (db_instance_usage(r->api->db, project, &instances, &cores,
	    &ram) != DB_OK)
		return api_error(r, ERR_INTERNAL);
	set_int(abs, "maxImageMeta", 128);
	set_int(abs, "maxPersonality", 5);
	set_int(abs, "maxPersonalitySize", 10240);
	set_int(abs, "maxTotalFloatingIps", -1);
	set_int(abs, "maxSecurityGroups", -1);
	set_int(abs, "maxSecurityGroupRules", -1);
	set_int(abs, "totalRAMUsed", ram);
	set_int(abs, "totalCoresUsed", cores);
	set_int(abs, "totalInstancesUsed", instances);
	set_int(abs, "totalFloatingIpsUsed", 0);
	set_int(abs, "totalSecurityGroupsUsed", 0);
	set_int(abs, "totalServerGroupsUsed", 0);
	return 0;
}

enum api_rc limits_show(struct api_req *r)
{
	const char *other = api_query_get(r, "tenant_id");
	const char *project = r->project_id;
	json_t *abs, *limits, *body;

	if (other != NULL && *other != '\0' && strcmp(other, r->project_id) != 0) {
		if (!r->is_admin)
			return api_error(r, ERR_POLICY,
			    "os_compute_api:limits:other_project");
		if (strlen(other) >= DB_NAME)
			return api_error(r, ERR_BAD_REQUEST, "Invalid tenant_id");
		project = other;
	}
	abs = json_object();
	if (absolute_limits(r, project, abs) != 0) {
		json_decref(abs);
		return API_ERROR;
	}
	limits = json_object();
	json_object_set_new(limits, "rate", json_array());
	json_object_set_new(limits, "absolute", abs);
	body = json_object();
	json_object_set_new(body, "limits", limits);
	return api_reply(r, 200, body);
}

enum api_rc azs_list(struct api_req *r)
{
	json_t *zone = json_object(), *state = json_object();
	json_t *list = json_array(), *body = json_object();

	json_object_set_new(state, "available", json_true());
	json_object_set_new(zone, "zoneName", json_string("nova"));
	json_object_set_new(zone, "zoneState", state);
	json_object_set_new(zone, "hosts", json_null());
	json_array_append_new(list, zone);
	json_object_set_new(body, "availabilityZoneInfo", list);
	return api_reply(r, 200, body);
}
