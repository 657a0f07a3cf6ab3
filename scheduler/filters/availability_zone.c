/*
 * AvailabilityZoneFilter. kumo has no host aggregates yet, so every host
 * is in the default zone "nova": a request for "" or "nova" matches every
 * host, any other zone none.
 */
#include <string.h>

#include "scheduler/sched.h"

#define DEFAULT_AZ "nova"

bool filter_availability_zone(const struct sched_host *host,
    const struct sched_request *req, const struct sched_policy *pol)
{
	(void)host;
	(void)pol;
	if (req->availability_zone == NULL || req->availability_zone[0] == '\0')
		return true;
	return strcmp(req->availability_zone, DEFAULT_AZ) == 0;
}
