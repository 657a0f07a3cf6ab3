/*
 * A server's worker pool and the dispatch of one request: method lookup in
 * the server's table, namespace and version checks (oslo's dispatcher),
 * the handler call with the request id set for the thread's log lines,
 * and the reply through the transport's publish pool.
 *
 * Leader and followers: one idle worker at a time holds the reading turn
 * and reads the listen connection; when it gets a request it runs it
 * itself, keeping the turn (held), and reads on afterwards. Another idle
 * worker, the standby, watches: when a request runs longer than
 * HANDOFF_MS it takes the turn over and reads, so a slow handler delays
 * other requests by at most that much. The standby wakes on a timer while
 * requests come in and sleeps after STANDBY_IDLE_MS without one, so a
 * request costs no thread wake-up or context switch (the dearest part of
 * a round trip on a small VM, and of a flood of casts). Backpressure is
 * natural: with every worker busy nobody reads, and the broker keeps the
 * messages.
 *
 * Read-ahead: deliveries that arrived together are read together (up to
 * READ_AHEAD). The reader runs them one after the other; when one runs
 * longer than HANDOFF_MS the standby runs the next instead of reading.
 *
 * Acks after the work: a delivery is acked once its request ran (oslo
 * acks before it dispatches, so a process killed with work read ahead or
 * running loses it). Whoever takes the reading turn first acks what ran:
 * the run of finished deliveries from the oldest unacked one with one
 * basic.ack `multiple`, any finished behind a request still running one by
 * one. A process killed at any point leaves each message either done and
 * acked, or unacked and delivered again (to another consumer, or to this
 * one restarted); handlers are idempotent on a second delivery. basic.qos
 * bounds the unacked deliveries to what the pool can hold.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/rpc/rpc_internal.h"

#define READ_TICK_MS 250
#define HANDOFF_MS 2              /* a request runs this long: the standby reads */
#define STANDBY_IDLE_MS 100       /* no request for this long: the standby sleeps */
#define HEARTBEAT_IDLE_MS 1000    /* nobody read for this long: send one */
#define READ_AHEAD 32             /* deliveries read and acked together, at most */

struct slot {
	struct rpc_request req;   /* the request this worker runs */
	bool busy;
	uint64_t next_hb_ms;      /* next call-monitor heartbeat, 0 = none */
};

struct rpc_pool {
	struct rpc_server *s;
	pthread_mutex_t mu;
	pthread_cond_t turn_cv;   /* the reading turn is free, or stopping */
	pthread_cond_t mgr_cv;    /* connection broken, or the turn came back */
	pthread_cond_t idle_cv;   /* a request finished */
	pthread_cond_t standby_cv; /* the standby's timed waits */
	struct rpc_conn *c;       /* the listen connection, NULL when none */
	bool reading;             /* a worker holds the reading turn */
	bool held;                /* the reader runs what it read; nobody reads */
	int holder;               /* its slot */
	bool standby;             /* an idle worker watches the holder */
	uint64_t held_since_ms;
	uint64_t last_request_ms;
	bool broken;              /* a reader found c broken */
	bool stopping;
	bool draining;            /* stop: nobody reads any more */
	uint64_t last_read_ms;
	int running;
	int n;
	pthread_t *thr;
	struct slot *slots;
	/* Read and acked, not yet run: a ring. The reader fills free slots
	 * past the last one without the lock (nobody else touches those)
	 * and adds them under it. */
	struct rpc_request ready[READ_AHEAD];
	size_t ready_head, ready_n;
	/* Deliveries of the connection `gen` read and not acked yet, in tag
	 * order; done once their request ran. */
	unsigned gen;
	struct unacked {
		uint64_t tag;
		bool done;
	} *unacked;
	size_t n_unacked, cap_unacked;
	uint64_t *acks;           /* scratch of the reader's settle */
};

struct worker_arg {
	struct rpc_pool *p;
	int i;
};

/* Reads what else the broker sent with the request just read into the
 * ring's free slots (without the lock): how many in *k. -1 when c failed
 * (those read stay: they run, and the copies delivered again after the
 * reconnect are dropped as duplicates). */
static int read_ahead(struct rpc_pool *p, struct rpc_conn *c, size_t tail,
    size_t room, int *k)
{
	*k = 0;
	while ((size_t)*k < room && rpc_conn_buffered(c)) {
		struct rpc_request *req = &p->ready[(tail + (size_t)*k) % READ_AHEAD];
		int r = rpc_server_read(p->s, c, 0, req);
		if (r == -1)
			return -1;
		if (r == 0 && !rpc_conn_buffered(c))
			break;
		*k += r;
	}
	return 0;
}

/* Records a delivery read on the current connection. Called with p->mu. */
static void track(struct rpc_pool *p, struct rpc_request *req)
{
	struct unacked *u;

	req->gen = p->gen;
	if (req->tag == 0)
		return;
	if (p->n_unacked == p->cap_unacked) {
		size_t cap = p->cap_unacked ? 2 * p->cap_unacked : 64;
		uint64_t *a = realloc(p->acks, cap * sizeof *a);
		if (a != NULL)
			p->acks = a;
		if (a == NULL || (u = realloc(p->unacked, cap * sizeof *u)) == NULL) {
			/* Left unacked: delivered again after a reconnect. */
			log_warnx("rpc: out of memory: a delivery stays unacked");
			return;
		}
		p->unacked = u;
		p->cap_unacked = cap;
	}
	p->unacked[p->n_unacked++] = (struct unacked){ req->tag, false };
}

/* Marks req's delivery done. Called with p->mu. */
static void finished(struct rpc_pool *p, const struct rpc_request *req)
{
	if (req->tag == 0 || req->gen != p->gen)
		return;   /* a connection since replaced: delivered again */
	for (size_t i = 0; i < p->n_unacked; i++)
		if (p->unacked[i].tag == req->tag) {
			p->unacked[i].done = true;
			return;
		}
}

/* Takes the finished deliveries off the list: *multi, the last of those
 * before the oldest still running (0: none), and into p->acks the others.
 * How many others. Called with p->mu. */
static size_t settle_take(struct rpc_pool *p, uint64_t *multi)
{
	size_t i = 0, j, n = 0, keep;

	*multi = 0;
	while (i < p->n_unacked && p->unacked[i].done)
		*multi = p->unacked[i++].tag;
	for (j = keep = i; j < p->n_unacked; j++) {
		if (p->unacked[j].done)
			p->acks[n++] = p->unacked[j].tag;
		else
			p->unacked[keep++] = p->unacked[j];
	}
	if (i > 0 && keep > i)
		memmove(p->unacked, p->unacked + i, (keep - i) * sizeof *p->unacked);
	p->n_unacked = keep - i;
	return n;
}

/* Sends the acks settle_take took; the caller holds the reading turn (or
 * the detached connection). 0, or -1 when c failed. */
static int settle_send(struct rpc_conn *c, uint64_t multi, const uint64_t *acks,
    size_t n)
{
	if (multi != 0 && rpc_conn_ack_now(c, multi, true) == -1)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (rpc_conn_ack_now(c, acks[i], false) == -1)
			return -1;
	return 0;
}

/* Called with p->mu held; returns with it held. Acks what ran, reads once
 * (and what came with it); 1 with a request in the slot and the turn held
 * by slot `me`. */
static int take_turn(struct rpc_pool *p, struct slot *sl, int me)
{
	struct rpc_conn *c = p->c;
	size_t tail = (p->ready_head + p->ready_n) % READ_AHEAD;
	size_t room = READ_AHEAD - p->ready_n, n;
	uint64_t multi;
	bool broken;
	int r = -1, k = 0;

	p->reading = true;
	n = settle_take(p, &multi);
	pthread_mutex_unlock(&p->mu);
	/* p->acks is the reader's until it gives the turn back. */
	broken = settle_send(c, multi, p->acks, n) == -1;
	if (!broken)
		r = rpc_server_read(p->s, c, READ_TICK_MS, &sl->req);
	if (r == 1 && read_ahead(p, c, tail, room, &k) == -1)
		broken = true;
	broken = broken || r == -1;
	pthread_mutex_lock(&p->mu);
	if (r == 1)
		track(p, &sl->req);
	for (int i = 0; i < k; i++)
		track(p, &p->ready[(tail + (size_t)i) % READ_AHEAD]);
	p->ready_n += (size_t)k;
	p->reading = false;
	p->last_read_ms = now_ms();
	if (broken) {
		p->broken = true;
		pthread_cond_signal(&p->mgr_cv);
	} else if (p->c != c || p->stopping) {
		pthread_cond_signal(&p->mgr_cv); /* detach is waiting */
	}
	if (r == 1) {
		if (p->c == c && !p->stopping && !broken) {
			p->held = true;
			p->holder = me;
			p->held_since_ms = p->last_request_ms = p->last_read_ms;
			/* An idle worker becomes the standby (once per busy spell). */
			if (!p->standby)
				pthread_cond_signal(&p->turn_cv);
		} else if (k > 0) {
			pthread_cond_broadcast(&p->turn_cv); /* nobody reads: run them */
		}
	}
	return r;
}

/* The oldest request read ahead into sl, if any. Called with p->mu. */
static bool pop_ready(struct rpc_pool *p, struct slot *sl)
{
	if (p->ready_n == 0)
		return false;
	sl->req = p->ready[p->ready_head];
	memset(&p->ready[p->ready_head], 0, sizeof p->ready[0]);
	p->ready_head = (p->ready_head + 1) % READ_AHEAD;
	p->ready_n--;
	return true;
}

/* Runs the request in sl. Called with p->mu; returns with it. */
static void run_slot(struct rpc_pool *p, struct slot *sl)
{
	sl->busy = true;
	p->running++;
	sl->next_hb_ms = sl->req.monitor_s >= 2 && sl->req.msg_id != NULL ?
	    now_ms() + (uint64_t)sl->req.monitor_s * 500 : 0;
	pthread_mutex_unlock(&p->mu);
	rpc_dispatch(p->s, &sl->req);
	pthread_mutex_lock(&p->mu);
	finished(p, &sl->req);
	sl->busy = false;
	p->running--;
	pthread_cond_broadcast(&p->idle_cv);
	pthread_mutex_unlock(&p->mu);
	rpc_request_clear(&sl->req); /* not busy: the monitor no longer reads it */
	pthread_mutex_lock(&p->mu);
}

static bool turn_free(const struct rpc_pool *p)
{
	return p->c != NULL && !p->broken && !p->reading && !p->held &&
	    !p->draining;
}

/* The standby: called with p->mu while a request runs with the turn held
 * and nobody watches. Returns true when it should run a request read
 * ahead (the holder's request ran HANDOFF_MS); false when the turn is
 * free (taken over from such a request, or given up), after
 * STANDBY_IDLE_MS without a request, or on stop. */
static bool standby_watch(struct rpc_pool *p)
{
	bool run = false;

	p->standby = true;
	while (!p->stopping && p->c != NULL && !p->broken) {
		uint64_t now = now_ms();
		if (p->held && now >= p->held_since_ms + HANDOFF_MS) {
			if ((run = p->ready_n > 0))
				break;
			p->held = false; /* take over; the holder follows when done */
		}
		if (turn_free(p) || (!p->held && now >= p->last_request_ms + STANDBY_IDLE_MS))
			break;
		rpc_cond_wait_until(&p->standby_cv, &p->mu,
		    (p->held ? p->held_since_ms : now) + HANDOFF_MS);
	}
	p->standby = false;
	return run;
}

static void *worker_main(void *arg)
{
	struct worker_arg *wa = arg;
	struct rpc_pool *p = wa->p;
	int me = wa->i;
	struct slot *sl = &p->slots[me];

	free(wa);
	pthread_mutex_lock(&p->mu);
	while (!p->stopping) {
		if (p->held && p->holder == me) {
			/* What was read with my request runs next; then I read on. */
			if (pop_ready(p, sl)) {
				p->held_since_ms = now_ms();
				run_slot(p, sl);
				continue;
			}
			p->held = false;
		}
		if (!p->held && pop_ready(p, sl)) { /* nobody reads (detached) */
			run_slot(p, sl);
			continue;
		}
		if (!turn_free(p)) {
			if (p->held && !p->standby && p->c != NULL && !p->broken) {
				if (standby_watch(p) && pop_ready(p, sl)) {
					pthread_cond_signal(&p->turn_cv); /* someone else watches */
					run_slot(p, sl);
				}
			} else {
				pthread_cond_wait(&p->turn_cv, &p->mu);
			}
			continue;
		}
		if (take_turn(p, sl, me) == 1)
			run_slot(p, sl);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

struct rpc_pool *rpc_pool_new(struct rpc_server *s, int workers)
{
	struct rpc_pool *p = calloc(1, sizeof *p);

	if (p == NULL)
		return NULL;
	p->s = s;
	p->thr = calloc((size_t)workers, sizeof *p->thr);
	p->slots = calloc((size_t)workers, sizeof *p->slots);
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->turn_cv, NULL);
	rpc_cond_init(&p->standby_cv);
	rpc_cond_init(&p->mgr_cv);
	rpc_cond_init(&p->idle_cv);
	if (p->thr == NULL || p->slots == NULL)
		goto fail;
	for (p->n = 0; p->n < workers; p->n++) {
		struct worker_arg *wa = malloc(sizeof *wa);
		if (wa == NULL)
			goto fail;
		wa->p = p;
		wa->i = p->n;
		if (thread_start(&p->thr[p->n], worker_main, wa) == -1) {
			free(wa);
			goto fail;
		}
	}
	return p;
fail:
	rpc_pool_free(p);
	return NULL;
}

void rpc_pool_attach(struct rpc_pool *p, struct rpc_conn *c)
{
	pthread_mutex_lock(&p->mu);
	p->c = c;
	p->broken = false;
	p->gen++;              /* the old connection's tags mean nothing here */
	p->n_unacked = 0;
	p->last_read_ms = now_ms();
	pthread_cond_signal(&p->turn_cv);
	pthread_mutex_unlock(&p->mu);
}

bool rpc_pool_wait_broken(struct rpc_pool *p, int ms)
{
	bool broken;

	pthread_mutex_lock(&p->mu);
	if (!p->broken)
		rpc_cond_wait_until(&p->mgr_cv, &p->mu, now_ms() + (uint64_t)ms);
	broken = p->broken;
	pthread_mutex_unlock(&p->mu);
	return broken;
}

struct rpc_conn *rpc_pool_detach(struct rpc_pool *p)
{
	struct rpc_conn *c;

	pthread_mutex_lock(&p->mu);
	c = p->c;
	p->c = NULL;
	p->held = false;
	pthread_cond_broadcast(&p->standby_cv);
	while (p->reading)
		pthread_cond_wait(&p->mgr_cv, &p->mu);
	p->broken = false;
	pthread_mutex_unlock(&p->mu);
	return c;
}

void rpc_pool_settle(struct rpc_pool *p, struct rpc_conn *c)
{
	uint64_t multi;
	size_t n;

	pthread_mutex_lock(&p->mu);
	/* Detached: nobody reads, p->acks is free. */
	n = settle_take(p, &multi);
	if (settle_send(c, multi, p->acks, n) == -1)
		log_warnx("rpc: acks not sent at stop: those messages are "
		    "delivered again");
	pthread_mutex_unlock(&p->mu);
}

unsigned rpc_pool_prefetch(const struct rpc_pool *p)
{
	return (unsigned)p->n + READ_AHEAD;
}

void rpc_pool_heartbeat(struct rpc_pool *p)
{
	pthread_mutex_lock(&p->mu);
	if (p->c != NULL && !p->reading && !p->broken &&
	    now_ms() - p->last_read_ms >= HEARTBEAT_IDLE_MS) {
		if (rpc_conn_send_heartbeat(p->c) == -1)
			p->broken = true;
		p->last_read_ms = now_ms();
	}
	pthread_mutex_unlock(&p->mu);
}

int rpc_pool_drain(struct rpc_pool *p, int grace_ms)
{
	uint64_t deadline = now_ms() + (uint64_t)(grace_ms > 0 ? grace_ms : 0);
	int left;

	if (p == NULL)
		return 0;
	pthread_mutex_lock(&p->mu);
	p->draining = true;
	while ((p->running > 0 || p->ready_n > 0) &&
	    rpc_cond_wait_until(&p->idle_cv, &p->mu, deadline))
		;
	p->stopping = true;
	left = p->running + (int)p->ready_n;
	pthread_cond_broadcast(&p->turn_cv);
	pthread_cond_broadcast(&p->standby_cv);
	pthread_mutex_unlock(&p->mu);
	return left;
}

void rpc_pool_free(struct rpc_pool *p)
{
	if (p == NULL)
		return;
	rpc_pool_drain(p, 0);
	for (int i = 0; i < p->n; i++)
		pthread_join(p->thr[i], NULL);
	if (p->ready_n > 0)
		log_warnx("rpc: %zu requests read but not run at stop", p->ready_n);
	while (p->ready_n > 0) {
		rpc_request_clear(&p->ready[p->ready_head]);
		p->ready_head = (p->ready_head + 1) % READ_AHEAD;
		p->ready_n--;
	}
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->turn_cv);
	pthread_cond_destroy(&p->standby_cv);
	pthread_cond_destroy(&p->mgr_cv);
	pthread_cond_destroy(&p->idle_cv);
	free(p->thr);
	free(p->slots);
	free(p->unacked);
	free(p->acks);
	free(p);
}

void rpc_pool_monitor(struct rpc_pool *p)
{
	struct beat {
		char msg_id[64];
		char reply_q[RPC_NAME_MAX];
	} *beats = NULL;
	size_t n = 0;
	uint64_t now = now_ms();

	pthread_mutex_lock(&p->mu);
	for (int i = 0; i < p->n; i++) {
		struct slot *sl = &p->slots[i];
		if (!sl->busy || sl->next_hb_ms == 0 || now < sl->next_hb_ms)
			continue;
		if (beats == NULL && (beats = calloc((size_t)p->n, sizeof *beats)) == NULL)
			break;
		str_copy(beats[n].msg_id, sl->req.msg_id, sizeof beats[n].msg_id);
		str_copy(beats[n].reply_q, sl->req.reply_q, sizeof beats[n].reply_q);
		n++;
		sl->next_hb_ms = now + (uint64_t)sl->req.monitor_s * 500;
	}
	pthread_mutex_unlock(&p->mu);
	for (size_t i = 0; i < n; i++)
		rpc_send_reply(p->s, beats[i].msg_id, beats[i].reply_q, NULL, NULL, false);
	free(beats);
}

/* ---- dispatch ------------------------------------------------------------ */

/* Same major, requested minor <= ours (oslo version_is_compatible). */
static bool version_ok(const char *ours, const char *theirs)
{
	unsigned om = 0, on = 0, tm = 1, tn = 0;

	if (ours == NULL)
		return true;
	if (theirs == NULL)
		theirs = "1.0";
	if (sscanf(ours, "%u.%u", &om, &on) < 1 || sscanf(theirs, "%u.%u", &tm, &tn) < 1)
		return false;
	return om == tm && tn <= on;
}

static bool same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static const struct rpc_method *find(const struct rpc_server_conf *conf, const char *name)
{
	for (size_t i = 0; i < conf->n_methods; i++)
		if (strcmp(conf->methods[i].name, name) == 0)
			return &conf->methods[i];
	return NULL;
}

/* Runs the request; 0 with *result, or -1 with err. */
static int run(struct rpc_server *s, struct rpc_request *req, json_t **result,
    struct rpc_error *err)
{
	const struct rpc_server_conf *conf = rpc_server_conf_of(s);
	const struct rpc_method *m;
	const char *why;

	if (req->invalid != NULL) {
		*err = *req->invalid;
		return -1;
	}
	if (!same(conf->namespace, req->namespace) || !version_ok(conf->version, req->version)) {
		rpc_error_set(err, "UnsupportedVersion", "oslo_messaging.rpc.dispatcher",
		    "Endpoint does not support RPC version %s. Attempted method: %s",
		    req->version ? req->version : "1.0", req->method);
		log_warnx("rpc: %s: %s", conf->topic, err->message);
		return -1;
	}
	m = find(conf, req->method);
	if (m == NULL) {
		rpc_error_set(err, "NoSuchMethod", "oslo_messaging.rpc.dispatcher",
		    "Endpoint does not support RPC method %s", req->method);
		log_warnx("rpc: %s: %s", conf->topic, err->message);
		return -1;
	}
	if (conf->refuse != NULL && (why = conf->refuse(&req->ctx)) != NULL) {
		rpc_error_set(err, "NotAuthorized", NULL, "%s.%s refused: a "
		    "request from bus user %s: %s", conf->topic, req->method,
		    req->ctx.bus_user[0] ? req->ctx.bus_user : "(none)", why);
		log_warnx("rpc: %s%s", err->message, req->msg_id ? "" : " (dropped)");
		return -1;
	}
	if (m->fn(conf->arg, &req->ctx, req->args, result, err) == 0)
		return 0;
	json_decref(*result);
	*result = NULL;
	if (err->cls[0] == '\0')
		rpc_error_set(err, "Exception", "builtins", "%s failed", req->method);
	err->kind = RPC_ERR_REMOTE;
	log_info("rpc: %s.%s failed: %s: %s", conf->topic, req->method, err->cls, err->message);
	return -1;
}

void rpc_dispatch(struct rpc_server *s, struct rpc_request *req)
{
	struct rpc_error err;
	json_t *result = NULL;
	int rc;

	memset(&err, 0, sizeof err);
	log_set_reqid(req->ctx.request_id[0] ? req->ctx.request_id : NULL);
	rc = run(s, req, &result, &err);
	if (req->msg_id != NULL)
		rpc_send_reply(s, req->msg_id, req->reply_q, rc == 0 ? result : NULL,
		    rc == 0 ? NULL : &err, true);
	else
		json_decref(result);
	log_set_reqid(NULL);
}

void rpc_send_reply(struct rpc_server *s, const char *msg_id,
    const char *reply_q, json_t *result, const struct rpc_error *failure,
    bool ending)
{
	struct rpc_transport *t = rpc_server_transport(s);
	char unique[UUID_HEX_LEN];
	enum rpc_pub_status st;
	json_t *msg;
	size_t len;
	char *body;

	rpc_id_new(unique);
	msg = rpc_reply_encode(msg_id, unique, result, failure, ending);
	body = msg ? rpc_envelope_encode(msg, &len) : NULL;
	json_decref(msg);
	if (body == NULL) {
		log_warnx("rpc: cannot encode the reply to %s", msg_id);
		return;
	}
	st = rpc_publish_unconfirmed(t, "", NULL, reply_q, true, NULL, body, len,
	    now_ms() + (uint64_t)rpc_transport_timeout_ms(t));
	if (st != RPC_PUB_OK)
		log_warnx("rpc: reply to %s not sent: broker unreachable", msg_id);
	free(body);
}
