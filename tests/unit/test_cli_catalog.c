/* Unit tests of cli/keystone.c: the endpoint chosen from a catalog by type,
 * interface and region, the compute root without its version, and
 * Keystone's timestamps; cli_escape (output.c), what the CLI prints of
 * the cloud's text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/cli.h"

/* Two regions; compute's public endpoint in R2 has a trailing slash. */
static const char token_body[] =
    "{\"token\": {\"expires_at\": \"2026-12-07T14:26:59.000000Z\","
    " \"user\": {\"id\": \"u1\"}, \"project\": {\"id\": \"p1\"},"
    " \"catalog\": ["
    "  {\"type\": \"identity\", \"endpoints\": ["
    "    {\"interface\": \"public\", \"region_id\": \"R1\", \"url\": \"http://k/identity/v3\"}]},"
    "  {\"type\": \"compute\", \"endpoints\": ["
    "    {\"interface\": \"admin\", \"region_id\": \"R1\", \"url\": \"http://admin:8774/v2.1\"},"
    "    {\"interface\": \"public\", \"region_id\": \"R1\", \"url\": \"http://pub1:8774/v2.1\"},"
    "    {\"interface\": \"internal\", \"region_id\": \"R1\", \"url\": \"http://int1:8774/v2.1\"},"
    "    {\"interface\": \"public\", \"region\": \"R2\", \"url\": \"http://pub2:8774/v2.1/\"}]},"
    "  {\"type\": \"image\", \"endpoints\": ["
    "    {\"interface\": \"public\", \"region_id\": \"R1\", \"url\": \"http://img1:9292/\"},"
    "    {\"interface\": \"internal\", \"region_id\": \"R1\", \"url\": \"http://img1i:9292/v2\"}]}]}}";

static json_t *load(const char *s)
{
	json_t *j = json_loads(s, 0, NULL);

	assert_non_null(j);
	return j;
}

static void test_endpoint_choice(void **state)
{
	static const struct {
		const char *type, *interface, *region, *url;
	} cases[] = {
		{ "compute", "public", "", "http://pub1:8774/v2.1" },
		{ "compute", "publicURL", NULL, "http://pub1:8774/v2.1" },
		{ "compute", "internal", "", "http://int1:8774/v2.1" },
		{ "compute", "admin", "R1", "http://admin:8774/v2.1" },
		{ "compute", "public", "R2", "http://pub2:8774/v2.1/" },
		{ "image", "public", "R1", "http://img1:9292/" },
		{ "identity", "public", NULL, "http://k/identity/v3" },
	};
	json_t *body = load(token_body);
	json_t *cat = json_object_get(json_object_get(body, "token"), "catalog");
	char url[256];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(cli_catalog_endpoint(cat, cases[i].type, cases[i].interface,
		    cases[i].region, url, sizeof url), 0);
		assert_string_equal(url, cases[i].url);
	}
	assert_int_equal(cli_catalog_endpoint(cat, "compute", "public", "R3", url, sizeof url), -1);
	assert_int_equal(cli_catalog_endpoint(cat, "image", "admin", NULL, url, sizeof url), -1);
	assert_int_equal(cli_catalog_endpoint(cat, "volume", "public", NULL, url, sizeof url), -1);
	assert_int_equal(cli_catalog_endpoint(cat, "compute", "pub", NULL, url, sizeof url), -1);
	assert_int_equal(cli_catalog_endpoint(NULL, "compute", "public", NULL, url, sizeof url), -1);
	assert_int_equal(cli_catalog_endpoint(cat, "compute", "public", NULL, url, 8), -1);
	json_decref(body);
}

static void test_token_parse(void **state)
{
	json_t *body = load(token_body);
	struct cli_session s;
	char err[256];

	(void)state;
	memset(&s, 0, sizeof s);
	assert_int_equal(cli_token_parse(body, "public", "", &s, err, sizeof err), 0);
	assert_string_equal(s.compute_url, "http://pub1:8774");
	assert_string_equal(s.image_url, "http://img1:9292");
	assert_string_equal(s.user_id, "u1");
	assert_string_equal(s.project_id, "p1");
	assert_string_equal(s.expires_at, "2026-12-07T14:26:59.000000Z");
	assert_int_equal((long long)s.expires, 1796653619LL);

	assert_int_equal(cli_token_parse(body, "internal", "R1", &s, err, sizeof err), 0);
	assert_string_equal(s.compute_url, "http://int1:8774");
	assert_string_equal(s.image_url, "http://img1i:9292");
	/* no image endpoint: "", the compute commands still work */
	assert_int_equal(cli_token_parse(body, "admin", "", &s, err, sizeof err), 0);
	assert_string_equal(s.image_url, "");
	assert_int_equal(cli_token_parse(body, "public", "R2", &s, err, sizeof err), 0);
	assert_string_equal(s.compute_url, "http://pub2:8774");

	assert_int_equal(cli_token_parse(body, "public", "R9", &s, err, sizeof err), -1);
	assert_string_equal(err, "no public endpoint of type compute in region R9 in the catalog");
	json_decref(body);
}

static void test_token_parse_refuses(void **state)
{
	static const char *const bodies[] = {
		"{}",
		"{\"token\": {\"user\": {\"id\": \"u\"}, \"project\": {\"id\": \"p\"}, \"catalog\": []}}",
		"{\"token\": {\"expires_at\": \"soon\", \"user\": {\"id\": \"u\"}, \"project\": {\"id\": \"p\"}}}",
		"{\"token\": {\"expires_at\": \"2026-12-07T14:26:59Z\", \"user\": {\"id\": \"u\"}}}",
		"{\"token\": {\"expires_at\": \"2026-12-07T14:26:59Z\", \"user\": {\"id\": \"u\"},"
		" \"project\": {\"id\": \"p\"}}}",
	};
	struct cli_session s;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
		json_t *b = load(bodies[i]);

		memset(&s, 0, sizeof s);
		assert_int_equal(cli_token_parse(b, "public", NULL, &s, err, sizeof err), -1);
		json_decref(b);
	}
}

static void test_time_parse(void **state)
{
	time_t t;

	(void)state;
	assert_int_equal(cli_time_parse("1970-01-01T00:00:00Z", &t), 0);
	assert_int_equal((long long)t, 0);
	assert_int_equal(cli_time_parse("2026-12-07T14:26:59.000000Z", &t), 0);
	assert_int_equal((long long)t, 1796653619LL);
	assert_int_equal(cli_time_parse("2026-12-07T14:26:59+00:00", &t), 0);
	assert_int_equal((long long)t, 1796653619LL);
	assert_int_equal(cli_time_parse("2026-12-07T14:26:59.Z", &t), -1);
	assert_int_equal(cli_time_parse("2026-12-07T14:26:59+01:00", &t), -1);
	assert_int_equal(cli_time_parse("2026-12-07", &t), -1);
	assert_int_equal(cli_time_parse(NULL, &t), -1);
}

/* What the CLI prints of the cloud's text: nothing a terminal obeys. */
static void test_escape(void **state)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "plain caf\xc3\xa9", "plain caf\xc3\xa9" },
		{ "a\x1b[2Jb", "a\\x1b[2Jb" },
		{ "\t\r\n\x7f", "\\x09\\x0d\\x0a\\x7f" },
		{ "x\xc2\x9by", "x\\u009by" },
		{ "rtl\xe2\x80\xae", "rtl\\u202e" },
		{ "\xf3\xa0\x80\x81", "\\ue0001" },
		{ "bad\xff\xc3", "bad\\xff\\xc3" },
		{ "", "" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char *got = cli_escape(cases[i].in);

		assert_non_null(got);
		assert_string_equal(got, cases[i].out);
		free(got);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_endpoint_choice),
		cmocka_unit_test(test_token_parse),
		cmocka_unit_test(test_token_parse_refuses),
		cmocka_unit_test(test_time_parse),
		cmocka_unit_test(test_escape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
