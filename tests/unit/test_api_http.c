/* Unit tests of kumo-api's HTTP layer: routes (404/405), microversions,
 * request ids, noauth2 tokens, the pipeline file, the error catalogue. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/api.h"
#include "common/rpc/rpc.h"
#include "common/crypto.h"

static const struct api_route *match(const char *m, const char *p, int *st,
    char *allow, char *id)
{
	return api_route_match(m, p, st, allow, 64, id, 256);
}

static void test_router_found(void **state)
{
	char allow[64], id[256];
	const struct api_route *rt;
	int st;

	(void)state;
	rt = match("GET", "/v2.1/servers/detail", &st, allow, id);
	assert_non_null(rt);
	assert_ptr_equal(rt->handler, servers_detail);
	rt = match("GET", "/v2.1/servers/abc", &st, allow, id);
	assert_ptr_equal(rt->handler, servers_show);
	assert_string_equal(id, "abc");
	assert_true(rt->flags & ROUTE_SERVER_ID);
	rt = match("DELETE", "/v2.1/flavors/m1.tiny", &st, allow, id);
	assert_ptr_equal(rt->handler, flavors_delete);
	assert_string_equal(id, "m1.tiny");
	assert_true(rt->flags & ROUTE_ADMIN);
	/* a trailing slash is the same resource */
	rt = match("GET", "/v2.1/", &st, allow, id);
	assert_ptr_equal(rt->handler, versions_v21);
	rt = match("GET", "/", &st, allow, id);
	assert_ptr_equal(rt->handler, versions_root);
	assert_true(rt->flags & ROUTE_NOAUTH);
	rt = match("POST", "/v2/images", &st, allow, id);
	assert_true(rt->flags & ROUTE_BODY);
}

static void test_router_404_405(void **state)
{
	char allow[64], id[256];
	int st;

	(void)state;
	assert_null(match("GET", "/v2.1/nonexistent-resource", &st, allow, id));
	assert_int_equal(st, 404);
	assert_null(match("GET", "/v2.1/servers/a/b", &st, allow, id));
	assert_int_equal(st, 404);
	assert_null(match("GET", "/v2.1/servers//", &st, allow, id));
	assert_int_equal(st, 404);
	assert_null(match("PATCH", "/v2.1/flavors", &st, allow, id));
	assert_int_equal(st, 405);
	assert_string_equal(allow, "GET, POST");
	assert_null(match("PATCH", "/v2.1/servers/x", &st, allow, id));
	assert_int_equal(st, 405);
	assert_string_equal(allow, "GET, PUT, DELETE");
	assert_null(match("POST", "/v2.1/os-hypervisors", &st, allow, id));
	assert_int_equal(st, 405);
	assert_string_equal(allow, "GET");
}

static void test_microversion_parse(void **state)
{
	int mv;

	(void)state;
	assert_int_equal(mv_parse("2.1", &mv), 0);
	assert_int_equal(mv, API_MV(2, 1));
	assert_int_equal(mv_parse("2.37", &mv), 0);
	assert_int_equal(mv, API_MV(2, 37));
	assert_int_equal(mv_parse("latest", &mv), 0);
	assert_int_equal(mv, API_MV_MAX);
	/* well formed, out of range: the filter answers 406 */
	assert_int_equal(mv_parse("2.999", &mv), 0);
	assert_true(mv > API_MV_MAX);
	assert_int_equal(mv_parse("2.1000000", &mv), 0);
	assert_true(mv > API_MV_MAX);
	assert_int_equal(mv_parse("3.0", &mv), 0);
	assert_true(mv > API_MV_MAX);
	assert_int_equal(mv_parse("2.0", &mv), 0);
	assert_true(mv < API_MV_MIN);
	/* malformed: 400 */
	assert_int_equal(mv_parse("two", &mv), -1);
	assert_int_equal(mv_parse("2", &mv), -1);
	assert_int_equal(mv_parse("2.", &mv), -1);
	assert_int_equal(mv_parse(".1", &mv), -1);
	assert_int_equal(mv_parse("02.1", &mv), -1);
	assert_int_equal(mv_parse("2.01", &mv), -1);
	assert_int_equal(mv_parse("0.1", &mv), -1);
	assert_int_equal(mv_parse("2.1.1", &mv), -1);
	assert_int_equal(mv_parse("2.x", &mv), -1);
	assert_int_equal(mv_parse("", &mv), -1);
	assert_int_equal(mv_parse(NULL, &mv), -1);
}

static void test_microversion_header(void **state)
{
	char buf[32];

	(void)state;
	assert_string_equal(mv_from_openstack_header("compute 2.37", buf, sizeof buf), "2.37");
	assert_string_equal(mv_from_openstack_header("compute latest", buf, sizeof buf), "latest");
	assert_string_equal(mv_from_openstack_header("placement 1.1, compute  2.5 ",
	    buf, sizeof buf), "2.5");
	assert_string_equal(mv_from_openstack_header("Compute two", buf, sizeof buf), "two");
	assert_null(mv_from_openstack_header("placement 1.1", buf, sizeof buf));
	assert_null(mv_from_openstack_header("computer 2.1", buf, sizeof buf));
	assert_null(mv_from_openstack_header(NULL, buf, sizeof buf));
}

static void test_request_id_rule(void **state)
{
	(void)state;
	assert_true(reqid_acceptable("req-0f6d2c53-52a5-4c1e-9a8e-3ae0c6c1e2b4"));
	assert_false(reqid_acceptable("0f6d2c53-52a5-4c1e-9a8e-3ae0c6c1e2b4"));
	assert_false(reqid_acceptable("req-0f6d2c53-52a5-4c1e-9a8e-3ae0c6c1e2b"));
	assert_false(reqid_acceptable("req-0f6d2c53-52a5-4c1e-9a8e-3ae0c6c1e2b4x"));
	assert_false(reqid_acceptable("req-0f6d2c53x52a5-4c1e-9a8e-3ae0c6c1e2b4"));
	assert_false(reqid_acceptable("evil\tvalue"));
	assert_false(reqid_acceptable(""));
	assert_false(reqid_acceptable(NULL));
}

static void test_auth_token(void **state)
{
	char u[256], p[256];

	(void)state;
	assert_int_equal(auth_parse_token("admin:admin", u, sizeof u, p, sizeof p), 0);
	assert_string_equal(u, "admin");
	assert_string_equal(p, "admin");
	assert_int_equal(auth_parse_token("demo:proj-1", u, sizeof u, p, sizeof p), 0);
	assert_string_equal(p, "proj-1");
	assert_int_equal(auth_parse_token("garbage", u, sizeof u, p, sizeof p), -1);
	assert_int_equal(auth_parse_token(":p", u, sizeof u, p, sizeof p), -1);
	assert_int_equal(auth_parse_token("u:", u, sizeof u, p, sizeof p), -1);
	assert_int_equal(auth_parse_token("u:p:q", u, sizeof u, p, sizeof p), -1);
	assert_int_equal(auth_parse_token("u s:p", u, sizeof u, p, sizeof p), -1);
	assert_int_equal(auth_parse_token("u:p\n", u, sizeof u, p, sizeof p), -1);
	assert_int_equal(auth_parse_token(NULL, u, sizeof u, p, sizeof p), -1);
}

static void test_pipeline(void **state)
{
	struct api_pipeline p;
	char err[256];

	(void)state;
	assert_int_equal(api_pipeline_parse("t.ini", "[pipeline:main]\n"
	    "pipeline = request_id faultwrap sizelimit access_log auth microversion compute_app\n",
	    &p, err, sizeof err), 0);
	assert_int_equal(p.n, 6);
	assert_ptr_equal(p.filters[0], &filter_request_id);
	assert_ptr_equal(p.filters[5], &filter_microversion);
	assert_ptr_equal(p.app, api_router_app);
	assert_int_equal(api_pipeline_parse("t.ini", "# c\n[pipeline:main]\n"
	    "pipeline = request_id ratelimit compute_app\n", &p, err, sizeof err), -1);
	assert_string_equal(err, "t.ini:3: unknown filter 'ratelimit'");
	assert_int_equal(api_pipeline_parse("t.ini", "[pipeline:main]\n"
	    "pipeline = request_id auth\n", &p, err, sizeof err), -1);
	assert_non_null(strstr(err, "t.ini:2: the pipeline must end with an app"));
	assert_int_equal(api_pipeline_parse("t.ini", "[pipeline:main]\n"
	    "pipeline = auth auth compute_app\n", &p, err, sizeof err), -1);
	assert_string_equal(err, "t.ini:2: filter 'auth' named twice");
	assert_int_equal(api_pipeline_parse("t.ini", "[composite:x]\nk = v\n",
	    &p, err, sizeof err), -1);
	assert_string_equal(err, "t.ini:2: unknown section [composite:x]");
	assert_int_equal(api_pipeline_parse("t.ini", "[pipeline:main]\n",
	    &p, err, sizeof err), -1);
	assert_string_equal(err, "t.ini: no 'pipeline' in [pipeline:main]");
	assert_int_equal(api_pipeline_load("/nonexistent/p.ini", &p, err, sizeof err), -1);
	assert_string_equal(err, "/nonexistent/p.ini: cannot open");
}

static void check_body(json_t *b, const char *kind, int code, const char *msg)
{
	json_t *inner = json_object_get(b, kind);

	assert_non_null(inner);
	assert_int_equal(json_object_size(b), 1);
	assert_int_equal(json_integer_value(json_object_get(inner, "code")), code);
	assert_string_equal(json_string_value(json_object_get(inner, "message")), msg);
	json_decref(b);
}

static void test_error_catalogue(void **state)
{
	struct api_req r;

	(void)state;
	memset(&r, 0, sizeof r);
	assert_int_equal(api_error(&r, ERR_INSTANCE_NOT_FOUND,
	    "00000000-0000-0000-0000-000000000000"), API_ERROR);
	assert_int_equal(api_err_status(r.err), 404);
	check_body(api_error_body(404, r.err_msg), "itemNotFound", 404,
	    "Instance 00000000-0000-0000-0000-000000000000 could not be found.");
	/* the first error wins */
	api_error(&r, ERR_INTERNAL);
	assert_int_equal(r.err, ERR_INSTANCE_NOT_FOUND);

	memset(&r, 0, sizeof r);
	api_error(&r, ERR_MV_UNSUPPORTED, "2.999");
	assert_int_equal(api_err_status(r.err), 406);
	check_body(api_error_body(406, r.err_msg), "computeFault", 406,
	    "Version 2.999 is not supported by the API. Minimum is 2.1 and maximum is 2.93.");
	memset(&r, 0, sizeof r);
	api_error(&r, ERR_POLICY, "os_compute_api:os-hypervisors:list");
	check_body(api_error_body(api_err_status(r.err), r.err_msg), "forbidden", 403,
	    "Policy doesn't allow os_compute_api:os-hypervisors:list to be performed.");
	memset(&r, 0, sizeof r);
	api_error(&r, ERR_FLAVOR_NAME_EXISTS, "m1.tiny");
	check_body(api_error_body(api_err_status(r.err), r.err_msg),
	    "conflictingRequest", 409, "Flavor with name m1.tiny already exists.");
	/* invalid UTF-8 from a path still makes a valid body */
	check_body(api_error_body(404, "Flavor \xff could not be found."),
	    "itemNotFound", 404, "Flavor ? could not be found.");

	assert_string_equal(api_fault_name(400), "badRequest");
	assert_string_equal(api_fault_name(401), "unauthorized");
	assert_string_equal(api_fault_name(405), "badMethod");
	assert_string_equal(api_fault_name(413), "overLimit");
	assert_string_equal(api_fault_name(415), "badMediaType");
	assert_string_equal(api_fault_name(406), "computeFault");
	assert_string_equal(api_fault_name(500), "computeFault");
	for (int e = 1; e < ERR__COUNT; e++)
		assert_true(api_err_status(e) >= 400 && api_err_status(e) < 600);
}

static void test_host_id(void **state)
{
	char out[57];

	(void)state;
	/* transcript 21: project admin on host anchor */
	view_host_id("admin", "anchor", out);
	assert_string_equal(out, "a8f726b4c9c6a90810d620cf76b312bf8e611bb1575bc439780e4888");
	view_host_id("admin", "", out);
	assert_string_equal(out, "");
	sha224_hex("", 0, out);
	assert_string_equal(out, "d14a028c2a3a2bc9476102bb288234c415a2b01f828ea62ac5b3e42f");
	sha224_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, out);
	assert_string_equal(out, "75388b16512776cc5dba5da1fd890150b0c6455cb4f58b1952522525");
}

/* The writer's text is what json_dumps(..., 0) makes of the same value. */
static void test_json_writer(void **state)
{
	static const char *const strs[] = { "plain", "q\"uote\\back", "tab\tnl\n\r\b\f",
		"ctl\x01\x1f\x7f", "utf8 \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", "" };
	static const long long ints[] = { 0, 7, -1, 10, 1234567890123LL,
		LLONG_MAX, LLONG_MIN };
	struct jw w;
	json_t *o = json_object(), *arr = json_array();
	char *text, *want, ascii[128];
	size_t len;

	(void)state;
	for (int c = 1; c < 128; c++)  /* every ASCII byte, escaped or not */
		ascii[c - 1] = (char)c;
	ascii[127] = '\0';
	jw_init(&w, 1);
	jw_open(&w, '{');
	jw_key(&w, "ascii");
	jw_str(&w, ascii);
	json_object_set_new(o, "ascii", json_string(ascii));
	for (size_t i = 0; i < sizeof strs / sizeof *strs; i++) {
		char key[8];

		snprintf(key, sizeof key, "k%zu", i);
		jw_key(&w, key);
		jw_str(&w, strs[i]);
		json_object_set_new(o, key, json_string(strs[i]));
	}
	jw_key_lit(&w, JW_KEY("list"));
	jw_open(&w, '[');
	for (size_t i = 0; i < sizeof ints / sizeof *ints; i++) {
		jw_int(&w, ints[i]);
		json_array_append_new(arr, json_integer(ints[i]));
	}
	jw_int(&w, -5);
	jw_raw(&w, "null");
	jw_open(&w, '{');
	jw_close(&w, '}');
	jw_str_or_null(&w, "");
	jw_close(&w, ']');
	jw_close(&w, '}');
	json_array_append_new(arr, json_integer(-5));
	json_array_append_new(arr, json_null());
	json_array_append_new(arr, json_object());
	json_array_append_new(arr, json_null());
	json_object_set_new(o, "list", arr);
	text = jw_finish(&w, &len);
	want = json_dumps(o, 0);
	assert_non_null(text);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(text, want, len);
	free(text);
	free(want);
	json_decref(o);
	/* invalid UTF-8 becomes '?', and the text stays valid JSON */
	jw_init(&w, 16);
	jw_str(&w, "a\xff\xc3(b\xed\xa0\x80");
	text = jw_finish(&w, &len);
	assert_int_equal(len, 10);
	assert_memory_equal(text, "\"a?" "?(b???\"", len);
	free(text);
}

/* jw_str(s) is json_dumps of the same string; for invalid UTF-8, which
 * jansson refuses, the byte at "at" became '?'. */
static void check_str(const char *s, size_t at)
{
	struct jw w;
	char *text, *want;
	json_t *j;
	size_t len;

	jw_init(&w, 1);
	jw_str(&w, s);
	text = jw_finish(&w, &len);
	assert_non_null(text);
	if ((j = json_string(s)) == NULL) {
		assert_int_equal(len, strlen(s) + 2);
		assert_int_equal(text[1 + at], '?');
		free(text);
		return;
	}
	want = json_dumps(j, JSON_ENCODE_ANY);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(text, want, len);
	free(want);
	free(text);
	json_decref(j);
}

/* Every byte value, and a two-byte UTF-8 sequence (c = 256), at each
 * offset of runs of plain bytes 2 to 24 long: the writer reads 8 bytes a
 * step (the last 8 at the end), and must agree with jansson wherever a
 * byte to escape falls. */
static void test_json_writer_offsets(void **state)
{
	char s[32];

	(void)state;
	for (int c = 1; c <= 256; c++) {
		for (size_t n = 2; n <= 24; n++) {
			for (size_t at = 0; at + 1 < n; at++) {
				memset(s, 'a', n);
				s[n] = '\0';
				s[at] = c < 256 ? (char)c : '\xc3';
				if (c == 256)
					s[at + 1] = '\xa9';
				check_str(s, at);
			}
		}
	}
}

/* The RPC context carries the caller's roles, as oslo's context does. */
static void test_rpc_ctx_roles(void **state)
{
	struct api_req r;
	struct rpc_ctx ctx;

	(void)state;
	memset(&r, 0, sizeof r);
	strcpy(r.reqid, "req-1");
	strcpy(r.user_id, "u1");
	strcpy(r.project_id, "p1");
	strcpy(r.role_names, "reader,member");
	api_rpc_ctx(&r, &ctx);
	assert_string_equal(ctx.user_id, "u1");
	assert_string_equal(ctx.project_id, "p1");
	assert_int_equal(json_array_size(ctx.roles), 2);
	assert_string_equal(json_string_value(json_array_get(ctx.roles, 0)), "reader");
	assert_string_equal(json_string_value(json_array_get(ctx.roles, 1)), "member");
	rpc_ctx_clear(&ctx);
	r.role_names[0] = '\0';
	api_rpc_ctx(&r, &ctx);
	assert_null(ctx.roles);
	rpc_ctx_clear(&ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rpc_ctx_roles),
		cmocka_unit_test(test_router_found),
		cmocka_unit_test(test_json_writer_offsets),
		cmocka_unit_test(test_router_404_405),
		cmocka_unit_test(test_microversion_parse),
		cmocka_unit_test(test_microversion_header),
		cmocka_unit_test(test_request_id_rule),
		cmocka_unit_test(test_auth_token),
		cmocka_unit_test(test_pipeline),
		cmocka_unit_test(test_error_catalogue),
		cmocka_unit_test(test_host_id),
		cmocka_unit_test(test_json_writer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
