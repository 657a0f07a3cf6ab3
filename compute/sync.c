/*
 * Reconciliation of the hypervisor with the conductor's view of this host
 * (Nova's _init_instance, _destroy_evacuated_instances and
 * _sync_power_states). The database is the truth for what should exist
 * and whether it should run; the hypervisor is the truth for the power
 * state. An instance with a task is left alone: its action reports its own
 * end, and a sync must never fight it.
 *
 * The conductor's list is a snapshot: an operation that ran on the host
 * after it was taken may have made it stale. Every operation holds the
 * instance's lock, so the count of locks taken tells: when it moved (but
 * for our own), the round stops and the next one starts afresh.
 */
#include <stdlib.h>
#include <string.h>

#include "common/rpcapi.h"
#include "common/states.h"
#include "compute/compute.h"

/* The main loop feeds the watchdog (WatchdogSec=30s): wait less. */
#define SYNC_CALL_TIMEOUT_MS 10000

struct sync_round {
	struct compute *c;
	const struct rpc_ctx *ctx;
	uint64_t taken;             /* locks taken, ours included */
};

/* Holds uuid's lock if no other operation ran since the round began. */
static int round_lock(struct sync_round *r, const char *uuid)
{
	if (compute_lock(&r->c->locks, uuid) < 0)
		return -1;
	if (compute_locks_taken(&r->c->locks) != ++r->taken) {
		compute_unlock(&r->c->locks, uuid);
		log_debug("sync stopped: an operation ran on this host "
		    "meanwhile");
		return -1;
	}
	return 0;
}

static bool listed(const json_t *list, const char *key, const char *uuid)
{
	const json_t *e;
	size_t i;

	json_array_foreach(list, i, e) {
		const char *u = key ? wire_str(e, key) : json_string_value(e);
		if (strcmp(u, uuid) == 0)
			return true;
	}
	return false;
}

/* Destroys the domains (and disks) of instances deleted while this host
 * was down. A domain the database neither places here nor holds as
 * deleted is left alone and logged: a renamed host or a restored database
 * must not cost the guests their disks. */
static int reap(struct sync_round *r, const json_t *list,
    const json_t *deleted, char (*uuids)[UUID_STR_LEN], size_t n)
{
	struct virt_driver *d = r->c->driver;
	int rc;

	for (size_t i = 0; i < n; i++) {
		if (listed(list, "uuid", uuids[i]))
			continue;
		if (!listed(deleted, NULL, uuids[i])) {
			log_warnx("instance %s: a domain here that the database "
			    "does not place on this host: left alone", uuids[i]);
			continue;
		}
		if (round_lock(r, uuids[i]) < 0)
			return -1;
		rc = d->ops->destroy(d, uuids[i]);
		compute_unlock(&r->c->locks, uuids[i]);
		if (rc == VIRT_OK || rc == VIRT_NOTFOUND)
			log_info("instance %s: deleted while this host was down: "
			    "its domain is destroyed", uuids[i]);
		else
			log_warnx("instance %s: deleted, but its domain could "
			    "not be destroyed", uuids[i]);
	}
	return 0;
}

/* The power state the hypervisor has, after powering off a stopped
 * instance found running; -1 when the driver failed. Lock held. */
static int observed_power(struct virt_driver *d, const char *uuid,
    const char *vm_state)
{
	struct virt_info info;
	int rc;

	if ((rc = d->ops->get_info(d, uuid, &info)) == VIRT_NOTFOUND)
		return POWER_NOSTATE;
	if (rc != VIRT_OK)
		return -1;
	if (strcmp(vm_state, VM_STATE_STOPPED) == 0 &&
	    info.power_state == POWER_RUNNING) {
		log_info("instance %s is stopped but running: powering it off",
		    uuid);
		if (d->ops->power_off(d, uuid) != VIRT_OK)
			return -1;
		return POWER_SHUTDOWN;
	}
	return info.power_state;
}

static int sync_one(struct sync_round *r, const json_t *e)
{
	const char *uuid = wire_str(e, "uuid"), *vm = wire_str(e, "vm_state");
	int was = (int)wire_int(e, "power_state"), power;
	const char *to = vm;
	struct rpc_error err;

	if (wire_str(e, "task_state")[0] != '\0')
		return 0;
	if (round_lock(r, uuid) < 0)
		return -1;
	power = observed_power(r->c->driver, uuid, vm);
	compute_unlock(&r->c->locks, uuid);
	if (power < 0) {
		log_warnx("instance %s: no power state from the driver", uuid);
		return 0;
	}
	if (strcmp(vm, VM_STATE_ACTIVE) == 0 &&
	    (power == POWER_SHUTDOWN || power == POWER_CRASHED))
		to = VM_STATE_STOPPED;
	if (power == was && strcmp(to, vm) == 0)
		return 0;
	log_info("instance %s: the hypervisor has power state %d (the "
	    "database %d): %s -> %s", uuid, power, was, vm, to);
	if (cond_instance_update(r->c->rpc, r->ctx, r->c->conf->host, uuid, to,
	    TASK_NONE, power,
	    TASK_NONE, &err) < 0)
		log_warnx("instance %s: power state not reported: %s", uuid,
		    err.message);
	return 0;
}

/* 0 when the round completed, 1 when it stopped early (an operation ran
 * meanwhile), -1 with err when it could not run. */
static int sync_round(struct sync_round *r, bool do_reap,
    struct rpc_error *err)
{
	struct virt_driver *d = r->c->driver;
	char (*uuids)[UUID_STR_LEN] = NULL;
	json_t *list = NULL, *deleted = NULL, *e;
	size_t n = 0, i;
	int rc = 1;

	/* Domains first: one created after the list was taken is a build
	 * the list already holds. */
	if (d->ops->list_instances(d, &uuids, &n) != VIRT_OK) {
		rpc_error_set(err, "HypervisorUnavailable", NULL,
		    "the %s driver cannot list its domains", d->ops->name);
		return -1;
	}
	if (cond_instances_on_host(r->c->rpc, r->ctx, r->c->conf->host,
	    (const char (*)[UUID_STR_LEN])uuids, n, SYNC_CALL_TIMEOUT_MS,
	    &list, &deleted, err) < 0) {
		rc = -1;
		goto fail;
	}
	if (do_reap && reap(r, list, deleted, uuids, n) < 0)
		goto fail;
	json_array_foreach(list, i, e)
		if (sync_one(r, e) < 0)
			goto fail;
	rc = 0;
fail:
	json_decref(list);
	json_decref(deleted);
	free(uuids);
	return rc;
}

int compute_sync(struct compute *c, bool do_reap)
{
	struct rpc_ctx ctx;
	struct sync_round r = { .c = c, .ctx = &ctx };
	struct rpc_error err;
	int rc;

	rpc_ctx_init_service(&ctx);
	log_set_reqid(ctx.request_id);
	r.taken = compute_locks_taken(&c->locks);
	rc = sync_round(&r, do_reap, &err);
	if (rc < 0 && !c->sync_failing)
		log_warnx("cannot sync with the conductor: %s", err.message);
	else if (rc == 0 && c->sync_failing)
		log_info("syncing with the conductor again");
	if (rc != 1)
		c->sync_failing = rc < 0;
	log_set_reqid(NULL);
	rpc_ctx_clear(&ctx);
	return rc == 0 ? 0 : -1;
}
