/*
 * rpc-echo: a small RPC server for tests and benchmarks.
 *
 *   rpc-echo [--transport-url URL] [--exchange NAME] [--workers N]
 *            [--heartbeat S] [--queues transient|durable|quorum] [-d]
 *            TOPIC SERVER
 *
 * Serves until SIGTERM/SIGINT:
 *   echo(payload)     returns payload unchanged
 *   fail(message)     fails with builtins.ValueError(message)
 *   sleep(seconds)    sleeps (0..60 s), returns seconds
 *   whoami()          returns SERVER
 *   context()         returns the request context it received
 *   tick()            counts (for cast throughput), returns null
 *   stats()           {"ticks", "calls", "sleeping", "first_tick_us",
 *                     "last_tick_us"} (sleeping: sleep() calls running)
 *   reset()           zeroes the counters
 * Prints "rpc-echo: consuming topic=T server=S" once consuming.
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "common/rpc/rpc.h"

struct echo {
	const char *server;
	atomic_llong ticks, calls, sleeping;
	atomic_ullong first_tick_us, last_tick_us;
};

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static int m_echo(void *arg, const struct rpc_ctx *ctx, json_t *args,
    json_t **result, struct rpc_error *err)
{
	struct echo *e = arg;
	json_t *p = json_object_get(args, "payload");

	(void)ctx;
	atomic_fetch_add(&e->calls, 1);
	if (p == NULL) {
		rpc_error_set(err, "TypeError", "builtins",
		    "echo() missing 1 required positional argument: 'payload'");
		return -1;
	}
	*result = json_incref(p);
	return 0;
}

static int m_fail(void *arg, const struct rpc_ctx *ctx, json_t *args,
    json_t **result, struct rpc_error *err)
{
	const char *m = json_string_value(json_object_get(args, "message"));

	(void)arg, (void)ctx, (void)result;
	rpc_error_set(err, "ValueError", "builtins", "%s", m ? m : "boom");
	return -1;
}

static int m_sleep(void *arg, const struct rpc_ctx *ctx, json_t *args,
    json_t **result, struct rpc_error *err)
{
	json_t *v = json_object_get(args, "seconds");
	double s = json_number_value(v);

	struct echo *e = arg;

	(void)ctx;
	if (!json_is_number(v) || s < 0 || s > 60) {
		rpc_error_set(err, "ValueError", "builtins",
		    "seconds must be a number between 0 and 60");
		return -1;
	}
	atomic_fetch_add(&e->sleeping, 1);
	usleep((useconds_t)(s * 1e6));
	atomic_fetch_sub(&e->sleeping, 1);
	*result = json_real(s);
	return 0;
}

static int m_whoami(void *arg, const struct rpc_ctx *ctx, json_t *args,
    json_t **result, struct rpc_error *err)
{
	struct echo *e = arg;

	(void)ctx, (void)args, (void)err;
	*result = json_string(e->server);
	return 0;
}

static int m_context(void *arg, const struct rpc_ctx *ctx, json_t *args,
    json_t **result, struct rpc_error *err)
{
	(void)arg, (void)args, (void)err;
	log_info("rpc-echo: context() called");
	*result = json_pack("{s:s, s:s, s:s, s:b, s:O?, s:O?}",
	    "request_id", ctx->request_id, "user_id", ctx->user_id,
	    "project_id", ctx->project_id, "is_admin", ctx->is_admin,
	    "roles", ctx->roles, "extra", ctx->extra);
	return 0;
}

static int m_tick(void *arg, const struct rpc_ctx *ctx, json_t *args,
    json_t **result, struct rpc_error *err)
{
	struct echo *e = arg;
	unsigned long long now = now_us(), zero = 0;

	(void)ctx, (void)args, (void)result, (void)err;
	atomic_compare_exchange_strong(&e->first_tick_us, &zero, now);
	atomic_store(&e->last_tick_us, now);
	atomic_fetch_add(&e->ticks, 1);
	return 0;
}

static int m_stats(void *arg, const struct rpc_ctx *ctx, json_t *args,
    json_t **result, struct rpc_error *err)
{
	struct echo *e = arg;

	(void)ctx, (void)args, (void)err;
	*result = json_pack("{s:I, s:I, s:I, s:I, s:I}",
	    "ticks", (json_int_t)atomic_load(&e->ticks),
	    "calls", (json_int_t)atomic_load(&e->calls),
	    "sleeping", (json_int_t)atomic_load(&e->sleeping),
	    "first_tick_us", (json_int_t)atomic_load(&e->first_tick_us),
	    "last_tick_us", (json_int_t)atomic_load(&e->last_tick_us));
	return 0;
}

static int m_reset(void *arg, const struct rpc_ctx *ctx, json_t *args,
    json_t **result, struct rpc_error *err)
{
	struct echo *e = arg;

	(void)ctx, (void)args, (void)err;
	atomic_store(&e->ticks, 0);
	atomic_store(&e->calls, 0);
	atomic_store(&e->first_tick_us, 0);
	atomic_store(&e->last_tick_us, 0);
	*result = json_true();
	return 0;
}

static const struct rpc_method methods[] = {
	{ "echo", m_echo },
	{ "fail", m_fail },
	{ "sleep", m_sleep },
	{ "whoami", m_whoami },
	{ "context", m_context },
	{ "tick", m_tick },
	{ "stats", m_stats },
	{ "reset", m_reset },
};

static void usage(void)
{
	fprintf(stderr, "usage: rpc-echo [--transport-url URL] [--exchange NAME] "
	    "[--workers N] [--heartbeat S] [--queues transient|durable|quorum] "
	    "[-d] TOPIC SERVER\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct rpc_conf conf = { .transport_url = "rabbit://guest:guest@127.0.0.1:5672/" };
	struct rpc_server_conf sc = { .methods = methods,
		.n_methods = sizeof methods / sizeof methods[0] };
	struct echo e = { 0 };
	struct rpc_transport *t;
	struct rpc_server *s;
	enum log_level lvl = LOG_LVL_WARN;
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--transport-url") == 0 && i + 1 < argc)
			conf.transport_url = argv[++i];
		else if (strcmp(argv[i], "--exchange") == 0 && i + 1 < argc)
			conf.control_exchange = argv[++i];
		else if (strcmp(argv[i], "--heartbeat") == 0 && i + 1 < argc) {
			if (num_parse_int(argv[++i], -1, 3600, &conf.heartbeat_s) == -1)
				usage();
		} else if (strcmp(argv[i], "--queues") == 0 && i + 1 < argc) {
			if (rpc_conf_queues(&conf, argv[++i]) == -1)
				usage();
		} else if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc) {
			if (num_parse_int(argv[++i], 1, 256, &sc.workers) == -1)
				usage();
		} else if (strcmp(argv[i], "-d") == 0)
			lvl = LOG_LVL_DEBUG;
		else
			usage();
	}
	if (argc - i != 2)
		usage();
	log_init("rpc-echo", lvl);
	sc.topic = argv[i];
	sc.server = e.server = argv[i + 1];
	sc.arg = &e;
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	if ((t = rpc_transport_new(&conf)) == NULL || (s = rpc_server_new(t, &sc)) == NULL)
		fatalx("cannot set up the RPC server");
	while (rpc_server_start(s, 1000) == -1 && !stop_flag)
		;
	if (!stop_flag) {
		printf("rpc-echo: consuming topic=%s server=%s\n", sc.topic, sc.server);
		fflush(stdout);
	}
	while (!stop_flag)
		usleep(100000);
	rpc_server_stop(s, 5000);
	rpc_server_free(s);
	rpc_transport_free(t);
	return 0;
}
