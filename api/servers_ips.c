/*
 * A server's addresses and its metadata in the server view, the ips
 * routes (/v2.1/servers/{id}/ips[/{network}]) and the read side of
 * /v2.1/os-networks (nova-network's), which clients without Neutron use
 * to find a network by name (openstack server create --nic net-id=NAME).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "db/db.h"

/* One address: ext adds what the server view shows beside it. */
static void write_addr(struct jw *w, const struct db_vif *v, bool ext)
{
	jw_open(w, '{');
	jw_key(w, "version");
	jw_int(w, 4);
	jw_key(w, "addr");
	jw_str(w, v->address);
	if (ext) {
		jw_key(w, "OS-EXT-IPS:type");
		jw_str(w, "fixed");
		jw_key(w, "OS-EXT-IPS-MAC:mac_addr");
		jw_str(w, v->mac);
	}
	jw_close(w, '}');
}

/* {"<label>": [addresses], ...}, NICs of one network together, in the
 * order of their first NIC; only label's when label is not NULL. The
 * number of addresses written. */
static size_t write_networks(struct jw *w, const struct db_vif *v, size_t n,
    const char *label, bool ext)
{
	size_t written = 0;

	jw_open(w, '{');
	for (size_t i = 0; i < n; i++) {
		bool seen = false;

		for (size_t j = 0; j < i && !seen; j++)
			seen = strcmp(v[j].network_label, v[i].network_label) == 0;
		if (seen || (label != NULL && strcmp(label, v[i].network_label)))
			continue;
		jw_key(w, v[i].network_label);
		jw_open(w, '[');
		for (size_t j = i; j < n; j++)
			if (strcmp(v[j].network_label, v[i].network_label) == 0) {
				write_addr(w, &v[j], ext);
				written++;
			}
		jw_close(w, ']');
	}
	jw_close(w, '}');
	return written;
}

/* ---- the server view's addresses and metadata ---- */

/* The page's NICs and metadata, loaded with one query each (a show loads
 * its one server's); the rows are by instance uuid. */
int servers_extras_load(struct api_req *r, const struct db_instance *list,
    size_t n, struct servers_extras *x)
{
	json_t *ids = json_array();
	char *text = NULL;
	int rc = DB_ERROR;

	memset(x, 0, sizeof *x);
	if (n == 0) {
		json_decref(ids);
		return 0;
	}
	for (size_t i = 0; ids != NULL && i < n; i++)
		json_array_append_new(ids, json_string(list[i].uuid));
	if (ids != NULL && (text = json_dumps(ids, JSON_COMPACT)) != NULL &&
	    (rc = db_vif_list_many(r->api->db, text, &x->vifs, &x->n_vifs)) == DB_OK)
		rc = db_instance_metadata_list_many(r->api->db, text, &x->meta,
		    &x->n_meta);
	free(text);
	json_decref(ids);
	if (rc != DB_OK)
		servers_extras_free(x);
	return rc == DB_OK ? 0 : -1;
}

void servers_extras_free(struct servers_extras *x)
{
	free(x->vifs);
	free(x->meta);
	memset(x, 0, sizeof *x);
}

/* The first row of uuid in rows sorted by uuid (n when none), and how
 * many there are. */
static size_t rows_of(const void *rows, size_t n, size_t size, size_t off,
    const char *uuid, size_t *count)
{
	size_t lo = 0, hi = n, first;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *u = (const char *)rows + mid * size + off;

		if (strcmp(u, uuid) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	first = lo;
	while (lo < n && strcmp((const char *)rows + lo * size + off, uuid) == 0)
		lo++;
	*count = lo - first;
	return first;
}

void servers_write_addresses(struct jw *w, const struct servers_extras *x,
    const char *uuid)
{
	size_t k, i = rows_of(x->vifs, x->n_vifs, sizeof *x->vifs,
	    offsetof(struct db_vif, instance_uuid), uuid, &k);

	write_networks(w, x->vifs + i, k, NULL, true);
}

void servers_write_metadata(struct jw *w, const struct servers_extras *x,
    const char *uuid)
{
	size_t k, i = rows_of(x->meta, x->n_meta, sizeof *x->meta,
	    offsetof(struct db_meta, instance_uuid), uuid, &k);

	jw_open(w, '{');
	for (; k > 0; i++, k--) {
		jw_key(w, x->meta[i].key);
		jw_str(w, x->meta[i].value);
	}
	jw_close(w, '}');
}

static enum api_rc ips_reply(struct api_req *r, const char *label)
{
	struct db_instance in;
	struct db_vif *v = NULL;
	struct jw w;
	size_t n = 0, len, shown;
	char *text;

	if (servers_instance_get(r, &in) != 0)
		return API_ERROR;
	if (db_vif_list(r->api->db, in.uuid, &v, &n) != DB_OK)
		return api_error(r, ERR_INTERNAL);
	jw_init(&w, 256 + n * 64);
	if (label == NULL) {
		jw_open(&w, '{');
		jw_key(&w, "addresses");
	}
	shown = write_networks(&w, v, n, label, false);
	if (label == NULL)
		jw_close(&w, '}');
	free(v);
	text = jw_finish(&w, &len);
	if (label != NULL && shown == 0) {
		free(text);
		return api_error(r, ERR_NOT_IN_NETWORK);
	}
	return api_reply_text(r, 200, text, len);
}

enum api_rc servers_ips_index(struct api_req *r)
{
	return ips_reply(r, NULL);
}

enum api_rc servers_ips_show(struct api_req *r)
{
	return ips_reply(r, r->id2);
}

/* ---- os-networks (read) ---- */

static json_t *network_view(const struct api_req *r, const struct db_network *n)
{
	uint32_t net, gw, dns;
	char mask[IP4_STR_LEN], bcast[IP4_STR_LEN];
	int prefix;

	if (ip4_cidr_parse(n->cidr, &net, &prefix) < 0 ||
	    ip4_parse(n->gateway, &gw) < 0 || ip4_parse(n->dns, &dns) < 0)
		return NULL;
	ip4_format(ip4_mask(prefix), mask);
	ip4_format(net | ~ip4_mask(prefix), bcast);
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:n, s:n, s:n, "
	    "s:s, s:n}", "id", n->uuid, "cidr", n->cidr, "netmask", mask,
	    "gateway", n->gateway, "broadcast", bcast, "dns1", n->dns, "dns2",
	    "cidr_v6", "gateway_v6", "label", n->label, "netmask_v6");

	if (o != NULL && r->is_admin) {
		json_object_set_new(o, "bridge", json_string(n->bridge));
		json_object_set_new(o, "dhcp_start", json_string(n->dhcp_start));
		json_object_set_new(o, "mtu", json_integer(n->mtu));
		json_object_set_new(o, "created_at", view_time_usec(n->created_at));
		json_object_set_new(o, "deleted", json_false());
		json_object_set_new(o, "multi_host", json_false());
		json_object_set_new(o, "enable_dhcp", json_true());
		json_object_set_new(o, "project_id", json_null());
	}
	return o;
}

enum api_rc networks_list(struct api_req *r)
{
	struct db_network *list = NULL;
	json_t *arr = json_array();
	size_t n = 0;

	if (db_network_list(r->api->db, &list, &n) != DB_OK) {
		json_decref(arr);
		return api_error(r, ERR_INTERNAL);
	}
	for (size_t i = 0; i < n; i++) {
		json_t *v = network_view(r, &list[i]);

		if (v != NULL)
			json_array_append_new(arr, v);
	}
	free(list);
	return api_reply(r, 200, json_pack("{s:o}", "networks", arr));
}

/* By uuid; a label finds nothing here either (openstackclient then lists
 * and matches the label itself). */
enum api_rc networks_show(struct api_req *r)
{
	struct db_network n;
	json_t *v;
	int rc = uuid_valid(r->id) ? db_network_get(r->api->db, r->id, &n) :
	    DB_NOTFOUND;

	if (rc == DB_NOTFOUND)
		return api_error(r, ERR_NETWORK_NOT_FOUND, r->id);
	if (rc != DB_OK || (v = network_view(r, &n)) == NULL)
		return api_error(r, ERR_INTERNAL);
	return api_reply(r, 200, json_pack("{s:o}", "network", v));
}
