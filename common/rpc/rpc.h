/*
 * common/rpc: oslo.messaging-compatible RPC over RabbitMQ (librabbitmq-c).
 *
 * Wire format: ../shared/research/oslo-messaging-wire.md. A kumo process and
 * a Python oslo.messaging process can call and cast to each other.
 *
 *   transport   one per process: broker URL(s), connections, reply queue
 *   client      rpc_call (waits for the reply), rpc_cast (one way),
 *               fanout cast (target.fanout = true)
 *   server      topic + server name, a method table, a bounded worker pool
 *
 * Threading model: a transport and its servers may be used from any number
 * of threads at once. rpc_call blocks only its calling thread. Handlers run
 * on the server's worker threads, several at a time; a handler must be
 * thread-safe with respect to its `arg`. librabbitmq connections are not
 * thread-safe, so each one has exactly one user at a time:
 *
 *   publish pool  rpc_call and servers' replies take a connection
 *                 from the transport's pool (up to 32, made on demand),
 *                 publish and put it back, without waiting for a
 *                 publisher confirm: a request's reply, or the call's
 *                 timeout, tells whether it arrived (as it would if the
 *                 server died), and the broker would confirm on the
 *                 critical path of the round trip. A pooled connection
 *                 idle for a second is checked for life first. Replies are
 *                 mandatory: one whose reply queue does not exist comes
 *                 back and the service thread retries it every 250 ms for
 *                 60 s (as oslo does).
 *   outbox        rpc_cast queues its message for the transport's cast
 *                 publisher (one thread and one confirm-mode connection,
 *                 started by the first cast) and returns. The publisher
 *                 writes what waits together (up to 256 casts in one
 *                 write), does not wait for each confirm, and keeps every
 *                 message until the broker confirmed it; after a nack or a
 *                 lost connection it reconnects and sends the unconfirmed
 *                 ones again, in order (receivers drop copies by
 *                 _unique_id). At most 4096 messages / 64 MB wait; a full
 *                 outbox makes rpc_cast wait (backpressure) until a
 *                 quarter of it is free.
 *   replies       one reply queue per transport on one connection. Waiting
 *                 callers read it in turn: the reader completes the calls
 *                 its deliveries answer (condvar per call) and, once its
 *                 own reply is in, passes the turn on. No thread handoff for
 *                 a sequential caller.
 *   service       one thread per transport, started on first use:
 *                 reconnects the reply consumer, reads it while no call
 *                 waits, reads idle pool connections every second
 *                 (heartbeats, returned replies), retries returned replies.
 *   server        one listen thread per server owns the listen connection
 *                 (connect, declare, reconnect, stop, call-monitor
 *                 heartbeats); the `workers` threads read it in turn
 *                 (leader/followers): the worker that reads a request acks
 *                 it (one basic.ack covers what was read together, sent
 *                 before the reader blocks), runs it itself and replies
 *                 through the publish pool,
 *                 then reads on; an idle standby worker takes the reading
 *                 over when a request runs longer than 2 ms (so a slow
 *                 handler delays the next request by at most that). At
 *                 most `workers` requests run at once; beyond that the
 *                 broker queues.
 *
 * Every wait inside the library has a timeout (librabbitmq retries EINTR),
 * so stop and free return promptly (free waits for unconfirmed casts, see
 * rpc_transport_flush); library threads block all signals.
 * rpc_transport_free must not race with calls in progress, and servers
 * must be freed before their transport.
 *
 * JSON ownership follows jansson: `args` passed to rpc_call/rpc_cast is
 * stolen (freed by the library, even on error); a handler's `args` is
 * borrowed; a handler's *result is owned by the library once returned;
 * rpc_call's *result is the caller's.
 */
#ifndef KUMO_RPC_H
#define KUMO_RPC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Request context: travels as `_context_<key>` entries of the message. */
struct rpc_ctx {
	char request_id[64];  /* "req-<uuid>" */
	char user_id[128];
	char project_id[128];
	bool is_admin;
	json_t *roles;        /* array of strings or NULL; owned */
	json_t *extra;        /* every other _context_ key received, or NULL; owned */
	/* A received message's AMQP user_id property ("" when absent): the
	 * broker refuses one that is not the publisher's user, so a handler
	 * may trust it (the conductor knows a compute host by it). Never
	 * sent: every publish carries its own connection's user. */
	char bus_user[256];
};

void rpc_ctx_init(struct rpc_ctx *ctx, const char *request_id,
    const char *user_id, const char *project_id, bool is_admin);
void rpc_ctx_clear(struct rpc_ctx *ctx); /* frees roles/extra */
/* A fresh context for a process's own work (periodic tasks): new request id. */
void rpc_ctx_init_service(struct rpc_ctx *ctx);

enum rpc_err_kind {
	RPC_ERR_NONE = 0,
	RPC_ERR_REMOTE,    /* the server's handler failed: cls/module/message */
	RPC_ERR_TIMEOUT,   /* no reply within the timeout (oslo MessagingTimeout) */
	RPC_ERR_TRANSPORT, /* broker unreachable, publish refused, etc. */
	RPC_ERR_INVALID,   /* bad arguments to the library call */
};

struct rpc_error {
	enum rpc_err_kind kind;
	char cls[128];     /* e.g. "ValueError", "NoSuchMethod", "NoValidHost" */
	char module[128];  /* e.g. "builtins", "oslo_messaging.rpc.dispatcher" */
	char message[1024];
};

/* Fill an error (handlers use this to fail a call). module NULL = "kumo". */
void rpc_error_set(struct rpc_error *err, const char *cls, const char *module,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

struct rpc_conf {
	const char *transport_url;    /* rabbit://u:p@h1:5672,u:p@h2:5672/vhost */
	const char *control_exchange; /* default "kumo" when NULL */
	int default_timeout_s;        /* rpc_response_timeout; 60 when 0 */
	int heartbeat_s;              /* AMQP heartbeat; 60 when 0, -1 = off */
	/* [oslo_messaging_rabbit], oslo's names: topic exchanges and queues
	 * durable and messages persistent so that waiting work survives a
	 * broker restart; quorum queues (replicated, durable); the x-expires
	 * of reply and fanout queues in seconds (1800 when 0). Every peer on
	 * the exchange must say the same. */
	bool amqp_durable_queues;
	bool rabbit_quorum_queue;
	int rabbit_transient_queues_ttl;
	/* The reply queue is reply_<reply_tag>_<hex> when set (1 to 64 of
	 * letters, digits, '.' and '-'), a name a broker permission can
	 * single out; else oslo's reply_<hex>. Callees reply to whatever
	 * name a call carries. */
	const char *reply_tag;
};

struct rpc_transport;

/* Sets conf's queue options from a word, for tools' --queues: "transient"
 * (oslo's default), "durable" (amqp_durable_queues) or "quorum". 0, or -1
 * for any other word. */
int rpc_conf_queues(struct rpc_conf *conf, const char *word);

/* Parses the URL and returns at once; connections are made on first use
 * and re-made after a broker failure (backoff 1 s, +2 s, up to 30 s,
 * round robin over the hosts). NULL on a bad URL (logged).
 * URL: rabbit://user:pass@host:port,user:pass@host2:port/vhost; user,
 * password and vhost percent-decoded; port 5672 by default; an empty path
 * or "/" is the vhost "/", "/kumo1" the vhost "kumo1". */
struct rpc_transport *rpc_transport_new(const struct rpc_conf *conf);
void rpc_transport_free(struct rpc_transport *t);

struct rpc_target {
	const char *exchange;  /* NULL = the transport's control_exchange */
	const char *topic;     /* required */
	const char *server;    /* NULL = any server of the topic */
	bool fanout;           /* cast to every server of the topic */
	const char *version;   /* sent as "version" when set */
	const char *namespace; /* sent as "namespace" when set */
};

/* Waits for the reply up to timeout_ms (0 = the transport's default).
 * 0 and *result (JSON null when the method returned nothing), or -1 and
 * err. Never blocks longer than the timeout, even when the broker is down. */
int rpc_call(struct rpc_transport *t, const struct rpc_target *target,
    const struct rpc_ctx *ctx, const char *method, json_t *args,
    int timeout_ms, json_t **result, struct rpc_error *err);

/* Queues the message in the transport's outbox and returns: 0 means the
 * library owns it and publishes it until the broker confirms it, across
 * broker restarts and reconnects. It is lost only when the transport is
 * freed first (logged with how many) or the process dies without freeing
 * it (crash, SIGKILL): a caller that must know the broker has it before
 * it answers someone calls rpc_transport_flush. Casts from one thread
 * reach the broker in order (a message published again after a reconnect
 * may arrive twice; servers drop the copy by _unique_id). -1 and err
 * (RPC_ERR_TRANSPORT) when the outbox stayed full for the transport's
 * timeout, e.g. during a long outage. */
int rpc_cast(struct rpc_transport *t, const struct rpc_target *target,
    const struct rpc_ctx *ctx, const char *method, json_t *args,
    struct rpc_error *err);

/* Waits until every cast made before the call is confirmed by the broker,
 * up to timeout_ms (0 = the transport's default). 0, or -1 (logged with
 * how many are outstanding; they stay queued). rpc_transport_free does
 * this for up to 10 s (at most the default timeout) before it stops. */
int rpc_transport_flush(struct rpc_transport *t, int timeout_ms);

/* A server method. Return 0 with *result set (NULL means JSON null), or -1
 * with err filled (sent as an oslo failure to callers; casts just log). */
typedef int (*rpc_handler_fn)(void *arg, const struct rpc_ctx *ctx,
    json_t *args, json_t **result, struct rpc_error *err);

struct rpc_method {
	const char *name;
	rpc_handler_fn fn;
};

struct rpc_server_conf {
	const char *topic;     /* required */
	const char *server;    /* required: the T.S queue's S */
	const char *exchange;  /* NULL = control_exchange */
	const struct rpc_method *methods; /* table, n_methods entries, borrowed */
	size_t n_methods;
	void *arg;             /* passed to every handler */
	int workers;           /* worker threads; 8 when 0 */
	/* oslo Target matching (optional): a request whose "namespace"
	 * differs (absent = NULL), or whose "version" is not compatible with
	 * this one (same major, minor <= ours; NULL accepts any), is answered
	 * with UnsupportedVersion. */
	const char *namespace;
	const char *version;
	/* Optional: a reason to refuse a request whose context this judges
	 * (its bus_user), NULL to run it. A refused call is answered with
	 * NotAuthorized, a refused cast dropped; either is logged. */
	const char *(*refuse)(const struct rpc_ctx *ctx);
};

struct rpc_server;

struct rpc_server *rpc_server_new(struct rpc_transport *t,
    const struct rpc_server_conf *conf);
/* Declares exchanges, queues, bindings and starts consuming. Returns 0 once
 * consuming, -1 when the broker cannot be reached within timeout_ms. Either
 * way the server keeps (re)connecting in the background until stopped; a
 * later call waits again. */
int rpc_server_start(struct rpc_server *s, int timeout_ms);
/* Several servers (e.g. topics scheduler and conductor) share a transport. */
/* Stop consuming (unread messages go back to their queues), delete the
 * fanout queue, let in-flight handlers finish up to grace_ms (logged when
 * some do not). rpc_server_free waits for stuck handlers. */
void rpc_server_stop(struct rpc_server *s, int grace_ms);
void rpc_server_free(struct rpc_server *s);
/* True while the server's connection is up and consuming (for watchdogs). */
bool rpc_server_healthy(const struct rpc_server *s);

#endif
