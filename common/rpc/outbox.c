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

struct omsg {
	struct omsg *next;
	uint64_t tag;        /* delivery tag on the current connection, 0 = none */
	bool acked;
	bool fanout;
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
	uint64_t n_put, n_done;   /* for flush: done counts from the head */
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
	o->n_put++;
	if (o->sleeping) {
		o->sleeping = false;
		poke = true;
	}
	pthread_mutex_unlock(&o->mu);
	if (poke)
		wake(o);
	return 0;
}

int rpc_outbox_flush(struct rpc_outbox *o, uint64_t deadline_ms, size_t *left)
{
	uint64_t target;

	pthread_mutex_lock(&o->mu);
	target = o->n_put;
	o->flush_waiters++;
	while (o->n_done < target && !o->stop &&
	    rpc_cond_wait_until(&o->done_cv, &o->mu, deadline_ms))
		;
	o->flush_waiters--;
	*left = o->n_done < target ? (size_t)(target - o->n_done) : 0;
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

/* Frees the confirmed messages at the head. Called with o->mu. */
static void reap(struct rpc_outbox *o)
{
	struct omsg *m;
	bool any = false;

	while ((m = o->head) != NULL && m->acked) {
		o->head = m->next;
		if (o->head == NULL)
			o->tail = NULL;
		if (o->unsent == m)
			o->unsent = m->next;
		o->n--;
		o->bytes -= m->len;
		o->n_done++;
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
 * is published again on the next one. Called with o->mu. */
static void drop_conn(struct rpc_outbox *o, struct rpc_conn **c)
{
	size_t again = 0;

	for (struct omsg *m = o->head; m != NULL && m != o->unsent; m = m->next) {
		if (!m->acked)
			again++;
		m->tag = 0;
	}
	o->unsent = o->head;
	pthread_mutex_unlock(&o->mu);
	if (again > 0)
		log_warnx("rpc: %zu unconfirmed casts will be published again", again);
	rpc_conn_free(*c, false);
	*c = NULL;
	pthread_mutex_lock(&o->mu);
}

/* Marks what one ack or nack covers. Returns false on a nack. */
static bool confirm(struct rpc_outbox *o, uint64_t tag, bool multiple, bool nack)
{
	pthread_mutex_lock(&o->mu);
	/* Tags rise along the list (a message confirmed before a reconnect
	 * keeps tag 0), so the walk ends at the first later tag. */
	for (struct omsg *m = o->head; m != NULL && m != o->unsent; m = m->next) {
		if (m->tag > tag)
			break;
		if (m->tag == 0)
			continue;
		if (m->tag == tag || multiple) {
			if (nack) {
				pthread_mutex_unlock(&o->mu);
				log_warnx("rpc: the broker refused a cast (basic.nack)");
				return false;
			}
			m->acked = true;
		}
	}
	reap(o);
	pthread_mutex_unlock(&o->mu);
	return true;
}

/* Publishes first..last on c in one write (what a confirm before a
 * reconnect covered is not sent again). 0, or -1 when the connection
 * failed. */
static int publish(struct rpc_conn *c, struct omsg *first, const struct omsg *last)
{
	for (struct omsg *m = first;; m = m->next) {
		if (!m->acked) {
			if (rpc_conn_declare_exchange(c, m->name, m->fanout ? "fanout" : "topic",
			    m->fanout) == -1 ||
			    rpc_conn_queue(c, m->name, m->key, m->body, m->len) == -1)
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
	uint64_t tag;
	bool multiple, nack;
	int r;

	while ((r = rpc_conn_next_confirm(c, timeout_ms, &tag, &multiple, &nack)) == 1) {
		if (!confirm(o, tag, multiple, nack))
			return -1;
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
		o->sleeping = true;
		sleep_until_work(o, c, tick);
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
