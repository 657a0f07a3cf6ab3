/*
 * What a create gives the guest itself, beside the server: user_data,
 * config_drive, hostname (2.90), metadata and the networks asked for, as
 * Nova's schema takes them; the networks resolved against the database
 * (kumo-scheduler gives the addresses when it places the build:
 * db_vif_allocate). Kept in instance_extra and instance_metadata.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "db/db.h"

#define USER_DATA_MAX 65535  /* Nova: maxLength of the base64 text */

/* user_data: base64 text of at most 65535 characters. */
static int check_user_data(struct api_req *r, const json_t *v,
    struct server_guest *g)
{
	char repr[300];
	unsigned char *buf;
	long n;

	if (v == NULL || json_is_null(v))
		return 0;
	api_pyrepr(v, repr, sizeof repr);
	if (!json_is_string(v))
		return api_invalid(r, "user_data", v, "%s is not of type 'string', "
		    "'null'", repr);
	if (json_string_length(v) > USER_DATA_MAX)
		return api_invalid(r, "user_data", v, "%s is too long", repr);
	if ((buf = malloc(json_string_length(v) + 1)) == NULL)
		return api_error(r, ERR_INTERNAL);
	n = b64std_decode(json_string_value(v), json_string_length(v), buf,
	    json_string_length(v));
	free(buf);
	if (n < 0)
		return api_invalid(r, "user_data", v, "%s is not a 'base64'", repr);
	g->user_data = json_string_value(v);
	return 0;
}

/* 2.90's hostname: [a-zA-Z0-9-._]{1,255} (what the guest gets is its
 * sanitized form, as Nova's). */
static int check_hostname(struct api_req *r, const json_t *v, int mv,
    struct server_guest *g)
{
	char repr[300];
	const char *s;

	if (v == NULL || mv < API_MV(2, 90))
		return 0;
	api_pyrepr(v, repr, sizeof repr);
	if (!json_is_string(v))
		return api_invalid(r, "hostname", v, "%s is not of type 'string'",
		    repr);
	s = json_string_value(v);
	if (json_string_length(v) < 1 || json_string_length(v) > 255 ||
	    strlen(s) != json_string_length(v) ||
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789-._") != strlen(s))
		return api_invalid(r, "hostname", v, "%s does not match "
		    "'^[a-zA-Z0-9-._]*$'", repr);
	hostname_sanitize(s, g->hostname, sizeof g->hostname);
	return 0;
}

/* One item of networks: {uuid, fixed_ip, port, tag} as Nova's schema. */
static int check_network_item(struct api_req *r, const json_t *item, int mv)
{
	static const char *const keys[] = { "uuid", "fixed_ip", "port", "tag",
		NULL };
	static const char *const keys_old[] = { "uuid", "fixed_ip", "port",
		NULL };
	const json_t *v;
	char repr[300];
	uint32_t a;

	if (v_object(r, "networks", item) ||
	    v_no_extra(r, "networks", item, mv >= API_MV(2, 32) ? keys : keys_old))
		return API_ERROR;
	if ((v = json_object_get(item, "uuid")) && !json_is_string(v)) {
		api_pyrepr(v, repr, sizeof repr);
		return api_invalid(r, "uuid", v, "%s is not of type 'string'", repr);
	}
	if ((v = json_object_get(item, "fixed_ip")) &&
	    (!json_is_string(v) || ip4_parse(json_string_value(v), &a) < 0)) {
		api_pyrepr(v, repr, sizeof repr);
		return api_invalid(r, "fixed_ip", v,
		    "%s is not valid under any of the given schemas", repr);
	}
	if ((v = json_object_get(item, "port")) && !json_is_null(v)) {
		api_pyrepr(v, repr, sizeof repr);
		return api_error(r, ERR_BAD_REQUEST, "Port %s could not be found.",
		    repr);
	}
	return 0;
}

/* networks: a list of objects; from 2.37 also "none" or "auto". */
static int check_networks(struct api_req *r, const json_t *v, int mv,
    struct server_guest *g)
{
	char repr[300];
	size_t i;
	json_t *item;

	if (v == NULL)
		return 0;
	if (mv >= API_MV(2, 37) && json_is_string(v) &&
	    (strcmp(json_string_value(v), "none") == 0 ||
	    strcmp(json_string_value(v), "auto") == 0)) {
		g->networks = json_deep_copy(v);
		return 0;
	}
	api_pyrepr(v, repr, sizeof repr);
	if (!json_is_array(v))
		return api_invalid(r, "networks", v, mv >= API_MV(2, 37) ?
		    "%s is not valid under any of the given schemas" :
		    "%s is not of type 'array'", repr);
	json_array_foreach(v, i, item)
		if (check_network_item(r, item, mv))
			return API_ERROR;
	g->networks = json_deep_copy(v);
	return 0;
}

/* accessIPv4 / accessIPv6: Nova's 'ipv4' and 'ipv6' formats, kept as given
 * (in the canonical form). */
int servers_access_ip_check(struct api_req *r, const json_t *srv,
    const char *key, int af, char *out, size_t size)
{
	const json_t *v = json_object_get(srv, key);
	unsigned char bin[16];
	char repr[300];

	if (v == NULL)
		return 0;
	api_pyrepr(v, repr, sizeof repr);
	if (!json_is_string(v) || json_string_length(v) >= 64 ||
	    strlen(json_string_value(v)) != json_string_length(v) ||
	    inet_pton(af, json_string_value(v), bin) != 1 ||
	    inet_ntop(af, bin, out, (socklen_t)size) == NULL)
		return api_invalid(r, key, v, "%s is not a '%s'", repr,
		    af == AF_INET ? "ipv4" : "ipv6");
	return 0;
}

int servers_guest_validate(struct api_req *r, const json_t *srv, int mv,
    struct server_guest *g)
{
	const json_t *v;

	if (servers_access_ip_check(r, srv, "accessIPv4", AF_INET, g->access_ip_v4,
	    sizeof g->access_ip_v4) ||
	    servers_access_ip_check(r, srv, "accessIPv6", AF_INET6, g->access_ip_v6,
	    sizeof g->access_ip_v6))
		return API_ERROR;

	if (check_networks(r, json_object_get(srv, "networks"), mv, g) ||
	    check_user_data(r, json_object_get(srv, "user_data"), g) ||
	    check_hostname(r, json_object_get(srv, "hostname"), mv, g))
		return API_ERROR;
	if ((v = json_object_get(srv, "config_drive")) && !json_is_null(v) &&
	    v_bool_param(r, "config_drive", v, &g->config_drive))
		return API_ERROR;
	return 0;
}

/* ---- resolving the networks ---- */

/* The network of a requested item: by uuid, else the one whose range
 * holds fixed_ip. */
static int item_network(struct api_req *r, const json_t *item,
    struct db_network *net)
{
	const char *id = json_string_value(json_object_get(item, "uuid"));
	const char *ip = json_string_value(json_object_get(item, "fixed_ip"));
	struct db_network *all = NULL;
	size_t n = 0;
	int rc;

	if (id != NULL) {
		rc = uuid_valid(id) ? db_network_get(r->api->db, id, net) :
		    DB_NOTFOUND;
		if (rc == DB_NOTFOUND)
			return api_error(r, ERR_BAD_REQUEST,
			    "Network %.64s could not be found.", id);
		return rc == DB_OK ? 0 : api_error(r, ERR_INTERNAL);
	}
	if (ip == NULL)
		return api_error(r, ERR_BAD_REQUEST, "Bad networks format: "
		    "network uuid is not in proper format ()");
	if (db_network_list(r->api->db, &all, &n) != DB_OK)
		return api_error(r, ERR_INTERNAL);
	for (size_t i = 0; i < n; i++)
		if (api_network_holds(&all[i], ip)) {
			*net = all[i];
			free(all);
			return 0;
		}
	free(all);
	return api_error(r, ERR_BAD_REQUEST, "Fixed IP address %s is not in "
	    "any network.", ip);
}

/* Each item names an existing network, and its fixed_ip is one of that
 * network's guest addresses; the list is rewritten with the uuids. */
int servers_guest_resolve(struct api_req *r, struct server_guest *g,
    int max_count)
{
	struct db_network net;
	const char *ip;
	json_t *item;
	size_t i;

	if (g->networks == NULL || !json_is_array(g->networks))
		return 0;
	json_array_foreach(g->networks, i, item) {
		if (item_network(r, item, &net))
			return API_ERROR;
		if ((ip = json_string_value(json_object_get(item, "fixed_ip")))) {
			if (max_count > 1)
				return api_error(r, ERR_BAD_REQUEST, "max_count cannot "
				    "be greater than 1 if an fixed_ip is specified.");
			if (!api_network_holds(&net, ip))
				return api_error(r, ERR_BAD_REQUEST, "Fixed IP address "
				    "(%s) does not exist in network (%s).", ip, net.uuid);
		}
		json_object_set_new(item, "uuid", json_string(net.uuid));
		json_object_del(item, "port");
		json_object_del(item, "tag");
	}
	return 0;
}

/* ip is one of the addresses net gives guests. */
bool api_network_holds(const struct db_network *net, const char *ip)
{
	uint32_t a, lo, hi;

	return ip4_parse(ip, &a) == 0 && ip4_parse(net->dhcp_start, &lo) == 0 &&
	    ip4_parse(net->dhcp_end, &hi) == 0 && a >= lo && a <= hi;
}

void servers_guest_free(struct server_guest *g)
{
	json_decref(g->networks);
	free(g->networks_text);
	free(g->meta);
	memset(g, 0, sizeof *g);
}

/* The instance_extra of the create (its strings borrowed from g and kp);
 * metadata from the body's object. 0, or -1 out of memory. */
int servers_guest_extra(struct server_guest *g, const json_t *metadata,
    const struct db_keypair *kp, struct db_instance_extra *x)
{
	const char *key;
	json_t *val;
	size_t i = 0;

	memset(x, 0, sizeof *x);
	if (g->networks != NULL && g->networks_text == NULL &&
	    (g->networks_text = json_dumps(g->networks, JSON_COMPACT | JSON_ENCODE_ANY)) == NULL)
		return -1;
	x->requested_networks = g->networks_text;
	x->user_data = g->user_data;
	if (kp != NULL) {
		x->key_data = kp->public_key;
		x->key_type = kp->type;
	}
	if (json_object_size(metadata) > 0 && g->meta == NULL) {
		if ((g->meta = calloc(json_object_size(metadata),
		    sizeof *g->meta)) == NULL)
			return -1;
		json_object_foreach((json_t *)metadata, key, val) {
			str_copy(g->meta[i].key, key, sizeof g->meta[i].key);
			str_copy(g->meta[i].value, json_string_value(val),
			    sizeof g->meta[i].value);
			i++;
		}
		g->n_meta = i;
	}
	x->meta = g->meta;
	x->n_meta = g->n_meta;
	return 0;
}
