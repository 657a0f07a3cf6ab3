/*
 * Flat networks and the fixed IPs their guests hold (nova-network's
 * networks and fixed_ips), and what a create was given for its guest
 * alone: instance_extra (user data, the key pair's public key, the
 * requested networks) and instance_metadata.
 *
 * A fixed_ips row exists while an instance holds the address, so its
 * primary key (network, address) is what keeps two guests off one
 * address however many schedulers allocate at once; deleting the
 * instance (instances.c) deletes its rows, and the address is the lowest
 * free one again for the next guest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "db/db_internal.h"

#define N(field, type) DB_COL(struct db_network, field, type)
static const struct db_col network_cols[] = {
	N(id, DB_COL_I64),
	N(uuid, DB_COL_TEXT),
	N(label, DB_COL_TEXT),
	N(cidr, DB_COL_TEXT),
	N(gateway, DB_COL_TEXT),
	N(dhcp_start, DB_COL_TEXT),
	N(dhcp_end, DB_COL_TEXT),
	N(dns, DB_COL_TEXT),
	N(bridge, DB_COL_TEXT),
	N(mtu, DB_COL_INT),
	N(created_at, DB_COL_TEXT),
};
#undef N

#define NET_COLS "id, uuid, label, cidr, gateway, dhcp_start, dhcp_end, dns," \
	" bridge, mtu, created_at"
static const char net_insert_sql[] =
    "INSERT INTO networks (uuid, label, cidr, gateway, dhcp_start, dhcp_end,"
    " dns, bridge, mtu, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char net_get_sql[] =
    "SELECT " NET_COLS " FROM networks WHERE uuid = ?";
static const char net_label_sql[] =
    "SELECT " NET_COLS " FROM networks WHERE label = ?";
static const char net_list_sql[] =
    "SELECT " NET_COLS " FROM networks ORDER BY id";

void db_network_from_def(const struct net_def *d, struct db_network *n)
{
	size_t len;

	memset(n, 0, sizeof *n);
	str_copy(n->label, d->name, sizeof n->label);
	ip4_format(d->net, n->cidr);
	len = strlen(n->cidr);
	snprintf(n->cidr + len, sizeof n->cidr - len, "/%d", d->prefix);
	ip4_format(d->gateway, n->gateway);
	ip4_format(d->dhcp_start, n->dhcp_start);
	ip4_format(d->dhcp_end, n->dhcp_end);
	ip4_format(d->dns, n->dns);
	str_copy(n->bridge, d->bridge, sizeof n->bridge);
	n->mtu = d->mtu;
}

int db_network_create(struct db *db, struct db_network *n)
{
	struct db_conn *c;
	sqlite3_stmt *st;
	int rc;

	if (n->uuid[0] == '\0')
		uuid_new_str(n->uuid);
	if (n->created_at[0] == '\0')
		time_iso8601(n->created_at);
	if ((c = db_conn_get(db)) == NULL)
		return DB_ERROR;
	if ((rc = db_stmt(c, net_insert_sql, &st)) == DB_OK &&
	    (rc = db_row_bind(st, 1, network_cols + 1,
	    DB_NELEM(network_cols) - 1, n)) == DB_OK &&
	    (rc = db_step_done(c, st, "network create")) == DB_OK)
		n->id = sqlite3_last_insert_rowid(sqlite3_db_handle(st));
	db_conn_put(db, c);
	return rc;
}

int db_network_get(struct db *db, const char *uuid, struct db_network *out)
{
	return db_fetch_one(db, net_get_sql, DB_KEYS(uuid), network_cols,
	    DB_NELEM(network_cols), out, "network get");
}

int db_network_get_by_label(struct db *db, const char *label,
    struct db_network *out)
{
	return db_fetch_one(db, net_label_sql, DB_KEYS(label), network_cols,
	    DB_NELEM(network_cols), out, "network get");
}

int db_network_list(struct db *db, struct db_network **out, size_t *n)
{
	void *arr = NULL;
	int rc = db_fetch_list(db, net_list_sql, NULL, network_cols,
	    DB_NELEM(network_cols), sizeof **out, &arr, n, "network list");

	*out = arr;
	return rc;
}

/* ---- fixed IPs ---- */

#define V(field, type) DB_COL(struct db_vif, field, type)
static const struct db_col vif_cols[] = {
	V(instance_uuid, DB_COL_TEXT),
	V(vif_index, DB_COL_INT),
	V(addr, DB_COL_I64),
	V(mac, DB_COL_TEXT),
	V(vif_uuid, DB_COL_TEXT),
	V(network_uuid, DB_COL_TEXT),
	V(network_label, DB_COL_TEXT),
	V(cidr, DB_COL_TEXT),
	V(gateway, DB_COL_TEXT),
	V(dns, DB_COL_TEXT),
	V(bridge, DB_COL_TEXT),
	V(mtu, DB_COL_INT),
};
#undef V

#define VIF_SELECT "SELECT f.instance_uuid, f.vif_index, f.address, f.mac," \
	" f.vif_uuid, n.uuid, n.label, n.cidr, n.gateway, n.dns, n.bridge," \
	" n.mtu FROM fixed_ips f JOIN networks n ON n.id = f.network_id"
static const char vif_list_sql[] =
    VIF_SELECT " WHERE f.instance_uuid = ? ORDER BY f.vif_index";
static const char vif_one_sql[] =
    VIF_SELECT " WHERE f.instance_uuid = ?1 AND f.vif_index = ?2";
static const char addr_taken_sql[] =
    "SELECT count(*) FROM fixed_ips WHERE network_id = ?1 AND address = ?2";
/* The lowest free address of [?2, ?3] other than the gateway ?4: it is
 * the range's start, the one after the gateway, or one after a held
 * address (the one before the lowest free one is held, or the gateway). */
static const char lowest_free_sql[] =
    "SELECT c FROM (SELECT ?2 AS c UNION SELECT ?4 + 1"
    "  UNION SELECT address + 1 FROM fixed_ips WHERE network_id = ?1)"
    " WHERE c BETWEEN ?2 AND ?3 AND c != ?4 AND NOT EXISTS"
    " (SELECT 1 FROM fixed_ips WHERE network_id = ?1 AND address = c)"
    " ORDER BY c LIMIT 1";
static const char vif_insert_sql[] =
    "INSERT INTO fixed_ips (network_id, address, instance_uuid, vif_index,"
    " mac, vif_uuid, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)";

static void vif_format(struct db_vif *v)
{
	ip4_format((uint32_t)v->addr, v->address);
}

static int vif_one(struct db_conn *c, const char *uuid, int index,
    struct db_vif *out)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_stmt(c, vif_one_sql, &st)) != DB_OK)
		return rc;
	db_bind_text(st, 1, uuid);
	sqlite3_bind_int(st, 2, index);
	if ((rc = db_query_one(c, st, vif_cols, DB_NELEM(vif_cols), out,
	    "fixed ip get")) == DB_OK)
		vif_format(out);
	return rc;
}

/* The address to give: want when free (DB_CONFLICT when held), else the
 * lowest free one of the range (DB_NOSPACE when there is none). */
static int pick_addr(struct db_conn *c, const struct db_network *net,
    uint32_t want, int64_t *out)
{
	uint32_t start, end, gw;
	sqlite3_stmt *st;
	int64_t n;
	int rc;

	if (ip4_parse(net->dhcp_start, &start) < 0 ||
	    ip4_parse(net->dhcp_end, &end) < 0 || ip4_parse(net->gateway, &gw) < 0) {
		log_warnx("network %s: bad addresses in the database", net->uuid);
		return DB_ERROR;
	}
	if (want != 0) {
		if ((rc = db_stmt(c, addr_taken_sql, &st)) != DB_OK)
			return rc;
		sqlite3_bind_int64(st, 1, net->id);
		sqlite3_bind_int64(st, 2, want);
		if ((rc = db_query_i64(c, st, &n, "fixed ip check")) != DB_OK)
			return rc;
		*out = want;
		return n > 0 ? DB_CONFLICT : DB_OK;
	}
	if ((rc = db_stmt(c, lowest_free_sql, &st)) != DB_OK)
		return rc;
	sqlite3_bind_int64(st, 1, net->id);
	sqlite3_bind_int64(st, 2, start);
	sqlite3_bind_int64(st, 3, end);
	sqlite3_bind_int64(st, 4, gw);
	rc = db_query_i64(c, st, out, "fixed ip pick");
	return rc == DB_NOTFOUND ? DB_NOSPACE : rc;
}

static int vif_insert(struct db_conn *c, const struct db_network *net,
    int64_t addr, const char *uuid, int index)
{
	char mac[MAC_STR_LEN], vif[UUID_STR_LEN], now[DB_TS];
	sqlite3_stmt *st;
	int rc = DB_CONFLICT;

	time_iso8601(now);
	/* a MAC or vif uuid another NIC has (one in 16 million) is drawn again */
	for (int tries = 0; tries < 8 && rc == DB_CONFLICT; tries++) {
		mac_random(mac);
		uuid_new_str(vif);
		if ((rc = db_stmt(c, vif_insert_sql, &st)) != DB_OK)
			return rc;
		sqlite3_bind_int64(st, 1, net->id);
		sqlite3_bind_int64(st, 2, addr);
		db_bind_text(st, 3, uuid);
		sqlite3_bind_int(st, 4, index);
		db_bind_text(st, 5, mac);
		db_bind_text(st, 6, vif);
		db_bind_text(st, 7, now);
		rc = db_step_done(c, st, "fixed ip allocate");
	}
	return rc;
}

static int allocate_locked(struct db_conn *c, const char *uuid, int index,
    const struct db_network *net, uint32_t want, struct db_vif *out)
{
	int64_t addr;
	int rc;

	/* a build sent again finds its NIC already there */
	if ((rc = vif_one(c, uuid, index, out)) != DB_NOTFOUND)
		return rc;
	if ((rc = pick_addr(c, net, want, &addr)) != DB_OK ||
	    (rc = vif_insert(c, net, addr, uuid, index)) != DB_OK)
		return rc;
	return vif_one(c, uuid, index, out);
}

int db_vif_allocate(struct db *db, const char *instance_uuid, int vif_index,
    const struct db_network *net, uint32_t want, struct db_vif *out)
{
	struct db_conn *c;
	int rc;

	if ((c = db_conn_get(db)) == NULL)
		return DB_ERROR;
	if ((rc = db_begin(c, true)) == DB_OK) {
		if ((rc = allocate_locked(c, instance_uuid, vif_index, net, want,
		    out)) == DB_OK)
			rc = db_commit(c);
		else
			db_rollback(c);
	}
	db_conn_put(db, c);
	return rc;
}

int db_vif_list(struct db *db, const char *instance_uuid, struct db_vif **out,
    size_t *n)
{
	void *arr = NULL;
	int rc = db_fetch_list(db, vif_list_sql, DB_KEYS(instance_uuid), vif_cols,
	    DB_NELEM(vif_cols), sizeof **out, &arr, n, "fixed ip list");

	*out = arr;
	for (size_t i = 0; rc == DB_OK && i < *n; i++)
		vif_format(&(*out)[i]);
	return rc;
}

/* The NICs of several instances (a list page): ?1 a JSON array of their
 * uuids. By instance, then vif_index. */
static const char vif_many_sql[] =
    VIF_SELECT " WHERE f.instance_uuid IN (SELECT value FROM json_each(?1))"
    " ORDER BY f.instance_uuid, f.vif_index";

int db_vif_list_many(struct db *db, const char *uuids_json,
    struct db_vif **out, size_t *n)
{
	void *arr = NULL;
	int rc = db_fetch_list(db, vif_many_sql, DB_KEYS(uuids_json), vif_cols,
	    DB_NELEM(vif_cols), sizeof **out, &arr, n, "fixed ip list");

	*out = arr;
	for (size_t i = 0; rc == DB_OK && i < *n; i++)
		vif_format(&(*out)[i]);
	return rc;
}

static const char vif_free_sql[] =
    "DELETE FROM fixed_ips WHERE instance_uuid = ?";

int db_vif_free(struct db *db, const char *instance_uuid)
{
	int rc = db_change(db, vif_free_sql, DB_KEYS(instance_uuid),
	    "fixed ip free");

	return rc == DB_NOTFOUND ? DB_OK : rc;
}

/* ---- instance_extra, instance_metadata ---- */

static const char extra_insert_sql[] =
    "INSERT INTO instance_extra (instance_uuid, user_data, key_data, key_type,"
    " requested_networks) VALUES (?, ?, ?, ?, ?)";
static const char meta_insert_sql[] =
    "INSERT INTO instance_metadata (instance_uuid, key, value) VALUES (?, ?, ?)";
static const char extra_get_sql[] =
    "SELECT user_data, key_data, key_type, requested_networks"
    " FROM instance_extra WHERE instance_uuid = ?";

int db_instance_extra_insert_locked(struct db_conn *c, const char *uuid,
    const struct db_instance_extra *x)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_stmt(c, extra_insert_sql, &st)) != DB_OK)
		return rc;
	db_bind_text(st, 1, uuid);
	db_bind_text(st, 2, x->user_data);
	db_bind_text(st, 3, x->key_data);
	db_bind_text(st, 4, x->key_type);
	db_bind_text(st, 5, x->requested_networks);
	if ((rc = db_step_done(c, st, "instance extra")) != DB_OK)
		return rc;
	for (size_t i = 0; i < x->n_meta && rc == DB_OK; i++) {
		if ((rc = db_stmt(c, meta_insert_sql, &st)) != DB_OK)
			return rc;
		db_bind_text(st, 1, uuid);
		db_bind_text(st, 2, x->meta[i].key);
		/* "" is a value here, not SQL NULL */
		sqlite3_bind_text(st, 3, x->meta[i].value, -1, SQLITE_TRANSIENT);
		rc = db_step_done(c, st, "instance metadata");
	}
	return rc;
}

static char *col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t != NULL ? strdup((const char *)t) : NULL;
}

int db_instance_extra_get(struct db *db, const char *uuid,
    struct db_instance_extra *out)
{
	struct db_conn *c;
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof *out);
	if ((c = db_conn_get(db)) == NULL)
		return DB_ERROR;
	if ((rc = db_stmt(c, extra_get_sql, &st)) == DB_OK) {
		db_bind_text(st, 1, uuid);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			out->user_data = col_dup(st, 0);
			out->key_data = col_dup(st, 1);
			out->key_type = col_dup(st, 2);
			out->requested_networks = col_dup(st, 3);
			rc = DB_OK;
		} else {
			rc = rc == SQLITE_DONE ? DB_NOTFOUND :
			    db_status_of(c, rc, "instance extra get");
		}
		sqlite3_reset(st);
	}
	db_conn_put(db, c);
	return rc;
}

void db_instance_extra_clear(struct db_instance_extra *x)
{
	free((char *)x->user_data);
	free((char *)x->key_data);
	free((char *)x->key_type);
	free((char *)x->requested_networks);
	memset(x, 0, sizeof *x);
}

#define M(field, type) DB_COL(struct db_meta, field, type)
static const struct db_col meta_cols[] = {
	M(instance_uuid, DB_COL_TEXT),
	M(key, DB_COL_TEXT),
	M(value, DB_COL_TEXT),
};
#undef M

static const char meta_list_sql[] =
    "SELECT instance_uuid, key, value FROM instance_metadata"
    " WHERE instance_uuid = ? ORDER BY key";
static const char meta_many_sql[] =
    "SELECT instance_uuid, key, value FROM instance_metadata"
    " WHERE instance_uuid IN (SELECT value FROM json_each(?1))"
    " ORDER BY instance_uuid, key";

int db_instance_metadata_list(struct db *db, const char *uuid,
    struct db_meta **out, size_t *n)
{
	void *arr = NULL;
	int rc = db_fetch_list(db, meta_list_sql, DB_KEYS(uuid), meta_cols,
	    DB_NELEM(meta_cols), sizeof **out, &arr, n, "instance metadata");

	*out = arr;
	return rc;
}

int db_instance_metadata_list_many(struct db *db, const char *uuids_json,
    struct db_meta **out, size_t *n)
{
	void *arr = NULL;
	int rc = db_fetch_list(db, meta_many_sql, DB_KEYS(uuids_json), meta_cols,
	    DB_NELEM(meta_cols), sizeof **out, &arr, n, "instance metadata");

	*out = arr;
	return rc;
}
