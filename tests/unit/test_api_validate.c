/* Unit tests of kumo-api's body validation (server and flavor create),
 * with Nova's messages, and of the Python repr they quote. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "api/api.h"
#include "db/db.h"

#define IMG "11111111-2222-3333-4444-555555555555"

/* Validates a server body; returns r's error message ("" when valid). */
static const char *server_err(const char *text, int mv, struct server_create *sc)
{
	static struct api_req r;
	json_t *body = json_loads(text, JSON_DECODE_ANY, NULL);

	assert_non_null(body);
	memset(&r, 0, sizeof r);
	if (servers_validate_create(&r, body, mv, sc) == 0)
		assert_int_equal(r.err, ERR_NONE);
	else
		assert_int_equal(api_err_status(r.err), 400);
	servers_guest_free(&sc->guest);
	json_decref(body);
	return r.err_msg;
}

static const char *flavor_err(const char *text, int mv, struct db_flavor *f)
{
	static struct api_req r;
	json_t *body = json_loads(text, JSON_DECODE_ANY, NULL);

	assert_non_null(body);
	memset(&r, 0, sizeof r);
	if (flavors_validate_create(&r, body, mv, f) == 0)
		assert_int_equal(r.err, ERR_NONE);
	else
		assert_int_equal(api_err_status(r.err), 400);
	json_decref(body);
	return r.err_msg;
}

static void test_server_valid(void **state)
{
	struct server_create sc;

	(void)state;
	assert_string_equal(server_err("{\"server\": {\"name\": \"vm1\", \"imageRef\": \""
	    IMG "\", \"flavorRef\": \"1\"}}", API_MV(2, 1), &sc), "");
	assert_string_equal(sc.name, "vm1");
	assert_string_equal(sc.image_ref, IMG);
	assert_string_equal(sc.flavor_ref, "1");
	assert_int_equal(sc.min_count, 1);
	assert_int_equal(sc.max_count, 1);
	assert_string_equal(server_err("{\"server\": {\"name\": \"vm\", \"imageRef\": \""
	    IMG "\", \"flavorRef\": 2, \"networks\": \"none\", \"max_count\": \"3\","
	    " \"availability_zone\": \"nova\"}}", API_MV(2, 37), &sc), "");
	assert_string_equal(sc.flavor_ref, "2");
	assert_int_equal(sc.max_count, 3);
	assert_string_equal(sc.availability_zone, "nova");
	/* an href keeps its last segment */
	assert_string_equal(server_err("{\"server\": {\"name\": \"vm\", \"imageRef\": \""
	    IMG "\", \"flavorRef\": \"http://h/flavors/7\", \"networks\": []}}",
	    API_MV(2, 1), &sc), "");
	assert_string_equal(sc.flavor_ref, "7");
}

static void test_server_invalid(void **state)
{
	struct server_create sc;
	char big[400];

	(void)state;
	assert_string_equal(server_err("{\"server\": {\"name\": \"x\", \"imageRef\": \""
	    IMG "\"}}", API_MV(2, 1), &sc),
	    "Invalid input for field/attribute server. Value: {'name': 'x', "
	    "'imageRef': '" IMG "'}. 'flavorRef' is a required property");
	assert_string_equal(server_err("{\"server\": {\"name\": \"x\", \"imageRef\": \""
	    IMG "\", \"flavorRef\": \"1\"}}", API_MV(2, 37), &sc),
	    "Invalid input for field/attribute server. Value: {'name': 'x', "
	    "'imageRef': '" IMG "', 'flavorRef': '1'}. 'networks' is a required property");
	assert_string_equal(server_err("{\"servers\": {}}", API_MV(2, 1), &sc),
	    "'server' is a required property");
	assert_string_equal(server_err("{\"server\": []}", API_MV(2, 1), &sc),
	    "Invalid input for field/attribute server. Value: []. [] is not of type 'object'");
	assert_string_equal(server_err("{\"server\": {\"name\": 5, \"flavorRef\": \"1\"}}",
	    API_MV(2, 1), &sc),
	    "Invalid input for field/attribute name. Value: 5. 5 is not of type 'string'");
	assert_string_equal(server_err("{\"server\": {\"name\": \"\", \"flavorRef\": \"1\"}}",
	    API_MV(2, 1), &sc),
	    "Invalid input for field/attribute name. Value: ''. '' is too short");
	memset(big, 'a', 256);
	snprintf(big + 256, sizeof big - 256, "\"");
	{
		char text[600];

		snprintf(text, sizeof text, "{\"server\": {\"name\": \"%s, \"flavorRef\": \"1\"}}", big);
		assert_non_null(strstr(server_err(text, API_MV(2, 1), &sc), "is too long"));
	}
	assert_non_null(strstr(server_err("{\"server\": {\"name\": \"a\\u0007b\", "
	    "\"flavorRef\": \"1\", \"imageRef\": \"" IMG "\"}}", API_MV(2, 1), &sc),
	    "An invalid 'name' value was provided"));
	assert_non_null(strstr(server_err("{\"server\": {\"name\": \"   \", "
	    "\"flavorRef\": \"1\", \"imageRef\": \"" IMG "\"}}", API_MV(2, 1), &sc),
	    "An invalid 'name' value was provided"));
	assert_string_equal(server_err("{\"server\": {\"name\": \"x\", \"imageRef\": \"nope\","
	    " \"flavorRef\": \"1\"}}", API_MV(2, 1), &sc),
	    "Invalid input for field/attribute imageRef. Value: 'nope'. 'nope' is not "
	    "valid under any of the given schemas");
	assert_string_equal(server_err("{\"server\": {\"name\": \"x\", \"imageRef\": \"" IMG
	    "\", \"flavorRef\": true}}", API_MV(2, 1), &sc),
	    "Invalid input for field/attribute flavorRef. Value: True. True is not of "
	    "type 'string', 'integer'");
	assert_string_equal(server_err("{\"server\": {\"name\": \"x\", \"imageRef\": \"" IMG
	    "\", \"flavorRef\": \"1\", \"min_count\": -1}}", API_MV(2, 1), &sc),
	    "Invalid input for field/attribute min_count. Value: -1. -1 is less than "
	    "the minimum of 1");
	assert_string_equal(server_err("{\"server\": {\"name\": \"x\", \"imageRef\": \"" IMG
	    "\", \"flavorRef\": \"1\", \"max_count\": \"abc\"}}", API_MV(2, 1), &sc),
	    "Invalid input for field/attribute max_count. Value: 'abc'. 'abc' does not "
	    "match '^[0-9]*$'");
	assert_non_null(strstr(server_err("{\"server\": {\"name\": \"x\", \"imageRef\": \"" IMG
	    "\", \"flavorRef\": \"1\", \"max_count\": 1000000000}}", API_MV(2, 1), &sc),
	    "is greater than the maximum of"));
	assert_string_equal(server_err("{\"server\": {\"name\": \"x\", \"imageRef\": \"" IMG
	    "\", \"flavorRef\": \"1\", \"min_count\": 3, \"max_count\": 2}}", API_MV(2, 1), &sc),
	    "min_count must be <= max_count");
	assert_non_null(strstr(server_err("{\"server\": {\"name\": \"x\", \"imageRef\": \"" IMG
	    "\", \"flavorRef\": \"1\", \"foo\": 1}}", API_MV(2, 1), &sc),
	    "Additional properties are not allowed ('foo' was unexpected)"));
	assert_non_null(strstr(server_err("{\"server\": {\"name\": \"x\", \"imageRef\": \"" IMG
	    "\", \"flavorRef\": \"1\", \"networks\": \"none\"}}", API_MV(2, 1), &sc),
	    "is not of type 'array'"));
	assert_non_null(strstr(server_err("{\"server\": {\"name\": \"x\", \"imageRef\": \"" IMG
	    "\", \"flavorRef\": \"1\", \"networks\": \"all\"}}", API_MV(2, 37), &sc),
	    "is not valid under any of the given schemas"));
	/* description is a property from 2.19 only */
	assert_non_null(strstr(server_err("{\"server\": {\"name\": \"x\", \"imageRef\": \"" IMG
	    "\", \"flavorRef\": \"1\", \"description\": \"d\"}}", API_MV(2, 1), &sc),
	    "('description' was unexpected)"));
	assert_non_null(strstr(server_err("{\"server\": {\"name\": \"x\", \"flavorRef\": \"1\"}}",
	    API_MV(2, 1), &sc), "Block Device Mapping is Invalid"));
	assert_non_null(strstr(server_err("{\"server\": {\"name\": \"x\", \"imageRef\": \"" IMG
	    "\", \"flavorRef\": \"1\"}, \"extra\": 1}", API_MV(2, 1), &sc),
	    "Additional properties are not allowed ('extra' was unexpected)"));
}

/* Nova's valid_name_regex: what Python's unicodedata calls C (Cc, Cf, Co,
 * Cn) or Z but Zs is out; Zs only inside; nothing past the BMP. */
static void test_name_is_printable(void **state)
{
	static const char *const good[] = {
		"vm1", "a b", "h\xc3\xa9llo", "\xe6\x97\xa5\xe6\x9c\xac",
		"a\xc2\xa0" "b",            /* U+00A0 (Zs) inside */
		"e\xcc\x81",                /* U+0301, a combining mark (Mn) */
		"a-b_c.d@e", "",
	};
	static const char *const bad[] = {
		"\xe2\x80\xae" "abc",       /* U+202E right-to-left override (Cf) */
		"a\xe2\x80\x8b" "b",        /* U+200B zero width space (Cf) */
		"a\xe2\x80\xa8" "b",        /* U+2028 line separator (Zl) */
		"a\xe2\x80\xa9" "b",        /* U+2029 paragraph separator (Zp) */
		"a\xef\xbb\xbf",            /* U+FEFF (Cf) */
		"a\xc2\xad" "b",            /* U+00AD soft hyphen (Cf) */
		"\xee\x80\x80",             /* U+E000 private use (Co) */
		"a\xc2\x85" "b",            /* U+0085 (Cc, C1) */
		"a\x7f", "a\tb", "a\nb", "a\x1b[2J",
		" a", "a ", "   ", "\xe3\x80\x80" "a",  /* Zs first: U+3000 */
		"\xf0\x9f\x98\x80",         /* U+1F600: past Nova's U+FFFE */
		"a\xe0\x80", "\xff",        /* not UTF-8 */
	};

	(void)state;
	for (size_t i = 0; i < sizeof good / sizeof *good; i++)
		if (!name_is_printable(good[i]))
			fail_msg("refused: good[%zu]", i);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		if (name_is_printable(bad[i]))
			fail_msg("accepted: bad[%zu]", i);
}

static void test_flavor_valid(void **state)
{
	struct db_flavor f;

	(void)state;
	assert_string_equal(flavor_err("{\"flavor\": {\"name\": \"m1.tiny\", \"ram\": 512,"
	    " \"vcpus\": 1, \"disk\": 1, \"id\": \"1\"}}", API_MV(2, 1), &f), "");
	assert_string_equal(f.flavorid, "1");
	assert_int_equal(f.memory_mb, 512);
	assert_int_equal(f.vcpus, 1);
	assert_int_equal(f.root_gb, 1);
	assert_true(f.is_public);
	assert_true(f.rxtx_factor == 1.0);
	assert_string_equal(flavor_err("{\"flavor\": {\"name\": \"m1.small\", \"ram\": \"2048\","
	    " \"vcpus\": 1, \"disk\": 20, \"description\": \"small flavor\", \"swap\": 0,"
	    " \"OS-FLV-EXT-DATA:ephemeral\": 0, \"rxtx_factor\": 1.0,"
	    " \"os-flavor-access:is_public\": \"false\"}}", API_MV(2, 55), &f), "");
	assert_string_equal(f.flavorid, "");
	assert_int_equal(f.memory_mb, 2048);
	assert_false(f.is_public);
	assert_string_equal(f.description, "small flavor");
	assert_string_equal(flavor_err("{\"flavor\": {\"name\": \"n\", \"ram\": 1,"
	    " \"vcpus\": 1, \"disk\": 0, \"id\": 7}}", API_MV(2, 1), &f), "");
	assert_string_equal(f.flavorid, "7");
}

static void test_flavor_invalid(void **state)
{
	struct db_flavor f;

	(void)state;
	assert_string_equal(flavor_err("{\"flavor\": {\"name\": \"bad\", \"vcpus\": 1,"
	    " \"disk\": 1}}", API_MV(2, 1), &f),
	    "Invalid input for field/attribute flavor. Value: {'name': 'bad', 'vcpus': 1,"
	    " 'disk': 1}. 'ram' is a required property");
	assert_string_equal(flavor_err("{}", API_MV(2, 1), &f),
	    "'flavor' is a required property");
	assert_string_equal(flavor_err("{\"flavor\": {\"name\": \"b\", \"ram\": -1,"
	    " \"vcpus\": 1, \"disk\": 1}}", API_MV(2, 1), &f),
	    "Invalid input for field/attribute ram. Value: -1. -1 is less than the minimum of 1");
	assert_string_equal(flavor_err("{\"flavor\": {\"name\": \"b\", \"ram\": 1,"
	    " \"vcpus\": 2147483648, \"disk\": 1}}", API_MV(2, 1), &f),
	    "Invalid input for field/attribute vcpus. Value: 2147483648. 2147483648 is "
	    "greater than the maximum of 2147483647");
	assert_string_equal(flavor_err("{\"flavor\": {\"name\": \"b\", \"ram\": 1.5,"
	    " \"vcpus\": 1, \"disk\": 1}}", API_MV(2, 1), &f),
	    "Invalid input for field/attribute ram. Value: 1.5. 1.5 is not of type "
	    "'integer', 'string'");
	assert_string_equal(flavor_err("{\"flavor\": {\"name\": \"b\", \"ram\": 1,"
	    " \"vcpus\": 1, \"disk\": -1}}", API_MV(2, 1), &f),
	    "Invalid input for field/attribute disk. Value: -1. -1 is less than the minimum of 0");
	assert_string_equal(flavor_err("{\"flavor\": {\"name\": \"b\", \"ram\": 1,"
	    " \"vcpus\": 1, \"disk\": 1, \"id\": \"a b!\"}}", API_MV(2, 1), &f),
	    "Invalid input for field/attribute id. Value: 'a b!'. 'a b!' does not match "
	    "'^(?! )[a-zA-Z0-9. _-]+(?<! )$'");
	assert_string_equal(flavor_err("{\"flavor\": {\"name\": \"b\", \"ram\": 1,"
	    " \"vcpus\": 1, \"disk\": 1, \"rxtx_factor\": 0}}", API_MV(2, 1), &f),
	    "Invalid input for field/attribute rxtx_factor. Value: 0. 0 is less than or "
	    "equal to the minimum of 0");
	assert_non_null(strstr(flavor_err("{\"flavor\": {\"name\": \"b\", \"ram\": 1,"
	    " \"vcpus\": 1, \"disk\": 1, \"os-flavor-access:is_public\": \"maybe\"}}",
	    API_MV(2, 1), &f), "'maybe' is not one of [True, 'True'"));
	assert_non_null(strstr(flavor_err("{\"flavor\": {\"name\": \"b\", \"ram\": 1,"
	    " \"vcpus\": 1, \"disk\": 1, \"description\": \"d\"}}", API_MV(2, 1), &f),
	    "('description' was unexpected)"));
	assert_non_null(strstr(flavor_err("{\"flavor\": {\"name\": \"b\\n\", \"ram\": 1,"
	    " \"vcpus\": 1, \"disk\": 1}}", API_MV(2, 1), &f),
	    "An invalid 'name' value was provided"));
	assert_string_equal(flavor_err("{\"flavor\": {\"name\": \"b\", \"ram\": 1,"
	    " \"vcpus\": 1, \"disk\": 1}, \"x\": 1, \"y\": 2}", API_MV(2, 1), &f),
	    "Additional properties are not allowed ('x', 'y' were unexpected)");
}

static void test_pyrepr(void **state)
{
	char buf[128];
	json_t *v;

	(void)state;
	v = json_loads("{\"a\": [1, 2.5, true, false, null], \"b\": \"it's\","
	    " \"c\": \"x\\ny\", \"d\": 1.0}", 0, NULL);
	api_pyrepr(v, buf, sizeof buf);
	assert_string_equal(buf, "{'a': [1, 2.5, True, False, None], 'b': \"it's\","
	    " 'c': 'x\\ny', 'd': 1.0}");
	api_pyrepr(v, buf, 16);
	assert_string_equal(buf, "{'a': [1, ...");
	json_decref(v);
	api_pyrepr(NULL, buf, sizeof buf);
	assert_string_equal(buf, "None");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_server_valid),
		cmocka_unit_test(test_server_invalid),
		cmocka_unit_test(test_name_is_printable),
		cmocka_unit_test(test_flavor_valid),
		cmocka_unit_test(test_flavor_invalid),
		cmocka_unit_test(test_pyrepr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
