/*
 * The server half: one listen thread per server owns the listen
 * connection. It declares what oslo declares (research/oslo-messaging-
 * wire.md section 2), consumes `T`, `T.S` and `T_fanout_<hex>` and lends
 * the connection to the worker pool (dispatch.c), whose workers read it in
 * turn through rpc_server_read: each delivery is checked (rejected when it
 * cannot be decoded), run and then acked. On a broken connection the listen
 * thread reconnects with the transport's backoff and declares everything
 * again.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/rpc/rpc_internal.h"

#define LISTEN_TICK_MS 1000
#define MONITOR_TICK_MS 250 /* call-monitor and heartbeat checks */

struct rpc_server {
	struct rpc_transport *t;
	struct rpc_server_conf conf;  /* strings point into the copies below */
	char topic[RPC_NAME_MAX];
	char server[RPC_NAME_MAX];
	char exchange[RPC_NAME_MAX];
	char q_server[RPC_NAME_MAX];  /* T.S */
	char x_fanout[RPC_NAME_MAX];  /* T_fanout */
	char q_fanout[RPC_NAME_MAX];  /* T_fanout_<hex> */
	char *namespace, *version;
	struct rpc_pool *pool;

	pthread_t thr;
	bool started, stopped;
	volatile bool stop;
	atomic_bool consuming;
	pthread_mutex_t mu;
	pthread_cond_t cv;            /* consuming changed */

	char seen[RPC_DEDUP][64];     /* last _unique_ids (the reader's) */
	size_t seen_pos;
};

struct rpc_transport *rpc_server_transport(const struct rpc_server *s) { return s->t; }
struct rpc_pool *rpc_server_pool(const struct rpc_server *s) { return s->pool; }
const struct rpc_server_conf *rpc_server_conf_of(const struct rpc_server *s) { return &s->conf; }

static bool copy_name(char *dst, const char *src)
{
	return src != NULL && src[0] != '\0' && strlen(src) <= RPC_NAME_MAX / 2 - 8 &&
	    str_copy(dst, src, RPC_NAME_MAX) == 0;
}

struct rpc_server *rpc_server_new(struct rpc_transport *t,
    const struct rpc_server_conf *conf)
{
	struct rpc_server *s;
	char hex[UUID_HEX_LEN];

	if (t == NULL || conf == NULL || (conf->n_methods > 0 && conf->methods == NULL)) {
		log_warnx("rpc: rpc_server_new: bad arguments");
		return NULL;
	}
	s = calloc(1, sizeof *s);
	if (s == NULL)
		return NULL;
	if (!copy_name(s->topic, conf->topic) || !copy_name(s->server, conf->server) ||
	    !copy_name(s->exchange, conf->exchange ? conf->exchange : rpc_transport_exchange(t))) {
		log_warnx("rpc: rpc_server_new: bad topic, server or exchange");
		free(s);
		return NULL;
	}
	uuid_new_hex(hex);
	str_fmt(s->q_server, sizeof s->q_server, "%s.%s", s->topic, s->server);
	str_fmt(s->x_fanout, sizeof s->x_fanout, "%s_fanout", s->topic);
	str_fmt(s->q_fanout, sizeof s->q_fanout, "%s_fanout_%s", s->topic, hex);
	s->t = t;
	s->conf = *conf;
	s->conf.topic = s->topic;
	s->conf.server = s->server;
	s->conf.exchange = s->exchange;
	s->namespace = conf->namespace ? strdup(conf->namespace) : NULL;
	s->version = conf->version ? strdup(conf->version) : NULL;
	s->conf.namespace = s->namespace;
	s->conf.version = s->version;
	if (s->conf.workers <= 0)
		s->conf.workers = 8;
	pthread_mutex_init(&s->mu, NULL);
	rpc_cond_init(&s->cv);
	s->pool = rpc_pool_new(s, s->conf.workers);
	if (s->pool == NULL) {
		rpc_server_free(s);
		return NULL;
	}
	return s;
}

/* Exchanges, queues and bindings exactly as oslo declares them, then the
 * three consumers. */
static int setup(struct rpc_server *s, struct rpc_conn *c)
{
	if (rpc_conn_declare_exchange(c, s->exchange, "topic") == -1 ||
	    rpc_conn_declare_queue(c, s->topic, RPC_Q_WORK) == -1 ||
	    rpc_conn_bind(c, s->topic, s->exchange, s->topic) == -1 ||
	    rpc_conn_declare_queue(c, s->q_server, RPC_Q_WORK) == -1 ||
	    rpc_conn_bind(c, s->q_server, s->exchange, s->q_server) == -1 ||
	    rpc_conn_declare_exchange(c, s->x_fanout, "fanout") == -1 ||
	    rpc_conn_declare_queue(c, s->q_fanout, RPC_Q_TRANSIENT) == -1 ||
	    rpc_conn_bind(c, s->q_fanout, s->x_fanout, s->topic) == -1 ||
	    rpc_conn_qos(c, rpc_pool_prefetch(s->pool)) == -1 ||
	    rpc_conn_consume(c, s->topic, false) == -1 ||
	    rpc_conn_consume(c, s->q_server, false) == -1 ||
	    rpc_conn_consume(c, s->q_fanout, false) == -1)
		return -1;
	return 0;
}

static void set_consuming(struct rpc_server *s, bool on)
{
	pthread_mutex_lock(&s->mu);
	atomic_store(&s->consuming, on);
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

/* oslo keeps the last 16 _unique_ids and drops a repeat. */
static bool duplicate(struct rpc_server *s, const char *id)
{
	if (id == NULL)
		return false;
	for (size_t i = 0; i < RPC_DEDUP; i++)
		if (strcmp(s->seen[i], id) == 0)
			return true;
	str_copy(s->seen[s->seen_pos], id, sizeof s->seen[0]);
	s->seen_pos = (s->seen_pos + 1) % RPC_DEDUP;
	return false;
}

int rpc_server_read(struct rpc_server *s, struct rpc_conn *c, int timeout_ms,
    struct rpc_request *req)
{
	struct rpc_delivery d;
	struct rpc_error err;
	enum rpc_decode_status st;
	json_t *msg = NULL;
	char why[256];
	int r;

	r = rpc_conn_next_delivery(c, timeout_ms, &d);
	if (r != 1)
		return r;
	if (!d.too_big && rpc_request_fast(d.body ? d.body : "", d.len, req) == 0) {
		free(d.body);
		goto decoded;
	}
	if (d.too_big) {
		str_fmt(why, sizeof why, "over the %u byte cap", RPC_MAX_BODY);
		st = RPC_DEC_TOO_BIG;
	} else {
		st = rpc_envelope_decode(d.body ? d.body : "", d.len, &msg, why, sizeof why);
	}
	free(d.body);
	if (st != RPC_DEC_OK) {
		log_warnx("rpc: %s: message rejected: %s", s->q_server, why);
		return rpc_conn_reject(c, d.tag) == 0 ? 0 : -1;
	}
	memset(&err, 0, sizeof err);
	if (rpc_request_decode(msg, req, &err) == -1) {
		log_warnx("rpc: %s: %s%s", s->q_server, err.message,
		    req->msg_id ? " (answered with a failure)" : " (dropped)");
		if (req->msg_id == NULL || (req->invalid = malloc(sizeof err)) == NULL) {
			rpc_request_clear(req);
			return rpc_conn_ack_now(c, d.tag, false) == 0 ? 0 : -1;
		}
		*req->invalid = err;
		req->tag = d.tag;
		return 1;
	}
decoded:
	str_copy(req->ctx.bus_user, d.user_id, sizeof req->ctx.bus_user);
	/* A copy already run or running (sent twice, or delivered again
	 * after a reconnect while its first delivery ran here). */
	if (duplicate(s, req->unique_id)) {
		log_warnx("rpc: %s: duplicate message %s dropped", s->q_server, req->unique_id);
		rpc_request_clear(req);
		return rpc_conn_ack_now(c, d.tag, false) == 0 ? 0 : -1;
	}
	req->tag = d.tag;
	return 1;
}

static struct rpc_conn *listen_connect(struct rpc_server *s)
{
	struct rpc_conn *c = rpc_conn_open(s->t, false, now_ms() + LISTEN_TICK_MS, &s->stop);

	if (c == NULL)
		return NULL;
	if (setup(s, c) == -1) {
		rpc_conn_free(c, false);
		rpc_backoff_result(s->t, SIZE_MAX, false);
		return NULL;
	}
	log_info("rpc: consuming %s, %s and %s on exchange %s", s->topic,
	    s->q_server, s->q_fanout, s->exchange);
	return c;
}

/* The listen thread owns the connection: it connects and declares, lends
 * the connection to the workers, and takes it back when they find it
 * broken or when the server stops. */
static void *listen_main(void *arg)
{
	struct rpc_server *s = arg;
	struct rpc_conn *c = NULL;

	while (!s->stop) {
		if (c == NULL) {
			if ((c = listen_connect(s)) == NULL)
				continue;
			rpc_pool_attach(s->pool, c);
			set_consuming(s, true);
		}
		if (rpc_pool_wait_broken(s->pool, MONITOR_TICK_MS)) {
			set_consuming(s, false);
			rpc_conn_free(rpc_pool_detach(s->pool), false);
			c = NULL;
			log_warnx("rpc: %s: lost the broker; reconnecting", s->q_server);
			continue;
		}
		rpc_pool_monitor(s->pool);
		rpc_pool_heartbeat(s->pool);
	}
	set_consuming(s, false);
	if (c != NULL && (c = rpc_pool_detach(s->pool)) != NULL) {
		/* What ran is acked; what did not (unread, read ahead, still
		 * running) goes back to its queue on close. */
		rpc_pool_settle(s->pool, c);
		rpc_conn_delete_queue(c, s->q_fanout);
		rpc_conn_free(c, true);
	}
	return NULL;
}

int rpc_server_start(struct rpc_server *s, int timeout_ms)
{
	uint64_t deadline = now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
	bool ok;

	if (s == NULL)
		return -1;
	if (!s->started) {
		if (thread_start(&s->thr, listen_main, s) == -1)
			return -1;
		s->started = true;
	}
	pthread_mutex_lock(&s->mu);
	while (!atomic_load(&s->consuming) && rpc_cond_wait_until(&s->cv, &s->mu, deadline))
		;
	ok = atomic_load(&s->consuming);
	pthread_mutex_unlock(&s->mu);
	if (!ok)
		log_warnx("rpc: %s: not consuming after %d ms; still trying", s->q_server, timeout_ms);
	return ok ? 0 : -1;
}

void rpc_server_stop(struct rpc_server *s, int grace_ms)
{
	int left;

	if (s == NULL || s->stopped)
		return;
	s->stopped = true;
	/* Reading stops, what runs finishes (its acks go on the listen
	 * connection, which closes after). */
	left = rpc_pool_drain(s->pool, grace_ms);
	s->stop = true;
	if (s->started)
		pthread_join(s->thr, NULL);
	if (left > 0)
		log_warnx("rpc: %s: %d handlers still running after %d ms", s->q_server,
		    left, grace_ms);
}

void rpc_server_free(struct rpc_server *s)
{
	if (s == NULL)
		return;
	rpc_server_stop(s, 0);
	rpc_pool_free(s->pool);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s->namespace);
	free(s->version);
	free(s);
}

bool rpc_server_healthy(const struct rpc_server *s)
{
	return s != NULL && atomic_load(&((struct rpc_server *)s)->consuming);
}
