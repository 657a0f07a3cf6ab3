/*
 * /v2.1/os-hosts (admin, up to 2.42 as Nova; 404 from 2.43): the hosts of
 * the enabled services with their service topic and zone, a compute host's
 * resources (total, used now, used by its instances, per project), and the
 * update and power actions, which kumo's drivers do not have (501 for a
 * host that exists, after Nova's checks of the body and the host).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "db/db.h"

#define HOSTS_MV_MAX API_MV(2, 42)

/* Nova's zone of a service: computes are in the default zone, the rest
 * "internal". */
static const char *service_zone(const struct db_service *s)
{
	return strcmp(s->topic, "compute") == 0 ? "nova" : "internal";
}

enum api_rc os_hosts_list(struct api_req *r)
{
	const char *zone = api_query_get(r, "zone");
	struct db_service *svcs;
	json_t *arr, *body;
	size_t n;

	if (r->mv > HOSTS_MV_MAX)
		return api_error(r, ERR_NOT_FOUND);
	if (db_service_list(r->api->db, &svcs, &n) != DB_OK)
		return api_error(r, ERR_INTERNAL);
	arr = json_array();
	for (size_t i = 0; i < n; i++) {
		if (svcs[i].disabled ||
		    (zone && *zone && strcmp(zone, service_zone(&svcs[i]))))
			continue;
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s}",
		    "host_name", svcs[i].host, "service", svcs[i].topic,
		    "zone", service_zone(&svcs[i])));
	}
	free(svcs);
	body = json_object();
	json_object_set_new(body, "hosts", arr);
	return api_reply(r, 200, body);
}

static json_t *resource(const char *host, const char *project, int64_t cpu,
    int64_t mem, int64_t disk)
{
	return json_pack("{s:{s:s, s:s, s:I, s:I, s:I}}", "resource",
	    "host", host, "project", project, "cpu", (json_int_t)cpu,
	    "memory_mb", (json_int_t)mem, "disk_gb", (json_int_t)disk);
}

/* (used_max) and one row per project: the instances on the host. */
static int add_instance_usage(struct api_req *r, const char *host, json_t *arr)
{
	struct db_instance_filter f = { .host = host };
	struct db_instance *in;
	json_t *projects = json_object(), *p;
	int64_t cpu = 0, mem = 0, disk = 0;
	const char *key;
	size_t n;

	if (db_instance_list(r->api->db, &f, &in, &n) != DB_OK) {
		json_decref(projects);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		int64_t d = (int64_t)in[i].root_gb + in[i].ephemeral_gb;

		cpu += in[i].vcpus;
		mem += in[i].memory_mb;
		disk += d;
		if ((p = json_object_get(projects, in[i].project_id)) == NULL) {
			p = json_pack("[I, I, I]", (json_int_t)0, (json_int_t)0, (json_int_t)0);
			json_object_set_new(projects, in[i].project_id, p);
		}
		json_array_set_new(p, 0, json_integer(json_integer_value(json_array_get(p, 0)) + in[i].vcpus));
		json_array_set_new(p, 1, json_integer(json_integer_value(json_array_get(p, 1)) + in[i].memory_mb));
		json_array_set_new(p, 2, json_integer(json_integer_value(json_array_get(p, 2)) + d));
	}
	free(in);
	json_array_append_new(arr, resource(host, "(used_max)", cpu, mem, disk));
	json_object_foreach(projects, key, p)
		json_array_append_new(arr, resource(host, key,
		    json_integer_value(json_array_get(p, 0)),
		    json_integer_value(json_array_get(p, 1)),
		    json_integer_value(json_array_get(p, 2))));
	json_decref(projects);
	return 0;
}

enum api_rc os_hosts_show(struct api_req *r)
{
	struct db_compute_node cn;
	json_t *arr, *body;
	int rc;

	if (r->mv > HOSTS_MV_MAX)
		return api_error(r, ERR_NOT_FOUND);
	rc = db_compute_node_get(r->api->db, r->id, &cn);
	if (rc == DB_NOTFOUND)
		return api_error(r, ERR_COMPUTE_HOST_NOT_FOUND, r->id);
	if (rc != DB_OK)
		return api_error(r, ERR_INTERNAL);
	arr = json_array();
	json_array_append_new(arr, resource(cn.host, "(total)", cn.vcpus,
	    cn.memory_mb, cn.local_gb));
	json_array_append_new(arr, resource(cn.host, "(used_now)", cn.vcpus_used,
	    cn.memory_mb_used, cn.local_gb_used));
	if (add_instance_usage(r, cn.host, arr) != 0) {
		json_decref(arr);
		return api_error(r, ERR_INTERNAL);
	}
	body = json_object();
	json_object_set_new(body, "host", arr);
	return api_reply(r, 200, body);
}

/* 0 when r->id is the host of a service (Nova's HostAPI asserts it before
 * it acts), else API_ERROR. */
static int host_check(struct api_req *r)
{
	struct db_service *svcs;
	size_t n;
	bool found = false;

	if (db_service_list(r->api->db, &svcs, &n) != DB_OK)
		return api_error(r, ERR_INTERNAL);
	for (size_t i = 0; i < n && !found; i++)
		found = strcmp(svcs[i].host, r->id) == 0;
	free(svcs);
	return found ? 0 : api_error(r, ERR_HOST_NOT_FOUND, r->id);
}

/* Nova's hosts.update schema: status and maintenance_mode, each one of
 * enable/disable in three cases; nothing else. */
static int update_field_check(struct api_req *r, const json_t *body,
    const char *key)
{
	static const char *const modes[] = { "enable", "disable", "Enable",
		"Disable", "ENABLE", "DISABLE", NULL };
	const json_t *v = json_object_get(body, key);
	char repr[300];

	if (v == NULL)
		return 0;
	api_pyrepr(v, repr, sizeof repr);
	if (!json_is_string(v))
		return api_invalid(r, key, v, "%s is not of type 'string'", repr);
	for (size_t i = 0; modes[i]; i++)
		if (strcmp(json_string_value(v), modes[i]) == 0)
			return 0;
	return api_invalid(r, key, v, "%s is not one of ['enable', 'disable', "
	    "'Enable', 'Disable', 'ENABLE', 'DISABLE']", repr);
}

enum api_rc os_hosts_update(struct api_req *r)
{
	static const char *const keys[] = { "status", "maintenance_mode", NULL };

	if (r->mv > HOSTS_MV_MAX)
		return api_error(r, ERR_NOT_FOUND);
	if (v_object(r, NULL, r->json_in) || v_no_extra(r, NULL, r->json_in, keys) ||
	    update_field_check(r, r->json_in, "status") ||
	    update_field_check(r, r->json_in, "maintenance_mode"))
		return API_ERROR;
	if (host_check(r) != 0)
		return API_ERROR;
	return api_error(r, ERR_NOT_IMPLEMENTED,
	    "Virt driver does not implement host disabled status or maintenance mode.");
}

/* startup, shutdown, reboot: no driver of kumo's powers its host. */
enum api_rc os_hosts_power(struct api_req *r)
{
	if (r->mv > HOSTS_MV_MAX)
		return api_error(r, ERR_NOT_FOUND);
	if (host_check(r) != 0)
		return API_ERROR;
	return api_error(r, ERR_NOT_IMPLEMENTED, "Action is not supported.");
}
