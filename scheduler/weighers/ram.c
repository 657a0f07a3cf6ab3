/*
 * RamWeigher: hosts with more free RAM weigh more. With a positive
 * ram_weight_multiplier the scheduler spreads instances over hosts; with
 * a negative one it stacks them onto the fullest host first.
 */
#include "scheduler/sched.h"

double weigher_ram(const struct sched_host *host,
    const struct sched_policy *pol)
{
	const struct db_compute_node *n = host->node;

	return n->memory_mb * pol->ram_allocation_ratio - n->memory_mb_used;
}

double weigher_ram_multiplier(const struct sched_policy *pol)
{
	return pol->ram_weight_multiplier;
}
