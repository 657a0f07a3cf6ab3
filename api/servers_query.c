/*
 * The query of GET /v2.1/servers[/detail]: filters (name regex, status,
 * flavor, image, host for admins, changes-since), sorting (sort_key,
 * sort_dir), paging (limit, marker) and the next link, as Nova reads them.
 * The default order (newest first) pages in the database; another order,
 * or a filter the database does not know, reads the project's servers
 * once and filters, sorts and pages them here.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/api.h"
#include "api/servers_query.h"
#include "common/states.h"
#include "db/db.h"

enum sort_type { SORT_STR, SORT_INT, SORT_ID };

/* Nova's sort keys kumo has a column for; admin: host and node. */
static const struct sort_key {
	const char *name;
	enum sort_type type;
	size_t off;
	bool admin;
} sort_keys[] = {
	{ "created_at", SORT_ID, 0, false },
	{ "updated_at", SORT_STR, offsetof(struct db_instance, updated_at), false },
	{ "display_name", SORT_STR, offsetof(struct db_instance, name), false },
	{ "hostname", SORT_STR, offsetof(struct db_instance, name), false },
	{ "uuid", SORT_STR, offsetof(struct db_instance, uuid), false },
	{ "vm_state", SORT_STR, offsetof(struct db_instance, vm_state), false },
	{ "task_state", SORT_STR, offsetof(struct db_instance, task_state), false },
	{ "power_state", SORT_INT, offsetof(struct db_instance, power_state), false },
	{ "launched_at", SORT_STR, offsetof(struct db_instance, launched_at), false },
	{ "terminated_at", SORT_STR, offsetof(struct db_instance, terminated_at), false },
	{ "availability_zone", SORT_STR, offsetof(struct db_instance, availability_zone), false },
	{ "image_ref", SORT_STR, offsetof(struct db_instance, image_ref), false },
	{ "instance_type_id", SORT_STR, offsetof(struct db_instance, flavorid), false },
	{ "key_name", SORT_STR, offsetof(struct db_instance, key_name), false },
	{ "project_id", SORT_STR, offsetof(struct db_instance, project_id), false },
	{ "user_id", SORT_STR, offsetof(struct db_instance, user_id), false },
	{ "host", SORT_STR, offsetof(struct db_instance, host), true },
	{ "node", SORT_STR, offsetof(struct db_instance, node), true },
};
#define NKEYS (sizeof sort_keys / sizeof *sort_keys)

/* A query argument; clients send "" or the literal "None" for none. */
static const char *arg(struct api_req *r, const char *name)
{
	const char *v = api_query_get(r, name);

	return v == NULL || *v == '\0' || strcmp(v, "None") == 0 ? NULL : v;
}

/* ISO 8601 ("2026-11-25T13:49:11", optional fraction, Z or +hh:mm) ->
 * "2026-11-25T13:49:11Z" in UTC, as updated_at is stored. */
static int parse_since(const char *s, char out[DB_TS])
{
	struct tm tm = { 0 };
	int oh = 0, om = 0, n = 0;
	char sign = 0;
	time_t t;

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 || n != 19)
		return -1;
	s += n;
	if (*s == '.')
		s += 1 + strspn(s + 1, "0123456789");
	if (*s == 'Z' || *s == 'z')
		s++;
	else if ((*s == '+' || *s == '-' || *s == ' ') &&
	    sscanf(s + 1, "%2d:%2d%n", &oh, &om, &n) == 2 && n == 5) {
		sign = *s == '-' ? -1 : 1;
		s += 6;
	}
	if (*s != '\0' || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
	    tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = timegm(&tm) - (time_t)sign * (oh * 3600 + om * 60);
	gmtime_r(&t, &tm);
	return strftime(out, DB_TS, "%Y-%m-%dT%H:%M:%SZ", &tm) ? 0 : -1;
}

static int query_invalid(struct api_req *r, const char *param,
    const char *value, const char *why)
{
	char msg[700];

	snprintf(msg, sizeof msg, "Invalid input for query parameters %s. "
	    "Value: %.255s. %s", param, value, why);
	return api_error(r, ERR_BAD_REQUEST, msg);
}

static int parse_sort(struct api_req *r, struct servers_query *q)
{
	const char *key = arg(r, "sort_key"), *dir = arg(r, "sort_dir");
	char why[320];

	q->sort = -1;
	if (dir != NULL && strcmp(dir, "asc") != 0 && strcmp(dir, "desc") != 0) {
		snprintf(why, sizeof why, "'%.255s' is not one of ['asc', 'desc']", dir);
		return query_invalid(r, "sort_dir", dir, why);
	}
	q->sort_asc = dir != NULL && strcmp(dir, "asc") == 0;
	if (key == NULL) {
		if (q->sort_asc)
			q->sort = 0;   /* created_at ascending */
		return 0;
	}
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(sort_keys[i].name, key) == 0)
			q->sort = (int)i;
	if (q->sort < 0) {
		snprintf(why, sizeof why, "'%.255s' is not a sort key kumo knows", key);
		return query_invalid(r, "sort_key", key, why);
	}
	if (sort_keys[q->sort].admin && !r->is_admin) {
		snprintf(why, sizeof why, "Only administrators can sort servers by %s",
		    key);
		return api_error(r, ERR_FORBIDDEN, why);
	}
	return 0;
}

/* Nova's is_all_tenants: present and empty means all projects, else
 * oslo's strict bool_from_string; then the get_all_tenants policy (the
 * admin's by default: another's all_tenants=1 is a 403, not ignored).
 * 0 with *all set, or API_ERROR. */
static int parse_all_tenants(struct api_req *r, bool *all)
{
	static const char *const yes[] = { "1", "t", "true", "on", "y", "yes" };
	static const char *const no[] = { "0", "f", "false", "off", "n", "no" };
	const char *v = api_query_get(r, "all_tenants"), *ws = " \t\n\r\f\v";
	char word[8] = "", msg[400];
	size_t n;

	*all = false;
	if (!api_query_has(r, "all_tenants"))
		return 0;
	if (v == NULL || *v == '\0') {
		*all = true;
	} else {
		/* bool_from_string strips and lowercases */
		const char *s = v + strspn(v, ws);

		for (n = strlen(s); n > 0 && strchr(ws, s[n - 1]) != NULL; n--)
			;
		for (size_t i = 0; i < n && n < sizeof word; i++)
			word[i] = (char)tolower((unsigned char)s[i]);
		for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
			if (strcmp(word, no[i]) == 0)
				return 0;
			if (strcmp(word, yes[i]) == 0)
				*all = true;
		}
	}
	if (!*all) {
		snprintf(msg, sizeof msg, "Invalid input received: Unrecognized "
		    "value '%.255s', acceptable values are: '0', '1', 'f', 'false', "
		    "'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'", v);
		return api_error(r, ERR_BAD_REQUEST, msg);
	}
	return api_policy_check(r, strstr(r->path, "/detail") != NULL ?
	    "os_compute_api:servers:detail:get_all_tenants" :
	    "os_compute_api:servers:index:get_all_tenants");
}

static int parse_filters(struct api_req *r, struct servers_query *q)
{
	const char *name = arg(r, "name"), *since = arg(r, "changes-since");
	char why[200], msg[300];
	bool all;

	q->status = arg(r, "status");
	q->flavor = arg(r, "flavor");
	q->image = arg(r, "image");
	if (r->is_admin)
		q->f.host = arg(r, "host");
	if (parse_all_tenants(r, &all) != 0)
		return API_ERROR;
	if (!all)
		q->f.project_id = r->project_id;
	if (since != NULL) {
		if (parse_since(since, q->since) != 0)
			return query_invalid(r, "changes-since", since,
			    "It is not a valid ISO 8601 date-time");
		q->f.include_deleted = true;   /* Nova shows them as DELETED */
	}
	if (name == NULL)
		return 0;
	if (strlen(name) > NAME_PATTERN_MAX)
		return api_error(r, ERR_BAD_REQUEST, "Invalid filter: name is too long");
	if ((q->name_re = api_regex_new(name, NAME_PATTERN_MAX, why,
	    sizeof why)) == NULL) {
		snprintf(msg, sizeof msg, "Invalid regular expression in name: %s",
		    why);
		return api_error(r, ERR_BAD_REQUEST, msg);
	}
	return 0;
}

int servers_query_parse(struct api_req *r, struct servers_query *q)
{
	const char *limit = api_query_get(r, "limit");

	memset(q, 0, sizeof *q);
	q->limit = LIST_MAX;
	q->limited = limit != NULL;
	if (limit != NULL && num_parse_int(limit, 0, 1 << 30, &q->limit) < 0)
		return api_error(r, ERR_BAD_REQUEST, "limit param must be an integer");
	if (q->limit > LIST_MAX)
		q->limit = LIST_MAX;
	q->f.marker = api_query_get(r, "marker");
	if (parse_filters(r, q) != 0 || parse_sort(r, q) != 0) {
		servers_query_free(q);
		return API_ERROR;
	}
	/* Paging in the database only when it sees every filter and the order. */
	q->in_memory = q->name_re != NULL || q->status || q->flavor || q->image ||
	    q->since[0] || q->sort >= 0;
	return 0;
}

void servers_query_free(struct servers_query *q)
{
	api_regex_free(q->name_re);
	q->name_re = NULL;
}

/* 1 to keep, 0 not, -1 when the name pattern goes over its bounds. */
static int keep(const struct servers_query *q, const struct db_instance *in)
{
	if (q->status != NULL && strcasecmp(q->status,
	    state_api_status(in->vm_state, in->task_state)) != 0)
		return 0;
	if (q->flavor != NULL && strcmp(q->flavor, in->flavorid) != 0)
		return 0;
	if (q->image != NULL && strcmp(q->image, in->image_ref) != 0 &&
	    (strrchr(q->image, '/') == NULL ||
	    strcmp(strrchr(q->image, '/') + 1, in->image_ref) != 0))
		return 0;
	if (q->since[0] != '\0' && strcmp(in->updated_at[0] ? in->updated_at :
	    in->created_at, q->since) < 0)
		return 0;
	return q->name_re == NULL ? 1 : api_regex_match(q->name_re, in->name);
}

static int compare(const void *a, const void *b, void *arg)
{
	const struct servers_query *q = arg;
	const struct db_instance *x = a, *y = b;
	const struct sort_key *k = &sort_keys[q->sort];
	int c = 0;

	if (k->type == SORT_STR)
		c = strcmp((const char *)x + k->off, (const char *)y + k->off);
	else if (k->type == SORT_INT)
		c = *(const int *)(const void *)((const char *)x + k->off) -
		    *(const int *)(const void *)((const char *)y + k->off);
	if (c == 0)   /* then by creation, in the same direction (Nova) */
		c = x->id < y->id ? -1 : x->id > y->id;
	return q->sort_asc ? c : -c;
}

/* Sorted and filtered in place: the kept rows first, *n their count.
 * -1 (a 400 set on r) when the name pattern costs more than its bounds. */
static int filter_sort(struct api_req *r, struct servers_query *q,
    struct db_instance *list, size_t *n)
{
	size_t kept = 0;
	int k;

	for (size_t i = 0; i < *n; i++) {
		if ((k = keep(q, &list[i])) < 0)
			return api_error(r, ERR_BAD_REQUEST, "Invalid regular "
			    "expression in name: the match is too costly");
		if (k)
			list[kept++] = list[i];
	}
	*n = kept;
	if (q->sort >= 0)
		qsort_r(list, kept, sizeof *list, compare, q);
	return 0;
}

static int marker_missing(struct api_req *r, const char *marker)
{
	char msg[320];

	snprintf(msg, sizeof msg, "marker [%.255s] not found", marker);
	return api_error(r, ERR_BAD_REQUEST, msg);
}

int servers_query_load(struct api_req *r, struct servers_query *q,
    struct db_instance **list, size_t *n, size_t *from)
{
	struct db_instance_filter f = q->f;
	int rc;

	*list = NULL;
	*n = *from = 0;
	if (q->limit == 0)
		return 0;
	if (q->in_memory) {
		f.marker = NULL;
		f.limit = 0;
	} else {
		f.limit = q->limit;
	}
	rc = db_instance_list(r->api->db, &f, list, n);
	if (rc == DB_NOTFOUND)
		return marker_missing(r, q->f.marker);
	if (rc != DB_OK)
		return api_error(r, ERR_INTERNAL);
	if (q->in_memory && filter_sort(r, q, *list, n) != 0) {
		free(*list);
		*list = NULL;
		return API_ERROR;
	}
	if (!q->in_memory || q->f.marker == NULL)
		return 0;
	while (*from < *n && strcmp((*list)[*from].uuid, q->f.marker) != 0)
		(*from)++;
	if (*from == *n) {
		free(*list);
		*list = NULL;
		return marker_missing(r, q->f.marker);
	}
	(*from)++;
	return 0;
}

/* Appends &name=value (percent-encoded) when the request had it. */
static void add_param(struct api_req *r, char *buf, size_t len, const char *name)
{
	const char *v = api_query_get(r, name);
	size_t n = strlen(buf);

	if (v == NULL)
		return;
	n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "&%s=", name);
	for (; *v && n + 4 < len; v++) {
		unsigned char c = (unsigned char)*v;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-._~", c))
			buf[n++] = (char)c;
		else
			n += (size_t)snprintf(buf + n, len - n, "%%%02X", c);
	}
	buf[n < len ? n : len - 1] = '\0';
}

void servers_query_next_href(struct api_req *r, const char *marker,
    char *buf, size_t len)
{
	static const char *const keep[] = { "name", "status", "flavor", "image",
		"host", "changes-since", "sort_key", "sort_dir", "all_tenants" };

	snprintf(buf, len, "%s/v2.1/servers%s?limit=%s", r->base_url,
	    strstr(r->path, "/detail") ? "/detail" : "", api_query_get(r, "limit"));
	for (size_t i = 0; i < sizeof keep / sizeof *keep; i++)
		add_param(r, buf, len, keep[i]);
	if (strlen(buf) + strlen(marker) + 9 < len)
		strcat(strcat(buf, "&marker="), marker);
}
