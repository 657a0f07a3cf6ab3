/* ComputeFilter: the host's compute service is up and enabled. */
#include "scheduler/sched.h"

bool filter_compute(const struct sched_host *host,
    const struct sched_request *req, const struct sched_policy *pol)
{
	(void)req;
	if (host->service == NULL)
		return false;
	if (host->service->disabled || host->service->forced_down)
		return false;
	return sched_service_up(host->service, pol);
}
