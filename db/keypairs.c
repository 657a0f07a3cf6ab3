/* Keypairs: a user's named public keys (hard-deleted, as Nova's API db). */
#include <stdlib.h>

#include "common/common.h"
#include "db/db_internal.h"

#define K(field, type) DB_COL(struct db_keypair, field, type)
/* In the order of SELECT_COLS; the insert binds all but id. */
static const struct db_col keypair_cols[] = {
	K(id, DB_COL_I64),
	K(name, DB_COL_TEXT),
	K(user_id, DB_COL_TEXT),
	K(type, DB_COL_TEXT),
	K(fingerprint, DB_COL_TEXT),
	K(public_key, DB_COL_TEXT),
	K(created_at, DB_COL_TEXT),
};
#undef K

#define SELECT_COLS \
	"SELECT id, name, user_id, type, fingerprint, public_key, created_at" \
	" FROM keypairs"

static const char insert_sql[] =
    "INSERT INTO keypairs (name, user_id, type, fingerprint, public_key,"
    " created_at) VALUES (?, ?, ?, ?, ?, ?)";
static const char get_sql[] = SELECT_COLS " WHERE user_id = ? AND name = ?";
static const char list_sql[] = SELECT_COLS " WHERE user_id = ? ORDER BY name";
static const char delete_sql[] =
    "DELETE FROM keypairs WHERE user_id = ? AND name = ?";

int db_keypair_create(struct db *db, struct db_keypair *k)
{
	struct db_conn *c;
	sqlite3_stmt *st;
	int rc;

	if (k->created_at[0] == '\0')
		time_iso8601(k->created_at);
	if ((c = db_conn_get(db)) == NULL)
		return DB_ERROR;
	if ((rc = db_stmt(c, insert_sql, &st)) == DB_OK &&
	    (rc = db_row_bind(st, 1, keypair_cols + 1,
	    DB_NELEM(keypair_cols) - 1, k)) == DB_OK &&
	    (rc = db_step_done(c, st, "keypair create")) == DB_OK)
		k->id = sqlite3_last_insert_rowid(sqlite3_db_handle(st));
	db_conn_put(db, c);
	return rc;
}

int db_keypair_get(struct db *db, const char *user_id, const char *name,
    struct db_keypair *out)
{
	return db_fetch_one(db, get_sql, DB_KEYS(user_id, name), keypair_cols, DB_NELEM(keypair_cols), out,
	    "keypair get");
}

int db_keypair_list(struct db *db, const char *user_id,
    struct db_keypair **out, size_t *n)
{
	void *arr = NULL;
	int rc = db_fetch_list(db, list_sql, DB_KEYS(user_id), keypair_cols, DB_NELEM(keypair_cols),
	    sizeof **out, &arr, n, "keypair list");

	*out = arr;
	return rc;
}

int db_keypair_delete(struct db *db, const char *user_id, const char *name)
{
	struct db_conn *c;
	sqlite3_stmt *st;
	int rc;

	if ((c = db_conn_get(db)) == NULL)
		return DB_ERROR;
	if ((rc = db_stmt(c, delete_sql, &st)) == DB_OK) {
		db_bind_text(st, 1, user_id);
		db_bind_text(st, 2, name);
		if ((rc = db_step_done(c, st, "keypair delete")) == DB_OK &&
		    db_changes(c) == 0)
			rc = DB_NOTFOUND;
	}
	db_conn_put(db, c);
	return rc;
}
