/*
 * The outbox: rpc_cast hands its message to the transport's publisher
 * thread and returns. The thread owns one confirm-mode connection and
 * publishes without waiting for each confirm (the broker's acks arrive in
 * batches, `multiple`); it keeps every message until the broker has
 * confirmed it. After a basic.nack or a lost connection it reconnects
 * (with the transport's backoff) and publishes every unconfirmed message
 * again, oldest first, with the same body, so a receiver drops a copy that
 * did arrive by its _unique_id. Messages therefore leave in the order they
 * were put, and none is dropped without a log line.
 *
 * Casts to a topic are mandatory: one the broker cannot route (its queue
 * is not there: the receiving daemon has not declared it again after a
 * broker restart, or has never run) comes back (basic.return, matched to
 * the message by its body, which _unique_id makes unique) and is kept and
 * sent again, after 1 s and then every 5 s, until a queue takes it or
 * OUTBOX_GIVE_UP_MS pass (then it is dropped, logged). A message sent
 * again may overtake later ones to the same queue. Fanout casts are not
 * mandatory: a fanout with no listener is no one's loss.
 *
 * Bounded: at most OUTBOX_MAX_MSGS messages or OUTBOX_MAX_BYTES bytes wait
 * (one bigger message when alone); a full outbox makes rpc_cast wait.
 *
 * Locking: o->mu guards the list links, the counters and `sleeping`.
 * A message's tag and acked flag belong to the publisher thread alone.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/common.h"
#include "common/rpc/rpc_internal.h"

#define OUTBOX_MAX_MSGS 4096
#define OUTBOX_MAX_BYTES (64u << 20)
#define OUTBOX_OPEN_SLICE_MS 1000 /* re-check stop while connecting */
#define OUTBOX_BATCH_MSGS 256      /* published in one write, at most */
#define OUTBOX_BATCH_BYTES (256u << 10)
#define OUTBOX_RETRY_FIRST_MS 1000   /* a returned cast is sent again after */
#define OUTBOX_RETRY_MS 5000         /* ... and then every */
#define OUTBOX_GIVE_UP_MS (30 * 60 * 1000)
#define OUTBOX_RETURN_LOG_MS 10000   /* returns are logged at most this often */

struct omsg {
	struct omsg *next;
	uint64_t seq;        /* put order: flush waits for a seq */
	uint64_t tag;        /* delivery tag on the current connection, 0 = none */
	bool acked;
	bool fanout;
	bool returned;       /* came back unroutable; its ack is due */
	uint64_t retry_ms;   /* waits to be sent again at this time; 0 = not */
	uint64_t first_return_ms;
	char *key;           /* points into name */
	size_t len;
	char *body;          /* owned */
	char name[];         /* exchange NUL key NUL */
};

struct rpc_outbox {
	struct rpc_transport *t;
	pthread_mutex_t mu;
	pthread_cond_t room_cv;   /* a full outbox has room again, or stop */
	pthread_cond_t done_cv;   /* messages confirmed (flush), or stop */
	int full_waiters, flush_waiters;
	int efd;                  /* wakes the publisher from poll */
	pthread_t thr;
	volatile bool stop;
	bool sleeping;            /* the publisher polls; a put must wake it */
	struct omsg *head, *tail; /* oldest first */
	struct omsg *unsent;      /* first message to publish, NULL when none */
	size_t n, bytes;
	uint64_t n_put;           /* the last seq given */
	size_t n_retry;           /* messages before unsent waiting to go again */
	uint64_t next_retry_ms;   /* the earliest of their retry_ms */
	size_t returns_unlogged;  /* returns since the last log line */
	uint64_t returns_logged_ms;
};

static void *outbox_main(void *arg);

struct rpc_outbox *rpc_outbox_new(struct rpc_transport *t)
{
	struct rpc_outbox *o = calloc(1, sizeof *o);

	if (o == NULL)
		return NULL;
	o->t = t;
	o->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (o->efd == -1) {
		log_warn("rpc: eventfd");
		free(o);
		return NULL;
	}
	pthread_mutex_init(&o->mu, NULL);
	rpc_cond_init(&o->room_cv);
	rpc_cond_init(&o->done_cv);
	if (thread_start(&o->thr, outbox_main, o) == -1) {
		close(o->efd);
		pthread_mutex_destroy(&o->mu);
		pthread_cond_destroy(&o->room_cv);
		pthread_cond_destroy(&o->done_cv);
		free(o);
		return NULL;
	}
	return o;
}

static void wake(struct rpc_outbox *o)
{
	uint64_t one = 1;

	if (write(o->efd, &one, sizeof one) == -1 && errno != EAGAIN)
		log_warn("rpc: outbox wake-up");
}

int rpc_outbox_put(struct rpc_outbox *o, const char *exchange, bool fanout,
    const char *key, char *body, size_t len, uint64_t deadline_ms)
{
	size_t el = strlen(exchange), kl = strlen(key);
	struct omsg *m = malloc(sizeof *m + el + kl + 2);
	bool poke = false;

	if (m == NULL) {
		free(body);
		return -1;
	}
	memset(m, 0, sizeof *m);
	memcpy(m->name, exchange, el + 1);
	m->key = m->name + el + 1;
	memcpy(m->key, key, kl + 1);
	m->fanout = fanout;
	m->body = body;
	m->len = len;
	pthread_mutex_lock(&o->mu);
	o->full_waiters++;
	while (!o->stop && o->n > 0 &&
	    (o->n >= OUTBOX_MAX_MSGS || o->bytes + len > OUTBOX_MAX_BYTES) &&
	    rpc_cond_wait_until(&o->room_cv, &o->mu, deadline_ms))
		;
	o->full_waiters--;
	if (o->stop || (o->n > 0 &&
	    (o->n >= OUTBOX_MAX_MSGS || o->bytes + len > OUTBOX_MAX_BYTES))) {
		pthread_mutex_unlock(&o->mu);
		free(body);
		free(m);
		return -1;
	}
	if (o->tail != NULL)
		o->tail->next = m;
	else
		o->head = m;
	o->tail = m;
	if (o->unsent == NULL)
		o->unsent = m;
	o->n++;
	o->bytes += len;
	m->seq = ++o->n_put;
	if (o->sleeping) {
		o->sleeping = false;
		poke = true;
	}
	pthread_mutex_unlock(&o->mu);
	if (poke)
		wake(o);
	return 0;
}

/* The head is the oldest message not yet confirmed. Called with o->mu. */
static bool done_up_to(const struct rpc_outbox *o, uint64_t seq)
{
	return o->head == NULL || o->head->seq > seq;
}

int rpc_outbox_flush(struct rpc_outbox *o, uint64_t deadline_ms, size_t *left)
{
	uint64_t target;

	pthread_mutex_lock(&o->mu);
	target = o->n_put;
	o->flush_waiters++;
	while (!done_up_to(o, target) && !o->stop &&
	    rpc_cond_wait_until(&o->done_cv, &o->mu, deadline_ms))
		;
	o->flush_waiters--;
	*left = 0;
	for (const struct omsg *m = o->head; m != NULL && m->seq <= target; m = m->next)
		(*left)++;
	pthread_mutex_unlock(&o->mu);
	return *left == 0 ? 0 : -1;
}

void rpc_outbox_free(struct rpc_outbox *o)
{
	struct omsg *m;

	if (o == NULL)
		return;
	pthread_mutex_lock(&o->mu);
	o->stop = true;
	pthread_cond_broadcast(&o->room_cv);
	pthread_cond_broadcast(&o->done_cv);
	pthread_mutex_unlock(&o->mu);
	wake(o);
	pthread_join(o->thr, NULL);
	if (o->n > 0)
		log_warnx("rpc: %zu casts dropped: the broker has not confirmed them", o->n);
	while ((m = o->head) != NULL) {
		o->head = m->next;
		free(m->body);
		free(m);
	}
	close(o->efd);
	pthread_mutex_destroy(&o->mu);
	pthread_cond_destroy(&o->room_cv);
	pthread_cond_destroy(&o->done_cv);
	free(o);
}

/* ---- the publisher thread ------------------------------------------------ */

/* Frees the confirmed messages (all are before unsent; one waiting to be
 * sent again does not hold up those after it). Called with o->mu. */
static void reap(struct rpc_outbox *o)
{
	struct omsg **pp = &o->head, *m, *prev = NULL;
	bool any = false;

	while ((m = *pp) != NULL && m != o->unsent) {
		if (!m->acked) {
			prev = m;
			pp = &m->next;
			continue;
		}
		*pp = m->next;
		if (o->tail == m)
			o->tail = prev;
		o->n--;
		o->bytes -= m->len;
		free(m->body);
		free(m);
		any = true;
	}
	if (any && o->flush_waiters > 0)
		pthread_cond_broadcast(&o->done_cv);
	/* Casters wait for a quarter of the room, not for each message
	 * (one wake-up per confirm would make them take turns one by one). */
	if (any && o->full_waiters > 0 && o->n <= OUTBOX_MAX_MSGS / 4 * 3 &&
	    o->bytes <= OUTBOX_MAX_BYTES / 4 * 3)
		pthread_cond_broadcast(&o->room_cv);
}

/* The connection is gone or refused a message: every unconfirmed message
 * is published again on the next one (those waiting to be sent again
 * too, at once). Called with o->mu. */
static void drop_conn(struct rpc_outbox *o, struct rpc_conn **c)
{
	size_t again = 0;

	for (struct omsg *m = o->head; m != NULL && m != o->unsent; m = m->next) {
		if (!m->acked)
			again++;
		m->tag = 0;
		m->returned = false;
		m->retry_ms = 0;
	}
	o->n_retry = 0;
	o->unsent = o->head;
	pthread_mutex_unlock(&o->mu);
	if (again > 0)
		log_warnx("rpc: %zu unconfirmed casts will be published again", again);
	rpc_conn_free(*c, false);
	*c = NULL;
	pthread_mutex_lock(&o->mu);
}

/* A message the broker confirmed after returning it: kept, to be sent
 * again, or dropped once it has come back for OUTBOX_GIVE_UP_MS. Called
 * with o->mu. */
static void returned_confirmed(struct rpc_outbox *o, struct omsg *m, uint64_t now)
{
	m->returned = false;
	m->tag = 0;
	if (now - m->first_return_ms >= OUTBOX_GIVE_UP_MS) {
		log_warnx("rpc: cast to %s/%s dropped: no queue took it in %d s",
		    m->name, m->key, OUTBOX_GIVE_UP_MS / 1000);
		m->acked = true;
		return;
	}
	m->retry_ms = now + (m->first_return_ms + OUTBOX_RETRY_FIRST_MS > now ?
	    OUTBOX_RETRY_FIRST_MS : OUTBOX_RETRY_MS);
	if (o->n_retry++ == 0 || m->retry_ms < o->next_retry_ms)
		o->next_retry_ms = m->retry_ms;
}

/* Marks what one ack or nack covers. Returns false on a nack. */
static bool confirm(struct rpc_outbox *o, uint64_t tag, bool multiple, bool nack)
{
	uint64_t now = now_ms();

	pthread_mutex_lock(&o->mu);
	/* Tags do not rise along the list (a message sent again has a later
	 * tag than those after it): the whole published part is walked. */
	for (struct omsg *m = o->head; m != NULL && m != o->unsent; m = m->next) {
		if (m->tag == 0 || m->acked || m->tag > tag ||
		    (m->tag != tag && !multiple))
			continue;
		if (nack) {
			pthread_mutex_unlock(&o->mu);
			log_warnx("rpc: the broker refused a cast (basic.nack)");
			return false;
		}
		if (m->returned)
			returned_confirmed(o, m, now);
		else
			m->acked = true;
	}
	reap(o);
	pthread_mutex_unlock(&o->mu);
	return true;
}

/* A basic.return: the published message with this body waits for its ack
 * to be kept for later. */
static void came_back(struct rpc_outbox *o, const void *body, size_t len)
{
	struct omsg *hit = NULL;
	uint64_t now = now_ms();
	size_t n = 0;

	pthread_mutex_lock(&o->mu);
	for (struct omsg *m = o->head; m != NULL && m != o->unsent; m = m->next)
		if (m->tag != 0 && !m->acked && !m->returned && m->len == len &&
		    memcmp(m->body, body, len) == 0) {
			hit = m;
			break;
		}
	if (hit != NULL) {
		hit->returned = true;
		if (hit->first_return_ms == 0)
			hit->first_return_ms = now;
		o->returns_unlogged++;
		if (now - o->returns_logged_ms >= OUTBOX_RETURN_LOG_MS) {
			n = o->returns_unlogged;
			o->returns_unlogged = 0;
			o->returns_logged_ms = now;
			log_warnx("rpc: %zu cast(s) came back unroutable (the last "
			    "to %s/%s: no queue bound, its consumer not back yet): "
			    "kept and sent again", n, hit->name, hit->key);
		}
	}
	pthread_mutex_unlock(&o->mu);
	if (hit == NULL)
		log_warnx("rpc: a returned cast matches no message in the outbox");
}

/* Sends again the returned messages whose time has come, in one write.
 * 0, or -1 when the connection failed. */
static int publish_due(struct rpc_outbox *o, struct rpc_conn *c)
{
	struct omsg *due[OUTBOX_BATCH_MSGS];
	uint64_t now = now_ms(), next = 0;
	size_t n = 0;

	pthread_mutex_lock(&o->mu);
	for (struct omsg *m = o->head; m != NULL && m != o->unsent; m = m->next) {
		if (m->retry_ms == 0)
			continue;
		if (m->retry_ms <= now && n < OUTBOX_BATCH_MSGS) {
			due[n++] = m;
			m->retry_ms = 0;
			o->n_retry--;
		} else if (next == 0 || m->retry_ms < next) {
			next = m->retry_ms;
		}
	}
	o->next_retry_ms = next;
	pthread_mutex_unlock(&o->mu);
	for (size_t i = 0; i < n; i++) {
		if (rpc_conn_declare_exchange(c, due[i]->name, "topic") == -1 ||
		    rpc_conn_queue(c, due[i]->name, due[i]->key, true, due[i]->body,
		    due[i]->len) == -1)
			return -1;
		due[i]->tag = c->last_tag;
	}
	return n > 0 ? rpc_conn_write(c) : 0;
}

/* Publishes first..last on c in one write (what a confirm before a
 * reconnect covered is not sent again). 0, or -1 when the connection
 * failed. */
static int publish(struct rpc_conn *c, struct omsg *first, const struct omsg *last)
{
	for (struct omsg *m = first;; m = m->next) {
		if (!m->acked) {
			if (rpc_conn_declare_exchange(c, m->name,
			    m->fanout ? "fanout" : "topic") == -1 ||
			    rpc_conn_queue(c, m->name, m->key, !m->fanout, m->body,
			    m->len) == -1)
				return -1;
			m->tag = c->last_tag;
		}
		if (m == last)
			break;
	}
	return rpc_conn_write(c);
}

/* Reads the confirms that are there, waiting up to timeout_ms for the
 * first one. -1 when the connection failed or refused a message. */
static int read_confirms(struct rpc_outbox *o, struct rpc_conn *c, int timeout_ms)
{
	struct rpc_delivery ret;
	uint64_t tag;
	bool multiple, nack;
	int r;

	while ((r = rpc_conn_next_confirm(c, timeout_ms, &tag, &multiple, &nack,
	    &ret)) >= 1) {
		if (r == 2) {
			came_back(o, ret.body, ret.body != NULL ? ret.len : 0);
			free(ret.body);
		} else if (!confirm(o, tag, multiple, nack)) {
			return -1;
		}
		if (!rpc_conn_buffered(c))
			break;
		timeout_ms = 0;
	}
	return r == -1 ? -1 : 0;
}

/* Sleeps until a put, the socket has input, or timeout_ms. Called with
 * o->mu and `sleeping` set; returns with o->mu. */
static void sleep_until_work(struct rpc_outbox *o, struct rpc_conn *c, int timeout_ms)
{
	struct pollfd pf[2] = { { .fd = o->efd, .events = POLLIN },
		{ .fd = c != NULL ? rpc_conn_fd(c) : -1, .events = POLLIN } };
	uint64_t v;

	pthread_mutex_unlock(&o->mu);
	if (c == NULL || !rpc_conn_buffered(c))
		poll(pf, 2, timeout_ms);
	if (read(o->efd, &v, sizeof v) == -1 && errno != EAGAIN)
		log_warn("rpc: outbox wake-up");
	pthread_mutex_lock(&o->mu);
	o->sleeping = false;
}

/* How long the publisher may sleep: tick, or less when a returned message
 * is due sooner. Called with o->mu. */
static int retry_wait(const struct rpc_outbox *o, int tick)
{
	uint64_t now = now_ms();

	if (o->n_retry == 0)
		return tick;
	if (o->next_retry_ms <= now)
		return 0;
	return o->next_retry_ms - now < (uint64_t)tick ?
	    (int)(o->next_retry_ms - now) : tick;
}

static void *outbox_main(void *arg)
{
	struct rpc_outbox *o = arg;
	struct rpc_conn *c = NULL;
	int tick = rpc_transport_heartbeat_s(o->t) > 0 ?
	    rpc_transport_heartbeat_s(o->t) * 250 : 1000;

	pthread_mutex_lock(&o->mu);
	while (!o->stop) {
		struct omsg *m = o->unsent;
		if (m != NULL && c == NULL) {
			pthread_mutex_unlock(&o->mu);
			c = rpc_conn_open(o->t, true, now_ms() + OUTBOX_OPEN_SLICE_MS, &o->stop);
			pthread_mutex_lock(&o->mu);
			continue;
		}
		if (m != NULL) {
			/* What waits goes out together (fewer writes for us,
			 * fewer reads for the broker), a bounded batch at a
			 * time so that confirms keep flowing. */
			struct omsg *last = m;
			size_t n = 1, bytes = m->len;
			while (last->next != NULL && n < OUTBOX_BATCH_MSGS &&
			    bytes < OUTBOX_BATCH_BYTES) {
				last = last->next;
				n++;
				bytes += last->len;
			}
			o->unsent = last->next;
			pthread_mutex_unlock(&o->mu);
			if (publish(c, m, last) == -1 ||
			    (rpc_conn_buffered(c) && read_confirms(o, c, 0) == -1)) {
				pthread_mutex_lock(&o->mu);
				drop_conn(o, &c);
				continue;
			}
			pthread_mutex_lock(&o->mu);
			continue;
		}
		if (c != NULL && o->n_retry > 0 && now_ms() >= o->next_retry_ms) {
			pthread_mutex_unlock(&o->mu);
			if (publish_due(o, c) == -1) {
				pthread_mutex_lock(&o->mu);
				drop_conn(o, &c);
				continue;
			}
			pthread_mutex_lock(&o->mu);
		}
		o->sleeping = true;
		sleep_until_work(o, c, retry_wait(o, tick));
		if (c == NULL)
			continue;
		pthread_mutex_unlock(&o->mu);
		/* Reading with no data pending also services heartbeats. */
		if (read_confirms(o, c, 0) == -1) {
			pthread_mutex_lock(&o->mu);
			drop_conn(o, &c);
			continue;
		}
		pthread_mutex_lock(&o->mu);
	}
	pthread_mutex_unlock(&o->mu);
	rpc_conn_free(c, true);
	return NULL;
}
