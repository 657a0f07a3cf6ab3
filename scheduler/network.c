/*
 * The guest's side of a build, as the conductor hands it to the compute:
 * its NICs (a fixed IP and a MAC on a flat network, given when the build
 * is placed, in one transaction each: db_vif_allocate) and what its
 * config drive says (hostname, key, user data, metadata).
 *
 * The default network is [network]'s; kumo-scheduler creates it at start
 * when the database has no network of that name.
 */
#include <stdlib.h>
#include <string.h>

#include "scheduler/sched.h"

#define MAX_NICS 8

/* The [network] network in the database (made when absent). */
int sched_network_ensure(struct db *db, const struct kumo_conf *conf)
{
	struct db_network n, have;
	struct net_def def;
	char err[256];
	int rc;

	if (net_def_from_conf(conf, &def, err, sizeof err) < 0) {
		log_warnx("[network]: %s", err);
		return -1;
	}
	db_network_from_def(&def, &n);
	if ((rc = db_network_get_by_label(db, n.label, &have)) == DB_OK) {
		if (strcmp(have.cidr, n.cidr) != 0 || strcmp(have.bridge, n.bridge))
			log_warnx("network %s: the database has %s on %s, [network] "
			    "says %s on %s: the database's is used", have.label,
			    have.cidr, have.bridge, n.cidr, n.bridge);
		return 0;
	}
	if (rc != DB_NOTFOUND)
		return -1;
	rc = db_network_create(db, &n);
	if (rc == DB_OK)
		log_info("network %s (%s, bridge %s) created", n.label, n.cidr,
		    n.bridge);
	return rc == DB_OK || rc == DB_CONFLICT ? 0 : -1;
}

/* The network "auto" gives: [network]'s, else the first one; DB_NOTFOUND
 * when there is none. */
static int default_network(struct db *db, const struct kumo_conf *conf,
    struct db_network *out)
{
	struct db_network *all = NULL;
	size_t n = 0;
	int rc = db_network_get_by_label(db, conf->net_name, out);

	if (rc != DB_NOTFOUND)
		return rc;
	if ((rc = db_network_list(db, &all, &n)) == DB_OK && n == 0)
		rc = DB_NOTFOUND;
	if (rc == DB_OK)
		*out = all[0];
	free(all);
	return rc;
}

/* One NIC; why says what went wrong for the fault. */
static int allocate_one(struct sched *s, const char *uuid, int index,
    const char *net_uuid, const char *fixed_ip, char *why, size_t wlen)
{
	struct db_network net;
	struct db_vif vif;
	uint32_t want = 0;
	int rc;

	rc = net_uuid != NULL ? db_network_get(s->db, net_uuid, &net) :
	    default_network(s->db, s->conf, &net);
	if (rc == DB_NOTFOUND && net_uuid == NULL)
		return DB_OK;   /* "auto" without any network: no NIC */
	if (rc == DB_NOTFOUND) {
		snprintf(why, wlen, "Network %s could not be found.", net_uuid);
		return rc;
	}
	if (fixed_ip != NULL && ip4_parse(fixed_ip, &want) < 0)
		want = 0;
	if (rc == DB_OK)
		rc = db_vif_allocate(s->db, uuid, index, &net, want, &vif);
	if (rc == DB_NOSPACE)
		snprintf(why, wlen, "No more fixed IPs: no fixed IP addresses "
		    "available for network: %s", net.uuid);
	else if (rc == DB_CONFLICT)
		snprintf(why, wlen, "Fixed IP address %s is already in use.",
		    fixed_ip ? fixed_ip : "");
	else if (rc == DB_OK)
		log_info("instance %s: NIC %d %s %s on %s", uuid, index,
		    vif.address, vif.mac, net.label);
	else
		snprintf(why, wlen, "fixed IP allocation failed: %s",
		    db_strerror(rc));
	return rc;
}

/* Gives the instance the NICs its create asked for (instance_extra's
 * requested_networks: null or "auto" one on the default network, "none"
 * none, else one per item). Idempotent: a NIC it has is kept. DB_OK, or
 * the failure with why filled for the instance's fault. */
int sched_allocate_nics(struct sched *s, const char *uuid, char *why,
    size_t wlen)
{
	struct db_instance_extra x;
	json_t *req = NULL, *item;
	size_t i;
	int rc;

	if ((rc = db_instance_extra_get(s->db, uuid, &x)) == DB_NOTFOUND)
		rc = DB_OK;
	if (rc != DB_OK) {
		snprintf(why, wlen, "cannot read the instance's networks");
		return rc;
	}
	if (x.requested_networks != NULL)
		req = json_loads(x.requested_networks, JSON_DECODE_ANY, NULL);
	db_instance_extra_clear(&x);
	if (json_is_string(req) && strcmp(json_string_value(req), "none") == 0)
		rc = DB_OK;
	else if (!json_is_array(req))
		rc = allocate_one(s, uuid, 0, NULL, NULL, why, wlen);
	else
		json_array_foreach(req, i, item) {
			if (i >= MAX_NICS || rc != DB_OK)
				break;
			rc = allocate_one(s, uuid, (int)i, json_string_value(
			    json_object_get(item, "uuid")), json_string_value(
			    json_object_get(item, "fixed_ip")), why, wlen);
		}
	json_decref(req);
	return rc;
}

/* ---- what the compute is told ---- */

static json_t *nic_json(const struct db_vif *v)
{
	uint32_t net;
	int prefix = 24;

	if (ip4_cidr_parse(v->cidr, &net, &prefix) < 0)
		return NULL;
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:i}",
	    "vif_id", v->vif_uuid, "network_id", v->network_uuid,
	    "network_label", v->network_label, "bridge", v->bridge,
	    "mac", v->mac, "address", v->address, "prefix", prefix,
	    "gateway", v->gateway, "dns", v->dns, "mtu", v->mtu);
}

static json_t *nics_json(struct db *db, const char *uuid)
{
	struct db_vif *v = NULL;
	json_t *arr = json_array(), *o;
	size_t n = 0;

	if (arr == NULL || db_vif_list(db, uuid, &v, &n) != DB_OK)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		if ((o = nic_json(&v[i])) == NULL ||
		    json_array_append_new(arr, o) < 0)
			goto fail;
	}
	free(v);
	return arr;
fail:
	free(v);
	json_decref(arr);
	return NULL;
}

static json_t *meta_json(struct db *db, const char *uuid)
{
	struct db_meta *m = NULL;
	json_t *o = json_object();
	size_t n = 0;

	if (o == NULL || db_instance_metadata_list(db, uuid, &m, &n) != DB_OK) {
		json_decref(o);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		json_object_set_new(o, m[i].key, json_string(m[i].value));
	free(m);
	return o;
}

/* The "guest" of a build_and_run_instance (rpcapi.h); NULL on failure. */
json_t *sched_guest_json(struct db *db, const struct db_instance *i)
{
	struct db_instance_extra x;
	json_t *g, *key = json_null();
	char host[64];
	int rc;

	/* an instance made before hostnames were kept has its name's */
	hostname_pick(i->hostname, i->name, i->uuid, host, sizeof host);
	if ((rc = db_instance_extra_get(db, i->uuid, &x)) != DB_OK &&
	    rc != DB_NOTFOUND)
		return NULL;
	if (i->key_name[0] != '\0' && x.key_data != NULL)
		key = json_pack("{s:s, s:s, s:s}", "name", i->key_name, "type",
		    x.key_type ? x.key_type : "ssh", "data", x.key_data);
	g = json_pack("{s:s, s:b, s:s?, s:o?, s:o?, s:o?, s:s, s:i}",
	    "hostname", host,
	    "config_drive", strcmp(i->config_drive, "True") == 0,
	    "user_data", x.user_data,
	    "key", key, "metadata", meta_json(db, i->uuid),
	    "nics", nics_json(db, i->uuid),
	    "availability_zone", i->availability_zone[0] ?
	    i->availability_zone : "nova", "launch_index", 0);
	db_instance_extra_clear(&x);
	return g;
}
