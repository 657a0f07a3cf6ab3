/*
 * kumo-manage instance list --stuck: what the conductor's watchdog watches
 * and why, without SQL. Every instance in a task state, the least recently
 * changed first, with its host, whether that host's kumo-compute reports,
 * how long it has not changed, and what the watchdog will do about it
 * (scheduler/verdict.c, the rules the watchdog itself follows). The
 * verdict assumes a conductor that has been consuming for
 * service_down_time; the watchdog looks every WATCH_INTERVAL_S.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "common/common.h"
#include "db/db.h"
#include "scheduler/sched.h"
#include "tools/manage/manage.h"

#define STUCK_LIMIT 10000

static int parse_opts(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "stuck", no_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	bool stuck = false;
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 's')
			return -1;
		stuck = true;
	}
	return optind == argc && stuck ? 0 : -1;
}

static const char *host_state(const struct kumo_conf *conf,
    const struct db_instance *in, const struct db_service *svc, size_t nsvc,
    int64_t now)
{
	if (in->host[0] == '\0')
		return "-";
	return watch_host_down(conf, svc, nsvc, in->host, now) ? "down" : "up";
}

static void print_row(const struct kumo_conf *conf, const struct db_instance *in,
    const struct db_service *svc, size_t nsvc, int64_t now)
{
	int64_t updated = 0;
	char since[24] = "?";

	if (time_parse_utc(in->updated_at, &updated) == 0)
		snprintf(since, sizeof since, "%lld s", (long long)(now - updated));
	printf("%-36s  %-14s  %-16s  %-5s  %10s  %s\n", in->uuid, in->task_state,
	    in->host[0] ? in->host : "-", host_state(conf, in, svc, nsvc, now),
	    since, watch_verdict_text(watch_judge(conf, in, svc, nsvc, now, true)));
}

int manage_instance_list(struct db *db, const struct kumo_conf *conf,
    int argc, char **argv)
{
	struct db_instance *list = NULL;
	struct db_service *svc = NULL;
	int64_t now = (int64_t)time(NULL);
	size_t n = 0, nsvc = 0;

	if (parse_opts(argc, argv) < 0) {
		fprintf(stderr, "usage: kumo-manage instance list --stuck\n");
		return 2;
	}
	if (db_instance_in_task(db, STUCK_LIMIT, &list, &n) != DB_OK ||
	    db_service_list(db, &svc, &nsvc) != DB_OK) {
		free(list);
		return 1;
	}
	printf("%-36s  %-14s  %-16s  %-5s  %10s  %s\n", "Instance", "Task",
	    "Host", "Host", "Unchanged", "Watchdog");
	for (size_t i = 0; i < n; i++)
		print_row(conf, &list[i], svc, nsvc, now);
	free(svc);
	free(list);
	return 0;
}
