/* CoreFilter: the flavor's vCPUs fit vcpus * cpu_allocation_ratio. */
#include "scheduler/sched.h"

bool filter_core(const struct sched_host *host,
    const struct sched_request *req, const struct sched_policy *pol)
{
	const struct db_compute_node *n = host->node;

	return sched_fits(n->vcpus, n->vcpus_used, pol->cpu_allocation_ratio,
	    req->vcpus);
}
