/*
 * The "compute" topic (server = this host): build and destroy instances
 * through the virt driver, then tell the conductor. Handlers run on the
 * RPC worker pool; the driver is thread-safe and compute_lock keeps two
 * operations on one instance apart. The received context goes on with
 * every cast, so the request id follows the request.
 */
#include <string.h>

#include "common/rpcapi.h"
#include "common/states.h"
#include "compute/compute.h"

#define NFIELDS(t) (sizeof t / sizeof *t)

static const struct wire_field build_args[] = {
	{ "instance", WIRE_OBJECT, 0, 0, false },
	{ "retry", WIRE_OBJECT, 0, 0, true },
};

/* Tells the conductor how the build ended, with its event (NULL: none);
 * the retry goes back as it came. */
static int report_build(struct compute *c, const struct rpc_ctx *ctx,
    const char *uuid, const json_t *retry, const char *reason,
    struct rpcapi_event *ev, struct rpc_error *err)
{
	json_t *r = retry && !json_is_null(retry) ? json_deep_copy(retry) : NULL;

	if (ev != NULL)
		ev->error = reason;
	if (reason == NULL) {
		json_decref(r);
		return cond_instance_update(c->rpc, ctx, c->conf->host, uuid,
		    VM_STATE_ACTIVE,
		    TASK_NONE, POWER_RUNNING, TASK_SPAWNING, ev, err);
	}
	return cond_build_failed(c->rpc, ctx, uuid, c->conf->host, reason, r,
	    ev, err);
}

/* A bad "instance" whose uuid is readable still fails its build, so that
 * the instance does not stay in "spawning". */
static void fail_unreadable(struct compute *c, const struct rpc_ctx *ctx,
    const json_t *inst, const json_t *retry, const struct rpc_error *why)
{
	const char *uuid = json_string_value(json_object_get(inst, "uuid"));
	struct rpc_error e;

	if (uuid == NULL || !uuid_valid(uuid))
		return;
	if (report_build(c, ctx, uuid, retry, why->message, NULL, &e) < 0)
		log_warnx("instance %s: build failure not reported: %s", uuid,
		    e.message);
}

/* The guest's leases, its config drive and the spawn, the instance's
 * lock held: VIRT_OK, VIRT_EXISTS or an error with reason. */
static int spawn_locked(struct compute *c, struct virt_instance *inst,
    const struct compute_image *img, const struct compute_guest *g,
    char *reason, size_t len)
{
	struct configdrive_nic cd_nics[COMPUTE_MAX_NICS];
	struct configdrive cd;
	char fqdn[320];

	compute_guest_nics(g, inst);
	if (g->present && (g->config_drive || c->conf->force_config_drive)) {
		compute_guest_configdrive(c, g, inst, &cd, cd_nics, fqdn,
		    sizeof fqdn);
		inst->config_drive = &cd;
		inst->config_drive_format = c->conf->config_drive_format;
	}
	if (compute_image_prepare(c, img, inst, reason, len) < 0 ||
	    compute_vifs_plug(c, inst->uuid, g, reason, len) < 0)
		return VIRT_ERROR;
	return c->driver->ops->spawn(c->driver, inst, reason, len);
}

static int build_and_run_instance(void *arg, const struct rpc_ctx *ctx,
    json_t *args, json_t **result, struct rpc_error *err)
{
	struct compute *c = arg;
	struct virt_instance inst;
	struct compute_image img;
	struct compute_guest guest;
	struct rpcapi_event ev;
	const json_t *retry, *ij;
	char reason[512];
	int rc;

	*result = NULL;
	rpcapi_event_start(&ev, "compute__do_build_and_run_instance");
	if (wire_check(args, build_args, NFIELDS(build_args), err) < 0)
		return -1;
	retry = json_object_get(args, "retry");
	ij = json_object_get(args, "instance");
	if (compute_args_instance(ij, &inst, err) < 0 ||
	    compute_args_image(ij, &img, err) < 0 ||
	    compute_args_guest(ij, &guest, err) < 0) {
		fail_unreadable(c, ctx, ij, retry, err);
		return -1;
	}
	/* The conductor sends a build again when it heard nothing of it for
	 * a while (scheduler/watch.c): one that runs here already goes on,
	 * the copy is not kept waiting on a worker. A copy that comes after
	 * the build finds the guest there (VIRT_EXISTS) and reports it. */
	if (compute_lock_busy(&c->locks, inst.uuid)) {
		log_info("instance %s: build already in progress here: this "
		    "copy is dropped", inst.uuid);
		compute_guest_clear(&guest);
		return 0;
	}
	if (compute_lock(&c->locks, inst.uuid) < 0) {
		compute_guest_clear(&guest);
		rpc_error_set(err, "MemoryError", "builtins", "out of memory");
		return -1;
	}
	if (compute_build_lost(c, inst.uuid)) {
		compute_unlock(&c->locks, inst.uuid);
		compute_guest_clear(&guest);
		log_warnx("instance %s: build dropped: it was declared lost at "
		    "start (sync.c)", inst.uuid);
		return 0;
	}
	log_info("instance %s: spawning (%d vcpus, %d MB, %zu NICs%s)",
	    inst.uuid, inst.vcpus, inst.memory_mb, guest.n_nics,
	    guest.config_drive ? ", config drive" : "");
	reason[0] = '\0';
	rc = spawn_locked(c, &inst, &img, &guest, reason, sizeof reason);
	compute_unlock(&c->locks, inst.uuid);
	compute_guest_clear(&guest);
	if (rc == VIRT_EXISTS)
		log_info("instance %s was already spawned here", inst.uuid);
	else if (rc != VIRT_OK)
		log_warnx("instance %s: spawn failed: %s", inst.uuid, reason);
	else
		log_info("instance %s: running", inst.uuid);
	return report_build(c, ctx, inst.uuid, retry,
	    rc == VIRT_OK || rc == VIRT_EXISTS ? NULL : reason, &ev, err);
}

static const struct wire_field terminate_args[] = {
	{ "instance_uuid", WIRE_UUID, 1, 0, false },
};

static int terminate_instance(void *arg, const struct rpc_ctx *ctx,
    json_t *args, json_t **result, struct rpc_error *err)
{
	struct compute *c = arg;
	struct rpcapi_event ev;
	const char *uuid;
	int rc;

	*result = NULL;
	rpcapi_event_start(&ev, "compute_terminate_instance");
	if (wire_check(args, terminate_args, NFIELDS(terminate_args),
	    err) < 0)
		return -1;
	uuid = json_string_value(json_object_get(args, "instance_uuid"));
	if (compute_lock(&c->locks, uuid) < 0) {
		rpc_error_set(err, "MemoryError", "builtins", "out of memory");
		return -1;
	}
	rc = c->driver->ops->destroy(c->driver, uuid);
	if (rc == VIRT_OK || rc == VIRT_NOTFOUND)
		compute_vifs_unplug(c, uuid);
	compute_unlock(&c->locks, uuid);
	if (rc == VIRT_NOTFOUND) {
		log_info("instance %s: not on this host, nothing to destroy",
		    uuid);
	} else if (rc != VIRT_OK) {
		rpc_error_set(err, "InstanceTerminationFailure", NULL,
		    "instance %s: destroy failed", uuid);
		return -1;
	} else {
		log_info("instance %s: destroyed", uuid);
	}
	return cond_instance_deleted(c->rpc, ctx, c->conf->host, uuid, &ev, err);
}

const struct rpc_method compute_methods[] = {
	{ "build_and_run_instance", build_and_run_instance },
	{ "terminate_instance", terminate_instance },
	{ "reboot_instance", compute_reboot_instance_rpc },
	{ "stop_instance", compute_stop_instance_rpc },
	{ "start_instance", compute_start_instance_rpc },
	{ "get_console_output", compute_get_console_output_rpc },
};
const size_t compute_n_methods = NFIELDS(compute_methods);
