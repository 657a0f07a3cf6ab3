/* /v2.1/limits (no quotas yet: every limit -1, with the project's usage)
 * and /v2.1/os-availability-zone (the one zone, "nova"). */
#include "api/api.h"
#include "db/db.h"

static void set_int(json_t *o, const char *key, json_int_t v)
{
	json_object_set_new(o, key, json_integer(v));
}

enum api_rc limits_show(struct api_req *r)
{
	int64_t instances = 0, cores = 0, ram = 0;
	json_t *abs = json_object(), *limits = json_object(), *body = json_object();

	if (db_instance_usage(r->api->db, r->project_id, &instances, &cores,
	    &ram) != DB_OK) {
		json_decref(abs);
		json_decref(limits);
		json_decref(body);
		return api_error(r, ERR_INTERNAL);
	}
	set_int(abs, "maxTotalInstances", -1);
	set_int(abs, "maxTotalCores", -1);
	set_int(abs, "maxTotalRAMSize", -1);
	set_int(abs, "maxServerMeta", 128);
	set_int(abs, "maxImageMeta", 128);
	set_int(abs, "maxPersonality", 5);
	set_int(abs, "maxPersonalitySize", 10240);
	set_int(abs, "maxTotalKeypairs", 100);
	set_int(abs, "maxServerGroups", 10);
	set_int(abs, "maxServerGroupMembers", 10);
	set_int(abs, "maxTotalFloatingIps", -1);
	set_int(abs, "maxSecurityGroups", -1);
	set_int(abs, "maxSecurityGroupRules", -1);
	set_int(abs, "totalRAMUsed", ram);
	set_int(abs, "totalCoresUsed", cores);
	set_int(abs, "totalInstancesUsed", instances);
	set_int(abs, "totalFloatingIpsUsed", 0);
	set_int(abs, "totalSecurityGroupsUsed", 0);
	set_int(abs, "totalServerGroupsUsed", 0);
	json_object_set_new(limits, "rate", json_array());
	json_object_set_new(limits, "absolute", abs);
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
