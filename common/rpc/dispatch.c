/*
 * A server's worker pool and the dispatch of one request: method lookup in
 * the server's table, namespace and version checks (oslo's dispatcher),
 * the handler call with the request id set for the thread's log lines,
 * and the reply through the transport's publish pool.
 *
 * The queue between the listen thread and the workers is bounded; when it
 * is full the listen thread waits (and keeps its connection alive with
 * heartbeats) instead of reading more from the broker.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "common/rpc/rpc_internal.h"

#define REPLY_RETRY_MS 250        /* oslo: retry a returned reply every 0.25 s */
#define REPLY_GIVE_UP_MS 60000    /* kombu_missing_consumer_retry_timeout */

struct job {
	struct rpc_request req;
	uint64_t next_hb_ms;      /* next call-monitor heartbeat, 0 = none */
	struct job *next;
};

struct rpc_pool {
	struct rpc_server *s;
	pthread_mutex_t mu;
	pthread_cond_t work_cv;   /* a job was queued, or stopping */
	pthread_cond_t space_cv;  /* a job was taken */
	pthread_cond_t idle_cv;   /* nothing queued or running */
	struct job *head, *tail;
	size_t queued, cap;
	int running;
	bool stopping;
	int n;
	pthread_t *thr;
	struct job **active;      /* per worker, for the call monitor */
};

struct worker_arg {
	struct rpc_pool *p;
	int i;
};

static void *worker_main(void *arg)
{
	struct worker_arg *wa = arg;
	struct rpc_pool *p = wa->p;
	int i = wa->i;
	struct job *j;

	free(wa);
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (p->head == NULL && !p->stopping)
			pthread_cond_wait(&p->work_cv, &p->mu);
		if (p->head == NULL)
			break;
		j = p->head;
		p->head = j->next;
		if (p->head == NULL)
			p->tail = NULL;
		p->queued--;
		p->running++;
		if (j->req.monitor_s >= 2 && j->req.msg_id != NULL)
			j->next_hb_ms = now_ms() + (uint64_t)j->req.monitor_s * 500;
		p->active[i] = j;
		pthread_cond_signal(&p->space_cv);
		pthread_mutex_unlock(&p->mu);

		rpc_dispatch(p->s, &j->req);

		pthread_mutex_lock(&p->mu);
		p->active[i] = NULL;
		p->running--;
		if (p->running == 0 && p->queued == 0)
			pthread_cond_broadcast(&p->idle_cv);
		pthread_mutex_unlock(&p->mu);
		rpc_request_clear(&j->req);
		free(j);
		pthread_mutex_lock(&p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

struct rpc_pool *rpc_pool_new(struct rpc_server *s, int workers, size_t capacity)
{
	struct rpc_pool *p = calloc(1, sizeof *p);

	if (p == NULL)
		return NULL;
	p->s = s;
	p->cap = capacity;
	p->thr = calloc((size_t)workers, sizeof *p->thr);
	p->active = calloc((size_t)workers, sizeof *p->active);
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work_cv, NULL);
	rpc_cond_init(&p->space_cv);
	rpc_cond_init(&p->idle_cv);
	if (p->thr == NULL || p->active == NULL)
		goto fail;
	for (p->n = 0; p->n < workers; p->n++) {
		struct worker_arg *wa = malloc(sizeof *wa);
		if (wa == NULL)
			goto fail;
		wa->p = p;
		wa->i = p->n;
		if (rpc_thread_start(&p->thr[p->n], worker_main, wa) == -1) {
			free(wa);
			goto fail;
		}
	}
	return p;
fail:
	rpc_pool_free(p);
	return NULL;
}

int rpc_pool_push(struct rpc_pool *p, struct rpc_request *req,
    void (*idle)(void *), void *arg)
{
	struct job *j = calloc(1, sizeof *j);

	if (j == NULL)
		return -1;
	pthread_mutex_lock(&p->mu);
	while (p->queued >= p->cap && !p->stopping) {
		if (!rpc_cond_wait_until(&p->space_cv, &p->mu, now_ms() + 1000)) {
			pthread_mutex_unlock(&p->mu);
			idle(arg);
			pthread_mutex_lock(&p->mu);
		}
	}
	if (p->stopping) {
		pthread_mutex_unlock(&p->mu);
		free(j);
		return -1;
	}
	j->req = *req;
	memset(req, 0, sizeof *req);
	if (p->tail != NULL)
		p->tail->next = j;
	else
		p->head = j;
	p->tail = j;
	p->queued++;
	pthread_cond_signal(&p->work_cv);
	pthread_mutex_unlock(&p->mu);
	return 0;
}

int rpc_pool_drain(struct rpc_pool *p, int grace_ms)
{
	uint64_t deadline = now_ms() + (uint64_t)(grace_ms > 0 ? grace_ms : 0);
	struct job *j;
	size_t dropped;
	int left;

	if (p == NULL)
		return 0;
	pthread_mutex_lock(&p->mu);
	while ((p->queued > 0 || p->running > 0) &&
	    rpc_cond_wait_until(&p->idle_cv, &p->mu, deadline))
		;
	dropped = p->queued;
	while ((j = p->head) != NULL) {
		p->head = j->next;
		rpc_request_clear(&j->req);
		free(j);
	}
	p->tail = NULL;
	p->queued = 0;
	p->stopping = true;
	left = p->running;
	pthread_cond_broadcast(&p->work_cv);
	pthread_cond_broadcast(&p->space_cv);
	pthread_mutex_unlock(&p->mu);
	if (dropped > 0)
		log_warnx("rpc: stopping: %zu queued requests dropped", dropped);
	return left;
}

void rpc_pool_free(struct rpc_pool *p)
{
	if (p == NULL)
		return;
	rpc_pool_drain(p, 0);
	for (int i = 0; i < p->n; i++)
		pthread_join(p->thr[i], NULL);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->work_cv);
	pthread_cond_destroy(&p->space_cv);
	pthread_cond_destroy(&p->idle_cv);
	free(p->thr);
	free(p->active);
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
		struct job *j = p->active[i];
		if (j == NULL || j->next_hb_ms == 0 || now < j->next_hb_ms)
			continue;
		if (beats == NULL && (beats = calloc((size_t)p->n, sizeof *beats)) == NULL)
			break;
		str_copy(beats[n].msg_id, j->req.msg_id, sizeof beats[n].msg_id);
		str_copy(beats[n].reply_q, j->req.reply_q, sizeof beats[n].reply_q);
		n++;
		j->next_hb_ms = now + (uint64_t)j->req.monitor_s * 500;
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
	uint64_t give_up = now_ms() + REPLY_GIVE_UP_MS;
	char unique[UUID_HEX_LEN];
	enum rpc_pub_status st;
	json_t *msg;
	size_t len;
	char *body;

	uuid_new_hex(unique);
	msg = rpc_reply_encode(msg_id, unique, result, failure, ending);
	body = msg ? rpc_envelope_encode(msg, &len) : NULL;
	json_decref(msg);
	if (body == NULL) {
		log_warnx("rpc: cannot encode the reply to %s", msg_id);
		return;
	}
	for (;;) {
		st = rpc_publish(t, "", NULL, reply_q, true, NULL, body, len,
		    now_ms() + (uint64_t)rpc_transport_timeout_ms(t));
		/* A returned reply: the caller's reply queue is missing, e.g.
		 * while the caller reconnects after a broker restart. Heartbeats
		 * are not worth retrying. */
		if (st != RPC_PUB_RETURNED || !ending || rpc_server_stopping(s) ||
		    now_ms() + REPLY_RETRY_MS >= give_up)
			break;
		usleep(REPLY_RETRY_MS * 1000);
	}
	if (st == RPC_PUB_RETURNED && ending)
		log_warnx("rpc: reply to %s dropped: reply queue %s does not exist",
		    msg_id, reply_q);
	else if (st != RPC_PUB_OK && st != RPC_PUB_RETURNED)
		log_warnx("rpc: reply to %s not sent: broker unreachable", msg_id);
	free(body);
}
