/*
 * The conductor topic, served by kumo-scheduler: computes have no database
 * and report here (Nova's conductor). Every argument is checked against its
 * table first; a raced update (the instance was deleted or changed
 * meanwhile) is normal life and logged at info, not an error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rpcapi.h"
#include "common/states.h"
#include "scheduler/sched.h"

#define NFIELDS(t) (sizeof t / sizeof *t)

/* A build that fails before any host took it (no valid host, attempts
 * exhausted) is Nova's burial in cell0: the create action gets the event
 * conductor_schedule_and_build_instances, Error, on this host. */
static void scheduling_failed_event(struct sched *s, const struct rpc_ctx *ctx,
    const char *uuid, const char *message, const char *details)
{
	struct db_action_event e;

	memset(&e, 0, sizeof e);
	str_copy(e.event, "conductor_schedule_and_build_instances", sizeof e.event);
	time_iso8601(e.start_time);
	str_copy(e.finish_time, e.start_time, sizeof e.finish_time);
	str_copy(e.result, "Error", sizeof e.result);
	str_copy(e.host, s->conf->host, sizeof e.host);
	str_copy_utf8(e.traceback, details[0] ? details : message,
	    sizeof e.traceback);
	str_copy_utf8(e.details, message, sizeof e.details);
	if (db_action_event_add(s->db, uuid, ctx->request_id, &e) != DB_OK)
		log_info("instance %s: no action of request %s for its event",
		    uuid, ctx->request_id);
}

int cond_set_error(struct sched *s, const struct rpc_ctx *ctx,
    const char *uuid, const char *expect_task, const char *message,
    const char *details)
{
	char msg[sizeof ((struct db_fault *)0)->message];
	char det[sizeof ((struct db_fault *)0)->details];
	int rc;

	/* Reasons come from compute hosts and hypervisors: cut, not refused. */
	str_copy_utf8(msg, message ? message : "", sizeof msg);
	str_copy_utf8(det, details ? details : "", sizeof det);
	/* The fault first: whoever sees ERROR finds its fault. One that
	 * stays behind (the state changed meanwhile) is never shown: every
	 * way into ERROR adds a newer one. */
	if (db_fault_add(s->db, uuid, 500, msg, det) != DB_OK)
		log_warnx("instance %s: fault not recorded", uuid);
	rc = db_instance_set_state(s->db, uuid, VM_STATE_ERROR, TASK_NONE,
	    POWER_NOSTATE, NULL, NULL, expect_task);
	if (rc != DB_OK) {
		log_info("instance %s not set to error (%s): changed meanwhile",
		    uuid, db_strerror(rc));
		return -1;
	}
	if (expect_task != NULL && strcmp(expect_task, TASK_SCHEDULING) == 0)
		scheduling_failed_event(s, ctx, uuid, msg, det);
	if (db_action_finish(s->db, uuid, ctx->request_id, "Error") != DB_OK)
		log_info("instance %s: no action of request %s to finish", uuid,
		    ctx->request_id);
	return 0;
}

static int db_fail(struct rpc_error *err, const char *uuid, int rc)
{
	rpc_error_set(err, "DBError", NULL, "%s: %s", uuid, db_strerror(rc));
	return -1;
}

/*
 * Who speaks. A compute host logged in to RabbitMQ as its own user
 * (RPCAPI_COMPUTE_USER_PREFIX + host, kumo-manage rabbit-user) speaks for
 * that host only: RabbitMQ checks the user_id property, and the host
 * a message names is only compared with it. Another user (kumo-api's and
 * kumo-scheduler's, or an oslo peer that sets no user_id) is trusted to
 * name a host, unless [conductor] require_compute_users.
 */

/* The message's "host" when its sender may speak for it; else NULL and
 * err says why (not logged: see refused). */
static const char *sender_host(struct sched *s, const struct rpc_ctx *ctx,
    const json_t *args, struct rpc_error *err)
{
	const char *host = wire_str(args, "host");
	const char *own = rpcapi_compute_user_host(ctx);

	if (own != NULL && strcmp(own, host) == 0)
		return host;
	if (own != NULL) {
		rpc_error_set(err, "NotAuthorized", NULL, "bus user %s may not "
		    "speak for host '%s'", ctx->bus_user, host);
		return NULL;
	}
	if (!s->conf->require_compute_users)
		return host;
	rpc_error_set(err, "NotAuthorized", NULL, "bus user '%s' is not a "
	    "compute host's and [conductor] require_compute_users is set",
	    ctx->bus_user);
	return NULL;
}

/* A cast sender_host refused: logged once, here, and dropped. */
static int refused(const char *method, const struct rpc_error *why)
{
	log_warnx("conductor.%s dropped: %s", method, why->message);
	return 0;
}

/* A compute reports only about its own instances: 0 when the database
 * places the instance on host; otherwise the report is dropped, logged. */
static int from_its_host(const struct db_instance *inst, const char *host,
    const char *what)
{
	if (strcmp(inst->host, host) == 0)
		return 0;
	log_warnx("instance %s: %s from host %s dropped: the instance is on "
	    "host '%s'", inst->uuid, what, host, inst->host);
	return -1;
}

/* Records the event a compute host sent with its report (checked by
 * wire_check as WIRE_EVENT) on the action of the request; the caller has
 * checked that the instance is on that host. The failure's text is the
 * traceback (admins) and, cut, the details (the owner too, as the
 * instance's fault). */
static void record_event(struct sched *s, const struct rpc_ctx *ctx,
    const char *uuid, const char *host, const json_t *args)
{
	const json_t *ev = json_object_get(args, "event");
	struct db_action_event e;
	const char *tb;

	if (ev == NULL || json_is_null(ev))
		return;
	memset(&e, 0, sizeof e);
	str_copy(e.event, wire_str(ev, "event"), sizeof e.event);
	str_copy(e.start_time, wire_str(ev, "start_time"), sizeof e.start_time);
	str_copy(e.finish_time, wire_str(ev, "finish_time"), sizeof e.finish_time);
	str_copy(e.result, wire_str(ev, "result"), sizeof e.result);
	str_copy(e.host, host, sizeof e.host);
	if ((tb = wire_str(ev, "traceback")) != NULL &&
	    strcmp(e.result, "Error") == 0) {
		str_copy_utf8(e.traceback, tb, sizeof e.traceback);
		str_copy_utf8(e.details, tb, sizeof e.details);
	}
	if (db_action_event_add(s->db, uuid, ctx->request_id, &e) != DB_OK)
		log_info("instance %s: event %s not recorded: no action of "
		    "request %s", uuid, e.event, ctx->request_id);
}

static const struct wire_field update_fields[] = {
	{ "host", WIRE_STR, 1, DB_NAME - 1, false },
	{ "instance_uuid", WIRE_UUID, 0, 0, false },
	{ "vm_state", WIRE_VM_STATE, 0, 0, false },
	{ "task_state", WIRE_TASK, 0, 0, false },
	{ "power_state", WIRE_POWER, 0, 0, false },
	{ "expected_task_state", WIRE_TASK, 0, 0, true },
	{ "event", WIRE_EVENT, 0, 0, true },
};

static int instance_update(void *arg, const struct rpc_ctx *ctx,
    json_t *args, json_t **result, struct rpc_error *err)
{
	struct sched *s = arg;
	struct db_instance cur;
	const char *uuid, *vm;
	int rc;

	*result = NULL;
	if (wire_check(args, update_fields, NFIELDS(update_fields), err) < 0)
		return -1;
	if (sender_host(s, ctx, args, err) == NULL)
		return refused("instance_update", err);
	uuid = wire_str(args, "instance_uuid");
	vm = wire_str(args, "vm_state");
	if ((rc = db_instance_get(s->db, uuid, &cur)) == DB_NOTFOUND) {
		log_info("instance %s is gone: update to %s dropped", uuid, vm);
		return 0;
	}
	if (rc != DB_OK)
		return db_fail(err, uuid, rc);
	if (from_its_host(&cur, wire_str(args, "host"), "an update") < 0)
		return 0;
	record_event(s, ctx, uuid, cur.host, args);
	if (!state_vm_transition_ok(cur.vm_state, vm)) {
		rpc_error_set(err, "InstanceInvalidState", NULL,
		    "instance %s: %s -> %s is not allowed", uuid, cur.vm_state, vm);
		return -1;
	}
	rc = db_instance_set_state(s->db, uuid, vm, wire_str(args, "task_state"),
	    (int)wire_int(args, "power_state"), NULL, NULL,
	    wire_str(args, "expected_task_state"));
	if (rc == DB_CONFLICT || rc == DB_NOTFOUND) {
		log_info("instance %s: update to %s dropped, it changed "
		    "meanwhile (a delete?)", uuid, vm);
		return 0;
	}
	if (rc != DB_OK)
		return db_fail(err, uuid, rc);
	log_info("instance %s is %s", uuid, vm);
	/* The end of a task (spawning, rebooting, powering-off...) finishes
	 * the action its request started. */
	if (wire_str(args, "expected_task_state") != NULL &&
	    wire_str(args, "expected_task_state")[0] != '\0')
		db_action_finish(s->db, uuid, ctx->request_id, NULL);
	return 0;
}

static const struct wire_field action_failed_fields[] = {
	{ "host", WIRE_STR, 1, DB_NAME - 1, false },
	{ "instance_uuid", WIRE_UUID, 0, 0, false },
	{ "action", WIRE_STR, 1, 31, false },
	{ "reason", WIRE_STR, 0, 4095, false },
	{ "expected_task_state", WIRE_TASK, 0, 0, false },
	{ "event", WIRE_EVENT, 0, 0, true },
};

/* An action failed on its host: ERROR with a fault, if the instance is
 * still in the task the action set (a delete meanwhile wins). */
static int action_failed(void *arg, const struct rpc_ctx *ctx, json_t *args,
    json_t **result, struct rpc_error *err)
{
	struct sched *s = arg;
	struct db_instance cur;
	const char *uuid, *reason;
	char msg[256];

	*result = NULL;
	if (wire_check(args, action_failed_fields,
	    NFIELDS(action_failed_fields), err) < 0)
		return -1;
	if (sender_host(s, ctx, args, err) == NULL)
		return refused("action_failed", err);
	uuid = wire_str(args, "instance_uuid");
	reason = wire_str(args, "reason");
	if (db_instance_get(s->db, uuid, &cur) != DB_OK ||
	    from_its_host(&cur, wire_str(args, "host"), "a failure") < 0)
		return 0;
	record_event(s, ctx, uuid, cur.host, args);
	snprintf(msg, sizeof msg, "%s", reason[0] ? reason : "Unknown error");
	log_warnx("instance %s: %s failed: %s", uuid, wire_str(args, "action"),
	    reason);
	cond_set_error(s, ctx, uuid, wire_str(args, "expected_task_state"), msg,
	    reason);
	return 0;
}

static const struct wire_field failed_fields[] = {
	{ "instance_uuid", WIRE_UUID, 0, 0, false },
	{ "host", WIRE_STR, 1, DB_NAME - 1, false },
	{ "reason", WIRE_STR, 0, 4095, false },
	{ "retry", WIRE_OBJECT, 0, 0, true },
	{ "event", WIRE_EVENT, 0, 0, true },
};

static bool retry_has(const struct sched_retry *r, const char *host)
{
	for (size_t i = 0; i < r->n_hosts; i++)
		if (strcmp(r->hosts[i], host) == 0)
			return true;
	return false;
}

/* Back to "scheduling" with no host, then to the scheduler again with the
 * failed host excluded. */
static void reschedule(struct sched *s, const struct rpc_ctx *ctx,
    const char *uuid, const char *host, const struct sched_retry *r)
{
	struct rpc_error e;
	int rc;

	rc = db_instance_set_state(s->db, uuid, VM_STATE_BUILDING,
	    TASK_SCHEDULING, POWER_NOSTATE, "", "", TASK_SPAWNING);
	if (rc != DB_OK) {
		log_info("instance %s not rescheduled (%s): changed meanwhile",
		    uuid, db_strerror(rc));
		return;
	}
	db_allocation_delete(s->db, uuid);
	if (sched_build_instances(s->rpc, ctx, uuid,
	    wire_retry_json(r, retry_has(r, host) ? NULL : host), &e) < 0) {
		log_warnx("instance %s: reschedule not sent: %s", uuid,
		    e.message);
		cond_set_error(s, ctx, uuid, TASK_SCHEDULING,
		    "Build of instance could not be rescheduled", e.message);
	}
}

/* A failure report counts only from the host the instance is spawning on:
 * a late, repeated or stray one must not free a live claim. */
static bool failure_current(struct sched *s, const char *uuid,
    const char *host)
{
	struct db_instance inst;

	if (db_instance_get(s->db, uuid, &inst) != DB_OK ||
	    strcmp(inst.task_state, TASK_SPAWNING) != 0 ||
	    strcmp(inst.host, host) != 0) {
		log_info("instance %s: build failure from %s dropped: the "
		    "instance is not spawning there", uuid, host);
		return false;
	}
	return true;
}

static void fail_for_good(struct sched *s, const struct rpc_ctx *ctx,
    const char *uuid, const char *reason)
{
	char msg[256];

	/* Nova's MaxRetriesExceeded; the fault message column is 255 bytes. */
	snprintf(msg, sizeof msg, "Exceeded maximum number of retries. Exceeded "
	    "max scheduling attempts %d for instance %s. Last exception: %s",
	    s->conf->max_attempts, uuid, reason);
	if (cond_set_error(s, ctx, uuid, TASK_SPAWNING, msg, reason) == 0)
		db_allocation_delete(s->db, uuid);
}

static int build_failed(void *arg, const struct rpc_ctx *ctx, json_t *args,
    json_t **result, struct rpc_error *err)
{
	struct sched *s = arg;
	const char *uuid, *host, *reason;
	struct sched_retry r;

	*result = NULL;
	if (wire_check(args, failed_fields, NFIELDS(failed_fields), err) < 0 ||
	    wire_retry(json_object_get(args, "retry"), &r, err) < 0)
		return -1;
	if (sender_host(s, ctx, args, err) == NULL)
		return refused("build_failed", err);
	uuid = wire_str(args, "instance_uuid");
	host = wire_str(args, "host");
	reason = wire_str(args, "reason");
	if (!failure_current(s, uuid, host))
		return 0;
	record_event(s, ctx, uuid, host, args);
	if (r.num_attempts < s->conf->max_attempts) {
		log_warnx("instance %s: build on %s failed (attempt %d of %d), "
		    "rescheduling: %s", uuid, host, r.num_attempts,
		    s->conf->max_attempts, reason);
		reschedule(s, ctx, uuid, host, &r);
		return 0;
	}
	log_warnx("instance %s: build on %s failed, no attempt left: %s", uuid,
	    host, reason);
	fail_for_good(s, ctx, uuid, reason);
	return 0;
}

static const struct wire_field deleted_fields[] = {
	{ "host", WIRE_STR, 1, DB_NAME - 1, false },
	{ "instance_uuid", WIRE_UUID, 0, 0, false },
	{ "event", WIRE_EVENT, 0, 0, true },
};

static int instance_deleted(void *arg, const struct rpc_ctx *ctx,
    json_t *args, json_t **result, struct rpc_error *err)
{
	struct sched *s = arg;
	struct db_instance cur;
	const char *uuid;
	int rc;

	*result = NULL;
	if (wire_check(args, deleted_fields, NFIELDS(deleted_fields), err) < 0)
		return -1;
	if (sender_host(s, ctx, args, err) == NULL)
		return refused("instance_deleted", err);
	uuid = wire_str(args, "instance_uuid");
	if ((rc = db_instance_get(s->db, uuid, &cur)) == DB_OK &&
	    from_its_host(&cur, wire_str(args, "host"), "a deletion") < 0)
		return 0;
	if (rc == DB_OK) {
		record_event(s, ctx, uuid, cur.host, args);
		db_action_finish(s->db, uuid, ctx->request_id, NULL);
	}
	rc = db_instance_destroy(s->db, uuid);
	if (rc == DB_NOTFOUND) {
		log_info("instance %s was already deleted", uuid);
		return 0;
	}
	if (rc != DB_OK)
		return db_fail(err, uuid, rc);
	log_info("instance %s deleted", uuid);
	return 0;
}

static const struct wire_field node_fields[] = {
	{ "host", WIRE_STR, 1, DB_NAME - 1, false },
	{ "resources", WIRE_OBJECT, 0, 0, false },
};

static const struct wire_field resource_fields[] = {
	{ "vcpus", WIRE_INT, 0, 1 << 20, false },
	{ "memory_mb", WIRE_INT, 0, 1 << 30, false },
	{ "local_gb", WIRE_INT, 0, 1 << 30, false },
	{ "hypervisor_type", WIRE_STR, 1, 31, false },
	{ "hypervisor_version", WIRE_INT, 0, 1 << 30, false },
	{ "hypervisor_hostname", WIRE_STR, 1, DB_NAME - 1, false },
};

static int compute_node_update(void *arg, const struct rpc_ctx *ctx,
    json_t *args, json_t **result, struct rpc_error *err)
{
	struct sched *s = arg;
	struct db_compute_node n;
	const json_t *res;
	int rc;

	*result = NULL;
	if (wire_check(args, node_fields, NFIELDS(node_fields), err) < 0)
		return -1;
	if (sender_host(s, ctx, args, err) == NULL)
		return refused("compute_node_update", err);
	res = json_object_get(args, "resources");
	if (wire_check(res, resource_fields, NFIELDS(resource_fields), err) < 0)
		return -1;
	memset(&n, 0, sizeof n);
	str_copy(n.host, wire_str(args, "host"), sizeof n.host);
	str_copy(n.hypervisor_hostname, wire_str(res, "hypervisor_hostname"),
	    sizeof n.hypervisor_hostname);
	str_copy(n.hypervisor_type, wire_str(res, "hypervisor_type"),
	    sizeof n.hypervisor_type);
	n.hypervisor_version = (int)wire_int(res, "hypervisor_version");
	n.vcpus = (int)wire_int(res, "vcpus");
	n.memory_mb = (int)wire_int(res, "memory_mb");
	n.local_gb = (int)wire_int(res, "local_gb");
	n.cpu_allocation_ratio = s->conf->cpu_allocation_ratio;
	n.ram_allocation_ratio = s->conf->ram_allocation_ratio;
	n.disk_allocation_ratio = s->conf->disk_allocation_ratio;
	if ((rc = db_compute_node_upsert(s->db, &n)) != DB_OK)
		return db_fail(err, n.host, rc);
	log_debug("compute node %s: %d vcpus, %d MB, %d GB", n.host, n.vcpus,
	    n.memory_mb, n.local_gb);
	return 0;
}

static const struct wire_field heartbeat_fields[] = {
	{ "host", WIRE_STR, 1, DB_NAME - 1, false },
	{ "binary", WIRE_STR, 1, 63, false },
	{ "topic", WIRE_STR, 1, 63, false },
};

static int service_heartbeat(void *arg, const struct rpc_ctx *ctx,
    json_t *args, json_t **result, struct rpc_error *err)
{
	struct sched *s = arg;
	int rc;

	*result = NULL;
	if (wire_check(args, heartbeat_fields, NFIELDS(heartbeat_fields),
	    err) < 0)
		return -1;
	if (sender_host(s, ctx, args, err) == NULL)
		return refused("service_heartbeat", err);
	/* a compute's user reports its kumo-compute only */
	if (rpcapi_compute_user_host(ctx) != NULL &&
	    (strcmp(wire_str(args, "binary"), "kumo-compute") != 0 ||
	    strcmp(wire_str(args, "topic"), TOPIC_COMPUTE) != 0)) {
		rpc_error_set(err, "NotAuthorized", NULL, "bus user %s may only "
		    "report kumo-compute on topic %s", ctx->bus_user,
		    TOPIC_COMPUTE);
		return refused("service_heartbeat", err);
	}
	rc = db_service_heartbeat(s->db, wire_str(args, "host"),
	    wire_str(args, "binary"), wire_str(args, "topic"));
	if (rc != DB_OK)
		return db_fail(err, wire_str(args, "host"), rc);
	return 0;
}

static const struct wire_field host_fields[] = {
	{ "host", WIRE_STR, 1, DB_NAME - 1, false },
	{ "uuids", WIRE_STRLIST, 0, RPCAPI_HOST_INSTANCES_MAX, true },
};

/* Those of the host's domain uuids that the database holds as deleted (on
 * this host, or never placed): the only domains a compute may reap. */
static json_t *deleted_of(struct sched *s, const char *host,
    const json_t *uuids, struct rpc_error *err)
{
	json_t *out = json_array(), *e;
	struct db_instance inst;
	size_t i;

	json_array_foreach(uuids, i, e) {
		const char *u = json_string_value(e);
		if (!uuid_valid(u)) {
			rpc_error_set(err, "InvalidParameterValue", NULL,
			    "bad argument 'uuids'");
			json_decref(out);
			return NULL;
		}
		if (db_instance_get_any(s->db, u, &inst) == DB_OK && inst.deleted &&
		    (inst.host[0] == '\0' || strcmp(inst.host, host) == 0))
			json_array_append_new(out, json_string(u));
	}
	return out;
}

static json_t *host_instances_json(const struct db_instance *v, size_t n)
{
	json_t *list = json_array(), *e;

	for (size_t i = 0; list != NULL && i < n; i++) {
		e = json_pack("{s:s, s:s, s:s, s:i, s:s}", "uuid", v[i].uuid,
		    "vm_state", v[i].vm_state, "task_state", v[i].task_state,
		    "power_state", v[i].power_state, "updated_at", v[i].updated_at);
		if (e == NULL || json_array_append_new(list, e) < 0) {
			json_decref(list);
			return NULL;
		}
	}
	return list;
}

/* What a compute should have: its live instances, for its reconciliation
 * at start and its periodic power state sync. */
static int instances_on_host(void *arg, const struct rpc_ctx *ctx,
    json_t *args, json_t **result, struct rpc_error *err)
{
	struct sched *s = arg;
	struct db_instance_filter f = { 0 };
	struct db_instance *v = NULL;
	json_t *list, *deleted;
	size_t n = 0;
	int rc;

	*result = NULL;
	if (wire_check(args, host_fields, NFIELDS(host_fields), err) < 0 ||
	    sender_host(s, ctx, args, err) == NULL)
		return -1;
	f.host = wire_str(args, "host");
	if ((rc = db_instance_list(s->db, &f, &v, &n)) != DB_OK)
		return db_fail(err, f.host, rc);
	if (n > RPCAPI_HOST_INSTANCES_MAX) {
		free(v);
		rpc_error_set(err, "TooManyInstances", NULL, "host %s has %zu "
		    "instances, more than %d", f.host, n,
		    RPCAPI_HOST_INSTANCES_MAX);
		return -1;
	}
	list = host_instances_json(v, n);
	free(v);
	if ((deleted = deleted_of(s, f.host, json_object_get(args, "uuids"),
	    err)) == NULL) {
		json_decref(list);
		return -1;
	}
	if (list == NULL || (*result = json_pack("{s:o, s:o}", "instances",
	    list, "deleted", deleted)) == NULL) {
		rpc_error_set(err, "MemoryError", "builtins", "out of memory");
		return -1;
	}
	return 0;
}

const struct rpc_method cond_methods[] = {
	{ "instance_update", instance_update },
	{ "build_failed", build_failed },
	{ "action_failed", action_failed },
	{ "instance_deleted", instance_deleted },
	{ "compute_node_update", compute_node_update },
	{ "service_heartbeat", service_heartbeat },
	{ "instances_on_host", instances_on_host },
};
const size_t cond_n_methods = sizeof cond_methods / sizeof *cond_methods;
