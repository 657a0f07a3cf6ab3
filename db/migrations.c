/*
 * The schema, as numbered migrations. Each runs once, in its own
 * BEGIN IMMEDIATE transaction, and is recorded in schema_migrations; never
 * edit a released migration, append the next one.
 *
 * Conventions: "" in a struct is NULL here; timestamps are ISO 8601 UTC
 * text; instances are soft-deleted (deleted, deleted_at); compute node
 * usage is never stored, it is the sum of the node's allocations.
 */
#include <string.h>

#include "common/common.h"
#include "db/db_internal.h"

static const char migration_1[] =
    "CREATE TABLE flavors ("
    " id INTEGER PRIMARY KEY,"
    " flavorid TEXT NOT NULL UNIQUE,"
    " name TEXT NOT NULL UNIQUE,"
    " vcpus INTEGER NOT NULL CHECK (vcpus > 0),"
    " memory_mb INTEGER NOT NULL CHECK (memory_mb > 0),"
    " root_gb INTEGER NOT NULL DEFAULT 0 CHECK (root_gb >= 0),"
    " ephemeral_gb INTEGER NOT NULL DEFAULT 0 CHECK (ephemeral_gb >= 0),"
    " swap INTEGER NOT NULL DEFAULT 0 CHECK (swap >= 0),"
    " rxtx_factor REAL NOT NULL DEFAULT 1.0,"
    " is_public INTEGER NOT NULL DEFAULT 1,"
    " disabled INTEGER NOT NULL DEFAULT 0,"
    " description TEXT,"
    " created_at TEXT NOT NULL);"

    "CREATE TABLE images ("
    " id TEXT PRIMARY KEY,"
    " name TEXT,"
    " status TEXT NOT NULL,"
    " disk_format TEXT,"
    " container_format TEXT,"
    " size INTEGER NOT NULL DEFAULT -1,"
    " checksum TEXT,"
    " os_hash_algo TEXT,"
    " os_hash_value TEXT,"
    " owner TEXT,"
    " visibility TEXT NOT NULL DEFAULT 'shared',"
    " min_disk INTEGER NOT NULL DEFAULT 0,"
    " min_ram INTEGER NOT NULL DEFAULT 0,"
    " protected INTEGER NOT NULL DEFAULT 0,"
    " properties TEXT,"
    " created_at TEXT NOT NULL,"
    " updated_at TEXT);"

    "CREATE TABLE instances ("
    " id INTEGER PRIMARY KEY,"
    " uuid TEXT NOT NULL UNIQUE,"
    " name TEXT NOT NULL,"
    " project_id TEXT NOT NULL,"
    " user_id TEXT NOT NULL,"
    " image_ref TEXT,"
    " flavorid TEXT,"
    " flavor_name TEXT,"
    " vcpus INTEGER NOT NULL,"
    " memory_mb INTEGER NOT NULL,"
    " root_gb INTEGER NOT NULL,"
    " ephemeral_gb INTEGER NOT NULL DEFAULT 0,"
    " swap INTEGER NOT NULL DEFAULT 0,"
    " vm_state TEXT NOT NULL,"
    " task_state TEXT,"
    " power_state INTEGER NOT NULL DEFAULT 0,"
    " host TEXT,"
    " node TEXT,"
    " availability_zone TEXT,"
    " key_name TEXT,"
    " reservation_id TEXT,"
    " request_id TEXT,"
    " created_at TEXT NOT NULL,"
    " updated_at TEXT,"
    " launched_at TEXT,"
    " terminated_at TEXT,"
    " deleted_at TEXT,"
    " deleted INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX instances_project_idx ON instances (project_id, deleted);"
    "CREATE INDEX instances_host_idx ON instances (host, deleted);"
    "CREATE INDEX instances_image_idx ON instances (image_ref, deleted);"

    "CREATE TABLE instance_actions ("
    " id INTEGER PRIMARY KEY,"
    " action TEXT NOT NULL,"
    " instance_uuid TEXT NOT NULL REFERENCES instances (uuid),"
    " request_id TEXT,"
    " user_id TEXT,"
    " project_id TEXT,"
    " start_time TEXT NOT NULL,"
    " finish_time TEXT,"
    " message TEXT);"
    "CREATE INDEX instance_actions_uuid_idx ON instance_actions (instance_uuid, request_id);"

    "CREATE TABLE instance_faults ("
    " id INTEGER PRIMARY KEY,"
    " instance_uuid TEXT NOT NULL REFERENCES instances (uuid),"
    " code INTEGER NOT NULL,"
    " message TEXT,"
    " details TEXT,"
    " created_at TEXT NOT NULL);"
    "CREATE INDEX instance_faults_uuid_idx ON instance_faults (instance_uuid);"

    "CREATE TABLE compute_nodes ("
    " id INTEGER PRIMARY KEY,"
    " uuid TEXT NOT NULL UNIQUE,"
    " host TEXT NOT NULL UNIQUE,"
    " hypervisor_hostname TEXT,"
    " hypervisor_type TEXT,"
    " hypervisor_version INTEGER NOT NULL DEFAULT 0,"
    " host_ip TEXT,"
    " vcpus INTEGER NOT NULL CHECK (vcpus >= 0),"
    " memory_mb INTEGER NOT NULL CHECK (memory_mb >= 0),"
    " local_gb INTEGER NOT NULL CHECK (local_gb >= 0),"
    " cpu_allocation_ratio REAL NOT NULL CHECK (cpu_allocation_ratio > 0),"
    " ram_allocation_ratio REAL NOT NULL CHECK (ram_allocation_ratio > 0),"
    " disk_allocation_ratio REAL NOT NULL CHECK (disk_allocation_ratio > 0),"
    " created_at TEXT NOT NULL,"
    " updated_at TEXT);"

    "CREATE TABLE services ("
    " id INTEGER PRIMARY KEY,"
    " uuid TEXT NOT NULL UNIQUE,"
    " host TEXT NOT NULL,"
    " binary TEXT NOT NULL,"
    " topic TEXT,"
    " disabled INTEGER NOT NULL DEFAULT 0,"
    " disabled_reason TEXT,"
    " forced_down INTEGER NOT NULL DEFAULT 0,"
    " report_count INTEGER NOT NULL DEFAULT 0,"
    " last_seen_up INTEGER NOT NULL DEFAULT 0,"
    " created_at TEXT NOT NULL,"
    " updated_at TEXT,"
    " UNIQUE (host, binary));"

    /* One allocation per instance: a reschedule replaces it. */
    "CREATE TABLE allocations ("
    " id INTEGER PRIMARY KEY,"
    " instance_uuid TEXT NOT NULL UNIQUE,"
    " compute_node_id INTEGER NOT NULL"
    "  REFERENCES compute_nodes (id) ON DELETE CASCADE,"
    " vcpus INTEGER NOT NULL CHECK (vcpus >= 0),"
    " memory_mb INTEGER NOT NULL CHECK (memory_mb >= 0),"
    " disk_gb INTEGER NOT NULL CHECK (disk_gb >= 0),"
    " created_at TEXT NOT NULL);"
    "CREATE INDEX allocations_node_idx ON allocations (compute_node_id);";

static const char migration_2[] =
    "CREATE TABLE keypairs ("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " user_id TEXT NOT NULL,"
    " type TEXT NOT NULL DEFAULT 'ssh',"
    " fingerprint TEXT,"
    " public_key TEXT NOT NULL,"
    " created_at TEXT NOT NULL,"
    " UNIQUE (user_id, name));"

    "CREATE TABLE quotas ("
    " id INTEGER PRIMARY KEY,"
    " project_id TEXT NOT NULL,"
    " resource TEXT NOT NULL,"
    " hard_limit INTEGER NOT NULL CHECK (hard_limit >= -1),"
    " updated_at TEXT NOT NULL,"
    " UNIQUE (project_id, resource));";

/* Nova's instance_actions_events: the steps of an action (e.g.
 * compute_stop_instance), each with its host, times and result. */
static const char migration_3[] =
    "CREATE TABLE instance_actions_events ("
    " id INTEGER PRIMARY KEY,"
    " action_id INTEGER NOT NULL REFERENCES instance_actions (id),"
    " event TEXT NOT NULL,"
    " start_time TEXT NOT NULL,"
    " finish_time TEXT,"
    " result TEXT,"
    " traceback TEXT,"
    " host TEXT,"
    " details TEXT);"
    "CREATE INDEX instance_actions_events_action_idx"
    " ON instance_actions_events (action_id);";

/* Keystone's objects as kumo's identity service keeps them. A TEXT
 * PRIMARY KEY may hold NULL in SQLite, hence NOT NULL on every id.
 * role_assignments.scope is 'project', 'domain' or 'system' (target_id
 * "all"); its target is no foreign key (it names a project or a domain),
 * so the writers check it. A user event in revocation_events has user_id
 * and issued_before, an audit event audit_id and expires_at.
 * identity_generation has one row, bumped by every identity write. The
 * domain "default" is created here, as keystone-manage db_sync does. */
static const char migration_4[] =
    "CREATE TABLE domains ("
    " id TEXT NOT NULL PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE,"
    " description TEXT,"
    " enabled INTEGER NOT NULL DEFAULT 1);"
    "INSERT INTO domains (id, name, description, enabled)"
    " VALUES ('default', 'Default', 'The default domain', 1);"

    "CREATE TABLE projects ("
    " id TEXT NOT NULL PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " domain_id TEXT NOT NULL REFERENCES domains (id),"
    " description TEXT,"
    " enabled INTEGER NOT NULL DEFAULT 1,"
    " created_at TEXT NOT NULL,"
    " UNIQUE (domain_id, name));"

    "CREATE TABLE users ("
    " id TEXT NOT NULL PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " domain_id TEXT NOT NULL REFERENCES domains (id),"
    " password_hash TEXT,"
    " enabled INTEGER NOT NULL DEFAULT 1,"
    " default_project_id TEXT,"
    " created_at TEXT NOT NULL,"
    " password_changed_at INTEGER NOT NULL DEFAULT 0,"
    " UNIQUE (domain_id, name));"

    "CREATE TABLE roles ("
    " id TEXT NOT NULL PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE,"
    " description TEXT,"
    " immutable INTEGER NOT NULL DEFAULT 0);"

    "CREATE TABLE implied_roles ("
    " prior_role_id TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,"
    " implied_role_id TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,"
    " PRIMARY KEY (prior_role_id, implied_role_id));"
    "CREATE INDEX implied_roles_implied_idx ON implied_roles (implied_role_id);"

    "CREATE TABLE role_assignments ("
    " scope TEXT NOT NULL CHECK (scope IN ('project', 'domain', 'system')),"
    " actor_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
    " target_id TEXT NOT NULL,"
    " role_id TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,"
    " PRIMARY KEY (scope, actor_id, target_id, role_id));"
    "CREATE INDEX role_assignments_target_idx ON role_assignments (target_id);"
    /* The cascades look rows up by these. */
    "CREATE INDEX role_assignments_actor_idx ON role_assignments (actor_id);"
    "CREATE INDEX role_assignments_role_idx ON role_assignments (role_id);"

    "CREATE TABLE regions ("
    " id TEXT NOT NULL PRIMARY KEY,"
    " description TEXT);"

    /* The catalog's services ("services" holds the compute services). */
    "CREATE TABLE catalog_services ("
    " id TEXT NOT NULL PRIMARY KEY,"
    " type TEXT NOT NULL,"
    " name TEXT,"
    " description TEXT,"
    " enabled INTEGER NOT NULL DEFAULT 1);"

    "CREATE TABLE endpoints ("
    " id TEXT NOT NULL PRIMARY KEY,"
    " service_id TEXT NOT NULL REFERENCES catalog_services (id),"
    " interface TEXT NOT NULL"
    "  CHECK (interface IN ('public', 'internal', 'admin')),"
    " region_id TEXT REFERENCES regions (id),"
    " url TEXT NOT NULL,"
    " enabled INTEGER NOT NULL DEFAULT 1);"
    "CREATE INDEX endpoints_service_idx ON endpoints (service_id);"

    "CREATE TABLE revocation_events ("
    " id INTEGER PRIMARY KEY,"
    " audit_id TEXT,"
    " user_id TEXT,"
    " issued_before INTEGER,"
    " expires_at INTEGER);"
    "CREATE INDEX revocation_events_audit_idx ON revocation_events (audit_id);"
    "CREATE INDEX revocation_events_user_idx ON revocation_events (user_id);"

    "CREATE TABLE application_credentials ("
    " id TEXT NOT NULL PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
    " project_id TEXT NOT NULL,"
    " description TEXT,"
    " secret_hash TEXT NOT NULL,"
    " expires_at INTEGER NOT NULL DEFAULT 0,"
    " unrestricted INTEGER NOT NULL DEFAULT 0,"
    " roles TEXT,"
    " created_at TEXT NOT NULL,"
    " UNIQUE (user_id, name));"

    "CREATE TABLE identity_generation (value INTEGER NOT NULL);"
    "INSERT INTO identity_generation (value) VALUES (0);";

/* Every image id ever created (db_image_create adds, nothing removes):
 * a deleted image's id is never given again, as in Glance. */
static const char migration_5[] =
    "CREATE TABLE image_ids ("
    " id TEXT NOT NULL PRIMARY KEY);"
    "INSERT INTO image_ids (id) SELECT id FROM images;";

/* Nova's flavor_projects: the projects a private flavor is given to. */
static const char migration_6[] =
    "CREATE TABLE flavor_projects ("
    " flavor_id INTEGER NOT NULL REFERENCES flavors (id) ON DELETE CASCADE,"
    " project_id TEXT NOT NULL,"
    " created_at TEXT NOT NULL,"
    " PRIMARY KEY (flavor_id, project_id));"
    "CREATE INDEX flavor_projects_project_idx ON flavor_projects (project_id);";

/* Shadow tables (Nova's): where kumo-manage db archive_deleted_rows
 * moves deleted instances and theirs, and db purge deletes them from.
 * Their columns are their table's, in order (archive copies SELECT *):
 * a migration that adds a column to one adds it to its shadow too. */
static const char migration_7[] =
    "CREATE TABLE shadow_instances AS SELECT * FROM instances WHERE 0;"
    "CREATE TABLE shadow_instance_actions AS"
    " SELECT * FROM instance_actions WHERE 0;"
    "CREATE TABLE shadow_instance_actions_events AS"
    " SELECT * FROM instance_actions_events WHERE 0;"
    "CREATE TABLE shadow_instance_faults AS"
    " SELECT * FROM instance_faults WHERE 0;"
    "CREATE INDEX shadow_instances_deleted_at_idx"
    " ON shadow_instances (deleted_at);"
    "CREATE INDEX shadow_instance_actions_uuid_idx"
    " ON shadow_instance_actions (instance_uuid);"
    "CREATE INDEX shadow_instance_actions_events_action_idx"
    " ON shadow_instance_actions_events (action_id);"
    "CREATE INDEX shadow_instance_faults_uuid_idx"
    " ON shadow_instance_faults (instance_uuid);"
    "CREATE INDEX instances_deleted_at_idx ON instances (deleted, deleted_at);";

/* Flat networks (nova-network's networks and fixed_ips): a fixed IP row
 * exists while an instance holds the address (INTEGER, host order), so
 * the primary key is what keeps two guests off one address. What a
 * create was given that only its build needs (instance_extra, Nova's
 * name) and the server's metadata (instance_metadata) beside them. */
static const char migration_8[] =
    "CREATE TABLE networks ("
    " id INTEGER PRIMARY KEY,"
    " uuid TEXT NOT NULL UNIQUE,"
    " label TEXT NOT NULL UNIQUE,"
    " cidr TEXT NOT NULL,"
    " gateway TEXT NOT NULL,"
    " dhcp_start TEXT NOT NULL,"
    " dhcp_end TEXT NOT NULL,"
    " dns TEXT NOT NULL,"
    " bridge TEXT NOT NULL,"
    " mtu INTEGER NOT NULL,"
    " created_at TEXT NOT NULL);"
    "CREATE TABLE fixed_ips ("
    " network_id INTEGER NOT NULL REFERENCES networks (id),"
    " address INTEGER NOT NULL,"
    " instance_uuid TEXT NOT NULL,"
    " vif_index INTEGER NOT NULL,"
    " mac TEXT NOT NULL UNIQUE,"
    " vif_uuid TEXT NOT NULL UNIQUE,"
    " created_at TEXT NOT NULL,"
    " PRIMARY KEY (network_id, address),"
    " UNIQUE (instance_uuid, vif_index));"
    "CREATE TABLE instance_extra ("
    " instance_uuid TEXT NOT NULL PRIMARY KEY,"
    " user_data TEXT,"
    " key_data TEXT,"
    " key_type TEXT,"
    " requested_networks TEXT);"
    "CREATE TABLE instance_metadata ("
    " instance_uuid TEXT NOT NULL,"
    " key TEXT NOT NULL,"
    " value TEXT NOT NULL,"
    " PRIMARY KEY (instance_uuid, key));"
    "CREATE TABLE shadow_instance_extra AS SELECT * FROM instance_extra WHERE 0;"
    "CREATE TABLE shadow_instance_metadata AS"
    " SELECT * FROM instance_metadata WHERE 0;"
    "CREATE INDEX shadow_instance_extra_uuid_idx"
    " ON shadow_instance_extra (instance_uuid);"
    "CREATE INDEX shadow_instance_metadata_uuid_idx"
    " ON shadow_instance_metadata (instance_uuid);"
    "ALTER TABLE instances ADD COLUMN hostname TEXT;"
    "ALTER TABLE instances ADD COLUMN config_drive TEXT;"
    "ALTER TABLE instances ADD COLUMN access_ip_v4 TEXT;"
    "ALTER TABLE instances ADD COLUMN access_ip_v6 TEXT;"
    "ALTER TABLE shadow_instances ADD COLUMN hostname TEXT;"
    "ALTER TABLE shadow_instances ADD COLUMN config_drive TEXT;"
    "ALTER TABLE shadow_instances ADD COLUMN access_ip_v4 TEXT;"
    "ALTER TABLE shadow_instances ADD COLUMN access_ip_v6 TEXT;";

/* The image list filters by owner and visibility in SQL (db_image_page):
 * a project's page reads its own and the open images' index entries
 * (covering the default order), not every row. */
static const char migration_9[] =
    "CREATE INDEX images_owner ON images (owner, visibility, created_at, id);"
    "CREATE INDEX images_visibility ON images (visibility, owner, created_at, id);";

static const struct migration {
	int version;
	const char *sql;
} migrations[] = {
	{ 1, migration_1 },
	{ 2, migration_2 },
	{ 3, migration_3 },
	{ 4, migration_4 },
	{ 5, migration_5 },
	{ 6, migration_6 },
	{ 7, migration_7 },
	{ 8, migration_8 },
	{ 9, migration_9 },
};

#define LATEST_VERSION (migrations[DB_NELEM(migrations) - 1].version)

static const char create_table_sql[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)";
static const char table_exists_sql[] =
    "SELECT count(*) FROM sqlite_master"
    " WHERE type = 'table' AND name = 'schema_migrations'";
static const char version_sql[] =
    "SELECT coalesce(max(version), 0) FROM schema_migrations";
static const char applied_sql[] =
    "SELECT count(*) FROM schema_migrations WHERE version = ?";
static const char record_sql[] =
    "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)";

/* One integer from a query without parameters (or bound by the caller). */
static int query_int(struct db_conn *c, sqlite3_stmt *st, int *out)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int(st, 0);
		rc = DB_OK;
	} else {
		rc = db_status_of(c, rc, "schema version");
	}
	sqlite3_reset(st);
	return rc;
}

static int version_of(struct db_conn *c, int *out)
{
	sqlite3_stmt *st;
	int exists = 0, rc;

	*out = 0;
	if ((rc = db_stmt(c, table_exists_sql, &st)) != DB_OK ||
	    (rc = query_int(c, st, &exists)) != DB_OK || !exists)
		return rc;
	if ((rc = db_stmt(c, version_sql, &st)) != DB_OK)
		return rc;
	return query_int(c, st, out);
}

static int apply_one(struct db_conn *c, const struct migration *m)
{
	sqlite3_stmt *st;
	char now[DB_TS];
	int done = 0, rc;

	if ((rc = db_begin(c, true)) != DB_OK)
		return rc;
	if ((rc = db_exec_script(c, create_table_sql)) != DB_OK ||
	    (rc = db_stmt(c, applied_sql, &st)) != DB_OK)
		goto fail;
	sqlite3_bind_int(st, 1, m->version);
	if ((rc = query_int(c, st, &done)) != DB_OK)
		goto fail;
	if (done) {
		db_rollback(c);
		return DB_OK;
	}
	time_iso8601(now);
	if ((rc = db_exec_script(c, m->sql)) != DB_OK ||
	    (rc = db_stmt(c, record_sql, &st)) != DB_OK)
		goto fail;
	sqlite3_bind_int(st, 1, m->version);
	db_bind_text(st, 2, now);
	if ((rc = db_step_done(c, st, "record migration")) != DB_OK)
		goto fail;
	if ((rc = db_commit(c)) != DB_OK)
		return rc;
	log_info("db: applied migration %d", m->version);
	return DB_OK;
fail:
	db_rollback(c);
	return rc;
}

int db_migrate_to(struct db *db, int version)
{
	struct db_conn *c;
	int rc = DB_OK;

	if ((c = db_conn_get(db)) == NULL)
		return DB_ERROR;
	for (size_t i = 0; i < DB_NELEM(migrations) && rc == DB_OK &&
	    migrations[i].version <= version; i++)
		rc = apply_one(c, &migrations[i]);
	db_conn_put(db, c);
	return rc;
}

int db_migrate(struct db *db) { return db_migrate_to(db, LATEST_VERSION); }

int db_schema_version(struct db *db, int *out)
{
	struct db_conn *c;
	int rc;

	if ((c = db_conn_get(db)) == NULL)
		return DB_ERROR;
	rc = version_of(c, out);
	db_conn_put(db, c);
	return rc;
}

int db_check_schema(struct db *db)
{
	int v, rc;

	if ((rc = db_schema_version(db, &v)) != DB_OK)
		return rc;
	if (v < LATEST_VERSION) {
		log_warnx("db: schema version %d, this program needs %d:"
		    " run kumo-manage db sync", v, LATEST_VERSION);
		return DB_SCHEMA;
	}
	if (v > LATEST_VERSION) {
		log_warnx("db: schema version %d is newer than this program's %d",
		    v, LATEST_VERSION);
		return DB_SCHEMA;
	}
	return DB_OK;
}

int db_schema_latest(void) { return LATEST_VERSION; }
