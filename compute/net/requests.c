/*
 * kumo-netd's requests: one JSON object per packet, {"op": NAME, ...}, one
 * reply, {"ok": true, ...} or {"error": "<one line>"}. The ops table names
 * each op's fields; the dispatcher refuses any other field, junk and
 * oversize packets once, for all. A changing op works on a copy of the
 * lease set, which replaces the live one only once both files are saved;
 * then dnsmasq re-reads its hosts file (SIGHUP).
 *
 * Leases are kept (and dnsmasq's file written) even when the bridge is
 * the operator's (managed = false): kumo-compute's calls succeed alike,
 * and the operator may point a DHCP server of their own at dhcp-hosts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compute/net/netd.h"

struct op {
	const char *name;
	const char *const *fields;   /* besides "op"; NULL-terminated */
	int (*fn)(struct netd *d, const json_t *req, struct lease_set *next,
	    json_t *reply, char *err, size_t errlen);
	bool changes;                /* saves next and tells dnsmasq */
};

static int op_lease_add(struct netd *d, const json_t *req,
    struct lease_set *next, json_t *reply, char *err, size_t errlen)
{
	json_t *o = json_copy((json_t *)req);
	struct lease l;
	int rc = -1;

	(void)reply;
	if (o == NULL || json_object_del(o, "op") < 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (lease_from_json(&d->net, o, &l, err, errlen) < 0 ||
	    lease_set_put(next, &l, err, errlen) < 0)
		goto fail;
	rc = 0;
fail:
	json_decref(o);
	return rc;
}

static int op_lease_del(struct netd *d, const json_t *req,
    struct lease_set *next, json_t *reply, char *err, size_t errlen)
{
	const char *mac = json_string_value(json_object_get(req, "mac"));
	const char *inst = json_string_value(json_object_get(req, "instance"));

	(void)d;
	(void)reply;
	if ((mac == NULL) == (inst == NULL)) {
		snprintf(err, errlen, "lease_del takes mac or instance");
		return -1;
	}
	if (inst != NULL) {
		if (!uuid_valid(inst)) {
			snprintf(err, errlen, "instance is not a uuid");
			return -1;
		}
		lease_set_del_instance(next, inst);
		return 0;
	}
	if (!mac_valid(mac)) {
		snprintf(err, errlen, "mac is not a unicast MAC address");
		return -1;
	}
	lease_set_del(next, mac);
	return 0;
}

static bool has_mac(const struct lease_set *s, const char *mac)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].mac, mac) == 0)
			return true;
	return false;
}

static int op_leases_sync(struct netd *d, const json_t *req,
    struct lease_set *next, json_t *reply, char *err, size_t errlen)
{
	json_t *arr = json_object_get(req, "leases"), *o;
	char why[NETD_ERR_LEN];
	struct lease l;
	size_t i;

	if (!json_is_array(arr) || json_array_size(arr) > NETD_MAX_LEASES) {
		snprintf(err, errlen, "leases must be an array of at most %d",
		    NETD_MAX_LEASES);
		return -1;
	}
	next->n = 0;
	json_array_foreach(arr, i, o) {
		if (lease_from_json(&d->net, o, &l, why, sizeof why) < 0 ||
		    (has_mac(next, l.mac) &&
		    str_fmt(why, sizeof why, "mac given twice") == 0) ||
		    lease_set_put(next, &l, why, sizeof why) < 0) {
			snprintf(err, errlen, "leases[%zu]: %s", i, why);
			return -1;
		}
	}
	json_object_set_new(reply, "leases", json_integer((json_int_t)next->n));
	return 0;
}

static int op_status(struct netd *d, const json_t *req,
    struct lease_set *next, json_t *reply, char *err, size_t errlen)
{
	(void)req;
	(void)next;
	(void)err;
	(void)errlen;
	json_object_set_new(reply, "bridge", json_string(d->net.bridge));
	json_object_set_new(reply, "managed", json_boolean(d->managed));
	json_object_set_new(reply, "dnsmasq_pid", json_integer(d->dns.pid));
	json_object_set_new(reply, "leases", json_integer((json_int_t)d->leases.n));
	return 0;
}

static const char *const f_lease_add[] = { "mac", "ip", "hostname",
	"instance", NULL };
static const char *const f_lease_del[] = { "mac", "instance", NULL };
static const char *const f_leases_sync[] = { "leases", NULL };
static const char *const f_none[] = { NULL };

static const struct op ops[] = {
	{ "lease_add", f_lease_add, op_lease_add, true },
	{ "lease_del", f_lease_del, op_lease_del, true },
	{ "leases_sync", f_leases_sync, op_leases_sync, true },
	{ "status", f_none, op_status, false },
};

static const struct op *op_find(const json_t *req, char *err, size_t errlen)
{
	const char *name = json_string_value(json_object_get(req, "op"));
	const char *key;
	json_t *v;
	size_t i, k;

	for (i = 0; name != NULL && i < sizeof ops / sizeof *ops; i++)
		if (strcmp(ops[i].name, name) == 0)
			break;
	if (name == NULL || i == sizeof ops / sizeof *ops) {
		snprintf(err, errlen, "unknown op");
		return NULL;
	}
	json_object_foreach((json_t *)req, key, v) {
		for (k = 0; ops[i].fields[k] != NULL; k++)
			if (strcmp(ops[i].fields[k], key) == 0)
				break;
		if (strcmp(key, "op") != 0 && ops[i].fields[k] == NULL) {
			snprintf(err, errlen, "unknown field for %s", name);
			return NULL;
		}
	}
	return &ops[i];
}

/* Saves next and swaps it in; dnsmasq re-reads the hosts file. */
static int commit(struct netd *d, struct lease_set *next, char *err,
    size_t errlen)
{
	struct lease_set old = d->leases;

	if (lease_set_save(next, d->state_dir, err, errlen) < 0) {
		log_warnx("%s", err);
		snprintf(err, errlen, "cannot save the leases");
		return -1;
	}
	d->leases = *next;
	*next = old;
	dnsmasq_reload(&d->dns);
	return 0;
}

static json_t *run(struct netd *d, const char *req, size_t len, char *err,
    size_t errlen)
{
	struct lease_set next = { 0 };
	const struct op *op;
	json_t *r = NULL, *reply = json_pack("{s:b}", "ok", 1);

	if (reply == NULL || len > NETD_MAX_MSG) {
		snprintf(err, errlen, reply ? "request too large" : "out of memory");
		goto fail;
	}
	if ((r = json_loadb(req, len, JSON_REJECT_DUPLICATES, NULL)) == NULL ||
	    !json_is_object(r)) {
		snprintf(err, errlen, "request is not a JSON object");
		goto fail;
	}
	if ((op = op_find(r, err, errlen)) == NULL)
		goto fail;
	if (lease_set_copy(&next, &d->leases) < 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (op->fn(d, r, &next, reply, err, errlen) < 0 ||
	    (op->changes && commit(d, &next, err, errlen) < 0))
		goto fail;
	lease_set_free(&next);
	json_decref(r);
	return reply;
fail:
	lease_set_free(&next);
	json_decref(r);
	json_decref(reply);
	return NULL;
}

char *netd_handle(struct netd *d, const char *req, size_t len)
{
	char err[NETD_ERR_LEN] = "";
	json_t *reply = run(d, req, len, err, sizeof err);
	char *out;

	if (reply == NULL) {
		log_debug("request refused: %s", err);
		reply = json_pack("{s:s}", "error", err);
	}
	if (reply == NULL)
		return NULL;
	out = json_dumps(reply, JSON_COMPACT);
	json_decref(reply);
	return out;
}
