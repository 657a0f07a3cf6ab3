/*
 * The transport: what one process shares between its callers and servers.
 *
 *   backoff   when the next connection attempt may start, to which host
 *   pool      publish connections, one thread each at a time: channel 1
 *             in confirm mode, channel 2 without (call requests, replies)
 *   service   one thread, started on first use: (re)connects the reply
 *             consumer, reads it while no call waits (heartbeats, late
 *             replies), every second reads idle pool connections
 *             (heartbeats, returned replies), and retries returned replies
 *   returned  replies the broker returned, retried for 60 s
 *   pending   calls waiting for a reply, by _msg_id, each with a condvar
 *   outbox    casts (outbox.c), made by the first one
 *
 * Replies are read by the waiting callers themselves, one at a time (the
 * reading turn): the reader completes whichever calls its deliveries
 * answer and, once its own reply is in, passes the turn to another waiter.
 * A sequential caller thus reads its own reply with no thread handoff.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/rpc/rpc_internal.h"

#define POOL_MAX 32               /* oslo's rpc_conn_pool_size is 30 */
#define LIVE_CHECK_MS 1000        /* idle this long: check before an unconfirmed publish */
#define PENDING_BUCKETS 64
#define SERVICE_TICK_MS 1000
#define RETRY_PAUSE_MS 200
#define READ_SLICE_MS 200        /* a reader re-checks its own deadline */
#define SERVICE_READ_IDLE_MS 500 /* no call for this long: the service reads */
#define FREE_FLUSH_MS 10000      /* rpc_transport_free waits this long for casts */
#define RETURN_RETRY_MS 250      /* returned replies: retried this often, */
#define RETURN_GIVE_UP_MS 60000  /* for this long (oslo's kombu_missing_consumer_retry_timeout) */
#define RETURN_MAX 1024          /* at most this many kept */

/* A reply the broker returned (its reply queue does not exist yet, e.g.
 * while the caller reconnects after a broker restart). */
struct returned {
	char *body;
	size_t len;
	char reply_q[RPC_NAME_MAX];
	uint64_t give_up_ms;
	struct returned *next;
};

struct rpc_transport {
	struct rpc_url url;
	char exchange[RPC_NAME_MAX];
	int timeout_ms;
	int heartbeat_s;
	struct rpc_qopts qopts;

	pthread_mutex_t bo_mu;
	pthread_cond_t bo_cv;
	uint64_t bo_next_ms;     /* no attempt may start before this */
	int bo_delay_s;          /* last delay; 0 after a success */
	size_t bo_host;

	pthread_mutex_t mu;      /* everything below */
	pthread_cond_t pool_cv;  /* a pool connection came back */
	pthread_cond_t ready_cv; /* reply queue ready */
	pthread_cond_t svc_cv;   /* wakes the service thread */
	struct rpc_conn *idle;   /* LIFO: the hot connection is reused */
	int n_conns;
	bool svc_running;
	volatile bool stopping;
	bool reply_wanted;
	bool reply_ready;        /* rc is connected and consuming */
	bool reading;            /* someone holds the reading turn on rc */
	struct rpc_conn *rc;     /* the reply consumer connection */
	int waiters;             /* callers in rpc_pending_wait */
	uint64_t last_call_ms;   /* last call activity */
	pthread_t svc;
	char reply_q[RPC_NAME_MAX];
	struct rpc_pending *pending[PENDING_BUCKETS];
	struct rpc_outbox *outbox; /* casts; made on the first one */

	pthread_mutex_t ret_mu;  /* the returned replies (taken under t->mu too) */
	struct returned *returned;
	size_t n_returned;
};

void rpc_cond_init(pthread_cond_t *cv)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(cv, &a);
	pthread_condattr_destroy(&a);
}

bool rpc_cond_wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, uint64_t deadline_ms)
{
	struct timespec ts;

	if (now_ms() >= deadline_ms)
		return false;
	ts.tv_sec = (time_t)(deadline_ms / 1000);
	ts.tv_nsec = (long)(deadline_ms % 1000) * 1000000L;
	pthread_cond_timedwait(cv, mu, &ts);
	return now_ms() < deadline_ms;
}

int rpc_conf_queues(struct rpc_conf *conf, const char *word)
{
	bool durable = strcmp(word, "durable") == 0;
	bool quorum = strcmp(word, "quorum") == 0;

	if (!durable && !quorum && strcmp(word, "transient") != 0)
		return -1;
	conf->amqp_durable_queues = durable;
	conf->rabbit_quorum_queue = quorum;
	return 0;
}

struct rpc_transport *rpc_transport_new(const struct rpc_conf *conf)
{
	struct rpc_transport *t;
	char err[256], hex[UUID_HEX_LEN];

	if (conf == NULL || conf->transport_url == NULL) {
		log_warnx("rpc: no transport_url");
		return NULL;
	}
	t = calloc(1, sizeof *t);
	if (t == NULL)
		return NULL;
	if (rpc_url_parse(conf->transport_url, &t->url, err, sizeof err) == -1) {
		log_warnx("rpc: bad transport_url: %s", err);
		goto fail;
	}
	if (str_copy(t->exchange, conf->control_exchange ? conf->control_exchange : "kumo",
	    sizeof t->exchange) == -1 || t->exchange[0] == '\0') {
		log_warnx("rpc: bad control_exchange");
		goto fail;
	}
	t->timeout_ms = (conf->default_timeout_s > 0 ? conf->default_timeout_s : 60) * 1000;
	t->heartbeat_s = conf->heartbeat_s == 0 ? 60 : conf->heartbeat_s < 0 ? 0 : conf->heartbeat_s;
	/* oslo: quorum queues are durable whatever amqp_durable_queues says */
	t->qopts.quorum = conf->rabbit_quorum_queue;
	t->qopts.durable = conf->amqp_durable_queues || conf->rabbit_quorum_queue;
	t->qopts.transient_ttl_ms = (conf->rabbit_transient_queues_ttl > 0 &&
	    conf->rabbit_transient_queues_ttl <= INT32_MAX / 1000 ?
	    conf->rabbit_transient_queues_ttl : RPC_QUEUE_TTL_S) * 1000;
	uuid_new_hex(hex);
	if (conf->reply_tag == NULL || conf->reply_tag[0] == '\0') {
		str_fmt(t->reply_q, sizeof t->reply_q, "reply_%s", hex);
	} else if (strlen(conf->reply_tag) <= 64 && strspn(conf->reply_tag,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") ==
	    strlen(conf->reply_tag)) {
		str_fmt(t->reply_q, sizeof t->reply_q, "reply_%s_%s", conf->reply_tag, hex);
	} else {
		log_warnx("rpc: bad reply queue tag");
		goto fail;
	}
	pthread_mutex_init(&t->bo_mu, NULL);
	rpc_cond_init(&t->bo_cv);
	pthread_mutex_init(&t->mu, NULL);
	pthread_mutex_init(&t->ret_mu, NULL);
	rpc_cond_init(&t->pool_cv);
	rpc_cond_init(&t->ready_cv);
	rpc_cond_init(&t->svc_cv);
	return t;
fail:
	free(t);
	return NULL;
}

void rpc_transport_free(struct rpc_transport *t)
{
	struct rpc_conn *c;

	if (t == NULL)
		return;
	if (t->outbox != NULL) {
		int ms = t->timeout_ms < FREE_FLUSH_MS ? t->timeout_ms : FREE_FLUSH_MS;
		size_t left;
		if (rpc_outbox_flush(t->outbox, now_ms() + (uint64_t)ms, &left) == -1)
			log_warnx("rpc: %zu casts still unconfirmed after %d ms", left, ms);
		rpc_outbox_free(t->outbox);
	}
	pthread_mutex_lock(&t->mu);
	t->stopping = true;
	pthread_cond_broadcast(&t->svc_cv);
	pthread_cond_broadcast(&t->pool_cv);
	pthread_cond_broadcast(&t->ready_cv);
	pthread_mutex_unlock(&t->mu);
	if (t->svc_running)
		pthread_join(t->svc, NULL);
	while ((c = t->idle) != NULL) {
		t->idle = c->next;
		rpc_conn_free(c, true);
	}
	if (t->n_returned > 0)
		log_warnx("rpc: stopping: %zu returned replies dropped", t->n_returned);
	while (t->returned != NULL) {
		struct returned *r = t->returned;
		t->returned = r->next;
		free(r->body);
		free(r);
	}
	pthread_mutex_destroy(&t->ret_mu);
	pthread_mutex_destroy(&t->mu);
	pthread_mutex_destroy(&t->bo_mu);
	pthread_cond_destroy(&t->bo_cv);
	pthread_cond_destroy(&t->pool_cv);
	pthread_cond_destroy(&t->ready_cv);
	pthread_cond_destroy(&t->svc_cv);
	free(t);
}

struct rpc_outbox *rpc_transport_outbox(struct rpc_transport *t)
{
	struct rpc_outbox *o;

	pthread_mutex_lock(&t->mu);
	if (t->outbox == NULL && !t->stopping)
		t->outbox = rpc_outbox_new(t);
	o = t->outbox;
	pthread_mutex_unlock(&t->mu);
	return o;
}

int rpc_transport_flush(struct rpc_transport *t, int timeout_ms)
{
	struct rpc_outbox *o;
	size_t left;

	if (t == NULL)
		return -1;
	pthread_mutex_lock(&t->mu);
	o = t->outbox;
	pthread_mutex_unlock(&t->mu);
	if (o == NULL)
		return 0;
	if (timeout_ms <= 0)
		timeout_ms = t->timeout_ms;
	if (rpc_outbox_flush(o, now_ms() + (uint64_t)timeout_ms, &left) == 0)
		return 0;
	log_warnx("rpc: %zu casts not confirmed by the broker within %d ms", left, timeout_ms);
	return -1;
}

const char *rpc_transport_exchange(const struct rpc_transport *t) { return t->exchange; }
int rpc_transport_timeout_ms(const struct rpc_transport *t) { return t->timeout_ms; }
int rpc_transport_heartbeat_s(const struct rpc_transport *t) { return t->heartbeat_s; }
const struct rpc_qopts *rpc_transport_qopts(const struct rpc_transport *t) { return &t->qopts; }
const struct rpc_url *rpc_transport_url(const struct rpc_transport *t) { return &t->url; }

/* ---- backoff: one attempt at a time; 1 s, +2 s, up to 30 s ------------- */

int rpc_backoff_wait(struct rpc_transport *t, uint64_t deadline_ms,
    const volatile bool *stop, size_t *host)
{
	pthread_mutex_lock(&t->bo_mu);
	for (;;) {
		uint64_t now = now_ms(), until = now + 100;
		if (now >= t->bo_next_ms) {
			/* Hold the gate for the length of one attempt. */
			t->bo_next_ms = now + 6000;
			*host = t->bo_host;
			pthread_mutex_unlock(&t->bo_mu);
			return 0;
		}
		if ((stop != NULL && *stop) || t->stopping ||
		    (deadline_ms != 0 && now >= deadline_ms))
			break;
		if (t->bo_next_ms < until)
			until = t->bo_next_ms;
		if (deadline_ms != 0 && deadline_ms < until)
			until = deadline_ms;
		rpc_cond_wait_until(&t->bo_cv, &t->bo_mu, until);
	}
	pthread_mutex_unlock(&t->bo_mu);
	return -1;
}

void rpc_backoff_result(struct rpc_transport *t, size_t host, bool ok)
{
	pthread_mutex_lock(&t->bo_mu);
	if (ok) {
		if (t->bo_delay_s != 0)
			log_info("rpc: connected to %s:%d again", t->url.hosts[host].host,
			    t->url.hosts[host].port);
		t->bo_delay_s = 0;
		t->bo_next_ms = 0;
	} else {
		t->bo_delay_s = t->bo_delay_s == 0 ? 1 : t->bo_delay_s + 2;
		if (t->bo_delay_s > 30)
			t->bo_delay_s = 30;
		t->bo_next_ms = now_ms() + (uint64_t)t->bo_delay_s * 1000;
		if (host == t->bo_host)
			t->bo_host = (t->bo_host + 1) % t->url.n_hosts;
		log_info("rpc: next connection attempt in %d s", t->bo_delay_s);
	}
	pthread_cond_broadcast(&t->bo_cv);
	pthread_mutex_unlock(&t->bo_mu);
}

/* ---- publish pool -------------------------------------------------------- */

static void *service_main(void *arg);

/* Called with t->mu held. */
static void service_start(struct rpc_transport *t)
{
	if (t->svc_running || t->stopping)
		return;
	if (thread_start(&t->svc, service_main, t) == 0)
		t->svc_running = true;
}

static struct rpc_conn *pool_get(struct rpc_transport *t, uint64_t deadline_ms,
    bool *fresh)
{
	struct rpc_conn *c = NULL;

	pthread_mutex_lock(&t->mu);
	for (;;) {
		if (t->stopping)
			break;
		if ((c = t->idle) != NULL) {
			t->idle = c->next;
			*fresh = false;
			break;
		}
		if (t->n_conns < POOL_MAX) {
			t->n_conns++;
			service_start(t);
			pthread_mutex_unlock(&t->mu);
			c = rpc_conn_open(t, true, deadline_ms, &t->stopping);
			*fresh = true;
			if (c != NULL)
				return c;
			pthread_mutex_lock(&t->mu);
			t->n_conns--;
			pthread_cond_signal(&t->pool_cv);
			break;
		}
		if (!rpc_cond_wait_until(&t->pool_cv, &t->mu, deadline_ms))
			break;
	}
	pthread_mutex_unlock(&t->mu);
	return c;
}

static void pool_put(struct rpc_transport *t, struct rpc_conn *c, bool broken)
{
	pthread_mutex_lock(&t->mu);
	if (broken) {
		t->n_conns--;
	} else {
		c->next = t->idle;
		t->idle = c;
	}
	pthread_cond_signal(&t->pool_cv);
	pthread_mutex_unlock(&t->mu);
	if (broken)
		rpc_conn_free(c, false);
}

/* One publish with retries; see rpc_publish_unconfirmed. */
static enum rpc_pub_status publish(struct rpc_transport *t, const char *exchange,
    const char *exchange_type, const char *key, bool mandatory,
    const char *expiration, const void *body, size_t len, uint64_t deadline_ms,
    bool unconfirmed)
{
	enum rpc_pub_status st = RPC_PUB_BROKEN;
	int fresh_failures = 0;
	bool fresh;

	/* A connection that fails three times right after it was made
	 * (refused declaration, no permission) will not get better. */
	while (fresh_failures < 3) {
		struct rpc_conn *c = pool_get(t, deadline_ms, &fresh);
		if (c == NULL)
			return RPC_PUB_BROKEN;
		if (exchange_type != NULL && rpc_conn_declare_exchange(c, exchange,
		    exchange_type) == -1) {
			st = RPC_PUB_BROKEN;
		} else if (unconfirmed) {
			st = (now_ms() - c->last_used_ms < LIVE_CHECK_MS || rpc_conn_service(c) == 0) &&
			    rpc_conn_send_unconfirmed(c, exchange, key, mandatory, expiration,
			    body, len) == 0 ?
			    RPC_PUB_OK : RPC_PUB_BROKEN;
		} else {
			st = rpc_conn_publish(c, exchange, key, mandatory, expiration,
			    body, len, deadline_ms);
		}
		pool_put(t, c, st == RPC_PUB_BROKEN);
		if (st != RPC_PUB_BROKEN || now_ms() + RETRY_PAUSE_MS >= deadline_ms)
			return st;
		fresh_failures += fresh;
		if (!fresh)
			continue; /* a stale pooled connection: retry at once */
		pthread_mutex_lock(&t->mu);
		rpc_cond_wait_until(&t->svc_cv, &t->mu, now_ms() + RETRY_PAUSE_MS);
		pthread_mutex_unlock(&t->mu);
	}
	return st;
}

enum rpc_pub_status rpc_publish(struct rpc_transport *t, const char *exchange,
    const char *exchange_type, const char *key, bool mandatory,
    const char *expiration, const void *body, size_t len, uint64_t deadline_ms)
{
	return publish(t, exchange, exchange_type, key, mandatory, expiration, body,
	    len, deadline_ms, false);
}

enum rpc_pub_status rpc_publish_unconfirmed(struct rpc_transport *t,
    const char *exchange, const char *exchange_type, const char *key,
    bool mandatory, const char *expiration, const void *body, size_t len,
    uint64_t deadline_ms)
{
	return publish(t, exchange, exchange_type, key, mandatory, expiration, body,
	    len, deadline_ms, true);
}

/* ---- returned replies ---------------------------------------------------- */

void rpc_transport_returned(struct rpc_transport *t, const char *reply_q,
    char *body, size_t len)
{
	struct returned *r = NULL, **pp;

	pthread_mutex_lock(&t->ret_mu);
	if (t->n_returned >= RETURN_MAX || (r = calloc(1, sizeof *r)) == NULL) {
		pthread_mutex_unlock(&t->ret_mu);
		log_warnx("rpc: reply dropped: reply queue %s does not exist", reply_q);
		free(body);
		return;
	}
	r->body = body;
	r->len = len;
	str_copy(r->reply_q, reply_q, sizeof r->reply_q);
	r->give_up_ms = now_ms() + RETURN_GIVE_UP_MS;
	for (pp = &t->returned; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = r;
	t->n_returned++;
	pthread_mutex_unlock(&t->ret_mu);
}

/* Publishes the returned replies again (confirmed and mandatory, so that a
 * return is known at once); keeps those returned again until they give
 * up. Runs on the service thread, without t->mu. */
static void retry_returned(struct rpc_transport *t)
{
	struct returned *list, *keep = NULL, **tail = &keep, *r;
	size_t kept = 0;

	pthread_mutex_lock(&t->ret_mu);
	list = t->returned;
	t->returned = NULL;
	t->n_returned = 0;
	pthread_mutex_unlock(&t->ret_mu);
	while ((r = list) != NULL) {
		enum rpc_pub_status st = rpc_publish(t, "", NULL, r->reply_q, true, NULL,
		    r->body, r->len, now_ms() + 1000);
		list = r->next;
		if (st == RPC_PUB_RETURNED && now_ms() < r->give_up_ms) {
			r->next = NULL;
			*tail = r;
			tail = &r->next;
			kept++;
			continue;
		}
		if (st != RPC_PUB_OK)
			log_warnx("rpc: reply to %s dropped: %s", r->reply_q, st == RPC_PUB_RETURNED ?
			    "the reply queue still does not exist" : "broker unreachable");
		free(r->body);
		free(r);
	}
	pthread_mutex_lock(&t->ret_mu);
	*tail = t->returned; /* returned meanwhile: after ours */
	t->returned = keep;
	t->n_returned += kept;
	pthread_mutex_unlock(&t->ret_mu);
}

static bool have_returned(struct rpc_transport *t)
{
	bool any;

	pthread_mutex_lock(&t->ret_mu);
	any = t->returned != NULL;
	pthread_mutex_unlock(&t->ret_mu);
	return any;
}

/* How often idle connections must enter the library: well within the
 * heartbeat interval (the broker gives up after two missed ones). */
static uint64_t service_tick_ms(const struct rpc_transport *t)
{
	uint64_t half = (uint64_t)t->heartbeat_s * 500;

	return t->heartbeat_s > 0 && half < SERVICE_TICK_MS ? half : SERVICE_TICK_MS;
}

/* Reads what idle pool connections received (heartbeats, returned
 * replies) and lets them send heartbeats. Called with t->mu. */
static void pool_service(struct rpc_transport *t)
{
	struct rpc_conn **pp = &t->idle, *c;

	while ((c = *pp) != NULL) {
		if (rpc_conn_service(c) == -1) {
			*pp = c->next;
			t->n_conns--;
			rpc_conn_free(c, false);
			continue;
		}
		pp = &c->next;
	}
}

/* ---- pending calls and the reply consumer -------------------------------- */

static size_t bucket(const char *msg_id)
{
	size_t h = 5381;

	for (; *msg_id; msg_id++)
		h = h * 33 + (unsigned char)*msg_id;
	return h % PENDING_BUCKETS;
}

void rpc_pending_add(struct rpc_transport *t, struct rpc_pending *p)
{
	size_t b = bucket(p->msg_id);

	pthread_mutex_lock(&t->mu);
	p->next = t->pending[b];
	t->pending[b] = p;
	t->last_call_ms = now_ms();
	pthread_mutex_unlock(&t->mu);
}

/* Called with t->mu. */
static void pending_unlink(struct rpc_transport *t, struct rpc_pending *p)
{
	struct rpc_pending **pp = &t->pending[bucket(p->msg_id)];

	for (; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			return;
		}
	}
}

void rpc_pending_remove(struct rpc_transport *t, struct rpc_pending *p)
{
	pthread_mutex_lock(&t->mu);
	pending_unlink(t, p);
	pthread_mutex_unlock(&t->mu);
}

static void on_reply(struct rpc_transport *t, const struct rpc_delivery *d);

/* Offers the free reading turn to one waiting caller. Called with t->mu. */
static void promote(struct rpc_transport *t)
{
	if (t->reading || t->rc == NULL || t->waiters == 0)
		return;
	for (size_t b = 0; b < PENDING_BUCKETS; b++) {
		for (struct rpc_pending *q = t->pending[b]; q != NULL; q = q->next) {
			if (!q->done) {
				pthread_cond_signal(&q->cv);
				return;
			}
		}
	}
}

/* Takes the reading turn and reads one delivery. Called with t->mu held,
 * the turn free and t->rc set; returns with t->mu held. */
static void read_turn(struct rpc_transport *t, int64_t timeout_ms)
{
	struct rpc_conn *c = t->rc;
	struct rpc_delivery d;
	int r;

	t->reading = true;
	pthread_mutex_unlock(&t->mu);
	r = rpc_conn_next_delivery(c, (int)(timeout_ms > 0 ? timeout_ms : 0), &d);
	if (r == 1) {
		on_reply(t, &d);
		free(d.body);
	}
	pthread_mutex_lock(&t->mu);
	t->reading = false;
	if (r == -1) {
		t->rc = NULL;
		t->reply_ready = false;
		rpc_conn_free(c, false);
		log_warnx("rpc: reply consumer lost its connection; reconnecting");
		pthread_cond_signal(&t->svc_cv);
	}
}

bool rpc_pending_wait(struct rpc_transport *t, struct rpc_pending *p, uint64_t deadline_ms)
{
	bool done;

	pthread_mutex_lock(&t->mu);
	t->waiters++;
	while (!p->done && !t->stopping) {
		uint64_t now = now_ms();
		if (now >= deadline_ms)
			break;
		if (t->rc != NULL && !t->reading) {
			uint64_t slice = deadline_ms - now;
			read_turn(t, slice < READ_SLICE_MS ? (int64_t)slice : READ_SLICE_MS);
			continue;
		}
		/* Re-check now and then, in case a turn offer was missed. */
		rpc_cond_wait_until(&p->cv, &t->mu,
		    deadline_ms < now + READ_SLICE_MS ? deadline_ms : now + READ_SLICE_MS);
	}
	t->waiters--;
	done = p->done;
	pending_unlink(t, p);
	t->last_call_ms = now_ms();
	promote(t);
	pthread_mutex_unlock(&t->mu);
	return done;
}

int rpc_reply_queue_ready(struct rpc_transport *t, uint64_t deadline_ms,
    char reply_q[RPC_NAME_MAX])
{
	int rc = 0;

	pthread_mutex_lock(&t->mu);
	if (!t->reply_wanted) {
		t->reply_wanted = true;
		service_start(t);
		pthread_cond_signal(&t->svc_cv);
	}
	while (!t->reply_ready) {
		if (t->stopping || !rpc_cond_wait_until(&t->ready_cv, &t->mu, deadline_ms)) {
			rc = t->reply_ready ? 0 : -1;
			break;
		}
	}
	memcpy(reply_q, t->reply_q, RPC_NAME_MAX);
	pthread_mutex_unlock(&t->mu);
	return rc;
}

static void on_reply(struct rpc_transport *t, const struct rpc_delivery *d)
{
	struct rpc_reply r;
	struct rpc_pending *p;
	json_t *msg;
	char why[256];

	if (d->too_big || rpc_envelope_decode(d->body, d->len, &msg, why, sizeof why) != RPC_DEC_OK) {
		log_warnx("rpc: reply dropped: %s", d->too_big ? "too big" : why);
		return;
	}
	if (rpc_reply_decode(msg, &r, why, sizeof why) == -1) {
		log_warnx("rpc: reply dropped: %s", why);
		json_decref(msg);
		return;
	}
	pthread_mutex_lock(&t->mu);
	for (p = t->pending[bucket(r.msg_id)]; p != NULL; p = p->next)
		if (strcmp(p->msg_id, r.msg_id) == 0)
			break;
	if (p != NULL && !p->done) {
		if (r.failed) {
			p->err = r.err;
		} else if (!json_is_null(r.result)) {
			json_decref(p->result);
			p->result = json_incref(r.result);
		}
		if (r.ending) {
			p->done = true;
			pthread_cond_signal(&p->cv);
		}
	}
	pthread_mutex_unlock(&t->mu);
	if (p == NULL)
		log_info("rpc: reply to unknown or timed-out call %s dropped", r.msg_id);
	json_decref(msg);
}

/* Connects the reply consumer: declare reply_<hex>, consume it. */
static struct rpc_conn *reply_connect(struct rpc_transport *t)
{
	struct rpc_conn *c = rpc_conn_open(t, false, now_ms() + SERVICE_TICK_MS, &t->stopping);

	if (c == NULL)
		return NULL;
	if (rpc_conn_declare_queue(c, t->reply_q, RPC_Q_TRANSIENT) == -1 ||
	    rpc_conn_consume(c, t->reply_q, true) == -1) {
		rpc_conn_free(c, false);
		rpc_backoff_result(t, SIZE_MAX, false);
		return NULL;
	}
	pthread_mutex_lock(&t->mu);
	t->rc = c;
	t->reply_ready = true;
	pthread_cond_broadcast(&t->ready_cv);
	promote(t);
	pthread_mutex_unlock(&t->mu);
	return c;
}

/* Reads the reply queue while no call waits: late replies are dropped and
 * heartbeats keep flowing. Called with t->mu; returns with it. */
static void service_read(struct rpc_transport *t, uint64_t until_ms)
{
	uint64_t now = now_ms();

	if (t->rc != NULL && !t->reading && t->waiters == 0 &&
	    now - t->last_call_ms >= SERVICE_READ_IDLE_MS) {
		read_turn(t, READ_SLICE_MS);
		promote(t);
	} else {
		rpc_cond_wait_until(&t->svc_cv, &t->mu, until_ms);
	}
}

static void *service_main(void *arg)
{
	struct rpc_transport *t = arg;
	uint64_t next_sweep = now_ms() + service_tick_ms(t), next_retry = 0;

	pthread_mutex_lock(&t->mu);
	while (!t->stopping) {
		bool retry = have_returned(t);
		uint64_t wake = retry && next_retry < next_sweep ? next_retry : next_sweep;
		if (t->reply_wanted && t->rc == NULL) {
			pthread_mutex_unlock(&t->mu);
			reply_connect(t);
			pthread_mutex_lock(&t->mu);
		} else if (t->reply_wanted) {
			service_read(t, wake < now_ms() + READ_SLICE_MS ? wake : now_ms() + READ_SLICE_MS);
		} else {
			rpc_cond_wait_until(&t->svc_cv, &t->mu, wake);
		}
		if (now_ms() >= next_sweep) {
			pool_service(t);
			next_sweep = now_ms() + service_tick_ms(t);
		}
		if (retry && now_ms() >= next_retry) {
			pthread_mutex_unlock(&t->mu);
			retry_returned(t);
			pthread_mutex_lock(&t->mu);
			next_retry = now_ms() + RETURN_RETRY_MS;
		}
	}
	while (t->reading)
		rpc_cond_wait_until(&t->svc_cv, &t->mu, now_ms() + 50);
	pthread_mutex_unlock(&t->mu);
	rpc_conn_free(t->rc, true);
	t->rc = NULL;
	return NULL;
}
