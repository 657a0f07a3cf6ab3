/*
 * POST /v2.1/servers: validate the body as Nova's schema does (same order,
 * same messages), resolve the flavor, the image and the keypair, check the
 * quotas (instances, cores, ram), insert the instances (building/scheduling;
 * db_instance_create records the create action), recheck the quotas, and
 * cast scheduler.build_instances. A refused cast puts the instance in ERROR
 * with a fault and answers 500.
 *
 * Images: a server may boot from an image in status queued or active, so
 * that an image registered without data can boot on the fake driver.
 */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "api/api.h"
#include "common/rpcapi.h"
#include "common/states.h"
#include "db/db.h"

#define MAX_COUNT 100  /* servers one request may create */

/* The properties Nova's create schema knows, by the microversion adding them. */
static const struct {
	const char *key;
	int since;
} server_keys[] = {
	{ "name", 0 }, { "imageRef", 0 }, { "flavorRef", 0 }, { "adminPass", 0 },
	{ "metadata", 0 }, { "networks", 0 }, { "OS-DCF:diskConfig", 0 },
	{ "accessIPv4", 0 }, { "accessIPv6", 0 }, { "personality", 0 },
	{ "availability_zone", 0 }, { "block_device_mapping", 0 },
	{ "block_device_mapping_v2", 0 }, { "config_drive", 0 },
	{ "key_name", 0 }, { "min_count", 0 }, { "max_count", 0 },
	{ "return_reservation_id", 0 }, { "security_groups", 0 },
	{ "user_data", 0 }, { "description", API_MV(2, 19) },
	{ "tags", API_MV(2, 52) }, { "trusted_image_certificates", API_MV(2, 63) },
	{ "host", API_MV(2, 74) }, { "hypervisor_hostname", API_MV(2, 74) },
	{ "hostname", API_MV(2, 90) },
};

static int check_extra(struct api_req *r, const json_t *srv, int mv)
{
	const char *allowed[sizeof server_keys / sizeof *server_keys + 1];
	size_t n = 0;

	for (size_t i = 0; i < sizeof server_keys / sizeof *server_keys; i++)
		if (mv >= server_keys[i].since)
			allowed[n++] = server_keys[i].key;
	allowed[n] = NULL;
	return v_no_extra(r, "server", srv, allowed);
}

/* imageRef: a uuid or "" (boot from volume, which kumo does not do). */
static int check_image_ref(struct api_req *r, const json_t *v, char *out)
{
	char repr[300];

	if (v == NULL)
		return 0;
	if (json_is_string(v) && (uuid_valid(json_string_value(v)) ||
	    json_string_length(v) == 0)) {
		str_copy(out, json_string_value(v), 37);
		return 0;
	}
	api_pyrepr(v, repr, sizeof repr);
	return api_invalid(r, "imageRef", v,
	    "%s is not valid under any of the given schemas", repr);
}

/* flavorRef: a non-empty string or an integer; an href keeps its last part. */
static int check_flavor_ref(struct api_req *r, const json_t *v,
    struct server_create *sc)
{
	char repr[300];
	const char *s, *slash;

	if (v == NULL)
		return 0;
	api_pyrepr(v, repr, sizeof repr);
	if (json_is_integer(v)) {
		str_copy(sc->flavor_ref, repr, sizeof sc->flavor_ref);
		return 0;
	}
	if (!json_is_string(v))
		return api_invalid(r, "flavorRef", v,
		    "%s is not of type 'string', 'integer'", repr);
	if (json_string_length(v) == 0)
		return api_invalid(r, "flavorRef", v, "%s is too short", repr);
	s = json_string_value(v);
	if ((slash = strrchr(s, '/')) != NULL && slash[1] != '\0')
		s = slash + 1;
	if (str_copy(sc->flavor_ref, s, sizeof sc->flavor_ref) < 0)
		return api_error(r, ERR_FLAVOR_REF, "(too long)");
	return 0;
}

/* metadata: an object of strings (keys 1-255, values up to 255). */
static int check_metadata(struct api_req *r, const json_t *v)
{
	const char *key;
	json_t *val;
	char tmp[256];

	if (v == NULL)
		return 0;
	if (v_object(r, "metadata", v))
		return API_ERROR;
	json_object_foreach((json_t *)v, key, val) {
		if (strlen(key) == 0 || strlen(key) > 255)
			return api_invalid(r, "metadata", v,
			    "Additional properties are not allowed ('%.60s' was unexpected)",
			    key);
		if (v_string(r, key, val, 0, 255, tmp, sizeof tmp))
			return API_ERROR;
	}
	return 0;
}

/* The optional properties that matter to kumo, in the schema's order. */
static int check_optional(struct api_req *r, const json_t *srv, int mv,
    struct server_create *sc)
{
	const json_t *v;
	char tmp[256];
	int64_t n;

	if (check_metadata(r, json_object_get(srv, "metadata")) ||
	    servers_guest_validate(r, srv, mv, &sc->guest))
		return API_ERROR;
	if ((v = json_object_get(srv, "OS-DCF:diskConfig")) &&
	    (!json_is_string(v) || (strcmp(json_string_value(v), "AUTO") &&
	    strcmp(json_string_value(v), "MANUAL")))) {
		api_pyrepr(v, tmp, sizeof tmp);
		return api_invalid(r, "OS-DCF:diskConfig", v,
		    "%s is not one of ['AUTO', 'MANUAL']", tmp);
	}
	if ((v = json_object_get(srv, "availability_zone")) &&
	    v_name(r, "availability_zone", v, sc->availability_zone,
	    sizeof sc->availability_zone))
		return API_ERROR;
	if ((v = json_object_get(srv, "key_name")) &&
	    v_string(r, "key_name", v, 1, 255, sc->key_name, sizeof sc->key_name))
		return API_ERROR;
	if ((v = json_object_get(srv, "min_count"))) {
		if (v_int_param(r, "min_count", v, 1, MAX_COUNT, &n))
			return API_ERROR;
		sc->min_count = (int)n;
	}
	if ((v = json_object_get(srv, "max_count"))) {
		if (v_int_param(r, "max_count", v, 1, MAX_COUNT, &n))
			return API_ERROR;
		sc->max_count = (int)n;
	}
	/* Nova's admin_password: any string; the answer echoes it */
	if ((v = json_object_get(srv, "adminPass")) && !json_is_string(v)) {
		char repr[300];

		api_pyrepr(v, repr, sizeof repr);
		return api_invalid(r, "adminPass", v, "%s is not of type 'string'", repr);
	}
	if ((v = json_object_get(srv, "description")) && !json_is_null(v)) {
		if (v_string(r, "description", v, 0, 255, sc->description,
		    sizeof sc->description))
			return API_ERROR;
		sc->has_description = true;
	}
	return 0;
}

int servers_validate_create(struct api_req *r, const json_t *body, int mv,
    struct server_create *sc)
{
	static const char *const top[] = { "server", "os:scheduler_hints",
		"OS-SCH-HNT:scheduler_hints", NULL };
	const json_t *srv = json_object_get(body, "server"), *v;

	memset(sc, 0, sizeof *sc);
	if (v_required(r, NULL, body, "server") || v_object(r, "server", srv))
		return API_ERROR;
	if ((v = json_object_get(srv, "name")) &&
	    v_name(r, "name", v, sc->name, sizeof sc->name))
		return API_ERROR;
	if (check_image_ref(r, json_object_get(srv, "imageRef"), sc->image_ref) ||
	    check_flavor_ref(r, json_object_get(srv, "flavorRef"), sc) ||
	    check_optional(r, srv, mv, sc))
		return API_ERROR;
	if (v_required(r, "server", srv, "name") ||
	    v_required(r, "server", srv, "flavorRef") ||
	    (mv >= API_MV(2, 37) && v_required(r, "server", srv, "networks")) ||
	    check_extra(r, srv, mv) || v_no_extra(r, NULL, body, top))
		return API_ERROR;
	if (sc->image_ref[0] == '\0')
		return api_error(r, ERR_BAD_REQUEST, "Block Device Mapping is Invalid: "
		    "Boot sequence for the instance and image/block device mapping "
		    "combination is not valid.");
	if (sc->min_count == 0)
		sc->min_count = 1;
	if (sc->max_count == 0)
		sc->max_count = sc->min_count;
	if (sc->min_count > sc->max_count)
		return api_error(r, ERR_BAD_REQUEST, "min_count must be <= max_count");
	return 0;
}

/* ---- the create flow ---- */

static int resolve(struct api_req *r, struct server_create *sc,
    struct db_flavor *fl, struct db_image *img, struct db_keypair *kp)
{
	int rc = api_flavor_get(r, sc->flavor_ref, fl);

	if (rc == DB_NOTFOUND || (rc == DB_OK && fl->disabled))
		return api_error(r, ERR_FLAVOR_REF, sc->flavor_ref);
	if (rc != DB_OK)
		return api_error(r, ERR_INTERNAL);
	rc = db_image_get(r->api->db, sc->image_ref, img);
	/* Another project's image is one Glance would not show this user. */
	if (rc == DB_OK && !db_image_readable(img, r->project_id, r->is_admin))
		rc = DB_NOTFOUND;
	if (rc == DB_NOTFOUND)
		return api_error(r, ERR_IMAGE_REF);
	if (rc != DB_OK)
		return api_error(r, ERR_INTERNAL);
	if (strcmp(img->status, "active") != 0 && strcmp(img->status, "queued") != 0)
		return api_error(r, ERR_IMAGE_NOT_ACTIVE, img->id);
	if (img->min_ram > fl->memory_mb)
		return api_error(r, ERR_BAD_REQUEST,
		    "Flavor's memory is too small for requested image.");
	if (img->min_disk > fl->root_gb && fl->root_gb > 0)
		return api_error(r, ERR_BAD_REQUEST,
		    "Flavor's disk is too small for requested image.");
	if (sc->key_name[0] != '\0' &&
	    (rc = db_keypair_get(r->api->db, r->user_id, sc->key_name, kp)) != DB_OK)
		return rc == DB_NOTFOUND ? api_error(r, ERR_BAD_REQUEST,
		    "Invalid key_name provided.") : api_error(r, ERR_INTERNAL);
	return servers_guest_resolve(r, &sc->guest, sc->max_count);
}

static void random_chars(char *out, size_t n)
{
	static const char alphabet[] =
	    "23456789abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ";
	unsigned char rnd[64];

	if (n > sizeof rnd)
		n = sizeof rnd;
	if (getrandom(rnd, n, 0) != (ssize_t)n)
		memset(rnd, 0, n);
	for (size_t i = 0; i < n; i++)
		out[i] = alphabet[rnd[i] % (sizeof alphabet - 1)];
	out[n] = '\0';
}

static void instance_fill(struct api_req *r, const struct server_create *sc,
    const struct db_flavor *fl, int index, const char *resv,
    struct db_instance *in)
{
	memset(in, 0, sizeof *in);
	uuid_new_str(in->uuid);
	if (sc->max_count > 1)
		snprintf(in->name, sizeof in->name, "%.240s-%d", sc->name, index + 1);
	else
		str_copy(in->name, sc->name, sizeof in->name);
	str_copy(in->project_id, r->project_id, sizeof in->project_id);
	str_copy(in->user_id, r->user_id, sizeof in->user_id);
	str_copy(in->image_ref, sc->image_ref, sizeof in->image_ref);
	str_copy(in->flavorid, fl->flavorid, sizeof in->flavorid);
	str_copy(in->flavor_name, fl->name, sizeof in->flavor_name);
	in->vcpus = fl->vcpus;
	in->memory_mb = fl->memory_mb;
	in->root_gb = fl->root_gb;
	in->ephemeral_gb = fl->ephemeral_gb;
	in->swap = fl->swap;
	str_copy(in->vm_state, VM_STATE_BUILDING, sizeof in->vm_state);
	str_copy(in->task_state, TASK_SCHEDULING, sizeof in->task_state);
	in->power_state = POWER_NOSTATE;
	str_copy(in->availability_zone, sc->availability_zone,
	    sizeof in->availability_zone);
	str_copy(in->reservation_id, resv, sizeof in->reservation_id);
	str_copy(in->key_name, sc->key_name, sizeof in->key_name);
	str_copy(in->request_id, r->reqid, sizeof in->request_id);
	/* 2.90's hostname names one server only */
	hostname_pick(sc->max_count == 1 ? sc->guest.hostname : NULL, in->name,
	    in->uuid, in->hostname, sizeof in->hostname);
	str_copy(in->access_ip_v4, sc->guest.access_ip_v4, sizeof in->access_ip_v4);
	str_copy(in->access_ip_v6, sc->guest.access_ip_v6, sizeof in->access_ip_v6);
	if (sc->guest.config_drive || r->api->conf->force_config_drive)
		str_copy(in->config_drive, "True", sizeof in->config_drive);
}

/* Asks the scheduler to build an inserted instance. */
static int cast_build(struct api_req *r, const char *uuid)
{
	struct rpc_error err;
	struct rpc_ctx ctx;
	int rc;

	api_rpc_ctx(r, &ctx);
	rc = sched_build_instances(r->api->rpc, &ctx, uuid, NULL, &err);
	rpc_ctx_clear(&ctx);
	if (rc == 0) {
		log_info("instance %s: build requested", uuid);
		return 0;
	}
	log_warnx("instance %s: build_instances cast failed: %s", uuid,
	    err.message);
	/* The fault first, as the conductor does (cond_set_error). */
	db_fault_add(r->api->db, uuid, 500, "Failed to schedule the build",
	    err.message);
	db_instance_set_state(r->api->db, uuid, VM_STATE_ERROR, TASK_NONE, -1,
	    NULL, NULL, NULL);
	return api_error(r, ERR_RPC, err.message);
}

/* Inserts count instances (their uuids into ids), then rechecks the
 * quotas as Nova does; on failure none of them is left. */
static int insert_all(struct api_req *r, struct server_create *sc,
    const struct db_flavor *fl, const struct db_keypair *kp,
    const char *resv, int count, char ids[][UUID_STR_LEN])
{
	struct db_instance_extra x;
	struct db_instance in;
	int i = 0, rc;

	if (servers_guest_extra(&sc->guest, json_object_get(json_object_get(
	    r->json_in, "server"), "metadata"), kp, &x) < 0) {
		api_error(r, ERR_INTERNAL);
		goto fail;
	}
	for (i = 0; i < count; i++) {
		instance_fill(r, sc, fl, i, resv, &in);
		if ((rc = db_instance_create_ex(r->api->db, &in, &x)) != DB_OK) {
			api_db_error(r, rc);
			goto fail;
		}
		str_copy(ids[i], in.uuid, UUID_STR_LEN);
	}
	if (api_quota_recheck(r, fl, count) != 0)
		goto fail;
	return 0;
fail:
	while (i-- > 0)
		db_instance_destroy(r->api->db, ids[i]);
	return API_ERROR;
}

static json_t *created_view(struct api_req *r, const char *uuid,
    const char *resv, bool want_resv)
{
	json_t *body = json_object(), *s = json_object(), *sgs = json_array();
	json_t *sg = json_object();
	const json_t *given;
	char pass[13];

	if (want_resv) {
		json_object_set_new(body, "reservation_id", json_string(resv));
		return body;
	}
	random_chars(pass, 12);
	json_object_set_new(s, "id", json_string(uuid));
	json_object_set_new(s, "links", view_links(r, "servers", uuid));
	json_object_set_new(s, "OS-DCF:diskConfig", json_string("MANUAL"));
	json_object_set_new(sg, "name", json_string("default"));
	json_array_append_new(sgs, sg);
	json_object_set_new(s, "security_groups", sgs);
	/* the caller's own password (Nova echoes it), else a new one */
	given = json_object_get(json_object_get(r->json_in, "server"), "adminPass");
	json_object_set_new(s, "adminPass", json_string(json_is_string(given) ?
	    json_string_value(given) : pass));
	json_object_set_new(body, "server", s);
	return body;
}

/* Nova's metadata_items quota: more items than the project's limit is a
 * 403 (MetadataLimitExceeded). */
static int metadata_quota_check(struct api_req *r)
{
	const json_t *md = json_object_get(json_object_get(r->json_in, "server"),
	    "metadata");
	char msg[128];
	int64_t limit;

	if (md == NULL)
		return 0;
	if (api_quota_limit(r, r->project_id, "metadata_items", &limit) != 0)
		return API_ERROR;
	if (limit < 0 || (int64_t)json_object_size(md) <= limit)
		return 0;
	snprintf(msg, sizeof msg, "Maximum number of metadata items exceeds %lld",
	    (long long)limit);
	return api_error(r, ERR_FORBIDDEN, msg);
}

/* security_groups: kumo's guests have one group, "default" (the created
 * view names it); any other name is Nova's SecurityGroupNotFound, a 400.
 * The items' shape is Nova's schema: objects with a string name only. */
static int security_groups_check(struct api_req *r)
{
	static const char *const keys[] = { "name", NULL };
	const json_t *sgs = json_object_get(json_object_get(r->json_in, "server"),
	    "security_groups"), *item, *name;
	char msg[320], repr[300];
	size_t i;

	if (sgs == NULL)
		return 0;
	if (!json_is_array(sgs)) {
		api_pyrepr(sgs, repr, sizeof repr);
		return api_invalid(r, "security_groups", sgs, "%s is not of type 'array'", repr);
	}
	json_array_foreach(sgs, i, item) {
		if (v_object(r, "security_groups", item) ||
		    v_no_extra(r, "security_groups", item, keys))
			return API_ERROR;
		if ((name = json_object_get(item, "name")) == NULL)
			continue;
		if (!json_is_string(name) || json_string_length(name) == 0 ||
		    json_string_length(name) > 255) {
			api_pyrepr(name, repr, sizeof repr);
			return api_invalid(r, "name", name, "%s is not a valid security "
			    "group name", repr);
		}
		if (strcmp(json_string_value(name), "default") != 0) {
			snprintf(msg, sizeof msg, "Security group %.255s not found.",
			    json_string_value(name));
			return api_error(r, ERR_BAD_REQUEST, msg);
		}
	}
	return 0;
}

enum api_rc servers_create(struct api_req *r)
{
	struct server_create sc;
	struct db_keypair kp;
	struct db_flavor fl;
	struct db_image img;
	char resv[16] = "r-", ids[MAX_COUNT][UUID_STR_LEN];
	const json_t *rr;
	int count, rc;

	memset(&kp, 0, sizeof kp);
	rc = servers_validate_create(r, r->json_in, r->mv, &sc) ||
	    security_groups_check(r) || metadata_quota_check(r) ||
	    resolve(r, &sc, &fl, &img, &kp) ||
	    api_quota_check_build(r, &fl, sc.min_count, sc.max_count, &count);
	if (rc == 0) {
		random_chars(resv + 2, 8);
		rc = insert_all(r, &sc, &fl, sc.key_name[0] ? &kp : NULL, resv,
		    count, ids);
	}
	servers_guest_free(&sc.guest);
	if (rc != 0)
		return API_ERROR;
	for (int i = 0; i < count; i++)
		if (cast_build(r, ids[i]) != 0)
			return API_ERROR;
	rr = json_object_get(json_object_get(r->json_in, "server"),
	    "return_reservation_id");
	api_header_add(r, "location", "%s/v2.1/servers/%s", r->base_url, ids[0]);
	return api_reply(r, 202, created_view(r, ids[0], resv,
	    rr != NULL && json_is_true(rr)));
}
