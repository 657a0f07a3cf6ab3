/*
 * The scheduler's plugins as tables, Nova's names, enabled by name from
 * [filter_scheduler] enabled_filters and weight_classes, in that order.
 */
#include <stdio.h>
#include <string.h>

#include "scheduler/sched.h"

static const struct sched_filter filters[] = {
	{ "ComputeFilter", filter_compute },
	{ "RamFilter", filter_ram },
	{ "CoreFilter", filter_core },
	{ "DiskFilter", filter_disk },
	{ "AvailabilityZoneFilter", filter_availability_zone },
};

static const struct sched_weigher weighers[] = {
	{ "RamWeigher", weigher_ram, weigher_ram_multiplier },
};

const struct sched_filter *sched_filter_find(const char *name)
{
	for (size_t i = 0; i < sizeof filters / sizeof *filters; i++)
		if (strcmp(filters[i].name, name) == 0)
			return &filters[i];
	return NULL;
}

const struct sched_weigher *sched_weigher_find(const char *name)
{
	for (size_t i = 0; i < sizeof weighers / sizeof *weighers; i++)
		if (strcmp(weighers[i].name, name) == 0)
			return &weighers[i];
	return NULL;
}

/* Calls add(p, name) for each comma-separated name of list, spaces
 * trimmed, empty names skipped. */
static int each_name(struct sched_plugins *p, const char *list,
    const char *what, int (*add)(struct sched_plugins *, const char *),
    char *err, size_t errlen)
{
	char buf[1024], *save = NULL, *tok, *end;

	if (str_copy(buf, list, sizeof buf) < 0) {
		snprintf(err, errlen, "%s: list too long", what);
		return -1;
	}
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ' || *tok == '\t')
			tok++;
		end = tok + strlen(tok);
		while (end > tok && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (*tok == '\0')
			continue;
		if (add(p, tok) < 0) {
			snprintf(err, errlen, "%s: unknown, repeated or too many: "
			    "'%s'", what, tok);
			return -1;
		}
	}
	return 0;
}

static int add_filter(struct sched_plugins *p, const char *name)
{
	const struct sched_filter *f = sched_filter_find(name);

	if (f == NULL || p->n_filters == SCHED_MAX_PLUGINS)
		return -1;
	for (size_t i = 0; i < p->n_filters; i++)
		if (p->filters[i] == f)
			return -1;
	p->filters[p->n_filters++] = f;
	return 0;
}

static int add_weigher(struct sched_plugins *p, const char *name)
{
	const struct sched_weigher *w = sched_weigher_find(name);

	if (w == NULL || p->n_weighers == SCHED_MAX_PLUGINS)
		return -1;
	for (size_t i = 0; i < p->n_weighers; i++)
		if (p->weighers[i] == w)
			return -1;
	p->weighers[p->n_weighers++] = w;
	return 0;
}

int sched_plugins_load(struct sched_plugins *p, const char *filter_list,
    const char *weigher_list, char *err, size_t errlen)
{
	memset(p, 0, sizeof *p);
	if (each_name(p, filter_list, "[filter_scheduler] enabled_filters",
	    add_filter, err, errlen) < 0)
		return -1;
	return each_name(p, weigher_list, "[filter_scheduler] weight_classes",
	    add_weigher, err, errlen);
}
