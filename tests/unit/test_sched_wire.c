/* Unit tests of the scheduler's checks on arguments from the wire. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "scheduler/sched.h"

#define UUID1 "11111111-2222-4333-8444-555555555555"

static const struct wire_field fields[] = {
	{ "uuid", WIRE_UUID, 0, 0, false },
	{ "name", WIRE_STR, 1, 8, false },
	{ "n", WIRE_INT, 0, 10, false },
	{ "vm", WIRE_VM_STATE, 0, 0, false },
	{ "task", WIRE_TASK, 0, 0, true },
	{ "power", WIRE_POWER, 0, 0, false },
	{ "hosts", WIRE_STRLIST, 0, 2, true },
};

static json_t *good(void)
{
	return json_pack("{s:s, s:s, s:i, s:s, s:s, s:i, s:[s]}", "uuid", UUID1,
	    "name", "abc", "n", 10, "vm", "active", "task", "", "power", 4,
	    "hosts", "h1");
}

/* Sets key to v in a good object and expects a refusal naming key. */
static void refused(const char *key, json_t *v)
{
	struct rpc_error err;
	json_t *o = good();

	if (v == NULL)
		json_object_del(o, key);
	else
		json_object_set_new(o, key, v);
	assert_int_equal(wire_check(o, fields, 7, &err), -1);
	assert_string_equal(err.cls, "InvalidParameterValue");
	assert_non_null(strstr(err.message, key));
	json_decref(o);
}

static void test_fields(void **state)
{
	struct rpc_error err;
	json_t *o = good();

	(void)state;
	assert_int_equal(wire_check(o, fields, 7, &err), 0);
	assert_string_equal(wire_str(o, "name"), "abc");
	assert_int_equal(wire_int(o, "n"), 10);
	json_object_set_new(o, "task", json_null());
	json_object_del(o, "hosts");
	assert_int_equal(wire_check(o, fields, 7, &err), 0); /* nullables */
	json_decref(o);
	refused("uuid", json_string("1111"));
	refused("uuid", NULL);
	refused("name", json_string(""));
	refused("name", json_string("123456789"));
	refused("name", json_stringn("a\0b", 3));
	refused("name", json_integer(1));
	refused("n", json_integer(11));
	refused("n", json_real(1.0));
	refused("vm", json_string("zombie"));
	refused("task", json_string("napping"));
	refused("power", json_integer(2));
	refused("hosts", json_pack("[s,s,s]", "a", "b", "c"));
	refused("hosts", json_pack("[i]", 1));
	refused("hosts", json_pack("[s]", ""));
	assert_int_equal(wire_check(json_null(), fields, 7, &err), -1);
}

static const struct wire_field event_table[] = {
	{ "event", WIRE_EVENT, 0, 0, true },
	{ "at", WIRE_TIME, 0, 0, true },
};

/* wire_check of {"event": <e>} (e is stolen); 0 or -1. */
static int event_ok(json_t *e)
{
	struct rpc_error err;
	json_t *o = json_pack("{s:o}", "event", e);
	int rc = wire_check(o, event_table, 2, &err);

	json_decref(o);
	return rc;
}

static json_t *event(const char *start, const char *finish, const char *result)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:n}", "event",
	    "compute_stop_instance", "start_time", start, "finish_time", finish,
	    "result", result, "traceback");
}

static void test_event_and_time(void **state)
{
	struct rpc_error err;
	json_t *o, *e;

	(void)state;
	assert_int_equal(event_ok(event("2026-01-01T00:00:00Z",
	    "2026-01-01T00:00:00Z", "Success")), 0);
	assert_int_equal(event_ok(event("2024-02-29T23:59:59Z",
	    "2026-12-31T00:00:00Z", "Error")), 0);
	assert_int_equal(event_ok(json_null()), 0);            /* nullable */
	/* times: a real UTC time in the one format, start <= finish */
	assert_int_equal(event_ok(event("2026-02-30T00:00:00Z",
	    "2026-03-01T00:00:00Z", "Success")), -1);
	assert_int_equal(event_ok(event("2026-01-01T24:00:00Z",
	    "2026-01-02T00:00:00Z", "Success")), -1);
	assert_int_equal(event_ok(event("2026-01-01 00:00:00Z",
	    "2026-01-01T00:00:00Z", "Success")), -1);
	assert_int_equal(event_ok(event("2026-01-01T00:00:00",
	    "2026-01-01T00:00:00Z", "Success")), -1);
	assert_int_equal(event_ok(event("2026-01-01T00:00:01Z",
	    "2026-01-01T00:00:00Z", "Success")), -1);
	assert_int_equal(event_ok(event("2026-01-01T00:00:00Z",
	    "2026-01-01T00:00:00Z", "success")), -1);
	assert_int_equal(event_ok(json_string("x")), -1);
	e = event("2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", "Error");
	json_object_set_new(e, "event", json_string(""));
	assert_int_equal(event_ok(e), -1);
	e = event("2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", "Error");
	json_object_set_new(e, "traceback", json_integer(1));
	assert_int_equal(event_ok(e), -1);
	e = event("2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", "Error");
	json_object_del(e, "finish_time");
	assert_int_equal(event_ok(e), -1);

	o = json_pack("{s:s}", "at", "1999-12-31T23:59:59Z");
	assert_int_equal(wire_check(o, event_table, 2, &err), 0);
	json_object_set_new(o, "at", json_string("1999-13-31T23:59:59Z"));
	assert_int_equal(wire_check(o, event_table, 2, &err), -1);
	assert_non_null(strstr(err.message, "'at'"));
	json_object_set_new(o, "at", json_integer(0));
	assert_int_equal(wire_check(o, event_table, 2, &err), -1);
	json_decref(o);
}

static void test_retry(void **state)
{
	struct sched_retry r;
	struct rpc_error err;
	json_t *j, *back;

	(void)state;
	assert_int_equal(wire_retry(NULL, &r, &err), 0);
	assert_int_equal(r.num_attempts, 0);
	assert_int_equal(r.n_hosts, 0);
	j = json_pack("{s:i, s:[s,s]}", "num_attempts", 2, "hosts", "a", "b");
	assert_int_equal(wire_retry(j, &r, &err), 0);
	assert_int_equal(r.num_attempts, 2);
	assert_int_equal(r.n_hosts, 2);
	assert_string_equal(r.hosts[1], "b");
	back = wire_retry_json(&r, "c");
	assert_int_equal(json_array_size(json_object_get(back, "hosts")), 3);
	assert_int_equal(json_integer_value(json_object_get(back,
	    "num_attempts")), 2);
	json_decref(back);
	json_decref(j);
	j = json_pack("{s:i}", "num_attempts", 1);
	assert_int_equal(wire_retry(j, &r, &err), -1);
	json_decref(j);
	j = json_pack("{s:i, s:[]}", "num_attempts", -1, "hosts");
	assert_int_equal(wire_retry(j, &r, &err), -1);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_retry),
		cmocka_unit_test(test_event_and_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
