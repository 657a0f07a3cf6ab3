/*
 * /v2.1/servers: list (the query: servers_query.c), detail, show and
 * delete, and the server view with its per-microversion fields
 * (transcripts 20-25, 47). A list is one database query; only servers in
 * ERROR cost one more (their fault).
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/api.h"
#include "api/servers_query.h"
#include "common/rpcapi.h"
#include "common/states.h"
#include "db/db.h"


/* What a view needs beyond the instance: host states for host_status;
 * the last hostId made (a list's servers mostly share project and host). */
struct view_ctx {
	struct db_service *services;  /* NULL unless host_status is shown */
	size_t n_services;
	bool show;                    /* GET /servers/{id}: server_groups too */
	bool partial;                 /* PUT's answer before 2.75: no extended
	                               * attributes (Nova's update view) */
	char hid_project[DB_NAME];    /* hid = hostId of these two */
	char hid_host[DB_NAME];
	char hid[57];
	struct servers_extras extras; /* the page's addresses and metadata */
};

/* The parts one after another into out, cut at size - 1 bytes as snprintf
 * would; without snprintf's cost (a list of 50 servers makes 200 links). */
static void cat(char *out, size_t size, const char *const *parts, size_t n)
{
	size_t used = 0, k;

	for (size_t i = 0; i < n; i++) {
		k = strlen(parts[i]);
		if (k > size - 1 - used)
			k = size - 1 - used;
		memcpy(out + used, parts[i], k);
		used += k;
	}
	out[used] = '\0';
}

/* Links as view_links/view_bookmark make them, written to w. */
static void jw_link(struct jw *w, const struct api_req *r, const char *rel,
    const char *prefix, const char *coll, const char *id)
{
	const char *parts[] = { r->base_url, prefix, "/", coll, "/", id };
	char href[512];

	cat(href, sizeof href, parts, sizeof parts / sizeof *parts);
	jw_open(w, '{');
	jw_key_lit(w, JW_KEY("rel"));
	jw_str(w, rel);
	jw_key_lit(w, JW_KEY("href"));
	jw_str(w, href);
	jw_close(w, '}');
}

static void jw_links(struct jw *w, const struct api_req *r, const char *coll,
    const char *id, bool self)
{
	jw_open(w, '[');
	if (self)
		jw_link(w, r, "self", "/v2.1", coll, id);
	jw_link(w, r, "bookmark", "", coll, id);
	jw_close(w, ']');
}

static void jw_kstr(struct jw *w, const char *k, size_t klen,
    const char *v)
{
	jw_key_lit(w, k, klen);
	jw_str(w, v);
}

static void jw_kint(struct jw *w, const char *k, size_t klen,
    long long v)
{
	jw_key_lit(w, k, klen);
	jw_int(w, v);
}

static void jw_kraw(struct jw *w, const char *k, size_t klen,
    const char *v)
{
	jw_key_lit(w, k, klen);
	jw_raw(w, v);
}

static void jw_kstr_or_null(struct jw *w, const char *k, size_t klen,
    const char *v)
{
	jw_key_lit(w, k, klen);
	jw_str_or_null(w, v);
}

/* "2026-11-25T13:49:11Z" -> "2026-11-25T13:49:11.000000", "" -> null. */
static void jw_ktime_usec(struct jw *w, const char *k, size_t klen,
    const char *iso)
{
	char b[19 + sizeof ".000000"];
	size_t n = strnlen(iso, 19);

	jw_key_lit(w, k, klen);
	if (iso[0] == '\0') {
		jw_raw(w, "null");
		return;
	}
	memcpy(b, iso, n);  /* snprintf's "%.19s.000000", without its cost */
	memcpy(b + n, ".000000", sizeof ".000000");
	jw_str(w, b);
}

static void write_image_ref(struct jw *w, const struct api_req *r,
    const char *image_ref)
{
	jw_key_lit(w, JW_KEY("image"));
	jw_open(w, '{');
	jw_kstr(w, JW_KEY("id"), image_ref);
	jw_key_lit(w, JW_KEY("links"));
	jw_links(w, r, "images", image_ref, false);
	jw_close(w, '}');
}

static void write_flavor_ref(struct jw *w, const struct api_req *r,
    const struct db_instance *in)
{
	jw_key_lit(w, JW_KEY("flavor"));
	jw_open(w, '{');
	if (r->mv < API_MV(2, 47)) {
		jw_kstr(w, JW_KEY("id"), in->flavorid);
		jw_key_lit(w, JW_KEY("links"));
		jw_links(w, r, "flavors", in->flavorid, false);
	} else {
		jw_kint(w, JW_KEY("vcpus"), in->vcpus);
		jw_kint(w, JW_KEY("ram"), in->memory_mb);
		jw_kint(w, JW_KEY("disk"), in->root_gb);
		jw_kint(w, JW_KEY("ephemeral"), in->ephemeral_gb);
		jw_kint(w, JW_KEY("swap"), in->swap);
		jw_kstr(w, JW_KEY("original_name"), in->flavor_name);
		jw_kraw(w, JW_KEY("extra_specs"), "{}");
	}
	jw_close(w, '}');
}

/* A fault on ERROR: details only for admins or non-500 codes (Nova). */
static void write_fault(struct jw *w, struct api_req *r,
    const struct db_instance *in)
{
	struct db_fault f;

	if (db_fault_get_latest(r->api->db, in->uuid, &f) != DB_OK)
		return;
	jw_key_lit(w, JW_KEY("fault"));
	jw_open(w, '{');
	jw_kint(w, JW_KEY("code"), f.code);
	jw_kstr(w, JW_KEY("created"), f.created_at);
	jw_kstr(w, JW_KEY("message"), f.message);
	if ((r->is_admin || f.code != 500) && f.details[0] != '\0')
		jw_kstr(w, JW_KEY("details"), f.details);
	jw_close(w, '}');
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

/* The user data as it was given (base64), or null. */
static void write_user_data(struct jw *w, struct api_req *r, const char *uuid)
{
	struct db_instance_extra x;

	jw_key_lit(w, JW_KEY("OS-EXT-SRV-ATTR:user_data"));
	if (db_instance_extra_get(r->api->db, uuid, &x) == DB_OK &&
	    x.user_data != NULL)
		jw_str(w, x.user_data);
	else
		jw_raw(w, "null");
	db_instance_extra_clear(&x);
}

/* The OS-EXT-SRV-ATTR fields (admins only); more from 2.3 on. */
static void write_srv_attrs(struct jw *w, struct api_req *r,
    const struct db_instance *in)
{
	char iname[32] = "", hn[64];

	if (in->host[0] != '\0')
		snprintf(iname, sizeof iname, "instance-%08llx", (unsigned long long)in->id);
	jw_kstr_or_null(w, JW_KEY("OS-EXT-SRV-ATTR:host"), in->host);
	jw_kstr(w, JW_KEY("OS-EXT-SRV-ATTR:instance_name"), iname);
	jw_kstr_or_null(w, JW_KEY("OS-EXT-SRV-ATTR:hypervisor_hostname"), in->node);
	if (r->mv < API_MV(2, 3))
		return;
	hostname_pick(in->hostname, in->name, in->uuid, hn, sizeof hn);
	jw_kstr(w, JW_KEY("OS-EXT-SRV-ATTR:reservation_id"), in->reservation_id);
	jw_kint(w, JW_KEY("OS-EXT-SRV-ATTR:launch_index"), 0);
	jw_kstr(w, JW_KEY("OS-EXT-SRV-ATTR:hostname"), hn);
	jw_kstr(w, JW_KEY("OS-EXT-SRV-ATTR:kernel_id"), "");
	jw_kstr(w, JW_KEY("OS-EXT-SRV-ATTR:ramdisk_id"), "");
	jw_kstr(w, JW_KEY("OS-EXT-SRV-ATTR:root_device_name"), "/dev/vda");
	write_user_data(w, r, in->uuid);
}

/* Fields added by later microversions, after the 2.1 set. */
static void write_later_fields(struct jw *w, const struct api_req *r,
    const struct db_instance *in, const struct view_ctx *vc)
{
	if (r->mv >= API_MV(2, 16) && r->is_admin && !vc->partial)
		jw_kstr(w, JW_KEY("host_status"), host_status(r, vc, in->host));
	if (r->mv >= API_MV(2, 9))
		jw_kraw(w, JW_KEY("locked"), "false");
	if (r->mv >= API_MV(2, 73))
		jw_kraw(w, JW_KEY("locked_reason"), "null");
	if (r->mv >= API_MV(2, 19))
		jw_kraw(w, JW_KEY("description"), "null");
	if (r->mv >= API_MV(2, 26))
		jw_kraw(w, JW_KEY("tags"), "[]");
	if (r->mv >= API_MV(2, 63))
		jw_kraw(w, JW_KEY("trusted_image_certificates"), "null");
	if (r->mv >= API_MV(2, 71) && vc->show && !vc->partial)
		jw_kraw(w, JW_KEY("server_groups"), "[]");
}

static void write_extended(struct jw *w, struct api_req *r,
    const struct db_instance *in);

/* The server as Nova shows it (transcripts 20-22, 24, 25). */
static void write_server(struct jw *w, struct api_req *r,
    const struct db_instance *in, struct view_ctx *vc)
{
	const char *status = state_api_status(in->vm_state, in->task_state);

	if (strcmp(vc->hid_project, in->project_id) != 0 ||
	    strcmp(vc->hid_host, in->host) != 0) {
		view_host_id(in->project_id, in->host, vc->hid);
		str_copy(vc->hid_project, in->project_id, sizeof vc->hid_project);
		str_copy(vc->hid_host, in->host, sizeof vc->hid_host);
	}
	jw_open(w, '{');
	jw_kstr(w, JW_KEY("id"), in->uuid);
	jw_kstr(w, JW_KEY("name"), in->name);
	jw_kstr(w, JW_KEY("status"), status);
	jw_kstr(w, JW_KEY("tenant_id"), in->project_id);
	jw_kstr(w, JW_KEY("user_id"), in->user_id);
	jw_key_lit(w, JW_KEY("metadata"));
	servers_write_metadata(w, &vc->extras, in->uuid);
	jw_kstr(w, JW_KEY("hostId"), vc->hid);
	write_image_ref(w, r, in->image_ref);
	write_flavor_ref(w, r, in);
	jw_kstr(w, JW_KEY("created"), in->created_at);
	jw_kstr(w, JW_KEY("updated"), in->updated_at[0] ? in->updated_at : in->created_at);
	jw_key_lit(w, JW_KEY("addresses"));
	servers_write_addresses(w, &vc->extras, in->uuid);
	jw_kstr(w, JW_KEY("accessIPv4"), in->access_ip_v4);
	jw_kstr(w, JW_KEY("accessIPv6"), in->access_ip_v6);
	jw_key_lit(w, JW_KEY("links"));
	jw_links(w, r, "servers", in->uuid, true);
	jw_kstr(w, JW_KEY("OS-DCF:diskConfig"), "MANUAL");
	if (strcmp(status, "ACTIVE") == 0 || strcmp(status, "BUILD") == 0)
		jw_kint(w, JW_KEY("progress"), 0);
	if (!vc->partial)
		write_extended(w, r, in);
	write_later_fields(w, r, in, vc);
	if (strcmp(status, "ERROR") == 0)
		write_fault(w, r, in);
	jw_close(w, '}');
}

/* The extended attributes: availability zone, config drive, key, usage,
 * host (admins), status and volumes. */
static void write_extended(struct jw *w, struct api_req *r,
    const struct db_instance *in)
{
	jw_kstr(w, JW_KEY("OS-EXT-AZ:availability_zone"), in->availability_zone[0] ?
	    in->availability_zone : in->host[0] ? "nova" : "");
	jw_kstr(w, JW_KEY("config_drive"), in->config_drive);
	jw_kstr_or_null(w, JW_KEY("key_name"), in->key_name);
	jw_ktime_usec(w, JW_KEY("OS-SRV-USG:launched_at"), in->launched_at);
	jw_ktime_usec(w, JW_KEY("OS-SRV-USG:terminated_at"), in->terminated_at);
	if (r->is_admin)
		write_srv_attrs(w, r, in);
	jw_kstr_or_null(w, JW_KEY("OS-EXT-STS:task_state"), in->task_state);
	jw_kstr(w, JW_KEY("OS-EXT-STS:vm_state"), in->vm_state);
	jw_kint(w, JW_KEY("OS-EXT-STS:power_state"), in->power_state);
	jw_kraw(w, JW_KEY("os-extended-volumes:volumes_attached"), "[]");
}

static void write_server_brief(struct jw *w, const struct api_req *r,
    const struct db_instance *in)
{
	jw_open(w, '{');
	jw_kstr(w, JW_KEY("id"), in->uuid);
	jw_kstr(w, JW_KEY("name"), in->name);
	jw_key_lit(w, JW_KEY("links"));
	jw_links(w, r, "servers", in->uuid, true);
	jw_close(w, '}');
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

/* servers_links: a "next" page link. */
static void write_next_link(struct jw *w, struct api_req *r, const char *marker)
{
	char href[1600];

	servers_query_next_href(r, marker, href, sizeof href);
	jw_key_lit(w, JW_KEY("servers_links"));
	jw_open(w, '[');
	jw_open(w, '{');
	jw_kstr(w, JW_KEY("rel"), "next");
	jw_kstr(w, JW_KEY("href"), href);
	jw_close(w, '}');
	jw_close(w, ']');
}

static enum api_rc servers_index(struct api_req *r, bool detail)
{
	struct db_instance *list = NULL;
	struct servers_query q;
	struct view_ctx vc;
	struct jw w;
	size_t n = 0, len;
	char *text;

	if (servers_query_parse(r, &q) != 0)
		return API_ERROR;
	if (servers_query_load(r, &q, &list, &n) != 0) {
		servers_query_free(&q);
		return API_ERROR;
	}
	view_ctx_init(r, &vc, false);
	if (detail && servers_extras_load(r, list, n, &vc.extras) < 0) {
		servers_query_free(&q);
		free(list);
		free(vc.services);
		return api_error(r, ERR_INTERNAL);
	}
	jw_init(&w, detail ? 4096 + n * 2048 : 256 + n * 384);
	jw_open(&w, '{');
	jw_key_lit(&w, JW_KEY("servers"));
	jw_open(&w, '[');
	for (size_t i = 0; i < n; i++) {
		if (detail)
			write_server(&w, r, &list[i], &vc);
		else
			write_server_brief(&w, r, &list[i]);
	}
	jw_close(&w, ']');
	/* Nova: a full page has a next link, whether the limit was asked
	 * for or is [api] max_limit */
	if (n > 0 && n == (size_t)q.limit)
		write_next_link(&w, r, list[n - 1].uuid);
	jw_close(&w, '}');
	servers_query_free(&q);
	free(list);
	free(vc.services);
	servers_extras_free(&vc.extras);
	text = jw_finish(&w, &len);
	return api_reply_text(r, 200, text, len);
}

enum api_rc servers_list(struct api_req *r) { return servers_index(r, false); }
enum api_rc servers_detail(struct api_req *r) { return servers_index(r, true); }

int servers_instance_get(struct api_req *r, struct db_instance *in)
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
	return servers_show_view(r, false);
}

enum api_rc servers_show_view(struct api_req *r, bool partial)
{
	struct db_instance in;
	struct view_ctx vc;
	struct jw w;
	size_t len;
	char *text;

	if (servers_instance_get(r, &in) != 0)
		return API_ERROR;
	view_ctx_init(r, &vc, true);
	vc.partial = partial;
	if (servers_extras_load(r, &in, 1, &vc.extras) < 0) {
		free(vc.services);
		return api_error(r, ERR_INTERNAL);
	}
	jw_init(&w, 2048);
	jw_open(&w, '{');
	jw_key_lit(&w, JW_KEY("server"));
	write_server(&w, r, &in, &vc);
	jw_close(&w, '}');
	free(vc.services);
	servers_extras_free(&vc.extras);
	text = jw_finish(&w, &len);
	return api_reply_text(r, 200, text, len);
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
	api_rpc_ctx(r, &ctx);
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
	db_action_finish(r->api->db, in->uuid, r->reqid, NULL);
	log_info("instance %s deleted (never scheduled)", in->uuid);
	return 0;
}

enum api_rc servers_delete(struct api_req *r)
{
	struct db_instance in;

	if (servers_instance_get(r, &in) != 0)
		return API_ERROR;
	servers_action_record(r, &in, "delete");
	if (in.host[0] == '\0' ? delete_unscheduled(r, &in) != 0 :
	    terminate_on_host(r, &in) != 0)
		return API_ERROR;
	return api_reply(r, 204, NULL);
}
