/*
 * common/rpc codec: transport_url parsing, the oslo envelope, context,
 * request, reply and failure (de)coding, and every reject path for input
 * from the wire.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/common.h"
#include "common/rpc/rpc_internal.h"

/* ---- url ----------------------------------------------------------------- */

static void url_ok(const char *s, struct rpc_url *u)
{
	char err[256] = "";

	if (rpc_url_parse(s, u, err, sizeof err) != 0)
		fail_msg("%s: %s", s, err);
}

static void url_bad(const char *s)
{
	struct rpc_url u;
	char err[256] = "";

	assert_int_equal(rpc_url_parse(s, &u, err, sizeof err), -1);
	assert_true(err[0] != '\0');
}

static void test_url_basic(void **state)
{
	struct rpc_url u;

	(void)state;
	url_ok("rabbit://guest:guest@127.0.0.1:5672/", &u);
	assert_int_equal(u.n_hosts, 1);
	assert_string_equal(u.hosts[0].host, "127.0.0.1");
	assert_int_equal(u.hosts[0].port, 5672);
	assert_string_equal(u.hosts[0].user, "guest");
	assert_string_equal(u.hosts[0].pass, "guest");
	assert_string_equal(u.vhost, "/");

	url_ok("rabbit://u:p@host", &u);
	assert_int_equal(u.hosts[0].port, 5672);
	assert_string_equal(u.vhost, "/");

	url_ok("rabbit://u:p@host:5673/kumo1", &u);
	assert_int_equal(u.hosts[0].port, 5673);
	assert_string_equal(u.vhost, "kumo1");

	url_ok("rabbit://host/%2F", &u);
	assert_string_equal(u.vhost, "/");
	assert_string_equal(u.hosts[0].user, "guest");
}

static void test_url_hosts(void **state)
{
	struct rpc_url u;

	(void)state;
	url_ok("rabbit://u1:p1@h1:5672,u2:p2@h2:5673/v", &u);
	assert_int_equal(u.n_hosts, 2);
	assert_string_equal(u.hosts[0].host, "h1");
	assert_string_equal(u.hosts[1].host, "h2");
	assert_string_equal(u.hosts[1].user, "u2");
	assert_int_equal(u.hosts[1].port, 5673);
	assert_string_equal(u.vhost, "v");

	/* A host without credentials takes the previous host's. */
	url_ok("rabbit://u1:p1@h1,h2:5674", &u);
	assert_string_equal(u.hosts[1].user, "u1");
	assert_string_equal(u.hosts[1].pass, "p1");
	assert_int_equal(u.hosts[1].port, 5674);

	url_ok("rabbit://u:p@[::1]:5672,[fe80::1]/", &u);
	assert_string_equal(u.hosts[0].host, "::1");
	assert_string_equal(u.hosts[1].host, "fe80::1");
	assert_int_equal(u.hosts[1].port, 5672);
}

static void test_url_decode(void **state)
{
	struct rpc_url u;

	(void)state;
	url_ok("rabbit://us%40er:p%3Aa%2Cs%40s@h/v%20h", &u);
	assert_string_equal(u.hosts[0].user, "us@er");
	assert_string_equal(u.hosts[0].pass, "p:a,s@s");
	assert_string_equal(u.vhost, "v h");
	/* An unencoded @ in the password: the last @ separates the host. */
	url_ok("rabbit://u:p@ss@h:1/", &u);
	assert_string_equal(u.hosts[0].pass, "p@ss");
	assert_string_equal(u.hosts[0].host, "h");
	url_ok("rabbit://u:@h", &u);
	assert_string_equal(u.hosts[0].pass, "");
	url_ok("rabbit://u:p@h/?heartbeat=10", &u);
	assert_string_equal(u.vhost, "/");
}

static void test_url_bad(void **state)
{
	char many[2048] = "rabbit://";

	(void)state;
	url_bad(NULL);
	url_bad("");
	url_bad("amqp://h/");
	url_bad("rabbit://");
	url_bad("rabbit:///vhost");
	url_bad("rabbit://u:p@/v");
	url_bad("rabbit://h:0/");
	url_bad("rabbit://h:65536/");
	url_bad("rabbit://h:abc/");
	url_bad("rabbit://h:/");
	url_bad("rabbit://h1,,h2/");
	url_bad("rabbit://u%zz:p@h/");
	url_bad("rabbit://u%4:p@h/");
	url_bad("rabbit://u%00:p@h/");
	url_bad("rabbit://h/v%2");
	url_bad("rabbit://[::1/");
	url_bad("rabbit://[::1]x/");
	url_bad("rabbit://h o st/");
	for (int i = 0; i <= RPC_MAX_HOSTS; i++)
		strcat(many, i ? ",h" : "h");
	url_bad(many);
}

/* ---- envelope ------------------------------------------------------------ */

static enum rpc_decode_status dec(const char *body, json_t **out)
{
	char err[256] = "";
	enum rpc_decode_status st = rpc_envelope_decode(body, strlen(body), out, err, sizeof err);

	if (st != RPC_DEC_OK)
		assert_true(err[0] != '\0');
	return st;
}

static void test_envelope_roundtrip(void **state)
{
	json_t *msg = json_pack("{s:s, s:{s:s}}", "method", "echo", "args", "payload", "h\"é\n");
	json_t *outer, *back;
	size_t len;
	char *body;

	(void)state;
	body = rpc_envelope_encode(msg, &len);
	assert_non_null(body);
	assert_int_equal(len, strlen(body));
	outer = json_loads(body, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(outer, "oslo.version")), "2.0");
	assert_true(json_is_string(json_object_get(outer, "oslo.message")));
	assert_int_equal(json_object_size(outer), 2);
	assert_int_equal(dec(body, &back), RPC_DEC_OK);
	assert_true(json_equal(msg, back));
	json_decref(back);
	json_decref(outer);
	json_decref(msg);
	free(body);
}

/* The envelope is written by hand: it must be exactly what jansson's
 * compact dump of {"oslo.version", "oslo.message"} would be. */
static void test_envelope_encode_matches_jansson(void **state)
{
	json_t *msgs[] = {
		json_pack("{s:s, s:{s:s}}", "method", "echo", "args", "payload", "plain"),
		json_pack("{s:s, s:{s:s, s:s, s:s}}", "method", "m", "args", "q", "say \"hi\" \\o/",
		    "ctl", "a\nb\tc\x01\x1f\x7f", "u", "h\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80"),
		json_pack("{s:s#}", "nul", "a\0b", 3),
		json_object(),
	};

	(void)state;
	for (size_t i = 0; i < sizeof msgs / sizeof msgs[0]; i++) {
		char *inner = json_dumps(msgs[i], JSON_COMPACT), *ref, *body;
		json_t *env = json_pack("{s:s, s:s}", "oslo.version", "2.0", "oslo.message", inner);
		json_t *back;
		size_t len;

		ref = json_dumps(env, JSON_COMPACT);
		body = rpc_envelope_encode(msgs[i], &len);
		assert_non_null(body);
		assert_string_equal(body, ref);
		assert_int_equal(len, strlen(ref));
		assert_int_equal(dec(body, &back), RPC_DEC_OK);
		assert_true(json_equal(back, msgs[i]));
		json_decref(back);
		json_decref(env);
		json_decref(msgs[i]);
		free(inner);
		free(ref);
		free(body);
	}
}

/* What jansson alone makes of a body: the reference for the envelope
 * reader's own unescaping. NULL when either parse fails. */
static json_t *jansson_view(const char *body, size_t len)
{
	json_t *outer = json_loadb(body, len, JSON_ALLOW_NUL, NULL), *inner, *msg = NULL;

	inner = json_object_get(outer, "oslo.message");
	if (json_is_string(inner))
		msg = json_loadb(json_string_value(inner), json_string_length(inner),
		    JSON_ALLOW_NUL, NULL);
	json_decref(outer);
	return msg;
}

static void test_envelope_decode_matches_jansson(void **state)
{
	/* In the exact forms oslo and kumo write (made with Python's json). */
	static const char *const ok[] = {
		"{\"oslo.version\": \"2.0\", \"oslo.message\": \"{\\\"a\\\": \\\"q\\\\\\\"\\\\\\\\ / \\\\\\\\/\\\\\\\"\\\"}\"}",
		"{\"oslo.version\": \"2.0\", \"oslo.message\": \"{\\\"a\\\": \\\"\\\\b\\\\f\\\\n\\\\r\\\\t\\\\u0001\\\"}\"}",
		"{\"oslo.version\": \"2.0\", \"oslo.message\": \"{}\"}",
		"{\"oslo.version\": \"2.0\", \"oslo.message\": \"{\\\"a\\\": \\\"\\u00E9 \\u4e2d \\ud83d\\ude00\\\"}\"}",
		"{\"oslo.version\":\"2.0\",\"oslo.message\":\"{\\\"\xc3""\xa9""\\\":\\\"h\xc3""\xa9""\\\"}\"}",
		"{\"oslo.version\":\"2.0\",\"oslo.message\":\"{\\n\\t\\\"a\\\"\\r:1}\"}",
		"{\"oslo.version\":\"2.0\",\"oslo.message\":\"{\\\"a\\/b\\\":1}\"}",
	};
	/* Forms the reader leaves to jansson, or bodies that are not JSON. */
	static const char *const other[] = {
		"{\"oslo.version\": \"2.0\", \"oslo.message\": \"{\\\"a\\\": \\\"\\u0000\\\"}\"}",
		"{\"oslo.version\": \"2.0\", \"oslo.message\": \"{\\\"a\\\": \\\"\\ud800\\\"}\"}",
		"{\"oslo.version\": \"2.0\", \"oslo.message\": \"{\\\"a\\\": \\\"\\udc00\\\"}\"}",
		"{\"oslo.version\": \"2.0\", \"oslo.message\": \"{\\\"a\\\": \\\"\\ud83dx\\\"}\"}",
		"{\"oslo.version\": \"2.0\", \"oslo.message\": \"{\\\"a\\\": 1}\", \"x\": 2}",
		"{\"oslo.version\": \"2.0\", \"oslo.message\": \"{\\\"a\\\": 1}\"}\n",
		"{\"oslo.version\": \"2.0\", \"oslo.message\": \"{\\\"a\\\": 1}",
		"{\"oslo.version\": \"2.0\", \"oslo.message\": \"{\\\"a\\\": 1}\\",
		"{\"oslo.version\": \"2.0\", \"oslo.message\": \"{\\\"a\\\": \\\"\n\\\"}\"}",
		"{\"oslo.version\": \"2.0\", \"oslo.message\": \"{\\\"a\\\": \\x}\"}",
		"{\"oslo.version\": \"2.0\", \"oslo.message\": \"{\\\"a\\\": \\u12}\"}",
		"{\"oslo.version\": \"2.0\", \"oslo.message\": \"{\\\"a\\\": \\\"\xff\\\"}\"}",
		"{\"oslo.version\": \"2.0\", \"oslo.message\": \"{\\\"a\\\": 1}\xff\"}",
		"{\"oslo.version\": \"2.0\", \"oslo.message\": \"[1]\"}",
		"{\"oslo.version\": \"2.0\", \"oslo.message\": \"",
	};
	json_t *m, *ref;

	(void)state;
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		ref = jansson_view(ok[i], strlen(ok[i]));
		if (ref == NULL)
			fail_msg("body %zu: jansson refuses it", i);
		assert_int_equal(dec(ok[i], &m), RPC_DEC_OK);
		if (!json_equal(m, ref))
			fail_msg("body %zu decodes differently from jansson", i);
		json_decref(m);
		json_decref(ref);
	}
	for (size_t i = 0; i < sizeof other / sizeof other[0]; i++) {
		enum rpc_decode_status st = dec(other[i], &m);
		ref = jansson_view(other[i], strlen(other[i]));
		if (ref == NULL || !json_is_object(ref)) {
			if (st == RPC_DEC_OK)
				fail_msg("body %zu: taken, jansson refuses it", i);
		} else {
			if (st != RPC_DEC_OK || !json_equal(m, ref))
				fail_msg("body %zu decodes differently from jansson", i);
			json_decref(m);
		}
		json_decref(ref);
	}
}

static void test_envelope_compat(void **state)
{
	json_t *m;

	(void)state;
	/* The body captured from a real oslo client (escapes, spaces). */
	assert_int_equal(dec("{\"oslo.version\": \"2.0\", \"oslo.message\": "
	    "\"{\\\"method\\\": \\\"echo\\\", \\\"args\\\": {\\\"payload\\\": "
	    "\\\"\\\\u00e9\\\"}}\"}", &m), RPC_DEC_OK);
	assert_string_equal(json_string_value(json_object_get(json_object_get(m, "args"),
	    "payload")), "\xc3\xa9");
	json_decref(m);
	/* Version 1.0: no envelope, the dict itself. */
	assert_int_equal(dec("{\"method\": \"echo\", \"args\": {}}", &m), RPC_DEC_OK);
	assert_string_equal(json_string_value(json_object_get(m, "method")), "echo");
	json_decref(m);
	/* Only one of the two envelope keys: taken as a plain message. */
	assert_int_equal(dec("{\"oslo.version\": \"2.0\", \"method\": \"x\"}", &m), RPC_DEC_OK);
	json_decref(m);
	assert_int_equal(dec("{\"oslo.version\": \"2\", \"oslo.message\": \"{}\"}", &m), RPC_DEC_OK);
	json_decref(m);
}

static void test_envelope_bad(void **state)
{
	json_t *m = NULL;
	static char big[64];
	char err[128];

	(void)state;
	assert_int_equal(dec("", &m), RPC_DEC_BAD_JSON);
	assert_int_equal(dec("not json", &m), RPC_DEC_BAD_JSON);
	assert_int_equal(dec("{\"a\": 1", &m), RPC_DEC_BAD_JSON);
	assert_int_equal(dec("[1, 2]", &m), RPC_DEC_NOT_OBJECT);
	assert_int_equal(dec("\"str\"", &m), RPC_DEC_BAD_JSON); /* top level must be a container */
	assert_int_equal(dec("{\"oslo.version\": \"3.0\", \"oslo.message\": \"{}\"}", &m), RPC_DEC_BAD_VERSION);
	assert_int_equal(dec("{\"oslo.version\": \"2.1\", \"oslo.message\": \"{}\"}", &m), RPC_DEC_BAD_VERSION);
	assert_int_equal(dec("{\"oslo.version\": \"1.0\", \"oslo.message\": \"{}\"}", &m), RPC_DEC_BAD_VERSION);
	assert_int_equal(dec("{\"oslo.version\": 2, \"oslo.message\": \"{}\"}", &m), RPC_DEC_BAD_VERSION);
	assert_int_equal(dec("{\"oslo.version\": \"x.y\", \"oslo.message\": \"{}\"}", &m), RPC_DEC_BAD_VERSION);
	assert_int_equal(dec("{\"oslo.version\": \"2.0\", \"oslo.message\": {}}", &m), RPC_DEC_BAD_JSON);
	assert_int_equal(dec("{\"oslo.version\": \"2.0\", \"oslo.message\": \"{nope\"}", &m), RPC_DEC_BAD_JSON);
	assert_int_equal(dec("{\"oslo.version\": \"2.0\", \"oslo.message\": \"[1]\"}", &m), RPC_DEC_NOT_OBJECT);
	assert_null(m);
	assert_int_equal(rpc_envelope_decode(big, (size_t)RPC_MAX_BODY + 1, &m, err, sizeof err),
	    RPC_DEC_TOO_BIG);
}

/* ---- context ------------------------------------------------------------- */

static void test_ctx_encode(void **state)
{
	struct rpc_ctx ctx;
	json_t *msg = json_object();

	(void)state;
	rpc_ctx_init(&ctx, "req-1", "u1", "p1", true);
	ctx.roles = json_pack("[s,s]", "admin", "member");
	ctx.extra = json_pack("{s:s, s:s}", "auth_token", "tok", "user", "ignored");
	assert_int_equal(rpc_ctx_encode(&ctx, msg), 0);
	assert_string_equal(json_string_value(json_object_get(msg, "_context_request_id")), "req-1");
	assert_string_equal(json_string_value(json_object_get(msg, "_context_user_id")), "u1");
	assert_string_equal(json_string_value(json_object_get(msg, "_context_user")), "u1");
	assert_string_equal(json_string_value(json_object_get(msg, "_context_project_id")), "p1");
	assert_string_equal(json_string_value(json_object_get(msg, "_context_project")), "p1");
	assert_true(json_is_true(json_object_get(msg, "_context_is_admin")));
	assert_int_equal(json_array_size(json_object_get(msg, "_context_roles")), 2);
	assert_string_equal(json_string_value(json_object_get(msg, "_context_user_identity")), "u1 p1 - - -");
	/* extra is passed on, but never overrides modelled keys. */
	assert_string_equal(json_string_value(json_object_get(msg, "_context_auth_token")), "tok");
	assert_true(json_is_null(json_object_get(msg, "_context_global_request_id")));
	rpc_ctx_clear(&ctx);
	json_decref(msg);

	/* A NULL context encodes as an empty one. */
	msg = json_object();
	assert_int_equal(rpc_ctx_encode(NULL, msg), 0);
	assert_true(json_is_null(json_object_get(msg, "_context_request_id")));
	assert_true(json_is_false(json_object_get(msg, "_context_is_admin")));
	json_decref(msg);
}

static void test_ctx_decode(void **state)
{
	struct rpc_ctx ctx;
	char err[256];
	/* What oslo_context sends (captured), plus a foreign key. */
	json_t *msg = json_pack("{s:s, s:s, s:s, s:n, s:s, s:b, s:s, s:[], s:s, s:b, s:{s:i}}",
	    "method", "echo", "_context_user", "4f6e1c2a", "_context_project_id", "9b1d7e3f",
	    "_context_system_scope", "_context_project", "9b1d7e3f", "_context_is_admin", 0,
	    "_context_request_id", "req-11111111-2222-3333-4444-555555555555", "_context_roles",
	    "_context_user_identity", "4f6e1c2a 9b1d7e3f - - -", "_context_is_admin_project", 1,
	    "_context_custom", "n", 1);

	(void)state;
	assert_int_equal(rpc_ctx_decode(msg, &ctx, err, sizeof err), 0);
	assert_string_equal(ctx.request_id, "req-11111111-2222-3333-4444-555555555555");
	assert_string_equal(ctx.user_id, "4f6e1c2a");
	assert_string_equal(ctx.project_id, "9b1d7e3f");
	assert_false(ctx.is_admin);
	assert_int_equal(json_array_size(ctx.roles), 0);
	assert_non_null(json_object_get(ctx.extra, "custom"));
	assert_non_null(json_object_get(ctx.extra, "system_scope"));
	assert_true(json_is_true(json_object_get(ctx.extra, "is_admin_project")));
	assert_null(json_object_get(ctx.extra, "user_identity"));
	assert_null(json_object_get(ctx.extra, "user"));
	/* Every _context_ key was removed from the message. */
	assert_int_equal(json_object_size(msg), 1);
	rpc_ctx_clear(&ctx);
	json_decref(msg);

	/* user_id wins over user whatever the order. */
	msg = json_pack("{s:s, s:s}", "_context_user_id", "a", "_context_user", "b");
	assert_int_equal(rpc_ctx_decode(msg, &ctx, err, sizeof err), 0);
	assert_string_equal(ctx.user_id, "a");
	rpc_ctx_clear(&ctx);
	json_decref(msg);
}

static void ctx_bad(json_t *msg)
{
	struct rpc_ctx ctx;
	char err[256] = "";

	assert_int_equal(rpc_ctx_decode(msg, &ctx, err, sizeof err), -1);
	assert_true(err[0] != '\0');
	assert_null(ctx.roles);
	assert_null(ctx.extra);
	json_decref(msg);
}

static void test_ctx_bad(void **state)
{
	char longid[200];

	(void)state;
	memset(longid, 'x', sizeof longid - 1);
	longid[sizeof longid - 1] = '\0';
	ctx_bad(json_pack("{s:i}", "_context_request_id", 5));
	ctx_bad(json_pack("{s:s}", "_context_request_id", longid));
	ctx_bad(json_pack("{s:s}", "_context_user_id", longid));
	ctx_bad(json_pack("{s:s}", "_context_is_admin", "yes"));
	ctx_bad(json_pack("{s:{}}", "_context_roles"));
	ctx_bad(json_pack("{s:[s,i]}", "_context_roles", "a", 1));
	ctx_bad(json_pack("{s:s, s:[i]}", "_context_extra", "x", "_context_roles", 1));
	ctx_bad(json_pack("{s:s%}", "_context_project_id", "a\0b", (size_t)3));
}

/* ---- requests ------------------------------------------------------------ */

static void test_request_roundtrip(void **state)
{
	struct rpc_target tg = { .topic = "t", .version = "1.2", .namespace = "ns" };
	struct rpc_request req;
	struct rpc_error err;
	struct rpc_ctx ctx;
	json_t *msg;

	(void)state;
	rpc_ctx_init(&ctx, "req-9", "u", "p", false);
	msg = rpc_request_encode(&tg, &ctx, "echo", json_pack("{s:i}", "x", 1),
	    "0123abcd", "reply_q1", "uniq1");
	assert_non_null(msg);
	assert_true(json_is_null(json_object_get(msg, "_timeout")));
	assert_int_equal(rpc_request_decode(msg, &req, &err), 0);
	assert_string_equal(req.method, "echo");
	assert_string_equal(req.msg_id, "0123abcd");
	assert_string_equal(req.reply_q, "reply_q1");
	assert_string_equal(req.unique_id, "uniq1");
	assert_string_equal(req.version, "1.2");
	assert_string_equal(req.namespace, "ns");
	assert_string_equal(req.ctx.request_id, "req-9");
	assert_int_equal(json_integer_value(json_object_get(req.args, "x")), 1);
	assert_int_equal(req.monitor_s, 0);
	rpc_request_clear(&req);

	/* A cast: no _msg_id, _reply_q or _timeout; NULL args become {}. */
	msg = rpc_request_encode(&(struct rpc_target){ .topic = "t" }, NULL, "tick", NULL,
	    NULL, NULL, "u2");
	assert_null(json_object_get(msg, "_msg_id"));
	assert_null(json_object_get(msg, "_reply_q"));
	assert_null(json_object_get(msg, "_timeout"));
	assert_null(json_object_get(msg, "version"));
	assert_int_equal(rpc_request_decode(msg, &req, &err), 0);
	assert_null(req.msg_id);
	assert_true(json_is_object(req.args));
	rpc_request_clear(&req);

	/* Missing args, _timeout as a number (call monitor). */
	msg = json_pack("{s:s, s:s, s:s, s:f}", "method", "m", "_msg_id", "id",
	    "_reply_q", "q", "_timeout", 4.5);
	assert_int_equal(rpc_request_decode(msg, &req, &err), 0);
	assert_int_equal(req.monitor_s, 4);
	assert_int_equal(json_object_size(req.args), 0);
	rpc_request_clear(&req);
}

/* A request that must fail; says whether it could still be answered. */
static void req_bad(json_t *msg, bool answerable)
{
	struct rpc_request req;
	struct rpc_error err;

	memset(&err, 0, sizeof err);
	assert_int_equal(rpc_request_decode(msg, &req, &err), -1);
	assert_int_equal(err.kind, RPC_ERR_INVALID);
	assert_string_equal(err.cls, "ValueError");
	assert_true(strstr(err.message, "malformed") != NULL);
	assert_int_equal(req.msg_id != NULL, answerable);
	rpc_request_clear(&req);
}

static void test_request_bad(void **state)
{
	char big[300];

	(void)state;
	memset(big, 'm', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	req_bad(json_pack("[]"), false);
	req_bad(json_pack("{s:i}", "method", 1), false);
	req_bad(json_pack("{s:s}", "args", "x"), false);
	req_bad(json_pack("{s:s, s:s, s:s}", "_msg_id", "a", "_reply_q", "q", "args", "x"), true);
	req_bad(json_pack("{s:s, s:s, s:s}", "method", "", "_msg_id", "a", "_reply_q", "q"), true);
	req_bad(json_pack("{s:s, s:s, s:s}", "method", big, "_msg_id", "a", "_reply_q", "q"), true);
	req_bad(json_pack("{s:s%, s:s, s:s}", "method", "a\0b", (size_t)3, "_msg_id", "a", "_reply_q", "q"), true);
	req_bad(json_pack("{s:s, s:[], s:s, s:s}", "method", "m", "args", "_msg_id", "a", "_reply_q", "q"), true);
	req_bad(json_pack("{s:s, s:i}", "method", "m", "_msg_id", 5), false);
	req_bad(json_pack("{s:s, s:s}", "method", "m", "_msg_id", "a"), false); /* no _reply_q */
	req_bad(json_pack("{s:s, s:s, s:i}", "method", "m", "_msg_id", "a", "_reply_q", 3), false);
	req_bad(json_pack("{s:s, s:s, s:s, s:s}", "method", "m", "_msg_id", "a", "_reply_q", "q", "_timeout", "x"), true);
	req_bad(json_pack("{s:s, s:s, s:s, s:i}", "method", "m", "_msg_id", "a", "_reply_q", "q", "_timeout", -1), true);
	req_bad(json_pack("{s:s, s:s, s:s, s:i}", "method", "m", "_msg_id", "a", "_reply_q", "q", "version", 1), true);
	req_bad(json_pack("{s:s, s:s, s:s, s:b}", "method", "m", "_msg_id", "a", "_reply_q", "q", "namespace", 1), true);
	req_bad(json_pack("{s:s, s:i}", "method", "m", "_unique_id", 7), false);
	req_bad(json_pack("{s:s, s:s, s:s, s:s}", "method", "m", "_msg_id", "a", "_reply_q", "q", "_context_is_admin", "x"), true);
}

/* ---- replies and failures ------------------------------------------------ */

static void test_reply(void **state)
{
	struct rpc_reply r;
	struct rpc_error e;
	char why[128];
	json_t *msg;

	(void)state;
	msg = rpc_reply_encode("id1", "u1", json_pack("{s:i}", "a", 1), NULL, true);
	assert_true(json_is_null(json_object_get(msg, "failure")));
	assert_int_equal(rpc_reply_decode(msg, &r, why, sizeof why), 0);
	assert_string_equal(r.msg_id, "id1");
	assert_true(r.ending);
	assert_false(r.failed);
	assert_false(r.heartbeat);
	assert_int_equal(json_integer_value(json_object_get(r.result, "a")), 1);
	json_decref(msg);

	/* Call-monitor heartbeat. */
	msg = rpc_reply_encode("id2", "u2", NULL, NULL, false);
	assert_int_equal(rpc_reply_decode(msg, &r, why, sizeof why), 0);
	assert_true(r.heartbeat);
	assert_false(r.ending);
	json_decref(msg);

	/* Failure: the result is dropped, failure is a JSON string. */
	rpc_error_set(&e, "NoValidHost", "nova.exception", "no host for %s", "x");
	msg = rpc_reply_encode("id3", "u3", json_true(), &e, true);
	assert_true(json_is_null(json_object_get(msg, "result")));
	assert_true(json_is_string(json_object_get(msg, "failure")));
	assert_int_equal(rpc_reply_decode(msg, &r, why, sizeof why), 0);
	assert_true(r.failed);
	assert_int_equal(r.err.kind, RPC_ERR_REMOTE);
	assert_string_equal(r.err.cls, "NoValidHost");
	assert_string_equal(r.err.module, "nova.exception");
	assert_string_equal(r.err.message, "no host for x");
	json_decref(msg);

	/* An old-style reply without "ending". */
	msg = json_pack("{s:s, s:i}", "_msg_id", "x", "result", 3);
	assert_int_equal(rpc_reply_decode(msg, &r, why, sizeof why), 0);
	assert_false(r.ending);
	json_decref(msg);
}

static void reply_bad(json_t *msg)
{
	struct rpc_reply r;
	char why[128] = "";

	assert_int_equal(rpc_reply_decode(msg, &r, why, sizeof why), -1);
	assert_true(why[0] != '\0');
	json_decref(msg);
}

static void test_reply_bad(void **state)
{
	struct rpc_reply r;
	char why[128];
	json_t *msg;

	(void)state;
	reply_bad(json_pack("{s:n}", "result"));
	reply_bad(json_pack("{s:i}", "_msg_id", 1));
	reply_bad(json_pack("{s:s, s:s}", "_msg_id", "a", "ending", "yes"));
	reply_bad(json_pack("{s:s, s:{}}", "_msg_id", "a", "failure"));
	/* A failure string that is not JSON still fails the call. */
	msg = json_pack("{s:s, s:s, s:b}", "_msg_id", "a", "failure", "{oops", "ending", 1);
	assert_int_equal(rpc_reply_decode(msg, &r, why, sizeof why), 0);
	assert_true(r.failed);
	assert_string_equal(r.err.cls, "RemoteError");
	json_decref(msg);
}

static void test_failure(void **state)
{
	struct rpc_error e, back;
	json_t *f;
	char *s;

	(void)state;
	rpc_error_set(&e, "ValueError", "builtins", "boom %d", 42);
	s = rpc_failure_encode(&e);
	f = json_loads(s, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(f, "class")), "ValueError");
	assert_string_equal(json_string_value(json_object_get(f, "module")), "builtins");
	assert_string_equal(json_string_value(json_object_get(f, "message")), "boom 42");
	assert_true(json_is_array(json_object_get(f, "tb")));
	assert_string_equal(json_string_value(json_array_get(json_object_get(f, "args"), 0)), "boom 42");
	assert_true(json_is_object(json_object_get(f, "kwargs")));
	assert_int_equal(rpc_failure_decode(s, &back), 0);
	assert_string_equal(back.message, "boom 42");
	json_decref(f);
	free(s);

	/* Re-raised remote errors lose their _Remote suffix. */
	assert_int_equal(rpc_failure_decode("{\"class\": \"KeyError_Remote\", \"module\": "
	    "\"builtins_Remote\", \"message\": \"k\"}", &back), 0);
	assert_string_equal(back.cls, "KeyError");
	assert_string_equal(back.module, "builtins");
	assert_int_equal(rpc_failure_decode("[]", &back), -1);
	assert_int_equal(rpc_failure_decode("{\"class\": 1, \"module\": \"m\"}", &back), -1);
	assert_int_equal(back.kind, RPC_ERR_REMOTE);

	/* module NULL means "kumo"; a long message is cut, not overflowed. */
	{
		char lng[3000];
		memset(lng, 'z', sizeof lng - 1);
		lng[sizeof lng - 1] = '\0';
		rpc_error_set(&e, "X", NULL, "%s", lng);
		assert_string_equal(e.module, "kumo");
		assert_int_equal(strlen(e.message), sizeof e.message - 1);
	}
}

static void test_ctx_service(void **state)
{
	struct rpc_ctx a, b;

	(void)state;
	rpc_ctx_init_service(&a);
	rpc_ctx_init_service(&b);
	assert_int_equal(strncmp(a.request_id, "req-", 4), 0);
	assert_true(uuid_valid(a.request_id + 4));
	assert_string_not_equal(a.request_id, b.request_id);
	rpc_ctx_clear(&a);
	rpc_ctx_clear(&b);
}

static void test_id_new(void **state)
{
	char a[UUID_HEX_LEN], b[UUID_HEX_LEN];

	(void)state;
	for (int i = 0; i < 100; i++) { /* crosses several refills of the pool */
		rpc_id_new(a);
		rpc_id_new(b);
		assert_int_equal(strlen(a), 32);
		assert_int_equal(strspn(a, "0123456789abcdef"), 32);
		assert_int_equal(a[12], '4');                   /* version 4 */
		assert_non_null(strchr("89ab", a[16]));         /* RFC 4122 variant */
		assert_string_not_equal(a, b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_basic),
		cmocka_unit_test(test_url_hosts),
		cmocka_unit_test(test_url_decode),
		cmocka_unit_test(test_url_bad),
		cmocka_unit_test(test_envelope_roundtrip),
		cmocka_unit_test(test_envelope_encode_matches_jansson),
		cmocka_unit_test(test_envelope_decode_matches_jansson),
		cmocka_unit_test(test_envelope_compat),
		cmocka_unit_test(test_envelope_bad),
		cmocka_unit_test(test_ctx_encode),
		cmocka_unit_test(test_ctx_decode),
		cmocka_unit_test(test_ctx_bad),
		cmocka_unit_test(test_ctx_service),
		cmocka_unit_test(test_request_roundtrip),
		cmocka_unit_test(test_request_bad),
		cmocka_unit_test(test_reply),
		cmocka_unit_test(test_reply_bad),
		cmocka_unit_test(test_failure),
		cmocka_unit_test(test_id_new),
	};

	log_init("test_rpc_codec", LOG_LVL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
