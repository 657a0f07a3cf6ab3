/* Quotas: per-project overrides of the configured default limits. */
#include <stdlib.h>

#include "common/common.h"
#include "db/db_internal.h"

#define Q(field, type) DB_COL(struct db_quota, field, type)
static const struct db_col quota_cols[] = {
	Q(project_id, DB_COL_TEXT),
	Q(resource, DB_COL_TEXT),
	Q(hard_limit, DB_COL_I64),
};
#undef Q

static const char get_sql[] =
    "SELECT hard_limit FROM quotas WHERE project_id = ? AND resource = ?";
static const char set_sql[] =
    "INSERT INTO quotas (project_id, resource, hard_limit, updated_at)"
    " VALUES (?, ?, ?, ?) ON CONFLICT (project_id, resource) DO UPDATE SET"
    " hard_limit = excluded.hard_limit, updated_at = excluded.updated_at";
static const char delete_sql[] = "DELETE FROM quotas WHERE project_id = ?";
static const char list_sql[] =
    "SELECT project_id, resource, hard_limit FROM quotas"
    " WHERE project_id = ? ORDER BY resource";

int db_quota_get(struct db *db, const char *project_id, const char *resource,
    int64_t *limit)
{
	struct db_conn *c;
	sqlite3_stmt *st;
	int rc;

	if ((c = db_conn_get(db)) == NULL)
		return DB_ERROR;
	if ((rc = db_stmt(c, get_sql, &st)) == DB_OK) {
		db_bind_text(st, 1, project_id);
		db_bind_text(st, 2, resource);
		rc = db_query_i64(c, st, limit, "quota get");
	}
	db_conn_put(db, c);
	return rc;
}

int db_quota_set(struct db *db, const char *project_id, const char *resource,
    int64_t limit)
{
	struct db_conn *c;
	sqlite3_stmt *st;
	char now[DB_TS];
	int rc;

	if (db_check_len(project_id, DB_NAME, "quota project") != DB_OK ||
	    db_check_len(resource, 64, "quota resource") != DB_OK)
		return DB_ERROR;
	time_iso8601(now);
	if ((c = db_conn_get(db)) == NULL)
		return DB_ERROR;
	if ((rc = db_stmt(c, set_sql, &st)) == DB_OK) {
		db_bind_text(st, 1, project_id);
		db_bind_text(st, 2, resource);
		sqlite3_bind_int64(st, 3, limit);
		db_bind_text(st, 4, now);
		rc = db_step_done(c, st, "quota set");
	}
	db_conn_put(db, c);
	return rc;
}

int db_quota_delete(struct db *db, const char *project_id)
{
	struct db_conn *c;
	sqlite3_stmt *st;
	int rc;

	if ((c = db_conn_get(db)) == NULL)
		return DB_ERROR;
	if ((rc = db_stmt(c, delete_sql, &st)) == DB_OK) {
		db_bind_text(st, 1, project_id);
		rc = db_step_done(c, st, "quota delete");
	}
	db_conn_put(db, c);
	return rc;
}

int db_quota_list(struct db *db, const char *project_id,
    struct db_quota **out, size_t *n)
{
	void *arr = NULL;
	int rc = db_fetch_list(db, list_sql, DB_KEYS(project_id), quota_cols, DB_NELEM(quota_cols),
	    sizeof **out, &arr, n, "quota list");

	*out = arr;
	return rc;
}
