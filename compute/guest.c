/*
 * The "guest" of a build (scheduler/network.c writes it): the NICs the
 * controller gave the instance and what its config drive says. It comes
 * over a broker other hosts can publish to, so every field is checked
 * here before the driver, kumo-netd or the config drive see it.
 */
#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"
#include "compute/compute.h"

#define NFIELDS(t) (sizeof t / sizeof *t)
#define BAD "InvalidParameterValue"
#define USER_DATA_B64_MAX 65535
#define META_MAX CONFIGDRIVE_META_MAX

static const struct wire_field guest_args[] = {
	{ "hostname", WIRE_STR, 1, 63, false },
	{ "user_data", WIRE_STR, 0, USER_DATA_B64_MAX, true },
	{ "key", WIRE_OBJECT, 0, 0, true },
	{ "metadata", WIRE_OBJECT, 0, 0, true },
	{ "availability_zone", WIRE_STR, 0, 255, false },
	{ "launch_index", WIRE_INT, 0, 1000, false },
};

static const struct wire_field key_args[] = {
	{ "name", WIRE_STR, 1, 255, false },
	{ "type", WIRE_STR, 1, 15, false },
	{ "data", WIRE_STR, 1, CONFIGDRIVE_KEY_MAX, false },
};

static const struct wire_field nic_args[] = {
	{ "vif_id", WIRE_UUID, 0, 0, false },
	{ "network_id", WIRE_UUID, 0, 0, false },
	{ "network_label", WIRE_STR, 1, 255, false },
	{ "bridge", WIRE_STR, 1, 15, false },
	{ "mac", WIRE_STR, 17, 17, false },
	{ "address", WIRE_STR, 7, 15, false },
	{ "prefix", WIRE_INT, 8, 30, false },
	{ "gateway", WIRE_STR, 0, 15, false },
	{ "dns", WIRE_STR, 0, 15, false },
	{ "mtu", WIRE_INT, 576, 9000, false },
};

static bool addr_ok(const char *s, bool may_be_empty)
{
	uint32_t a;

	return (may_be_empty && s[0] == '\0') || ip4_parse(s, &a) == 0;
}

static int nic_parse(const json_t *v, struct compute_nic *n,
    struct rpc_error *err)
{
	if (wire_check(v, nic_args, NFIELDS(nic_args), err) < 0)
		return -1;
	compute_json_str(n->vif_id, sizeof n->vif_id, v, "vif_id");
	compute_json_str(n->network_id, sizeof n->network_id, v, "network_id");
	compute_json_str(n->network_label, sizeof n->network_label, v, "network_label");
	compute_json_str(n->bridge, sizeof n->bridge, v, "bridge");
	compute_json_str(n->mac, sizeof n->mac, v, "mac");
	compute_json_str(n->address, sizeof n->address, v, "address");
	compute_json_str(n->gateway, sizeof n->gateway, v, "gateway");
	compute_json_str(n->dns, sizeof n->dns, v, "dns");
	n->prefix = (int)json_integer_value(json_object_get(v, "prefix"));
	n->mtu = (int)json_integer_value(json_object_get(v, "mtu"));
	if (!net_bridge_name_ok(n->bridge) || !mac_valid(n->mac) ||
	    !addr_ok(n->address, false) || !addr_ok(n->gateway, true) ||
	    !addr_ok(n->dns, true)) {
		rpc_error_set(err, BAD, NULL, "bad argument 'nics'");
		return -1;
	}
	return 0;
}

static int nics_parse(const json_t *arr, struct compute_guest *g,
    struct rpc_error *err)
{
	const json_t *v;
	size_t i;

	if (arr == NULL || json_is_null(arr))
		return 0;
	if (!json_is_array(arr) || json_array_size(arr) > COMPUTE_MAX_NICS) {
		rpc_error_set(err, BAD, NULL, "bad argument 'nics'");
		return -1;
	}
	json_array_foreach(arr, i, v)
		if (nic_parse(v, &g->nics[g->n_nics++], err) < 0)
			return -1;
	return 0;
}

/* Metadata: at most META_MAX string values, keys 1-255, values <= 255
 * bytes, no NUL (the API took no more). */
static int meta_parse(const json_t *m, struct compute_guest *g,
    struct rpc_error *err)
{
	const char *key;
	json_t *val;

	if (m == NULL || json_is_null(m))
		return 0;
	if (json_object_size(m) > META_MAX)
		goto bad;
	json_object_foreach((json_t *)m, key, val)
		if (strlen(key) < 1 || strlen(key) > 255 || !json_is_string(val) ||
		    json_string_length(val) > 255 ||
		    strlen(json_string_value(val)) != json_string_length(val))
			goto bad;
	g->metadata = json_incref((json_t *)m);
	return 0;
bad:
	rpc_error_set(err, BAD, NULL, "bad argument 'metadata'");
	return -1;
}

static int user_data_parse(const json_t *v, struct compute_guest *g,
    struct rpc_error *err)
{
	long n;

	if (v == NULL || json_is_null(v))
		return 0;
	if ((g->user_data = malloc(json_string_length(v) + 1)) == NULL) {
		rpc_error_set(err, "MemoryError", "builtins", "out of memory");
		return -1;
	}
	n = b64std_decode(json_string_value(v), json_string_length(v),
	    g->user_data, json_string_length(v));
	if (n < 0) {
		rpc_error_set(err, BAD, NULL, "bad argument 'user_data'");
		return -1;
	}
	g->user_data_len = (size_t)n;
	g->has_user_data = true;
	return 0;
}

static int key_parse(const json_t *k, struct compute_guest *g,
    struct rpc_error *err)
{
	if (k == NULL || json_is_null(k))
		return 0;
	if (wire_check(k, key_args, NFIELDS(key_args), err) < 0)
		return -1;
	compute_json_str(g->key_name, sizeof g->key_name, k, "name");
	compute_json_str(g->key_type, sizeof g->key_type, k, "type");
	if (strcmp(g->key_type, "ssh") != 0 && strcmp(g->key_type, "x509") != 0) {
		rpc_error_set(err, BAD, NULL, "bad argument 'key'");
		return -1;
	}
	if ((g->key_data = strdup(json_string_value(json_object_get(k,
	    "data")))) == NULL) {
		rpc_error_set(err, "MemoryError", "builtins", "out of memory");
		return -1;
	}
	return 0;
}

int compute_args_guest(const json_t *instance, struct compute_guest *g,
    struct rpc_error *err)
{
	const json_t *o = json_object_get(instance, "guest"), *cd;

	memset(g, 0, sizeof *g);
	if (o == NULL || json_is_null(o))
		return 0;
	if (wire_check(o, guest_args, NFIELDS(guest_args), err) < 0)
		return -1;
	if ((cd = json_object_get(o, "config_drive")) != NULL &&
	    !json_is_boolean(cd)) {
		rpc_error_set(err, BAD, NULL, "bad argument 'config_drive'");
		return -1;
	}
	g->present = true;
	g->config_drive = json_is_true(cd);
	compute_json_str(g->hostname, sizeof g->hostname, o, "hostname");
	if (!hostname_valid(g->hostname)) {
		rpc_error_set(err, BAD, NULL, "bad argument 'hostname'");
		return -1;
	}
	compute_json_str(g->availability_zone, sizeof g->availability_zone, o,
	    "availability_zone");
	g->launch_index = (int)json_integer_value(json_object_get(o,
	    "launch_index"));
	if (nics_parse(json_object_get(o, "nics"), g, err) < 0 ||
	    meta_parse(json_object_get(o, "metadata"), g, err) < 0 ||
	    user_data_parse(json_object_get(o, "user_data"), g, err) < 0 ||
	    key_parse(json_object_get(o, "key"), g, err) < 0) {
		compute_guest_clear(g);
		return -1;
	}
	return 0;
}

void compute_guest_clear(struct compute_guest *g)
{
	free(g->user_data);
	free(g->key_data);
	json_decref(g->metadata);
	memset(g, 0, sizeof *g);
}
