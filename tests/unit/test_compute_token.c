/* Unit tests of the service user's login (compute/service_token.c): the
 * body, as openstackclient sends it, and expires_at of Keystone's answer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "compute/compute.h"

static void test_request_body(void **state)
{
	/* keystone-anchor.md §5, with a project scope by names */
	static const char want[] = "{\"auth\": {\"identity\": {\"methods\": "
	    "[\"password\"], \"password\": {\"user\": {\"password\": \"s3cret\", "
	    "\"name\": \"kumo-compute\", \"domain\": {\"name\": \"Default\"}}}}, "
	    "\"scope\": {\"project\": {\"name\": \"service\", \"domain\": "
	    "{\"name\": \"Other\"}}}}}";
	struct kumo_conf conf;
	char err[256];
	json_t *got, *exp;

	(void)state;
	assert_int_equal(conf_load(&conf, NULL, err, sizeof err), 0);
	strcpy(conf.service_username, "kumo-compute");
	strcpy(conf.service_password, "s3cret");
	strcpy(conf.service_project_domain_name, "Other");
	assert_non_null(got = compute_token_request(&conf));
	assert_non_null(exp = json_loads(want, 0, NULL));
	assert_true(json_equal(got, exp));
	json_decref(got);
	json_decref(exp);
	/* names with quotes and non-ASCII stay one string each */
	strcpy(conf.service_password, "p\"w\\\xc3\xa9");
	assert_non_null(got = compute_token_request(&conf));
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    json_object_get(json_object_get(json_object_get(got, "auth"),
	    "identity"), "password"), "user"), "password")), "p\"w\\\xc3\xa9");
	json_decref(got);
}

static int expiry(const char *body, time_t *t)
{
	return compute_token_expiry(body, strlen(body), t);
}

static void test_expiry(void **state)
{
	static const char *const bad[] = {
		"", "{", "[]", "{\"token\": {}}",
		"{\"token\": {\"expires_at\": 7}}",
		"{\"token\": {\"expires_at\": \"2026-12-07\"}}",
		"{\"token\": {\"expires_at\": \"2026-12-07T14:26:59\"}}",
		"{\"token\": {\"expires_at\": \"2026-12-07T14:26:59.Z\"}}",
		"{\"token\": {\"expires_at\": \"2026-12-07T14:26:59.000000Zx\"}}",
		"{\"token\": {\"expires_at\": \"2026-12-07T14:26:59+01:00\"}}",
		"{\"token\": {\"expires_at\": \"2026-13-07T14:26:59Z\"}}",
		"{\"expires_at\": \"2026-12-07T14:26:59Z\"}",
		"{\"token\": {\"expires_at\": \"2026-12-07T14:26:59Z\", "
		    "\"expires_at\": \"2026-12-07T14:26:59Z\"}}",
	};
	time_t t;

	(void)state;
	/* date -u -d 2026-12-07T14:26:59Z +%s */
	assert_int_equal(expiry("{\"token\": {\"methods\": [\"password\"], "
	    "\"expires_at\": \"2026-12-07T14:26:59.000000Z\"}}", &t), 0);
	assert_int_equal((long long)t, 1796653619LL);
	assert_int_equal(expiry("{\"token\": {\"expires_at\": "
	    "\"1970-01-01T00:01:00Z\"}}", &t), 0);
	assert_int_equal((long long)t, 60);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		if (expiry(bad[i], &t) == 0)
			fail_msg("accepted %s", bad[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_body),
		cmocka_unit_test(test_expiry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
