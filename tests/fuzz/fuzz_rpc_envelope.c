/*
 * The RPC envelope reader (common/rpc): a body from the bus goes through
 * rpc_request_fast and, when that declines, rpc_envelope_decode +
 * rpc_request_decode. rpc_internal.h promises the fast path never accepts
 * what jansson refuses and reads the same request: checked here. A
 * request read is then written back both ways (rpc_request_body, and
 * rpc_envelope_encode of rpc_request_encode), which must agree byte for byte.
 */
#include "common/common.h"
#include "common/rpc/rpc_internal.h"
#include "tests/fuzz/fuzz.h"

static bool same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool same_json(json_t *a, json_t *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && json_equal(a, b));
}

static bool same_request(const struct rpc_request *a, const struct rpc_request *b)
{
	return same_str(a->method, b->method) && same_str(a->namespace, b->namespace) &&
	    same_str(a->version, b->version) && same_str(a->msg_id, b->msg_id) &&
	    same_str(a->reply_q, b->reply_q) && same_str(a->unique_id, b->unique_id) &&
	    a->monitor_s == b->monitor_s && same_json(a->args, b->args) &&
	    strcmp(a->ctx.request_id, b->ctx.request_id) == 0 &&
	    strcmp(a->ctx.user_id, b->ctx.user_id) == 0 &&
	    strcmp(a->ctx.project_id, b->ctx.project_id) == 0 &&
	    a->ctx.is_admin == b->ctx.is_admin && same_json(a->ctx.roles, b->ctx.roles) &&
	    same_json(a->ctx.extra, b->ctx.extra);
}

/* The direct writer against the jansson one, on what was read. */
static void same_body(const struct rpc_request *q)
{
	struct rpc_target tg = { .topic = "t", .namespace = q->namespace,
	    .version = q->version };
	const char *uid = q->unique_id ? q->unique_id : "u";
	size_t la = 0, lb = 0;
	char *a = NULL, *b;
	json_t *msg;

	msg = rpc_request_encode(&tg, &q->ctx, q->method, json_deep_copy(q->args),
	    q->msg_id, q->reply_q, uid);
	if (msg != NULL)
		a = rpc_envelope_encode(msg, &la);
	json_decref(msg);
	b = rpc_request_body(&tg, &q->ctx, q->method, json_deep_copy(q->args),
	    q->msg_id, q->reply_q, uid, &lb);
	if ((a == NULL) != (b == NULL) || (a != NULL && (la != lb || memcmp(a, b, la) != 0))) {
		fprintf(stderr, "writers differ:\n%s\n%s\n", a ? a : "(null)", b ? b : "(null)");
		abort();
	}
	free(a);
	free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rpc_request fast, slow;
	struct rpc_error err;
	json_t *msg = NULL;
	char why[256];
	/* a copy of exactly size bytes: ASan sees any read past the body */
	uint8_t *body = malloc(size ? size : 1);
	bool f, s = false;

	if (body == NULL)
		abort();
	memcpy(body, data, size);
	f = rpc_request_fast(body, size, &fast) == 0;
	memset(&slow, 0, sizeof slow);
	memset(&err, 0, sizeof err);
	if (rpc_envelope_decode(body, size, &msg, why, sizeof why) == RPC_DEC_OK) {
		s = rpc_request_decode(msg, &slow, &err) == 0;
		if (!s)
			rpc_request_clear(&slow);
	}
	if (f && !s) {
		fprintf(stderr, "fast path accepted what jansson refuses (%s)\n",
		    err.message);
		abort();
	}
	if (f && !same_request(&fast, &slow)) {
		fprintf(stderr, "fast path and jansson read different requests\n");
		abort();
	}
	if (s)
		same_body(&slow);
	if (f)
		rpc_request_clear(&fast);
	if (s)
		rpc_request_clear(&slow);
	free(body);
	return 0;
}
