/* Client halves of kumo's internal RPC methods (see rpcapi.h). */
#include <string.h>

#include "common/common.h"
#include "common/rpcapi.h"

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

int cond_instance_update(struct rpc_transport *t, const struct rpc_ctx *ctx,
    const char *instance_uuid, const char *vm_state, const char *task_state,
    int power_state, const char *expected_task_state, struct rpc_error *err)
{
	return cast_to(t, ctx, TOPIC_CONDUCTOR, NULL, "instance_update",
	    json_pack("{s:s, s:s, s:s, s:i, s:o}", "instance_uuid",
	    instance_uuid, "vm_state", vm_state, "task_state", task_state,
	    "power_state", power_state, "expected_task_state",
	    str_or_null(expected_task_state)), err);
}

int cond_build_failed(struct rpc_transport *t, const struct rpc_ctx *ctx,
    const char *instance_uuid, const char *host, const char *reason,
    json_t *retry, struct rpc_error *err)
{
	return cast_to(t, ctx, TOPIC_CONDUCTOR, NULL, "build_failed",
	    json_pack("{s:s, s:s, s:s, s:o}", "instance_uuid", instance_uuid,
	    "host", host, "reason", reason, "retry",
	    retry ? retry : json_null()), err);
}

int cond_instance_deleted(struct rpc_transport *t, const struct rpc_ctx *ctx,
    const char *instance_uuid, struct rpc_error *err)
{
	return cast_to(t, ctx, TOPIC_CONDUCTOR, NULL, "instance_deleted",
	    json_pack("{s:s}", "instance_uuid", instance_uuid), err);
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
