/*
 * kumo-compute: serves topic "compute" as server = [DEFAULT] host, builds
 * through the configured virt driver, reports to the conductor and
 * reconciles with it (sync.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "common/common.h"
#include "common/http.h"
#include "common/rpc/rpc.h"
#include "common/rpcapi.h"
#include "compute/compute.h"

#define START_TIMEOUT_MS 30000 /* between "still trying" lines */
#define STOP_GRACE_MS 60000    /* in-flight builds finish at shutdown */
#define TICK_MS 200

/*
 * Requests come from kumo-api and kumo-scheduler. A compute host's own
 * bus user (RPCAPI_COMPUTE_USER_PREFIX) sends none, but RabbitMQ lets it
 * reply through the default exchange, which routes to any queue by name:
 * a request whose user_id is a compute's is refused, by whichever queue
 * it came.
 */
static const char *from_a_compute(const struct rpc_ctx *ctx)
{
	return rpcapi_compute_user_host(ctx) == NULL ? NULL :
	    "compute hosts send none";
}

static struct rpc_server *start_server(struct compute *c)
{
	struct rpc_server_conf sc = {
		.topic = TOPIC_COMPUTE, .server = c->conf->host,
		.methods = compute_methods, .n_methods = compute_n_methods,
		.arg = c, .workers = c->conf->rpc_workers,
		.refuse = from_a_compute,
	};
	struct rpc_server *srv;

	if ((srv = rpc_server_new(c->rpc, &sc)) == NULL)
		fatalx("cannot create the compute RPC server");
	/* The library keeps trying in the background and says so. */
	while (rpc_server_start(srv, START_TIMEOUT_MS) < 0 && !daemon_stop_flag)
		;
	return srv;
}

/* Reconciliation, and the report of the host's resources, run in a
 * thread of their own: their calls to the conductor and the hypervisor
 * and the instance locks they wait for (a build in progress holds one)
 * must never hold back the heartbeat, or a busy compute would be reported
 * down. Until a round has completed once (at start, when the conductor
 * answers), the round is the start-up one (sync.c: interrupted tasks,
 * orphan domains). */
static void *sync_main(void *arg)
{
	struct compute *c = arg;
	const struct timespec tick = { 0, TICK_MS * 1000000L };
	uint64_t period = (uint64_t)c->conf->report_interval * 1000;

	while (!daemon_stop_flag) {
		uint64_t next = now_ms() + period;

		compute_report_resources(c);
		if (compute_sync(c, !c->reaped) == 0)
			c->reaped = true;
		while (!daemon_stop_flag && now_ms() < next)
			nanosleep(&tick, NULL);
	}
	return NULL;
}

/* The main thread sends the heartbeat every report_interval. */
static void run(struct compute *c, struct rpc_server *srv)
{
	const struct timespec tick = { 0, TICK_MS * 1000000L };
	uint64_t period = (uint64_t)c->conf->report_interval * 1000;
	uint64_t next = now_ms() + period;

	while (!daemon_stop_flag) {
		nanosleep(&tick, NULL);
		if (rpc_server_healthy(srv))
			daemon_watchdog();
		daemon_reload_log_level();
		if (now_ms() >= next) {
			compute_heartbeat(c);
			next = now_ms() + period;
		}
	}
}

int main(int argc, char **argv)
{
	struct kumo_conf conf;
	struct compute c = {
		.conf = &conf, .lost_mu = PTHREAD_MUTEX_INITIALIZER,
		.token = { .mu = PTHREAD_MUTEX_INITIALIZER },
	};
	struct rpc_server *srv;
	pthread_t sync_thr;
	char err[512];
	int check;

	check = daemon_args(argc, argv, "kumo-compute", &conf, NULL);
	if (http_load(err, sizeof err) < 0)   /* image downloads need it */
		fatalx("%s", err);
	if ((c.driver = virt_driver_new(&conf, err, sizeof err)) == NULL)
		fatalx("%s", err);
	if (check) {
		virt_driver_free(c.driver);
		daemon_config_ok("kumo-compute");
		return 0;
	}
	daemon_signals();
	c.started_at = (int64_t)time(NULL);
	compute_locks_init(&c.locks);
	compute_locks_init(&c.image_locks);
	c.rpc = rpcapi_transport_open(&conf,
	    hostname_valid(conf.host) ? conf.host : NULL);
	srv = start_server(&c);
	compute_heartbeat(&c);
	compute_report_resources(&c);
	if (thread_start(&sync_thr, sync_main, &c) == -1)
		fatalx("cannot start the reconciliation thread");
	log_info("serving topic %s as %s with the %s driver", TOPIC_COMPUTE,
	    conf.host, c.driver->ops->name);
	daemon_ready("serving");
	run(&c, srv);
	log_info("stopping: letting in-flight operations finish");
	pthread_join(sync_thr, NULL);
	daemon_stopping();
	rpc_server_stop(srv, STOP_GRACE_MS);
	rpc_server_free(srv);
	rpc_transport_free(c.rpc);
	compute_locks_fini(&c.locks);
	compute_locks_fini(&c.image_locks);
	compute_sync_free(&c);
	compute_service_token_clear(&c);
	virt_driver_free(c.driver);
	return 0;
}
