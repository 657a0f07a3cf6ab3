/* Unit tests of cli/format.c: openstackclient's column formats, against
 * what openstackclient prints for the same JSON (format_dict's sorted
 * keys and quotes, the Networks column's "label=a, b; other=c"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/cli.h"

/* fmt applied to the JSON text in, compared with want. */
static void check(char *(*fmt)(json_t *), const char *in, const char *want)
{
	json_t *j = json_loads(in, JSON_DECODE_ANY, NULL);
	char *got;

	assert_non_null(j);
	got = fmt(j);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
	json_decref(j);
}

static void test_networks(void **state)
{
	(void)state;
	check(cli_fmt_networks, "{}", "");
	check(cli_fmt_networks, "{\"private\": [{\"version\": 4, \"addr\": \"10.99.0.5\"},"
	    " {\"addr\": \"10.99.0.6\"}], \"other\": [{\"addr\": \"10.98.0.2\"}]}",
	    "private=10.99.0.5, 10.99.0.6; other=10.98.0.2");
	check(cli_fmt_networks, "{\"empty\": [], \"odd\": [{\"mac\": 1}]}", "empty=; odd=");
}

static void test_dict(void **state)
{
	(void)state;
	check(cli_fmt_dict, "{}", "");
	check(cli_fmt_dict, "{\"role\": \"web\", \"empty\": \"\", \"n\": null, \"i\": 3,"
	    " \"t\": true, \"d\": {\"y\": \"2\", \"x\": \"1\"}}",
	    "d.x='1', d.y='2', empty='', i='3', n=, role='web', t='True'");
	check(cli_fmt_dict_list, "[{\"name\": \"default\"}, {\"name\": \"web\", \"id\": 1}]",
	    "name='default'; id='1', name='web'");
	check(cli_fmt_dict_list, "[]", "");
}

static void test_named(void **state)
{
	json_t *names = json_pack("{s:s}", "1", "m1.tiny"), *v;

	(void)state;
	v = cli_fmt_named(names, "1");
	assert_string_equal(json_string_value(v), "m1.tiny (1)");
	json_decref(v);
	v = cli_fmt_named(names, "gone");
	assert_string_equal(json_string_value(v), "gone");
	json_decref(v);
	assert_string_equal(cli_name_of(names, "1"), "m1.tiny");
	assert_string_equal(cli_name_of(names, "2"), "2");
	json_decref(names);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_networks),
		cmocka_unit_test(test_dict),
		cmocka_unit_test(test_named),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
