/*
 * Deferred work: what would hold a libmicrohttpd worker for long runs on a
 * pool of threads of its own, while the worker serves its other
 * connections. Two pools:
 *
 *   slow   CPU work (a password check: bcrypt at cost 12 is ~200 ms):
 *          a thread per CPU, no more than the HTTP workers
 *   call   a call that waits on a compute host's reply (console output),
 *          up to rpc_response_timeout: threads that mostly sleep, with a
 *          bound per project and per host, so that a hung host or one
 *          busy project takes a share of the pool, never all of it
 *
 * A handler calls api_defer(r, work, finish) (or api_defer_call) and
 * returns what it returns (API_SUSPEND). server.c suspends the connection
 * and hands r to the pool; a pool thread runs work(r) and resumes the
 * connection; libmicrohttpd then calls the access handler again, which
 * runs finish(r) on its own thread for the reply. Each pool has a bounded
 * queue: a request finding it (or its key's share) full is answered at
 * once, 429 or 503.
 */
#include <microhttpd.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"

#define QUEUE_MAX 128
#define THREADS_MAX 64
#define NKEYS 2          /* a request's keys: its project, the host it calls */

/* The call pool: calls that wait on a compute host. A hung host holds a
 * request for rpc_response_timeout, so threads are many and cheap; a
 * project may have CALLS_PER_PROJECT waiting at once, a host
 * CALLS_PER_HOST: one hung host and one busy project together leave half
 * the threads to everyone else. */
#define CALL_THREADS 32
#define CALLS_PER_PROJECT 4
#define CALLS_PER_HOST 8

/* A key and the requests of the pool (queued or running) that hold it; a
 * slot with n == 0 is free. */
struct pool_key {
	char name[256];      /* a project id or a host name */
	int n;
};

struct api_pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct api_req *q[QUEUE_MAX];
	size_t head, n;         /* the queue */
	size_t taken;           /* slots promised by api_defer, queued or not */
	bool stop;
	int nthr;               /* started */
	int max_thr;            /* started on demand up to this */
	int idle;               /* waiting for work */
	pthread_t thr[THREADS_MAX];
	int per_key[NKEYS];     /* the bound of each key kind; 0 = none */
	struct pool_key keys[QUEUE_MAX * NKEYS];
};

/* With p->mu held. */
static void keys_put(struct api_pool *p, struct api_req *r)
{
	for (int k = 0; k < NKEYS; k++)
		if (r->defer_key[k] > 0)
			p->keys[r->defer_key[k] - 1].n--;
	memset(r->defer_key, 0, sizeof r->defer_key);
}

static void *pool_main(void *arg)
{
	struct api_pool *p = arg;
	struct api_req *r;
	bool cancel;

	for (;;) {
		pthread_mutex_lock(&p->mu);
		p->idle++;
		while (p->n == 0 && !p->stop)
			pthread_cond_wait(&p->cv, &p->mu);
		p->idle--;
		if (p->n == 0) {
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		r = p->q[p->head];
		p->head = (p->head + 1) % QUEUE_MAX;
		p->n--;
		cancel = p->stop;
		pthread_mutex_unlock(&p->mu);
		log_set_reqid(r->reqid[0] ? r->reqid : NULL);
		/* stopping: what has not begun is answered 503, not run (a
		 * queue of calls to a hung host would hold the exit for minutes) */
		if (cancel)
			r->defer_cancelled = true;
		else
			r->defer_work(r);
		r->defer_work = NULL;     /* done: server.c runs finish next */
		log_set_reqid(NULL);
		pthread_mutex_lock(&p->mu);
		p->taken--;
		keys_put(p, r);
		pthread_mutex_unlock(&p->mu);
		MHD_resume_connection(r->conn);
	}
}

static void pool_free(struct api_pool *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < p->nthr; i++)
		pthread_join(p->thr[i], NULL);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

/* One more thread, when the queue holds more than the idle ones take and
 * the pool may grow. With p->mu held. */
static void grow(struct api_pool *p)
{
	if ((size_t)p->idle >= p->n || p->nthr >= p->max_thr)
		return;
	if (thread_start(&p->thr[p->nthr], pool_main, p) < 0)
		log_warnx("cannot start a deferred-work thread");
	else
		p->nthr++;
}

/* A pool of up to max_thr threads, started as work comes: calls that wait
 * on compute hosts are rare, and 32 idle threads cost kumo-api about half
 * a megabyte of stacks and arenas. */
static struct api_pool *pool_new(int max_thr, int per_project, int per_host)
{
	struct api_pool *p = calloc(1, sizeof *p);

	if (p == NULL)
		return NULL;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->per_key[0] = per_project;
	p->per_key[1] = per_host;
	p->max_thr = max_thr < 1 ? 1 : max_thr > THREADS_MAX ? THREADS_MAX :
	    max_thr;
	return p;
}

int api_pool_start(struct api *api)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int n = cpus < 1 ? 1 : cpus > THREADS_MAX ? THREADS_MAX : (int)cpus;

	if (n > api->conf->api_workers)
		n = api->conf->api_workers;
	api->pool = pool_new(n, 0, 0);
	api->call_pool = pool_new(CALL_THREADS, CALLS_PER_PROJECT,
	    CALLS_PER_HOST);
	if (api->pool == NULL || api->call_pool == NULL) {
		api_pool_stop(api);
		return -1;
	}
	return 0;
}

/* Work already begun finishes; queued work is answered 503; then the
 * threads are joined. */
void api_pool_stop(struct api *api)
{
	pool_free(api->pool);
	pool_free(api->call_pool);
	api->pool = NULL;
	api->call_pool = NULL;
}

/* The slot of key name (kind k), taken for r: 0, or -1 when the key has
 * its bound of requests already. With p->mu held. */
static int key_take(struct api_pool *p, struct api_req *r, int k,
    const char *name)
{
	struct pool_key *e = NULL, *free_slot = NULL;

	for (size_t i = 0; i < sizeof p->keys / sizeof *p->keys; i++) {
		if (p->keys[i].n == 0) {
			if (free_slot == NULL)
				free_slot = &p->keys[i];
		} else if (strcmp(p->keys[i].name, name) == 0) {
			e = &p->keys[i];
			break;
		}
	}
	if (e == NULL) {
		if (free_slot == NULL)   /* cannot be: NKEYS slots a request */
			return -1;
		e = free_slot;
		str_copy(e->name, name, sizeof e->name);
	}
	if (e->n >= p->per_key[k])
		return -1;
	e->n++;
	r->defer_key[k] = (short)(e - p->keys) + 1;
	return 0;
}

/* Takes a slot of p for r, and a share of each key that has a bound. 0,
 * or the kind of key that is full (1 + its index), or -1 when the pool
 * is. */
static int pool_take(struct api_pool *p, struct api_req *r,
    const char *const keys[NKEYS])
{
	int rc = 0;

	pthread_mutex_lock(&p->mu);
	if (p->stop || p->taken >= QUEUE_MAX)
		rc = -1;
	for (int k = 0; rc == 0 && k < NKEYS; k++)
		if (p->per_key[k] > 0 && key_take(p, r, k, keys[k]) < 0)
			rc = k + 1;
	if (rc == 0)
		p->taken++;
	else
		keys_put(p, r);
	pthread_mutex_unlock(&p->mu);
	return rc;
}

static enum api_rc defer_to(struct api_pool *p, struct api_req *r,
    void (*work)(struct api_req *r), enum api_rc (*finish)(struct api_req *r))
{
	r->defer_pool = p;
	r->defer_work = work;
	r->defer_finish = finish;
	return API_SUSPEND;
}

enum api_rc api_defer(struct api_req *r, void (*work)(struct api_req *r),
    enum api_rc (*finish)(struct api_req *r))
{
	static const char *const none[NKEYS] = { "", "" };
	struct api_pool *p = r->api->pool;

	if (p == NULL) {       /* no pool (unit tests): at once, here */
		work(r);
		return finish(r);
	}
	if (pool_take(p, r, none) != 0) {
		api_header_add(r, "Retry-After", "1");
		return api_error(r, ERR_BUSY);
	}
	return defer_to(p, r, work, finish);
}

enum api_rc api_defer_call(struct api_req *r, const char *host,
    void (*work)(struct api_req *r), enum api_rc (*finish)(struct api_req *r))
{
	const char *keys[NKEYS] = { r->project_id[0] ? r->project_id :
		r->user_id, host };
	struct api_pool *p = r->api->call_pool;
	int rc;

	if (p == NULL) {
		work(r);
		return finish(r);
	}
	if ((rc = pool_take(p, r, keys)) == 0)
		return defer_to(p, r, work, finish);
	api_header_add(r, "Retry-After", "%d", rc == 1 ? 1 : 5);
	log_warnx("%s %s refused: %s", r->method, r->path, rc == 1 ?
	    "the project's calls to compute hosts are all waiting" :
	    "too many calls waiting on compute hosts");
	if (rc == 1)
		return api_error(r, ERR_CALLS_BUSY);
	if (rc == 2)
		return api_error(r, ERR_HOST_BUSY, host);
	return api_error(r, ERR_CALLS_FULL);
}

void api_pool_submit(struct api_req *r)
{
	struct api_pool *p = r->defer_pool;

	pthread_mutex_lock(&p->mu);
	p->q[(p->head + p->n) % QUEUE_MAX] = r;
	p->n++;
	grow(p);
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}
