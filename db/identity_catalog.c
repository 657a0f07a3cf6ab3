/*
 * The rest of Keystone's objects: the catalog (regions, services,
 * endpoints), token revocation events and application credentials. Each
 * write is one identity write (db_identity_write in identity.c).
 */
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "db/db_internal.h"

/* ---- regions, services, endpoints ---------------------------------------- */

#define G(field, type) DB_COL(struct db_region, field, type)
static const struct db_col region_cols[] = {
	G(id, DB_COL_TEXT),
	G(description, DB_COL_TEXT),
};
#undef G

#define S(field, type) DB_COL(struct db_service_entry, field, type)
static const struct db_col service_cols[] = {
	S(id, DB_COL_TEXT),
	S(type, DB_COL_TEXT),
	S(name, DB_COL_TEXT),
	S(description, DB_COL_TEXT),
	S(enabled, DB_COL_BOOL),
};
#undef S

#define E(field, type) DB_COL(struct db_endpoint, field, type)
static const struct db_col endpoint_cols[] = {
	E(id, DB_COL_TEXT),
	E(service_id, DB_COL_TEXT),
	E(interface, DB_COL_TEXT),
	E(region_id, DB_COL_TEXT),
	E(url, DB_COL_TEXT),
	E(enabled, DB_COL_BOOL),
};
#undef E

static const char region_insert_sql[] =
    "INSERT INTO regions (id, description) VALUES (?, ?)";
static const char region_list_sql[] =
    "SELECT id, description FROM regions ORDER BY id";

#define SERVICE_SELECT \
	"SELECT id, type, name, description, enabled FROM catalog_services"
static const char service_insert_sql[] =
    "INSERT INTO catalog_services (id, type, name, description, enabled)"
    " VALUES (?, ?, ?, ?, ?)";
static const char service_get_sql[] = SERVICE_SELECT " WHERE id = ?";
static const char service_list_sql[] = SERVICE_SELECT " ORDER BY type, name, id";

/* service_id and region_id are foreign keys: a missing one is DB_NOTFOUND. */
#define ENDPOINT_SELECT \
	"SELECT id, service_id, interface, region_id, url, enabled FROM endpoints"
static const char endpoint_insert_sql[] =
    "INSERT INTO endpoints (id, service_id, interface, region_id, url, enabled)"
    " VALUES (?, ?, ?, ?, ?, ?)";
static const char endpoint_list_sql[] = ENDPOINT_SELECT
    " WHERE ?1 IS NULL OR service_id = ?1 ORDER BY service_id, interface, id";

int db_region_create(struct db *db, const struct db_region *r)
{
	struct db_identity_insert ins = { region_insert_sql, region_cols,
	    DB_NELEM(region_cols), "region create", NULL, r };

	if (r->id[0] == '\0') {
		log_warnx("db: region create: no id");
		return DB_ERROR;
	}
	return db_identity_create(db, &ins, NULL);
}

int db_region_list(struct db *db, struct db_region **out, size_t *n)
{
	void *arr = NULL;
	int rc = db_fetch_list(db, region_list_sql, NULL, region_cols,
	    DB_NELEM(region_cols), sizeof **out, &arr, n, "region list");

	*out = arr;
	return rc;
}

int db_catalog_service_create(struct db *db, struct db_service_entry *s)
{
	struct db_identity_insert ins = { service_insert_sql, service_cols,
	    DB_NELEM(service_cols), "catalog service create", NULL, s };

	return db_identity_create(db, &ins, s->id);
}

int db_catalog_service_get(struct db *db, const char *id,
    struct db_service_entry *out)
{
	return db_fetch_one(db, service_get_sql, DB_KEYS(id), service_cols,
	    DB_NELEM(service_cols), out, "catalog service get");
}

int db_catalog_service_list(struct db *db, struct db_service_entry **out,
    size_t *n)
{
	void *arr = NULL;
	int rc = db_fetch_list(db, service_list_sql, NULL, service_cols,
	    DB_NELEM(service_cols), sizeof **out, &arr, n, "catalog service list");

	*out = arr;
	return rc;
}

int db_endpoint_create(struct db *db, struct db_endpoint *e)
{
	struct db_identity_insert ins = { endpoint_insert_sql, endpoint_cols,
	    DB_NELEM(endpoint_cols), "endpoint create", NULL, e };

	return db_identity_create(db, &ins, e->id);
}

int db_endpoint_list(struct db *db, const char *service_id,
    struct db_endpoint **out, size_t *n)
{
	void *arr = NULL;
	int rc = db_fetch_list(db, endpoint_list_sql, DB_KEYS(service_id), endpoint_cols,
	    DB_NELEM(endpoint_cols), sizeof **out, &arr, n, "endpoint list");

	*out = arr;
	return rc;
}

/* ---- revocations --------------------------------------------------------- */

/* An audit event lives until the token it names expires. A user event
 * has no expiry of its own (the tokens it covers were issued at any time
 * before it): the newest one of a user covers every older one, so each
 * user keeps one, and prune leaves them. */
static const char revoke_audit_sql[] =
    "INSERT INTO revocation_events (audit_id, expires_at) VALUES (?, ?)";
static const char revoke_user_drop_sql[] =
    "DELETE FROM revocation_events"
    " WHERE user_id = ?1 AND audit_id IS NULL AND issued_before <= ?2";
static const char revoke_user_sql[] =
    "INSERT INTO revocation_events (user_id, issued_before)"
    " SELECT ?1, ?2 WHERE NOT EXISTS (SELECT 1 FROM revocation_events"
    "  WHERE user_id = ?1 AND audit_id IS NULL AND issued_before >= ?2)";
static const char revoked_user_sql[] =
    "SELECT 1 FROM revocation_events"
    " WHERE user_id = ? AND audit_id IS NULL AND issued_before >= ? LIMIT 1";
static const char revoked_audit_sql[] =
    "SELECT 1 FROM revocation_events WHERE audit_id = ? LIMIT 1";
static const char revoke_prune_sql[] =
    "DELETE FROM revocation_events WHERE expires_at < ?";

struct revoke {
	const char *key;    /* audit id or user id */
	int64_t when;       /* expires_at, issued_before or now */
};

static int revoke_audit_fn(struct db_conn *c, void *arg)
{
	const struct revoke *r = arg;
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_stmt(c, revoke_audit_sql, &st)) != DB_OK)
		return rc;
	db_bind_text(st, 1, r->key);
	sqlite3_bind_int64(st, 2, r->when);
	return db_step_done(c, st, "revoke audit id");
}

int db_revoke_audit_id(struct db *db, const char *audit_id, int64_t expires_at)
{
	struct revoke r = { audit_id, expires_at };

	if (audit_id == NULL || *audit_id == '\0' ||
	    db_check_len(audit_id, DB_ID, "audit_id") != DB_OK)
		return DB_ERROR;
	return db_identity_write(db, revoke_audit_fn, &r);
}

static int revoke_user_fn(struct db_conn *c, void *arg)
{
	static const char *const sqls[] = { revoke_user_drop_sql, revoke_user_sql };
	const struct revoke *r = arg;
	sqlite3_stmt *st;
	int rc;

	for (size_t i = 0; i < DB_NELEM(sqls); i++) {
		if ((rc = db_stmt(c, sqls[i], &st)) != DB_OK)
			return rc;
		db_bind_text(st, 1, r->key);
		sqlite3_bind_int64(st, 2, r->when);
		if ((rc = db_step_done(c, st, "revoke user")) != DB_OK)
			return rc;
	}
	return DB_OK;
}

int db_revoke_user(struct db *db, const char *user_id, int64_t issued_before)
{
	struct revoke r = { user_id, issued_before };

	if (user_id == NULL || *user_id == '\0' ||
	    db_check_len(user_id, DB_ID, "user_id") != DB_OK)
		return DB_ERROR;
	return db_identity_write(db, revoke_user_fn, &r);
}

/* *hit when st, its parameters bound, finds a row. */
static int finds_row(struct db_conn *c, sqlite3_stmt *st, bool *hit)
{
	int64_t one;
	int rc = db_query_i64(c, st, &one, "token revoked");

	*hit = rc == DB_OK;
	return rc == DB_NOTFOUND ? DB_OK : rc;
}

static int revoked_locked(struct db_conn *c, const char *user_id,
    int64_t issued_at, const char *const *audit_ids, bool *revoked)
{
	sqlite3_stmt *st;
	int rc;

	if (user_id != NULL && *user_id != '\0') {
		if ((rc = db_stmt(c, revoked_user_sql, &st)) != DB_OK)
			return rc;
		db_bind_text(st, 1, user_id);
		sqlite3_bind_int64(st, 2, issued_at);
		if ((rc = finds_row(c, st, revoked)) != DB_OK || *revoked)
			return rc;
	}
	for (size_t i = 0; audit_ids != NULL && audit_ids[i] != NULL; i++) {
		if ((rc = db_stmt(c, revoked_audit_sql, &st)) != DB_OK)
			return rc;
		db_bind_text(st, 1, audit_ids[i]);
		if ((rc = finds_row(c, st, revoked)) != DB_OK || *revoked)
			return rc;
	}
	return DB_OK;
}

int db_token_revoked(struct db *db, const char *user_id, int64_t issued_at,
    const char *const *audit_ids, bool *revoked)
{
	struct db_conn *c;
	int rc;

	*revoked = false;
	if ((c = db_conn_get(db)) == NULL)
		return DB_ERROR;
	rc = revoked_locked(c, user_id, issued_at, audit_ids, revoked);
	db_conn_put(db, c);
	if (rc != DB_OK)
		*revoked = false;
	return rc;
}

static int revoke_prune_fn(struct db_conn *c, void *arg)
{
	const struct revoke *r = arg;
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_stmt(c, revoke_prune_sql, &st)) != DB_OK)
		return rc;
	sqlite3_bind_int64(st, 1, r->when);
	return db_step_done(c, st, "revoke prune");
}

int db_revoke_prune(struct db *db, int64_t now)
{
	struct revoke r = { NULL, now };

	return db_identity_write(db, revoke_prune_fn, &r);
}

/* ---- application credentials --------------------------------------------- */

#define C(field, type) DB_COL(struct db_app_cred, field, type)
static const struct db_col app_cred_cols[] = {
	C(id, DB_COL_TEXT),
	C(name, DB_COL_TEXT),
	C(user_id, DB_COL_TEXT),
	C(project_id, DB_COL_TEXT),
	C(description, DB_COL_TEXT),
	C(secret_hash, DB_COL_TEXT),
	C(expires_at, DB_COL_I64),
	C(unrestricted, DB_COL_BOOL),
	C(roles, DB_COL_TEXT),
};
#undef C

#define APP_CRED_SELECT \
	"SELECT id, name, user_id, project_id, description, secret_hash," \
	" expires_at, unrestricted, roles FROM application_credentials"
static const char app_cred_insert_sql[] =
    "INSERT INTO application_credentials (id, name, user_id, project_id,"
    " description, secret_hash, expires_at, unrestricted, roles, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char app_cred_get_sql[] = APP_CRED_SELECT " WHERE id = ?";
static const char app_cred_by_name_sql[] =
    APP_CRED_SELECT " WHERE user_id = ? AND name = ?";
static const char app_cred_list_sql[] =
    APP_CRED_SELECT " WHERE user_id = ? ORDER BY name";
static const char app_cred_delete_sql[] =
    "DELETE FROM application_credentials WHERE user_id = ? AND id = ?";
static const char project_exists_sql[] = "SELECT 1 FROM projects WHERE id = ?";
static const char role_exists_sql[] = "SELECT 1 FROM roles WHERE id = ?";

/* Every comma-separated id in roles names a role (an empty one names
 * none): DB_NOTFOUND otherwise. */
static int check_roles(struct db_conn *c, const char *roles)
{
	char id[DB_ID];
	const char *p = roles, *end;
	size_t len;
	int rc;

	while (*p != '\0') {
		end = strchr(p, ',');
		len = end ? (size_t)(end - p) : strlen(p);
		if (len == 0 || len >= sizeof id)
			return DB_NOTFOUND;
		memcpy(id, p, len);
		id[len] = '\0';
		if ((rc = db_identity_exists(c, role_exists_sql, id)) != DB_OK)
			return rc;
		p += len + (end != NULL);
		if (end != NULL && *p == '\0')
			return DB_NOTFOUND;
	}
	return DB_OK;
}

/* The user is a foreign key; the project and the roles are checked. */
static int app_cred_create_fn(struct db_conn *c, void *arg)
{
	const struct db_app_cred *ac = arg;
	sqlite3_stmt *st;
	char now[DB_TS];
	int rc;

	if ((rc = db_identity_exists(c, project_exists_sql, ac->project_id)) != DB_OK ||
	    (rc = check_roles(c, ac->roles)) != DB_OK)
		return rc;
	time_iso8601(now);
	if ((rc = db_stmt(c, app_cred_insert_sql, &st)) != DB_OK ||
	    (rc = db_row_bind(st, 1, app_cred_cols, DB_NELEM(app_cred_cols),
	    ac)) != DB_OK)
		return rc;
	db_bind_text(st, DB_NELEM(app_cred_cols) + 1, now);
	return db_step_done(c, st, "application credential create");
}

int db_app_cred_create(struct db *db, struct db_app_cred *ac)
{
	bool fresh;
	int rc;

	/* check_roles reads roles before it is bound. */
	if (db_check_len(ac->roles, sizeof ac->roles, "roles") != DB_OK)
		return DB_ERROR;
	fresh = db_identity_new_id(ac->id);
	if ((rc = db_identity_write(db, app_cred_create_fn, ac)) != DB_OK && fresh)
		ac->id[0] = '\0';
	return rc;
}

int db_app_cred_get(struct db *db, const char *id, struct db_app_cred *out)
{
	return db_fetch_one(db, app_cred_get_sql, DB_KEYS(id), app_cred_cols,
	    DB_NELEM(app_cred_cols), out, "application credential get");
}

int db_app_cred_get_by_name(struct db *db, const char *user_id,
    const char *name, struct db_app_cred *out)
{
	return db_fetch_one(db, app_cred_by_name_sql, DB_KEYS(user_id, name),
	    app_cred_cols, DB_NELEM(app_cred_cols), out,
	    "application credential get");
}

int db_app_cred_list(struct db *db, const char *user_id,
    struct db_app_cred **out, size_t *n)
{
	void *arr = NULL;
	int rc = db_fetch_list(db, app_cred_list_sql, DB_KEYS(user_id), app_cred_cols,
	    DB_NELEM(app_cred_cols), sizeof **out, &arr, n, "application credential list");

	*out = arr;
	return rc;
}

int db_app_cred_delete(struct db *db, const char *user_id, const char *id)
{
	return db_identity_change(db, app_cred_delete_sql, DB_KEYS(user_id, id),
	    "application credential delete");
}
