/*
 * kumo-scheduler: placement (topic "scheduler") and the conductor (topic
 * "conductor") in one process, on one transport, over one database.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/common.h"
#include "common/rpc/rpc.h"
#include "common/rpcapi.h"
#include "scheduler/sched.h"

#define START_TIMEOUT_MS 30000 /* between "still trying" lines */
#define STOP_GRACE_MS 30000    /* for in-flight handlers at shutdown */
#define TICK_MS 200

static struct rpc_server *start_server(struct sched *s, const char *topic,
    const struct rpc_method *methods, size_t n)
{
	struct rpc_server_conf sc = {
		.topic = topic, .server = s->conf->host, .methods = methods,
		.n_methods = n, .arg = s, .workers = s->conf->rpc_workers,
	};
	struct rpc_server *srv;

	if ((srv = rpc_server_new(s->rpc, &sc)) == NULL)
		fatalx("cannot create the %s RPC server", topic);
	/* The library keeps trying in the background and says so. */
	while (rpc_server_start(srv, START_TIMEOUT_MS) < 0 && !daemon_stop_flag)
		;
	return srv;
}

/* This process's own service rows, as computes send theirs over RPC. */
static void heartbeat(struct sched *s)
{
	int rc = db_service_heartbeat(s->db, s->conf->host, "kumo-scheduler",
	    TOPIC_SCHEDULER);

	if (rc == DB_OK)
		rc = db_service_heartbeat(s->db, s->conf->host, "kumo-conductor",
		    TOPIC_CONDUCTOR);
	/* A full disk is logged by db/, once a minute; the watchdog must
	 * know, since no compute's report was recorded either. */
	if (db_full(s->db))
		s->db_full_at = (int64_t)time(NULL);
	else if (rc != DB_OK)
		log_warnx("service heartbeat not recorded");
}

/* A restart is an outage too: the computes' reports that came while no
 * conductor ran were not recorded, and a host judged by them now would
 * seem down. When this host's conductor last reported stands for when it
 * went away (0: never ran here). */
static int64_t last_run(struct sched *s)
{
	struct db_service *svc = NULL;
	int64_t at = 0;
	size_t n = 0;

	if (db_service_list(s->db, &svc, &n) != DB_OK)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (strcmp(svc[i].binary, "kumo-conductor") == 0 &&
		    strcmp(svc[i].host, s->conf->host) == 0)
			at = svc[i].last_seen_up;
	free(svc);
	return at;
}

/* Builds and updates recorded into a deleted or replaced database file
 * would be lost: stop at once, loudly; systemd restarts kumo-scheduler on
 * the file that is there now. */
static void check_db_file(struct sched *s)
{
	if (db_file_moved(s->db))
		fatalx("%s was deleted or replaced under kumo-scheduler: stopping",
		    conf_db_path(s->conf));
}

/* Since when the servers consume, for the watchdog and the scheduler:
 * a silence of the computes while the broker was away is the broker's. */
static void track_consuming(struct sched *s, bool healthy)
{
	int64_t now = (int64_t)time(NULL);

	if (healthy && s->consuming_since == 0) {
		s->consuming_since = now;
		if (s->broker_lost_at != 0)
			log_info("consuming again after %lld s away from the broker",
			    (long long)(now - s->broker_lost_at));
	} else if (!healthy && s->consuming_since != 0) {
		s->consuming_since = 0;
		s->broker_lost_at = now;
	}
}

static void run(struct sched *s, struct rpc_server *const *srv, size_t n)
{
	const struct timespec tick = { 0, TICK_MS * 1000000L };
	uint64_t next = now_ms() + (uint64_t)s->conf->report_interval * 1000;
	uint64_t next_watch = now_ms() + WATCH_INTERVAL_S * 1000;
	uint64_t next_check = 0;
	bool healthy;

	while (!daemon_stop_flag) {
		nanosleep(&tick, NULL);
		healthy = true;
		for (size_t i = 0; i < n; i++)
			healthy = healthy && rpc_server_healthy(srv[i]);
		track_consuming(s, healthy);
		if (healthy)
			daemon_watchdog();
		daemon_reload_log_level();
		if (now_ms() >= next) {
			heartbeat(s);
			next = now_ms() + (uint64_t)s->conf->report_interval * 1000;
		}
		if (now_ms() >= next_watch) {
			cond_watch(s, s->consuming_since);
			next_watch = now_ms() + WATCH_INTERVAL_S * 1000;
		}
		if (now_ms() >= next_check) {
			check_db_file(s);
			next_check = now_ms() + DB_FILE_CHECK_MS;
		}
	}
}

int main(int argc, char **argv)
{
	struct kumo_conf conf;
	struct sched s = { .conf = &conf };
	struct rpc_server *srv[2];
	char err[512];
	int check;

	check = daemon_args(argc, argv, "kumo-scheduler", &conf, NULL);
	if (sched_plugins_load(&s.plugins, conf.enabled_filters,
	    conf.weight_classes, err, sizeof err) < 0)
		fatalx("%s", err);
	if (check) {
		daemon_config_ok("kumo-scheduler");
		return 0;
	}
	daemon_signals();
	s.db = db_open_service(conf_db_path(&conf));
	if (sched_network_ensure(s.db, &conf) < 0)
		fatalx("cannot record the [network] network in the database");
	s.rpc = rpcapi_transport_open(&conf, NULL);
	/* hosts_awaited (build.c) then waits for the computes' reports */
	s.broker_lost_at = last_run(&s);
	srv[0] = start_server(&s, TOPIC_SCHEDULER, sched_methods,
	    sched_n_methods);
	srv[1] = start_server(&s, TOPIC_CONDUCTOR, cond_methods,
	    cond_n_methods);
	/* consuming from here on: a broker lost before the main loop's first
	 * look is still a broker lost (track_consuming) */
	s.consuming_since = (int64_t)time(NULL);
	heartbeat(&s);
	log_info("serving topics %s and %s as %s", TOPIC_SCHEDULER,
	    TOPIC_CONDUCTOR, conf.host);
	daemon_ready("scheduling");
	run(&s, srv, 2);
	log_info("stopping");
	daemon_stopping();
	for (size_t i = 0; i < 2; i++)
		rpc_server_stop(srv[i], STOP_GRACE_MS);
	for (size_t i = 0; i < 2; i++)
		rpc_server_free(srv[i]);
	rpc_transport_free(s.rpc);
	db_close(s.db);
	return 0;
}
