/*
 * What a compute host tells the conductor periodically (Nova's service
 * heartbeat and update_available_resource): that it is alive, and its
 * capacity. Usage is not reported: the controller derives it from claims.
 */
#include "common/rpcapi.h"
#include "compute/compute.h"

static json_t *resources_json(const struct virt_host_resources *r)
{
	return json_pack("{s:i, s:i, s:i, s:s, s:i, s:s}", "vcpus", r->vcpus,
	    "memory_mb", r->memory_mb, "local_gb", r->local_gb,
	    "hypervisor_type", r->hypervisor_type, "hypervisor_version",
	    r->hypervisor_version, "hypervisor_hostname",
	    r->hypervisor_hostname);
}

static int heartbeat(struct compute *c, const struct rpc_ctx *ctx,
    struct rpc_error *err)
{
	return cond_service_heartbeat(c->rpc, ctx, c->conf->host, "kumo-compute",
	    TOPIC_COMPUTE, err);
}

static int resources(struct compute *c, const struct rpc_ctx *ctx,
    struct rpc_error *err)
{
	struct virt_host_resources res;

	if (c->driver->ops->host_resources(c->driver, &res) != VIRT_OK) {
		rpc_error_set(err, "HypervisorUnavailable", NULL,
		    "the %s driver gave no host resources",
		    c->driver->ops->name);
		return -1;
	}
	return cond_compute_node_update(c->rpc, ctx, c->conf->host,
	    resources_json(&res), err);
}

/* One report; *failing (the caller thread's own) makes a failure logged
 * once, and its end. */
static void report(struct compute *c, int (*fn)(struct compute *,
    const struct rpc_ctx *, struct rpc_error *), const char *what,
    bool *failing)
{
	struct rpc_error err;
	struct rpc_ctx ctx;
	int rc;

	rpc_ctx_init_service(&ctx);
	log_set_reqid(ctx.request_id);
	rc = fn(c, &ctx, &err);
	if (rc < 0 && !*failing)
		log_warnx("cannot report %s to the conductor: %s", what,
		    err.message);
	else if (rc == 0 && *failing)
		log_info("reporting %s to the conductor again", what);
	*failing = rc < 0;
	log_set_reqid(NULL);
	rpc_ctx_clear(&ctx);
}

/* The heartbeat never waits on the hypervisor: a libvirt call that hangs
 * (libvirt 9.0 re-probing QEMU on every capabilities lookup took 50 s)
 * must not make the host look dead to the conductor's watchdog. */
void compute_heartbeat(struct compute *c)
{
	report(c, heartbeat, "the heartbeat", &c->report_failing);
}

void compute_report_resources(struct compute *c)
{
	report(c, resources, "the host's resources", &c->resources_failing);
}
