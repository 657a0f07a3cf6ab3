/*
 * db/ private: what the table-family files share with core.c. Nothing
 * outside db/ includes this (nor sqlite3.h).
 *
 *   conn      borrow one pooled connection per public call
 *   stmt      prepared statements, cached per connection, keyed by the
 *             address of their static SQL text
 *   txn       BEGIN [IMMEDIATE] / COMMIT / ROLLBACK
 *   status    SQLite result codes -> enum db_status, logged once here
 *   rows      column tables that bind a struct and read a row into one
 *   identity  the write transaction of identity.c and identity_catalog.c
 */
#ifndef KUMO_DB_INTERNAL_H
#define KUMO_DB_INTERNAL_H

#include <sqlite3.h>

#include "db/db.h"

struct db_conn;

/* Borrows a connection (opening one, or waiting for one, as needed);
 * NULL when SQLite cannot open the file (logged). Return it with put. */
struct db_conn *db_conn_get(struct db *db);
void db_conn_put(struct db *db, struct db_conn *c);

/* The cached statement for this static SQL text, reset and unbound. */
int db_stmt(struct db_conn *c, const char *sql, sqlite3_stmt **out);
/* A statement of text built at run time, from static fragments only
 * (never values: they are bound), prepared for one use and not cached:
 * the caller finalizes it. */
int db_stmt_once(struct db_conn *c, const char *sql, sqlite3_stmt **out);
/* Steps a statement that returns no rows, then resets it. */
int db_step_done(struct db_conn *c, sqlite3_stmt *st, const char *what);
int db_changes(struct db_conn *c);
/* Rows changed by every statement on c since it was opened. */
int db_total_changes(struct db_conn *c);

/* Maps a SQLite result code, logging what is not an expected outcome:
 * UNIQUE/PRIMARY KEY -> DB_CONFLICT, FOREIGN KEY -> DB_NOTFOUND,
 * anything else -> DB_ERROR (logged with log_warnx). */
int db_status_of(struct db_conn *c, int rc, const char *what);

/* BEGIN IMMEDIATE takes the write lock at once: use it for every
 * transaction that reads and then writes what it read. */
int db_begin(struct db_conn *c, bool immediate);
/* db_instance_set_state on a connection (in the caller's transaction). */
int db_instance_set_state_locked(struct db_conn *c, const char *uuid,
    const char *vm_state, const char *task_state, int power_state,
    const char *host, const char *node, const char *expect_task);
int db_commit(struct db_conn *c);
/* networks.c: instance_extra and instance_metadata rows of a create. */
int db_instance_extra_insert_locked(struct db_conn *c, const char *uuid,
    const struct db_instance_extra *x);
void db_rollback(struct db_conn *c);
/* Runs static SQL text (a schema script); never values. */
int db_exec_script(struct db_conn *c, const char *sql);

/* "" and NULL bind as SQL NULL (the structs' "none"). */
int db_bind_text(sqlite3_stmt *st, int idx, const char *s);
/* A string argument must fit the struct field it is read back into. */
int db_check_len(const char *s, size_t size, const char *what);

enum db_col_type { DB_COL_TEXT, DB_COL_INT, DB_COL_I64, DB_COL_DOUBLE, DB_COL_BOOL };

struct db_col {
	const char *name;
	enum db_col_type type;
	size_t off;
	size_t size;
};

#define DB_COL(type, field, coltype) \
	{ #field, coltype, offsetof(type, field), sizeof(((type *)0)->field) }

/* Binds n columns of the struct at in to parameters first, first+1, ...
 * DB_ERROR (logged) for an unterminated string. */
int db_row_bind(sqlite3_stmt *st, int first, const struct db_col *cols,
    size_t n, const void *in);
/* Reads result columns 0..n-1 into the struct at out; NULL text reads as
 * "". DB_ERROR (logged) when a value does not fit. */
int db_row_read(sqlite3_stmt *st, const struct db_col *cols, size_t n,
    void *out);

/* Steps st for one row read into out: DB_NOTFOUND when there is none. */
int db_query_one(struct db_conn *c, sqlite3_stmt *st, const struct db_col *cols,
    size_t ncols, void *out, const char *what);
/* Steps st for one row and reads its first column: DB_NOTFOUND if none. */
int db_query_i64(struct db_conn *c, sqlite3_stmt *st, int64_t *out,
    const char *what);
/* Steps st to the end, reading every row into a malloc'ed array. */
int db_query_list(struct db_conn *c, sqlite3_stmt *st, const struct db_col *cols,
    size_t ncols, size_t elem, void **out, size_t *n, const char *what);

#define DB_NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* One statement on a borrowed connection, its text parameters bound in
 * order from keys (a NULL-terminated array, or NULL for none). */
#define DB_KEYS(...) ((const char *const[]){ __VA_ARGS__, NULL })
/* Steps sql (an UPDATE, INSERT or DELETE) with keys bound as db_fetch_one
 * binds them: DB_NOTFOUND when it changed no row. */
int db_change(struct db *db, const char *sql, const char *const *keys,
    const char *what);
int db_fetch_one(struct db *db, const char *sql, const char *const *keys,
    const struct db_col *cols, size_t ncols, void *out, const char *what);
int db_fetch_list(struct db *db, const char *sql, const char *const *keys,
    const struct db_col *cols, size_t ncols, size_t elem, void **out,
    size_t *n, const char *what);

/* ---- identity.c: what identity_catalog.c shares with it ---- */
/* Runs fn(c, arg) in one BEGIN IMMEDIATE transaction on a borrowed
 * connection and commits what it did; when fn returned DB_OK having
 * changed a row, identity_generation is bumped in the same transaction.
 * Any other outcome rolls it back. */
int db_identity_write(struct db *db, int (*fn)(struct db_conn *, void *),
    void *arg);
/* One object's insert: sql takes the ncols columns of obj as its
 * parameters 1..ncols; check, when not NULL, first looks up the references
 * of obj that are no foreign keys (DB_NOTFOUND). */
struct db_identity_insert {
	const char *sql;
	const struct db_col *cols;
	size_t ncols;
	const char *what;
	int (*check)(struct db_conn *c, const void *obj);
	const void *obj;
};
/* Runs ins as one identity write. id is the object's own id field, or
 * NULL when the caller must give it: an empty one is given a new id first,
 * emptied again when the insert fails. */
int db_identity_create(struct db *db, const struct db_identity_insert *ins,
    char *id);
/* Steps sql, its text parameters bound from keys (see DB_KEYS), as one
 * identity write: DB_NOTFOUND when it changed no row (an update or delete
 * of what is not there). */
int db_identity_change(struct db *db, const char *sql, const char *const *keys,
    const char *what);
/* DB_OK when sql, given key as its one parameter, finds a row, else
 * DB_NOTFOUND (a reference that is no foreign key). */
int db_identity_exists(struct db_conn *c, const char *sql, const char *key);
/* A new id into an empty one (32 lower-case hex); true when it did. */
bool db_identity_new_id(char id[DB_ID]);

#endif
