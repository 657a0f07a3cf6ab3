/*
 * kumo's internal RPC API: the client half of every method the daemons
 * serve, so that a caller never builds a message by hand (Nova's
 * rpcapi.py modules). The server halves are the method tables in
 * scheduler/ (topics "scheduler" and "conductor") and compute/ (topic
 * "compute", server = host). All go to the control exchange, version "1.0".
 *
 * Flow of a boot (DESIGN.md):
 *   api        db insert (building/scheduling) -> sched_build_instances
 *   scheduler  pick host; claim it and set host + task spawning in one
 *              transaction (db_claim_for_build, expecting scheduling: a
 *              deleted instance or a second copy of the message claims
 *              nothing and stops) -> compute_build_and_run_instance
 *   compute    driver spawn -> cond_instance_update(active, none, running,
 *              expect spawning); on failure -> cond_build_failed
 *   conductor  build_failed: reschedule on another host (retry.hosts grows)
 *              up to max_attempts, else ERROR + fault
 * Actions (POST /servers/{id}/action: reboot, os-stop, os-start):
 *   api        state check, task rebooting/rebooting_hard/powering-off/
 *              powering-on (expecting none), action record ->
 *              compute_reboot_instance / _stop_instance / _start_instance
 *   compute    driver reboot/power_off/power_on -> cond_instance_update(
 *              active|stopped, none, running|shutdown, expect the task);
 *              on failure -> cond_action_failed (ERROR + fault)
 *   conductor  instance_update finishes the action of the request
 * Events: each compute step above (build, reboot, stop, start, terminate)
 *   goes with its report as an event (struct rpcapi_event); the conductor
 *   records it on the action of the request, if the instance is on the
 *   reporting host. A build that fails in the scheduler gets the event
 *   conductor_schedule_and_build_instances (Error).
 * Console: api rpc_call compute_get_console_output (no host -> 409).
 * Delete:
 *   api        task deleting; no host -> db destroy at once; else
 *              compute_terminate_instance
 *   compute    driver destroy -> cond_instance_deleted
 *   conductor  db_instance_destroy (frees the allocation)
 * Reconciliation (Nova's _init_instance and _sync_power_states):
 *   compute    at start and every report_interval: rpc_call
 *              cond_instances_on_host with its domains' uuids; at start,
 *              a domain the database holds as deleted is destroyed (one
 *              it does not know is left alone, logged); a listed instance
 *              with task none
 *              whose power state differs -> cond_instance_update(expect
 *              task none)
 *
 * Every function returns 0, or -1 with err filled. `args` JSON objects
 * are documented beside each function: they are the wire contract.
 */
#ifndef KUMO_RPCAPI_H
#define KUMO_RPCAPI_H

#include <jansson.h>
#include <stdbool.h>

#include "common/common.h"
#include "common/rpc/rpc.h"

#define TOPIC_SCHEDULER "scheduler"
#define TOPIC_CONDUCTOR "conductor"
#define TOPIC_COMPUTE "compute"
#define RPCAPI_VERSION "1.0"
/* The RabbitMQ user of compute host H is this prefix and H (kumo-manage
 * rabbit-user create H): the conductor takes the host of a report from
 * the message's user_id (scheduler/conductor.c). */
#define RPCAPI_COMPUTE_USER_PREFIX "kumo-compute-"
/* The host whose own bus user sent a message (ctx->bus_user), or NULL:
 * another user, or none. */
const char *rpcapi_compute_user_host(const struct rpc_ctx *ctx);

/* The transport every daemon opens from its config ([DEFAULT]
 * transport_url, control_exchange, rpc_response_timeout,
 * heartbeat_timeout_threshold); fatalx on a bad URL (start-up only). */
/* reply_tag: rpc_conf's (NULL: oslo's reply queue names); kumo-compute
 * tags its reply queue with its host, which its own bus user alone may
 * read (tools/manage/rabbit.c). */
struct rpc_transport *rpcapi_transport_open(const struct kumo_conf *conf,
    const char *reply_tag);

/* The instance as a compute host needs it to build (compute has no DB):
 * {"uuid","name","vcpus","memory_mb","root_gb","ephemeral_gb","swap",
 *  "image_ref","flavorid","project_id","user_id","image"}; built by the
 * caller (the conductor, which sends only images the build's project may
 * read, and never an unknown one; the compute still takes "image" null):
 *   {"disk": F, "disk_format": "raw"|"qcow2", "kernel": F|null,
 *    "ramdisk": F|null, "os_command_line": s}
 * with F = {"id", "status", "size" (-1 unknown), "os_hash_value" (sha256
 * hex, "" none)}: the compute downloads an F whose status is "active"
 * from [glance] api_servers into its cache (named by the sha256, which
 * it checks); an F without data (queued) is skipped (metadata-only images
 * on the fake driver). */

/* Console output is bounded: the compute sends at most the last this many
 * bytes, the API refuses more. */
#define RPCAPI_CONSOLE_MAX (1024 * 1024)

/* scheduler.build_instances {"instance_uuid": s, "retry": {"num_attempts": n,
 * "hosts": [s...]}} cast. retry NULL on the first attempt (stolen). */
int sched_build_instances(struct rpc_transport *t, const struct rpc_ctx *ctx,
    const char *instance_uuid, json_t *retry, struct rpc_error *err);

/* compute.<host>.build_and_run_instance {"instance": {...}, "retry": {...}}
 * cast; instance and retry are stolen. */
int compute_build_and_run_instance(struct rpc_transport *t,
    const struct rpc_ctx *ctx, const char *host, json_t *instance,
    json_t *retry, struct rpc_error *err);

/* compute.<host>.terminate_instance {"instance_uuid": s} cast. */
int compute_terminate_instance(struct rpc_transport *t,
    const struct rpc_ctx *ctx, const char *host, const char *instance_uuid,
    struct rpc_error *err);

/* compute.<host>.reboot_instance {"instance_uuid", "reboot_type": "SOFT" or
 * "HARD"} cast. */
int compute_reboot_instance(struct rpc_transport *t,
    const struct rpc_ctx *ctx, const char *host, const char *instance_uuid,
    bool hard, struct rpc_error *err);

/* compute.<host>.stop_instance {"instance_uuid"} cast. */
int compute_stop_instance(struct rpc_transport *t, const struct rpc_ctx *ctx,
    const char *host, const char *instance_uuid, struct rpc_error *err);

/* compute.<host>.start_instance {"instance_uuid"} cast. */
int compute_start_instance(struct rpc_transport *t, const struct rpc_ctx *ctx,
    const char *host, const char *instance_uuid, struct rpc_error *err);

/* compute.<host>.get_console_output {"instance_uuid", "length": n} call
 * (n = the last n lines, -1 = all) -> {"output": s}, at most
 * RPCAPI_CONSOLE_MAX bytes. *output: a malloc'd string, the caller's.
 * A reply of another shape is an error (cls "InvalidReply"). */
int compute_get_console_output(struct rpc_transport *t,
    const struct rpc_ctx *ctx, const char *host, const char *instance_uuid,
    int length, char **output, struct rpc_error *err);

/* A step a compute host did for an action, reported with the report of
 * its end (Nova's instance action events, e.g. "compute_stop_instance"):
 * the conductor records it on the action of the request. On the wire, the
 * optional argument "event" of instance_update, build_failed,
 * action_failed and instance_deleted:
 *   {"event": s (1..63 bytes), "start_time": T, "finish_time": T,
 *    "result": "Success"|"Error", "traceback": s (..4095 bytes)|null}
 * T = "YYYY-MM-DDTHH:MM:SSZ" of the host's clock, start <= finish. */
struct rpcapi_event {
	const char *name;          /* static */
	char start_time[32];
	const char *error;         /* NULL: Success; else why (borrowed) */
};
/* Names the event and stamps its start (now). */
void rpcapi_event_start(struct rpcapi_event *ev, const char *name);
#define RPCAPI_EVENT_TRACEBACK_MAX 4095

/* The reports of a compute about one instance (instance_update,
 * action_failed, instance_deleted) name the reporting host: the conductor
 * drops a report about an instance the database places on another host.
 * Each takes an event (NULL: none; its finish is stamped at the call).
 * conductor.instance_update {"host","instance_uuid","vm_state","task_state",
 * "power_state","expected_task_state" (or null), "event"} cast. */
int cond_instance_update(struct rpc_transport *t, const struct rpc_ctx *ctx,
    const char *host, const char *instance_uuid, const char *vm_state, const char *task_state,
    int power_state, const char *expected_task_state,
    const struct rpcapi_event *ev, struct rpc_error *err);

/* conductor.instances_on_host {"host": s, "uuids": [s...]} call ->
 * {"instances": [{"uuid", "vm_state", "task_state", "power_state"}...],
 *  "deleted": [s...]}: the live (not deleted) instances whose host is
 * `host`, at most RPCAPI_HOST_INSTANCES_MAX, and those of `uuids` (the
 * host's domains) that the database holds as deleted. Only those may be
 * reaped: a domain the database does not know (a host renamed, a
 * database restored) is never destroyed on the host's word alone.
 * timeout_ms: how long to wait for the reply (0 = rpc_response_timeout).
 * *instances, *deleted: those arrays, every entry checked, the caller's.
 * A reply of another shape is an error (cls "InvalidReply"). */
#define RPCAPI_HOST_INSTANCES_MAX 100000
int cond_instances_on_host(struct rpc_transport *t, const struct rpc_ctx *ctx,
    const char *host, const char (*uuids)[UUID_STR_LEN], size_t n_uuids,
    int timeout_ms, json_t **instances, json_t **deleted,
    struct rpc_error *err);

/* conductor.build_failed {"instance_uuid","host","reason","retry","event"}
 * cast: reschedule or set ERROR with a fault. retry is stolen. */
int cond_build_failed(struct rpc_transport *t, const struct rpc_ctx *ctx,
    const char *instance_uuid, const char *host, const char *reason,
    json_t *retry, const struct rpcapi_event *ev, struct rpc_error *err);

/* conductor.action_failed {"host","instance_uuid","action","reason",
 * "expected_task_state","event"} cast: an action (reboot, stop, start)
 * failed on the host: ERROR with a fault, the action finished with "Error". */
int cond_action_failed(struct rpc_transport *t, const struct rpc_ctx *ctx,
    const char *host, const char *instance_uuid, const char *action, const char *reason,
    const char *expected_task_state, const struct rpcapi_event *ev,
    struct rpc_error *err);

/* conductor.instance_deleted {"host","instance_uuid","event"} cast. */
int cond_instance_deleted(struct rpc_transport *t, const struct rpc_ctx *ctx,
    const char *host, const char *instance_uuid,
    const struct rpcapi_event *ev, struct rpc_error *err);

/* conductor.compute_node_update {"host", "resources": {"vcpus","memory_mb",
 * "local_gb","hypervisor_type","hypervisor_version","hypervisor_hostname"}}
 * cast; resources stolen. */
int cond_compute_node_update(struct rpc_transport *t,
    const struct rpc_ctx *ctx, const char *host, json_t *resources,
    struct rpc_error *err);

/* conductor.service_heartbeat {"host","binary","topic"} cast. */
int cond_service_heartbeat(struct rpc_transport *t, const struct rpc_ctx *ctx,
    const char *host, const char *binary, const char *topic,
    struct rpc_error *err);

/* ---- wire.c: arguments received from the wire, checked against a table ---- */
enum wire_type {
	WIRE_STR,      /* string, length in [min, max] bytes */
	WIRE_UUID,     /* canonical uuid string */
	WIRE_UUID_OR_EMPTY, /* canonical uuid string, or "" */
	WIRE_INT,      /* integer in [min, max] */
	WIRE_VM_STATE, /* a known vm_state */
	WIRE_TASK,     /* a known task_state ("" included) */
	WIRE_POWER,    /* a known power_state number */
	WIRE_OBJECT,   /* any JSON object, checked by its handler */
	WIRE_STRLIST,  /* array of at most max strings of 1..255 bytes */
	WIRE_TIME,     /* "YYYY-MM-DDTHH:MM:SSZ", a valid UTC time */
	WIRE_EVENT,    /* an event object (struct rpcapi_event's wire form) */
};

struct wire_field {
	const char *key;
	enum wire_type type;
	int64_t min, max;
	bool nullable;     /* JSON null (or absent) is accepted */
};

/* Checks that args is an object holding every field of the table (n
 * entries) with its type. -1 with err (InvalidParameterValue) otherwise. */
int wire_check(const json_t *args, const struct wire_field *fields, size_t n,
    struct rpc_error *err);
/* Accessors for fields wire_check accepted; NULL/0 for null. Borrowed. */
const char *wire_str(const json_t *args, const char *key);
int64_t wire_int(const json_t *args, const char *key);

#endif
