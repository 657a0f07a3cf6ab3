/* Client halves of kumo's internal RPC methods (see rpcapi.h). */
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/rpcapi.h"

struct rpc_transport *rpcapi_transport_open(const struct kumo_conf *conf,
    const char *reply_tag)
{
	struct rpc_conf rc = {
		.transport_url = conf->transport_url,
		.control_exchange = conf->control_exchange,
		.default_timeout_s = conf->rpc_response_timeout,
		.heartbeat_s = conf->heartbeat_timeout_threshold ?
		    conf->heartbeat_timeout_threshold : -1,
		.amqp_durable_queues = conf->amqp_durable_queues,
		.rabbit_quorum_queue = conf->rabbit_quorum_queue,
		.rabbit_transient_queues_ttl = conf->rabbit_transient_queues_ttl,
		.reply_tag = reply_tag,
	};
	struct rpc_transport *t;

	if ((t = rpc_transport_new(&rc)) == NULL)
		fatalx("bad transport_url");
	return t;
}

const char *rpcapi_compute_user_host(const struct rpc_ctx *ctx)
{
	size_t n = sizeof RPCAPI_COMPUTE_USER_PREFIX - 1;

	if (strncmp(ctx->bus_user, RPCAPI_COMPUTE_USER_PREFIX, n) != 0)
		return NULL;
	return ctx->bus_user + n;
}

static int cast_to(struct rpc_transport *t, const struct rpc_ctx *ctx,
    const char *topic, const char *server, const char *method, json_t *args,
    struct rpc_error *err)
{
	struct rpc_target target = {
		.topic = topic, .server = server, .version = RPCAPI_VERSION,
	};

	if (args == NULL) {
		rpc_error_set(err, "MemoryError", "builtins", "out of memory");
		return -1;
	}
	return rpc_cast(t, &target, ctx, method, args, err);
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

int sched_build_instances(struct rpc_transport *t, const struct rpc_ctx *ctx,
    const char *instance_uuid, json_t *retry, struct rpc_error *err)
{
	return cast_to(t, ctx, TOPIC_SCHEDULER, NULL, "build_instances",
	    json_pack("{s:s, s:o}", "instance_uuid", instance_uuid, "retry",
	    retry ? retry : json_null()), err);
}

int compute_build_and_run_instance(struct rpc_transport *t,
    const struct rpc_ctx *ctx, const char *host, json_t *instance,
    json_t *retry, struct rpc_error *err)
{
	return cast_to(t, ctx, TOPIC_COMPUTE, host, "build_and_run_instance",
	    json_pack("{s:o, s:o}", "instance", instance, "retry",
	    retry ? retry : json_null()), err);
}

int compute_terminate_instance(struct rpc_transport *t,
    const struct rpc_ctx *ctx, const char *host, const char *instance_uuid,
    struct rpc_error *err)
{
	return cast_to(t, ctx, TOPIC_COMPUTE, host, "terminate_instance",
	    json_pack("{s:s}", "instance_uuid", instance_uuid), err);
}

int compute_reboot_instance(struct rpc_transport *t,
    const struct rpc_ctx *ctx, const char *host, const char *instance_uuid,
    bool hard, struct rpc_error *err)
{
	return cast_to(t, ctx, TOPIC_COMPUTE, host, "reboot_instance",
	    json_pack("{s:s, s:s}", "instance_uuid", instance_uuid,
	    "reboot_type", hard ? "HARD" : "SOFT"), err);
}

int compute_stop_instance(struct rpc_transport *t, const struct rpc_ctx *ctx,
    const char *host, const char *instance_uuid, struct rpc_error *err)
{
	return cast_to(t, ctx, TOPIC_COMPUTE, host, "stop_instance",
	    json_pack("{s:s}", "instance_uuid", instance_uuid), err);
}

int compute_start_instance(struct rpc_transport *t, const struct rpc_ctx *ctx,
    const char *host, const char *instance_uuid, struct rpc_error *err)
{
	return cast_to(t, ctx, TOPIC_COMPUTE, host, "start_instance",
	    json_pack("{s:s}", "instance_uuid", instance_uuid), err);
}

/* The reply of get_console_output: {"output": s} within the bound. */
static int console_reply(json_t *res, char **output, struct rpc_error *err)
{
	const json_t *v = json_object_get(res, "output");

	if (!json_is_string(v) || json_string_length(v) > RPCAPI_CONSOLE_MAX) {
		rpc_error_set(err, "InvalidReply", NULL,
		    "get_console_output: the reply is not {\"output\": string} "
		    "of at most %d bytes", RPCAPI_CONSOLE_MAX);
		return -1;
	}
	if ((*output = strndup(json_string_value(v),
	    json_string_length(v))) == NULL) {
		rpc_error_set(err, "MemoryError", "builtins", "out of memory");
		return -1;
	}
	return 0;
}

int compute_get_console_output(struct rpc_transport *t,
    const struct rpc_ctx *ctx, const char *host, const char *instance_uuid,
    int length, char **output, struct rpc_error *err)
{
	struct rpc_target target = {
		.topic = TOPIC_COMPUTE, .server = host, .version = RPCAPI_VERSION,
	};
	json_t *args, *res = NULL;
	int rc;

	*output = NULL;
	args = json_pack("{s:s, s:i}", "instance_uuid", instance_uuid,
	    "length", length);
	if (args == NULL) {
		rpc_error_set(err, "MemoryError", "builtins", "out of memory");
		return -1;
	}
	rc = rpc_call(t, &target, ctx, "get_console_output", args, 0, &res, err);
	if (rc == 0)
		rc = console_reply(res, output, err);
	json_decref(res);
	return rc;
}

void rpcapi_event_start(struct rpcapi_event *ev, const char *name)
{
	ev->name = name;
	time_iso8601(ev->start_time);
	ev->error = NULL;
}

/* args with "event" added when there is one (args NULL stays NULL). */
static json_t *with_event(json_t *args, const struct rpcapi_event *ev)
{
	char now[32];
	json_t *e;

	if (args == NULL || ev == NULL)
		return args;
	time_iso8601(now);
	e = json_pack("{s:s, s:s, s:s, s:s, s:o}", "event", ev->name,
	    "start_time", ev->start_time, "finish_time", now, "result",
	    ev->error ? "Error" : "Success", "traceback", str_or_null(ev->error));
	if (e == NULL || json_object_set_new(args, "event", e) < 0) {
		json_decref(args);
		return NULL;
	}
	return args;
}

int cond_instance_update(struct rpc_transport *t, const struct rpc_ctx *ctx,
    const char *host, const char *instance_uuid, const char *vm_state,
    const char *task_state, int power_state, const char *expected_task_state,
    const struct rpcapi_event *ev, struct rpc_error *err)
{
	return cast_to(t, ctx, TOPIC_CONDUCTOR, NULL, "instance_update",
	    with_event(json_pack("{s:s, s:s, s:s, s:s, s:i, s:o}", "host", host,
	    "instance_uuid", instance_uuid, "vm_state", vm_state, "task_state", task_state,
	    "power_state", power_state, "expected_task_state",
	    str_or_null(expected_task_state)), ev), err);
}

static const struct wire_field host_instance_fields[] = {
	{ "uuid", WIRE_UUID, 0, 0, false },
	{ "vm_state", WIRE_VM_STATE, 0, 0, false },
	{ "task_state", WIRE_TASK, 0, 0, false },
	{ "power_state", WIRE_POWER, 0, 0, false },
	{ "updated_at", WIRE_STR, 1, 31, true },   /* ISO 8601 */
};

/* The reply of instances_on_host: {"instances": [...]}, every entry of the
 * documented shape. */
static bool uuid_list_ok(const json_t *v, size_t max)
{
	const json_t *e;
	size_t i;

	if (!json_is_array(v) || json_array_size(v) > max)
		return false;
	json_array_foreach(v, i, e)
		if (!json_is_string(e) || !uuid_valid(json_string_value(e)))
			return false;
	return true;
}

static int host_instances_reply(json_t *res, size_t n_uuids,
    json_t **instances, json_t **deleted, struct rpc_error *err)
{
	json_t *v = json_object_get(res, "instances"), *e;
	json_t *del = json_object_get(res, "deleted");
	size_t i;

	if (!json_is_array(v) || json_array_size(v) > RPCAPI_HOST_INSTANCES_MAX ||
	    !uuid_list_ok(del, n_uuids))
		goto fail;
	json_array_foreach(v, i, e)
		if (wire_check(e, host_instance_fields, sizeof host_instance_fields /
		    sizeof *host_instance_fields, err) < 0)
			goto fail;
	*instances = json_incref(v);
	*deleted = json_incref(del);
	return 0;
fail:
	rpc_error_set(err, "InvalidReply", NULL, "instances_on_host: the reply "
	    "is not {\"instances\": [{\"uuid\", \"vm_state\", \"task_state\", "
	    "\"power_state\"}...], \"deleted\": [uuid...]} of at most %d entries",
	    RPCAPI_HOST_INSTANCES_MAX);
	return -1;
}

int cond_instances_on_host(struct rpc_transport *t, const struct rpc_ctx *ctx,
    const char *host, const char (*uuids)[UUID_STR_LEN], size_t n_uuids,
    int timeout_ms, json_t **instances, json_t **deleted,
    struct rpc_error *err)
{
	struct rpc_target target = {
		.topic = TOPIC_CONDUCTOR, .version = RPCAPI_VERSION,
	};
	json_t *args, *list = json_array(), *res = NULL;
	int rc;

	*instances = *deleted = NULL;
	for (size_t i = 0; list != NULL && i < n_uuids; i++)
		json_array_append_new(list, json_string(uuids[i]));
	if (list == NULL || (args = json_pack("{s:s, s:o}", "host", host,
	    "uuids", list)) == NULL) {
		rpc_error_set(err, "MemoryError", "builtins", "out of memory");
		return -1;
	}
	rc = rpc_call(t, &target, ctx, "instances_on_host", args, timeout_ms,
	    &res, err);
	if (rc == 0)
		rc = host_instances_reply(res, n_uuids, instances, deleted, err);
	json_decref(res);
	return rc;
}

int cond_build_failed(struct rpc_transport *t, const struct rpc_ctx *ctx,
    const char *instance_uuid, const char *host, const char *reason,
    json_t *retry, const struct rpcapi_event *ev, struct rpc_error *err)
{
	return cast_to(t, ctx, TOPIC_CONDUCTOR, NULL, "build_failed",
	    with_event(json_pack("{s:s, s:s, s:s, s:o}", "instance_uuid",
	    instance_uuid, "host", host, "reason", reason, "retry",
	    retry ? retry : json_null()), ev), err);
}

int cond_action_failed(struct rpc_transport *t, const struct rpc_ctx *ctx,
    const char *host, const char *instance_uuid, const char *action,
    const char *reason, const char *expected_task_state,
    const struct rpcapi_event *ev, struct rpc_error *err)
{
	return cast_to(t, ctx, TOPIC_CONDUCTOR, NULL, "action_failed",
	    with_event(json_pack("{s:s, s:s, s:s, s:s, s:s}", "host", host,
	    "instance_uuid", instance_uuid,
	    "action", action, "reason", reason, "expected_task_state",
	    expected_task_state), ev), err);
}

int cond_instance_deleted(struct rpc_transport *t, const struct rpc_ctx *ctx,
    const char *host, const char *instance_uuid,
    const struct rpcapi_event *ev, struct rpc_error *err)
{
	return cast_to(t, ctx, TOPIC_CONDUCTOR, NULL, "instance_deleted",
	    with_event(json_pack("{s:s, s:s}", "host", host, "instance_uuid",
	    instance_uuid), ev), err);
}

int cond_compute_node_update(struct rpc_transport *t,
    const struct rpc_ctx *ctx, const char *host, json_t *resources,
    struct rpc_error *err)
{
	return cast_to(t, ctx, TOPIC_CONDUCTOR, NULL, "compute_node_update",
	    json_pack("{s:s, s:o}", "host", host, "resources", resources), err);
}

int cond_service_heartbeat(struct rpc_transport *t, const struct rpc_ctx *ctx,
    const char *host, const char *binary, const char *topic,
    struct rpc_error *err)
{
	return cast_to(t, ctx, TOPIC_CONDUCTOR, NULL, "service_heartbeat",
	    json_pack("{s:s, s:s, s:s}", "host", host, "binary", binary,
	    "topic", topic), err);
}
