/*
 * scheduler.build_instances: pick a host for an instance in "scheduling",
 * claim its resources there, hand the instance to that compute host.
 * Several schedulers (and worker threads) may race for one host: the claim
 * is the atomic step, and a lost race falls back to the next best host.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/rpcapi.h"
#include "common/states.h"
#include "scheduler/sched.h"

#define NO_VALID_HOST \
	"No valid host was found. There are not enough hosts available."

/* The compute nodes and their kumo-compute service rows. */
struct candidates {
	struct db_compute_node *nodes;
	struct db_service *services;
	struct sched_host *hosts;
	size_t n;
};

static void candidates_free(struct candidates *c)
{
	free(c->nodes);
	free(c->services);
	free(c->hosts);
	memset(c, 0, sizeof *c);
}

static int candidates_load(struct db *db, struct candidates *c)
{
	size_t n_svc = 0;

	memset(c, 0, sizeof *c);
	if (db_compute_node_list(db, &c->nodes, &c->n) != DB_OK ||
	    db_service_list(db, &c->services, &n_svc) != DB_OK)
		goto fail;
	if ((c->hosts = calloc(c->n ? c->n : 1, sizeof *c->hosts)) == NULL)
		goto fail;
	for (size_t i = 0; i < c->n; i++) {
		c->hosts[i].node = &c->nodes[i];
		for (size_t j = 0; j < n_svc; j++)
			if (strcmp(c->services[j].host, c->nodes[i].host) == 0 &&
			    strcmp(c->services[j].binary, "kumo-compute") == 0)
				c->hosts[i].service = &c->services[j];
	}
	return 0;
fail:
	candidates_free(c);
	return -1;
}

/* An image the build may use: one the instance's project may read (or
 * any, for an admin's request). The kernel and ramdisk are named by the
 * image's owner, so kumo-api's check of the disk image does not cover
 * them. Unknown and unreadable look alike: DB_NOTFOUND. */
static int image_get(struct db *db, const struct rpc_ctx *ctx,
    const struct db_instance *inst, const char *id, struct db_image *img)
{
	int rc = db_image_get(db, id, img);

	if (rc == DB_OK && !db_image_readable(img, inst->project_id,
	    ctx->is_admin))
		rc = DB_NOTFOUND;
	return rc;
}

/* {"id","status","size","os_hash_value"} of image id (its row into img),
 * the one named by prop (NULL: the disk), into *out; null when the image
 * names no such property. */
static int image_file_json(struct db *db, const struct rpc_ctx *ctx,
    const struct db_instance *inst, const char *id, const char *prop,
    struct db_image *img, json_t **out, char *why, size_t wlen)
{
	int rc;

	*out = NULL;
	if (prop != NULL && (id == NULL || id[0] == '\0')) {
		*out = json_null();
		return 0;
	}
	if (id == NULL || (rc = image_get(db, ctx, inst, id, img)) == DB_NOTFOUND) {
		snprintf(why, wlen, "Image %.64s%s%s could not be found.",
		    id ? id : "", prop ? " named by " : "", prop ? prop : "");
		return DB_NOTFOUND;
	}
	if (rc != DB_OK) {
		snprintf(why, wlen, "image %.64s: %s", id, db_strerror(rc));
		return rc;
	}
	*out = json_pack("{s:s, s:s, s:I, s:s}", "id", img->id, "status",
	    img->status, "size", (json_int_t)img->size, "os_hash_value",
	    img->os_hash_value);
	return *out != NULL ? 0 : DB_ERROR;
}

/* The image as the compute's cache needs it (rpcapi.h) into *out: the
 * disk, its kernel and ramdisk images (properties kernel_id, ramdisk_id)
 * and the kernel command line. DB_NOTFOUND (why says which) when one is
 * not the instance's project's to use. */
static int image_json(struct db *db, const struct rpc_ctx *ctx,
    const struct db_instance *inst, json_t **out, char *why, size_t wlen)
{
	json_t *disk = NULL, *kernel = NULL, *ramdisk = NULL, *props = NULL;
	struct db_image img, aux;
	const char *cmdline;
	int rc;

	*out = NULL;
	if ((rc = image_file_json(db, ctx, inst, inst->image_ref, NULL, &img,
	    &disk, why, wlen)) != 0)
		return rc;
	props = json_loads(img.properties, 0, NULL);
	if ((rc = image_file_json(db, ctx, inst, json_string_value(
	    json_object_get(props, "kernel_id")), "kernel_id", &aux, &kernel,
	    why, wlen)) != 0 ||
	    (rc = image_file_json(db, ctx, inst, json_string_value(
	    json_object_get(props, "ramdisk_id")), "ramdisk_id", &aux, &ramdisk,
	    why, wlen)) != 0)
		goto fail;
	cmdline = json_string_value(json_object_get(props, "os_command_line"));
	*out = json_pack("{s:o, s:s, s:o, s:o, s:s}", "disk", disk,
	    "disk_format", img.disk_format, "kernel", kernel, "ramdisk", ramdisk,
	    "os_command_line", cmdline ? cmdline : "");
	json_decref(props);
	return *out != NULL ? 0 : DB_ERROR;  /* "o" took them either way */
fail:
	json_decref(disk);
	json_decref(kernel);
	json_decref(ramdisk);
	json_decref(props);
	return rc;
}

static json_t *instance_json(struct db *db, const struct db_instance *i,
    json_t *image)
{
	json_t *guest = sched_guest_json(db, i);
	json_t *o = json_pack("{s:s, s:s, s:i, s:i, s:i, s:i, s:i, s:s, s:s, "
	    "s:s, s:s}", "uuid", i->uuid, "name", i->name, "vcpus", i->vcpus,
	    "memory_mb", i->memory_mb, "root_gb", i->root_gb, "ephemeral_gb",
	    i->ephemeral_gb, "swap", i->swap, "image_ref", i->image_ref,
	    "flavorid", i->flavorid, "project_id", i->project_id, "user_id",
	    i->user_id);

	if (o != NULL)
		json_object_set(o, "image", image);
	if (o != NULL && guest != NULL)
		json_object_set_new(o, "guest", guest);
	else
		json_decref(guest);
	return o;
}

json_t *sched_instance_json(struct db *db, const struct rpc_ctx *ctx,
    const struct db_instance *i)
{
	json_t *image, *o;
	char why[256] = "cannot describe its image";

	if (image_json(db, ctx, i, &image, why, sizeof why) != 0) {
		log_warnx("instance %s: %s", i->uuid, why);
		return NULL;
	}
	o = instance_json(db, i, image);
	json_decref(image);
	return o;
}

static const char *node_name(const struct db_compute_node *node)
{
	return node->hypervisor_hostname[0] ? node->hypervisor_hostname :
	    node->host;
}

/* Claims on the best host that still has room and moves the instance to
 * it (scheduling -> spawning, one transaction): its index; -1 when every
 * host was full; -2 when the instance is no longer scheduling (a copy of
 * this build message ran first, or a delete came); -3 when the database
 * failed. */
static int claim_best(struct sched *s, const struct db_instance *inst,
    const struct sched_host *hosts, size_t n, int disk_gb)
{
	int rc;

	for (size_t i = 0; i < n; i++) {
		rc = db_claim_for_build(s->db, inst->uuid, hosts[i].node->host,
		    node_name(hosts[i].node), inst->vcpus, inst->memory_mb,
		    disk_gb);
		if (rc == DB_OK)
			return (int)i;
		if (rc == DB_CONFLICT)
			return -2;
		if (rc == DB_NOSPACE || rc == DB_NOTFOUND) {
			log_debug("claim of %s on %s lost a race: %s", inst->uuid,
			    hosts[i].node->host, db_strerror(rc));
			continue;
		}
		return -3;
	}
	return -1;
}

/* Casts the build to the host the claim moved it to. */
static void send_to_host(struct sched *s, const struct rpc_ctx *ctx,
    const struct db_instance *inst, json_t *image,
    const struct db_compute_node *node, const struct sched_retry *retry)
{
	struct rpc_error cast_err;

	log_info("instance %s: scheduled on %s (attempt %d)", inst->uuid,
	    node->host, retry->num_attempts);
	if (compute_build_and_run_instance(s->rpc, ctx, node->host,
	    instance_json(s->db, inst, image), wire_retry_json(retry, node->host),
	    &cast_err) < 0) {
		log_warnx("instance %s: cannot reach compute %s: %s", inst->uuid,
		    node->host, cast_err.message);
		db_allocation_delete(s->db, inst->uuid);
		cond_set_error(s, ctx, inst->uuid, TASK_SPAWNING,
		    "Build of instance could not be sent to its host",
		    cast_err.message);
	}
}

/* After a broker outage, or while no conductor ran (kumo-scheduler
 * restarted), the computes' reports could not be recorded: a host that was
 * up when the conductor lost them is awaited (until service_down_time
 * after the conductor is back) rather than judged down. True when such a
 * host is among c's. */
static bool hosts_awaited(const struct sched *s, const struct candidates *c)
{
	int64_t now = (int64_t)time(NULL), lost = s->broker_lost_at;
	int64_t since = s->consuming_since;

	/* since == 0: the main loop has not seen the reconnection yet (it
	 * looks every 200 ms; the first builds arrive at once) */
	if (lost == 0 || (since != 0 && now - since >= s->conf->service_down_time))
		return false;
	for (size_t i = 0; i < c->n; i++) {
		const struct db_service *svc = c->hosts[i].service;
		if (svc != NULL && !svc->disabled && !svc->forced_down &&
		    svc->last_seen_up >= lost - s->conf->service_down_time &&
		    now - svc->last_seen_up > s->conf->service_down_time)
			return true;
	}
	return false;
}

static int schedule(struct sched *s, const struct rpc_ctx *ctx,
    const struct db_instance *inst, json_t *image,
    const struct sched_retry *retry, struct rpc_error *err)
{
	struct sched_request req = {
		.vcpus = inst->vcpus, .memory_mb = inst->memory_mb,
		.disk_gb = sched_disk_gb(inst->root_gb, inst->ephemeral_gb,
		    inst->swap),
		.availability_zone = inst->availability_zone,
		.ignore_hosts = retry->hosts, .n_ignore_hosts = retry->n_hosts,
	};
	struct sched_policy pol;
	struct candidates c;
	char why[1024];
	size_t n;
	int best, rc = 0;

	sched_policy_from_conf(&pol, s->conf);
	pol.now = (int64_t)time(NULL);
	if (candidates_load(s->db, &c) < 0) {
		rpc_error_set(err, "DBError", NULL, "cannot list compute nodes");
		return -1;
	}
	n = sched_select(&s->plugins, c.hosts, c.n, &req, &pol, why,
	    sizeof why);
	best = claim_best(s, inst, c.hosts, n, req.disk_gb);
	if (best >= 0 && (rc = sched_allocate_nics(s, inst->uuid, why,
	    sizeof why)) != DB_OK) {
		log_info("instance %s: %s", inst->uuid, why);
		db_allocation_delete(s->db, inst->uuid);
		cond_set_error(s, ctx, inst->uuid, TASK_SPAWNING, why, "");
		rc = 0;
	} else if (best >= 0) {
		send_to_host(s, ctx, inst, image, c.hosts[best].node, retry);
	} else if (best == -2) {
		log_info("instance %s changed while scheduling (deleted, or "
		    "scheduled by a copy of this message): nothing claimed",
		    inst->uuid);
	} else if (best == -3) {
		rpc_error_set(err, "DBError", NULL, "claim for %s failed",
		    inst->uuid);
		rc = -1;
	} else if (hosts_awaited(s, &c)) {
		log_info("instance %s: no valid host yet, but computes that were "
		    "up when the conductor lost them (a broker outage, or its "
		    "restart) have not reported since: it stays scheduling (the "
		    "watchdog sends it again)", inst->uuid);
	} else {
		log_info("instance %s: no valid host (%zu hosts): %s",
		    inst->uuid, c.n, why);
		cond_set_error(s, ctx, inst->uuid, TASK_SCHEDULING,
		    NO_VALID_HOST, why);
	}
	candidates_free(&c);
	return rc;
}

/* Schedules inst if its images are its project's to use; else ERROR
 * with a fault that names the image, and no host is chosen. */
static int check_and_schedule(struct sched *s, const struct rpc_ctx *ctx,
    const struct db_instance *inst, const struct sched_retry *retry,
    struct rpc_error *err)
{
	char why[256] = "cannot describe its image";
	json_t *image;
	int rc;

	rc = image_json(s->db, ctx, inst, &image, why, sizeof why);
	if (rc == DB_NOTFOUND) {
		log_info("instance %s (project %s): %s", inst->uuid,
		    inst->project_id, why);
		cond_set_error(s, ctx, inst->uuid, TASK_SCHEDULING, why, "");
		return 0;
	}
	if (rc != 0) {
		rpc_error_set(err, "DBError", NULL, "instance %s: %s", inst->uuid,
		    why);
		return -1;
	}
	rc = schedule(s, ctx, inst, image, retry, err);
	json_decref(image);
	return rc;
}

static const struct wire_field build_fields[] = {
	{ "instance_uuid", WIRE_UUID, 0, 0, false },
	{ "retry", WIRE_OBJECT, 0, 0, true },
};

static int build_instances(void *arg, const struct rpc_ctx *ctx,
    json_t *args, json_t **result, struct rpc_error *err)
{
	struct sched *s = arg;
	struct sched_retry retry;
	struct db_instance inst;
	const char *uuid;
	int rc;

	*result = NULL;
	/* kumo-api and the conductor ask for builds; a compute's user can
	 * reach this queue only by the default exchange's routing */
	if (rpcapi_compute_user_host(ctx) != NULL) {
		log_warnx("scheduler.build_instances dropped: a request from bus "
		    "user %s", ctx->bus_user);
		return 0;
	}
	if (wire_check(args, build_fields, sizeof build_fields /
	    sizeof *build_fields, err) < 0 ||
	    wire_retry(json_object_get(args, "retry"), &retry, err) < 0)
		return -1;
	uuid = wire_str(args, "instance_uuid");
	rc = db_instance_get(s->db, uuid, &inst);
	if (rc == DB_NOTFOUND || (rc == DB_OK &&
	    strcmp(inst.task_state, TASK_SCHEDULING) != 0)) {
		log_info("instance %s is gone or no longer scheduling: skipped",
		    uuid);
		return 0;
	}
	if (rc != DB_OK) {
		rpc_error_set(err, "DBError", NULL, "instance %s: %s", uuid,
		    db_strerror(rc));
		return -1;
	}
	/* Nova's populate_retry: this attempt counts. */
	if (++retry.num_attempts > s->conf->max_attempts) {
		cond_set_error(s, ctx, uuid, TASK_SCHEDULING, NO_VALID_HOST,
		    "Exceeded max scheduling attempts");
		return 0;
	}
	return check_and_schedule(s, ctx, &inst, &retry, err);
}

const struct rpc_method sched_methods[] = {
	{ "build_instances", build_instances },
};
const size_t sched_n_methods = sizeof sched_methods / sizeof *sched_methods;
