/*
 * The connection pool, statements, transactions and row mapping that every
 * table family uses. A struct db holds up to POOL_MAX SQLite connections
 * to one file; each public call borrows one for its duration, so callers
 * on many threads never share a connection.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "db/db_internal.h"

#define POOL_MAX 16
#define BUSY_TIMEOUT_MS 10000
#define FULL_LOG_MS 60000   /* a full disk is logged once a minute */

struct stmt_slot {
	const char *sql; /* static text: the cache key is its address */
	sqlite3_stmt *st;
};

struct db_conn {
	struct db *db;   /* its pool */
	sqlite3 *h;
	struct db_conn *next;
	struct stmt_slot *stmts;
	size_t nstmts, capstmts;
};

struct db {
	char *path;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct db_conn *idle;
	int nopen;
	atomic_bool full;              /* see db_full */
	atomic_uint_fast64_t full_logged_ms;
};

static const char conn_setup[] =
    "PRAGMA journal_mode = WAL;"
    "PRAGMA foreign_keys = ON;"
    "PRAGMA synchronous = NORMAL;";

static void conn_free(struct db_conn *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nstmts; i++)
		sqlite3_finalize(c->stmts[i].st);
	free(c->stmts);
	sqlite3_close(c->h);
	free(c);
}

static struct db_conn *conn_open(struct db *db, const char *path)
{
	struct db_conn *c;
	char *err = NULL;
	int rc;

	if ((c = calloc(1, sizeof *c)) == NULL) {
		log_warnx("db: out of memory");
		return NULL;
	}
	c->db = db;
	rc = sqlite3_open_v2(path, &c->h, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		log_warnx("db: open %s: %s", path,
		    c->h ? sqlite3_errmsg(c->h) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_extended_result_codes(c->h, 1);
	/* The busy timeout first: switching to WAL may wait for a lock. */
	sqlite3_busy_timeout(c->h, BUSY_TIMEOUT_MS);
	if (sqlite3_exec(c->h, conn_setup, NULL, NULL, &err) != SQLITE_OK) {
		log_warnx("db: %s: %s", path, err ? err : sqlite3_errmsg(c->h));
		sqlite3_free(err);
		goto fail;
	}
	return c;
fail:
	conn_free(c);
	return NULL;
}

/* Before SQLite's first use: no allocation statistics, which would take
 * a process-wide mutex at every allocation of every connection. */
static void sqlite_config(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int db_open(const char *path, struct db **out)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct db *db;
	struct db_conn *c;

	*out = NULL;
	pthread_once(&once, sqlite_config);
	if ((db = calloc(1, sizeof *db)) == NULL ||
	    (db->path = strdup(path)) == NULL) {
		log_warnx("db: out of memory");
		free(db);
		return DB_ERROR;
	}
	pthread_mutex_init(&db->mu, NULL);
	pthread_cond_init(&db->cv, NULL);
	/* Open one now so that a bad path fails here, not at first use. */
	if ((c = conn_open(db, path)) == NULL) {
		db_close(db);
		return DB_ERROR;
	}
	db->idle = c;
	db->nopen = 1;
	*out = db;
	return DB_OK;
}

/* Every borrowed connection must have been returned. */
void db_close(struct db *db)
{
	struct db_conn *c;

	if (db == NULL)
		return;
	while ((c = db->idle) != NULL) {
		db->idle = c->next;
		conn_free(c);
	}
	pthread_cond_destroy(&db->cv);
	pthread_mutex_destroy(&db->mu);
	free(db->path);
	free(db);
}

struct db_conn *db_conn_get(struct db *db)
{
	struct db_conn *c;

	pthread_mutex_lock(&db->mu);
	while (db->idle == NULL && db->nopen >= POOL_MAX)
		pthread_cond_wait(&db->cv, &db->mu);
	if ((c = db->idle) != NULL) {
		db->idle = c->next;
		pthread_mutex_unlock(&db->mu);
		return c;
	}
	db->nopen++;
	pthread_mutex_unlock(&db->mu);

	if ((c = conn_open(db, db->path)) == NULL) {
		pthread_mutex_lock(&db->mu);
		db->nopen--;
		pthread_cond_signal(&db->cv);
		pthread_mutex_unlock(&db->mu);
	}
	return c;
}

void db_conn_put(struct db *db, struct db_conn *c)
{
	if (c == NULL)
		return;
	/* A statement left mid-result would hold its read snapshot. */
	for (size_t i = 0; i < c->nstmts; i++)
		sqlite3_reset(c->stmts[i].st);
	if (!sqlite3_get_autocommit(c->h)) {
		log_warnx("db: connection returned inside a transaction");
		db_rollback(c);
	}
	pthread_mutex_lock(&db->mu);
	c->next = db->idle;
	db->idle = c;
	pthread_cond_signal(&db->cv);
	pthread_mutex_unlock(&db->mu);
}

int db_stmt_once(struct db_conn *c, const char *sql, sqlite3_stmt **out)
{
	int rc = sqlite3_prepare_v2(c->h, sql, -1, out, NULL);

	return rc == SQLITE_OK ? DB_OK : db_status_of(c, rc, "prepare");
}

int db_stmt(struct db_conn *c, const char *sql, sqlite3_stmt **out)
{
	struct stmt_slot *slot;
	sqlite3_stmt *st;
	int rc;

	for (size_t i = 0; i < c->nstmts; i++) {
		if (c->stmts[i].sql == sql) {
			*out = c->stmts[i].st;
			sqlite3_reset(*out);
			sqlite3_clear_bindings(*out);
			return DB_OK;
		}
	}
	rc = sqlite3_prepare_v3(c->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
	if (rc != SQLITE_OK)
		return db_status_of(c, rc, "prepare");
	if (c->nstmts == c->capstmts) {
		size_t cap = c->capstmts ? 2 * c->capstmts : 32;
		if ((slot = realloc(c->stmts, cap * sizeof *slot)) == NULL) {
			sqlite3_finalize(st);
			log_warnx("db: out of memory");
			return DB_ERROR;
		}
		c->stmts = slot;
		c->capstmts = cap;
	}
	c->stmts[c->nstmts].sql = sql;
	c->stmts[c->nstmts].st = st;
	c->nstmts++;
	*out = st;
	return DB_OK;
}

int db_step_done(struct db_conn *c, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_status_of(c, rc, what);
	if (sqlite3_get_autocommit(c->h) && !sqlite3_stmt_readonly(st))
		atomic_store(&c->db->full, false);
	return DB_OK;
}

int db_changes(struct db_conn *c) { return sqlite3_changes(c->h); }

int db_total_changes(struct db_conn *c) { return sqlite3_total_changes(c->h); }

bool db_full(struct db *db) { return atomic_load(&db->full); }

/* SQLite says SQLITE_FULL when a write finds no space; a write to the WAL
 * or its index may instead fail as an I/O error whose errno is ENOSPC. */
static bool disk_full(struct db_conn *c, int rc)
{
	return (rc & 0xff) == SQLITE_FULL ||
	    ((rc & 0xff) == SQLITE_IOERR && sqlite3_system_errno(c->h) == ENOSPC);
}

/* Every request fails alike while the disk is full: one line a minute
 * says so, not one a request. */
static int full_status(struct db_conn *c, int rc, const char *what)
{
	uint64_t now = now_ms(), last = atomic_load(&c->db->full_logged_ms);

	atomic_store(&c->db->full, true);
	if ((last == 0 || now - last >= FULL_LOG_MS) &&
	    atomic_compare_exchange_strong(&c->db->full_logged_ms, &last, now))
		log_warnx("db: %s: %s: the disk of %s is full; writes fail until "
		    "there is space again (logged once a minute)", what,
		    sqlite3_errstr(rc), c->db->path);
	else
		log_debug("db: %s: %s", what, sqlite3_errstr(rc));
	return DB_FULL;
}

int db_status_of(struct db_conn *c, int rc, const char *what)
{
	if (disk_full(c, rc))
		return full_status(c, rc, what);
	switch (rc) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return DB_OK;
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY:
		log_debug("db: %s: %s", what, sqlite3_errmsg(c->h));
		return DB_CONFLICT;
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		log_debug("db: %s: %s", what, sqlite3_errmsg(c->h));
		return DB_NOTFOUND;
	default:
		log_warnx("db: %s: %s (%s)", what, sqlite3_errmsg(c->h),
		    sqlite3_errstr(rc));
		return DB_ERROR;
	}
}

static int exec_simple(struct db_conn *c, const char *sql)
{
	char *err = NULL;
	int rc = sqlite3_exec(c->h, sql, NULL, NULL, &err);

	if (rc != SQLITE_OK) {
		log_warnx("db: %s: %s", sql, err ? err : sqlite3_errstr(rc));
		sqlite3_free(err);
		return DB_ERROR;
	}
	return DB_OK;
}

/* Transaction control from the statement cache (its key is the text's
 * address): sqlite3_exec would parse it again for every transaction. */
static const char begin_sql[] = "BEGIN";
static const char begin_immediate_sql[] = "BEGIN IMMEDIATE";
static const char commit_sql[] = "COMMIT";
static const char rollback_sql[] = "ROLLBACK";

static int exec_cached(struct db_conn *c, const char *sql)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_stmt(c, sql, &st)) != DB_OK)
		return rc;
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? DB_OK : db_status_of(c, rc, sql);
}

int db_begin(struct db_conn *c, bool immediate)
{
	return exec_cached(c, immediate ? begin_immediate_sql : begin_sql);
}

int db_commit(struct db_conn *c)
{
	bool wrote = sqlite3_txn_state(c->h, NULL) == SQLITE_TXN_WRITE;
	int rc;

	if ((rc = exec_cached(c, commit_sql)) != DB_OK) {
		db_rollback(c);
		return rc == DB_FULL ? DB_FULL : DB_ERROR;
	}
	if (wrote)
		atomic_store(&c->db->full, false);
	return DB_OK;
}

void db_rollback(struct db_conn *c)
{
	if (!sqlite3_get_autocommit(c->h))
		exec_cached(c, rollback_sql);
}

/* Migrations run static schema text, which sqlite3_exec takes as a script. */
int db_exec_script(struct db_conn *c, const char *sql)
{
	return exec_simple(c, sql);
}

int db_bind_text(sqlite3_stmt *st, int idx, const char *s)
{
	if (s == NULL || *s == '\0')
		return sqlite3_bind_null(st, idx);
	return sqlite3_bind_text(st, idx, s, -1, SQLITE_TRANSIENT);
}

int db_check_len(const char *s, size_t size, const char *what)
{
	if (s != NULL && strnlen(s, size) >= size) {
		log_warnx("db: %s: value longer than %zu bytes", what, size - 1);
		return DB_ERROR;
	}
	return DB_OK;
}

int db_row_bind(sqlite3_stmt *st, int first, const struct db_col *cols,
    size_t n, const void *in)
{
	const char *base = in;

	for (size_t i = 0; i < n; i++) {
		const void *p = base + cols[i].off;
		int idx = first + (int)i;

		switch (cols[i].type) {
		case DB_COL_TEXT:
			if (db_check_len(p, cols[i].size, cols[i].name) != DB_OK)
				return DB_ERROR;
			db_bind_text(st, idx, p);
			break;
		case DB_COL_INT:
			sqlite3_bind_int(st, idx, *(const int *)p);
			break;
		case DB_COL_I64:
			sqlite3_bind_int64(st, idx, *(const int64_t *)p);
			break;
		case DB_COL_DOUBLE:
			sqlite3_bind_double(st, idx, *(const double *)p);
			break;
		case DB_COL_BOOL:
			sqlite3_bind_int(st, idx, *(const bool *)p ? 1 : 0);
			break;
		}
	}
	return DB_OK;
}

static int read_text(sqlite3_stmt *st, int i, const struct db_col *col, char *dst)
{
	const unsigned char *s = sqlite3_column_text(st, i);
	size_t len = (size_t)sqlite3_column_bytes(st, i);

	if (s == NULL) {
		dst[0] = '\0';
		return DB_OK;
	}
	if (len >= col->size) {
		log_warnx("db: column %s: stored value of %zu bytes does not fit %zu",
		    col->name, len, col->size - 1);
		return DB_ERROR;
	}
	memcpy(dst, s, len + 1);
	return DB_OK;
}

int db_row_read(sqlite3_stmt *st, const struct db_col *cols, size_t n, void *out)
{
	char *base = out;
	int64_t v;

	for (size_t i = 0; i < n; i++) {
		void *p = base + cols[i].off;

		switch (cols[i].type) {
		case DB_COL_TEXT:
			if (read_text(st, (int)i, &cols[i], p) != DB_OK)
				return DB_ERROR;
			break;
		case DB_COL_INT:
			v = sqlite3_column_int64(st, (int)i);
			if (v < INT32_MIN || v > INT32_MAX) {
				log_warnx("db: column %s: %lld out of range",
				    cols[i].name, (long long)v);
				return DB_ERROR;
			}
			*(int *)p = (int)v;
			break;
		case DB_COL_I64:
			*(int64_t *)p = sqlite3_column_int64(st, (int)i);
			break;
		case DB_COL_DOUBLE:
			*(double *)p = sqlite3_column_double(st, (int)i);
			break;
		case DB_COL_BOOL:
			*(bool *)p = sqlite3_column_int(st, (int)i) != 0;
			break;
		}
	}
	return DB_OK;
}

int db_query_one(struct db_conn *c, sqlite3_stmt *st, const struct db_col *cols,
    size_t ncols, void *out, const char *what)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		rc = db_row_read(st, cols, ncols, out);
	else if (rc == SQLITE_DONE)
		rc = DB_NOTFOUND;
	else
		rc = db_status_of(c, rc, what);
	sqlite3_reset(st);
	return rc;
}

int db_query_i64(struct db_conn *c, sqlite3_stmt *st, int64_t *out,
    const char *what)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		rc = DB_OK;
	} else if (rc == SQLITE_DONE) {
		rc = DB_NOTFOUND;
	} else {
		rc = db_status_of(c, rc, what);
	}
	sqlite3_reset(st);
	return rc;
}

int db_query_list(struct db_conn *c, sqlite3_stmt *st, const struct db_col *cols,
    size_t ncols, size_t elem, void **out, size_t *n, const char *what)
{
	char *arr = NULL, *grown;
	size_t len = 0, cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (len == cap) {
			cap = cap ? 2 * cap : 16;
			if ((grown = realloc(arr, cap * elem)) == NULL) {
				log_warnx("db: %s: out of memory", what);
				rc = DB_ERROR;
				goto fail;
			}
			arr = grown;
		}
		memset(arr + len * elem, 0, elem);
		if ((rc = db_row_read(st, cols, ncols, arr + len * elem)) != DB_OK)
			goto fail;
		len++;
	}
	if (rc != SQLITE_DONE) {
		rc = db_status_of(c, rc, what);
		goto fail;
	}
	sqlite3_reset(st);
	*out = arr;
	*n = len;
	return DB_OK;
fail:
	sqlite3_reset(st);
	free(arr);
	return rc;
}

const char *db_strerror(int status)
{
	static const struct { int status; const char *text; } texts[] = {
		{ DB_OK, "success" },
		{ DB_ERROR, "database error" },
		{ DB_NOTFOUND, "not found" },
		{ DB_CONFLICT, "conflict" },
		{ DB_NOSPACE, "not enough resources on the host" },
		{ DB_INUSE, "in use" },
		{ DB_SCHEMA, "database schema out of date (run kumo-manage db sync)" },
		{ DB_FULL, "the database's disk is full" },
	};
	for (size_t i = 0; i < DB_NELEM(texts); i++)
		if (texts[i].status == status)
			return texts[i].text;
	return "unknown database status";
}

bool db_file_moved(struct db *db)
{
	struct db_conn *c;
	int moved = 0;

	if ((c = db_conn_get(db)) == NULL)
		return false;   /* logged; cannot tell */
	if (sqlite3_file_control(c->h, "main", SQLITE_FCNTL_HAS_MOVED,
	    &moved) != SQLITE_OK)
		moved = 0;
	db_conn_put(db, c);
	return moved != 0;
}

static void bind_keys(sqlite3_stmt *st, const char *const *keys)
{
	for (int i = 0; keys != NULL && keys[i] != NULL; i++)
		db_bind_text(st, i + 1, keys[i]);
}

int db_fetch_one(struct db *db, const char *sql, const char *const *keys,
    const struct db_col *cols, size_t ncols, void *out, const char *what)
{
	struct db_conn *c;
	sqlite3_stmt *st;
	int rc;

	if ((c = db_conn_get(db)) == NULL)
		return DB_ERROR;
	if ((rc = db_stmt(c, sql, &st)) == DB_OK) {
		bind_keys(st, keys);
		rc = db_query_one(c, st, cols, ncols, out, what);
	}
	db_conn_put(db, c);
	return rc;
}

int db_change(struct db *db, const char *sql, const char *const *keys,
    const char *what)
{
	struct db_conn *c;
	sqlite3_stmt *st;
	int rc;

	if ((c = db_conn_get(db)) == NULL)
		return DB_ERROR;
	if ((rc = db_stmt(c, sql, &st)) == DB_OK) {
		bind_keys(st, keys);
		if ((rc = db_step_done(c, st, what)) == DB_OK && db_changes(c) == 0)
			rc = DB_NOTFOUND;
	}
	db_conn_put(db, c);
	return rc;
}

int db_fetch_list(struct db *db, const char *sql, const char *const *keys,
    const struct db_col *cols, size_t ncols, size_t elem, void **out,
    size_t *n, const char *what)
{
	struct db_conn *c;
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	*n = 0;
	if ((c = db_conn_get(db)) == NULL)
		return DB_ERROR;
	if ((rc = db_stmt(c, sql, &st)) == DB_OK) {
		bind_keys(st, keys);
		rc = db_query_list(c, st, cols, ncols, elem, out, n, what);
	}
	db_conn_put(db, c);
	return rc;
}

struct db *db_open_service(const char *path)
{
	struct db *db;
	int rc;

	if ((rc = db_open(path, &db)) != DB_OK)
		fatalx("cannot open database %s: %s", path, db_strerror(rc));
	if ((rc = db_check_schema(db)) == DB_SCHEMA)
		fatalx("database %s does not have this program's schema: run "
		    "'kumo-manage db sync' first", path);
	if (rc != DB_OK)
		fatalx("database %s: %s", path, db_strerror(rc));
	return db;
}
