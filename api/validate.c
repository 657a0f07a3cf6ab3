/*
 * The few JSON-schema checks the API bodies need, with jsonschema's own
 * messages wrapped the way Nova wraps them (api_invalid). Keys are checked
 * in the order Nova's schemas list them, so the first error is Nova's.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"

int v_no_extra(struct api_req *r, const char *field, const json_t *obj,
    const char *const *allowed)
{
	char extra[512] = "", repr[300];
	const char *key;
	json_t *val;
	int n = 0;

	json_object_foreach((json_t *)obj, key, val) {
		size_t i, used = strlen(extra);

		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(allowed[i], key) == 0)
				break;
		if (allowed[i] != NULL)
			continue;
		/* jsonschema quotes each with repr() */
		json_t *k = json_string(key);

		api_pyrepr(k, repr, sizeof repr);
		json_decref(k);
		snprintf(extra + used, sizeof extra - used, "%s%s", n ? ", " : "",
		    repr);
		n++;
	}
	if (n == 0)
		return 0;
	if (field == NULL)
		return api_invalid_top(r, "Additional properties are not allowed "
		    "(%s %s unexpected)", extra, n == 1 ? "was" : "were");
	return api_invalid(r, field, obj, "Additional properties are not allowed "
	    "(%s %s unexpected)", extra, n == 1 ? "was" : "were");
}

int v_required(struct api_req *r, const char *field, const json_t *obj,
    const char *key)
{
	if (json_object_get(obj, key) != NULL)
		return 0;
	if (field == NULL)
		return api_invalid_top(r, "'%s' is a required property", key);
	return api_invalid(r, field, obj, "'%s' is a required property", key);
}

int v_object(struct api_req *r, const char *field, const json_t *v)
{
	char repr[256];

	if (json_is_object(v))
		return 0;
	api_pyrepr(v, repr, sizeof repr);
	return api_invalid(r, field, v, "%s is not of type 'object'", repr);
}

int v_string(struct api_req *r, const char *field, const json_t *v,
    size_t min, size_t max, char *out, size_t size)
{
	char repr[300];
	size_t n;

	api_pyrepr(v, repr, sizeof repr);
	if (!json_is_string(v))
		return api_invalid(r, field, v, "%s is not of type 'string'", repr);
	n = json_string_length(v);
	if (n < min)
		return api_invalid(r, field, v, "%s is too short", repr);
	if (n > max || n >= size)
		return api_invalid(r, field, v, "%s is too long", repr);
	memcpy(out, json_string_value(v), n + 1);
	return 0;
}

/*
 * Nova's 'name' format (parameter_types.valid_name_regex): every character
 * printable, that is of no category C (control, format such as U+202E and
 * U+200B, unassigned) nor Z but Zs (U+2028 and U+2029 are out), and in the
 * Basic Multilingual Plane (Nova's class stops at U+FFFE); the first and
 * the last not a space separator (Zs). PCRE2's Unicode tables decide the
 * categories. The pattern is kumo's own, compiled once.
 */
static const char name_pattern[] = "^(?!\\p{Zs})"
    "[^\\p{C}\\p{Zl}\\p{Zp}\\x{FFFF}-\\x{10FFFF}]*(?<!\\p{Zs})\\z";
static struct api_regex *name_re;
static pthread_once_t name_once = PTHREAD_ONCE_INIT;

static void name_compile(void)
{
	char why[200];

	if ((name_re = api_regex_new(name_pattern, sizeof name_pattern, why,
	    sizeof why)) == NULL)
		fatalx("the name pattern does not compile: %s", why);
}

bool name_is_printable(const char *utf8)
{
	pthread_once(&name_once, name_compile);
	return api_regex_match(name_re, utf8) == 1;
}

int v_name(struct api_req *r, const char *field, const json_t *v, char *out,
    size_t size)
{
	if (v_string(r, field, v, 1, 255, out, size) != 0)
		return API_ERROR;
	if (*out != '\0' && name_is_printable(out))
		return 0;
	return api_error(r, ERR_INVALID_INPUT, "An invalid 'name' value was "
	    "provided. The name must be: printable characters. Can not start or "
	    "end with whitespace.");
}

int v_int_param(struct api_req *r, const char *field, const json_t *v,
    int64_t min, int64_t max, int64_t *out)
{
	char repr[300];
	int64_t n;

	api_pyrepr(v, repr, sizeof repr);
	if (json_is_integer(v)) {
		n = json_integer_value(v);
	} else if (json_is_string(v)) {
		const char *s = json_string_value(v);

		if (strspn(s, "0123456789") != strlen(s))
			return api_invalid(r, field, v, "%s does not match '^[0-9]*$'",
			    repr);
		if (num_parse_i64(s, 0, INT64_MAX, &n) < 0)
			return api_invalid(r, field, v, "%s is not a valid integer",
			    repr);
	} else {
		return api_invalid(r, field, v,
		    "%s is not of type 'integer', 'string'", repr);
	}
	if (n < min)
		return api_invalid(r, field, v, "%s is less than the minimum of %lld",
		    repr, (long long)min);
	if (n > max)
		return api_invalid(r, field, v,
		    "%s is greater than the maximum of %lld", repr, (long long)max);
	*out = n;
	return 0;
}

int v_bool_param(struct api_req *r, const char *field, const json_t *v,
    bool *out)
{
	static const char *const yes[] = { "True", "TRUE", "true", "1", "ON",
		"On", "on", "YES", "Yes", "yes" };
	static const char *const no[] = { "False", "FALSE", "false", "0", "OFF",
		"Off", "off", "NO", "No", "no" };
	char repr[300];

	if (json_is_boolean(v)) {
		*out = json_is_true(v);
		return 0;
	}
	for (size_t i = 0; json_is_string(v) && i < 10; i++) {
		if (strcmp(json_string_value(v), yes[i]) == 0 ||
		    strcmp(json_string_value(v), no[i]) == 0) {
			*out = strcmp(json_string_value(v), yes[i]) == 0;
			return 0;
		}
	}
	api_pyrepr(v, repr, sizeof repr);
	if (!json_is_string(v))
		return api_invalid(r, field, v,
		    "%s is not of type 'boolean', 'string'", repr);
	return api_invalid(r, field, v, "%s is not one of [True, 'True', 'TRUE', "
	    "'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', False, 'False', "
	    "'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no']", repr);
}
