/*
 * The retry record of a build, read from and written to the wire
 * (checked with common/wire.c's table checker).
 */
#include <string.h>

#include "common/states.h"
#include "scheduler/sched.h"

#define NFIELDS(t) (sizeof t / sizeof *t)

static const struct wire_field retry_fields[] = {
	{ "num_attempts", WIRE_INT, 0, 1000, false },
	{ "hosts", WIRE_STRLIST, 0, SCHED_MAX_RETRY_HOSTS, false },
};

int wire_retry(const json_t *retry, struct sched_retry *out,
    struct rpc_error *err)
{
	const json_t *hosts;
	size_t i;
	json_t *h;

	memset(out, 0, sizeof *out);
	if (retry == NULL || json_is_null(retry))
		return 0;
	if (wire_check(retry, retry_fields, NFIELDS(retry_fields), err) < 0)
		return -1;
	out->num_attempts = (int)wire_int(retry, "num_attempts");
	hosts = json_object_get(retry, "hosts");
	json_array_foreach(hosts, i, h)
		out->hosts[out->n_hosts++] = json_string_value(h);
	return 0;
}

json_t *wire_retry_json(const struct sched_retry *r, const char *host)
{
	json_t *hosts = json_array();

	if (hosts == NULL)
		return NULL;
	for (size_t i = 0; i < r->n_hosts; i++)
		json_array_append_new(hosts, json_string(r->hosts[i]));
	if (host != NULL)
		json_array_append_new(hosts, json_string(host));
	return json_pack("{s:i, s:o}", "num_attempts", r->num_attempts,
	    "hosts", hosts);
}
