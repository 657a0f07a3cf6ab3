/*
 * /v2.1/os-instance_usage_audit_log[/{before}] (admin): the instance usage
 * audit of the last completed month. kumo's computes run no audit task
 * (Nova's [DEFAULT] instance_usage_audit = false, its default), so every
 * compute host is "not run" and the log is empty: Nova's answer then.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "db/db.h"

/* Nova's timestamp of {before}: "%Y-%m-%d %H:%M:%S" with an optional
 * ".%f". 0 and *tm, or -1. */
static int parse_before(const char *s, struct tm *tm)
{
	const char *end;

	memset(tm, 0, sizeof *tm);
	end = strptime(s, "%Y-%m-%d %H:%M:%S", tm);
	if (end == NULL)
		return -1;
	if (*end == '.') {
		end++;
		if (strspn(end, "0123456789") == 0 || strspn(end, "0123456789") > 6)
			return -1;
		end += strspn(end, "0123456789");
	}
	return *end == '\0' ? 0 : -1;
}

/* Nova's last_completed_audit_period (a month): [first of the month
 * before, first of this month) of the time given. */
static void audit_period(const struct tm *now, char begin[32], char end[32])
{
	int y = now->tm_year + 1900, m = now->tm_mon + 1;
	int by = m == 1 ? y - 1 : y, bm = m == 1 ? 12 : m - 1;

	snprintf(begin, 32, "%04d-%02d-01 00:00:00", by % 10000, bm);
	snprintf(end, 32, "%04d-%02d-01 00:00:00", y % 10000, m);
}

static enum api_rc audit_log(struct api_req *r, const struct tm *when,
    const char *key)
{
	struct db_service *svcs;
	char begin[32], end[32], status[64];
	json_t *hosts, *log, *body;
	size_t n, computes = 0;

	if (db_service_list(r->api->db, &svcs, &n) != DB_OK)
		return api_error(r, ERR_INTERNAL);
	hosts = json_array();
	for (size_t i = 0; i < n; i++)
		if (strcmp(svcs[i].topic, "compute") == 0) {
			json_array_append_new(hosts, json_string(svcs[i].host));
			computes++;
		}
	free(svcs);
	audit_period(when, begin, end);
	if (computes == 0)
		snprintf(status, sizeof status, "ALL hosts done. 0 errors.");
	else
		snprintf(status, sizeof status, "0 of %zu hosts done. 0 errors.", computes);
	log = json_pack("{s:s, s:s, s:I, s:i, s:i, s:I, s:o, s:i, s:i, s:s, s:o}",
	    "period_beginning", begin, "period_ending", end,
	    "num_hosts", (json_int_t)computes, "num_hosts_done", 0,
	    "num_hosts_running", 0, "num_hosts_not_run", (json_int_t)computes,
	    "hosts_not_run", hosts, "total_instances", 0, "total_errors", 0,
	    "overall_status", status, "log", json_object());
	body = json_object();
	json_object_set_new(body, key, log);
	return api_reply(r, 200, body);
}

enum api_rc usage_audit_list(struct api_req *r)
{
	struct tm now;
	time_t t = time(NULL);

	gmtime_r(&t, &now);
	return audit_log(r, &now, "instance_usage_audit_logs");
}

enum api_rc usage_audit_show(struct api_req *r)
{
	char msg[300];
	struct tm before;

	if (parse_before(r->id, &before) != 0) {
		snprintf(msg, sizeof msg, "Invalid timestamp for date %.200s", r->id);
		return api_error(r, ERR_BAD_REQUEST, msg);
	}
	return audit_log(r, &before, "instance_usage_audit_log");
}
