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

static const char count_sql[] = "SELECT count(*) FROM images WHERE owner = ?";

static int create_locked(struct db_conn *c, const struct db_image *row,
    int64_t max_count)
{
	sqlite3_stmt *st;
	int64_t n;
	int rc;

	if (max_count >= 0) {
		if ((rc = db_stmt(c, count_sql, &st)) != DB_OK)
			return rc;
		db_bind_text(st, 1, row->owner);
		if ((rc = db_query_i64(c, st, &n, "image count")) != DB_OK)
			return rc;
		if (n >= max_count)
			return DB_NOSPACE;
	}
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
	return db_image_create_within(db, img, -1);
}

int db_image_create_within(struct db *db, const struct db_image *img,
    int64_t max_count)
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
		if ((rc = create_locked(c, row, max_count)) == DB_OK)
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

/*
 * The list: Glance's visibility and filters as the conditions of one
 * WHERE clause, each added only when it applies (so that the default
 * list reads nothing but the covering indexes of migration 9), and the
 * order and the keyset after the marker built from the sort key table:
 * static text only, the values bound. Non-admins read their own images
 * and the public and community ones (db_image_readable); without a
 * visibility filter, other projects' community images are left out.
 * The page's rowids are chosen first, so that only its rows are read.
 */
static const char *const sort_expr[DB_IMAGE_SORT__COUNT] = {
	[DB_IMAGE_SORT_NAME] = "coalesce(name, '')",
	[DB_IMAGE_SORT_STATUS] = "status",
	[DB_IMAGE_SORT_CONTAINER_FORMAT] = "coalesce(container_format, '')",
	[DB_IMAGE_SORT_DISK_FORMAT] = "coalesce(disk_format, '')",
	[DB_IMAGE_SORT_SIZE] = "size",
	[DB_IMAGE_SORT_ID] = "id",
	[DB_IMAGE_SORT_CREATED] = "created_at",
	[DB_IMAGE_SORT_UPDATED] = "coalesce(updated_at, created_at)",
};

/* Appends s to the text in sql: -1 when it does not fit. */
static int sql_add(char *sql, size_t len, const char *s)
{
	size_t n = strlen(sql);

	return str_copy(sql + n, s, len - n);
}

/* Glance's keyset: rows after the marker's values in the order, i.e. for
 * some key i, equal on keys 0..i-1 and past it on key i. */
static int page_keyset(const struct db_image_filter *f, char *sql, size_t len)
{
	const char *e;

	if (sql_add(sql, len, " AND (") < 0)
		return -1;
	for (int i = 0; i < f->nsort; i++) {
		if (sql_add(sql, len, i ? " OR (1" : "(1") < 0)
			return -1;
		for (int j = 0; j <= i; j++) {
			e = sort_expr[f->sort[j]];
			if (sql_add(sql, len, " AND ") < 0 || sql_add(sql, len, e) < 0 ||
			    sql_add(sql, len, j < i ? " = " : f->asc[j] ? " > " :
			    " < ") < 0 || sql_add(sql, len, "(SELECT ") < 0 ||
			    sql_add(sql, len, e) < 0 ||
			    sql_add(sql, len, " FROM images WHERE id = ?11)") < 0)
				return -1;
		}
		if (sql_add(sql, len, ")") < 0)
			return -1;
	}
	return sql_add(sql, len, ")");
}

/* The conditions that apply, with their parameters' fixed numbers
 * (page_locked binds them all). */
static int page_where(const struct db_image_filter *f, char *sql, size_t len)
{
	const bool one_vis = f->visibility != NULL &&
	    strcmp(f->visibility, "all") != 0;
	const struct { bool on; const char *sql; } cond[] = {
		{ !f->is_admin, " AND (visibility IN ('public', 'community')"
		    " OR owner = ?1)" },
		{ f->visibility == NULL, " AND (visibility <> 'community'"
		    " OR owner = ?1)" },
		{ one_vis, " AND visibility = ?2" },
		{ f->name != NULL, " AND name = ?3" },
		{ f->owner != NULL, " AND owner = ?4" },
		{ f->status != NULL, " AND status = ?5" },
		{ f->disk_format != NULL, " AND disk_format = ?6" },
		{ f->container_format != NULL, " AND container_format = ?7" },
		{ f->size_min >= 0, " AND size >= ?8" },
		{ f->size_max >= 0, " AND size >= 0 AND size <= ?9" },
		{ f->none, " AND 0" },
	};

	for (size_t i = 0; i < DB_NELEM(cond); i++)
		if (cond[i].on && sql_add(sql, len, cond[i].sql) < 0)
			return -1;
	return f->marker != NULL ? page_keyset(f, sql, len) : 0;
}

static int page_order(const struct db_image_filter *f, char *sql, size_t len)
{
	if (sql_add(sql, len, " ORDER BY ") < 0)
		return -1;
	for (int i = 0; i < f->nsort; i++)
		if (sql_add(sql, len, i ? ", " : "") < 0 ||
		    sql_add(sql, len, sort_expr[f->sort[i]]) < 0 ||
		    sql_add(sql, len, f->asc[i] ? " ASC" : " DESC") < 0)
			return -1;
	return 0;
}

static int page_sql(const struct db_image_filter *f, char *sql, size_t len)
{
	if (f->nsort < 1 || f->nsort > DB_IMAGE_SORT_MAX)
		return -1;
	for (int i = 0; i < f->nsort; i++)
		if ((int)f->sort[i] < 0 || f->sort[i] >= DB_IMAGE_SORT__COUNT)
			return -1;
	if (str_fmt(sql, len, "%s WHERE rowid IN (SELECT rowid FROM images"
	    " WHERE 1", SELECT_COLS) < 0 || page_where(f, sql, len) < 0 ||
	    page_order(f, sql, len) < 0 || sql_add(sql, len, " LIMIT ?12)") < 0)
		return -1;
	return page_order(f, sql, len);
}

/* The marker must name an image the reader may read. */
static int page_marker(struct db_conn *c, const struct db_image_filter *f)
{
	struct db_image *m;
	sqlite3_stmt *st;
	int rc;

	if ((m = malloc(sizeof *m)) == NULL)
		return DB_ERROR;
	if ((rc = db_stmt(c, get_sql, &st)) == DB_OK) {
		db_bind_text(st, 1, f->marker);
		rc = db_query_one(c, st, image_cols, DB_NELEM(image_cols), m,
		    "image marker");
	}
	if (rc == DB_OK && !db_image_readable(m, f->project_id, f->is_admin))
		rc = DB_NOTFOUND;
	free(m);
	return rc;
}

static int page_locked(struct db_conn *c, const struct db_image_filter *f,
    const char *sql, struct db_image **out, size_t *n)
{
	sqlite3_stmt *st;
	void *arr = NULL;
	int rc;

	if (f->marker != NULL && (rc = page_marker(c, f)) != DB_OK)
		return rc;
	if ((rc = db_stmt_once(c, sql, &st)) != DB_OK)
		return rc;
	db_bind_text(st, 1, f->project_id);
	db_bind_text(st, 2, f->visibility);
	db_bind_text(st, 3, f->name);
	db_bind_text(st, 4, f->owner);
	db_bind_text(st, 5, f->status);
	db_bind_text(st, 6, f->disk_format);
	db_bind_text(st, 7, f->container_format);
	sqlite3_bind_int64(st, 8, f->size_min);
	sqlite3_bind_int64(st, 9, f->size_max);
	sqlite3_bind_int(st, 10, f->none);
	db_bind_text(st, 11, f->marker);
	sqlite3_bind_int(st, 12, f->limit);
	rc = db_query_list(c, st, image_cols, DB_NELEM(image_cols), sizeof **out,
	    &arr, n, "image list");
	sqlite3_finalize(st);
	*out = arr;
	return rc;
}

int db_image_page(struct db *db, const struct db_image_filter *f,
    struct db_image **out, size_t *n)
{
	struct db_conn *c;
	char sql[8192];
	int rc;

	*out = NULL;
	*n = 0;
	if (page_sql(f, sql, sizeof sql) < 0) {
		log_warnx("db: image list: bad sort or query too long");
		return DB_ERROR;
	}
	if ((c = db_conn_get(db)) == NULL)
		return DB_ERROR;
	/* the marker's check and the page read one snapshot */
	if ((rc = db_begin(c, false)) == DB_OK) {
		rc = page_locked(c, f, sql, out, n);
		db_rollback(c);
	}
	db_conn_put(db, c);
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
/* The owner's bytes: its active images' sizes, as Glance counts them. */
#define OWNER_BYTES(owner) "(SELECT coalesce(sum(size), 0) FROM images" \
    " WHERE owner IS " owner " AND status = 'active' AND size > 0)"
static const char data_sql[] =
    "UPDATE images SET status = 'active', size = ?1, checksum = ?2,"
    " os_hash_algo = 'sha256', os_hash_value = ?3, updated_at = ?4"
    " WHERE id = ?5 AND status = 'saving' AND (?6 < 0 OR ?1 + "
    OWNER_BYTES("(SELECT owner FROM images WHERE id = ?5)") " <= ?6)";
static const char begin_sql[] =
    "UPDATE images SET status = 'saving', updated_at = ?2"
    " WHERE id = ?1 AND status = 'queued' AND (?3 < 0 OR"
    " (SELECT count(*) FROM images WHERE status = 'saving' AND"
    "  owner IS (SELECT owner FROM images WHERE id = ?1)) < ?3)";
static const char status_of_sql[] = "SELECT status FROM images WHERE id = ?";
static const char usage_sql[] =
    "SELECT count(*), " OWNER_BYTES("?1") ","
    " (SELECT count(*) FROM images WHERE owner IS ?1 AND status = 'saving')"
    " FROM images WHERE owner IS ?1";

/* After an update matched nothing: DB_NOTFOUND when the image is gone;
 * DB_NOSPACE when it is still in status `bounded` (non-NULL: the update's
 * bound refused it); else DB_CONFLICT (its status changed meanwhile). */
static int image_miss(struct db_conn *c, const char *id, const char *bounded)
{
	struct { char status[16]; } row;
	static const struct db_col col[] = {
		{ "status", DB_COL_TEXT, 0, sizeof row.status },
	};
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_stmt(c, status_of_sql, &st)) != DB_OK)
		return rc;
	db_bind_text(st, 1, id);
	rc = db_query_one(c, st, col, 1, &row, "image status");
	if (rc != DB_OK)
		return rc;
	return bounded != NULL && strcmp(row.status, bounded) == 0 ?
	    DB_NOSPACE : DB_CONFLICT;
}

int db_image_upload_begin(struct db *db, const char *id, int64_t max_uploading)
{
	struct db_conn *c;
	sqlite3_stmt *st;
	char now[DB_TS];
	int rc;

	time_iso8601(now);
	if ((c = db_conn_get(db)) == NULL)
		return DB_ERROR;
	if ((rc = db_begin(c, true)) != DB_OK) {
		db_conn_put(db, c);
		return rc;
	}
	if ((rc = db_stmt(c, begin_sql, &st)) == DB_OK) {
		db_bind_text(st, 1, id);
		db_bind_text(st, 2, now);
		sqlite3_bind_int64(st, 3, max_uploading);
		if ((rc = db_step_done(c, st, "image upload")) == DB_OK &&
		    db_changes(c) == 0)
			rc = image_miss(c, id, "queued");
	}
	if (rc == DB_OK)
		rc = db_commit(c);
	else
		db_rollback(c);
	db_conn_put(db, c);
	return rc;
}

int db_image_usage(struct db *db, const char *owner, struct db_image_usage *u)
{
	static const struct db_col cols[] = {
		DB_COL(struct db_image_usage, count, DB_COL_I64),
		DB_COL(struct db_image_usage, bytes, DB_COL_I64),
		DB_COL(struct db_image_usage, uploading, DB_COL_I64),
	};

	memset(u, 0, sizeof *u);
	return db_fetch_one(db, usage_sql, DB_KEYS(owner), cols, DB_NELEM(cols),
	    u, "image usage");
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
			rc = image_miss(c, id, NULL);
	}
	db_conn_put(db, c);
	return rc;
}

int db_image_set_data(struct db *db, const char *id, int64_t size,
    const char *checksum, const char *sha256, int64_t max_bytes)
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
		sqlite3_bind_int64(st, 6, max_bytes);
		if ((rc = db_step_done(c, st, "image data")) == DB_OK &&
		    db_changes(c) == 0)
			rc = image_miss(c, id, "saving");
	}
	db_conn_put(db, c);
	return rc;
}
