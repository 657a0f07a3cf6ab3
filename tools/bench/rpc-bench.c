/*
 * rpc-bench: common/rpc against its floor, in one run on one broker.
 *
 *   rpc-bench [--transport-url URL] [--exchange X] [-n CALLS] [--casts N]
 *             [--cast-threads T] [--payload BYTES] [--rounds R] TOPIC
 *
 * 1. floor: a raw librabbitmq-c ping-pong of our own (a server thread with
 *    its own connections, reply_to/correlation_id, manual ack before the
 *    reply), without confirms and with publisher confirms on both sides
 *    (what oslo does), request 300 B, reply 200 B; and runs shaped like
 *    oslo's traffic (topic exchange, 920 B request with oslo's properties
 *    incl. expiration and delivery_mode 2, mandatory reply) with and
 *    without confirms (common/rpc's calls go without), to show what the
 *    wire format costs in the broker;
 * 2. kumo: sequential rpc_call echo(payload) against an rpc-echo serving
 *    TOPIC (tools/bench/rpc-bench.sh starts one);
 * 3. kumo: rpc_cast tick() from T threads; end to end = N / (first publish
 *    to the server's last tick), both on CLOCK_MONOTONIC; next to it the
 *    floors for that: T raw threads, each with its own connection,
 *    publishing 900 B messages to a queue a raw consumer thread drains
 *    with an ack each, (a) waiting for every confirm (what rpc_cast did
 *    before the outbox), (b) waiting for the confirms of every 100; and
 *    (c) the floor of the same work as kumo's casts: one raw connection
 *    publishing 700 B messages shaped as common/rpc's casts (topic
 *    exchange, kombu's properties, delivery_mode 2) with confirms
 *    pipelined, a raw consumer acking what it read together (`multiple`).
 * The raw part talks to 127.0.0.1:5672 as guest. This file includes
 * librabbitmq directly because measuring it is its point.
 */
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/common.h"
#include "common/rpc/rpc.h"

struct stats {
	double p50, p90, p99, min;
	int n;
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static struct stats summarize(uint64_t *v, int n)
{
	struct stats s = { .n = n };

	qsort(v, (size_t)n, sizeof *v, cmp_u64);
	s.min = (double)v[0];
	s.p50 = (double)v[n / 2];
	s.p90 = (double)v[(int)(n * 0.90)];
	s.p99 = (double)v[(int)(n * 0.99)];
	return s;
}

/* ---- raw librabbitmq floor ------------------------------------------------ */

static amqp_connection_state_t raw_connect(bool confirms)
{
	amqp_connection_state_t c = amqp_new_connection();
	amqp_socket_t *s = amqp_tcp_socket_new(c);
	int one = 1;

	if (s == NULL || amqp_socket_open(s, "127.0.0.1", 5672) != AMQP_STATUS_OK)
		fatalx("raw: cannot connect to 127.0.0.1:5672");
	setsockopt(amqp_socket_get_sockfd(s), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (amqp_login(c, "/", 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, "guest", "guest")
	    .reply_type != AMQP_RESPONSE_NORMAL)
		fatalx("raw: login failed");
	for (amqp_channel_t ch = 1; ch <= 2; ch++) {
		amqp_channel_open(c, ch);
		if (amqp_get_rpc_reply(c).reply_type != AMQP_RESPONSE_NORMAL)
			fatalx("raw: channel.open failed");
	}
	if (confirms) {
		amqp_confirm_select(c, 1);
		if (amqp_get_rpc_reply(c).reply_type != AMQP_RESPONSE_NORMAL)
			fatalx("raw: confirm.select failed");
	}
	return c;
}

/* Waits for the publisher confirm on channel 1 (nothing else arrives on a
 * publish-only connection). */
static void raw_wait_confirm(amqp_connection_state_t c)
{
	amqp_frame_t f;

	do {
		if (amqp_simple_wait_frame(c, &f) != AMQP_STATUS_OK)
			fatalx("raw: lost the broker");
	} while (f.frame_type != AMQP_FRAME_METHOD || f.payload.method.id != AMQP_BASIC_ACK_METHOD);
}

/* Waits until the broker confirmed every publish up to tag; *seen is the
 * highest tag confirmed so far on c. */
static void raw_wait_confirms(amqp_connection_state_t c, uint64_t tag, uint64_t *seen)
{
	amqp_frame_t f;

	while (*seen < tag) {
		if (amqp_simple_wait_frame(c, &f) != AMQP_STATUS_OK)
			fatalx("raw: lost the broker");
		if (f.frame_type == AMQP_FRAME_METHOD && f.payload.method.id == AMQP_BASIC_ACK_METHOD &&
		    ((amqp_basic_ack_t *)f.payload.method.decoded)->delivery_tag > *seen)
			*seen = ((amqp_basic_ack_t *)f.payload.method.decoded)->delivery_tag;
	}
}

#define RAW_EXCHANGE "rpcbench_topic"
#define BLOCK 50 /* calls per variant per turn */

/* oslo: the request goes through a topic exchange with kombu's properties
 * and an expiration; the reply is mandatory. */
static void raw_publish(amqp_connection_state_t c, const char *key, const char *reply_to,
    amqp_bytes_t corr, const char *body, size_t len, bool oslo)
{
	amqp_basic_properties_t p;

	memset(&p, 0, sizeof p);
	p._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG |
	    AMQP_BASIC_CORRELATION_ID_FLAG;
	p.content_type = amqp_cstring_bytes("application/json");
	p.delivery_mode = oslo ? 2 : 1;
	p.correlation_id = corr;
	if (oslo) {
		p._flags |= AMQP_BASIC_CONTENT_ENCODING_FLAG | AMQP_BASIC_HEADERS_FLAG |
		    AMQP_BASIC_PRIORITY_FLAG;
		p.content_encoding = amqp_cstring_bytes("utf-8");
		p.headers = amqp_empty_table;
		if (reply_to != NULL) {
			p._flags |= AMQP_BASIC_EXPIRATION_FLAG;
			p.expiration = amqp_cstring_bytes("60000");
		}
	}
	if (reply_to != NULL) {
		p._flags |= AMQP_BASIC_REPLY_TO_FLAG;
		p.reply_to = amqp_cstring_bytes(reply_to);
	}
	if (amqp_basic_publish(c, 1, amqp_cstring_bytes(oslo && reply_to ? RAW_EXCHANGE : ""),
	    amqp_cstring_bytes(key), oslo && reply_to == NULL, 0, &p,
	    (amqp_bytes_t){ len, (void *)(uintptr_t)body }) != AMQP_STATUS_OK)
		fatalx("raw: publish failed");
}

struct raw_server {
	char queue[64];
	bool confirms, oslo;
	atomic_bool ready, stop;
};

static void *raw_server_main(void *arg)
{
	struct raw_server *rs = arg;
	amqp_connection_state_t in = raw_connect(false), out = raw_connect(rs->confirms);
	char reply[200], rk[256];

	memset(reply, 'r', sizeof reply);
	amqp_queue_declare(in, 1, amqp_cstring_bytes(rs->queue), 0, 0, 0, 1, amqp_empty_table);
	if (rs->oslo) {
		amqp_exchange_declare(in, 1, amqp_cstring_bytes(RAW_EXCHANGE),
		    amqp_cstring_bytes("topic"), 0, 0, 0, 0, amqp_empty_table);
		amqp_queue_bind(in, 1, amqp_cstring_bytes(rs->queue),
		    amqp_cstring_bytes(RAW_EXCHANGE), amqp_cstring_bytes(rs->queue), amqp_empty_table);
	}
	amqp_basic_consume(in, 1, amqp_cstring_bytes(rs->queue), amqp_empty_bytes, 0, 0, 0,
	    amqp_empty_table);
	if (amqp_get_rpc_reply(in).reply_type != AMQP_RESPONSE_NORMAL)
		fatalx("raw: consume failed");
	atomic_store(&rs->ready, true);
	while (!atomic_load(&rs->stop)) {
		struct timeval tv = { 0, 200000 };
		amqp_envelope_t env;
		amqp_rpc_reply_t r = amqp_consume_message(in, &env, &tv, 0);
		if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
		    r.library_error == AMQP_STATUS_TIMEOUT)
			continue;
		if (r.reply_type != AMQP_RESPONSE_NORMAL)
			fatalx("raw server: consume failed");
		amqp_basic_ack(in, 1, env.delivery_tag, 0); /* ack first, as oslo */
		snprintf(rk, sizeof rk, "%.*s", (int)env.message.properties.reply_to.len,
		    (char *)env.message.properties.reply_to.bytes);
		raw_publish(out, rk, NULL, env.message.properties.correlation_id, reply,
		    sizeof reply, rs->oslo);
		if (rs->confirms)
			raw_wait_confirm(out);
		amqp_destroy_envelope(&env);
		amqp_maybe_release_buffers(in);
		amqp_maybe_release_buffers(out);
	}
	amqp_queue_delete(in, 1, amqp_cstring_bytes(rs->queue), 0, 0);
	amqp_destroy_connection(in);
	amqp_destroy_connection(out);
	return NULL;
}

/* A raw client: channel 1 publishes (confirm mode if asked), channel 2
 * consumes its reply queue; its server runs in a thread. */
struct raw_client {
	struct raw_server rs;
	pthread_t thr;
	amqp_connection_state_t c;
	char reply_q[128];
	char body[920];
	size_t blen;
	int seq;
};

static void raw_open(struct raw_client *rc, bool confirms, bool oslo)
{
	amqp_queue_declare_ok_t *q;
	char hex[UUID_HEX_LEN];

	memset(rc, 0, sizeof *rc);
	rc->rs.confirms = confirms;
	rc->rs.oslo = oslo;
	uuid_new_hex(hex);
	snprintf(rc->rs.queue, sizeof rc->rs.queue, "rpcbench_raw_%s", hex);
	memset(rc->body, 'q', sizeof rc->body);
	rc->blen = oslo ? 920 : 300;
	if (pthread_create(&rc->thr, NULL, raw_server_main, &rc->rs) != 0)
		fatalx("raw: cannot start the server thread");
	while (!atomic_load(&rc->rs.ready))
		usleep(1000);
	rc->c = raw_connect(confirms);
	q = amqp_queue_declare(rc->c, 2, amqp_empty_bytes, 0, 0, 1, 1, amqp_empty_table);
	if (q == NULL)
		fatalx("raw: reply queue");
	snprintf(rc->reply_q, sizeof rc->reply_q, "%.*s", (int)q->queue.len, (char *)q->queue.bytes);
	amqp_basic_consume(rc->c, 2, q->queue, amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
}

/* One round trip: publish to reply (and confirm) read, in us. */
static uint64_t raw_one(struct raw_client *rc)
{
	bool got_reply = false, got_ack = !rc->rs.confirms;
	uint64_t t0 = now_us();
	char corr[16];

	snprintf(corr, sizeof corr, "%d", rc->seq++);
	raw_publish(rc->c, rc->rs.queue, rc->reply_q, amqp_cstring_bytes(corr), rc->body,
	    rc->blen, rc->rs.oslo);
	while (!got_reply || !got_ack) {
		amqp_frame_t f;
		if (amqp_simple_wait_frame(rc->c, &f) != AMQP_STATUS_OK)
			fatalx("raw: lost the broker");
		if (f.frame_type != AMQP_FRAME_METHOD)
			continue;
		if (f.payload.method.id == AMQP_BASIC_ACK_METHOD) {
			got_ack = true;
		} else if (f.payload.method.id == AMQP_BASIC_DELIVER_METHOD) {
			uint64_t tag = ((amqp_basic_deliver_t *)f.payload.method.decoded)->delivery_tag;
			amqp_message_t m;
			if (amqp_read_message(rc->c, 2, &m, 0).reply_type != AMQP_RESPONSE_NORMAL)
				fatalx("raw: read reply");
			got_reply = m.properties.correlation_id.len == strlen(corr) &&
			    memcmp(m.properties.correlation_id.bytes, corr, strlen(corr)) == 0;
			amqp_destroy_message(&m);
			amqp_basic_ack(rc->c, 2, tag, 0);
		}
	}
	amqp_maybe_release_buffers(rc->c);
	return now_us() - t0;
}

static void raw_close(struct raw_client *rc)
{
	atomic_store(&rc->rs.stop, true);
	pthread_join(rc->thr, NULL);
	amqp_destroy_connection(rc->c);
}

struct raw_flood {
	char queue[64];
	int n, threads, batch;
	bool oslo;          /* a cast's shape: see raw_cast_floor */
	atomic_int next;
	atomic_int consumed;
	uint64_t last_us;
};

/* A cast as common/rpc publishes one: to a topic exchange, kombu's
 * properties, no mandatory flag, a body the size of kumo's tick() cast. */
#define RAW_CAST_BYTES 700
static void raw_cast_publish(amqp_connection_state_t c, const char *key, const char *body,
    size_t len)
{
	amqp_basic_properties_t p;

	memset(&p, 0, sizeof p);
	p._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_CONTENT_ENCODING_FLAG |
	    AMQP_BASIC_HEADERS_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_PRIORITY_FLAG;
	p.content_type = amqp_cstring_bytes("application/json");
	p.content_encoding = amqp_cstring_bytes("utf-8");
	p.headers = amqp_empty_table;
	p.delivery_mode = 2;
	if (amqp_basic_publish(c, 1, amqp_cstring_bytes(RAW_EXCHANGE), amqp_cstring_bytes(key),
	    0, 0, &p, (amqp_bytes_t){ len, (void *)(uintptr_t)body }) != AMQP_STATUS_OK)
		fatalx("raw: publish failed");
}

static void *raw_flood_pub(void *arg)
{
	struct raw_flood *f = arg;
	amqp_connection_state_t c = raw_connect(true);
	char body[900];
	uint64_t tag = 0, seen = 0;

	memset(body, 'c', sizeof body);
	while (atomic_fetch_add(&f->next, 1) < f->n) {
		if (f->oslo)
			raw_cast_publish(c, f->queue, body, RAW_CAST_BYTES);
		else
			raw_publish(c, f->queue, NULL, amqp_empty_bytes, body, sizeof body, false);
		/* oslo-shaped: pipelined, at most 2 batches unconfirmed. */
		if (++tag % (uint64_t)f->batch == 0) {
			raw_wait_confirms(c, f->oslo ? tag - (uint64_t)f->batch : tag, &seen);
			amqp_maybe_release_buffers(c);
		}
	}
	raw_wait_confirms(c, tag, &seen);
	amqp_destroy_connection(c);
	return NULL;
}

static void *raw_flood_sink(void *arg)
{
	struct raw_flood *f = arg;
	amqp_connection_state_t c = raw_connect(false);

	amqp_basic_consume(c, 1, amqp_cstring_bytes(f->queue), amqp_empty_bytes, 0, 0, 0,
	    amqp_empty_table);
	while (atomic_load(&f->consumed) < f->n) {
		struct timeval tv = { 5, 0 };
		amqp_envelope_t env;
		amqp_rpc_reply_t rr = amqp_consume_message(c, &env, &tv, 0);
		if (rr.reply_type != AMQP_RESPONSE_NORMAL)
			fatalx("raw sink: consume failed: %d %s", rr.reply_type,
			    amqp_error_string2(rr.library_error));
		/* oslo-shaped: one ack for what was read together, as
		 * common/rpc's server acks. */
		if (!f->oslo || !amqp_data_in_buffer(c) || atomic_load(&f->consumed) + 1 == f->n)
			amqp_basic_ack(c, 1, env.delivery_tag, f->oslo);
		amqp_destroy_envelope(&env);
		amqp_maybe_release_buffers(c);
		atomic_fetch_add(&f->consumed, 1);
		f->last_us = now_us();
	}
	amqp_destroy_connection(c);
	return NULL;
}

/* The end-to-end rate of raw confirmed publishing from `threads` threads,
 * each waiting for the confirms of every `batch` messages; oslo: shaped
 * as common/rpc's casts (raw_cast_publish, confirms pipelined, acks
 * `multiple`). */
static double raw_cast_floor(int n, int threads, int batch, bool oslo)
{
	struct raw_flood f = { .n = n, .threads = threads, .batch = batch, .oslo = oslo };
	amqp_connection_state_t c = raw_connect(false);
	pthread_t sink, pub[64];
	char hex[UUID_HEX_LEN];
	uint64_t t0;

	uuid_new_hex(hex);
	snprintf(f.queue, sizeof f.queue, "rpcbench_flood_%s", hex);
	amqp_queue_declare(c, 1, amqp_cstring_bytes(f.queue), 0, 0, 0, 0, amqp_empty_table);
	if (amqp_get_rpc_reply(c).reply_type != AMQP_RESPONSE_NORMAL)
		fatalx("raw: flood queue");
	if (oslo) {
		amqp_exchange_declare(c, 1, amqp_cstring_bytes(RAW_EXCHANGE),
		    amqp_cstring_bytes("topic"), 0, 0, 0, 0, amqp_empty_table);
		amqp_queue_bind(c, 1, amqp_cstring_bytes(f.queue), amqp_cstring_bytes(RAW_EXCHANGE),
		    amqp_cstring_bytes(f.queue), amqp_empty_table);
		if (amqp_get_rpc_reply(c).reply_type != AMQP_RESPONSE_NORMAL)
			fatalx("raw: flood binding");
	}
	pthread_create(&sink, NULL, raw_flood_sink, &f);
	t0 = now_us();
	for (int i = 0; i < threads; i++)
		pthread_create(&pub[i], NULL, raw_flood_pub, &f);
	for (int i = 0; i < threads; i++)
		pthread_join(pub[i], NULL);
	pthread_join(sink, NULL);
	amqp_queue_delete(c, 1, amqp_cstring_bytes(f.queue), 0, 0);
	amqp_destroy_connection(c);
	return n / ((double)(f.last_us - t0) / 1e6);
}

/* ---- kumo ------------------------------------------------------------------ */

struct bench {
	struct rpc_transport *t;
	struct rpc_target target;
	struct rpc_ctx ctx;
	int payload, casts, threads;
	atomic_int next;
};

static json_t *call_or_die(struct bench *b, const char *method, json_t *args)
{
	struct rpc_error err;
	json_t *res;

	if (rpc_call(b->t, &b->target, &b->ctx, method, args, 10000, &res, &err) == -1)
		fatalx("kumo: %s failed: %s: %s", method, err.cls, err.message);
	return res;
}

static uint64_t kumo_one(struct bench *b, const char *payload)
{
	uint64_t t0 = now_us();

	json_decref(call_or_die(b, "echo", json_pack("{s:s}", "payload", payload)));
	return now_us() - t0;
}

static void *caster(void *arg)
{
	struct bench *b = arg;
	struct rpc_error err;

	while (atomic_fetch_add(&b->next, 1) < b->casts)
		if (rpc_cast(b->t, &b->target, &b->ctx, "tick", json_object(), &err) == -1)
			fatalx("kumo: cast failed: %s", err.message);
	return NULL;
}

/* Returns the end-to-end rate; *pub_rate the publishers' own. */
static double kumo_casts(struct bench *b, double *pub_rate)
{
	pthread_t thr[64];
	uint64_t t0, t_pub, last = 0;
	json_int_t ticks = 0;

	json_decref(call_or_die(b, "reset", NULL));
	atomic_store(&b->next, 0);
	t0 = now_us();
	for (int i = 0; i < b->threads; i++)
		pthread_create(&thr[i], NULL, caster, b);
	for (int i = 0; i < b->threads; i++)
		pthread_join(thr[i], NULL);
	t_pub = now_us();
	for (int tries = 0; tries < 600 && ticks < b->casts; tries++) {
		json_t *st = call_or_die(b, "stats", NULL);
		ticks = json_integer_value(json_object_get(st, "ticks"));
		last = (uint64_t)json_integer_value(json_object_get(st, "last_tick_us"));
		json_decref(st);
		if (ticks < b->casts)
			usleep(50000);
	}
	if (ticks < b->casts)
		fatalx("kumo: only %lld of %d casts arrived", (long long)ticks, b->casts);
	*pub_rate = b->casts / ((double)(t_pub - t0) / 1e6);
	return b->casts / ((double)(last - t0) / 1e6);
}

static void print_stats(const char *what, struct stats s)
{
	printf("%-40s n=%d p50=%.0f us p90=%.0f us p99=%.0f us min=%.0f us\n", what, s.n,
	    s.p50, s.p90, s.p99, s.min);
}

static void usage(void)
{
	fprintf(stderr, "usage: rpc-bench [--transport-url URL] [--exchange X] [-n CALLS] "
	    "[--casts N] [--cast-threads T] [--payload BYTES] [--rounds R] TOPIC\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct rpc_conf conf = { .transport_url = "rabbit://guest:guest@127.0.0.1:5672/" };
	struct bench b = { .payload = 64, .casts = 20000, .threads = 4 };
	int n = 2000, rounds = 1, warmup = 200, i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		int *ip = NULL, max = 10000000;
		if (v == NULL)
			usage();
		if (strcmp(argv[i], "--transport-url") == 0) conf.transport_url = v;
		else if (strcmp(argv[i], "--exchange") == 0) conf.control_exchange = v;
		else if (strcmp(argv[i], "-n") == 0) ip = &n;
		else if (strcmp(argv[i], "--casts") == 0) ip = &b.casts;
		else if (strcmp(argv[i], "--cast-threads") == 0) { ip = &b.threads; max = 64; }
		else if (strcmp(argv[i], "--payload") == 0) ip = &b.payload;
		else if (strcmp(argv[i], "--rounds") == 0) ip = &rounds;
		else usage();
		if (ip != NULL && num_parse_int(v, 1, max, ip) == -1)
			usage();
		i++;
	}
	if (argc - i != 1)
		usage();
	log_init("rpc-bench", LOG_LVL_WARN);
	b.target.topic = argv[i];
	rpc_ctx_init_service(&b.ctx);
	if ((b.t = rpc_transport_new(&conf)) == NULL)
		fatalx("bad transport options");
	json_decref(call_or_die(&b, "echo", json_pack("{s:s}", "payload", "warm")));
	for (int r = 1; r <= rounds; r++) {
		/* The variants take turns, BLOCK calls each, so that all of them
		 * see the same load on a shared machine. */
		enum { RAW, RAWC, RAWO, RAWON, KUMO, NV };
		static const char *const names[NV] = { "raw ping-pong, no confirms",
			"raw ping-pong, confirms both ways", "raw ping-pong, oslo-shaped, confirms",
			"raw ping-pong, oslo-shaped, no confirms", "kumo rpc_call echo" };
		struct raw_client rc[KUMO];
		uint64_t *rtt[NV];
		struct stats st[NV];
		char *payload = calloc(1, (size_t)b.payload + 1);

		if (payload == NULL)
			fatalx("out of memory");
		memset(payload, 'x', (size_t)b.payload);
		raw_open(&rc[RAW], false, false);
		raw_open(&rc[RAWC], true, false);
		raw_open(&rc[RAWO], true, true);
		raw_open(&rc[RAWON], false, true);
		for (int v = 0; v < NV; v++)
			if ((rtt[v] = calloc((size_t)n, sizeof *rtt[v])) == NULL)
				fatalx("out of memory");
		for (int w = 0; w < warmup; w++) {
			for (int v = 0; v < KUMO; v++)
				raw_one(&rc[v]);
			kumo_one(&b, payload);
		}
		for (int base = 0; base < n; base += BLOCK) {
			for (int v = 0; v < NV; v++)
				for (int k = base; k < n && k < base + BLOCK; k++)
					rtt[v][k] = v == KUMO ? kumo_one(&b, payload) : raw_one(&rc[v]);
		}
		for (int v = 0; v < NV; v++) {
			st[v] = summarize(rtt[v], n);
			free(rtt[v]);
		}
		for (int v = 0; v < KUMO; v++)
			raw_close(&rc[v]);
		free(payload);
		double pub, e2e = kumo_casts(&b, &pub);
		double raw_cast = raw_cast_floor(b.casts, b.threads, 1, false);
		double raw_batch = raw_cast_floor(b.casts, b.threads, 100, false);
		double raw_oslo = raw_cast_floor(b.casts, 1, 500, true);
		printf("round %d/%d (calls interleaved in blocks of %d)\n", r, rounds, BLOCK);
		for (int v = 0; v < NV; v++)
			print_stats(names[v], st[v]);
		printf("%-40s %.2fx raw, %.2fx raw with confirms, %.2fx oslo-shaped raw, "
		    "%.2fx oslo-shaped raw without confirms\n", "kumo call p50 ratio",
		    st[KUMO].p50 / st[RAW].p50, st[KUMO].p50 / st[RAWC].p50,
		    st[KUMO].p50 / st[RAWO].p50, st[KUMO].p50 / st[RAWON].p50);
		printf("%-40s threads=%d n=%d end-to-end=%.0f msgs/s\n",
		    "raw publish+confirm each, consume+ack", b.threads, b.casts, raw_cast);
		printf("%-40s threads=%d n=%d end-to-end=%.0f msgs/s\n",
		    "raw publish, confirms per 100", b.threads, b.casts, raw_batch);
		printf("%-40s threads=1 n=%d end-to-end=%.0f msgs/s\n",
		    "raw oslo-shaped casts, pipelined", b.casts, raw_oslo);
		printf("%-40s threads=%d n=%d publish=%.0f msgs/s end-to-end=%.0f msgs/s "
		    "(%.2fx raw each, %.2fx raw per 100, %.2fx raw oslo-shaped)\n",
		    "kumo rpc_cast tick", b.threads, b.casts, pub, e2e, e2e / raw_cast,
		    e2e / raw_batch, e2e / raw_oslo);
		printf("{\"round\": %d, \"raw_p50_us\": %.0f, \"raw_confirm_p50_us\": %.0f, "
		    "\"raw_oslo_p50_us\": %.0f, \"raw_oslo_nc_p50_us\": %.0f, "
		    "\"kumo_p50_us\": %.0f, \"kumo_p99_us\": %.0f, "
		    "\"ratio\": %.3f, \"ratio_confirm\": %.3f, \"ratio_oslo\": %.3f, "
		    "\"ratio_oslo_nc\": %.3f, "
		    "\"cast_e2e_per_s\": %.0f, \"raw_cast_per_s\": %.0f, "
		    "\"raw_cast_batch_per_s\": %.0f, \"raw_cast_oslo_per_s\": %.0f}\n", r, st[RAW].p50,
		    st[RAWC].p50, st[RAWO].p50, st[RAWON].p50, st[KUMO].p50, st[KUMO].p99,
		    st[KUMO].p50 / st[RAW].p50, st[KUMO].p50 / st[RAWC].p50,
		    st[KUMO].p50 / st[RAWO].p50, st[KUMO].p50 / st[RAWON].p50, e2e, raw_cast,
		    raw_batch, raw_oslo);
		fflush(stdout);
	}
	rpc_transport_free(b.t);
	rpc_ctx_clear(&b.ctx);
	return 0;
}
