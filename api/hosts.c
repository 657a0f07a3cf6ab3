/*
 * /v2.1/os-hypervisors (list, detail, show, uptime, statistics, search and
 * servers by hostname pattern) from the compute nodes,
 * /v2.1/os-services from the services table (filtered by kumo's or Nova's
 * binary names), /v2.1/os-aggregates (none);
 * all admin only. A service is up when its last heartbeat is within
 * service_down_time (and it is not forced down). Integer ids before 2.53,
 * uuids from 2.53 on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/api.h"
#include "db/db.h"

static bool service_up(const struct api_req *r, const struct db_service *s)
{
	return !s->forced_down &&
	    time(NULL) - s->last_seen_up <= r->api->conf->service_down_time;
}

static const struct db_service *compute_service(const struct db_service *svcs,
    size_t n, const char *host)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(svcs[i].host, host) == 0 &&
		    strcmp(svcs[i].binary, "kumo-compute") == 0)
			return &svcs[i];
	return NULL;
}

static json_t *id_json(const struct api_req *r, int64_t id, const char *uuid)
{
	return r->mv >= API_MV(2, 53) ? json_string(uuid) : json_integer(id);
}

static void add_usage(json_t *h, const struct db_compute_node *cn, int mv)
{
	json_object_set_new(h, "vcpus", json_integer(cn->vcpus));
	json_object_set_new(h, "memory_mb", json_integer(cn->memory_mb));
	json_object_set_new(h, "local_gb", json_integer(cn->local_gb));
	json_object_set_new(h, "vcpus_used", json_integer(cn->vcpus_used));
	json_object_set_new(h, "memory_mb_used", json_integer(cn->memory_mb_used));
	json_object_set_new(h, "local_gb_used", json_integer(cn->local_gb_used));
	json_object_set_new(h, "free_ram_mb",
	    json_integer(cn->memory_mb - cn->memory_mb_used));
	json_object_set_new(h, "free_disk_gb",
	    json_integer(cn->local_gb - cn->local_gb_used));
	json_object_set_new(h, "current_workload", json_integer(0));
	json_object_set_new(h, "running_vms", json_integer(cn->running_vms));
	json_object_set_new(h, "disk_available_least",
	    json_integer(cn->local_gb - cn->local_gb_used));
	/* a JSON string until 2.28, an object after */
	json_object_set_new(h, "cpu_info", mv >= API_MV(2, 28) ? json_object() :
	    json_string("{}"));
}

static json_t *hypervisor_view(const struct api_req *r,
    const struct db_compute_node *cn, const struct db_service *svc, bool detail)
{
	json_t *h = json_object(), *s;

	json_object_set_new(h, "id", id_json(r, cn->id, cn->uuid));
	json_object_set_new(h, "hypervisor_hostname", view_str(cn->hypervisor_hostname));
	json_object_set_new(h, "state", json_string(svc && service_up(r, svc) ?
	    "up" : "down"));
	json_object_set_new(h, "status", json_string(svc && svc->disabled ?
	    "disabled" : "enabled"));
	if (!detail)
		return h;
	json_object_set_new(h, "hypervisor_type", view_str(cn->hypervisor_type));
	json_object_set_new(h, "hypervisor_version", json_integer(cn->hypervisor_version));
	json_object_set_new(h, "host_ip", view_str(cn->host_ip));
	s = json_object();
	json_object_set_new(s, "id", svc ? id_json(r, svc->id, svc->uuid) : json_null());
	json_object_set_new(s, "host", view_str(cn->host));
	json_object_set_new(s, "disabled_reason",
	    view_str_or_null(svc ? svc->disabled_reason : ""));
	json_object_set_new(h, "service", s);
	if (r->mv < API_MV(2, 88))
		add_usage(h, cn, r->mv);
	else
		json_object_set_new(h, "uptime", json_null());
	return h;
}

/* Both lists, or API_ERROR. The caller frees them. */
static int load_hosts(struct api_req *r, struct db_compute_node **nodes,
    size_t *nn, struct db_service **svcs, size_t *ns)
{
	*nodes = NULL;
	*svcs = NULL;
	if (db_compute_node_list(r->api->db, nodes, nn) != DB_OK ||
	    db_service_list(r->api->db, svcs, ns) != DB_OK) {
		free(*nodes);
		*nodes = NULL;
		return api_error(r, ERR_INTERNAL);
	}
	return 0;
}

/* r->id names this node: its integer id before 2.53, its uuid after. */
static bool node_is(const struct api_req *r, const struct db_compute_node *cn)
{
	char idbuf[32];

	if (r->mv >= API_MV(2, 53))
		return strcmp(r->id, cn->uuid) == 0;
	snprintf(idbuf, sizeof idbuf, "%lld", (long long)cn->id);
	return strcmp(r->id, idbuf) == 0;
}

/* list, detail and show: show keeps the node whose id is r->id. */
static enum api_rc hypervisors_index(struct api_req *r, bool detail, bool show)
{
	struct db_compute_node *nodes;
	struct db_service *svcs;
	json_t *arr, *body = NULL;
	size_t nn, ns;

	if (load_hosts(r, &nodes, &nn, &svcs, &ns) != 0)
		return API_ERROR;
	arr = json_array();
	for (size_t i = 0; i < nn; i++) {
		if (show && !node_is(r, &nodes[i]))
			continue;
		json_array_append_new(arr, hypervisor_view(r, &nodes[i],
		    compute_service(svcs, ns, nodes[i].host), detail));
	}
	free(nodes);
	free(svcs);
	if (show && json_array_size(arr) == 0) {
		json_decref(arr);
		return api_error(r, ERR_HYPERVISOR_NOT_FOUND, r->id);
	}
	body = json_object();
	if (show) {
		json_object_set(body, "hypervisor", json_array_get(arr, 0));
		json_decref(arr);
	} else {
		json_object_set_new(body, "hypervisors", arr);
	}
	return api_reply(r, 200, body);
}

enum api_rc hypervisors_list(struct api_req *r) { return hypervisors_index(r, false, false); }
enum api_rc hypervisors_detail(struct api_req *r) { return hypervisors_index(r, true, false); }
enum api_rc hypervisors_show(struct api_req *r) { return hypervisors_index(r, true, true); }

/* GET /os-hypervisors/statistics (until 2.88): the sums over every node. */
enum api_rc hypervisors_statistics(struct api_req *r)
{
	struct db_compute_node *nodes = NULL, sum;
	json_t *stats, *body;
	size_t n = 0;

	if (r->mv >= API_MV(2, 88))
		return api_error(r, ERR_NOT_FOUND);
	if (db_compute_node_list(r->api->db, &nodes, &n) != DB_OK)
		return api_error(r, ERR_INTERNAL);
	memset(&sum, 0, sizeof sum);
	for (size_t i = 0; i < n; i++) {
		sum.vcpus += nodes[i].vcpus;
		sum.memory_mb += nodes[i].memory_mb;
		sum.local_gb += nodes[i].local_gb;
		sum.vcpus_used += nodes[i].vcpus_used;
		sum.memory_mb_used += nodes[i].memory_mb_used;
		sum.local_gb_used += nodes[i].local_gb_used;
		sum.running_vms += nodes[i].running_vms;
	}
	free(nodes);
	stats = json_object();
	json_object_set_new(stats, "count", json_integer((json_int_t)n));
	add_usage(stats, &sum, r->mv);
	json_object_del(stats, "cpu_info");
	body = json_object();
	json_object_set_new(body, "hypervisor_statistics", stats);
	return api_reply(r, 200, body);
}

/* The servers of a node, as os-hypervisors lists them: uuid and name. */
static int node_servers(struct api_req *r, const char *host, json_t **out)
{
	struct db_instance_filter f = { .host = host };
	struct db_instance *in;
	size_t n;

	*out = NULL;
	if (db_instance_list(r->api->db, &f, &in, &n) != DB_OK)
		return api_error(r, ERR_INTERNAL);
	if (n > 0)
		*out = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(*out, json_pack("{s:s, s:s}", "uuid", in[i].uuid,
		    "name", in[i].name));
	free(in);
	return 0;
}

/* GET /os-hypervisors/{pattern}/search and /{pattern}/servers (until
 * 2.53): the nodes whose hypervisor_hostname holds the pattern; servers
 * adds each node's servers. None is a 404. */
static enum api_rc hypervisors_match(struct api_req *r, bool servers)
{
	struct db_compute_node *nodes;
	struct db_service *svcs;
	json_t *arr, *h, *list, *body;
	size_t nn, ns;

	if (r->mv >= API_MV(2, 53))
		return api_error(r, ERR_NOT_FOUND);
	if (load_hosts(r, &nodes, &nn, &svcs, &ns) != 0)
		return API_ERROR;
	arr = json_array();
	for (size_t i = 0; i < nn; i++) {
		if (strstr(nodes[i].hypervisor_hostname, r->id) == NULL)
			continue;
		h = hypervisor_view(r, &nodes[i], compute_service(svcs, ns,
		    nodes[i].host), false);
		json_array_append_new(arr, h);
		if (!servers)
			continue;
		if (node_servers(r, nodes[i].host, &list) != 0)
			break;
		if (list != NULL)
			json_object_set_new(h, "servers", list);
	}
	free(nodes);
	free(svcs);
	if (r->err != ERR_NONE || json_array_size(arr) == 0) {
		json_decref(arr);
		return r->err != ERR_NONE ? API_ERROR :
		    api_error(r, ERR_HYPERVISOR_NO_MATCH, r->id);
	}
	body = json_object();
	json_object_set_new(body, "hypervisors", arr);
	return api_reply(r, 200, body);
}

enum api_rc hypervisors_search(struct api_req *r) { return hypervisors_match(r, false); }
enum api_rc hypervisors_servers(struct api_req *r) { return hypervisors_match(r, true); }

/* The fake and libvirt drivers report no host uptime: Nova's 501 for a
 * driver without it (openstackclient's hypervisor show then skips it). */
enum api_rc hypervisors_uptime(struct api_req *r)
{
	struct db_compute_node *nodes = NULL;
	size_t n = 0;
	bool found = false;

	if (db_compute_node_list(r->api->db, &nodes, &n) != DB_OK)
		return api_error(r, ERR_INTERNAL);
	for (size_t i = 0; i < n && !found; i++)
		found = node_is(r, &nodes[i]);
	free(nodes);
	if (!found)
		return api_error(r, ERR_HYPERVISOR_NOT_FOUND, r->id);
	return api_error(r, ERR_NOT_IMPLEMENTED,
	    "Virt driver does not implement uptime function.");
}

/* Host aggregates: kumo has none (the clients list them for hypervisor show). */
enum api_rc aggregates_list(struct api_req *r)
{
	json_t *body = json_object();

	json_object_set_new(body, "aggregates", json_array());
	return api_reply(r, 200, body);
}

/* shown: the binary's name in the answer (Nova's, when the caller asked
 * by Nova's name), or NULL for kumo's own. */
static json_t *service_view(const struct api_req *r, const struct db_service *s,
    const char *shown)
{
	json_t *v = json_object();
	bool compute = strcmp(s->binary, "kumo-compute") == 0;

	json_object_set_new(v, "binary", view_str(shown ? shown : s->binary));
	json_object_set_new(v, "host", view_str(s->host));
	json_object_set_new(v, "id", id_json(r, s->id, s->uuid));
	json_object_set_new(v, "zone", json_string(compute ? "nova" : "internal"));
	json_object_set_new(v, "status", json_string(s->disabled ? "disabled" : "enabled"));
	json_object_set_new(v, "state", json_string(service_up(r, s) ? "up" : "down"));
	json_object_set_new(v, "updated_at", view_time_usec(s->updated_at));
	json_object_set_new(v, "disabled_reason", view_str_or_null(s->disabled_reason));
	if (r->mv >= API_MV(2, 11))
		json_object_set_new(v, "forced_down", json_boolean(s->forced_down));
	return v;
}

/* A filter value; clients send the literal "None" for no filter. */
static const char *filter_arg(struct api_req *r, const char *name)
{
	const char *v = api_query_get(r, name);

	return v == NULL || *v == '\0' || strcmp(v, "None") == 0 ? NULL : v;
}

/* Nova's names of kumo's services, for the clients (and tempest) that
 * filter os-services by them: a filter by Nova's name selects kumo's
 * service and the answer calls it by the name asked for. */
static const struct {
	const char *nova, *kumo;
} binary_aliases[] = {
	{ "nova-compute", "kumo-compute" },
	{ "nova-scheduler", "kumo-scheduler" },
	{ "nova-conductor", "kumo-conductor" },
};

static const char *binary_kumo_name(const char *binary)
{
	for (size_t i = 0; i < sizeof binary_aliases / sizeof *binary_aliases; i++)
		if (strcmp(binary, binary_aliases[i].nova) == 0)
			return binary_aliases[i].kumo;
	return binary;
}

enum api_rc services_list(struct api_req *r)
{
	const char *host = filter_arg(r, "host"), *binary = filter_arg(r, "binary");
	const char *shown = NULL;
	struct db_service *svcs;
	json_t *arr, *body;
	size_t n;

	if (binary != NULL && binary_kumo_name(binary) != binary) {
		shown = binary;
		binary = binary_kumo_name(binary);
	}

	if (db_service_list(r->api->db, &svcs, &n) != DB_OK)
		return api_error(r, ERR_INTERNAL);
	arr = json_array();
	for (size_t i = 0; i < n; i++) {
		if ((host && strcmp(host, svcs[i].host)) ||
		    (binary && strcmp(binary, svcs[i].binary)))
			continue;
		json_array_append_new(arr, service_view(r, &svcs[i], shown));
	}
	free(svcs);
	body = json_object();
	json_object_set_new(body, "services", arr);
	return api_reply(r, 200, body);
}
