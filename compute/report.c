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

static int report(struct compute *c, const struct rpc_ctx *ctx,
    struct rpc_error *err)
{
	struct virt_host_resources res;

	if (cond_service_heartbeat(c->rpc, ctx, c->conf->host, "kumo-compute",
	    TOPIC_COMPUTE, err) < 0)
		return -1;
	if (c->driver->ops->host_resources(c->driver, &res) != VIRT_OK) {
		rpc_error_set(err, "HypervisorUnavailable", NULL,
		    "the %s driver gave no host resources",
		    c->driver->ops->name);
		return -1;
	}
	return cond_compute_node_update(c->rpc, ctx, c->conf->host,
	    resources_json(&res), err);
}

void compute_report(struct compute *c)
{
	struct rpc_error err;
	struct rpc_ctx ctx;
	int rc;

	rpc_ctx_init_service(&ctx);
	log_set_reqid(ctx.request_id);
	rc = report(c, &ctx, &err);
	if (rc < 0 && !c->report_failing)
		log_warnx("cannot report to the conductor: %s", err.message);
	else if (rc == 0 && c->report_failing)
		log_info("reporting to the conductor again");
	c->report_failing = rc < 0;
	log_set_reqid(NULL);
	rpc_ctx_clear(&ctx);
}
