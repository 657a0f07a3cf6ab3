/*
 * The pipeline: the C analogue of paste.deploy. api-pipeline.ini names
 * the filters in order and the app last:
 *
 *   [pipeline:main]
 *   pipeline = request_id faultwrap sizelimit access_log auth microversion compute_app
 *
 * Filters and apps are found by name in the tables below; an unknown name,
 * section or key is an error naming file:line.
 */
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"

static const struct api_filter *const known_filters[] = {
	&filter_request_id, &filter_faultwrap, &filter_sizelimit,
	&filter_access_log, &filter_auth, &filter_microversion,
};

static const struct {
	const char *name;
	api_app_fn fn;
} known_apps[] = {
	{ "compute_app", api_router_app },
};

struct pipeline_parse {
	struct api_pipeline *p;
	char msg[256];
	bool seen;
};

static const struct api_filter *filter_find(const char *name)
{
	for (size_t i = 0; i < sizeof known_filters / sizeof *known_filters; i++)
		if (strcmp(known_filters[i]->name, name) == 0)
			return known_filters[i];
	return NULL;
}

static api_app_fn app_find(const char *name)
{
	for (size_t i = 0; i < sizeof known_apps / sizeof *known_apps; i++)
		if (strcmp(known_apps[i].name, name) == 0)
			return known_apps[i].fn;
	return NULL;
}

static int parse_fail(struct pipeline_parse *pp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int parse_fail(struct pipeline_parse *pp, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(pp->msg, sizeof pp->msg, fmt, ap);
	va_end(ap);
	return -1;
}

/* "f1 f2 ... app": filters in order, the app last. 0 or -1 with msg. */
static int pipeline_set(struct pipeline_parse *pp, const char *value)
{
	char buf[1024], *save = NULL, *tok, *next;
	struct api_pipeline *p = pp->p;

	if (str_copy(buf, value, sizeof buf) < 0)
		return parse_fail(pp, "pipeline too long");
	memset(p, 0, sizeof *p);
	for (tok = strtok_r(buf, " \t", &save); tok != NULL; tok = next) {
		next = strtok_r(NULL, " \t", &save);
		if (next == NULL) {
			if ((p->app = app_find(tok)) == NULL)
				return parse_fail(pp, "the pipeline must end with "
				    "an app (compute_app), not '%s'", tok);
			return 0;
		}
		if (p->n >= API_MAX_FILTERS)
			return parse_fail(pp, "too many filters");
		if ((p->filters[p->n] = filter_find(tok)) == NULL)
			return parse_fail(pp, "unknown filter '%s'", tok);
		for (size_t i = 0; i < p->n; i++)
			if (p->filters[i] == p->filters[p->n])
				return parse_fail(pp, "filter '%s' named twice", tok);
		p->n++;
	}
	return parse_fail(pp, "empty pipeline");
}

static int pipeline_handler(void *user, const char *section, const char *name,
    const char *value)
{
	struct pipeline_parse *pp = user;

	if (pp->msg[0] != '\0')
		return 0;
	if (strcmp(section, "pipeline:main") != 0) {
		snprintf(pp->msg, sizeof pp->msg, "unknown section [%s]", section);
		return 0;
	}
	if (strcmp(name, "pipeline") != 0) {
		snprintf(pp->msg, sizeof pp->msg, "unknown key '%s'", name);
		return 0;
	}
	if (pipeline_set(pp, value) < 0)
		return 0;
	pp->seen = true;
	return 1;
}

static int pipeline_finish(const char *name, int line, struct pipeline_parse *pp,
    char *err, size_t errlen)
{
	if (line == -1) {
		snprintf(err, errlen, "%s: cannot open", name);
		return -1;
	}
	if (line != 0) {
		if (pp->msg[0] == '\0')
			snprintf(pp->msg, sizeof pp->msg, "syntax error");
		snprintf(err, errlen, "%s:%d: %s", name, line, pp->msg);
		return -1;
	}
	if (!pp->seen) {
		snprintf(err, errlen, "%s: no 'pipeline' in [pipeline:main]", name);
		return -1;
	}
	return 0;
}

int api_pipeline_load(const char *path, struct api_pipeline *p,
    char *err, size_t errlen)
{
	struct pipeline_parse pp = { .p = p };

	return pipeline_finish(path, ini_parse(path, pipeline_handler, &pp), &pp,
	    err, errlen);
}

int api_pipeline_parse(const char *name, const char *text,
    struct api_pipeline *p, char *err, size_t errlen)
{
	struct pipeline_parse pp = { .p = p };

	return pipeline_finish(name, ini_parse_string(text, pipeline_handler, &pp),
	    &pp, err, errlen);
}
