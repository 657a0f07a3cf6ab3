/*
 * Host selection, as Nova's FilterScheduler: drop the hosts of earlier
 * attempts, run the enabled filters in order, weigh the survivors with
 * every enabled weigher (each normalised to [0, 1] over the hosts, times
 * its multiplier), and order them best first. Pure: no DB, no broker.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scheduler/sched.h"

int sched_disk_gb(int root_gb, int ephemeral_gb, int swap_mb)
{
	return root_gb + ephemeral_gb + (swap_mb + 1023) / 1024;
}

bool sched_fits(int total, int used, double ratio, int want)
{
	return (double)used + (double)want <= (double)total * ratio;
}

bool sched_service_up(const struct db_service *svc,
    const struct sched_policy *pol)
{
	if (svc == NULL || svc->last_seen_up <= 0)
		return false;
	return pol->now - svc->last_seen_up <= pol->service_down_time;
}

void sched_policy_from_conf(struct sched_policy *pol,
    const struct kumo_conf *conf)
{
	memset(pol, 0, sizeof *pol);
	pol->cpu_allocation_ratio = conf->cpu_allocation_ratio;
	pol->ram_allocation_ratio = conf->ram_allocation_ratio;
	pol->disk_allocation_ratio = conf->disk_allocation_ratio;
	pol->ram_weight_multiplier = conf->ram_weight_multiplier;
	pol->service_down_time = conf->service_down_time;
}

static bool ignored(const struct sched_host *h, const struct sched_request *req)
{
	for (size_t i = 0; i < req->n_ignore_hosts; i++)
		if (strcmp(h->node->host, req->ignore_hosts[i]) == 0)
			return true;
	return false;
}

/* Appends "name: (start: a, end: b)" to why, Nova's filter summary. */
static void note(char *why, size_t whylen, const char *name, size_t start,
    size_t end)
{
	size_t len = strlen(why);

	if (len < whylen)
		snprintf(why + len, whylen - len, "%s%s: (start: %zu, end: %zu)",
		    len ? ", " : "", name, start, end);
}

static size_t run_filters(const struct sched_plugins *p,
    struct sched_host *hosts, size_t n, const struct sched_request *req,
    const struct sched_policy *pol, char *why, size_t whylen)
{
	size_t kept = 0;

	for (size_t i = 0; i < n; i++)
		if (!ignored(&hosts[i], req))
			hosts[kept++] = hosts[i];
	note(why, whylen, "RetryFilter", n, kept);
	for (size_t f = 0; f < p->n_filters && kept > 0; f++) {
		size_t start = kept;

		kept = 0;
		for (size_t i = 0; i < start; i++)
			if (p->filters[f]->fn(&hosts[i], req, pol))
				hosts[kept++] = hosts[i];
		note(why, whylen, p->filters[f]->name, start, kept);
	}
	return kept;
}

/* Weighers are pure and cheap: raw weights are computed twice rather
 * than stored. */
static void weigh(const struct sched_weigher *w, struct sched_host *hosts,
    size_t n, const struct sched_policy *pol)
{
	double lo = 0, hi = 0, raw, mult = w->multiplier(pol);

	for (size_t i = 0; i < n; i++) {
		raw = w->fn(&hosts[i], pol);
		if (i == 0 || raw < lo)
			lo = raw;
		if (i == 0 || raw > hi)
			hi = raw;
	}
	/* All equal: no host is better by this weigher (Nova's normalize). */
	if (hi == lo)
		return;
	for (size_t i = 0; i < n; i++)
		hosts[i].weight += mult * (w->fn(&hosts[i], pol) - lo) / (hi - lo);
}

/* Heavier first; equal weights by host name, so that the order is total. */
static int by_weight(const void *a, const void *b)
{
	const struct sched_host *x = a, *y = b;

	if (x->weight != y->weight)
		return x->weight > y->weight ? -1 : 1;
	return strcmp(x->node->host, y->node->host);
}

size_t sched_select(const struct sched_plugins *p, struct sched_host *hosts,
    size_t n, const struct sched_request *req, const struct sched_policy *pol,
    char *why, size_t whylen)
{
	size_t kept;

	if (whylen > 0)
		why[0] = '\0';
	kept = run_filters(p, hosts, n, req, pol, why, whylen);
	for (size_t i = 0; i < kept; i++)
		hosts[i].weight = 0;
	for (size_t w = 0; w < p->n_weighers && kept > 0; w++)
		weigh(p->weighers[w], hosts, kept, pol);
	qsort(hosts, kept, sizeof *hosts, by_weight);
	return kept;
}
