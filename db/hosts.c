/*
 * Compute nodes, services and allocations. A node's usage is never
 * stored: it is the sum of its allocations, so a claim (one BEGIN
 * IMMEDIATE transaction: sum, compare, record) cannot over-commit a node
 * however many schedulers, threads or processes claim at once.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/common.h"
#include "common/states.h"
#include "db/db_internal.h"

/* ---- compute nodes ------------------------------------------------------- */

#define N(field, type) DB_COL(struct db_compute_node, field, type)
/* In the order of NODE_SELECT. */
static const struct db_col node_cols[] = {
	N(id, DB_COL_I64),
	N(uuid, DB_COL_TEXT),
	N(host, DB_COL_TEXT),
	N(hypervisor_hostname, DB_COL_TEXT),
	N(hypervisor_type, DB_COL_TEXT),
	N(hypervisor_version, DB_COL_INT),
	N(host_ip, DB_COL_TEXT),
	N(vcpus, DB_COL_INT),
	N(memory_mb, DB_COL_INT),
	N(local_gb, DB_COL_INT),
	N(vcpus_used, DB_COL_INT),
	N(memory_mb_used, DB_COL_INT),
	N(local_gb_used, DB_COL_INT),
	N(running_vms, DB_COL_INT),
	N(cpu_allocation_ratio, DB_COL_DOUBLE),
	N(ram_allocation_ratio, DB_COL_DOUBLE),
	N(disk_allocation_ratio, DB_COL_DOUBLE),
	N(updated_at, DB_COL_TEXT),
};
#undef N
/* The upsert binds node_cols[1..9] (uuid .. local_gb), then the ratios. */
#define NODE_RES_FIRST 1
#define NODE_RES_COUNT 9
#define NODE_RATIO_FIRST 14
#define NODE_RATIO_COUNT 3

#define NODE_SELECT \
	"SELECT n.id, n.uuid, n.host, n.hypervisor_hostname, n.hypervisor_type," \
	" n.hypervisor_version, n.host_ip, n.vcpus, n.memory_mb, n.local_gb," \
	" coalesce(a.vcpus, 0), coalesce(a.memory_mb, 0), coalesce(a.disk_gb, 0)," \
	" coalesce(a.n, 0), n.cpu_allocation_ratio, n.ram_allocation_ratio," \
	" n.disk_allocation_ratio, n.updated_at FROM compute_nodes n" \
	" LEFT JOIN (SELECT compute_node_id, sum(vcpus) AS vcpus," \
	"  sum(memory_mb) AS memory_mb, sum(disk_gb) AS disk_gb, count(*) AS n" \
	"  FROM allocations GROUP BY compute_node_id) a" \
	" ON a.compute_node_id = n.id"

static const char node_list_sql[] = NODE_SELECT " ORDER BY n.host";
static const char node_get_sql[] = NODE_SELECT " WHERE n.host = ?";
static const char node_upsert_sql[] =
    "INSERT INTO compute_nodes (uuid, host, hypervisor_hostname,"
    " hypervisor_type, hypervisor_version, host_ip, vcpus, memory_mb,"
    " local_gb, cpu_allocation_ratio, ram_allocation_ratio,"
    " disk_allocation_ratio, created_at, updated_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?13, ?13)"
    " ON CONFLICT (host) DO UPDATE SET"
    " hypervisor_hostname = excluded.hypervisor_hostname,"
    " hypervisor_type = excluded.hypervisor_type,"
    " hypervisor_version = excluded.hypervisor_version,"
    " host_ip = excluded.host_ip, vcpus = excluded.vcpus,"
    " memory_mb = excluded.memory_mb, local_gb = excluded.local_gb,"
    " cpu_allocation_ratio = excluded.cpu_allocation_ratio,"
    " ram_allocation_ratio = excluded.ram_allocation_ratio,"
    " disk_allocation_ratio = excluded.disk_allocation_ratio,"
    " updated_at = excluded.updated_at"
    " RETURNING id, uuid, updated_at";

/* Sets n->id, n->uuid (kept from the first insert) and n->updated_at. */
int db_compute_node_upsert(struct db *db, struct db_compute_node *n)
{
	struct db_conn *c;
	sqlite3_stmt *st;
	char fresh[UUID_STR_LEN];
	char now[DB_TS];
	int rc;

	uuid_new_str(fresh);
	time_iso8601(now);
	if ((c = db_conn_get(db)) == NULL)
		return DB_ERROR;
	if ((rc = db_stmt(c, node_upsert_sql, &st)) != DB_OK ||
	    (rc = db_row_bind(st, 1, node_cols + NODE_RES_FIRST, NODE_RES_COUNT,
	    n)) != DB_OK ||
	    (rc = db_row_bind(st, 1 + NODE_RES_COUNT, node_cols + NODE_RATIO_FIRST,
	    NODE_RATIO_COUNT, n)) != DB_OK)
		goto out;
	if (n->uuid[0] == '\0')
		db_bind_text(st, 1, fresh);
	db_bind_text(st, 13, now);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		rc = db_status_of(c, rc, "compute node upsert");
		sqlite3_reset(st);
		goto out;
	}
	n->id = sqlite3_column_int64(st, 0);
	str_copy(n->uuid, (const char *)sqlite3_column_text(st, 1), sizeof n->uuid);
	str_copy(n->updated_at, (const char *)sqlite3_column_text(st, 2),
	    sizeof n->updated_at);
	rc = db_step_done(c, st, "compute node upsert");
out:
	db_conn_put(db, c);
	return rc;
}

int db_compute_node_list(struct db *db, struct db_compute_node **out, size_t *n)
{
	void *arr = NULL;
	int rc = db_fetch_list(db, node_list_sql, NULL, node_cols, DB_NELEM(node_cols),
	    sizeof **out, &arr, n, "compute node list");

	*out = arr;
	return rc;
}

int db_compute_node_get(struct db *db, const char *host,
    struct db_compute_node *out)
{
	return db_fetch_one(db, node_get_sql, DB_KEYS(host), node_cols, DB_NELEM(node_cols), out,
	    "compute node get");
}

/* ---- services ------------------------------------------------------------ */

#define S(field, type) DB_COL(struct db_service, field, type)
static const struct db_col service_cols[] = {
	S(id, DB_COL_I64),
	S(uuid, DB_COL_TEXT),
	S(host, DB_COL_TEXT),
	S(binary, DB_COL_TEXT),
	S(topic, DB_COL_TEXT),
	S(disabled, DB_COL_BOOL),
	S(disabled_reason, DB_COL_TEXT),
	S(forced_down, DB_COL_BOOL),
	S(report_count, DB_COL_I64),
	S(last_seen_up, DB_COL_I64),
	S(updated_at, DB_COL_TEXT),
	S(created_at, DB_COL_TEXT),
};
#undef S

#define SERVICE_SELECT \
	"SELECT id, uuid, host, binary, topic, disabled, disabled_reason," \
	" forced_down, report_count, last_seen_up, updated_at, created_at" \
	" FROM services"

static const char service_list_sql[] = SERVICE_SELECT " ORDER BY host, binary";
static const char service_get_sql[] = SERVICE_SELECT
    " WHERE host = ? AND binary = ?";
static const char service_beat_sql[] =
    "INSERT INTO services (uuid, host, binary, topic, report_count,"
    " last_seen_up, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6, ?6)"
    " ON CONFLICT (host, binary) DO UPDATE SET topic = excluded.topic,"
    " report_count = report_count + 1, last_seen_up = excluded.last_seen_up,"
    " updated_at = excluded.updated_at";
/* Enabling clears the reason, as Nova does. */
static const char service_disable_sql[] =
    "UPDATE services SET disabled = ?1,"
    " disabled_reason = CASE WHEN ?1 THEN ?2 ELSE NULL END, updated_at = ?3"
    " WHERE host = ?4 AND binary = ?5";

int db_service_heartbeat(struct db *db, const char *host, const char *binary,
    const char *topic)
{
	struct db_conn *c;
	sqlite3_stmt *st;
	char fresh[UUID_STR_LEN];
	char now[DB_TS];
	int rc;

	if (db_check_len(host, DB_NAME, "service host") != DB_OK ||
	    db_check_len(binary, 64, "service binary") != DB_OK ||
	    db_check_len(topic, 64, "service topic") != DB_OK)
		return DB_ERROR;
	uuid_new_str(fresh);
	time_iso8601(now);
	if ((c = db_conn_get(db)) == NULL)
		return DB_ERROR;
	if ((rc = db_stmt(c, service_beat_sql, &st)) == DB_OK) {
		db_bind_text(st, 1, fresh);
		db_bind_text(st, 2, host);
		db_bind_text(st, 3, binary);
		db_bind_text(st, 4, topic);
		sqlite3_bind_int64(st, 5, (int64_t)time(NULL));
		db_bind_text(st, 6, now);
		rc = db_step_done(c, st, "service heartbeat");
	}
	db_conn_put(db, c);
	return rc;
}

int db_service_list(struct db *db, struct db_service **out, size_t *n)
{
	void *arr = NULL;
	int rc = db_fetch_list(db, service_list_sql, NULL, service_cols, DB_NELEM(service_cols),
	    sizeof **out, &arr, n, "service list");

	*out = arr;
	return rc;
}

int db_service_get(struct db *db, const char *host, const char *binary,
    struct db_service *out)
{
	return db_fetch_one(db, service_get_sql, DB_KEYS(host, binary), service_cols, DB_NELEM(service_cols), out,
	    "service get");
}

int db_service_set_disabled(struct db *db, const char *host,
    const char *binary, bool disabled, const char *reason)
{
	struct db_conn *c;
	sqlite3_stmt *st;
	char now[DB_TS];
	int rc;

	if (db_check_len(reason, 256, "disabled reason") != DB_OK)
		return DB_ERROR;
	time_iso8601(now);
	if ((c = db_conn_get(db)) == NULL)
		return DB_ERROR;
	if ((rc = db_stmt(c, service_disable_sql, &st)) == DB_OK) {
		sqlite3_bind_int(st, 1, disabled ? 1 : 0);
		db_bind_text(st, 2, reason);
		db_bind_text(st, 3, now);
		db_bind_text(st, 4, host);
		db_bind_text(st, 5, binary);
		if ((rc = db_step_done(c, st, "service disable")) == DB_OK &&
		    db_changes(c) == 0)
			rc = DB_NOTFOUND;
	}
	db_conn_put(db, c);
	return rc;
}

/* ---- allocations (claims) ------------------------------------------------ */

static const char claim_node_sql[] =
    "SELECT id, vcpus, memory_mb, local_gb, cpu_allocation_ratio,"
    " ram_allocation_ratio, disk_allocation_ratio FROM compute_nodes"
    " WHERE host = ?";
/* Every allocation on the node but the claimant's own (a re-claim). */
static const char claim_used_sql[] =
    "SELECT coalesce(sum(vcpus), 0), coalesce(sum(memory_mb), 0),"
    " coalesce(sum(disk_gb), 0) FROM allocations"
    " WHERE compute_node_id = ? AND instance_uuid <> ?";
static const char claim_record_sql[] =
    "INSERT INTO allocations (instance_uuid, compute_node_id, vcpus,"
    " memory_mb, disk_gb, created_at) VALUES (?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (instance_uuid) DO UPDATE SET"
    " compute_node_id = excluded.compute_node_id, vcpus = excluded.vcpus,"
    " memory_mb = excluded.memory_mb, disk_gb = excluded.disk_gb,"
    " created_at = excluded.created_at";
static const char allocation_delete_sql[] =
    "DELETE FROM allocations WHERE instance_uuid = ?";

struct claim {
	const char *uuid;
	int64_t want[3];  /* vcpus, memory_mb, disk_gb */
	int64_t node_id;
	int64_t total[3];
	double ratio[3];
	int64_t used[3];
};

static int claim_read_node(struct db_conn *c, const char *host, struct claim *cl)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_stmt(c, claim_node_sql, &st)) != DB_OK)
		return rc;
	db_bind_text(st, 1, host);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		cl->node_id = sqlite3_column_int64(st, 0);
		for (int i = 0; i < 3; i++) {
			cl->total[i] = sqlite3_column_int64(st, 1 + i);
			cl->ratio[i] = sqlite3_column_double(st, 4 + i);
		}
		rc = DB_OK;
	} else {
		rc = rc == SQLITE_DONE ? DB_NOTFOUND : db_status_of(c, rc, "claim");
	}
	sqlite3_reset(st);
	if (rc != DB_OK || (rc = db_stmt(c, claim_used_sql, &st)) != DB_OK)
		return rc;
	sqlite3_bind_int64(st, 1, cl->node_id);
	db_bind_text(st, 2, cl->uuid);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (int i = 0; i < 3; i++)
			cl->used[i] = sqlite3_column_int64(st, i);
		rc = DB_OK;
	} else {
		rc = db_status_of(c, rc, "claim usage");
	}
	sqlite3_reset(st);
	return rc;
}

static bool claim_fits(const struct claim *cl)
{
	for (int i = 0; i < 3; i++)
		if ((double)(cl->used[i] + cl->want[i]) >
		    (double)cl->total[i] * cl->ratio[i])
			return false;
	return true;
}

static int claim_locked(struct db_conn *c, const char *host, struct claim *cl)
{
	sqlite3_stmt *st;
	char now[DB_TS];
	int rc;

	if ((rc = claim_read_node(c, host, cl)) != DB_OK)
		return rc;
	if (!claim_fits(cl))
		return DB_NOSPACE;
	time_iso8601(now);
	if ((rc = db_stmt(c, claim_record_sql, &st)) != DB_OK)
		return rc;
	db_bind_text(st, 1, cl->uuid);
	sqlite3_bind_int64(st, 2, cl->node_id);
	for (int i = 0; i < 3; i++)
		sqlite3_bind_int64(st, 3 + i, cl->want[i]);
	db_bind_text(st, 6, now);
	return db_step_done(c, st, "claim record");
}

/* One claim in an IMMEDIATE transaction (the write lock is held from the
 * sum to the insert); for a build (node set) the instance moves from
 * scheduling to spawning on host/node in the same transaction, first: a
 * build that is no longer scheduling (a second copy of its message, a
 * delete) rolls back before it claims. */
static int claim_tx(struct db *db, const char *instance_uuid, const char *host,
    const char *node, int vcpus, int memory_mb, int disk_gb)
{
	struct claim cl = { .uuid = instance_uuid,
	    .want = { vcpus, memory_mb, disk_gb } };
	struct db_conn *c;
	int rc;

	if (instance_uuid == NULL || *instance_uuid == '\0' ||
	    vcpus < 0 || memory_mb < 0 || disk_gb < 0) {
		log_warnx("db: claim: bad request for %s",
		    instance_uuid ? instance_uuid : "(null)");
		return DB_ERROR;
	}
	if ((c = db_conn_get(db)) == NULL)
		return DB_ERROR;
	if ((rc = db_begin(c, true)) == DB_OK) {
		if (node != NULL) {
			rc = db_instance_set_state_locked(c, instance_uuid,
			    VM_STATE_BUILDING, TASK_SPAWNING, POWER_NOSTATE, host,
			    node, TASK_SCHEDULING);
			if (rc == DB_NOTFOUND)
				rc = DB_CONFLICT;   /* the instance is gone */
		}
		if (rc == DB_OK && (rc = claim_locked(c, host, &cl)) == DB_OK)
			rc = db_commit(c);
		else
			db_rollback(c);
	}
	db_conn_put(db, c);
	return rc;
}

int db_claim(struct db *db, const char *instance_uuid, const char *host,
    int vcpus, int memory_mb, int disk_gb)
{
	return claim_tx(db, instance_uuid, host, NULL, vcpus, memory_mb, disk_gb);
}

int db_claim_for_build(struct db *db, const char *instance_uuid,
    const char *host, const char *node, int vcpus, int memory_mb, int disk_gb)
{
	return claim_tx(db, instance_uuid, host, node != NULL ? node : host,
	    vcpus, memory_mb, disk_gb);
}

/* Idempotent: DB_OK whether or not the instance held an allocation. */
int db_allocation_delete(struct db *db, const char *instance_uuid)
{
	struct db_conn *c;
	sqlite3_stmt *st;
	int rc;

	if ((c = db_conn_get(db)) == NULL)
		return DB_ERROR;
	if ((rc = db_stmt(c, allocation_delete_sql, &st)) == DB_OK) {
		db_bind_text(st, 1, instance_uuid);
		rc = db_step_done(c, st, "allocation delete");
	}
	db_conn_put(db, c);
	return rc;
}
