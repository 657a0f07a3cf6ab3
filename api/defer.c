/*
 * Deferred work: what would hold a libmicrohttpd worker for long (a
 * password check: bcrypt at cost 12 is ~200 ms of CPU) runs on a small pool
 * of threads of its own, while the worker serves its other connections.
 *
 * A handler calls api_defer(r, work, finish) and returns what it returns
 * (API_SUSPEND). server.c suspends the connection and hands r to the pool;
 * a pool thread runs work(r) and resumes the connection; libmicrohttpd then
 * calls the access handler again, which runs finish(r) on its own thread
 * for the reply. The pool has a thread per CPU (no more than the HTTP
 * workers) and a bounded queue: a request finding it full is 429.
 */
#include <microhttpd.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "api/api.h"

#define QUEUE_MAX 128

struct api_pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct api_req *q[QUEUE_MAX];
	size_t head, n;         /* the queue */
	size_t taken;           /* slots promised by api_defer, queued or not */
	bool stop;
	int nthr;
	pthread_t thr[64];
};

static void *pool_main(void *arg)
{
	struct api_pool *p = arg;
	struct api_req *r;

	for (;;) {
		pthread_mutex_lock(&p->mu);
		while (p->n == 0 && !p->stop)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->n == 0) {
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		r = p->q[p->head];
		p->head = (p->head + 1) % QUEUE_MAX;
		p->n--;
		pthread_mutex_unlock(&p->mu);
		log_set_reqid(r->reqid[0] ? r->reqid : NULL);
		r->defer_work(r);
		r->defer_work = NULL;     /* done: server.c runs finish next */
		log_set_reqid(NULL);
		pthread_mutex_lock(&p->mu);
		p->taken--;
		pthread_mutex_unlock(&p->mu);
		MHD_resume_connection(r->conn);
	}
}

int api_pool_start(struct api *api)
{
	struct api_pool *p = calloc(1, sizeof *p);
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (p == NULL)
		return -1;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->nthr = cpus < 1 ? 1 : cpus > 64 ? 64 : (int)cpus;
	if (p->nthr > api->conf->api_workers)
		p->nthr = api->conf->api_workers;
	for (int i = 0; i < p->nthr; i++)
		if (thread_start(&p->thr[i], pool_main, p) < 0) {
			p->nthr = i;
			api->pool = p;
			api_pool_stop(api);
			return -1;
		}
	api->pool = p;
	return 0;
}

/* Lets the queued work finish (every deferred request is resumed), then
 * joins the threads. */
void api_pool_stop(struct api *api)
{
	struct api_pool *p = api->pool;

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
	api->pool = NULL;
}

enum api_rc api_defer(struct api_req *r, void (*work)(struct api_req *r),
    enum api_rc (*finish)(struct api_req *r))
{
	struct api_pool *p = r->api->pool;
	bool room;

	if (p == NULL) {       /* no pool (unit tests): at once, here */
		work(r);
		return finish(r);
	}
	pthread_mutex_lock(&p->mu);
	room = !p->stop && p->taken < QUEUE_MAX;
	if (room)
		p->taken++;
	pthread_mutex_unlock(&p->mu);
	if (!room) {
		api_header_add(r, "Retry-After", "1");
		return api_error(r, ERR_BUSY);
	}
	r->defer_work = work;
	r->defer_finish = finish;
	return API_SUSPEND;
}

void api_pool_submit(struct api *api, struct api_req *r)
{
	struct api_pool *p = api->pool;

	pthread_mutex_lock(&p->mu);
	p->q[(p->head + p->n) % QUEUE_MAX] = r;
	p->n++;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}
