/*
 * The client half: rpc_call and rpc_cast (research/oslo-messaging-wire.md
 * sections 3 and 5). A call registers itself as pending, publishes with
 * the timeout as `expiration` (unconfirmed: the reply proves arrival) and
 * waits for its reply (transport.c: callers read the reply queue in
 * turn). A cast is queued in the transport's outbox (outbox.c).
 */
#include <stdio.h>
#include <string.h>

#include "common/common.h"
#include "common/rpc/rpc_internal.h"

static int fail(struct rpc_error *err, enum rpc_err_kind kind, const char *cls,
    const char *msg)
{
	rpc_error_set(err, cls, "oslo_messaging.exceptions", "%s", msg);
	err->kind = kind;
	return -1;
}

static bool name_ok(const char *s)
{
	return s != NULL && s[0] != '\0' && strlen(s) <= RPC_NAME_MAX / 2 - 8; /* "T.S" must fit */
}

static int check_args(const struct rpc_target *target, const char *method,
    json_t *args, struct rpc_error *err)
{
	if (target == NULL || !name_ok(target->topic) || !name_ok(method) ||
	    (target->server != NULL && !name_ok(target->server)) ||
	    (target->exchange != NULL && !name_ok(target->exchange)) ||
	    (args != NULL && !json_is_object(args)))
		return fail(err, RPC_ERR_INVALID, "InvalidTarget",
		    "bad target, method or arguments");
	return 0;
}

/* Where a message for target goes: the exchange and routing key. */
static void route(struct rpc_transport *t, const struct rpc_target *target,
    char *exchange, char *key)
{
	if (target->fanout) {
		snprintf(exchange, RPC_NAME_MAX, "%s_fanout", target->topic);
		key[0] = '\0';
		return;
	}
	snprintf(exchange, RPC_NAME_MAX, "%s",
	    target->exchange ? target->exchange : rpc_transport_exchange(t));
	if (target->server != NULL)
		snprintf(key, RPC_NAME_MAX, "%s.%s", target->topic, target->server);
	else
		snprintf(key, RPC_NAME_MAX, "%s", target->topic);
}

/* Encodes the request (args stolen) into an envelope body. */
static char *encode(const struct rpc_target *target, const struct rpc_ctx *ctx,
    const char *method, json_t *args, const char *msg_id, const char *reply_q,
    size_t *len)
{
	char unique[UUID_HEX_LEN];

	rpc_id_new(unique);
	return rpc_request_body(target, ctx, method, args, msg_id, reply_q, unique, len);
}

int rpc_call(struct rpc_transport *t, const struct rpc_target *target,
    const struct rpc_ctx *ctx, const char *method, json_t *args,
    int timeout_ms, json_t **result, struct rpc_error *err)
{
	char exchange[RPC_NAME_MAX], key[RPC_NAME_MAX], reply_q[RPC_NAME_MAX];
	char expiration[24], msg[160];
	struct rpc_error local;
	struct rpc_pending p;
	enum rpc_pub_status st;
	uint64_t deadline;
	bool done;
	size_t len;
	char *body;

	if (err == NULL)
		err = &local;
	memset(err, 0, sizeof *err);
	if (result != NULL)
		*result = NULL;
	if (t == NULL || check_args(target, method, args, err) == -1 || target->fanout) {
		json_decref(args);
		return fail(err, RPC_ERR_INVALID, "InvalidTarget",
		    "a call needs a transport and a topic, and cannot fan out");
	}
	if (timeout_ms <= 0)
		timeout_ms = rpc_transport_timeout_ms(t);
	deadline = now_ms() + (uint64_t)timeout_ms;
	if (rpc_reply_queue_ready(t, deadline, reply_q) == -1) {
		json_decref(args);
		return fail(err, RPC_ERR_TRANSPORT, "MessageDeliveryFailure",
		    "message broker unreachable (reply queue not ready)");
	}
	memset(&p, 0, sizeof p);
	rpc_id_new(p.msg_id);
	body = encode(target, ctx, method, args, p.msg_id, reply_q, &len);
	if (body == NULL)
		return fail(err, RPC_ERR_INVALID, "MemoryError", "cannot encode the request");
	rpc_cond_init(&p.cv);
	rpc_pending_add(t, &p);
	route(t, target, exchange, key);
	snprintf(expiration, sizeof expiration, "%d", timeout_ms);
	st = rpc_publish_unconfirmed(t, exchange, "topic", key, false, expiration, body,
	    len, deadline);
	free(body);
	if (st != RPC_PUB_OK) {
		rpc_pending_remove(t, &p);
		pthread_cond_destroy(&p.cv);
		return fail(err, RPC_ERR_TRANSPORT, "MessageDeliveryFailure",
		    "cannot publish the request to the message broker");
	}
	done = rpc_pending_wait(t, &p, deadline);
	if (!done) {
		pthread_cond_destroy(&p.cv);
		json_decref(p.result);
		snprintf(msg, sizeof msg, "Timed out waiting for a reply to message ID %s",
		    p.msg_id);
		return fail(err, RPC_ERR_TIMEOUT, "MessagingTimeout", msg);
	}
	pthread_cond_destroy(&p.cv);
	if (p.err.kind != RPC_ERR_NONE) {
		*err = p.err;
		json_decref(p.result);
		return -1;
	}
	if (p.result == NULL)
		p.result = json_null();
	if (result != NULL)
		*result = p.result;
	else
		json_decref(p.result);
	return 0;
}

int rpc_cast(struct rpc_transport *t, const struct rpc_target *target,
    const struct rpc_ctx *ctx, const char *method, json_t *args,
    struct rpc_error *err)
{
	char exchange[RPC_NAME_MAX], key[RPC_NAME_MAX];
	struct rpc_error local;
	struct rpc_outbox *o;
	size_t len;
	char *body;

	if (err == NULL)
		err = &local;
	memset(err, 0, sizeof *err);
	if (t == NULL || check_args(target, method, args, err) == -1) {
		json_decref(args);
		return fail(err, RPC_ERR_INVALID, "InvalidTarget", "bad cast arguments");
	}
	body = encode(target, ctx, method, args, NULL, NULL, &len);
	if (body == NULL)
		return fail(err, RPC_ERR_INVALID, "MemoryError", "cannot encode the request");
	route(t, target, exchange, key);
	if ((o = rpc_transport_outbox(t)) == NULL) {
		free(body);
		return fail(err, RPC_ERR_TRANSPORT, "MessageDeliveryFailure",
		    "cannot start the cast publisher");
	}
	if (rpc_outbox_put(o, exchange, target->fanout, key, body, len,
	    now_ms() + (uint64_t)rpc_transport_timeout_ms(t)) == -1)
		return fail(err, RPC_ERR_TRANSPORT, "MessageDeliveryFailure",
		    "the message broker takes no casts (outbox full)");
	return 0;
}
