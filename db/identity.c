/*
 * Keystone's objects: domains, projects, users, roles, implied roles and
 * role assignments (the catalog, revocations and application credentials
 * are in identity_catalog.c). Every write is one BEGIN IMMEDIATE
 * transaction that also bumps identity_generation when it changed a row,
 * so a cache of these rows is valid while the generation stays the same.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/common.h"
#include "db/db_internal.h"

/* ---- the write transaction and shared helpers ---------------------------- */

static const char bump_sql[] =
    "UPDATE identity_generation SET value = value + 1";
static const char generation_sql[] = "SELECT value FROM identity_generation";

int db_identity_write(struct db *db, int (*fn)(struct db_conn *, void *),
    void *arg)
{
	struct db_conn *c;
	sqlite3_stmt *st;
	int before, rc;

	if ((c = db_conn_get(db)) == NULL)
		return DB_ERROR;
	if ((rc = db_begin(c, true)) != DB_OK)
		goto out;
	before = db_total_changes(c);
	if ((rc = fn(c, arg)) != DB_OK)
		goto fail;
	if (db_total_changes(c) != before &&
	    ((rc = db_stmt(c, bump_sql, &st)) != DB_OK ||
	    (rc = db_step_done(c, st, "identity generation")) != DB_OK))
		goto fail;
	rc = db_commit(c);
	goto out;
fail:
	db_rollback(c);
out:
	db_conn_put(db, c);
	return rc;
}

static int insert_row(struct db_conn *c, const char *sql,
    const struct db_col *cols, size_t n, const void *obj, const char *what)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_stmt(c, sql, &st)) != DB_OK ||
	    (rc = db_row_bind(st, 1, cols, n, obj)) != DB_OK)
		return rc;
	return db_step_done(c, st, what);
}

int db_identity_exists(struct db_conn *c, const char *sql, const char *key)
{
	sqlite3_stmt *st;
	int64_t one;
	int rc;

	if ((rc = db_stmt(c, sql, &st)) != DB_OK)
		return rc;
	db_bind_text(st, 1, key);
	return db_query_i64(c, st, &one, "identity reference");
}

bool db_identity_new_id(char id[DB_ID])
{
	if (id[0] != '\0')
		return false;
	uuid_new_hex(id);
	return true;
}

int db_identity_generation(struct db *db, int64_t *out)
{
	struct db_conn *c;
	sqlite3_stmt *st;
	int rc;

	if ((c = db_conn_get(db)) == NULL)
		return DB_ERROR;
	if ((rc = db_stmt(c, generation_sql, &st)) == DB_OK)
		rc = db_query_i64(c, st, out, "identity generation");
	db_conn_put(db, c);
	return rc;
}

static int insert_fn(struct db_conn *c, void *arg)
{
	const struct db_identity_insert *ins = arg;
	int rc;

	if (ins->check != NULL && (rc = ins->check(c, ins->obj)) != DB_OK)
		return rc;
	return insert_row(c, ins->sql, ins->cols, ins->ncols, ins->obj, ins->what);
}

int db_identity_create(struct db *db, const struct db_identity_insert *ins,
    char *id)
{
	bool fresh = id != NULL && db_identity_new_id(id);
	int rc = db_identity_write(db, insert_fn, (void *)ins);

	if (rc != DB_OK && fresh)
		id[0] = '\0';
	return rc;
}

struct change {
	const char *sql;
	const char *const *keys;
	const char *what;
};

static int change_fn(struct db_conn *c, void *arg)
{
	const struct change *ch = arg;
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_stmt(c, ch->sql, &st)) != DB_OK)
		return rc;
	for (int i = 0; ch->keys[i] != NULL; i++)
		db_bind_text(st, i + 1, ch->keys[i]);
	if ((rc = db_step_done(c, st, ch->what)) == DB_OK && db_changes(c) == 0)
		rc = DB_NOTFOUND;
	return rc;
}

int db_identity_change(struct db *db, const char *sql, const char *const *keys,
    const char *what)
{
	struct change ch = { sql, keys, what };

	return db_identity_write(db, change_fn, &ch);
}

static const char project_exists_sql[] = "SELECT 1 FROM projects WHERE id = ?";
static const char domain_exists_sql[] = "SELECT 1 FROM domains WHERE id = ?";

/* ---- domains ------------------------------------------------------------- */

#define D(field, type) DB_COL(struct db_domain, field, type)
static const struct db_col domain_cols[] = {
	D(id, DB_COL_TEXT),
	D(name, DB_COL_TEXT),
	D(description, DB_COL_TEXT),
	D(enabled, DB_COL_BOOL),
};
#undef D

#define DOMAIN_SELECT "SELECT id, name, description, enabled FROM domains"
static const char domain_insert_sql[] =
    "INSERT INTO domains (id, name, description, enabled) VALUES (?, ?, ?, ?)";
static const char domain_get_sql[] = DOMAIN_SELECT " WHERE id = ?";
static const char domain_by_name_sql[] = DOMAIN_SELECT " WHERE name = ?";
static const char domain_list_sql[] = DOMAIN_SELECT " ORDER BY name";

int db_domain_create(struct db *db, struct db_domain *d)
{
	struct db_identity_insert ins = { domain_insert_sql, domain_cols,
	    DB_NELEM(domain_cols), "domain create", NULL, d };

	return db_identity_create(db, &ins, d->id);
}

int db_domain_get(struct db *db, const char *id, struct db_domain *out)
{
	return db_fetch_one(db, domain_get_sql, DB_KEYS(id), domain_cols,
	    DB_NELEM(domain_cols), out, "domain get");
}

int db_domain_get_by_name(struct db *db, const char *name, struct db_domain *out)
{
	return db_fetch_one(db, domain_by_name_sql, DB_KEYS(name), domain_cols,
	    DB_NELEM(domain_cols), out, "domain get");
}

int db_domain_list(struct db *db, struct db_domain **out, size_t *n)
{
	void *arr = NULL;
	int rc = db_fetch_list(db, domain_list_sql, NULL, domain_cols,
	    DB_NELEM(domain_cols), sizeof **out, &arr, n, "domain list");

	*out = arr;
	return rc;
}

/* ---- projects ------------------------------------------------------------ */

#define P(field, type) DB_COL(struct db_project, field, type)
static const struct db_col project_cols[] = {
	P(id, DB_COL_TEXT),
	P(name, DB_COL_TEXT),
	P(domain_id, DB_COL_TEXT),
	P(description, DB_COL_TEXT),
	P(enabled, DB_COL_BOOL),
	P(created_at, DB_COL_TEXT),
};
#undef P

#define PROJECT_SELECT \
	"SELECT id, name, domain_id, description, enabled, created_at" \
	" FROM projects"
static const char project_insert_sql[] =
    "INSERT INTO projects (id, name, domain_id, description, enabled,"
    " created_at) VALUES (?, ?, ?, ?, ?, ?)";
static const char project_get_sql[] = PROJECT_SELECT " WHERE id = ?";
static const char project_by_name_sql[] =
    PROJECT_SELECT " WHERE domain_id = ? AND name = ?";
static const char project_list_sql[] =
    PROJECT_SELECT " WHERE ?1 IS NULL OR domain_id = ?1 ORDER BY name, id";
static const char project_update_sql[] =
    "UPDATE projects SET name = ?, description = ?, enabled = ? WHERE id = ?";
static const char project_delete_sql[] = "DELETE FROM projects WHERE id = ?";
static const char project_unassign_sql[] =
    "DELETE FROM role_assignments WHERE scope = 'project' AND target_id = ?";
static const char user_projects_sql[] = PROJECT_SELECT
    " WHERE id IN (SELECT target_id FROM role_assignments"
    "  WHERE actor_id = ? AND scope = 'project')"
    " ORDER BY name, id";

int db_project_create(struct db *db, struct db_project *p)
{
	struct db_identity_insert ins = { project_insert_sql, project_cols,
	    DB_NELEM(project_cols), "project create", NULL, p };
	bool stamped = p->created_at[0] == '\0';
	int rc;

	if (stamped)
		time_iso8601(p->created_at);
	if ((rc = db_identity_create(db, &ins, p->id)) != DB_OK && stamped)
		p->created_at[0] = '\0';
	return rc;
}

int db_project_get(struct db *db, const char *id, struct db_project *out)
{
	return db_fetch_one(db, project_get_sql, DB_KEYS(id), project_cols,
	    DB_NELEM(project_cols), out, "project get");
}

int db_project_get_by_name(struct db *db, const char *domain_id,
    const char *name, struct db_project *out)
{
	return db_fetch_one(db, project_by_name_sql, DB_KEYS(domain_id, name),
	    project_cols, DB_NELEM(project_cols), out, "project get");
}

static int project_list(struct db *db, const char *sql, const char *key,
    struct db_project **out, size_t *n)
{
	void *arr = NULL;
	int rc = db_fetch_list(db, sql, DB_KEYS(key), project_cols,
	    DB_NELEM(project_cols), sizeof **out, &arr, n, "project list");

	*out = arr;
	return rc;
}

int db_project_list(struct db *db, const char *domain_id,
    struct db_project **out, size_t *n)
{
	return project_list(db, project_list_sql, domain_id, out, n);
}

int db_user_projects(struct db *db, const char *user_id,
    struct db_project **out, size_t *n)
{
	return project_list(db, user_projects_sql, user_id, out, n);
}

static int project_update_fn(struct db_conn *c, void *arg)
{
	const struct db_project *p = arg;
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_stmt(c, project_update_sql, &st)) != DB_OK ||
	    (rc = db_row_bind(st, 1, &project_cols[1], 1, p)) != DB_OK ||
	    (rc = db_row_bind(st, 2, &project_cols[3], 2, p)) != DB_OK)
		return rc;
	db_bind_text(st, 4, p->id);
	if ((rc = db_step_done(c, st, "project update")) == DB_OK &&
	    db_changes(c) == 0)
		rc = DB_NOTFOUND;
	return rc;
}

int db_project_update(struct db *db, const struct db_project *p)
{
	return db_identity_write(db, project_update_fn, (void *)p);
}

/* The assignments on a project name it in target_id, no foreign key. */
static int project_delete_fn(struct db_conn *c, void *arg)
{
	const char *id = arg;
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_stmt(c, project_delete_sql, &st)) != DB_OK)
		return rc;
	db_bind_text(st, 1, id);
	if ((rc = db_step_done(c, st, "project delete")) != DB_OK)
		return rc;
	if (db_changes(c) == 0)
		return DB_NOTFOUND;
	if ((rc = db_stmt(c, project_unassign_sql, &st)) != DB_OK)
		return rc;
	db_bind_text(st, 1, id);
	return db_step_done(c, st, "project delete");
}

int db_project_delete(struct db *db, const char *id)
{
	return db_identity_write(db, project_delete_fn, (void *)id);
}

/* ---- users --------------------------------------------------------------- */

#define U(field, type) DB_COL(struct db_user, field, type)
/* The update binds name .. default_project_id. */
static const struct db_col user_cols[] = {
	U(id, DB_COL_TEXT),
	U(domain_id, DB_COL_TEXT),
	U(created_at, DB_COL_TEXT),
	U(name, DB_COL_TEXT),
	U(password_hash, DB_COL_TEXT),
	U(enabled, DB_COL_BOOL),
	U(default_project_id, DB_COL_TEXT),
	U(password_changed_at, DB_COL_I64),
};
#undef U
#define USER_UPDATE_FIRST 3
#define USER_UPDATE_COUNT 4

#define USER_SELECT \
	"SELECT id, domain_id, created_at, name, password_hash, enabled," \
	" default_project_id, password_changed_at FROM users"
static const char user_insert_sql[] =
    "INSERT INTO users (id, domain_id, created_at, name, password_hash,"
    " enabled, default_project_id, password_changed_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
static const char user_get_sql[] = USER_SELECT " WHERE id = ?";
static const char user_by_name_sql[] =
    USER_SELECT " WHERE domain_id = ? AND name = ?";
static const char user_list_sql[] =
    USER_SELECT " WHERE ?1 IS NULL OR domain_id = ?1 ORDER BY name, id";
static const char user_update_sql[] =
    "UPDATE users SET name = ?, password_hash = ?, enabled = ?,"
    " default_project_id = ?, password_changed_at = ? WHERE id = ?";
static const char user_delete_sql[] = "DELETE FROM users WHERE id = ?";

/* default_project_id is no foreign key (Keystone keeps it when the
 * project goes): it must name a project when it is set or changed. */
static int user_check(struct db_conn *c, const void *obj)
{
	const struct db_user *u = obj;

	if (u->default_project_id[0] == '\0')
		return DB_OK;
	return db_identity_exists(c, project_exists_sql, u->default_project_id);
}

int db_user_create(struct db *db, struct db_user *u)
{
	struct db_user row = *u;
	struct db_identity_insert ins = { user_insert_sql, user_cols,
	    DB_NELEM(user_cols), "user create", user_check, &row };
	int rc;

	if (row.created_at[0] == '\0')
		time_iso8601(row.created_at);
	if (row.password_hash[0] != '\0' && row.password_changed_at == 0)
		row.password_changed_at = (int64_t)time(NULL);
	if ((rc = db_identity_create(db, &ins, row.id)) == DB_OK)
		*u = row;
	return rc;
}

int db_user_get(struct db *db, const char *id, struct db_user *out)
{
	return db_fetch_one(db, user_get_sql, DB_KEYS(id), user_cols,
	    DB_NELEM(user_cols), out, "user get");
}

int db_user_get_by_name(struct db *db, const char *domain_id,
    const char *name, struct db_user *out)
{
	return db_fetch_one(db, user_by_name_sql, DB_KEYS(domain_id, name),
	    user_cols, DB_NELEM(user_cols), out, "user get");
}

int db_user_list(struct db *db, const char *domain_id,
    struct db_user **out, size_t *n)
{
	void *arr = NULL;
	int rc = db_fetch_list(db, user_list_sql, DB_KEYS(domain_id), user_cols,
	    DB_NELEM(user_cols), sizeof **out, &arr, n, "user list");

	*out = arr;
	return rc;
}

static int user_update_fn(struct db_conn *c, void *arg)
{
	const struct db_user *u = arg;
	struct db_user old;
	sqlite3_stmt *st;
	int64_t changed_at;
	int rc;

	if ((rc = db_stmt(c, user_get_sql, &st)) != DB_OK)
		return rc;
	db_bind_text(st, 1, u->id);
	if ((rc = db_query_one(c, st, user_cols, DB_NELEM(user_cols), &old,
	    "user update")) != DB_OK)
		return rc;
	if (strcmp(old.default_project_id, u->default_project_id) != 0 &&
	    (rc = user_check(c, u)) != DB_OK)
		return rc;
	changed_at = old.password_changed_at;
	if (strcmp(old.password_hash, u->password_hash) != 0)
		changed_at = (int64_t)time(NULL);

	if ((rc = db_stmt(c, user_update_sql, &st)) != DB_OK ||
	    (rc = db_row_bind(st, 1, &user_cols[USER_UPDATE_FIRST],
	    USER_UPDATE_COUNT, u)) != DB_OK)
		return rc;
	sqlite3_bind_int64(st, USER_UPDATE_COUNT + 1, changed_at);
	db_bind_text(st, USER_UPDATE_COUNT + 2, u->id);
	return db_step_done(c, st, "user update");
}

int db_user_update(struct db *db, const struct db_user *u)
{
	/* The update compares these before it binds them. */
	if (db_check_len(u->password_hash, sizeof u->password_hash,
	    "password_hash") != DB_OK ||
	    db_check_len(u->default_project_id, sizeof u->default_project_id,
	    "default_project_id") != DB_OK)
		return DB_ERROR;
	return db_identity_write(db, user_update_fn, (void *)u);
}

/* Their assignments and application credentials go by ON DELETE CASCADE. */
int db_user_delete(struct db *db, const char *id)
{
	return db_identity_change(db, user_delete_sql, DB_KEYS(id), "user delete");
}

/* ---- roles --------------------------------------------------------------- */

#define R(field, type) DB_COL(struct db_role, field, type)
static const struct db_col role_cols[] = {
	R(id, DB_COL_TEXT),
	R(name, DB_COL_TEXT),
	R(description, DB_COL_TEXT),
	R(immutable, DB_COL_BOOL),
};
#undef R

#define ROLE_SELECT "SELECT id, name, description, immutable FROM roles"
static const char role_insert_sql[] =
    "INSERT INTO roles (id, name, description, immutable) VALUES (?, ?, ?, ?)";
static const char role_get_sql[] = ROLE_SELECT " WHERE id = ?";
static const char role_by_name_sql[] = ROLE_SELECT " WHERE name = ?";
static const char role_list_sql[] = ROLE_SELECT " ORDER BY name";
/* Its assignments and implications go by ON DELETE CASCADE. */
static const char role_delete_sql[] = "DELETE FROM roles WHERE id = ?";
static const char role_imply_sql[] =
    "INSERT INTO implied_roles (prior_role_id, implied_role_id) VALUES (?, ?)"
    " ON CONFLICT DO NOTHING";

int db_role_create(struct db *db, struct db_role *r)
{
	struct db_identity_insert ins = { role_insert_sql, role_cols,
	    DB_NELEM(role_cols), "role create", NULL, r };

	return db_identity_create(db, &ins, r->id);
}

int db_role_get(struct db *db, const char *id, struct db_role *out)
{
	return db_fetch_one(db, role_get_sql, DB_KEYS(id), role_cols,
	    DB_NELEM(role_cols), out, "role get");
}

int db_role_get_by_name(struct db *db, const char *name, struct db_role *out)
{
	return db_fetch_one(db, role_by_name_sql, DB_KEYS(name), role_cols,
	    DB_NELEM(role_cols), out, "role get");
}

int db_role_list(struct db *db, struct db_role **out, size_t *n)
{
	void *arr = NULL;
	int rc = db_fetch_list(db, role_list_sql, NULL, role_cols,
	    DB_NELEM(role_cols), sizeof **out, &arr, n, "role list");

	*out = arr;
	return rc;
}

int db_role_delete(struct db *db, const char *id)
{
	return db_identity_change(db, role_delete_sql, DB_KEYS(id), "role delete");
}

/* An implication already there changes no row: DB_OK, no new generation.
 * A cycle may be stored; the closure in db_effective_roles ends anyway. */
static int role_imply_fn(struct db_conn *c, void *arg)
{
	const char *const *ids = arg;
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_stmt(c, role_imply_sql, &st)) != DB_OK)
		return rc;
	db_bind_text(st, 1, ids[0]);
	db_bind_text(st, 2, ids[1]);
	return db_step_done(c, st, "role imply");
}

int db_role_imply(struct db *db, const char *prior_id, const char *implied_id)
{
	const char *ids[] = { prior_id, implied_id };

	return db_identity_write(db, role_imply_fn, ids);
}

/* ---- role assignments ---------------------------------------------------- */

/* How a scope is stored, and the table its target must be in ("all" for
 * the system). */
static const struct {
	const char *name;
	const char *target_sql;
} scopes[] = {
	[DB_SCOPE_PROJECT] = { "project", project_exists_sql },
	[DB_SCOPE_DOMAIN] = { "domain", domain_exists_sql },
	[DB_SCOPE_SYSTEM] = { "system", NULL },
};

static const char *scope_name(enum db_assign_scope scope)
{
	if ((unsigned)scope >= DB_NELEM(scopes)) {
		log_warnx("db: assignment scope %d unknown", (int)scope);
		return NULL;
	}
	return scopes[scope].name;
}

/* A row as stored: the scope as text. */
struct assign_row {
	char user_id[DB_ID];
	char scope[16];
	char target_id[DB_ID];
	char role_id[DB_ID];
};

#define A(field, type) DB_COL(struct assign_row, field, type)
static const struct db_col assign_cols[] = {
	A(user_id, DB_COL_TEXT),
	A(scope, DB_COL_TEXT),
	A(target_id, DB_COL_TEXT),
	A(role_id, DB_COL_TEXT),
};
#undef A

static const char assign_add_sql[] =
    "INSERT INTO role_assignments (actor_id, scope, target_id, role_id)"
    " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING";
static const char assign_remove_sql[] =
    "DELETE FROM role_assignments"
    " WHERE actor_id = ? AND scope = ? AND target_id = ? AND role_id = ?";
static const char assign_list_sql[] =
    "SELECT actor_id, scope, target_id, role_id FROM role_assignments"
    " WHERE (?1 IS NULL OR actor_id = ?1)"
    " AND (?2 IS NULL OR (scope = 'project' AND target_id = ?2))"
    " AND (?3 IS NULL OR (scope = 'domain' AND target_id = ?3))"
    " AND (?4 IS NULL OR role_id = ?4)"
    " ORDER BY actor_id, scope, target_id, role_id";
/* UNION (not UNION ALL) keeps each role once, which also ends a cycle. */
static const char effective_sql[] =
    "WITH RECURSIVE eff (role_id) AS ("
    " SELECT role_id FROM role_assignments"
    "  WHERE actor_id = ? AND scope = ? AND target_id = ?"
    " UNION"
    " SELECT i.implied_role_id FROM implied_roles i"
    "  JOIN eff ON i.prior_role_id = eff.role_id)"
    " SELECT r.id, r.name, r.description, r.immutable"
    " FROM roles r JOIN eff ON r.id = eff.role_id ORDER BY r.name";

static int assign_row_of(const struct db_assignment *a, struct assign_row *row)
{
	const char *scope = scope_name(a->scope);

	if (scope == NULL ||
	    str_copy(row->user_id, a->user_id, sizeof row->user_id) < 0 ||
	    str_copy(row->scope, scope, sizeof row->scope) < 0 ||
	    str_copy(row->target_id, a->target_id, sizeof row->target_id) < 0 ||
	    str_copy(row->role_id, a->role_id, sizeof row->role_id) < 0) {
		log_warnx("db: assignment: a value does not fit");
		return DB_ERROR;
	}
	return DB_OK;
}

/* The user and the role are foreign keys; the target is checked here. */
static int assign_add_fn(struct db_conn *c, void *arg)
{
	const struct db_assignment *a = arg;
	struct assign_row row;
	int rc;

	if ((rc = assign_row_of(a, &row)) != DB_OK)
		return rc;
	if (scopes[a->scope].target_sql != NULL)
		rc = db_identity_exists(c, scopes[a->scope].target_sql, row.target_id);
	else if (strcmp(row.target_id, "all") != 0)
		rc = DB_NOTFOUND;
	if (rc != DB_OK)
		return rc;
	return insert_row(c, assign_add_sql, assign_cols,
	    DB_NELEM(assign_cols), &row, "assignment add");
}

int db_assignment_add(struct db *db, const struct db_assignment *a)
{
	return db_identity_write(db, assign_add_fn, (void *)a);
}

int db_assignment_remove(struct db *db, const struct db_assignment *a)
{
	struct assign_row row;
	int rc;

	if ((rc = assign_row_of(a, &row)) != DB_OK)
		return rc;
	return db_identity_change(db, assign_remove_sql,
	    DB_KEYS(row.user_id, row.scope, row.target_id, row.role_id),
	    "assignment remove");
}

static int assign_from_rows(const struct assign_row *rows, size_t n,
    struct db_assignment **out)
{
	struct db_assignment *arr;

	*out = NULL;
	if (n == 0)
		return DB_OK;
	if ((arr = calloc(n, sizeof *arr)) == NULL) {
		log_warnx("db: assignment list: out of memory");
		return DB_ERROR;
	}
	for (size_t i = 0; i < n; i++) {
		size_t s = 0;

		while (s < DB_NELEM(scopes) && strcmp(scopes[s].name, rows[i].scope))
			s++;
		if (s == DB_NELEM(scopes)) {
			log_warnx("db: assignment scope '%s' unknown", rows[i].scope);
			free(arr);
			return DB_ERROR;
		}
		arr[i].scope = (enum db_assign_scope)s;
		memcpy(arr[i].user_id, rows[i].user_id, sizeof arr[i].user_id);
		memcpy(arr[i].target_id, rows[i].target_id, sizeof arr[i].target_id);
		memcpy(arr[i].role_id, rows[i].role_id, sizeof arr[i].role_id);
	}
	*out = arr;
	return DB_OK;
}

int db_assignment_list(struct db *db, const struct db_assignment_filter *f,
    struct db_assignment **out, size_t *n)
{
	static const struct db_assignment_filter all;
	struct db_conn *c;
	sqlite3_stmt *st;
	void *rows = NULL;
	int rc;

	*out = NULL;
	*n = 0;
	f = f ? f : &all;
	if ((c = db_conn_get(db)) == NULL)
		return DB_ERROR;
	if ((rc = db_stmt(c, assign_list_sql, &st)) == DB_OK) {
		db_bind_text(st, 1, f->user_id);
		db_bind_text(st, 2, f->project_id);
		db_bind_text(st, 3, f->domain_id);
		db_bind_text(st, 4, f->role_id);
		rc = db_query_list(c, st, assign_cols, DB_NELEM(assign_cols),
		    sizeof(struct assign_row), &rows, n, "assignment list");
	}
	db_conn_put(db, c);
	if (rc == DB_OK && (rc = assign_from_rows(rows, *n, out)) != DB_OK)
		*n = 0;
	free(rows);
	return rc;
}

int db_effective_roles(struct db *db, const char *user_id,
    enum db_assign_scope scope, const char *target_id,
    struct db_role **out, size_t *n)
{
	const char *name = scope_name(scope);
	void *arr = NULL;
	int rc;

	*out = NULL;
	*n = 0;
	if (name == NULL)
		return DB_ERROR;
	rc = db_fetch_list(db, effective_sql, DB_KEYS(user_id, name, target_id),
	    role_cols, DB_NELEM(role_cols), sizeof **out, &arr, n,
	    "effective roles");
	*out = arr;
	return rc;
}
