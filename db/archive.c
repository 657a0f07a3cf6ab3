/*
 * Archive and purge, as nova-manage db archive_deleted_rows and db purge
 * do: soft-deleted instances move, with their actions, the actions'
 * events and their faults, to shadow tables of the same columns (made by
 * migration 7); purge deletes from the shadow tables. The live tables
 * thus hold what is live, and what was deleted lately (changes-since
 * shows it), however long the cloud runs.
 *
 * Each batch is one transaction: what it moves is copied and deleted
 * together, children first (their foreign keys name the instance).
 */
#include "common/common.h"
#include "db/db_internal.h"

const char *const db_archive_tables[DB_ARCHIVE__COUNT] = {
	[DB_ARCHIVE_EVENTS] = "instance_actions_events",
	[DB_ARCHIVE_ACTIONS] = "instance_actions",
	[DB_ARCHIVE_FAULTS] = "instance_faults",
	[DB_ARCHIVE_EXTRA] = "instance_extra",
	[DB_ARCHIVE_METADATA] = "instance_metadata",
	[DB_ARCHIVE_INSTANCES] = "instances",
};

/* The instances of a batch: deleted before ?1 (NULL: any time), the
 * oldest ?2. The same rows for every statement of the transaction. */
#define BATCH "SELECT uuid FROM instances WHERE deleted = 1" \
    " AND (?1 IS NULL OR deleted_at < ?1) ORDER BY id LIMIT ?2"
#define BATCH_ACTIONS "SELECT id FROM instance_actions" \
    " WHERE instance_uuid IN (" BATCH ")"
#define MOVE(table, where) \
    { "INSERT INTO shadow_" table " SELECT * FROM " table " WHERE " where, \
      "DELETE FROM " table " WHERE " where }

/* In db_archive_tables' order: children first. */
static const char *const archive_sql[DB_ARCHIVE__COUNT][2] = {
	MOVE("instance_actions_events", "action_id IN (" BATCH_ACTIONS ")"),
	MOVE("instance_actions", "instance_uuid IN (" BATCH ")"),
	MOVE("instance_faults", "instance_uuid IN (" BATCH ")"),
	MOVE("instance_extra", "instance_uuid IN (" BATCH ")"),
	MOVE("instance_metadata", "instance_uuid IN (" BATCH ")"),
	MOVE("instances", "uuid IN (" BATCH ")"),
};

/* The archived instances deleted before ?1 (NULL: all), and theirs. */
#define PURGED "SELECT uuid FROM shadow_instances" \
    " WHERE (?1 IS NULL OR deleted_at < ?1)"

static const char *const purge_sql[DB_ARCHIVE__COUNT] = {
	"DELETE FROM shadow_instance_actions_events WHERE action_id IN"
	" (SELECT id FROM shadow_instance_actions WHERE instance_uuid IN ("
	PURGED "))",
	"DELETE FROM shadow_instance_actions WHERE instance_uuid IN (" PURGED ")",
	"DELETE FROM shadow_instance_faults WHERE instance_uuid IN (" PURGED ")",
	"DELETE FROM shadow_instance_extra WHERE instance_uuid IN (" PURGED ")",
	"DELETE FROM shadow_instance_metadata WHERE instance_uuid IN (" PURGED ")",
	"DELETE FROM shadow_instances WHERE (?1 IS NULL OR deleted_at < ?1)",
};

/* Runs sql with ?1 = before and ?2 = limit; adds its changes to *count
 * when counted. */
static int run(struct db_conn *c, const char *sql, const char *before,
    int limit, int64_t *count)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_stmt(c, sql, &st)) != DB_OK)
		return rc;
	db_bind_text(st, 1, before);
	if (sqlite3_bind_parameter_count(st) >= 2)
		sqlite3_bind_int(st, 2, limit);
	if ((rc = db_step_done(c, st, "archive")) == DB_OK && count != NULL)
		*count += db_changes(c);
	return rc;
}

static int archive_locked(struct db_conn *c, const char *before, int max_rows,
    int64_t counts[DB_ARCHIVE__COUNT])
{
	int rc = DB_OK;

	for (int t = 0; t < DB_ARCHIVE__COUNT && rc == DB_OK; t++)
		if ((rc = run(c, archive_sql[t][0], before, max_rows,
		    NULL)) == DB_OK)
			rc = run(c, archive_sql[t][1], before, max_rows,
			    &counts[t]);
	return rc;
}

static int purge_locked(struct db_conn *c, const char *before,
    int64_t counts[DB_ARCHIVE__COUNT])
{
	int rc = DB_OK;

	for (int t = 0; t < DB_ARCHIVE__COUNT && rc == DB_OK; t++)
		rc = run(c, purge_sql[t], before, 0, &counts[t]);
	return rc;
}

/* One write transaction of fn: all of it, or nothing (counts zeroed). */
static int in_txn(struct db *db, const char *before, int max_rows,
    int64_t counts[DB_ARCHIVE__COUNT], bool archive)
{
	struct db_conn *c;
	int rc;

	for (int t = 0; t < DB_ARCHIVE__COUNT; t++)
		counts[t] = 0;
	if ((c = db_conn_get(db)) == NULL)
		return DB_ERROR;
	if ((rc = db_begin(c, true)) == DB_OK) {
		rc = archive ? archive_locked(c, before, max_rows, counts) :
		    purge_locked(c, before, counts);
		if (rc == DB_OK)
			rc = db_commit(c);
		else
			db_rollback(c);
	}
	if (rc != DB_OK)
		for (int t = 0; t < DB_ARCHIVE__COUNT; t++)
			counts[t] = 0;
	db_conn_put(db, c);
	return rc;
}

int db_archive_deleted(struct db *db, const char *before, int max_rows,
    int64_t counts[DB_ARCHIVE__COUNT])
{
	return in_txn(db, before, max_rows, counts, true);
}

int db_purge_shadow(struct db *db, const char *before,
    int64_t counts[DB_ARCHIVE__COUNT])
{
	return in_txn(db, before, 0, counts, false);
}
