/* RamFilter: the flavor's RAM fits memory_mb * ram_allocation_ratio. */
#include "scheduler/sched.h"

bool filter_ram(const struct sched_host *host,
    const struct sched_request *req, const struct sched_policy *pol)
{
	const struct db_compute_node *n = host->node;

	return sched_fits(n->memory_mb, n->memory_mb_used,
	    pol->ram_allocation_ratio, req->memory_mb);
}
