/*
 * /v2.1/os-simple-tenant-usage (admin: every project) and
 * /v2.1/os-simple-tenant-usage/{project}: the hours, and resources times
 * hours, of the servers that ran within [start, end], per project, as
 * Nova's simple tenant usage counts them (deleted servers too, from their
 * launch to their termination). ?detailed=1 on the list, and always on
 * show, adds each server's usage.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "db/db.h"

#define USEC 1000000LL

/* Nova's _parse_datetime: "%Y-%m-%dT%H:%M:%S" with an optional ".%f", or a
 * space for the T with the fraction; absent = now. Microseconds since the
 * epoch (times are kept in whole microseconds, as Python's datetime). */
static int parse_when(const char *s, int64_t now, int64_t *out)
{
	struct tm tm;
	const char *p;
	int64_t frac = 0, scale = USEC / 10;

	if (s == NULL || *s == '\0') {
		*out = now;
		return 0;
	}
	memset(&tm, 0, sizeof tm);
	if ((p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL &&
	    (p = strptime(s, "%Y-%m-%d %H:%M:%S", &tm)) == NULL)
		return -1;
	if (*p == '.') {
		if (strspn(++p, "0123456789") == 0 || strspn(p, "0123456789") > 6)
			return -1;
		for (; *p >= '0' && *p <= '9'; p++, scale /= 10)
			frac += (*p - '0') * scale;
	}
	if (*p != '\0')
		return -1;
	*out = (int64_t)timegm(&tm) * USEC + frac;
	return 0;
}

/* A time as Nova's JSON writes a datetime: 2026-12-08T00:43:09.123456. */
static json_t *when_json(int64_t t)
{
	time_t sec = (time_t)(t / USEC);
	struct tm tm;
	char buf[64];

	gmtime_r(&sec, &tm);
	snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06d",
	    (tm.tm_year + 1900) % 10000, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int)(t % USEC));
	return json_string(buf);
}

static int64_t db_time(const char *s)
{
	int64_t t;

	return s[0] != '\0' && time_parse_utc(s, &t) == 0 ? t * USEC : -1;
}

/* One project's usage, made on first sight of it. */
static json_t *project_usage(json_t *by_project, const char *project,
    int64_t start, int64_t end)
{
	json_t *u = json_object_get(by_project, project);

	if (u != NULL)
		return u;
	u = json_pack("{s:s, s:[], s:o, s:o, s:f, s:f, s:f, s:f}",
	    "tenant_id", project, "server_usages", "start", when_json(start),
	    "stop", when_json(end), "total_hours", 0.0, "total_local_gb_usage", 0.0,
	    "total_memory_mb_usage", 0.0, "total_vcpus_usage", 0.0);
	json_object_set_new(by_project, project, u);
	return u;
}

static void add_to(json_t *u, const char *key, double v)
{
	json_object_set_new(u, key, json_real(json_real_value(json_object_get(u, key)) + v));
}

/* Nova's _hours_for: the part of [launched, terminated) within
 * [start, end]. */
static void add_instance(json_t *by_project, const struct db_instance *in,
    int64_t start, int64_t end, int64_t now)
{
	int64_t launched = db_time(in->launched_at);
	int64_t ended = db_time(in->deleted ? (in->terminated_at[0] ?
	    in->terminated_at : in->deleted_at) : in->terminated_at);
	int64_t from, to;
	double hours;
	int local_gb = in->root_gb + in->ephemeral_gb;
	json_t *u;

	if (launched < 0 || launched >= end || (ended >= 0 && ended <= start))
		return;
	from = launched > start ? launched : start;
	to = ended >= 0 && ended < end ? ended : end;
	hours = (double)(to - from) / (3600.0 * USEC);
	u = project_usage(by_project, in->project_id, start, end);
	add_to(u, "total_hours", hours);
	add_to(u, "total_memory_mb_usage", hours * in->memory_mb);
	add_to(u, "total_vcpus_usage", hours * in->vcpus);
	add_to(u, "total_local_gb_usage", hours * local_gb);
	json_array_append_new(json_object_get(u, "server_usages"), json_pack(
	    "{s:s, s:s, s:f, s:i, s:i, s:i, s:s, s:s, s:o, s:o, s:s, s:I}",
	    "instance_id", in->uuid, "name", in->name, "hours", hours,
	    "memory_mb", in->memory_mb, "local_gb", local_gb, "vcpus", in->vcpus,
	    "tenant_id", in->project_id, "flavor", in->flavor_name,
	    "started_at", when_json(launched),
	    "ended_at", ended >= 0 ? when_json(ended) : json_null(),
	    "state", in->deleted ? "terminated" : in->vm_state,
	    "uptime", (json_int_t)((now - launched) / USEC)));
}

/* {project: usage} of project (NULL: every project), or NULL with r's
 * error set. */
static json_t *usages(struct api_req *r, const char *project, int64_t *start,
    int64_t *end)
{
	struct db_instance_filter f = { .project_id = project, .include_deleted = true };
	struct db_instance *in;
	json_t *by_project;
	struct timespec ts;
	int64_t now;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = (int64_t)ts.tv_sec * USEC + ts.tv_nsec / 1000;
	if (parse_when(api_query_get(r, "start"), now, start) != 0 ||
	    parse_when(api_query_get(r, "end"), now, end) != 0) {
		api_error(r, ERR_BAD_REQUEST, "Datetime is in invalid format");
		return NULL;
	}
	if (*start > *end) {
		api_error(r, ERR_BAD_REQUEST, "Invalid start time. The start time "
		    "cannot occur after the end time.");
		return NULL;
	}
	if (db_instance_list(r->api->db, &f, &in, &n) != DB_OK) {
		api_error(r, ERR_INTERNAL);
		return NULL;
	}
	by_project = json_object();
	for (size_t i = 0; i < n; i++)
		add_instance(by_project, &in[i], *start, *end, now);
	free(in);
	return by_project;
}

enum api_rc tenant_usage_list(struct api_req *r)
{
	const char *detailed = api_query_get(r, "detailed");
	bool detail = detailed != NULL && strcmp(detailed, "1") == 0;
	json_t *by_project, *list, *u;
	int64_t start, end;
	const char *key;

	/* Nova has no list at the show route with an empty id (".../") */
	if (r->path[strlen(r->path) - 1] == '/')
		return api_error(r, ERR_NOT_FOUND);
	if ((by_project = usages(r, NULL, &start, &end)) == NULL)
		return API_ERROR;
	list = json_array();
	json_object_foreach(by_project, key, u) {
		if (!detail)
			json_object_del(u, "server_usages");
		json_array_append(list, u);
	}
	json_decref(by_project);
	return api_reply(r, 200, json_pack("{s:o}", "tenant_usages", list));
}

enum api_rc tenant_usage_show(struct api_req *r)
{
	json_t *by_project, *u;
	int64_t start, end;

	if (!r->is_admin && strcmp(r->id, r->project_id) != 0)
		return api_error(r, ERR_POLICY, "os_compute_api:os-simple-tenant-usage:show");
	if ((by_project = usages(r, r->id, &start, &end)) == NULL)
		return API_ERROR;
	u = json_object_get(by_project, r->id);
	u = u != NULL ? json_incref(u) : json_object();
	json_decref(by_project);
	return api_reply(r, 200, json_pack("{s:o}", "tenant_usage", u));
}
