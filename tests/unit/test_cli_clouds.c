/* Unit tests of cli/clouds.c: picking one entry of a clouds.yaml, the keys
 * inside and beside "auth", and errors that name no value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/cli.h"

static const char two_clouds[] =
    "# comments and keys kumo does not read are fine\n"
    "clouds:\n"
    "  first:\n"
    "    auth:\n"
    "      auth_url: http://a:8774/identity/v3\n"
    "      username: alice\n"
    "      password: 'pa ss: word'\n"
    "      project_name: p1\n"
    "    region_name: R1\n"
    "  second:\n"
    "    auth_type: password\n"
    "    identity_api_version: 3\n"
    "    auth: {auth_url: 'http://b/v3', username: bob, password: \"x\\\"y\",\n"
    "           project_name: p2, user_domain_id: default, project_domain_name: D}\n"
    "    interface: internal\n";

static int parse(const char *yaml, const char *cloud, struct cli_auth *a,
    char *err, size_t errlen)
{
	memset(a, 0, sizeof *a);
	err[0] = '\0';
	return cli_clouds_parse(yaml, strlen(yaml), cloud, a, err, errlen);
}

static void test_entry_selected(void **state)
{
	struct cli_auth a;
	char err[256];

	(void)state;
	assert_int_equal(parse(two_clouds, "first", &a, err, sizeof err), 0);
	assert_string_equal(a.auth_url, "http://a:8774/identity/v3");
	assert_string_equal(a.username, "alice");
	assert_string_equal(a.password, "pa ss: word");
	assert_string_equal(a.project_name, "p1");
	assert_string_equal(a.region_name, "R1");
	assert_string_equal(a.interface, "");
	assert_string_equal(a.user_domain_id, "");

	assert_int_equal(parse(two_clouds, "second", &a, err, sizeof err), 0);
	assert_string_equal(a.auth_url, "http://b/v3");
	assert_string_equal(a.username, "bob");
	assert_string_equal(a.password, "x\"y");
	assert_string_equal(a.user_domain_id, "default");
	assert_string_equal(a.project_domain_name, "D");
	assert_string_equal(a.interface, "internal");
	assert_string_equal(a.region_name, "");
}

static void test_keys_only_where_they_belong(void **state)
{
	struct cli_auth a;
	char err[256];
	/* username beside auth and region_name inside it are not read */
	static const char yaml[] = "clouds:\n  c:\n    username: no\n"
	    "    auth:\n      region_name: no\n      username: yes\n";

	(void)state;
	assert_int_equal(parse(yaml, "c", &a, err, sizeof err), 0);
	assert_string_equal(a.username, "yes");
	assert_string_equal(a.region_name, "");
}

static void test_errors(void **state)
{
	static const struct {
		const char *yaml, *cloud, *err;
	} cases[] = {
		{ two_clouds, "third", "no cloud named 'third'" },
		{ "clouds: [1]\n", "c", "no 'clouds' mapping" },
		{ "- a\n- b\n", "c", "no 'clouds' mapping" },
		{ "", "c", "no 'clouds' mapping" },
		{ "clouds:\n  c: 3\n", "c", "line 2: cloud 'c' is not a mapping" },
		{ "clouds:\n  c:\n    auth: x\n", "c", "line 3: 'auth' is not a mapping" },
		{ "clouds:\n  c:\n    auth:\n      password: [secret]\n", "c",
		  "line 4: 'password' is not a string" },
		{ "clouds:\n  c:\n    auth_type: v3applicationcredential\n", "c",
		  "cloud 'c': auth_type 'v3applicationcredential' is not supported (password only)" },
		{ "clouds:\n  c:\n    interface: [a\n", "c", "line 4: " },
		{ "clouds:\n\tc: 1\n", "c", "line 2: " },
		{ "clouds: {c: {auth: {password: \"unterminated}}}\n", "c", "line 2: " },
	};
	struct cli_auth a;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(parse(cases[i].yaml, cases[i].cloud, &a, err, sizeof err), -1);
		assert_true(strncmp(err, cases[i].err, strlen(cases[i].err)) == 0);
		assert_null(strstr(err, "secret"));
	}
}

static void test_too_long(void **state)
{
	struct cli_auth a;
	char err[256], *yaml;
	size_t n = sizeof a.password + 100;

	(void)state;
	yaml = malloc(n + 64);
	assert_non_null(yaml);
	strcpy(yaml, "clouds:\n  c:\n    auth:\n      password: ");
	memset(yaml + strlen(yaml), 's', n);
	strcpy(yaml + strlen("clouds:\n  c:\n    auth:\n      password: ") + n, "\n");
	assert_int_equal(parse(yaml, "c", &a, err, sizeof err), -1);
	assert_string_equal(err, "line 4: 'password' is too long");
	free(yaml);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entry_selected),
		cmocka_unit_test(test_keys_only_where_they_belong),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_too_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
