/* Images: the metadata of Glance-style images (the data lives on disk). */
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "db/db_internal.h"

#define F(field, type) DB_COL(struct db_image, field, type)
/* In the order of SELECT_COLS. The insert binds all; the update binds
 * from name through updated_at (all but id and created_at, by position:
 * UPDATE_FIRST .. UPDATE_LAST) and then id. */
static const struct db_col image_cols[] = {
	F(id, DB_COL_TEXT),
	F(name, DB_COL_TEXT),
	F(status, DB_COL_TEXT),
	F(disk_format, DB_COL_TEXT),
	F(container_format, DB_COL_TEXT),
	F(size, DB_COL_I64),
	F(checksum, DB_COL_TEXT),
	F(os_hash_algo, DB_COL_TEXT),
	F(os_hash_value, DB_COL_TEXT),
	F(owner, DB_COL_TEXT),
	F(visibility, DB_COL_TEXT),
	F(min_disk, DB_COL_INT),
	F(min_ram, DB_COL_INT),
	F(protected_, DB_COL_BOOL),
	F(properties, DB_COL_TEXT),
	F(created_at, DB_COL_TEXT),
	F(updated_at, DB_COL_TEXT),
};
#undef F
#define UPDATE_FIRST 1  /* name */
#define UPDATE_COUNT 14 /* name .. properties */

#define SELECT_COLS \
	"SELECT id, name, status, disk_format, container_format, size," \
	" checksum, os_hash_algo, os_hash_value, owner, visibility, min_disk," \
	" min_ram, protected, properties, created_at, updated_at FROM images"

static const char insert_sql[] =
    "INSERT INTO images (id, name, status, disk_format, container_format,"
    " size, checksum, os_hash_algo, os_hash_value, owner, visibility,"
    " min_disk, min_ram, protected, properties, created_at, updated_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char get_sql[] = SELECT_COLS " WHERE id = ?";
/* Glance's default order: newest first. */
static const char list_sql[] = SELECT_COLS " ORDER BY created_at DESC, id DESC";
static const char update_sql[] =
    "UPDATE images SET name = ?1, status = ?2, disk_format = ?3,"
    " container_format = ?4, size = ?5, checksum = ?6, os_hash_algo = ?7,"
    " os_hash_value = ?8, owner = ?9, visibility = ?10, min_disk = ?11,"
    " min_ram = ?12, protected = ?13, properties = ?14, updated_at = ?15"
    " WHERE id = ?16";
static const char in_use_sql[] =
    "SELECT count(*) FROM instances WHERE image_ref = ? AND deleted = 0";
static const char delete_sql[] = "DELETE FROM images WHERE id = ?";
/* Every id ever given to an image, kept after its delete: Glance never
 * reuses an image id, and a compute may still hold the old one's data. */
static const char id_sql[] = "INSERT INTO image_ids (id) VALUES (?)";

bool db_image_readable(const struct db_image *img, const char *project_id,
    bool is_admin)
{
	return is_admin || strcmp(img->visibility, "public") == 0 ||
	    strcmp(img->visibility, "community") == 0 ||
	    (img->owner[0] != '\0' && strcmp(img->owner, project_id) == 0);
}

static int create_locked(struct db_conn *c, const struct db_image *row)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_stmt(c, id_sql, &st)) != DB_OK)
		return rc;
	db_bind_text(st, 1, row->id);
	if ((rc = db_step_done(c, st, "image id")) != DB_OK)
		return rc;
	if ((rc = db_stmt(c, insert_sql, &st)) != DB_OK ||
	    (rc = db_row_bind(st, 1, image_cols, DB_NELEM(image_cols), row)) != DB_OK)
		return rc;
	return db_step_done(c, st, "image create");
}

int db_image_create(struct db *db, const struct db_image *img)
{
	struct db_image *row;
	struct db_conn *c;
	int rc;

	if ((row = malloc(sizeof *row)) == NULL)
		return DB_ERROR;
	*row = *img;
	if (row->created_at[0] == '\0')
		time_iso8601(row->created_at);
	if (row->updated_at[0] == '\0')
		memcpy(row->updated_at, row->created_at, sizeof row->updated_at);
	if ((c = db_conn_get(db)) == NULL) {
		free(row);
		return DB_ERROR;
	}
	if ((rc = db_begin(c, true)) == DB_OK) {
		if ((rc = create_locked(c, row)) == DB_OK)
			rc = db_commit(c);
		else
			db_rollback(c);
	}
	db_conn_put(db, c);
	free(row);
	return rc;
}

int db_image_get(struct db *db, const char *id, struct db_image *out)
{
	return db_fetch_one(db, get_sql, DB_KEYS(id), image_cols, DB_NELEM(image_cols), out,
	    "image get");
}

int db_image_list(struct db *db, struct db_image **out, size_t *n)
{
	void *arr = NULL;
	int rc = db_fetch_list(db, list_sql, NULL, image_cols, DB_NELEM(image_cols),
	    sizeof **out, &arr, n, "image list");

	*out = arr;
	return rc;
}

/* Every field but id and created_at; updated_at becomes now. */
int db_image_update(struct db *db, const struct db_image *img)
{
	struct db_conn *c;
	sqlite3_stmt *st;
	char now[DB_TS];
	int rc;

	time_iso8601(now);
	if ((c = db_conn_get(db)) == NULL)
		return DB_ERROR;
	if ((rc = db_stmt(c, update_sql, &st)) == DB_OK &&
	    (rc = db_row_bind(st, 1, image_cols + UPDATE_FIRST, UPDATE_COUNT,
	    img)) == DB_OK) {
		db_bind_text(st, UPDATE_COUNT + 1, now);
		db_bind_text(st, UPDATE_COUNT + 2, img->id);
		if ((rc = db_step_done(c, st, "image update")) == DB_OK &&
		    db_changes(c) == 0)
			rc = DB_NOTFOUND;
	}
	db_conn_put(db, c);
	return rc;
}

static int delete_locked(struct db_conn *c, const char *id)
{
	sqlite3_stmt *st;
	int64_t users;
	int rc;

	if ((rc = db_stmt(c, in_use_sql, &st)) != DB_OK)
		return rc;
	db_bind_text(st, 1, id);
	if ((rc = db_query_i64(c, st, &users, "image in use")) != DB_OK)
		return rc;
	if (users > 0)
		return DB_INUSE;
	if ((rc = db_stmt(c, delete_sql, &st)) != DB_OK)
		return rc;
	db_bind_text(st, 1, id);
	if ((rc = db_step_done(c, st, "image delete")) != DB_OK)
		return rc;
	return db_changes(c) == 0 ? DB_NOTFOUND : DB_OK;
}

int db_image_delete(struct db *db, const char *id)
{
	struct db_conn *c;
	int rc;

	if ((c = db_conn_get(db)) == NULL)
		return DB_ERROR;
	if ((rc = db_begin(c, true)) == DB_OK) {
		if ((rc = delete_locked(c, id)) == DB_OK)
			rc = db_commit(c);
		else
			db_rollback(c);
	}
	db_conn_put(db, c);
	return rc;
}

/* ---- data (the file lives under the API's state_path) ---- */

static const char status_sql[] =
    "UPDATE images SET status = ?1, updated_at = ?2 WHERE id = ?3 AND status = ?4";
static const char data_sql[] =
    "UPDATE images SET status = 'active', size = ?1, checksum = ?2,"
    " os_hash_algo = 'sha256', os_hash_value = ?3, updated_at = ?4"
    " WHERE id = ?5 AND status = 'saving'";
static const char exists_sql[] = "SELECT count(*) FROM images WHERE id = ?";

/* After an update matched nothing: DB_CONFLICT or DB_NOTFOUND. */
static int image_miss(struct db_conn *c, const char *id)
{
	sqlite3_stmt *st;
	int64_t n;
	int rc;

	if ((rc = db_stmt(c, exists_sql, &st)) != DB_OK)
		return rc;
	db_bind_text(st, 1, id);
	if ((rc = db_query_i64(c, st, &n, "image exists")) != DB_OK)
		return rc;
	return n > 0 ? DB_CONFLICT : DB_NOTFOUND;
}

int db_image_set_status(struct db *db, const char *id, const char *expect,
    const char *status)
{
	struct db_conn *c;
	sqlite3_stmt *st;
	char now[DB_TS];
	int rc;

	time_iso8601(now);
	if ((c = db_conn_get(db)) == NULL)
		return DB_ERROR;
	if ((rc = db_stmt(c, status_sql, &st)) == DB_OK) {
		db_bind_text(st, 1, status);
		db_bind_text(st, 2, now);
		db_bind_text(st, 3, id);
		db_bind_text(st, 4, expect);
		if ((rc = db_step_done(c, st, "image status")) == DB_OK &&
		    db_changes(c) == 0)
			rc = image_miss(c, id);
	}
	db_conn_put(db, c);
	return rc;
}

int db_image_set_data(struct db *db, const char *id, int64_t size,
    const char *checksum, const char *sha256)
{
	struct db_conn *c;
	sqlite3_stmt *st;
	char now[DB_TS];
	int rc;

	if (db_check_len(checksum, 33, "image checksum") != DB_OK ||
	    db_check_len(sha256, 129, "image hash") != DB_OK)
		return DB_ERROR;
	time_iso8601(now);
	if ((c = db_conn_get(db)) == NULL)
		return DB_ERROR;
	if ((rc = db_stmt(c, data_sql, &st)) == DB_OK) {
		sqlite3_bind_int64(st, 1, size);
		db_bind_text(st, 2, checksum);
		db_bind_text(st, 3, sha256);
		db_bind_text(st, 4, now);
		db_bind_text(st, 5, id);
		if ((rc = db_step_done(c, st, "image data")) == DB_OK &&
		    db_changes(c) == 0)
			rc = image_miss(c, id);
	}
	db_conn_put(db, c);
	return rc;
}
