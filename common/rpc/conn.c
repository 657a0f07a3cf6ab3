/*
 * One AMQP connection with one channel (number 1), as oslo uses them; a
 * confirm-mode connection has a second channel without confirms (2) for
 * messages whose arrival is proven otherwise. The only file that includes
 * librabbitmq's headers besides rpc_internal.h.
 *
 * A connection is used by one thread at a time (librabbitmq is not
 * thread-safe); who owns which connection is transport.c's and server.c's
 * business. Every wait here has a timeout, because librabbitmq retries
 * EINTR and would otherwise never notice a stop request.
 */
#include <amqp_tcp_socket.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/common.h"
#include "common/rpc/rpc_internal.h"

#define CONNECT_TIMEOUT_MS 5000
#define RPC_TIMEOUT_MS 10000     /* declare, bind, consume, close */
#define CONTENT_TIMEOUT_MS 30000 /* header and body frames after a method */

static struct timeval tv_ms(int64_t ms)
{
	struct timeval tv;

	if (ms < 0)
		ms = 0;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	return tv;
}

static void log_reply(amqp_rpc_reply_t r, const char *what)
{
	if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION) {
		log_warnx("rpc: %s: %s", what, amqp_error_string2(r.library_error));
	} else if (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION &&
	    r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
		amqp_connection_close_t *m = r.reply.decoded;
		log_warnx("rpc: %s: connection closed by the broker: %u %.*s", what,
		    m->reply_code, (int)m->reply_text.len, (char *)m->reply_text.bytes);
	} else if (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION &&
	    r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
		amqp_channel_close_t *m = r.reply.decoded;
		log_warnx("rpc: %s: channel closed by the broker: %u %.*s", what,
		    m->reply_code, (int)m->reply_text.len, (char *)m->reply_text.bytes);
	} else {
		log_warnx("rpc: %s: unexpected broker reply", what);
	}
}

static int check(amqp_connection_state_t st, const char *what)
{
	amqp_rpc_reply_t r = amqp_get_rpc_reply(st);

	if (r.reply_type == AMQP_RESPONSE_NORMAL)
		return 0;
	log_reply(r, what);
	return -1;
}

static int login(amqp_connection_state_t st, const struct rpc_url *url,
    const struct rpc_host *h, int heartbeat_s)
{
	char name[128], u[UUID_STR_LEN];
	amqp_table_entry_t caps[3], props[4];
	amqp_table_t ptable;
	amqp_rpc_reply_t r;

	uuid_new_str(u);
	snprintf(name, sizeof name, "%s:%d:%s", program_invocation_short_name,
	    (int)getpid(), u);
	caps[0].key = amqp_cstring_bytes("authentication_failure_close");
	caps[1].key = amqp_cstring_bytes("consumer_cancel_notify");
	caps[2].key = amqp_cstring_bytes("connection.blocked");
	for (int i = 0; i < 3; i++) {
		caps[i].value.kind = AMQP_FIELD_KIND_BOOLEAN;
		caps[i].value.value.boolean = 1;
	}
	props[0].key = amqp_cstring_bytes("product");
	props[0].value.kind = AMQP_FIELD_KIND_UTF8;
	props[0].value.value.bytes = amqp_cstring_bytes("kumo");
	props[1].key = amqp_cstring_bytes("connection_name");
	props[1].value.kind = AMQP_FIELD_KIND_UTF8;
	props[1].value.value.bytes = amqp_cstring_bytes(name);
	props[2].key = amqp_cstring_bytes("capabilities");
	props[2].value.kind = AMQP_FIELD_KIND_TABLE;
	props[2].value.value.table.num_entries = 3;
	props[2].value.value.table.entries = caps;
	props[3].key = amqp_cstring_bytes("information");
	props[3].value.kind = AMQP_FIELD_KIND_UTF8;
	props[3].value.value.bytes = amqp_cstring_bytes("kumo common/rpc");
	ptable.num_entries = 4;
	ptable.entries = props;
	r = amqp_login_with_properties(st, url->vhost, 0, RPC_FRAME_MAX,
	    heartbeat_s, &ptable, AMQP_SASL_METHOD_PLAIN, h->user, h->pass);
	if (r.reply_type != AMQP_RESPONSE_NORMAL) {
		char what[800];
		snprintf(what, sizeof what, "login to %s:%d vhost %s as %s",
		    h->host, h->port, url->vhost, h->user);
		log_reply(r, what);
		return -1;
	}
	return 0;
}

/* One connection attempt to host h. */
static struct rpc_conn *try_open(struct rpc_transport *t,
    const struct rpc_host *h, bool confirms, uint64_t deadline_ms)
{
	struct rpc_conn *c;
	amqp_socket_t *sock;
	struct timeval tv;
	int64_t ms = CONNECT_TIMEOUT_MS;
	int one = 1, status, hb = rpc_transport_heartbeat_s(t);

	if (deadline_ms != 0 && (int64_t)(deadline_ms - now_ms()) < ms)
		ms = (int64_t)(deadline_ms - now_ms());
	if (ms < 100)
		ms = 100;
	c = calloc(1, sizeof *c);
	if (c == NULL || (c->st = amqp_new_connection()) == NULL) {
		free(c);
		return NULL;
	}
	sock = amqp_tcp_socket_new(c->st);
	tv = tv_ms(ms);
	status = sock ? amqp_socket_open_noblock(sock, h->host, h->port, &tv) : AMQP_STATUS_NO_MEMORY;
	if (status != AMQP_STATUS_OK) {
		log_warnx("rpc: cannot connect to %s:%d: %s", h->host, h->port,
		    amqp_error_string2(status));
		goto fail;
	}
	setsockopt(amqp_socket_get_sockfd(sock), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	amqp_set_handshake_timeout(c->st, &tv);
	tv = tv_ms(RPC_TIMEOUT_MS);
	amqp_set_rpc_timeout(c->st, &tv);
	if (login(c->st, rpc_transport_url(t), h, hb > 0 ? hb : 0) == -1)
		goto fail;
	amqp_channel_open(c->st, 1);
	if (check(c->st, "channel.open") == -1)
		goto fail;
	if (confirms) {
		amqp_confirm_select(c->st, 1);
		if (check(c->st, "confirm.select") == -1)
			goto fail;
		amqp_channel_open(c->st, 2);
		if (check(c->st, "channel.open") == -1)
			goto fail;
	}
	c->last_used_ms = now_ms();
	c->t = t;
	c->user = h->user;
	return c;
fail:
	rpc_conn_free(c, false);
	return NULL;
}

struct rpc_conn *rpc_conn_open(struct rpc_transport *t, bool confirms,
    uint64_t deadline_ms, const volatile bool *stop)
{
	const struct rpc_url *url = rpc_transport_url(t);
	struct rpc_conn *c;
	size_t host;

	for (;;) {
		if (rpc_backoff_wait(t, deadline_ms, stop, &host) == -1)
			return NULL;
		c = try_open(t, &url->hosts[host], confirms, deadline_ms);
		rpc_backoff_result(t, host, c != NULL);
		if (c != NULL)
			return c;
	}
}

void rpc_conn_free(struct rpc_conn *c, bool polite)
{
	if (c == NULL)
		return;
	if (c->st != NULL) {
		if (polite) {
			struct timeval tv = tv_ms(2000);
			amqp_set_rpc_timeout(c->st, &tv);
			amqp_channel_close(c->st, 1, AMQP_REPLY_SUCCESS);
			amqp_connection_close(c->st, AMQP_REPLY_SUCCESS);
		}
		amqp_destroy_connection(c->st);
	}
	for (size_t i = 0; i < c->n_declared; i++)
		free(c->declared[i]);
	free(c->wbuf);
	free(c);
}

int rpc_conn_declare_exchange(struct rpc_conn *c, const char *name,
    const char *type)
{
	bool fanout = strcmp(type, "fanout") == 0;
	bool durable = !fanout && rpc_transport_qopts(c->t)->durable;
	char what[RPC_NAME_MAX + 32];

	for (size_t i = 0; i < c->n_declared; i++)
		if (strcmp(c->declared[i], name) == 0)
			return 0;
	amqp_exchange_declare(c->st, 1, amqp_cstring_bytes(name),
	    amqp_cstring_bytes(type), 0, durable, fanout, 0, amqp_empty_table);
	snprintf(what, sizeof what, "exchange.declare %s", name);
	if (check(c->st, what) == -1)
		return -1;
	if (c->n_declared == sizeof c->declared / sizeof c->declared[0]) {
		free(c->declared[0]);
		memmove(c->declared, c->declared + 1, (c->n_declared - 1) * sizeof c->declared[0]);
		c->n_declared--;
	}
	if ((c->declared[c->n_declared] = strdup(name)) != NULL)
		c->n_declared++;
	return 0;
}

int rpc_conn_declare_queue(struct rpc_conn *c, const char *name,
    enum rpc_queue_kind kind)
{
	const struct rpc_qopts *q = rpc_transport_qopts(c->t);
	amqp_table_entry_t e;
	amqp_table_t args = amqp_empty_table;
	bool durable = kind == RPC_Q_WORK && q->durable;
	char what[RPC_NAME_MAX + 32];

	if (kind == RPC_Q_TRANSIENT) {
		e.key = amqp_cstring_bytes("x-expires");
		e.value.kind = AMQP_FIELD_KIND_I32;
		e.value.value.i32 = q->transient_ttl_ms;
		args.num_entries = 1;
		args.entries = &e;
	} else if (q->quorum) {
		e.key = amqp_cstring_bytes("x-queue-type");
		e.value.kind = AMQP_FIELD_KIND_UTF8;
		e.value.value.bytes = amqp_cstring_bytes("quorum");
		args.num_entries = 1;
		args.entries = &e;
	}
	amqp_queue_declare(c->st, 1, amqp_cstring_bytes(name), 0, durable, 0, 0,
	    args);
	snprintf(what, sizeof what, "queue.declare %s", name);
	return check(c->st, what);
}

int rpc_conn_bind(struct rpc_conn *c, const char *queue, const char *exchange,
    const char *key)
{
	amqp_queue_bind(c->st, 1, amqp_cstring_bytes(queue),
	    amqp_cstring_bytes(exchange), amqp_cstring_bytes(key), amqp_empty_table);
	return check(c->st, "queue.bind");
}

int rpc_conn_consume(struct rpc_conn *c, const char *queue, bool no_ack)
{
	char tag[16];

	snprintf(tag, sizeof tag, "%d", ++c->next_consumer);
	amqp_basic_consume(c->st, 1, amqp_cstring_bytes(queue),
	    amqp_cstring_bytes(tag), 0, no_ack, 0, amqp_empty_table);
	return check(c->st, "basic.consume");
}

int rpc_conn_delete_queue(struct rpc_conn *c, const char *queue)
{
	amqp_queue_delete(c->st, 1, amqp_cstring_bytes(queue), 0, 0);
	return check(c->st, "queue.delete");
}

/* 1 frame, 0 timeout, -1 the connection failed. */
static int wait_frame(struct rpc_conn *c, amqp_frame_t *f, int64_t timeout_ms)
{
	struct timeval tv = tv_ms(timeout_ms);
	int st = amqp_simple_wait_frame_noblock(c->st, f, &tv);

	if (st == AMQP_STATUS_TIMEOUT)
		return 0;
	if (st != AMQP_STATUS_OK) {
		log_warnx("rpc: connection lost: %s", amqp_error_string2(st));
		return -1;
	}
	return 1;
}

/* The broker closes the channel or connection, or cancels a consumer:
 * log why; the caller drops the connection. */
static void log_close(struct rpc_conn *c, const amqp_frame_t *f)
{
	amqp_method_number_t id = f->payload.method.id;

	if (id == AMQP_CONNECTION_CLOSE_METHOD) {
		amqp_connection_close_t *m = f->payload.method.decoded;
		amqp_connection_close_ok_t ok = { 0 };
		log_warnx("rpc: broker closed the connection: %u %.*s", m->reply_code,
		    (int)m->reply_text.len, (char *)m->reply_text.bytes);
		amqp_send_method(c->st, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
	} else if (id == AMQP_CHANNEL_CLOSE_METHOD) {
		amqp_channel_close_t *m = f->payload.method.decoded;
		log_warnx("rpc: broker closed the channel: %u %.*s", m->reply_code,
		    (int)m->reply_text.len, (char *)m->reply_text.bytes);
	} else {
		log_warnx("rpc: broker cancelled a consumer (queue deleted?)");
	}
}

static bool is_close(amqp_method_number_t id)
{
	return id == AMQP_CONNECTION_CLOSE_METHOD || id == AMQP_CHANNEL_CLOSE_METHOD ||
	    id == AMQP_BASIC_CANCEL_METHOD;
}

/* The user_id property of a content header into out ("" when absent; a
 * user name holding a NUL byte, which no user has, as "?"). */
static void take_user_id(const amqp_frame_t *f, char out[256])
{
	const amqp_basic_properties_t *p = f->payload.properties.decoded;

	out[0] = '\0';
	if (p == NULL || !(p->_flags & AMQP_BASIC_USER_ID_FLAG) || p->user_id.len == 0)
		return;
	if (p->user_id.len > 255 || memchr(p->user_id.bytes, '\0', p->user_id.len) != NULL) {
		str_copy(out, "?", 256);
		return;
	}
	memcpy(out, p->user_id.bytes, p->user_id.len);
	out[p->user_id.len] = '\0';
}

/* The header and body frames after basic.deliver or basic.return. d NULL
 * discards the content. 0, or -1 when the connection failed. */
static int read_content(struct rpc_conn *c, struct rpc_delivery *d)
{
	amqp_frame_t f;
	uint64_t size, got = 0;
	char *buf = NULL;
	bool keep;

	if (wait_frame(c, &f, CONTENT_TIMEOUT_MS) != 1 || f.frame_type != AMQP_FRAME_HEADER)
		return -1;
	size = f.payload.properties.body_size;
	keep = d != NULL && size <= RPC_MAX_BODY;
	if (d != NULL) {
		d->too_big = size > RPC_MAX_BODY;
		take_user_id(&f, d->user_id);
	}
	if (keep && (buf = malloc(size + 1)) == NULL)
		keep = false;
	while (got < size) {
		size_t n;
		if (wait_frame(c, &f, CONTENT_TIMEOUT_MS) != 1 ||
		    f.frame_type != AMQP_FRAME_BODY ||
		    (n = f.payload.body_fragment.len) > size - got) {
			free(buf);
			return -1;
		}
		if (keep)
			memcpy(buf + got, f.payload.body_fragment.bytes, n);
		got += n;
	}
	if (keep) {
		buf[size] = '\0';
		d->body = buf;
		d->len = size;
	}
	return 0;
}

/* A basic.return. One on channel 2 (an unconfirmed reply) goes to the
 * transport to be retried; one on channel 1 (a confirmed publish) sets
 * *returned and, when keep1 is not NULL, its content goes there. 0, or -1
 * when the connection failed. */
static int take_return(struct rpc_conn *c, const amqp_frame_t *f, bool *returned,
    struct rpc_delivery *keep1)
{
	amqp_basic_return_t *m = f->payload.method.decoded;
	char key[RPC_NAME_MAX];
	struct rpc_delivery d;
	bool keep = f->channel == 2 && m->routing_key.len < sizeof key;

	if (f->channel != 2 && returned != NULL)
		*returned = true;
	if (f->channel != 2 && keep1 != NULL) {
		memset(keep1, 0, sizeof *keep1);
		return read_content(c, keep1);
	}
	if (keep) {
		memcpy(key, m->routing_key.bytes, m->routing_key.len);
		key[m->routing_key.len] = '\0';
	}
	memset(&d, 0, sizeof d);
	if (read_content(c, keep ? &d : NULL) == -1)
		return -1;
	if (keep && d.body != NULL)
		rpc_transport_returned(c->t, key, d.body, d.len);
	else
		free(d.body);
	return 0;
}

int rpc_conn_next_delivery(struct rpc_conn *c, int timeout_ms, struct rpc_delivery *d)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	amqp_frame_t f;
	int r;

	memset(d, 0, sizeof *d);
	for (;;) {
		r = wait_frame(c, &f, (int64_t)(deadline - now_ms()));
		if (r != 1)
			return r;
		if (f.frame_type != AMQP_FRAME_METHOD)
			continue;
		if (is_close(f.payload.method.id)) {
			log_close(c, &f);
			return -1;
		}
		if (f.payload.method.id == AMQP_BASIC_DELIVER_METHOD) {
			amqp_basic_deliver_t *m = f.payload.method.decoded;
			d->tag = m->delivery_tag;
			r = read_content(c, d);
			amqp_maybe_release_buffers(c->st);
			return r == 0 ? 1 : -1;
		}
		if (f.payload.method.id == AMQP_BASIC_RETURN_METHOD && take_return(c, &f, NULL, NULL) == -1)
			return -1;
	}
}

int rpc_conn_ack_now(struct rpc_conn *c, uint64_t tag, bool multiple)
{
	return amqp_basic_ack(c->st, 1, tag, multiple) == AMQP_STATUS_OK ? 0 : -1;
}

int rpc_conn_qos(struct rpc_conn *c, unsigned prefetch)
{
	amqp_basic_qos(c->st, 1, 0, (uint16_t)(prefetch > 65535 ? 65535 : prefetch), 0);
	return check(c->st, "basic.qos");
}

int rpc_conn_reject(struct rpc_conn *c, uint64_t tag)
{
	return amqp_basic_reject(c->st, 1, tag, 0) == AMQP_STATUS_OK ? 0 : -1;
}

/* kombu's properties for every message (research/oslo-messaging-wire.md),
 * and the user_id of the connection's user: the broker refuses a message
 * whose user_id is not its publisher's (406 PRECONDITION_FAILED), so a
 * receiver knows who sent it. oslo peers ignore the property. */
static void oslo_properties(amqp_basic_properties_t *p, const char *expiration,
    const char *user)
{
	memset(p, 0, sizeof *p);
	p->_flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_CONTENT_ENCODING_FLAG |
	    AMQP_BASIC_HEADERS_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG |
	    AMQP_BASIC_PRIORITY_FLAG;
	p->content_type = amqp_cstring_bytes("application/json");
	p->content_encoding = amqp_cstring_bytes("utf-8");
	p->headers = amqp_empty_table;
	p->delivery_mode = 2;
	p->priority = 0;
	if (expiration != NULL) {
		p->_flags |= AMQP_BASIC_EXPIRATION_FLAG;
		p->expiration = amqp_cstring_bytes(expiration);
	}
	if (user != NULL && user[0] != '\0') {
		p->_flags |= AMQP_BASIC_USER_ID_FLAG;
		p->user_id = amqp_cstring_bytes(user);
	}
}

/* ---- publishes written together ------------------------------------------ */

/* Room for n more bytes in the write buffer. */
static bool wroom(struct rpc_conn *c, size_t n)
{
	size_t cap = c->wcap ? c->wcap : 65536;
	char *nb;

	if (c->wlen + n <= c->wcap)
		return true;
	while (cap < c->wlen + n)
		cap *= 2;
	if ((nb = realloc(c->wbuf, cap)) == NULL)
		return false;
	c->wbuf = nb;
	c->wcap = cap;
	return true;
}

static void put_u16(char *p, uint16_t v)
{
	p[0] = (char)(v >> 8);
	p[1] = (char)v;
}

static void put_u32(char *p, uint32_t v)
{
	put_u16(p, (uint16_t)(v >> 16));
	put_u16(p + 2, (uint16_t)v);
}

/* One frame on channel ch around the n payload bytes already written at
 * c->wbuf + c->wlen + 7 (room for n + 8 is there). */
static void wframe(struct rpc_conn *c, amqp_channel_t ch, uint8_t type, size_t n)
{
	char *f = c->wbuf + c->wlen;

	f[0] = (char)type;
	put_u16(f + 1, ch);
	put_u32(f + 3, (uint32_t)n);
	f[7 + n] = (char)AMQP_FRAME_END;
	c->wlen += n + 8;
}

/* Appends the frames of one publish on channel ch to the write buffer.
 * 0, or -1 (out of memory; nothing appended). */
static int queue_on(struct rpc_conn *c, amqp_channel_t ch, const char *exchange,
    const char *key, bool mandatory, const char *expiration, const void *body, size_t len)
{
	size_t room = 2 * RPC_NAME_MAX + 1024, chunk = (size_t)amqp_get_frame_max(c->st) - 8;
	size_t start = c->wlen;
	amqp_basic_publish_t m;
	amqp_basic_properties_t p;
	char *pay;
	int n;

	if (!wroom(c, room + len + (len / chunk + 1) * 8))
		return -1;
	/* basic.publish: class and method ids, then its arguments. */
	memset(&m, 0, sizeof m);
	m.exchange = amqp_cstring_bytes(exchange);
	m.routing_key = amqp_cstring_bytes(key);
	m.mandatory = mandatory;
	pay = c->wbuf + c->wlen + 7;
	put_u32(pay, AMQP_BASIC_PUBLISH_METHOD);
	n = amqp_encode_method(AMQP_BASIC_PUBLISH_METHOD, &m,
	    (amqp_bytes_t){ RPC_NAME_MAX * 2 + 16, pay + 4 });
	if (n < 0)
		goto fail;
	wframe(c, ch, AMQP_FRAME_METHOD, 4 + (size_t)n);
	/* The content header: class, weight, body size, properties. */
	pay = c->wbuf + c->wlen + 7;
	oslo_properties(&p, expiration, c->user);
	put_u16(pay, AMQP_BASIC_CLASS);
	put_u16(pay + 2, 0);
	put_u32(pay + 4, (uint32_t)((uint64_t)len >> 32));
	put_u32(pay + 8, (uint32_t)len);
	n = amqp_encode_properties(AMQP_BASIC_CLASS, &p, (amqp_bytes_t){ 640, pay + 12 });
	if (n < 0)
		goto fail;
	wframe(c, ch, AMQP_FRAME_HEADER, 12 + (size_t)n);
	for (size_t off = 0; off < len; off += chunk) {
		size_t k = len - off < chunk ? len - off : chunk;
		memcpy(c->wbuf + c->wlen + 7, (const char *)body + off, k);
		wframe(c, ch, AMQP_FRAME_BODY, k);
	}
	return 0;
fail:
	c->wlen = start;
	return -1;
}

int rpc_conn_queue(struct rpc_conn *c, const char *exchange, const char *key,
    bool mandatory, const void *body, size_t len)
{
	if (queue_on(c, 1, exchange, key, mandatory, NULL, body, len) == -1)
		return -1;
	c->last_tag++;
	return 0;
}

int rpc_conn_write(struct rpc_conn *c)
{
	int fd = amqp_get_sockfd(c->st);
	size_t off = 0;

	while (off < c->wlen) {
		ssize_t w = send(fd, c->wbuf + off, c->wlen - off, MSG_NOSIGNAL);
		if (w > 0) {
			off += (size_t)w;
			continue;
		}
		if (w == -1 && (errno == EAGAIN || errno == EINTR)) {
			struct pollfd pf = { .fd = fd, .events = POLLOUT };
			if (poll(&pf, 1, RPC_TIMEOUT_MS) == 1)
				continue;
			log_warnx("rpc: the broker takes no data for %d ms", RPC_TIMEOUT_MS);
		} else {
			log_warn("rpc: write to the broker");
		}
		c->wlen = 0;
		return -1;
	}
	c->wlen = 0;
	if (c->wcap > (1u << 20)) { /* one big message: give the memory back */
		free(c->wbuf);
		c->wbuf = NULL;
		c->wcap = 0;
	}
	c->last_used_ms = now_ms();
	return 0;
}

/* One publish, written at once. */
static int send_on(struct rpc_conn *c, amqp_channel_t ch, const char *exchange,
    const char *key, bool mandatory, const char *expiration, const void *body, size_t len)
{
	if (queue_on(c, ch, exchange, key, mandatory, expiration, body, len) == -1) {
		log_warnx("rpc: publish to %s/%s: out of memory", exchange, key);
		return -1;
	}
	return rpc_conn_write(c);
}

int rpc_conn_send(struct rpc_conn *c, const char *exchange, const char *key,
    bool mandatory, const char *expiration, const void *body, size_t len)
{
	if (send_on(c, 1, exchange, key, mandatory, expiration, body, len) == -1)
		return -1;
	c->last_tag++;
	return 0;
}

int rpc_conn_send_unconfirmed(struct rpc_conn *c, const char *exchange,
    const char *key, bool mandatory, const char *expiration, const void *body,
    size_t len)
{
	return send_on(c, 2, exchange, key, mandatory, expiration, body, len);
}

enum rpc_pub_status rpc_conn_confirm(struct rpc_conn *c, uint64_t deadline_ms)
{
	bool returned = false;
	amqp_frame_t f;
	int r;

	for (;;) {
		r = wait_frame(c, &f, (int64_t)(deadline_ms - now_ms()));
		if (r == 0)
			log_warnx("rpc: no publisher confirm in time");
		if (r != 1)
			return RPC_PUB_BROKEN;
		if (f.frame_type != AMQP_FRAME_METHOD)
			continue;
		switch (f.payload.method.id) {
		case AMQP_BASIC_ACK_METHOD:
			if (((amqp_basic_ack_t *)f.payload.method.decoded)->delivery_tag >= c->last_tag) {
				amqp_maybe_release_buffers(c->st);
				c->last_confirm_ms = now_ms();
				return returned ? RPC_PUB_RETURNED : RPC_PUB_OK;
			}
			break;
		case AMQP_BASIC_NACK_METHOD:
			log_warnx("rpc: a publish was refused by the broker (basic.nack)");
			return RPC_PUB_NACKED;
		case AMQP_BASIC_RETURN_METHOD:
			if (take_return(c, &f, &returned, NULL) == -1)
				return RPC_PUB_BROKEN;
			break;
		default:
			if (is_close(f.payload.method.id)) {
				log_close(c, &f);
				return RPC_PUB_BROKEN;
			}
		}
	}
}

enum rpc_pub_status rpc_conn_publish(struct rpc_conn *c, const char *exchange,
    const char *key, bool mandatory, const char *expiration,
    const void *body, size_t len, uint64_t deadline_ms)
{
	if (rpc_conn_send(c, exchange, key, mandatory, expiration, body, len) == -1)
		return RPC_PUB_BROKEN;
	return rpc_conn_confirm(c, deadline_ms);
}

int rpc_conn_next_confirm(struct rpc_conn *c, int timeout_ms, uint64_t *tag,
    bool *multiple, bool *nack, struct rpc_delivery *ret)
{
	bool returned = false;
	uint64_t deadline = now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
	amqp_frame_t f;
	int r;

	for (;;) {
		r = wait_frame(c, &f, (int64_t)(deadline - now_ms()));
		if (r != 1)
			return r;
		if (f.frame_type != AMQP_FRAME_METHOD)
			continue;
		switch (f.payload.method.id) {
		case AMQP_BASIC_ACK_METHOD: {
			amqp_basic_ack_t *m = f.payload.method.decoded;
			*tag = m->delivery_tag;
			*multiple = m->multiple;
			*nack = false;
			amqp_maybe_release_buffers(c->st);
			c->last_confirm_ms = now_ms();
			return 1;
		}
		case AMQP_BASIC_NACK_METHOD: {
			amqp_basic_nack_t *m = f.payload.method.decoded;
			*tag = m->delivery_tag;
			*multiple = m->multiple;
			*nack = true;
			amqp_maybe_release_buffers(c->st);
			return 1;
		}
		case AMQP_BASIC_RETURN_METHOD:
			if (take_return(c, &f, &returned, ret) == -1)
				return -1;
			if (returned && ret != NULL)
				return 2;
			break;
		default:
			if (is_close(f.payload.method.id)) {
				log_close(c, &f);
				return -1;
			}
		}
	}
}

int rpc_conn_fd(const struct rpc_conn *c)
{
	return amqp_get_sockfd(c->st);
}

bool rpc_conn_buffered(const struct rpc_conn *c)
{
	return amqp_frames_enqueued(c->st) || amqp_data_in_buffer(c->st);
}

int rpc_conn_service(struct rpc_conn *c)
{
	amqp_frame_t f;
	int r;

	while ((r = wait_frame(c, &f, 0)) == 1) {
		if (f.frame_type != AMQP_FRAME_METHOD)
			continue;
		if (is_close(f.payload.method.id)) {
			log_close(c, &f);
			return -1;
		}
		if (f.payload.method.id == AMQP_BASIC_RETURN_METHOD &&
		    take_return(c, &f, NULL, NULL) == -1)
			return -1;
	}
	amqp_maybe_release_buffers(c->st);
	return r;
}

int rpc_conn_send_heartbeat(struct rpc_conn *c)
{
	amqp_frame_t f;

	memset(&f, 0, sizeof f);
	f.frame_type = AMQP_FRAME_HEARTBEAT;
	f.channel = 0;
	return amqp_send_frame(c->st, &f) == AMQP_STATUS_OK ? 0 : -1;
}
