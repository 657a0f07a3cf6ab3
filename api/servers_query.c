/*
 * The query of GET /v2.1/servers[/detail]: filters (name regex, status,
 * flavor, image, host for admins, changes-since), sorting (sort_key,
 * sort_dir), paging (limit, marker) and the next link, as Nova reads them.
 * Every list pages in the database, in every order: a page costs its own
 * rows, not the project's history (changes-since lists deleted servers
 * too). The two filters SQL cannot apply (the name's regular expression,
 * the API status) are applied here, to batches read in order, until the
 * page is full: what is held at once is a page and a batch.
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

/* A batch of rows read for the filters applied here. */
#define SCAN_BATCH 200

/* Nova's sort keys kumo has a column for; admin: host and node. */
static const struct sort_key {
	const char *name;
	enum db_instance_sort col;
	bool admin;
} sort_keys[] = {
	{ "created_at", DB_SORT_CREATED, false },
	{ "updated_at", DB_SORT_UPDATED, false },
	{ "display_name", DB_SORT_NAME, false },
	{ "hostname", DB_SORT_NAME, false },
	{ "uuid", DB_SORT_UUID, false },
	{ "vm_state", DB_SORT_VM_STATE, false },
	{ "task_state", DB_SORT_TASK_STATE, false },
	{ "power_state", DB_SORT_POWER_STATE, false },
	{ "launched_at", DB_SORT_LAUNCHED, false },
	{ "terminated_at", DB_SORT_TERMINATED, false },
	{ "availability_zone", DB_SORT_AZ, false },
	{ "image_ref", DB_SORT_IMAGE, false },
	{ "instance_type_id", DB_SORT_FLAVOR, false },
	{ "key_name", DB_SORT_KEY_NAME, false },
	{ "project_id", DB_SORT_PROJECT, false },
	{ "user_id", DB_SORT_USER, false },
	{ "host", DB_SORT_HOST, true },
	{ "node", DB_SORT_NODE, true },
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
	size_t i;

	if (dir != NULL && strcmp(dir, "asc") != 0 && strcmp(dir, "desc") != 0) {
		snprintf(why, sizeof why, "'%.255s' is not one of ['asc', 'desc']", dir);
		return query_invalid(r, "sort_dir", dir, why);
	}
	/* no key: created_at, newest first unless asc */
	q->f.sort_asc = dir != NULL && strcmp(dir, "asc") == 0;
	if (key == NULL)
		return 0;
	for (i = 0; i < NKEYS; i++)
		if (strcmp(sort_keys[i].name, key) == 0)
			break;
	if (i == NKEYS) {
		snprintf(why, sizeof why, "'%.255s' is not a sort key kumo knows", key);
		return query_invalid(r, "sort_key", key, why);
	}
	q->f.sort = sort_keys[i].col;
	if (sort_keys[i].admin && !r->is_admin) {
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
	q->f.flavorid = arg(r, "flavor");
	/* an image id, or a link to one */
	if ((q->f.image_ref = arg(r, "image")) != NULL &&
	    strrchr(q->f.image_ref, '/') != NULL)
		q->f.image_ref = strrchr(q->f.image_ref, '/') + 1;
	if (r->is_admin)
		q->f.host = arg(r, "host");
	if (parse_all_tenants(r, &all) != 0)
		return API_ERROR;
	/* With all_tenants, project_id (or its older name tenant_id) picks one
	 * project; without, Nova ignores both (lp:#1185290). */
	if (!all)
		q->f.project_id = r->project_id;
	else if ((q->f.project_id = arg(r, "project_id")) == NULL)
		q->f.project_id = arg(r, "tenant_id");
	if (since != NULL) {
		if (parse_since(since, q->since) != 0)
			return query_invalid(r, "changes-since", since,
			    "It is not a valid ISO 8601 date-time");
		q->f.include_deleted = true;   /* Nova shows them as DELETED */
		q->f.changes_since = q->since;
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
	int max = r->api->conf->max_limit;

	memset(q, 0, sizeof *q);
	q->limit = max;
	if (limit != NULL && num_parse_int(limit, 0, 1 << 30, &q->limit) < 0)
		return api_error(r, ERR_BAD_REQUEST, "limit param must be an integer");
	if (q->limit > max)
		q->limit = max;
	q->f.marker = api_query_get(r, "marker");
	if (parse_filters(r, q) != 0 || parse_sort(r, q) != 0) {
		servers_query_free(q);
		return API_ERROR;
	}
	return 0;
}

void servers_query_free(struct servers_query *q)
{
	api_regex_free(q->name_re);
	q->name_re = NULL;
}

/* The filters SQL cannot apply: 1 to keep, 0 not, -1 when the name
 * pattern goes over its bounds. */
static int keep(const struct servers_query *q, const struct db_instance *in)
{
	if (q->status != NULL && strcasecmp(q->status,
	    state_api_status(in->vm_state, in->task_state)) != 0)
		return 0;
	return q->name_re == NULL ? 1 : api_regex_match(q->name_re, in->name);
}

static int marker_missing(struct api_req *r, const char *marker)
{
	char msg[320];

	snprintf(msg, sizeof msg, "marker [%.255s] not found", marker);
	return api_error(r, ERR_BAD_REQUEST, msg);
}

static int list_failed(struct api_req *r, int rc, const char *marker)
{
	if (rc == DB_NOTFOUND)
		return marker_missing(r, marker);
	return api_error(r, ERR_INTERNAL);
}

/* Batches in order, each after the last row of the one before, kept rows
 * appended to page (room for q->limit) until it is full or the rows end. */
static int load_filtered(struct api_req *r, struct servers_query *q,
    struct db_instance *page, size_t *n)
{
	struct db_instance_filter f = q->f;
	struct db_instance *batch;
	char last[37];
	size_t nb, i;
	int rc, k;

	f.limit = SCAN_BATCH;
	for (;;) {
		if ((rc = db_instance_list(r->api->db, &f, &batch, &nb)) != DB_OK)
			return list_failed(r, rc, f.marker);
		for (i = 0; i < nb && *n < (size_t)q->limit; i++) {
			if ((k = keep(q, &batch[i])) < 0) {
				free(batch);
				return api_error(r, ERR_BAD_REQUEST, "Invalid regular "
				    "expression in name: the match is too costly");
			}
			if (k)
				page[(*n)++] = batch[i];
		}
		if (nb > 0)
			str_copy(last, batch[nb - 1].uuid, sizeof last);
		free(batch);
		if (*n == (size_t)q->limit || nb < SCAN_BATCH)
			return 0;
		f.marker = last;
	}
}

int servers_query_load(struct api_req *r, struct servers_query *q,
    struct db_instance **list, size_t *n)
{
	struct db_instance_filter f = q->f;
	int rc;

	*list = NULL;
	*n = 0;
	if (q->limit == 0)
		return 0;
	if (q->name_re == NULL && q->status == NULL) {
		f.limit = q->limit;
		rc = db_instance_list(r->api->db, &f, list, n);
		return rc == DB_OK ? 0 : list_failed(r, rc, f.marker);
	}
	if ((*list = calloc((size_t)q->limit, sizeof **list)) == NULL)
		return api_error(r, ERR_INTERNAL);
	if (load_filtered(r, q, *list, n) != 0) {
		free(*list);
		*list = NULL;
		*n = 0;
		return API_ERROR;
	}
	return 0;
}

void api_query_append(struct api_req *r, char *buf, size_t len, const char *name)
{
	const char *v = api_query_get(r, name);
	size_t n = strlen(buf);

	if (v == NULL)
		return;
	n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s=",
	    n > 0 && buf[n - 1] == '?' ? "" : "&", name);
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
	static const char *const keep[] = { "limit", "name", "status", "flavor",
		"image", "host", "changes-since", "sort_key", "sort_dir",
		"all_tenants", "project_id", "tenant_id" };
	size_t n;

	snprintf(buf, len, "%s/v2.1/servers%s?", r->base_url,
	    strstr(r->path, "/detail") ? "/detail" : "");
	for (size_t i = 0; i < sizeof keep / sizeof *keep; i++)
		api_query_append(r, buf, len, keep[i]);
	if ((n = strlen(buf)) + strlen(marker) + 9 < len)
		snprintf(buf + n, len - n, "%smarker=%s",
		    buf[n - 1] == '?' ? "" : "&", marker);
}
