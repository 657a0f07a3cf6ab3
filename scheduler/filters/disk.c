/* DiskFilter: root + ephemeral + swap fit local_gb * disk_allocation_ratio. */
#include "scheduler/sched.h"

bool filter_disk(const struct sched_host *host,
    const struct sched_request *req, const struct sched_policy *pol)
{
	const struct db_compute_node *n = host->node;

	return sched_fits(n->local_gb, n->local_gb_used,
	    pol->disk_allocation_ratio, req->disk_gb);
}
