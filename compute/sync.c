/*
 * Reconciliation of the hypervisor with the conductor's view of this host
 * (Nova's _init_instance, _destroy_evacuated_instances and
 * _sync_power_states). The database is the truth for what should exist
 * and whether it should run; the hypervisor is the truth for the power
 * state. An instance with a task is left alone: its action reports its own
 * end, and a sync must never fight it. But for the start-up round: a task
 * the database still holds then is one a restart (a crash, kill -9) cut
 * short, its RPC message long acked: it is finished here, or failed.
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
		if (rc == VIRT_OK || rc == VIRT_NOTFOUND)
			compute_vifs_unplug(r->c, uuids[i]);
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

/* ---- start-up: tasks a restart cut short (Nova's _init_instance) ---- */

/* Remembers a lost build; uuid's lock held, so that a build message still
 * queued for it is dropped once it arrives (compute_build_lost). */
static int mark_lost(struct compute *c, const char *uuid)
{
	char (*v)[UUID_STR_LEN];
	int rc = -1;

	pthread_mutex_lock(&c->lost_mu);
	if ((v = realloc(c->lost, (c->n_lost + 1) * sizeof *v)) != NULL) {
		c->lost = v;
		str_copy(v[c->n_lost++], uuid, UUID_STR_LEN);
		rc = 0;
	}
	pthread_mutex_unlock(&c->lost_mu);
	return rc;
}

bool compute_build_lost(struct compute *c, const char *uuid)
{
	bool lost = false;

	pthread_mutex_lock(&c->lost_mu);
	for (size_t i = 0; i < c->n_lost && !lost; i++)
		lost = strcmp(c->lost[i], uuid) == 0;
	pthread_mutex_unlock(&c->lost_mu);
	return lost;
}

void compute_sync_free(struct compute *c)
{
	free(c->lost);
	c->lost = NULL;
	c->n_lost = 0;
}

/* The driver's power state of uuid; POWER_NOSTATE when it has no domain,
 * -1 when it failed. */
static int power_of(struct virt_driver *d, const char *uuid)
{
	struct virt_info info;
	int rc;

	if ((rc = d->ops->get_info(d, uuid, &info)) == VIRT_NOTFOUND)
		return POWER_NOSTATE;
	return rc == VIRT_OK ? info.power_state : -1;
}

/* Each resumes one task with uuid's lock held and says how it ended:
 * the vm_state and power state to report, or NULL with a fault reason. */
typedef const char *resume_fn(struct sync_round *r, const char *uuid,
    const char *vm, int *power, char *reason, size_t len);

/* What resume_build answers when it has asked for a reschedule itself. */
static const char RESCHEDULED[] = "rescheduled";

/* Asks the conductor to build uuid elsewhere: a failure report with a
 * fresh retry record, which it extends with this host. */
static int reschedule(struct sync_round *r, const char *uuid)
{
	struct rpc_error err;
	json_t *retry = json_pack("{s:i, s:[]}", "num_attempts", 1, "hosts");
	char why[512];

	if (retry == NULL)
		return -1;
	snprintf(why, sizeof why, "kumo-compute on %s restarted before the "
	    "build started there", r->c->conf->host);
	if (cond_build_failed(r->c->rpc, r->ctx, uuid, r->c->conf->host, why,
	    retry, NULL, &err) < 0) {
		log_warnx("instance %s: reschedule not asked: %s", uuid,
		    err.message);
		return -1;
	}
	log_info("instance %s: its build had not started here when this "
	    "compute restarted: rescheduled", uuid);
	return 0;
}

static const char *resume_build(struct sync_round *r, const char *uuid,
    const char *vm, int *power, char *reason, size_t len)
{
	struct virt_driver *d = r->c->driver;
	int rc;

	(void)vm;
	/* The domain runs: the build ended, its report was lost. */
	if ((*power = power_of(d, uuid)) == POWER_RUNNING)
		return VM_STATE_ACTIVE;
	/* Half a build: what it left goes, and the message is gone (acked
	 * when it arrived), or still queued: a copy that comes is dropped. */
	if ((rc = d->ops->destroy(d, uuid)) != VIRT_ERROR)
		compute_vifs_unplug(r->c, uuid);
	if (mark_lost(r->c, uuid) < 0) {
		snprintf(reason, len, "out of memory");
		return NULL;
	}
	/* No guest was ever defined here: nothing ran, so the build can go
	 * to another host (the conductor excludes this one). One that got
	 * as far as a domain may have run: ERROR, as Nova. */
	if (rc == VIRT_NOTFOUND && reschedule(r, uuid) == 0)
		return RESCHEDULED;
	snprintf(reason, len, "kumo-compute on %s restarted while the "
	    "instance was building", r->c->conf->host);
	return NULL;
}

/* What runs stays running (rebooted or not), what does not is started:
 * Nova retries the reboot; either way the guest ends up running. */
static const char *resume_start(struct sync_round *r, const char *uuid,
    const char *vm, int *power, char *reason, size_t len)
{
	struct virt_driver *d = r->c->driver;

	(void)vm;
	if ((*power = power_of(d, uuid)) == POWER_RUNNING)
		return VM_STATE_ACTIVE;
	if (*power < 0 || d->ops->power_on(d, uuid) != VIRT_OK) {
		snprintf(reason, len, "the guest could not be started after "
		    "kumo-compute on %s restarted", r->c->conf->host);
		return NULL;
	}
	*power = POWER_RUNNING;
	return VM_STATE_ACTIVE;
}

static const char *resume_stop(struct sync_round *r, const char *uuid,
    const char *vm, int *power, char *reason, size_t len)
{
	struct virt_driver *d = r->c->driver;

	(void)vm;
	if ((*power = power_of(d, uuid)) == POWER_RUNNING &&
	    d->ops->power_off(d, uuid) != VIRT_OK) {
		snprintf(reason, len, "the guest could not be stopped after "
		    "kumo-compute on %s restarted", r->c->conf->host);
		return NULL;
	}
	*power = POWER_SHUTDOWN;
	return VM_STATE_STOPPED;
}

static const struct resume {
	const char *task;
	const char *action;             /* the fault's, as action_failed's */
	resume_fn *fn;                  /* NULL: the delete (its own report) */
} resumes[] = {
	{ TASK_SPAWNING, "build", resume_build },
	{ TASK_DELETING, "delete", NULL },
	{ TASK_REBOOTING, "reboot", resume_start },
	{ TASK_REBOOTING_HARD, "reboot", resume_start },
	{ TASK_POWERING_ON, "start", resume_start },
	{ TASK_POWERING_OFF, "stop", resume_stop },
};

static void resume_delete(struct sync_round *r, const char *uuid)
{
	struct virt_driver *d = r->c->driver;
	struct rpc_error err;
	int rc = d->ops->destroy(d, uuid);

	if (rc != VIRT_OK && rc != VIRT_NOTFOUND) {
		log_warnx("instance %s: its delete was cut short by a restart, "
		    "and its domain cannot be destroyed", uuid);
		return;
	}
	compute_vifs_unplug(r->c, uuid);
	log_info("instance %s: its delete was cut short by a restart: "
	    "done", uuid);
	if (cond_instance_deleted(r->c->rpc, r->ctx, r->c->conf->host, uuid,
	    NULL, &err) < 0)
		log_warnx("instance %s: delete not reported: %s", uuid,
		    err.message);
}

/* A task the database set after this process started (the start-up
 * round could not reach the conductor at once, and work came meanwhile)
 * was not cut short by our restart: its message is on its way, or the
 * conductor's watchdog sends it again. */
static bool after_start(const struct compute *c, const json_t *e)
{
	const char *s = json_string_value(json_object_get(e, "updated_at"));
	int64_t t;

	return s != NULL && time_parse_utc(s, &t) == 0 && t > c->started_at;
}

/* Resumes e's task if it has one: 0, or -1 when the round must stop. */
static int resume_one(struct sync_round *r, const json_t *e)
{
	const char *uuid = wire_str(e, "uuid"), *task = wire_str(e, "task_state");
	const char *vm = wire_str(e, "vm_state"), *to;
	const struct resume *t = NULL;
	struct rpc_error err;
	char reason[256];
	int power = POWER_NOSTATE, rc;

	for (size_t i = 0; i < sizeof resumes / sizeof *resumes; i++)
		if (strcmp(resumes[i].task, task) == 0)
			t = &resumes[i];
	if (t == NULL || after_start(r->c, e))
		return 0;
	if (round_lock(r, uuid) < 0)
		return -1;
	if (t->fn == NULL) {
		resume_delete(r, uuid);
		compute_unlock(&r->c->locks, uuid);
		return 0;
	}
	to = t->fn(r, uuid, vm, &power, reason, sizeof reason);
	if (to == RESCHEDULED) {
		rc = 0;
	} else if (to != NULL) {
		log_info("instance %s: its %s was cut short by a restart: "
		    "%s now", uuid, t->action, to);
		rc = cond_instance_update(r->c->rpc, r->ctx, r->c->conf->host,
		    uuid, to, TASK_NONE, power, task, NULL, &err);
	} else {
		log_warnx("instance %s: its %s was cut short by a restart: %s",
		    uuid, t->action, reason);
		rc = cond_action_failed(r->c->rpc, r->ctx, r->c->conf->host,
		    uuid, t->action, reason, task, NULL, &err);
	}
	compute_unlock(&r->c->locks, uuid);
	if (rc < 0)
		log_warnx("instance %s: not reported: %s", uuid, err.message);
	return 0;
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
	    TASK_NONE, NULL, &err) < 0)
		log_warnx("instance %s: power state not reported: %s", uuid,
		    err.message);
	return 0;
}

/* 0 when the round completed, 1 when it stopped early (an operation ran
 * meanwhile), -1 with err when it could not run. */
static int sync_round(struct sync_round *r, bool start,
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
	if (start && reap(r, list, deleted, uuids, n) < 0)
		goto fail;
	json_array_foreach(list, i, e)
		if (start && resume_one(r, e) < 0)
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

int compute_sync(struct compute *c, bool start)
{
	struct rpc_ctx ctx;
	struct sync_round r = { .c = c, .ctx = &ctx };
	struct rpc_error err;
	int rc;

	rpc_ctx_init_service(&ctx);
	log_set_reqid(ctx.request_id);
	r.taken = compute_locks_taken(&c->locks);
	rc = sync_round(&r, start, &err);
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
