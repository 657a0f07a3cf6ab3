/*
 * rpc-call: call or cast one RPC method from the command line (tests).
 *
 *   rpc-call [--transport-url URL] [--exchange NAME] [--server S]
 *            [--cast | --fanout] [--timeout MS] [--version V]
 *            [--namespace NS] [--request-id ID] [--user U] [--project P]
 *            [--threads N] [--count M] [--interval MS] [--heartbeat S]
 *            [--queues transient|durable|quorum] TOPIC METHOD [ARGS]
 *
 * ARGS is a JSON object (default {}), or @FILE: the object in FILE. Prints
 * one JSON line per message:
 *   {"i": 0, "ok": true, "result": ..., "ms": 1.2}
 *   {"i": 1, "ok": false, "kind": "timeout", "class": ..., "module": ...,
 *    "message": ..., "ms": ...}
 * and with --count > 1 a last line {"summary": {"ok", "failed", "elapsed_ms",
 * "max_ms"}}. M messages in total are sent by N threads sharing one
 * transport. Casts are waited for until the broker confirmed them all (up
 * to --timeout): {"ok": false, "kind": "unconfirmed"} when it did not.
 * Exits 0 when every message succeeded, 1 otherwise.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "common/rpc/rpc.h"

struct opts {
	struct rpc_target target;
	struct rpc_ctx ctx;
	const char *method;
	json_t *args;
	bool cast;
	int timeout_ms, threads, count, interval_ms;
};

static struct rpc_transport *transport;
static struct opts o;
static atomic_int next_i, n_ok, n_failed;
static atomic_ullong max_us;
static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;

static const char *kind_name(enum rpc_err_kind k)
{
	static const char *const names[] = { "none", "remote", "timeout", "transport", "invalid" };

	return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "unknown";
}

static void emit(json_t *line)
{
	char *s = json_dumps(line, JSON_COMPACT);

	pthread_mutex_lock(&out_mu);
	printf("%s\n", s ? s : "{}");
	fflush(stdout);
	pthread_mutex_unlock(&out_mu);
	free(s);
	json_decref(line);
}

static void one(int i)
{
	struct rpc_error err;
	json_t *result = NULL, *line;
	uint64_t t0 = now_us(), us;
	int rc;

	if (o.cast)
		rc = rpc_cast(transport, &o.target, &o.ctx, o.method,
		    json_deep_copy(o.args), &err);
	else
		rc = rpc_call(transport, &o.target, &o.ctx, o.method,
		    json_deep_copy(o.args), o.timeout_ms, &result, &err);
	us = now_us() - t0;
	if (us > atomic_load(&max_us))
		atomic_store(&max_us, us);
	if (rc == 0) {
		atomic_fetch_add(&n_ok, 1);
		line = json_pack("{s:i, s:b, s:o, s:f}", "i", i, "ok", 1,
		    "result", result ? result : json_null(), "ms", (double)us / 1000);
	} else {
		atomic_fetch_add(&n_failed, 1);
		line = json_pack("{s:i, s:b, s:s, s:s, s:s, s:s, s:f}", "i", i, "ok", 0,
		    "kind", kind_name(err.kind), "class", err.cls, "module", err.module,
		    "message", err.message, "ms", (double)us / 1000);
	}
	emit(line);
}

static void *worker(void *arg)
{
	int i;

	(void)arg;
	while ((i = atomic_fetch_add(&next_i, 1)) < o.count) {
		one(i);
		if (o.interval_ms > 0)
			usleep((useconds_t)o.interval_ms * 1000);
	}
	return NULL;
}

static void usage(void)
{
	fprintf(stderr, "usage: rpc-call [--transport-url URL] [--exchange NAME] "
	    "[--server S] [--cast|--fanout] [--timeout MS] [--version V] "
	    "[--namespace NS] [--request-id ID] [--user U] [--project P] "
	    "[--threads N] [--count M] [--interval MS] [--heartbeat S] "
	    "[--queues transient|durable|quorum] TOPIC METHOD [ARGS]\n");
	exit(2);
}

static int int_opt(const char *s, int min, int max)
{
	int v;

	if (s == NULL || num_parse_int(s, min, max, &v) == -1)
		usage();
	return v;
}

int main(int argc, char **argv)
{
	struct rpc_conf conf = { .transport_url = "rabbit://guest:guest@127.0.0.1:5672/" };
	const char *rid = NULL, *user = "kumo-user", *project = "kumo-project";
	pthread_t thr[256];
	uint64_t t0;
	int i;

	o.threads = o.count = 1;
	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--cast") == 0) { o.cast = true; continue; }
		if (strcmp(a, "--fanout") == 0) { o.cast = o.target.fanout = true; continue; }
		if (v == NULL)
			usage();
		i++;
		if (strcmp(a, "--transport-url") == 0) conf.transport_url = v;
		else if (strcmp(a, "--exchange") == 0) conf.control_exchange = v;
		else if (strcmp(a, "--server") == 0) o.target.server = v;
		else if (strcmp(a, "--version") == 0) o.target.version = v;
		else if (strcmp(a, "--namespace") == 0) o.target.namespace = v;
		else if (strcmp(a, "--request-id") == 0) rid = v;
		else if (strcmp(a, "--user") == 0) user = v;
		else if (strcmp(a, "--project") == 0) project = v;
		else if (strcmp(a, "--timeout") == 0) o.timeout_ms = int_opt(v, 1, 3600000);
		else if (strcmp(a, "--heartbeat") == 0) conf.heartbeat_s = int_opt(v, -1, 3600);
		else if (strcmp(a, "--queues") == 0) { if (rpc_conf_queues(&conf, v) == -1) usage(); }
		else if (strcmp(a, "--threads") == 0) o.threads = int_opt(v, 1, 256);
		else if (strcmp(a, "--count") == 0) o.count = int_opt(v, 1, 100000000);
		else if (strcmp(a, "--interval") == 0) o.interval_ms = int_opt(v, 0, 3600000);
		else usage();
	}
	if (argc - i < 2 || argc - i > 3)
		usage();
	log_init("rpc-call", LOG_LVL_WARN);
	signal(SIGPIPE, SIG_IGN);
	o.target.topic = argv[i];
	o.method = argv[i + 1];
	if (argc - i == 3 && argv[i + 2][0] == '@')
		o.args = json_load_file(argv[i + 2] + 1, 0, NULL);
	else
		o.args = json_loads(argc - i == 3 ? argv[i + 2] : "{}", 0, NULL);
	if (!json_is_object(o.args))
		fatalx("ARGS must be a JSON object");
	rpc_ctx_init_service(&o.ctx);
	if (rid == NULL)
		rid = strdupa(o.ctx.request_id);
	rpc_ctx_init(&o.ctx, rid, user, project, false);
	o.ctx.roles = json_pack("[s]", "member");
	if ((transport = rpc_transport_new(&conf)) == NULL)
		fatalx("bad transport options");
	t0 = now_us();
	for (i = 0; i < o.threads; i++)
		if (pthread_create(&thr[i], NULL, worker, NULL) != 0)
			fatalx("pthread_create");
	for (i = 0; i < o.threads; i++)
		pthread_join(thr[i], NULL);
	/* A cast is the library's once rpc_cast returns; wait for the broker's
	 * confirms before claiming success. */
	if (o.cast && atomic_load(&n_ok) > 0 && rpc_transport_flush(transport, o.timeout_ms) == -1) {
		emit(json_pack("{s:b, s:s}", "ok", 0, "kind", "unconfirmed"));
		atomic_fetch_add(&n_failed, 1);
	}
	if (o.count > 1)
		emit(json_pack("{s:{s:i, s:i, s:f, s:f}}", "summary",
		    "ok", atomic_load(&n_ok), "failed", atomic_load(&n_failed),
		    "elapsed_ms", (double)(now_us() - t0) / 1000,
		    "max_ms", (double)atomic_load(&max_us) / 1000));
	rpc_transport_free(transport);
	rpc_ctx_clear(&o.ctx);
	json_decref(o.args);
	return atomic_load(&n_failed) == 0 ? 0 : 1;
}
