/*
 * common/rpc/request.c against the jansson way it stands in for: the
 * writer must give the bytes rpc_envelope_encode(rpc_request_encode())
 * gives, and the reader must give the request rpc_envelope_decode +
 * rpc_request_decode give, or decline; it must never accept what they
 * reject. Hand-picked messages first, then 200,000 mutations of real ones.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/common.h"
#include "common/rpc/rpc_internal.h"

/* ---- the writer ------------------------------------------------------------ */

static char *jansson_body(const struct rpc_target *tg, const struct rpc_ctx *ctx,
    const char *method, json_t *args, const char *msg_id, const char *reply_q,
    size_t *len)
{
	json_t *msg = rpc_request_encode(tg, ctx, method, args, msg_id, reply_q, "uniq-1");
	char *body;

	if (msg == NULL)
		return NULL;
	body = rpc_envelope_encode(msg, len);
	json_decref(msg);
	return body;
}

/* Both ways, the same bytes (or both refuse). */
static void same_body(const struct rpc_target *tg, const struct rpc_ctx *ctx,
    const char *method, json_t *args, const char *msg_id, const char *reply_q)
{
	size_t la = 0, lb = 0;
	char *a, *b;

	a = jansson_body(tg, ctx, method, args ? json_deep_copy(args) : NULL, msg_id,
	    reply_q, &la);
	b = rpc_request_body(tg, ctx, method, args, msg_id, reply_q, "uniq-1", &lb);
	if (a == NULL || b == NULL) {
		assert_null(a);
		assert_null(b);
		return;
	}
	assert_string_equal(b, a);
	assert_int_equal(lb, la);
	assert_int_equal(lb, strlen(b));
	free(a);
	free(b);
}

static void test_body_matches_jansson(void **state)
{
	struct rpc_target cast = { .topic = "t" };
	struct rpc_target full = { .topic = "t", .namespace = "ns \"q\"", .version = "2.1" };
	struct rpc_ctx ctx;

	(void)state;
	same_body(&cast, NULL, "tick", NULL, NULL, NULL);
	same_body(&cast, NULL, "tick", json_object(), NULL, NULL);
	same_body(&full, NULL, "echo", json_pack("{s:s}", "payload", "x"), "m1", "reply_1");

	rpc_ctx_init(&ctx, "req-1", "user \\ \"1\"", "proj\n\t\x01\x1f\x7f", true);
	ctx.roles = json_pack("[s,s]", "admin", "r\xc3\xa9le");
	same_body(&full, &ctx, "m\xe4\xb8\xad", json_pack("{s:[i,f,b,n], s:{s:s}, s:s#}",
	    "l", 7, 1.5, 1, "o", "k\"", "v\\", "nul", "a\0b", 3), "m1", "q");
	/* extra: keys that rpc_ctx_encode writes take extra's value in
	 * place; modelled keys never come from extra; the rest follow. */
	ctx.extra = json_pack("{s:s, s:b, s:s, s:{s:i}, s:s, s:n, s:s}", "auth_token", "tok",
	    "read_only", 1, "user", "ignored", "custom", "k", 1, "k\"ey\x01", "v",
	    "is_admin_project", "global_request_id", "g\xf0\x9f\x98\x80");
	same_body(&full, &ctx, "m", NULL, NULL, NULL);
	rpc_ctx_clear(&ctx);

	/* Not valid UTF-8: both refuse. */
	rpc_ctx_init(&ctx, "req-\xff", NULL, NULL, false);
	same_body(&cast, &ctx, "m", NULL, NULL, NULL);
	rpc_ctx_init(&ctx, "req-\xed\xa0\x80", NULL, NULL, false); /* a surrogate */
	same_body(&cast, &ctx, "m", NULL, NULL, NULL);
	rpc_ctx_init(&ctx, "req-\xc0\xaf", NULL, NULL, false);     /* overlong */
	same_body(&cast, &ctx, "m", NULL, NULL, NULL);
	rpc_ctx_init(&ctx, NULL, NULL, NULL, false);
	same_body(&cast, &ctx, "m\xe2\x82", NULL, NULL, NULL);       /* cut short */
}

/* ---- the reader ------------------------------------------------------------ */

/* The jansson way: 1 decoded (*req set), 0 refused. */
static int slow(const char *body, size_t len, struct rpc_request *req)
{
	struct rpc_error err;
	json_t *msg;
	char why[256];

	if (rpc_envelope_decode(body, len, &msg, why, sizeof why) != RPC_DEC_OK)
		return 0;
	if (rpc_request_decode(msg, req, &err) == -1) {
		rpc_request_clear(req);
		return 0;
	}
	return 1;
}

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
	    a->monitor_s == b->monitor_s && json_equal(a->args, b->args) &&
	    strcmp(a->ctx.request_id, b->ctx.request_id) == 0 &&
	    strcmp(a->ctx.user_id, b->ctx.user_id) == 0 &&
	    strcmp(a->ctx.project_id, b->ctx.project_id) == 0 &&
	    a->ctx.is_admin == b->ctx.is_admin && same_json(a->ctx.roles, b->ctx.roles) &&
	    same_json(a->ctx.extra, b->ctx.extra);
}

/* The invariant; returns whether the fast way accepted. */
static bool check(const char *body, size_t len)
{
	struct rpc_request f, s;
	int fast = rpc_request_fast(body, len, &f) == 0;
	int ok = slow(body, len, &s);

	if (fast && !ok)
		fail_msg("accepted what jansson refuses: %.*s", (int)len, body);
	if (fast && !same_request(&f, &s))
		fail_msg("read differently: %.*s", (int)len, body);
	if (fast)
		rpc_request_clear(&f);
	if (ok)
		rpc_request_clear(&s);
	return fast;
}

static bool check_str(const char *body)
{
	return check(body, strlen(body));
}

/* oslo's envelope (json.dumps) around an inner text given unescaped. */
static char *oslo_body(const char *inner)
{
	json_t *s = json_string(inner);
	char *q = json_dumps(s, JSON_ENCODE_ANY), *body;

	json_decref(s);
	assert_true(asprintf(&body, "{\"oslo.version\": \"2.0\", \"oslo.message\": %s}", q) > 0);
	free(q);
	return body;
}

static bool check_oslo(const char *inner)
{
	char *body = oslo_body(inner);
	bool r = check_str(body);

	free(body);
	return r;
}

static void test_reader_takes_what_kumo_writes(void **state)
{
	struct rpc_target tg = { .topic = "t", .namespace = "ns", .version = "2.1" };
	struct rpc_ctx ctx;
	size_t len;
	char *body;

	(void)state;
	rpc_ctx_init(&ctx, "req-1", "u\xc3\xa9 \"x\"", "p\\\n", true);
	ctx.roles = json_pack("[s,s]", "admin", "member");
	ctx.extra = json_pack("{s:s, s:{s:[i]}, s:n}", "auth_token", "t", "custom", "k", 1, "x");
	body = rpc_request_body(&tg, &ctx, "echo", json_pack("{s:s, s:{}}", "payload",
	    "\xf0\x9f\x98\x80 \\u0000", "o"), "m1", "reply_1", "uniq", &len);
	assert_true(check(body, len));
	free(body);
	rpc_ctx_clear(&ctx);
	body = rpc_request_body(&(struct rpc_target){ .topic = "t" }, NULL, "tick", NULL,
	    NULL, NULL, "uniq", &len);
	assert_true(check(body, len));
	free(body);
}

static void test_reader_takes_what_oslo_writes(void **state)
{
	(void)state;
	/* As Python's json.dumps writes a call: spaces, \u escapes. */
	assert_true(check_oslo("{\"_context_roles\": [\"admin\"], \"_context_user\": \"u\", "
	    "\"_context_user_id\": \"u2\", \"_context_is_admin\": false, "
	    "\"_context_request_id\": \"req-\\u00e9\", \"_context_custom\": {\"a\": [1, 2.5]}, "
	    "\"method\": \"echo\", \"args\": {\"payload\": \"\\ud83d\\ude00\"}, "
	    "\"version\": \"1.0\", \"_msg_id\": \"abc\", \"_reply_q\": \"reply_x\", "
	    "\"_timeout\": 30, \"_unique_id\": \"u1\"}"));
	assert_true(check_oslo("{\"method\": \"m\", \"args\": null, \"_timeout\": null}"));
	assert_true(check_oslo("{\"method\": \"m\", \"_msg_id\": \"i\", \"_reply_q\": \"q\", "
	    "\"_timeout\": 4.5}"));
	assert_true(check_oslo(" {\"method\":\"m\"} \n"));
}

static void test_reader_declines(void **state)
{
	static const char *const inner[] = {
		"{}", "[]", "{\"method\": \"m\"", "{\"method\": \"m\"} x",
		"{\"method\": 1}", "{\"method\": \"\"}", "{\"args\": {}}",
		"{\"method\": \"m\", \"method\": \"n\"}",                  /* twice */
		"{\"method\": \"m\", \"args\": []}",
		"{\"method\": \"m\", \"args\": {]}",
		"{\"method\": \"m\", \"_context_x\": [}}",
		"{\"method\": \"m\", \"args\": {\"a\": }}",
		"{\"method\": \"m\", \"args\": {\"a\": \"}\"}",
		"{\"method\": \"m\", \"other\": 1}",
		"{\"method\": \"m\", \"_msg_id\": \"i\"}",                  /* no _reply_q */
		"{\"method\": \"m\", \"_timeout\": -1}",
		"{\"method\": \"m\", \"_timeout\": 01}",
		"{\"method\": \"m\", \"_timeout\": 1e3}",
		"{\"method\": \"m\", \"_timeout\": 86401}",
		"{\"method\": \"m\", \"_timeout\": 99999999999999999999}",
		"{\"method\": \"m\", \"_context_is_admin\": 1}",
		"{\"method\": \"m\", \"_context_roles\": [1]}",
		"{\"method\": \"m\", \"_context_roles\": \"admin\"}",
		"{\"method\": \"m\", \"_context_x\": 5}",
		"{\"method\": \"m\", \"_context_\": 5}",
		"{\"method\": \"m\\u0000\"}",
		"{\"method\": \"m\\ud800\"}",
		"{\"method\": \"m\\x\"}",
		"{\"method\": \"m\", \"version\": \"0123456789012345678901234567890123\"}",
		"{\"method\": \"m\", \"_context_request_id\": \"0123456789012345678901234567890123"
		    "456789012345678901234567890123456789\"}",
		"{\"method\": \"m\", \"_context_roles\": [\"a\",]}",
		"{\"method\": \"m\",}",
		"{\"method\": nul}",
		"{\"method\": \"m\", \"args\": {\"a\": 1}}}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof inner / sizeof inner[0]; i++)
		if (check_oslo(inner[i]))
			fail_msg("accepted %s", inner[i]);
	/* Not an envelope the reader takes: jansson's to judge. */
	assert_false(check_str("{\"method\": \"m\"}"));
	assert_false(check_str("{\"oslo.message\": \"{\\\"method\\\": \\\"m\\\"}\", "
	    "\"oslo.version\": \"2.0\"}"));
	assert_false(check_str("{\"oslo.version\":\"2.0\",\"oslo.message\":\"{}\"} "));
	assert_false(check(RPC_ENV_HEAD "{\\\"method\\\":\\\"m\xff\\\"}\"}",
	    sizeof RPC_ENV_HEAD "{\\\"method\\\":\\\"m\xff\\\"}\"}" - 1));
	assert_false(check(RPC_ENV_HEAD "{\\\"method\\\":\\\"m\\\"}\"", /* cut */
	    sizeof RPC_ENV_HEAD "{\\\"method\\\":\\\"m\\\"}\"" - 1));
}

/* Deterministic xorshift: the same mutations every run. */
static uint64_t rnd_state = 88172645463325252ull;

static unsigned rnd(unsigned n)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return (unsigned)(rnd_state % n);
}

static void mutate(char *b, size_t *len, size_t cap)
{
	static const char alphabet[] = "\"\\{}[],: nulltruefalse0123456789.eE-+u\xc3\xa9\xff\x01";
	size_t at = rnd((unsigned)*len);

	switch (rnd(4)) {
	case 3: { /* copy a piece of the message over another place */
		size_t from = rnd((unsigned)*len), n = 1 + rnd(12);
		if (from + n > *len)
			n = *len - from;
		if (at + n > *len)
			n = *len - at;
		memmove(b + at, b + from, n);
		break;
	}
	case 0: /* overwrite */
		b[at] = alphabet[rnd(sizeof alphabet - 1)];
		break;
	case 1: /* delete */
		memmove(b + at, b + at + 1, *len - at - 1);
		(*len)--;
		break;
	default: /* insert */
		if (*len + 1 >= cap)
			break;
		memmove(b + at + 1, b + at, *len - at);
		b[at] = alphabet[rnd(sizeof alphabet - 1)];
		(*len)++;
	}
}

static void test_reader_mutations(void **state)
{
	struct rpc_target tg = { .topic = "t", .namespace = "ns", .version = "2.1" };
	struct rpc_ctx ctx;
	char *seeds[3], buf[4096];
	size_t lens[3], accepted = 0;
	int rounds = 200000;

	(void)state;
	rpc_ctx_init(&ctx, "req-1", "u", "p", true);
	ctx.roles = json_pack("[s]", "admin");
	ctx.extra = json_pack("{s:{s:[i,s,b]}}", "custom", "k", 1, "\xc3\xa9", 0);
	seeds[0] = rpc_request_body(&tg, &ctx, "echo", json_pack("{s:s, s:f}", "payload", "x\"y",
	    "n", 2.5), "m1", "reply_1", "uniq", &lens[0]);
	seeds[1] = rpc_request_body(&(struct rpc_target){ .topic = "t" }, NULL, "tick", NULL,
	    NULL, NULL, "uniq", &lens[1]);
	seeds[2] = oslo_body("{\"_context_roles\": [\"a\"], \"method\": \"m\", \"args\": "
	    "{\"p\": [1, {\"q\": null}]}, \"_msg_id\": \"i\", \"_reply_q\": \"q\", "
	    "\"_timeout\": 30, \"_context_user\": \"\\u00e9\"}");
	lens[2] = strlen(seeds[2]);
	rpc_ctx_clear(&ctx);
	for (int i = 0; i < rounds; i++) {
		size_t k = (size_t)i % 3, len = lens[k];
		memcpy(buf, seeds[k], len);
		for (unsigned m = 1 + rnd(3); m > 0 && len > 1; m--)
			mutate(buf, &len, sizeof buf);
		accepted += check(buf, len);
	}
	/* Some mutations keep a valid request (a changed letter in a value). */
	assert_true(accepted > 0);
	for (size_t k = 0; k < 3; k++)
		free(seeds[k]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_body_matches_jansson),
		cmocka_unit_test(test_reader_takes_what_kumo_writes),
		cmocka_unit_test(test_reader_takes_what_oslo_writes),
		cmocka_unit_test(test_reader_declines),
		cmocka_unit_test(test_reader_mutations),
	};

	log_init("test_rpc_request", LOG_LVL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
