/* Flavors: hard-deleted, since instances embed the flavor they booted with. */
#include <stdlib.h>

#include "common/common.h"
#include "db/db_internal.h"

#define F(field, type) DB_COL(struct db_flavor, field, type)
/* In the order of SELECT_COLS; the insert binds all but id. */
static const struct db_col flavor_cols[] = {
	F(id, DB_COL_I64),
	F(flavorid, DB_COL_TEXT),
	F(name, DB_COL_TEXT),
	F(vcpus, DB_COL_INT),
	F(memory_mb, DB_COL_INT),
	F(root_gb, DB_COL_INT),
	F(ephemeral_gb, DB_COL_INT),
	F(swap, DB_COL_INT),
	F(rxtx_factor, DB_COL_DOUBLE),
	F(is_public, DB_COL_BOOL),
	F(disabled, DB_COL_BOOL),
	F(description, DB_COL_TEXT),
	F(created_at, DB_COL_TEXT),
};
#undef F

#define SELECT_COLS \
	"SELECT id, flavorid, name, vcpus, memory_mb, root_gb, ephemeral_gb," \
	" swap, rxtx_factor, is_public, disabled, description, created_at" \
	" FROM flavors"

static const char insert_sql[] =
    "INSERT INTO flavors (flavorid, name, vcpus, memory_mb, root_gb,"
    " ephemeral_gb, swap, rxtx_factor, is_public, disabled, description,"
    " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char get_sql[] = SELECT_COLS " WHERE flavorid = ?";
static const char get_by_name_sql[] = SELECT_COLS " WHERE name = ?";
/* Nova's default order: flavorid ascending. */
static const char list_sql[] = SELECT_COLS " ORDER BY flavorid";
static const char delete_sql[] = "DELETE FROM flavors WHERE flavorid = ?";

/* What a project sees (Nova's non-admin flavor query): the public
 * flavors and the private ones it was given access to. */
#define ACCESSIBLE \
	" (is_public = 1 OR id IN (SELECT flavor_id FROM flavor_projects" \
	" WHERE project_id = ?1))"
static const char get_project_sql[] =
    SELECT_COLS " WHERE" ACCESSIBLE " AND flavorid = ?2";
static const char list_project_sql[] =
    SELECT_COLS " WHERE" ACCESSIBLE " ORDER BY flavorid";

static const struct db_col access_cols[] = {
	DB_COL(struct db_flavor_access, project_id, DB_COL_TEXT),
};
static const char access_add_sql[] =
    "INSERT INTO flavor_projects (flavor_id, project_id, created_at)"
    " SELECT id, ?1, ?2 FROM flavors WHERE flavorid = ?3";
static const char access_remove_sql[] =
    "DELETE FROM flavor_projects WHERE project_id = ?1"
    " AND flavor_id = (SELECT id FROM flavors WHERE flavorid = ?2)";
static const char access_list_sql[] =
    "SELECT p.project_id FROM flavor_projects p"
    " JOIN flavors f ON f.id = p.flavor_id WHERE f.flavorid = ?"
    " ORDER BY p.project_id";

int db_flavor_create(struct db *db, struct db_flavor *f)
{
	struct db_conn *c;
	sqlite3_stmt *st;
	int rc;

	if (f->created_at[0] == '\0')
		time_iso8601(f->created_at);
	if ((c = db_conn_get(db)) == NULL)
		return DB_ERROR;
	if ((rc = db_stmt(c, insert_sql, &st)) == DB_OK &&
	    (rc = db_row_bind(st, 1, flavor_cols + 1,
	    DB_NELEM(flavor_cols) - 1, f)) == DB_OK &&
	    (rc = db_step_done(c, st, "flavor create")) == DB_OK)
		f->id = sqlite3_last_insert_rowid(sqlite3_db_handle(st));
	db_conn_put(db, c);
	return rc;
}

static int get_by(struct db *db, const char *sql, const char *key,
    struct db_flavor *out)
{
	return db_fetch_one(db, sql, DB_KEYS(key), flavor_cols, DB_NELEM(flavor_cols), out,
	    "flavor get");
}

int db_flavor_get(struct db *db, const char *flavorid, struct db_flavor *out)
{
	return get_by(db, get_sql, flavorid, out);
}

int db_flavor_get_by_name(struct db *db, const char *name, struct db_flavor *out)
{
	return get_by(db, get_by_name_sql, name, out);
}

int db_flavor_list(struct db *db, struct db_flavor **out, size_t *n)
{
	void *arr = NULL;
	int rc = db_fetch_list(db, list_sql, NULL, flavor_cols, DB_NELEM(flavor_cols),
	    sizeof **out, &arr, n, "flavor list");

	*out = arr;
	return rc;
}

int db_flavor_delete(struct db *db, const char *flavorid)
{
	struct db_conn *c;
	sqlite3_stmt *st;
	int rc;

	if ((c = db_conn_get(db)) == NULL)
		return DB_ERROR;
	if ((rc = db_stmt(c, delete_sql, &st)) == DB_OK) {
		db_bind_text(st, 1, flavorid);
		if ((rc = db_step_done(c, st, "flavor delete")) == DB_OK &&
		    db_changes(c) == 0)
			rc = DB_NOTFOUND;
	}
	db_conn_put(db, c);
	return rc;
}

int db_flavor_get_project(struct db *db, const char *flavorid,
    const char *project_id, struct db_flavor *out)
{
	return db_fetch_one(db, get_project_sql, DB_KEYS(project_id, flavorid),
	    flavor_cols, DB_NELEM(flavor_cols), out, "flavor get");
}

int db_flavor_list_project(struct db *db, const char *project_id,
    struct db_flavor **out, size_t *n)
{
	void *arr = NULL;
	int rc = db_fetch_list(db, list_project_sql, DB_KEYS(project_id),
	    flavor_cols, DB_NELEM(flavor_cols), sizeof **out, &arr, n,
	    "flavor list");

	*out = arr;
	return rc;
}

int db_flavor_access_add(struct db *db, const char *flavorid,
    const char *project_id)
{
	char now[DB_TS];

	if (db_check_len(project_id, DB_NAME, "flavor access project") != DB_OK)
		return DB_ERROR;
	time_iso8601(now);
	return db_change(db, access_add_sql, DB_KEYS(project_id, now, flavorid),
	    "flavor access add");
}

int db_flavor_access_remove(struct db *db, const char *flavorid,
    const char *project_id)
{
	return db_change(db, access_remove_sql, DB_KEYS(project_id, flavorid),
	    "flavor access remove");
}

int db_flavor_access_list(struct db *db, const char *flavorid,
    struct db_flavor_access **out, size_t *n)
{
	void *arr = NULL;
	int rc = db_fetch_list(db, access_list_sql, DB_KEYS(flavorid),
	    access_cols, DB_NELEM(access_cols), sizeof **out, &arr, n,
	    "flavor access list");

	*out = arr;
	return rc;
}
