/*
 * Instances, their actions and faults. Instances are soft-deleted as Nova
 * does (deleted = 1, deleted_at); reads skip deleted rows unless asked.
 */
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/states.h"
#include "db/db_internal.h"

#define F(field, type) DB_COL(struct db_instance, field, type)
/* In the order of SELECT_COLS; the insert binds uuid .. updated_at. */
static const struct db_col instance_cols[] = {
	F(id, DB_COL_I64),
	F(uuid, DB_COL_TEXT),
	F(name, DB_COL_TEXT),
	F(project_id, DB_COL_TEXT),
	F(user_id, DB_COL_TEXT),
	F(image_ref, DB_COL_TEXT),
	F(flavorid, DB_COL_TEXT),
	F(flavor_name, DB_COL_TEXT),
	F(vcpus, DB_COL_INT),
	F(memory_mb, DB_COL_INT),
	F(root_gb, DB_COL_INT),
	F(ephemeral_gb, DB_COL_INT),
	F(swap, DB_COL_INT),
	F(vm_state, DB_COL_TEXT),
	F(task_state, DB_COL_TEXT),
	F(power_state, DB_COL_INT),
	F(host, DB_COL_TEXT),
	F(node, DB_COL_TEXT),
	F(availability_zone, DB_COL_TEXT),
	F(key_name, DB_COL_TEXT),
	F(reservation_id, DB_COL_TEXT),
	F(request_id, DB_COL_TEXT),
	F(hostname, DB_COL_TEXT),
	F(config_drive, DB_COL_TEXT),
	F(access_ip_v4, DB_COL_TEXT),
	F(access_ip_v6, DB_COL_TEXT),
	F(created_at, DB_COL_TEXT),
	F(updated_at, DB_COL_TEXT),
	F(launched_at, DB_COL_TEXT),
	F(terminated_at, DB_COL_TEXT),
	F(deleted_at, DB_COL_TEXT),
	F(deleted, DB_COL_BOOL),
};
#undef F
#define INSERT_COUNT 27 /* uuid .. updated_at */

#define SELECT_COLS \
	"SELECT id, uuid, name, project_id, user_id, image_ref, flavorid," \
	" flavor_name, vcpus, memory_mb, root_gb, ephemeral_gb, swap," \
	" vm_state, task_state, power_state, host, node, availability_zone," \
	" key_name, reservation_id, request_id, hostname, config_drive," \
	" access_ip_v4, access_ip_v6, created_at, updated_at, launched_at, terminated_at, deleted_at, deleted FROM instances"

static const char insert_sql[] =
    "INSERT INTO instances (uuid, name, project_id, user_id, image_ref,"
    " flavorid, flavor_name, vcpus, memory_mb, root_gb, ephemeral_gb, swap,"
    " vm_state, task_state, power_state, host, node, availability_zone,"
    " key_name, reservation_id, request_id, hostname, config_drive,"
    " access_ip_v4, access_ip_v6, created_at, updated_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
    " ?, ?, ?, ?, ?, ?)";
static const char get_sql[] = SELECT_COLS " WHERE uuid = ? AND deleted = 0";
static const char get_any_sql[] = SELECT_COLS " WHERE uuid = ?";
static const char marker_sql[] = "SELECT id FROM instances WHERE uuid = ?";
/*
 * The list, one statement per order and direction (db_stmt keeps each
 * prepared). Paging is by keyset: the rows after the marker's (key, id)
 * in the order, so that a page costs its own rows however deep it is.
 * Newest first is id descending: ids grow with created_at.
 */
#define LIST_WHERE SELECT_COLS \
    " WHERE (?1 IS NULL OR project_id = ?1)" \
    " AND (?2 IS NULL OR host = ?2)" \
    " AND (?3 IS NULL OR vm_state = ?3)" \
    " AND (?4 OR deleted = 0)" \
    " AND (?5 IS NULL OR instr(name, ?5) > 0)" \
    " AND (?6 IS NULL OR flavorid = ?6)" \
    " AND (?7 IS NULL OR image_ref = ?7)" \
    " AND (?8 IS NULL OR " UPDATED " >= ?8)"
#define UPDATED "coalesce(nullif(updated_at, ''), created_at)"
#define LIST_BY_ID(cmp, dir) LIST_WHERE \
    " AND (?9 IS NULL OR id " cmp " (SELECT id FROM instances WHERE uuid = ?9))" \
    " ORDER BY id " dir " LIMIT ?10"
#define LIST_BY(key, cmp, dir) LIST_WHERE \
    " AND (?9 IS NULL OR (" key ", id) " cmp \
    " (SELECT " key ", id FROM instances WHERE uuid = ?9))" \
    " ORDER BY " key " " dir ", id " dir " LIMIT ?10"
#define BY(key) { LIST_BY(key, "<", "DESC"), LIST_BY(key, ">", "ASC") }
#define BY_TEXT(col) BY("coalesce(" col ", '')")

static const char *const list_sql[DB_SORT__COUNT][2] = {
	[DB_SORT_CREATED] = { LIST_BY_ID("<", "DESC"), LIST_BY_ID(">", "ASC") },
	[DB_SORT_UPDATED] = BY(UPDATED),
	[DB_SORT_NAME] = BY_TEXT("name"),
	[DB_SORT_UUID] = BY_TEXT("uuid"),
	[DB_SORT_VM_STATE] = BY_TEXT("vm_state"),
	[DB_SORT_TASK_STATE] = BY_TEXT("task_state"),
	[DB_SORT_POWER_STATE] = BY("power_state"),
	[DB_SORT_LAUNCHED] = BY_TEXT("launched_at"),
	[DB_SORT_TERMINATED] = BY_TEXT("terminated_at"),
	[DB_SORT_AZ] = BY_TEXT("availability_zone"),
	[DB_SORT_IMAGE] = BY_TEXT("image_ref"),
	[DB_SORT_FLAVOR] = BY_TEXT("flavorid"),
	[DB_SORT_KEY_NAME] = BY_TEXT("key_name"),
	[DB_SORT_PROJECT] = BY_TEXT("project_id"),
	[DB_SORT_USER] = BY_TEXT("user_id"),
	[DB_SORT_HOST] = BY_TEXT("host"),
	[DB_SORT_NODE] = BY_TEXT("node"),
};
/* ?1 NULL keeps vm_state, ?2 NULL keeps task_state ("" clears it), ?3 < 0
 * keeps power_state, ?4/?5 NULL keep host/node ("" clears them). */
static const char set_state_sql[] =
    "UPDATE instances SET"
    " vm_state = coalesce(?1, vm_state),"
    " task_state = CASE WHEN ?2 IS NULL THEN task_state ELSE nullif(?2, '') END,"
    " power_state = CASE WHEN ?3 < 0 THEN power_state ELSE ?3 END,"
    " host = CASE WHEN ?4 IS NULL THEN host ELSE nullif(?4, '') END,"
    " node = CASE WHEN ?5 IS NULL THEN node ELSE nullif(?5, '') END,"
    " launched_at = CASE WHEN ?1 = '" VM_STATE_ACTIVE "' AND launched_at IS NULL"
    "  THEN ?6 ELSE launched_at END,"
    " updated_at = ?6"
    " WHERE uuid = ?7 AND deleted = 0"
    " AND (?8 IS NULL OR coalesce(task_state, '') = ?8)";
static const char live_sql[] =
    "SELECT count(*) FROM instances WHERE uuid = ? AND deleted = 0";
static const char set_name_sql[] =
    "UPDATE instances SET name = ?, updated_at = ? WHERE uuid = ? AND deleted = 0";
static const char set_access_ips_sql[] =
    "UPDATE instances SET access_ip_v4 = ?, access_ip_v6 = ?, updated_at = ?"
    " WHERE uuid = ? AND deleted = 0";
static const char destroy_sql[] =
    "UPDATE instances SET deleted = 1, deleted_at = ?1, updated_at = ?1,"
    " terminated_at = coalesce(terminated_at, ?1),"
    " vm_state = '" VM_STATE_DELETED "', task_state = NULL"
    " WHERE uuid = ?2 AND deleted = 0";
static const char free_allocation_sql[] =
    "DELETE FROM allocations WHERE instance_uuid = ?";
static const char free_fixed_ips_sql[] =
    "DELETE FROM fixed_ips WHERE instance_uuid = ?";
/* What the conductor watches: builds and deletes that have not moved. */
static const char stalled_sql[] = SELECT_COLS
    " WHERE deleted = 0 AND task_state IN ('" TASK_SCHEDULING "', '"
    TASK_SPAWNING "', '" TASK_DELETING "', '" TASK_REBOOTING "', '"
    TASK_REBOOTING_HARD "', '" TASK_POWERING_OFF "', '" TASK_POWERING_ON "')"
    " AND updated_at < ?1"
    " ORDER BY updated_at LIMIT ?2";
/* Every live instance in a task, oldest change first (kumo-manage). */
static const char in_task_sql[] = SELECT_COLS
    " WHERE deleted = 0 AND task_state IS NOT NULL AND task_state != ''"
    " AND ?1 IS NULL ORDER BY updated_at LIMIT ?2";
static const char usage_sql[] =
    "SELECT count(*), total(vcpus), total(memory_mb) FROM instances"
    " WHERE project_id = ? AND deleted = 0";

/* ---- instances ----------------------------------------------------------- */

static int insert_action(struct db_conn *c, const struct db_action *a);

static int create_locked(struct db_conn *c, struct db_instance *inst)
{
	struct db_action a;
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_stmt(c, insert_sql, &st)) != DB_OK ||
	    (rc = db_row_bind(st, 1, instance_cols + 1, INSERT_COUNT, inst)) != DB_OK ||
	    (rc = db_step_done(c, st, "instance create")) != DB_OK)
		return rc;
	inst->id = sqlite3_last_insert_rowid(sqlite3_db_handle(st));

	memset(&a, 0, sizeof a);
	str_copy(a.action, "create", sizeof a.action);
	memcpy(a.instance_uuid, inst->uuid, sizeof a.instance_uuid);
	memcpy(a.request_id, inst->request_id, sizeof a.request_id);
	memcpy(a.user_id, inst->user_id, sizeof a.user_id);
	memcpy(a.project_id, inst->project_id, sizeof a.project_id);
	memcpy(a.start_time, inst->created_at, sizeof a.start_time);
	return insert_action(c, &a);
}

int db_instance_create(struct db *db, struct db_instance *inst)
{
	return db_instance_create_ex(db, inst, NULL);
}

int db_instance_create_ex(struct db *db, struct db_instance *inst,
    const struct db_instance_extra *extra)
{
	struct db_conn *c;
	int rc;

	if (inst->uuid[0] == '\0')
		uuid_new_str(inst->uuid);
	if (inst->created_at[0] == '\0')
		time_iso8601(inst->created_at);
	if (inst->updated_at[0] == '\0')
		memcpy(inst->updated_at, inst->created_at, sizeof inst->updated_at);
	if ((c = db_conn_get(db)) == NULL)
		return DB_ERROR;
	if ((rc = db_begin(c, true)) == DB_OK) {
		if ((rc = create_locked(c, inst)) == DB_OK &&
		    (extra == NULL || (rc = db_instance_extra_insert_locked(c,
		    inst->uuid, extra)) == DB_OK))
			rc = db_commit(c);
		else
			db_rollback(c);
	}
	db_conn_put(db, c);
	return rc;
}

static int get_by(struct db *db, const char *sql, const char *uuid,
    struct db_instance *out)
{
	return db_fetch_one(db, sql, DB_KEYS(uuid), instance_cols, DB_NELEM(instance_cols), out,
	    "instance get");
}

int db_instance_get(struct db *db, const char *uuid, struct db_instance *out)
{
	return get_by(db, get_sql, uuid, out);
}

int db_instance_get_any(struct db *db, const char *uuid, struct db_instance *out)
{
	return get_by(db, get_any_sql, uuid, out);
}

static int list_locked(struct db_conn *c, const struct db_instance_filter *f,
    struct db_instance **out, size_t *n)
{
	sqlite3_stmt *st;
	int64_t id;
	void *arr = NULL;
	int rc;

	if ((int)f->sort < 0 || f->sort >= DB_SORT__COUNT)
		return DB_ERROR;
	if (f->marker != NULL) {
		if ((rc = db_stmt(c, marker_sql, &st)) != DB_OK)
			return rc;
		db_bind_text(st, 1, f->marker);
		if ((rc = db_query_i64(c, st, &id, "instance marker")) != DB_OK)
			return rc;
	}
	if ((rc = db_stmt(c, list_sql[f->sort][f->sort_asc], &st)) != DB_OK)
		return rc;
	db_bind_text(st, 1, f->project_id);
	db_bind_text(st, 2, f->host);
	db_bind_text(st, 3, f->vm_state);
	sqlite3_bind_int(st, 4, f->include_deleted ? 1 : 0);
	db_bind_text(st, 5, f->name);
	db_bind_text(st, 6, f->flavorid);
	db_bind_text(st, 7, f->image_ref);
	db_bind_text(st, 8, f->changes_since);
	db_bind_text(st, 9, f->marker);
	sqlite3_bind_int(st, 10, f->limit > 0 ? f->limit : -1);
	rc = db_query_list(c, st, instance_cols, DB_NELEM(instance_cols),
	    sizeof **out, &arr, n, "instance list");
	*out = arr;
	return rc;
}

int db_instance_list(struct db *db, const struct db_instance_filter *f,
    struct db_instance **out, size_t *n)
{
	static const struct db_instance_filter all;
	struct db_conn *c;
	int rc;

	*out = NULL;
	*n = 0;
	if ((c = db_conn_get(db)) == NULL)
		return DB_ERROR;
	f = f ? f : &all;
	/* The marker lookup and the page read one snapshot; one statement
	 * alone reads one anyway. */
	if (f->marker == NULL) {
		rc = list_locked(c, f, out, n);
	} else if ((rc = db_begin(c, false)) == DB_OK) {
		rc = list_locked(c, f, out, n);
		db_rollback(c);
	}
	db_conn_put(db, c);
	return rc;
}

/* After an update matched nothing: a missing/deleted row or a task mismatch. */
static int classify_miss(struct db_conn *c, const char *uuid)
{
	sqlite3_stmt *st;
	int64_t live;
	int rc;

	if ((rc = db_stmt(c, live_sql, &st)) != DB_OK)
		return rc;
	db_bind_text(st, 1, uuid);
	if ((rc = db_query_i64(c, st, &live, "instance state")) != DB_OK)
		return rc;
	return live ? DB_CONFLICT : DB_NOTFOUND;
}

int db_instance_set_state_locked(struct db_conn *c, const char *uuid,
    const char *vm_state, const char *task_state, int power_state,
    const char *host, const char *node, const char *expect_task)
{
	sqlite3_stmt *st;
	char now[DB_TS];
	int rc;

	if (db_check_len(host, DB_NAME, "host") != DB_OK ||
	    db_check_len(node, DB_NAME, "node") != DB_OK ||
	    db_check_len(vm_state, 16, "vm_state") != DB_OK ||
	    db_check_len(task_state, 32, "task_state") != DB_OK)
		return DB_ERROR;
	time_iso8601(now);
	if ((rc = db_stmt(c, set_state_sql, &st)) != DB_OK)
		return rc;
	db_bind_text(st, 1, vm_state);
	/* "" must reach SQL as '' (clear), not NULL (keep). */
	if (task_state != NULL)
		sqlite3_bind_text(st, 2, task_state, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 3, power_state);
	if (host != NULL)
		sqlite3_bind_text(st, 4, host, -1, SQLITE_TRANSIENT);
	if (node != NULL)
		sqlite3_bind_text(st, 5, node, -1, SQLITE_TRANSIENT);
	db_bind_text(st, 6, now);
	db_bind_text(st, 7, uuid);
	if (expect_task != NULL)
		sqlite3_bind_text(st, 8, expect_task, -1, SQLITE_TRANSIENT);
	if ((rc = db_step_done(c, st, "instance set state")) == DB_OK &&
	    db_changes(c) == 0)
		rc = classify_miss(c, uuid);
	return rc;
}

int db_instance_set_state(struct db *db, const char *uuid,
    const char *vm_state, const char *task_state, int power_state,
    const char *host, const char *node, const char *expect_task)
{
	struct db_conn *c;
	int rc;

	if ((c = db_conn_get(db)) == NULL)
		return DB_ERROR;
	rc = db_instance_set_state_locked(c, uuid, vm_state, task_state,
	    power_state, host, node, expect_task);
	db_conn_put(db, c);
	return rc;
}

int db_instance_set_name(struct db *db, const char *uuid, const char *name)
{
	struct db_conn *c;
	sqlite3_stmt *st;
	char now[DB_TS];
	int rc;

	if (db_check_len(name, DB_NAME, "instance name") != DB_OK)
		return DB_ERROR;
	time_iso8601(now);
	if ((c = db_conn_get(db)) == NULL)
		return DB_ERROR;
	if ((rc = db_stmt(c, set_name_sql, &st)) == DB_OK) {
		db_bind_text(st, 1, name);
		db_bind_text(st, 2, now);
		db_bind_text(st, 3, uuid);
		if ((rc = db_step_done(c, st, "instance set name")) == DB_OK &&
		    db_changes(c) == 0)
			rc = DB_NOTFOUND;
	}
	db_conn_put(db, c);
	return rc;
}

int db_instance_set_access_ips(struct db *db, const char *uuid, const char *v4,
    const char *v6)
{
	struct db_conn *c;
	sqlite3_stmt *st;
	char now[DB_TS];
	int rc;

	if (db_check_len(v4, sizeof ((struct db_instance *)0)->access_ip_v4,
	    "accessIPv4") != DB_OK ||
	    db_check_len(v6, sizeof ((struct db_instance *)0)->access_ip_v6,
	    "accessIPv6") != DB_OK)
		return DB_ERROR;
	time_iso8601(now);
	if ((c = db_conn_get(db)) == NULL)
		return DB_ERROR;
	if ((rc = db_stmt(c, set_access_ips_sql, &st)) == DB_OK) {
		db_bind_text(st, 1, v4);
		db_bind_text(st, 2, v6);
		db_bind_text(st, 3, now);
		db_bind_text(st, 4, uuid);
		if ((rc = db_step_done(c, st, "instance set access ips")) == DB_OK &&
		    db_changes(c) == 0)
			rc = DB_NOTFOUND;
	}
	db_conn_put(db, c);
	return rc;
}

static int destroy_locked(struct db_conn *c, const char *uuid)
{
	sqlite3_stmt *st;
	char now[DB_TS];
	int rc;

	time_iso8601(now);
	if ((rc = db_stmt(c, destroy_sql, &st)) != DB_OK)
		return rc;
	db_bind_text(st, 1, now);
	db_bind_text(st, 2, uuid);
	if ((rc = db_step_done(c, st, "instance destroy")) != DB_OK)
		return rc;
	if (db_changes(c) == 0)
		return DB_NOTFOUND;
	if ((rc = db_stmt(c, free_allocation_sql, &st)) != DB_OK)
		return rc;
	db_bind_text(st, 1, uuid);
	if ((rc = db_step_done(c, st, "instance destroy allocation")) != DB_OK ||
	    (rc = db_stmt(c, free_fixed_ips_sql, &st)) != DB_OK)
		return rc;
	db_bind_text(st, 1, uuid);
	return db_step_done(c, st, "instance destroy fixed ips");
}

int db_instance_destroy(struct db *db, const char *uuid)
{
	struct db_conn *c;
	int rc;

	if ((c = db_conn_get(db)) == NULL)
		return DB_ERROR;
	if ((rc = db_begin(c, true)) == DB_OK) {
		if ((rc = destroy_locked(c, uuid)) == DB_OK)
			rc = db_commit(c);
		else
			db_rollback(c);
	}
	db_conn_put(db, c);
	return rc;
}

/* The instances of sql (?1 updated_before or NULL, ?2 the limit), the
 * oldest change first. */
static int task_list(struct db *db, const char *sql, const char *before,
    int limit, struct db_instance **out, size_t *n, const char *what)
{
	struct db_conn *c;
	sqlite3_stmt *st;
	void *arr = NULL;
	int rc;

	*out = NULL;
	*n = 0;
	if ((c = db_conn_get(db)) == NULL)
		return DB_ERROR;
	if ((rc = db_stmt(c, sql, &st)) == DB_OK) {
		db_bind_text(st, 1, before);
		sqlite3_bind_int(st, 2, limit > 0 ? limit : -1);
		rc = db_query_list(c, st, instance_cols, DB_NELEM(instance_cols),
		    sizeof **out, &arr, n, what);
		*out = arr;
	}
	db_conn_put(db, c);
	return rc;
}

int db_instance_stalled(struct db *db, const char *updated_before, int limit,
    struct db_instance **out, size_t *n)
{
	return task_list(db, stalled_sql, updated_before, limit, out, n,
	    "instances stalled");
}

int db_instance_in_task(struct db *db, int limit, struct db_instance **out,
    size_t *n)
{
	return task_list(db, in_task_sql, NULL, limit, out, n,
	    "instances in a task");
}

int db_instance_usage(struct db *db, const char *project_id,
    int64_t *instances, int64_t *cores, int64_t *ram_mb)
{
	struct db_conn *c;
	sqlite3_stmt *st;
	int rc;

	*instances = *cores = *ram_mb = 0;
	if ((c = db_conn_get(db)) == NULL)
		return DB_ERROR;
	if ((rc = db_stmt(c, usage_sql, &st)) == DB_OK) {
		db_bind_text(st, 1, project_id);
		if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			*instances = sqlite3_column_int64(st, 0);
			*cores = (int64_t)sqlite3_column_double(st, 1);
			*ram_mb = (int64_t)sqlite3_column_double(st, 2);
			rc = DB_OK;
		} else {
			rc = db_status_of(c, rc, "instance usage");
		}
		sqlite3_reset(st);
	}
	db_conn_put(db, c);
	return rc;
}

/* ---- faults -------------------------------------------------------------- */

#define FA(field, type) DB_COL(struct db_fault, field, type)
static const struct db_col fault_cols[] = {
	FA(code, DB_COL_INT),
	FA(message, DB_COL_TEXT),
	FA(details, DB_COL_TEXT),
	FA(created_at, DB_COL_TEXT),
};
#undef FA

static const char fault_insert_sql[] =
    "INSERT INTO instance_faults (instance_uuid, code, message, details,"
    " created_at) VALUES (?, ?, ?, ?, ?)";
static const char fault_latest_sql[] =
    "SELECT code, message, details, created_at FROM instance_faults"
    " WHERE instance_uuid = ? ORDER BY id DESC LIMIT 1";

/* DB_NOTFOUND when the instance does not exist (deleted ones still do). */
int db_fault_add(struct db *db, const char *instance_uuid, int code,
    const char *message, const char *details)
{
	struct db_fault f;
	struct db_conn *c;
	sqlite3_stmt *st;
	int rc;

	if (db_check_len(message, sizeof f.message, "fault message") != DB_OK ||
	    db_check_len(details, sizeof f.details, "fault details") != DB_OK)
		return DB_ERROR;
	time_iso8601(f.created_at);
	if ((c = db_conn_get(db)) == NULL)
		return DB_ERROR;
	if ((rc = db_stmt(c, fault_insert_sql, &st)) == DB_OK) {
		db_bind_text(st, 1, instance_uuid);
		sqlite3_bind_int(st, 2, code);
		db_bind_text(st, 3, message);
		db_bind_text(st, 4, details);
		db_bind_text(st, 5, f.created_at);
		rc = db_step_done(c, st, "fault add");
	}
	db_conn_put(db, c);
	return rc;
}

int db_fault_get_latest(struct db *db, const char *instance_uuid,
    struct db_fault *out)
{
	return db_fetch_one(db, fault_latest_sql, DB_KEYS(instance_uuid), fault_cols, DB_NELEM(fault_cols), out,
	    "fault get");
}

/* ---- actions ------------------------------------------------------------- */

#define AC(field, type) DB_COL(struct db_action, field, type)
static const struct db_col action_cols[] = {
	AC(action, DB_COL_TEXT),
	AC(instance_uuid, DB_COL_TEXT),
	AC(request_id, DB_COL_TEXT),
	AC(user_id, DB_COL_TEXT),
	AC(project_id, DB_COL_TEXT),
	AC(start_time, DB_COL_TEXT),
	AC(finish_time, DB_COL_TEXT),
	AC(message, DB_COL_TEXT),
};
#undef AC

static const char action_insert_sql[] =
    "INSERT INTO instance_actions (action, instance_uuid, request_id, user_id,"
    " project_id, start_time, finish_time, message)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
static const char action_finish_sql[] =
    "UPDATE instance_actions SET finish_time = ?1, message = ?2"
    " WHERE id = (SELECT id FROM instance_actions"
    "  WHERE instance_uuid = ?3 AND request_id IS ?4 ORDER BY id DESC LIMIT 1)";
static const char action_list_sql[] =
    "SELECT action, instance_uuid, request_id, user_id, project_id,"
    " start_time, finish_time, message FROM instance_actions"
    " WHERE instance_uuid = ? ORDER BY id DESC";

static int insert_action(struct db_conn *c, const struct db_action *a)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_stmt(c, action_insert_sql, &st)) != DB_OK ||
	    (rc = db_row_bind(st, 1, action_cols, DB_NELEM(action_cols), a)) != DB_OK)
		return rc;
	return db_step_done(c, st, "action start");
}

/* DB_NOTFOUND when the instance does not exist. */
int db_action_start(struct db *db, const struct db_action *a)
{
	struct db_action row = *a;
	struct db_conn *c;
	int rc;

	if (row.start_time[0] == '\0')
		time_iso8601(row.start_time);
	if ((c = db_conn_get(db)) == NULL)
		return DB_ERROR;
	rc = insert_action(c, &row);
	db_conn_put(db, c);
	return rc;
}

int db_action_finish(struct db *db, const char *instance_uuid,
    const char *request_id, const char *message)
{
	struct db_conn *c;
	sqlite3_stmt *st;
	char now[DB_TS];
	int rc;

	if (db_check_len(message, sizeof ((struct db_action *)0)->message,
	    "action message") != DB_OK)
		return DB_ERROR;
	time_iso8601(now);
	if ((c = db_conn_get(db)) == NULL)
		return DB_ERROR;
	if ((rc = db_stmt(c, action_finish_sql, &st)) == DB_OK) {
		db_bind_text(st, 1, now);
		db_bind_text(st, 2, message);
		db_bind_text(st, 3, instance_uuid);
		db_bind_text(st, 4, request_id);
		if ((rc = db_step_done(c, st, "action finish")) == DB_OK &&
		    db_changes(c) == 0)
			rc = DB_NOTFOUND;
	}
	db_conn_put(db, c);
	return rc;
}

/* Newest first. */
int db_action_list(struct db *db, const char *instance_uuid,
    struct db_action **out, size_t *n)
{
	void *arr = NULL;
	int rc = db_fetch_list(db, action_list_sql, DB_KEYS(instance_uuid), action_cols, DB_NELEM(action_cols),
	    sizeof **out, &arr, n, "action list");

	*out = arr;
	return rc;
}

/* ---- action events -------------------------------------------------------- */

#define EV(field, type) DB_COL(struct db_action_event, field, type)
static const struct db_col event_cols[] = {
	EV(event, DB_COL_TEXT),
	EV(start_time, DB_COL_TEXT),
	EV(finish_time, DB_COL_TEXT),
	EV(result, DB_COL_TEXT),
	EV(traceback, DB_COL_TEXT),
	EV(host, DB_COL_TEXT),
	EV(details, DB_COL_TEXT),
};
#undef EV

/* The action is the newest of the request on the instance, as for
 * db_action_finish. */
static const char event_insert_sql[] =
    "INSERT INTO instance_actions_events (event, start_time, finish_time,"
    " result, traceback, host, details, action_id)"
    " SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, id FROM instance_actions"
    " WHERE instance_uuid = ?8 AND request_id IS ?9 ORDER BY id DESC LIMIT 1";
static const char event_list_sql[] =
    "SELECT event, start_time, finish_time, result, traceback, host, details"
    " FROM instance_actions_events WHERE action_id = (SELECT id FROM"
    " instance_actions WHERE instance_uuid = ? AND request_id IS ?"
    " ORDER BY id DESC LIMIT 1) ORDER BY id DESC";

int db_action_event_add(struct db *db, const char *instance_uuid,
    const char *request_id, const struct db_action_event *e)
{
	struct db_conn *c;
	sqlite3_stmt *st;
	int rc;

	if ((c = db_conn_get(db)) == NULL)
		return DB_ERROR;
	if ((rc = db_stmt(c, event_insert_sql, &st)) == DB_OK &&
	    (rc = db_row_bind(st, 1, event_cols, DB_NELEM(event_cols), e)) ==
	    DB_OK) {
		db_bind_text(st, 8, instance_uuid);
		db_bind_text(st, 9, request_id);
		if ((rc = db_step_done(c, st, "action event")) == DB_OK &&
		    db_changes(c) == 0)
			rc = DB_NOTFOUND;
	}
	db_conn_put(db, c);
	return rc;
}

int db_action_event_list(struct db *db, const char *instance_uuid,
    const char *request_id, struct db_action_event **out, size_t *n)
{
	void *arr = NULL;
	int rc = db_fetch_list(db, event_list_sql, DB_KEYS(instance_uuid,
	    request_id), event_cols, DB_NELEM(event_cols), sizeof **out, &arr, n,
	    "action event list");

	*out = arr;
	return rc;
}
