/*
 * /v2.1/servers: list (?name= regex, ?status=, ?limit=&marker=,
 * ?all_tenants for admins), detail, show and delete, and the server view
 * with its per-microversion fields (transcripts 20-25, 47). A list is one
 * database query; only servers in ERROR cost one more (their fault).
 */
#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/api.h"
#include "common/rpcapi.h"
#include "common/states.h"
#include "db/db.h"

#define LIST_MAX 1000  /* Nova's osapi_max_limit */

/* What a view needs beyond the instance: host states for host_status. */
struct view_ctx {
	struct db_service *services;  /* NULL unless host_status is shown */
	size_t n_services;
	bool show;                    /* GET /servers/{id}: server_groups too */
};

static json_t *image_ref_view(const struct api_req *r, const char *image_ref)
{
	json_t *img = json_object();

	json_object_set_new(img, "id", view_str(image_ref));
	json_object_set_new(img, "links", view_bookmark(r, "images", image_ref));
	return img;
}

static json_t *flavor_ref_view(const struct api_req *r,
    const struct db_instance *in)
{
	json_t *f = json_object();

	if (r->mv < API_MV(2, 47)) {
		json_object_set_new(f, "id", view_str(in->flavorid));
		json_object_set_new(f, "links", view_bookmark(r, "flavors", in->flavorid));
		return f;
	}
	json_object_set_new(f, "vcpus", json_integer(in->vcpus));
	json_object_set_new(f, "ram", json_integer(in->memory_mb));
	json_object_set_new(f, "disk", json_integer(in->root_gb));
	json_object_set_new(f, "ephemeral", json_integer(in->ephemeral_gb));
	json_object_set_new(f, "swap", json_integer(in->swap));
	json_object_set_new(f, "original_name", view_str(in->flavor_name));
	json_object_set_new(f, "extra_specs", json_object());
	return f;
}

/* A fault on ERROR: details only for admins or non-500 codes (Nova). */
static void add_fault(struct api_req *r, json_t *s, const struct db_instance *in)
{
	struct db_fault f;
	json_t *j;

	if (db_fault_get_latest(r->api->db, in->uuid, &f) != DB_OK)
		return;
	j = json_object();
	json_object_set_new(j, "code", json_integer(f.code));
	json_object_set_new(j, "created", view_str(f.created_at));
	json_object_set_new(j, "message", view_str(f.message));
	if ((r->is_admin || f.code != 500) && f.details[0] != '\0')
		json_object_set_new(j, "details", view_str(f.details));
	json_object_set_new(s, "fault", j);
}

static const char *host_status(const struct api_req *r,
    const struct view_ctx *vc, const char *host)
{
	time_t now = time(NULL);

	if (host[0] == '\0')
		return "";
	for (size_t i = 0; i < vc->n_services; i++) {
		const struct db_service *s = &vc->services[i];

		if (strcmp(s->host, host) != 0 || strcmp(s->binary, "kumo-compute") != 0)
			continue;
		if (s->forced_down ||
		    now - s->last_seen_up > r->api->conf->service_down_time)
			return "DOWN";
		return s->disabled ? "MAINTENANCE" : "UP";
	}
	return "UNKNOWN";
}

/* Nova's hostname from a display name: lower case, [a-z0-9-] only. */
static void hostname_of(const char *name, char *out, size_t len)
{
	size_t j = 0;

	for (const char *p = name; *p && j + 1 < len && j < 63; p++) {
		char c = (char)tolower((unsigned char)*p);

		if (isalnum((unsigned char)c) || c == '-')
			out[j++] = c;
		else if ((c == ' ' || c == '_' || c == '.') && j > 0 && out[j - 1] != '-')
			out[j++] = '-';
	}
	while (j > 0 && out[j - 1] == '-')
		j--;
	out[j] = '\0';
	if (j == 0)
		str_copy(out, "server", len);
}

/* The OS-EXT-SRV-ATTR fields (admins only); more from 2.3 on. */
static void add_srv_attrs(const struct api_req *r, json_t *s,
    const struct db_instance *in)
{
	char iname[32] = "", hn[64];

	if (in->host[0] != '\0')
		snprintf(iname, sizeof iname, "instance-%08llx", (unsigned long long)in->id);
	json_object_set_new(s, "OS-EXT-SRV-ATTR:host", view_str_or_null(in->host));
	json_object_set_new(s, "OS-EXT-SRV-ATTR:instance_name", json_string(iname));
	json_object_set_new(s, "OS-EXT-SRV-ATTR:hypervisor_hostname",
	    view_str_or_null(in->node));
	if (r->mv < API_MV(2, 3))
		return;
	hostname_of(in->name, hn, sizeof hn);
	json_object_set_new(s, "OS-EXT-SRV-ATTR:reservation_id", view_str(in->reservation_id));
	json_object_set_new(s, "OS-EXT-SRV-ATTR:launch_index", json_integer(0));
	json_object_set_new(s, "OS-EXT-SRV-ATTR:hostname", json_string(hn));
	json_object_set_new(s, "OS-EXT-SRV-ATTR:kernel_id", json_string(""));
	json_object_set_new(s, "OS-EXT-SRV-ATTR:ramdisk_id", json_string(""));
	json_object_set_new(s, "OS-EXT-SRV-ATTR:root_device_name", json_string("/dev/vda"));
	json_object_set_new(s, "OS-EXT-SRV-ATTR:user_data", json_null());
}

/* Fields added by later microversions, after the 2.1 set. */
static void add_later_fields(const struct api_req *r, json_t *s,
    const struct db_instance *in, const struct view_ctx *vc)
{
	if (r->mv >= API_MV(2, 16) && r->is_admin)
		json_object_set_new(s, "host_status",
		    json_string(host_status(r, vc, in->host)));
	if (r->mv >= API_MV(2, 9))
		json_object_set_new(s, "locked", json_false());
	if (r->mv >= API_MV(2, 73))
		json_object_set_new(s, "locked_reason", json_null());
	if (r->mv >= API_MV(2, 19))
		json_object_set_new(s, "description", json_null());
	if (r->mv >= API_MV(2, 26))
		json_object_set_new(s, "tags", json_array());
	if (r->mv >= API_MV(2, 63))
		json_object_set_new(s, "trusted_image_certificates", json_null());
	if (r->mv >= API_MV(2, 71) && vc->show)
		json_object_set_new(s, "server_groups", json_array());
}

static json_t *server_view(struct api_req *r, const struct db_instance *in,
    const struct view_ctx *vc)
{
	const char *status = state_api_status(in->vm_state, in->task_state);
	const char *az = in->availability_zone[0] ? in->availability_zone :
	    in->host[0] ? "nova" : "";
	json_t *s = json_object();
	char host_id[57];

	view_host_id(in->project_id, in->host, host_id);
	json_object_set_new(s, "id", json_string(in->uuid));
	json_object_set_new(s, "name", view_str(in->name));
	json_object_set_new(s, "status", json_string(status));
	json_object_set_new(s, "tenant_id", view_str(in->project_id));
	json_object_set_new(s, "user_id", view_str(in->user_id));
	json_object_set_new(s, "metadata", json_object());
	json_object_set_new(s, "hostId", json_string(host_id));
	json_object_set_new(s, "image", image_ref_view(r, in->image_ref));
	json_object_set_new(s, "flavor", flavor_ref_view(r, in));
	json_object_set_new(s, "created", view_str(in->created_at));
	json_object_set_new(s, "updated", view_str(in->updated_at[0] ?
	    in->updated_at : in->created_at));
	json_object_set_new(s, "addresses", json_object());
	json_object_set_new(s, "accessIPv4", json_string(""));
	json_object_set_new(s, "accessIPv6", json_string(""));
	json_object_set_new(s, "links", view_links(r, "servers", in->uuid));
	json_object_set_new(s, "OS-DCF:diskConfig", json_string("MANUAL"));
	if (strcmp(status, "ACTIVE") == 0 || strcmp(status, "BUILD") == 0)
		json_object_set_new(s, "progress", json_integer(0));
	json_object_set_new(s, "OS-EXT-AZ:availability_zone", view_str(az));
	json_object_set_new(s, "config_drive", json_string(""));
	json_object_set_new(s, "key_name", view_str_or_null(in->key_name));
	json_object_set_new(s, "OS-SRV-USG:launched_at", view_time_usec(in->launched_at));
	json_object_set_new(s, "OS-SRV-USG:terminated_at", view_time_usec(in->terminated_at));
	if (r->is_admin)
		add_srv_attrs(r, s, in);
	json_object_set_new(s, "OS-EXT-STS:task_state", view_str_or_null(in->task_state));
	json_object_set_new(s, "OS-EXT-STS:vm_state", json_string(in->vm_state));
	json_object_set_new(s, "OS-EXT-STS:power_state", json_integer(in->power_state));
	json_object_set_new(s, "os-extended-volumes:volumes_attached", json_array());
	add_later_fields(r, s, in, vc);
	if (strcmp(status, "ERROR") == 0)
		add_fault(r, s, in);
	return s;
}

static json_t *server_brief(struct api_req *r, const struct db_instance *in)
{
	json_t *s = json_object();

	json_object_set_new(s, "id", json_string(in->uuid));
	json_object_set_new(s, "name", view_str(in->name));
	json_object_set_new(s, "links", view_links(r, "servers", in->uuid));
	return s;
}

/* host_status needs the services: one query, only when it is shown. */
static void view_ctx_init(struct api_req *r, struct view_ctx *vc, bool show)
{
	memset(vc, 0, sizeof *vc);
	vc->show = show;
	if (r->mv >= API_MV(2, 16) && r->is_admin &&
	    db_service_list(r->api->db, &vc->services, &vc->n_services) != DB_OK) {
		vc->services = NULL;
		vc->n_services = 0;
	}
}

/* ---- list ---- */

struct list_query {
	struct db_instance_filter f;
	regex_t name_re;
	bool has_name;
	const char *status;
	int limit;       /* the page size asked for (capped), 0 = LIST_MAX */
	bool limited;    /* ?limit= was given */
};

static int list_query_parse(struct api_req *r, struct list_query *q)
{
	const char *name = api_query_get(r, "name");
	const char *limit = api_query_get(r, "limit");
	const char *all = api_query_get(r, "all_tenants");

	memset(q, 0, sizeof *q);
	q->status = api_query_get(r, "status");
	q->limit = LIST_MAX;
	q->limited = limit != NULL;
	if (limit != NULL && num_parse_int(limit, 0, 1 << 30, &q->limit) < 0)
		return api_error(r, ERR_BAD_REQUEST, "limit param must be an integer");
	if (q->limit > LIST_MAX)
		q->limit = LIST_MAX;
	q->f.marker = api_query_get(r, "marker");
	if (!(r->is_admin && all != NULL && strcmp(all, "0") != 0 &&
	    strcasecmp(all, "false") != 0))
		q->f.project_id = r->project_id;
	if (name == NULL || *name == '\0')
		return 0;
	if (strlen(name) > 255)
		return api_error(r, ERR_BAD_REQUEST, "Invalid filter: name is too long");
	if (regcomp(&q->name_re, name, REG_EXTENDED | REG_NOSUB) != 0)
		return api_error(r, ERR_BAD_REQUEST, "Invalid regular expression in name");
	q->has_name = true;
	return 0;
}

static bool list_keep(const struct list_query *q, const struct db_instance *in)
{
	if (q->status != NULL && strcasecmp(q->status,
	    state_api_status(in->vm_state, in->task_state)) != 0)
		return false;
	return !q->has_name || regexec(&q->name_re, in->name, 0, NULL, 0) == 0;
}

/* servers_links: a "next" page link when the page came back full. */
static void add_next_link(struct api_req *r, json_t *body, const char *marker)
{
	json_t *links = json_array(), *l = json_object();
	char href[600];

	snprintf(href, sizeof href, "%s/v2.1/servers%s?limit=%s&marker=%s",
	    r->base_url, strstr(r->path, "/detail") ? "/detail" : "",
	    api_query_get(r, "limit"), marker);
	json_object_set_new(l, "rel", json_string("next"));
	json_object_set_new(l, "href", view_str(href));
	json_array_append_new(links, l);
	json_object_set_new(body, "servers_links", links);
}

static enum api_rc servers_index(struct api_req *r, bool detail)
{
	struct db_instance *list = NULL;
	struct list_query q;
	struct view_ctx vc;
	json_t *arr, *body;
	size_t n, kept = 0, last = 0;
	int rc;

	if (list_query_parse(r, &q) != 0)
		return API_ERROR;
	q.f.limit = q.has_name || q.status ? 0 : q.limit;
	rc = q.limit == 0 ? DB_OK : db_instance_list(r->api->db, &q.f, &list, &n);
	if (q.limit == 0)
		n = 0;
	if (q.has_name)
		regfree(&q.name_re);
	if (rc == DB_NOTFOUND) {
		char msg[320];

		snprintf(msg, sizeof msg, "marker [%s] not found", q.f.marker);
		return api_error(r, ERR_BAD_REQUEST, msg);
	}
	if (rc != DB_OK)
		return api_error(r, ERR_INTERNAL);
	view_ctx_init(r, &vc, false);
	arr = json_array();
	for (size_t i = 0; i < n && kept < (size_t)q.limit; i++) {
		if (!list_keep(&q, &list[i]))
			continue;
		json_array_append_new(arr, detail ? server_view(r, &list[i], &vc) :
		    server_brief(r, &list[i]));
		kept++;
		last = i;
	}
	body = json_object();
	json_object_set_new(body, "servers", arr);
	if (q.limited && kept > 0 && kept == (size_t)q.limit)
		add_next_link(r, body, list[last].uuid);
	free(list);
	free(vc.services);
	return api_reply(r, 200, body);
}

enum api_rc servers_list(struct api_req *r) { return servers_index(r, false); }
enum api_rc servers_detail(struct api_req *r) { return servers_index(r, true); }

/* The instance of r->id visible to the caller (admins see every project). */
static int instance_visible(struct api_req *r, struct db_instance *in)
{
	int rc = db_instance_get(r->api->db, r->id, in);

	if (rc == DB_OK && !r->is_admin && strcmp(in->project_id, r->project_id) != 0)
		rc = DB_NOTFOUND;
	if (rc == DB_NOTFOUND)
		return api_error(r, ERR_INSTANCE_NOT_FOUND, r->id);
	if (rc != DB_OK)
		return api_error(r, ERR_INTERNAL);
	return 0;
}

enum api_rc servers_show(struct api_req *r)
{
	struct db_instance in;
	struct view_ctx vc;
	json_t *body;

	if (instance_visible(r, &in) != 0)
		return API_ERROR;
	view_ctx_init(r, &vc, true);
	body = json_object();
	json_object_set_new(body, "server", server_view(r, &in, &vc));
	free(vc.services);
	return api_reply(r, 200, body);
}

/* ---- delete ---- */

static int terminate_on_host(struct api_req *r, const struct db_instance *in)
{
	struct rpc_error err;
	struct rpc_ctx ctx;
	int rc;

	if (db_instance_set_state(r->api->db, in->uuid, NULL, TASK_DELETING, -1,
	    NULL, NULL, NULL) != DB_OK)
		return api_error(r, ERR_INTERNAL);
	rpc_ctx_init(&ctx, r->reqid, r->user_id, r->project_id, r->is_admin);
	rc = compute_terminate_instance(r->api->rpc, &ctx, in->host, in->uuid, &err);
	rpc_ctx_clear(&ctx);
	if (rc < 0) {
		log_warnx("terminate_instance %s on %s: %s", in->uuid, in->host,
		    err.message);
		return api_error(r, ERR_RPC, err.message);
	}
	log_info("instance %s: terminate sent to %s", in->uuid, in->host);
	return 0;
}

/* No host yet: mark deleting only if the scheduler has not taken it
 * meanwhile (expect its task), then destroy the row at once; the
 * scheduler's own update, expecting "scheduling", then fails and frees
 * its claim. If it did take it, delete through its host. */
static int delete_unscheduled(struct api_req *r, struct db_instance *in)
{
	int rc = db_instance_set_state(r->api->db, in->uuid, NULL, TASK_DELETING,
	    -1, NULL, NULL, in->task_state);

	if (rc == DB_CONFLICT) {
		if (db_instance_get(r->api->db, in->uuid, in) != DB_OK)
			return api_error(r, ERR_INSTANCE_NOT_FOUND, r->id);
		if (in->host[0] != '\0')
			return terminate_on_host(r, in);
		rc = DB_OK;
	}
	if (rc == DB_NOTFOUND)
		return api_error(r, ERR_INSTANCE_NOT_FOUND, r->id);
	if (rc != DB_OK || db_instance_destroy(r->api->db, in->uuid) != DB_OK)
		return api_error(r, ERR_INTERNAL);
	log_info("instance %s deleted (never scheduled)", in->uuid);
	return 0;
}

enum api_rc servers_delete(struct api_req *r)
{
	struct db_instance in;

	if (instance_visible(r, &in) != 0)
		return API_ERROR;
	if (in.host[0] == '\0' ? delete_unscheduled(r, &in) != 0 :
	    terminate_on_host(r, &in) != 0)
		return API_ERROR;
	return api_reply(r, 204, NULL);
}
