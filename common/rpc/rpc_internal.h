/*
 * common/rpc internals, shared by the files of common/rpc/ and the unit
 * tests (tests/unit/test_rpc_codec.c). Not for the daemons: they include
 * rpc.h only.
 *
 *   url.c        transport_url parsing
 *   codec.c      envelope, context, request, reply and failure (de)coding
 *   conn.c       one AMQP connection: open with backoff, declare, publish
 *                with confirms, read deliveries with a size cap
 *   transport.c  the transport: publisher pool, service thread (reply
 *                consumer, pool heartbeats), table of pending calls
 *   outbox.c     casts: the publisher thread, pipelined confirms
 *   client.c     rpc_call, rpc_cast
 *   server.c     rpc_server_*: listen thread (connection owner), entity
 *                declaration, checks of each delivery
 *   dispatch.c   worker pool (leader/followers), method dispatch, replies
 */
#ifndef KUMO_RPC_INTERNAL_H
#define KUMO_RPC_INTERNAL_H

#include <amqp.h>
#include <pthread.h>
#include <stdint.h>

#include "common/common.h"
#include "common/rpc/rpc.h"

#define RPC_MAX_BODY (16u << 20)       /* bigger messages are rejected */
#define RPC_MAX_HOSTS 16
#define RPC_QUEUE_TTL_S 1800           /* x-expires of reply and fanout queues */
#define RPC_ENVELOPE_VERSION "2.0"
/* The start of kumo's envelope, as jansson's compact dump writes it. */
#define RPC_ENV_HEAD "{\"oslo.version\":\"" RPC_ENVELOPE_VERSION "\",\"oslo.message\":\""
#define RPC_ID_MAX 64                  /* _msg_id, _unique_id: uuid hex in practice */
#define RPC_FRAME_MAX 131072
#define RPC_DEDUP 128                  /* _unique_id history per server (oslo
                                        * keeps 16; kumo covers what a
                                        * reconnect may deliver again) */
#define RPC_NAME_MAX 256               /* exchange, queue, routing key */

/* ---- url.c -------------------------------------------------------------- */

struct rpc_host {
	char host[256];
	int port;
	char user[256];
	char pass[256];
};

struct rpc_url {
	struct rpc_host hosts[RPC_MAX_HOSTS];
	size_t n_hosts;
	char vhost[256];
};

/* rabbit://u:p@h1:5672,u:p@h2/vhost. A host without credentials takes the
 * previous host's (guest/guest for the first). 0, or -1 with err filled. */
int rpc_url_parse(const char *url, struct rpc_url *out, char *err, size_t errlen);

/* ---- codec.c ------------------------------------------------------------ */

enum rpc_decode_status {
	RPC_DEC_OK = 0,
	RPC_DEC_TOO_BIG,     /* over RPC_MAX_BODY */
	RPC_DEC_BAD_JSON,    /* body or oslo.message is not JSON */
	RPC_DEC_BAD_VERSION, /* oslo.version not 2.x */
	RPC_DEC_NOT_OBJECT,  /* the message is not a JSON object */
};

/* A fresh uuid4 as 32 hex digits (_msg_id, _unique_id), cheaply. */
void rpc_id_new(char out[UUID_HEX_LEN]);

/* The body for msg: {"oslo.version": "2.0", "oslo.message": "<msg>"}.
 * Returns a malloc'd buffer (*len bytes, NUL-terminated) or NULL. */
char *rpc_envelope_encode(const json_t *msg, size_t *len);
/* The message text of a body in the exact envelope form kumo or oslo
 * writes, unescaped (malloc'd, *n bytes, NUL-terminated); NULL for any
 * other form, or an escape left to jansson (\u0000, a lone surrogate). */
char *rpc_envelope_text(const void *body, size_t len, size_t *n);
/* One JSON escape, after its backslash at *s (text up to end), decoded
 * to UTF-8 at *o; both advance. false for \u0000, a lone surrogate or an
 * escape JSON does not have. */
bool rpc_json_unescape(const char **s, const char *end, char **o);
/* The message inside a body (envelope 2.0, or an envelope-less dict).
 * *out is a new reference on RPC_DEC_OK; err names the reason otherwise. */
enum rpc_decode_status rpc_envelope_decode(const void *body, size_t len,
    json_t **out, char *err, size_t errlen);

/* Adds the `_context_*` keys for ctx to msg (NULL ctx: an empty one). */
int rpc_ctx_encode(const struct rpc_ctx *ctx, json_t *msg);
/* A context key struct rpc_ctx models (not kept in extra). */
bool rpc_ctx_modelled(const char *key);
/* Removes every `_context_*` key from msg into ctx (initialised here).
 * 0, or -1 with err (a field of the wrong type or too long). */
int rpc_ctx_decode(json_t *msg, struct rpc_ctx *ctx, char *err, size_t errlen);

/* A request as the server sees it. Strings borrow from msg. */
struct rpc_request {
	json_t *msg;            /* owned; NULL when read by rpc_request_fast */
	char *text;             /* owned: rpc_request_fast's strings point here */
	const char *method;
	json_t *args;           /* owned, an object */
	const char *namespace;  /* NULL when absent */
	const char *version;    /* NULL when absent ("1.0") */
	const char *msg_id;     /* NULL for casts */
	const char *reply_q;    /* set when msg_id is */
	const char *unique_id;  /* NULL when absent */
	int monitor_s;          /* _timeout (call monitor), 0 when null */
	struct rpc_ctx ctx;
	struct rpc_error *invalid; /* owned; set: answer with this failure */
	uint64_t tag;           /* its delivery: acked once it ran (0: none) */
	unsigned gen;           /* the pool's connection it came on */
};

/* Takes msg (stolen, even on error). 0, or -1 with err filled; on -1
 * req->msg_id/reply_q are still set when the message had valid ones, so
 * the caller can answer with the failure. */
int rpc_request_decode(json_t *msg, struct rpc_request *req, struct rpc_error *err);
void rpc_request_clear(struct rpc_request *req);
/* request.c: the request of an envelope body read without a jansson tree,
 * for the forms kumo and oslo write: 0, or -1 (req cleared) when it
 * declines; rpc_envelope_decode and rpc_request_decode judge the body then
 * and give the same request for any body this accepts. */
int rpc_request_fast(const void *body, size_t len, struct rpc_request *req);
/* The envelope body rpc_envelope_encode(rpc_request_encode(...)) gives,
 * byte for byte, written directly (args stolen). NULL when that is. */
char *rpc_request_body(const struct rpc_target *target, const struct rpc_ctx *ctx,
    const char *method, json_t *args, const char *msg_id, const char *reply_q,
    const char *unique_id, size_t *len);

/* args stolen (NULL = {}). msg_id/reply_q NULL for a cast; monitor_s 0 =
 * `_timeout` null. Returns a new object or NULL. */
json_t *rpc_request_encode(const struct rpc_target *target,
    const struct rpc_ctx *ctx, const char *method, json_t *args,
    const char *msg_id, const char *reply_q, const char *unique_id);

/* A reply: result stolen (NULL = null); failure NULL for a success. */
json_t *rpc_reply_encode(const char *msg_id, const char *unique_id,
    json_t *result, const struct rpc_error *failure, bool ending);

struct rpc_reply {
	const char *msg_id;     /* borrowed from the message */
	bool ending;
	bool heartbeat;         /* ending false, result and failure null */
	bool failed;            /* err holds the remote failure */
	json_t *result;         /* borrowed */
	struct rpc_error err;
};
/* msg borrowed; the reply borrows from it. 0, or -1 with why. */
int rpc_reply_decode(json_t *msg, struct rpc_reply *r, char *why, size_t whylen);

/* The failure string of a reply: {"class", "module", "message", "tb",
 * "args", "kwargs"} as JSON text. Returns a new string or NULL. */
char *rpc_failure_encode(const struct rpc_error *e);
/* Parses a failure string into e (kind RPC_ERR_REMOTE). 0 or -1. */
int rpc_failure_decode(const char *s, struct rpc_error *e);

/* ---- conn.c ------------------------------------------------------------- */

struct rpc_transport;
struct rpc_delivery;

struct rpc_conn {
	amqp_connection_state_t st;
	struct rpc_transport *t; /* gets channel 2's returned messages */
	const char *user;        /* the user it logged in as: every publish's user_id */
	uint64_t last_tag;       /* publisher confirms: tag of the last publish */
	uint64_t last_used_ms;
	uint64_t last_confirm_ms; /* the last publish the broker confirmed */
	char *wbuf;              /* rpc_conn_queue's frames, wlen bytes */
	size_t wlen, wcap;
	int next_consumer;       /* consumer tags "1", "2", ... as oslo */
	char *declared[8];       /* exchanges declared on this connection */
	size_t n_declared;
	struct rpc_conn *next;   /* pool list */
};

/* Opens a connection (channel 1; confirm mode and channel 2 without
 * confirms when confirms) to the next
 * host, honouring the transport's reconnect backoff. Gives up at
 * deadline_ms (0 = never) or when *stop becomes true. NULL on failure. */
struct rpc_conn *rpc_conn_open(struct rpc_transport *t, bool confirms,
    uint64_t deadline_ms, const volatile bool *stop);
/* Closes politely (channel.close, connection.close) when polite, else just
 * drops the socket (after an error). NULL is fine. */
void rpc_conn_free(struct rpc_conn *c, bool polite);

/* Exchanges and queues as oslo.messaging declares them: a topic exchange
 * and the topic and server queues durable (quorum queues: durable, with
 * x-queue-type quorum) when the transport's [oslo_messaging_rabbit] says
 * so; fanout exchanges auto-delete; reply and fanout queues transient,
 * with x-expires (rabbit_transient_queues_ttl). A peer that declares the
 * same name differently makes the broker close the channel. */
int rpc_conn_declare_exchange(struct rpc_conn *c, const char *name,
    const char *type);
enum rpc_queue_kind {
	RPC_Q_WORK,       /* a topic or server queue: work waits there */
	RPC_Q_TRANSIENT,  /* reply and fanout queues */
};
int rpc_conn_declare_queue(struct rpc_conn *c, const char *name,
    enum rpc_queue_kind kind);
int rpc_conn_bind(struct rpc_conn *c, const char *queue,
    const char *exchange, const char *key);
/* Manual acks as oslo consumes; no_ack for the caller's own reply queue. */
int rpc_conn_consume(struct rpc_conn *c, const char *queue, bool no_ack);
int rpc_conn_delete_queue(struct rpc_conn *c, const char *queue);

enum rpc_pub_status {
	RPC_PUB_OK = 0,
	RPC_PUB_RETURNED,  /* mandatory and unroutable (basic.return) */
	RPC_PUB_NACKED,    /* the broker refused it (basic.nack) */
	RPC_PUB_BROKEN,    /* the connection failed: drop it, retry elsewhere */
};
/* Publishes with the oslo properties and waits for the confirm until
 * deadline_ms. expiration NULL = none. rpc_conn_send and rpc_conn_confirm
 * are its two halves. */
int rpc_conn_send(struct rpc_conn *c, const char *exchange, const char *key,
    bool mandatory, const char *expiration, const void *body, size_t len);
enum rpc_pub_status rpc_conn_confirm(struct rpc_conn *c, uint64_t deadline_ms);
enum rpc_pub_status rpc_conn_publish(struct rpc_conn *c, const char *exchange,
    const char *key, bool mandatory, const char *expiration,
    const void *body, size_t len, uint64_t deadline_ms);
/* Publishes on channel 2 of a confirm-mode connection: no confirm. A
 * mandatory message that cannot be routed comes back later (basic.return)
 * to whoever reads the connection next: conn.c hands it to
 * rpc_transport_returned. */
int rpc_conn_send_unconfirmed(struct rpc_conn *c, const char *exchange,
    const char *key, bool mandatory, const char *expiration, const void *body,
    size_t len);

/* Publisher confirms read one at a time (for pipelined publishing): waits
 * up to timeout_ms for a basic.ack or basic.nack and returns 1 with its
 * delivery tag and multiple flag, 0 when none came, -1 when the
 * connection failed. A mandatory publish the broker could not route comes
 * back (basic.return) before its ack: 2, and ret holds its body (the
 * caller's to free). */
int rpc_conn_next_confirm(struct rpc_conn *c, int timeout_ms, uint64_t *tag,
    bool *multiple, bool *nack, struct rpc_delivery *ret);
/* The socket, to poll it together with other descriptors; and whether
 * frames are already read into librabbitmq's buffers (poll would not see
 * them). */
int rpc_conn_fd(const struct rpc_conn *c);
/* Publishes written together: rpc_conn_queue puts the frames of one
 * confirmed publish (what rpc_conn_send sends, no expiration) into the
 * connection's write buffer and counts its tag;
 * rpc_conn_write sends what is queued in as few write(2)s as the socket
 * takes. 0, or -1 (out of memory; the connection failed). */
int rpc_conn_queue(struct rpc_conn *c, const char *exchange, const char *key,
    bool mandatory, const void *body, size_t len);
int rpc_conn_write(struct rpc_conn *c);
bool rpc_conn_buffered(const struct rpc_conn *c);

struct rpc_delivery {
	uint64_t tag;
	void *body;        /* malloc'd, NULL when too_big or empty */
	size_t len;
	bool too_big;      /* body over RPC_MAX_BODY, discarded */
	char user_id[256]; /* the user_id property, "" when absent */
};
/* Waits up to timeout_ms for a delivery. 1 with d filled, 0 on timeout,
 * -1 when the connection failed (or the broker cancelled a consumer). */
int rpc_conn_next_delivery(struct rpc_conn *c, int timeout_ms, struct rpc_delivery *d);
int rpc_conn_reject(struct rpc_conn *c, uint64_t tag);
/* One basic.ack now: tag alone, or every delivery up to it (multiple);
 * the pool (dispatch.c) decides which, once requests ran. */
int rpc_conn_ack_now(struct rpc_conn *c, uint64_t tag, bool multiple);
/* basic.qos: at most prefetch unacked deliveries per consumer. */
int rpc_conn_qos(struct rpc_conn *c, unsigned prefetch);
/* Lets the library send and check heartbeats on an idle connection.
 * 0, or -1 when the connection is gone. */
int rpc_conn_service(struct rpc_conn *c);
/* Sends a heartbeat frame (while a consumer cannot read). */
int rpc_conn_send_heartbeat(struct rpc_conn *c);

/* ---- transport.c -------------------------------------------------------- */

/* Condition variables on CLOCK_MONOTONIC (the clock of now_ms()). */
void rpc_cond_init(pthread_cond_t *cv);
/* pthread_cond_timedwait until deadline_ms; false once it has passed. */
bool rpc_cond_wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, uint64_t deadline_ms);

/* Borrowed views of the transport for the other files. */
const char *rpc_transport_exchange(const struct rpc_transport *t);
int rpc_transport_timeout_ms(const struct rpc_transport *t);
int rpc_transport_heartbeat_s(const struct rpc_transport *t);
/* The transport's queue declarations ([oslo_messaging_rabbit]). */
struct rpc_qopts {
	bool durable;          /* amqp_durable_queues, or quorum */
	bool quorum;           /* rabbit_quorum_queue */
	int transient_ttl_ms;  /* rabbit_transient_queues_ttl */
};
const struct rpc_qopts *rpc_transport_qopts(const struct rpc_transport *t);
const struct rpc_url *rpc_transport_url(const struct rpc_transport *t);

/* Reconnect backoff shared by a transport's connections: which host to try
 * next and when. rpc_backoff_wait sleeps until the next attempt may start
 * (0), or returns -1 at deadline_ms or on *stop. */
int rpc_backoff_wait(struct rpc_transport *t, uint64_t deadline_ms,
    const volatile bool *stop, size_t *host);
void rpc_backoff_result(struct rpc_transport *t, size_t host, bool ok);

/* Publishes through the pool, retrying on broken connections (with the
 * same body, so the receiver's _unique_id check drops duplicates) until
 * deadline_ms. exchange_type non-NULL declares the exchange first ("topic"
 * non-auto-delete, "fanout" auto-delete). */
enum rpc_pub_status rpc_publish(struct rpc_transport *t, const char *exchange,
    const char *exchange_type, const char *key, bool mandatory,
    const char *expiration, const void *body, size_t len, uint64_t deadline_ms);
/* The same without a confirm (channel 2), for messages whose arrival
 * something else proves: call requests (their reply, or the call's
 * timeout) and replies (the caller's wait; a mandatory reply that cannot
 * be routed comes back and is retried by the service thread). The broker
 * would otherwise confirm on the critical path of a round trip. A pooled
 * connection idle for a second is checked for life first. */
enum rpc_pub_status rpc_publish_unconfirmed(struct rpc_transport *t,
    const char *exchange, const char *exchange_type, const char *key,
    bool mandatory, const char *expiration, const void *body, size_t len,
    uint64_t deadline_ms);
/* A reply came back (basic.return on channel 2): body taken. The service
 * thread publishes it again every 250 ms for up to 60 s, as oslo retries
 * it, then drops it with a log line. */
void rpc_transport_returned(struct rpc_transport *t, const char *reply_q,
    char *body, size_t len);

/* Pending calls, matched by _msg_id by the reply consumer. */
struct rpc_pending {
	char msg_id[UUID_HEX_LEN];
	pthread_cond_t cv;
	bool done;
	json_t *result;          /* owned; last non-null result seen */
	struct rpc_error err;    /* kind != NONE when failed */
	struct rpc_pending *next;
};
/* Starts the reply consumer if needed and waits until the reply queue
 * exists. Copies its name to reply_q. 0, or -1 at deadline_ms. */
int rpc_reply_queue_ready(struct rpc_transport *t, uint64_t deadline_ms,
    char reply_q[RPC_NAME_MAX]);
void rpc_pending_add(struct rpc_transport *t, struct rpc_pending *p);
void rpc_pending_remove(struct rpc_transport *t, struct rpc_pending *p);
/* Waits until p is done or deadline_ms; removes p. true when done. */
bool rpc_pending_wait(struct rpc_transport *t, struct rpc_pending *p, uint64_t deadline_ms);

/* The transport's outbox, made on first use (NULL when it cannot be). */
struct rpc_outbox *rpc_transport_outbox(struct rpc_transport *t);

/* ---- outbox.c ----------------------------------------------------------- */

/* Casts in flight: one publisher thread per transport with its own
 * confirm-mode connection publishes them pipelined and keeps each until
 * the broker confirms it (published again after a nack or reconnect). */
struct rpc_outbox;
struct rpc_outbox *rpc_outbox_new(struct rpc_transport *t);
/* Queues a message (body taken, even on error). Waits while the outbox is
 * full, up to deadline_ms. 0, or -1 (full or stopping). */
int rpc_outbox_put(struct rpc_outbox *o, const char *exchange, bool fanout,
    const char *key, char *body, size_t len, uint64_t deadline_ms);
/* Waits until every message put before the call is confirmed. 0, or -1
 * with *left how many are not yet. */
int rpc_outbox_flush(struct rpc_outbox *o, uint64_t deadline_ms, size_t *left);
/* Stops the thread; unconfirmed messages are dropped with a log line. */
void rpc_outbox_free(struct rpc_outbox *o);

/* ---- dispatch.c --------------------------------------------------------- */

struct rpc_server;
struct rpc_pool;

/* A server's workers take turns reading the listen connection (leader and
 * followers): the worker that reads a request runs it itself and hands the
 * reading to an idle worker first, so a request costs no thread handoff.
 * At most `workers` requests run at once; while all run, nobody reads and
 * the broker holds the rest. The listen thread owns the connection: it
 * attaches it, takes it back when a reader found it broken or on stop. */
struct rpc_pool *rpc_pool_new(struct rpc_server *s, int workers);
void rpc_pool_attach(struct rpc_pool *p, struct rpc_conn *c);
/* Waits up to ms for a reader to report the connection broken. */
bool rpc_pool_wait_broken(struct rpc_pool *p, int ms);
/* Stops the reading (waits for the current reader) and returns the
 * connection, or NULL. */
struct rpc_conn *rpc_pool_detach(struct rpc_pool *p);
/* While every worker is busy, keeps the connection's heartbeats going. */
void rpc_pool_heartbeat(struct rpc_pool *p);
/* Stops the reading and waits up to grace_ms for running requests (and
 * those read ahead). Returns how many still run. */
int rpc_pool_drain(struct rpc_pool *p, int grace_ms);
/* Acks what ran of the deliveries of c, the connection just detached. */
void rpc_pool_settle(struct rpc_pool *p, struct rpc_conn *c);
/* How many unacked deliveries the pool can hold (running and read ahead). */
unsigned rpc_pool_prefetch(const struct rpc_pool *p);
/* Joins the workers (waits for stuck handlers) and frees. */
void rpc_pool_free(struct rpc_pool *p);
/* Sends call-monitor heartbeats for running calls that asked for them. */
void rpc_pool_monitor(struct rpc_pool *p);

/* What the pool needs from the server (server.c). */
struct rpc_transport *rpc_server_transport(const struct rpc_server *s);
struct rpc_pool *rpc_server_pool(const struct rpc_server *s);
const struct rpc_server_conf *rpc_server_conf_of(const struct rpc_server *s);
/* Reads one delivery (the caller holds the reading turn): checks it. 1
 * with *req to run (req->tag: its delivery, to ack once it ran), 0 nothing
 * to run (acked or rejected already), -1 broken. */
int rpc_server_read(struct rpc_server *s, struct rpc_conn *c, int timeout_ms,
    struct rpc_request *req);

/* Runs one request on the calling thread: dispatch, then the reply. */
void rpc_dispatch(struct rpc_server *s, struct rpc_request *req);
/* Sends a reply for msg_id to reply_q (mandatory, unconfirmed; a returned
 * reply is retried by the transport, see rpc_transport_returned). */
void rpc_send_reply(struct rpc_server *s, const char *msg_id,
    const char *reply_q, json_t *result, const struct rpc_error *failure,
    bool ending);

#endif
