/*
 * Arguments received over RPC come from other hosts, through a broker any
 * of them can publish to: every field is checked against a table before a
 * handler reads it (STYLE 20). Shared by the scheduler, the conductor and
 * the compute.
 */
#include <string.h>
#include <time.h>

#include "common/rpcapi.h"
#include "common/states.h"

#define BAD "InvalidParameterValue"

static int check_str(const json_t *v, int64_t min, int64_t max)
{
	size_t len;

	if (!json_is_string(v))
		return -1;
	len = json_string_length(v);
	if (strlen(json_string_value(v)) != len) /* an embedded NUL */
		return -1;
	return (int64_t)len < min || (int64_t)len > max ? -1 : 0;
}

static int check_strlist(const json_t *v, int64_t max)
{
	size_t i;
	json_t *e;

	if (!json_is_array(v) || (int64_t)json_array_size(v) > max)
		return -1;
	json_array_foreach(v, i, e)
		if (check_str(e, 1, 255) < 0)
			return -1;
	return 0;
}

static int check_power(const json_t *v)
{
	static const int known[] = { POWER_NOSTATE, POWER_RUNNING,
		POWER_PAUSED, POWER_SHUTDOWN, POWER_CRASHED, POWER_SUSPENDED };

	if (!json_is_integer(v))
		return -1;
	for (size_t i = 0; i < sizeof known / sizeof *known; i++)
		if (json_integer_value(v) == known[i])
			return 0;
	return -1;
}

/* "YYYY-MM-DDTHH:MM:SSZ", and a real time: formatting it back gives the
 * same text (no February 30th, no hour 24). */
static int check_time(const json_t *v)
{
	const char *s = json_string_value(v), *end;
	struct tm tm, back;
	char again[32];
	time_t t;

	if (s == NULL || json_string_length(v) != 20)
		return -1;
	memset(&tm, 0, sizeof tm);
	if ((end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm)) == NULL || *end != '\0')
		return -1;
	t = timegm(&tm);
	if (gmtime_r(&t, &back) == NULL ||
	    strftime(again, sizeof again, "%Y-%m-%dT%H:%M:%SZ", &back) != 20)
		return -1;
	return strcmp(again, s) == 0 ? 0 : -1;
}

static const struct wire_field event_fields[] = {
	{ "event", WIRE_STR, 1, 63, false },
	{ "start_time", WIRE_TIME, 0, 0, false },
	{ "finish_time", WIRE_TIME, 0, 0, false },
	{ "result", WIRE_STR, 5, 7, false },
	{ "traceback", WIRE_STR, 0, RPCAPI_EVENT_TRACEBACK_MAX, true },
};

static int check_event(const json_t *v)
{
	struct rpc_error err;
	const char *result;

	if (wire_check(v, event_fields, sizeof event_fields /
	    sizeof *event_fields, &err) < 0)
		return -1;
	result = wire_str(v, "result");
	if (strcmp(result, "Success") != 0 && strcmp(result, "Error") != 0)
		return -1;
	/* The format orders as the times do. */
	return strcmp(wire_str(v, "start_time"), wire_str(v, "finish_time")) <= 0 ?
	    0 : -1;
}

static int check_one(const json_t *v, const struct wire_field *f)
{
	switch (f->type) {
	case WIRE_STR:
		return check_str(v, f->min, f->max);
	case WIRE_UUID:
		return json_is_string(v) && uuid_valid(json_string_value(v)) ?
		    0 : -1;
	case WIRE_UUID_OR_EMPTY:
		return json_is_string(v) && (json_string_value(v)[0] == '\0' ||
		    uuid_valid(json_string_value(v))) ? 0 : -1;
	case WIRE_INT:
		return json_is_integer(v) && json_integer_value(v) >= f->min &&
		    json_integer_value(v) <= f->max ? 0 : -1;
	case WIRE_VM_STATE:
		return json_is_string(v) &&
		    state_vm_valid(json_string_value(v)) ? 0 : -1;
	case WIRE_TASK:
		return json_is_string(v) &&
		    state_task_valid(json_string_value(v)) ? 0 : -1;
	case WIRE_POWER:
		return check_power(v);
	case WIRE_OBJECT:
		return json_is_object(v) ? 0 : -1;
	case WIRE_STRLIST:
		return check_strlist(v, f->max);
	case WIRE_TIME:
		return check_time(v);
	case WIRE_EVENT:
		return check_event(v);
	}
	return -1;
}

int wire_check(const json_t *args, const struct wire_field *fields, size_t n,
    struct rpc_error *err)
{
	const json_t *v;

	if (!json_is_object(args)) {
		rpc_error_set(err, BAD, NULL, "arguments are not an object");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		v = json_object_get(args, fields[i].key);
		if ((v == NULL || json_is_null(v)) && fields[i].nullable)
			continue;
		if (v == NULL) {
			rpc_error_set(err, BAD, NULL, "missing argument '%s'",
			    fields[i].key);
			return -1;
		}
		if (check_one(v, &fields[i]) < 0) {
			rpc_error_set(err, BAD, NULL, "bad argument '%s'",
			    fields[i].key);
			return -1;
		}
	}
	return 0;
}

const char *wire_str(const json_t *args, const char *key)
{
	return json_string_value(json_object_get(args, key));
}

int64_t wire_int(const json_t *args, const char *key)
{
	return json_integer_value(json_object_get(args, key));
}

