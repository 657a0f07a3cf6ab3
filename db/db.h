/*
 * db/: kumo's state in one SQLite file (WAL, foreign keys, busy timeout).
 * No SQL outside this directory. Only the controller (kumo-api,
 * kumo-scheduler, kumo-manage) links it; kumo-compute never does.
 *
 *   core.c        open/close, connection pool, statements, transactions
 *   migrations.c  the schema as numbered migrations (schema_migrations)
 *   flavors.c     flavors
 *   images.c      images
 *   instances.c   instances, instance_actions (and their events),
 *                 instance_faults
 *   hosts.c       compute_nodes, services, allocations (claims)
 *   keypairs.c    keypairs
 *   networks.c    networks, fixed_ips (a guest NIC's address and MAC),
 *                 instance_extra, instance_metadata
 *   quotas.c      per-project quota limits
 *   identity.c    Keystone's objects: domains, projects, users, roles,
 *                 role assignments (and the identity write transaction)
 *   identity_catalog.c  the catalog (regions, services, endpoints),
 *                 revocations, application credentials
 *
 * Thread safety: a struct db may be used from many threads at once; each
 * call borrows one of its SQLite connections for its duration.
 * Every multi-row change is one transaction.
 *
 * Return values: DB_OK (0) or a negative enum db_status. Structs are plain
 * values with fixed-size strings (no ownership); lists are arrays the
 * caller frees with free().
 */
#ifndef KUMO_DB_H
#define KUMO_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum db_status {
	DB_OK = 0,
	DB_ERROR = -1,    /* SQLite failed; logged where it happened */
	DB_NOTFOUND = -2,
	DB_CONFLICT = -3, /* a unique key exists, or an expected state differs */
	DB_NOSPACE = -4,  /* a claim does not fit the host */
	DB_INUSE = -5,    /* referenced by a live row (image, flavor) */
	DB_SCHEMA = -6,   /* the file's schema is older than this program */
	DB_FULL = -7,     /* the disk is full: nothing was written; retry later */
};

#define DB_NAME 256  /* names, ids from users: at most 255 bytes */
#define DB_TS 32     /* ISO 8601 "2026-11-25T13:49:11Z", "" = null */

struct db;

/* ---- core.c ---- */
/* Opens (creating the file if absent). Daemons then call db_check_schema;
 * kumo-manage db sync calls db_migrate. */
int db_open(const char *path, struct db **out);
void db_close(struct db *db);
int db_migrate(struct db *db);               /* applies missing migrations */
/* Applies the missing migrations up to version only (an upgrade's tests
 * start from an older schema). */
int db_migrate_to(struct db *db, int version);
int db_schema_version(struct db *db, int *out);
int db_check_schema(struct db *db);          /* DB_OK or DB_SCHEMA */
/* A daemon's start-up: open and check the schema, or fatalx naming the
 * file (and 'kumo-manage db sync' when the schema is out of date). */
struct db *db_open_service(const char *path);
int db_schema_latest(void);                  /* the version this program needs */
const char *db_strerror(int status);         /* static text */
/* True from a write that found the disk full (SQLITE_FULL, or an I/O
 * error of ENOSPC) until a write succeeds again: callers that flatten a
 * status to DB_ERROR still let the API answer 503, not 500. */
bool db_full(struct db *db);
/* True when the path no longer names the file that was opened (deleted,
 * renamed, or replaced by another file): every write would go to a ghost.
 * Daemons ask every DB_FILE_CHECK_MS. */
#define DB_FILE_CHECK_MS 2000
bool db_file_moved(struct db *db);

/* ---- flavors.c ---- */
struct db_flavor {
	int64_t id;                 /* internal row id */
	char flavorid[DB_NAME];     /* API id: "1" or a uuid */
	char name[DB_NAME];
	int vcpus;
	int memory_mb;
	int root_gb;
	int ephemeral_gb;
	int swap;                   /* MiB */
	double rxtx_factor;
	bool is_public;
	bool disabled;
	char description[1024];     /* "" = null */
	char created_at[DB_TS];
};

int db_flavor_create(struct db *db, struct db_flavor *f); /* DB_CONFLICT on dup id/name; sets f->id */
int db_flavor_get(struct db *db, const char *flavorid, struct db_flavor *out);
int db_flavor_get_by_name(struct db *db, const char *name, struct db_flavor *out);
int db_flavor_list(struct db *db, struct db_flavor **out, size_t *n); /* by flavorid */
int db_flavor_delete(struct db *db, const char *flavorid); /* and its access */
/* As db_flavor_get and db_flavor_list, but only the flavors project_id
 * may use: the public ones and the private ones it was given access to
 * (DB_NOTFOUND for another). */
int db_flavor_get_project(struct db *db, const char *flavorid,
    const char *project_id, struct db_flavor *out);
int db_flavor_list_project(struct db *db, const char *project_id,
    struct db_flavor **out, size_t *n);

/* A project's access to a private flavor (Nova's flavor_projects). */
struct db_flavor_access {
	char project_id[DB_NAME];
};
/* DB_NOTFOUND for an unknown flavor, DB_CONFLICT when it exists. */
int db_flavor_access_add(struct db *db, const char *flavorid,
    const char *project_id);
/* DB_NOTFOUND when there is no such access. */
int db_flavor_access_remove(struct db *db, const char *flavorid,
    const char *project_id);
int db_flavor_access_list(struct db *db, const char *flavorid,
    struct db_flavor_access **out, size_t *n); /* by project */

/* ---- images.c ---- */
struct db_image {
	char id[37];
	char name[DB_NAME];
	char status[16];            /* queued, saving, active, killed, deleted */
	char disk_format[16];       /* raw, qcow2 */
	char container_format[16];  /* bare */
	int64_t size;               /* bytes, -1 = unknown */
	char checksum[33];          /* md5 hex, "" = none */
	char os_hash_algo[16];      /* "sha256" */
	char os_hash_value[129];
	char owner[DB_NAME];        /* project id */
	char visibility[16];        /* public, private, shared, community */
	int min_disk;
	int min_ram;
	bool protected_;
	char properties[4096];      /* JSON object text: kernel_id, ... */
	char created_at[DB_TS];
	char updated_at[DB_TS];
};

/* DB_CONFLICT when an image has, or ever had, that id. */
int db_image_create(struct db *db, const struct db_image *img);
/* db_image_create within the owner's quota: DB_NOSPACE when the owner
 * already has max_count images (-1 = no bound), checked in the insert's
 * transaction. */
int db_image_create_within(struct db *db, const struct db_image *img,
    int64_t max_count);
/* What a project's images hold: how many, the bytes of the active ones'
 * data, and how many are saving (an upload under way). */
struct db_image_usage {
	int64_t count;
	int64_t bytes;
	int64_t uploading;
};
int db_image_usage(struct db *db, const char *owner, struct db_image_usage *u);
/* Glance's visibility: public and community images are everyone's,
 * private and shared ones their owner's (kumo has no image members, so
 * shared is owner-only); admins read every image. */
bool db_image_readable(const struct db_image *img, const char *project_id,
    bool is_admin);
int db_image_get(struct db *db, const char *id, struct db_image *out);
/* Glance's sort keys; a list is ordered by up to DB_IMAGE_SORT_MAX of
 * them, then created_at and id (in the first key's direction) as Glance
 * adds them. */
enum db_image_sort {
	DB_IMAGE_SORT_NAME, DB_IMAGE_SORT_STATUS, DB_IMAGE_SORT_CONTAINER_FORMAT,
	DB_IMAGE_SORT_DISK_FORMAT, DB_IMAGE_SORT_SIZE, DB_IMAGE_SORT_ID,
	DB_IMAGE_SORT_CREATED, DB_IMAGE_SORT_UPDATED, DB_IMAGE_SORT__COUNT
};
#define DB_IMAGE_SORT_MAX 4
struct db_image_filter {
	const char *project_id;     /* the reader's: db_image_readable's rule */
	bool is_admin;
	const char *visibility;     /* NULL: Glance's default (others'
	                             * community images left out), "all", or one */
	const char *name, *owner, *status, *disk_format, *container_format;
	int64_t size_min, size_max; /* -1 = no bound */
	bool none;                  /* nothing matches (a tag: kumo has none) */
	const char *marker;         /* an image id: rows after it in the order */
	int limit;
	int nsort;                  /* 0: created_at descending */
	enum db_image_sort sort[DB_IMAGE_SORT_MAX];
	bool asc[DB_IMAGE_SORT_MAX];
};
/* One page of the images f's reader may read, filtered and ordered in
 * SQL: up to f->limit rows after the marker's place (keyset paging). A
 * marker that names no image the reader may read is DB_NOTFOUND. */
int db_image_page(struct db *db, const struct db_image_filter *f,
    struct db_image **out, size_t *n);
int db_image_update(struct db *db, const struct db_image *img);
int db_image_delete(struct db *db, const char *id); /* DB_INUSE if a live instance uses it */
/* Status from expect to status (queued -> saving, saving -> queued):
 * DB_CONFLICT when the status is not expect, DB_NOTFOUND. */
int db_image_set_status(struct db *db, const char *id, const char *expect,
    const char *status);
/* queued -> saving when the owner has fewer than max_uploading images
 * saving (-1 = no bound): DB_NOSPACE when it has that many, DB_CONFLICT
 * from another status, DB_NOTFOUND. */
int db_image_upload_begin(struct db *db, const char *id, int64_t max_uploading);
/* The data is stored: size, md5 checksum and sha256 os_hash_value, status
 * saving -> active, when the owner's active images and this one hold at
 * most max_bytes (-1 = no bound; else DB_NOSPACE), checked in the same
 * statement (DB_CONFLICT from another status, DB_NOTFOUND). */
int db_image_set_data(struct db *db, const char *id, int64_t size,
    const char *checksum, const char *sha256, int64_t max_bytes);

/* ---- instances.c ---- */
struct db_instance {
	int64_t id;
	char uuid[37];
	char name[DB_NAME];
	char project_id[DB_NAME];
	char user_id[DB_NAME];
	char image_ref[37];
	/* the flavor as it was at boot (Nova embeds it likewise) */
	char flavorid[DB_NAME];
	char flavor_name[DB_NAME];
	int vcpus;
	int memory_mb;
	int root_gb;
	int ephemeral_gb;
	int swap;
	char vm_state[16];
	char task_state[32];        /* "" = none */
	int power_state;            /* enum power_state */
	char host[DB_NAME];         /* "" until scheduled */
	char node[DB_NAME];
	char availability_zone[DB_NAME]; /* "" = any */
	char key_name[DB_NAME];
	char reservation_id[32];
	char request_id[64];        /* the creating request */
	char hostname[64];          /* the guest's (Nova's sanitized name) */
	char config_drive[8];       /* "True" or "" (Nova's view) */
	char access_ip_v4[16];      /* as the user gave them ("" = none) */
	char access_ip_v6[46];
	char created_at[DB_TS];
	char updated_at[DB_TS];
	char launched_at[DB_TS];
	char terminated_at[DB_TS];
	char deleted_at[DB_TS];
	bool deleted;
};

/* The orders of an instance list: the columns of Nova's sort keys. Each
 * breaks ties by creation, in the same direction; NULL sorts as "". */
enum db_instance_sort {
	DB_SORT_CREATED = 0,        /* by id: ids grow with created_at */
	DB_SORT_UPDATED,            /* updated_at, else created_at */
	DB_SORT_NAME,
	DB_SORT_UUID,
	DB_SORT_VM_STATE,
	DB_SORT_TASK_STATE,
	DB_SORT_POWER_STATE,
	DB_SORT_LAUNCHED,
	DB_SORT_TERMINATED,
	DB_SORT_AZ,
	DB_SORT_IMAGE,
	DB_SORT_FLAVOR,
	DB_SORT_KEY_NAME,
	DB_SORT_PROJECT,
	DB_SORT_USER,
	DB_SORT_HOST,
	DB_SORT_NODE,
	DB_SORT__COUNT
};

struct db_instance_filter {
	const char *project_id;     /* NULL = all projects */
	const char *host;           /* NULL = any */
	const char *vm_state;       /* NULL = any */
	bool include_deleted;
	const char *marker;         /* uuid: rows after it in sort order */
	int limit;                  /* 0 = no limit */
	const char *name;           /* NULL = any, else a substring of the name */
	const char *flavorid;       /* NULL = any */
	const char *image_ref;      /* NULL = any */
	const char *changes_since;  /* NULL = any, else updated at or after it */
	enum db_instance_sort sort; /* 0: newest first */
	bool sort_asc;
};

/* Inserts the instance and its "create" action in one transaction. */
int db_instance_create(struct db *db, struct db_instance *inst);
struct db_instance_extra;
/* db_instance_create that also keeps extra (NULL: nothing) in the same
 * transaction. */
int db_instance_create_ex(struct db *db, struct db_instance *inst,
    const struct db_instance_extra *extra);
int db_instance_get(struct db *db, const char *uuid, struct db_instance *out); /* not deleted */
int db_instance_get_any(struct db *db, const char *uuid, struct db_instance *out); /* deleted too */
/* In f's order (newest first by default), paged in SQL: up to f->limit
 * rows after the marker's place in that order. A marker that names no
 * instance (deleted ones count) is DB_NOTFOUND. */
int db_instance_list(struct db *db, const struct db_instance_filter *f,
    struct db_instance **out, size_t *n);
/* Sets the states (and host/node when not NULL). If expect_task is not NULL
 * the row's task_state must equal it, else DB_CONFLICT. launched_at is set
 * the first time vm_state becomes active. A NULL vm_state or task_state,
 * or a negative power_state, leaves that one unchanged; "" host/node clear
 * them. DB_NOTFOUND for a missing or deleted instance. */
int db_instance_set_state(struct db *db, const char *uuid,
    const char *vm_state, const char *task_state, int power_state,
    const char *host, const char *node, const char *expect_task);
/* Renames a live instance (PUT /servers/{id}). */
int db_instance_set_name(struct db *db, const char *uuid, const char *name);
/* Sets both access addresses of a live instance ("" = none). */
int db_instance_set_access_ips(struct db *db, const char *uuid, const char *v4,
    const char *v6);
/* Marks deleted, and deletes its allocation, in one transaction. */
int db_instance_destroy(struct db *db, const char *uuid);
/* Up to limit (0 = all) live instances in a build, delete or power task
 * whose row has not changed since updated_before (ISO 8601), the oldest
 * first: what the conductor's watchdog looks at. */
int db_instance_stalled(struct db *db, const char *updated_before, int limit,
    struct db_instance **out, size_t *n);
/* Live instances with a task state, the least recently changed first, at
 * most limit (<= 0: all). */
int db_instance_in_task(struct db *db, int limit, struct db_instance **out,
    size_t *n);
/* Counts live instances, cores and ram of a project (quota checks). */
int db_instance_usage(struct db *db, const char *project_id,
    int64_t *instances, int64_t *cores, int64_t *ram_mb);

/* ---- archive.c: nova-manage db archive_deleted_rows and db purge ---- */

/* The tables archived, children first. */
enum { DB_ARCHIVE_EVENTS, DB_ARCHIVE_ACTIONS, DB_ARCHIVE_FAULTS,
	DB_ARCHIVE_EXTRA, DB_ARCHIVE_METADATA, DB_ARCHIVE_INSTANCES,
	DB_ARCHIVE__COUNT };
extern const char *const db_archive_tables[DB_ARCHIVE__COUNT];
/* Moves the oldest max_rows deleted instances (deleted_at before
 * `before`, "YYYY-MM-DDTHH:MM:SSZ"; NULL = any time), with their
 * actions, events and faults, to the shadow tables, in one transaction;
 * counts[] receives the rows moved from each table. */
int db_archive_deleted(struct db *db, const char *before, int max_rows,
    int64_t counts[DB_ARCHIVE__COUNT]);
/* Deletes the archived instances deleted before `before` (NULL = all),
 * with theirs, from the shadow tables; counts[] as above. */
int db_purge_shadow(struct db *db, const char *before,
    int64_t counts[DB_ARCHIVE__COUNT]);

struct db_fault {
	int code;
	char message[256];
	char details[4096];
	char created_at[DB_TS];
};
int db_fault_add(struct db *db, const char *instance_uuid, int code,
    const char *message, const char *details);
int db_fault_get_latest(struct db *db, const char *instance_uuid, struct db_fault *out);

struct db_action {
	char action[32];            /* create, delete, reboot, stop, start */
	char instance_uuid[37];
	char request_id[64];
	char user_id[DB_NAME];
	char project_id[DB_NAME];
	char start_time[DB_TS];
	char finish_time[DB_TS];
	char message[256];          /* "" or "Error" */
};
int db_action_start(struct db *db, const struct db_action *a);
/* Sets finish_time (and message) on the newest action of this request. */
int db_action_finish(struct db *db, const char *instance_uuid,
    const char *request_id, const char *message);
int db_action_list(struct db *db, const char *instance_uuid,
    struct db_action **out, size_t *n);

/* A step of an action (Nova's instance action event). */
struct db_action_event {
	char event[64];             /* e.g. compute_stop_instance */
	char start_time[DB_TS];
	char finish_time[DB_TS];    /* "" while it runs */
	char result[16];            /* "Success", "Error", "" while it runs */
	char traceback[4096];       /* why it failed, for admins; "" */
	char host[DB_NAME];         /* where it ran */
	char details[256];          /* the failure, for the owner too; "" */
};
/* Adds e to the newest action of this request on the instance;
 * DB_NOTFOUND when there is none. */
int db_action_event_add(struct db *db, const char *instance_uuid,
    const char *request_id, const struct db_action_event *e);
/* The events of that action, newest first. */
int db_action_event_list(struct db *db, const char *instance_uuid,
    const char *request_id, struct db_action_event **out, size_t *n);

/* ---- hosts.c ---- */
struct db_compute_node {
	int64_t id;
	char uuid[37];
	char host[DB_NAME];
	char hypervisor_hostname[DB_NAME];
	char hypervisor_type[32];   /* "QEMU", "fake" */
	int hypervisor_version;
	char host_ip[64];
	int vcpus;
	int memory_mb;
	int local_gb;
	/* used = the sum of allocations (derived on read, never stored) */
	int vcpus_used;
	int memory_mb_used;
	int local_gb_used;
	int running_vms;
	double cpu_allocation_ratio;
	double ram_allocation_ratio;
	double disk_allocation_ratio;
	char updated_at[DB_TS];
};

/* Insert or update by host (resources and ratios, not the usage); sets
 * n->id, n->uuid (a new one on first insert when "") and n->updated_at.
 * The ratios must be > 0. */
int db_compute_node_upsert(struct db *db, struct db_compute_node *n);
int db_compute_node_list(struct db *db, struct db_compute_node **out, size_t *n);
int db_compute_node_get(struct db *db, const char *host, struct db_compute_node *out);

struct db_service {
	int64_t id;
	char uuid[37];
	char host[DB_NAME];
	char binary[64];            /* kumo-compute, kumo-scheduler, kumo-conductor */
	char topic[64];
	bool disabled;
	char disabled_reason[256];
	bool forced_down;
	int64_t report_count;
	int64_t last_seen_up;       /* unix seconds, 0 = never */
	char updated_at[DB_TS];
	char created_at[DB_TS];
};

/* Insert or refresh last_seen_up (= now) and report_count of (host, binary). */
int db_service_heartbeat(struct db *db, const char *host, const char *binary,
    const char *topic);
int db_service_list(struct db *db, struct db_service **out, size_t *n);
int db_service_get(struct db *db, const char *host, const char *binary,
    struct db_service *out);
int db_service_set_disabled(struct db *db, const char *host,
    const char *binary, bool disabled, const char *reason);

/* Atomically: check that vcpus/memory/disk fit the node's capacity times its
 * allocation ratios, given every other allocation on it, and record the
 * allocation of instance_uuid, replacing one it held before (a reschedule).
 * DB_NOSPACE when it does not fit, DB_NOTFOUND for an unknown host.
 * Safe across threads and processes (BEGIN IMMEDIATE). */
/* A build's claim and its move from scheduling to spawning on host/node,
 * in one transaction: DB_CONFLICT (nothing claimed) when the instance is
 * no longer scheduling or is gone, DB_NOTFOUND when the host is, and
 * DB_NOSPACE when the host is full. A build message that arrives twice
 * claims once. */
int db_claim_for_build(struct db *db, const char *instance_uuid,
    const char *host, const char *node, int vcpus, int memory_mb, int disk_gb);
int db_claim(struct db *db, const char *instance_uuid, const char *host,
    int vcpus, int memory_mb, int disk_gb);
int db_allocation_delete(struct db *db, const char *instance_uuid); /* idempotent */

/* ---- keypairs.c ---- */
struct db_keypair {
	int64_t id;
	char name[DB_NAME];
	char user_id[DB_NAME];
	char type[16];              /* "ssh" */
	char fingerprint[128];
	char public_key[8192];
	char created_at[DB_TS];
};

/* DB_CONFLICT when the user has a keypair of that name; sets k->id. */
int db_keypair_create(struct db *db, struct db_keypair *k);
int db_keypair_get(struct db *db, const char *user_id, const char *name,
    struct db_keypair *out);
int db_keypair_list(struct db *db, const char *user_id,
    struct db_keypair **out, size_t *n);  /* by name */
int db_keypair_delete(struct db *db, const char *user_id, const char *name);

/* ---- networks.c ---- */
/* A flat network; its addresses as text (common/netaddr.c checked them). */
struct db_network {
	int64_t id;
	char uuid[37];
	char label[DB_NAME];
	char cidr[64];
	char gateway[16];
	char dhcp_start[16];
	char dhcp_end[16];
	char dns[16];
	char bridge[16];
	int mtu;
	char created_at[DB_TS];
};

struct net_def;
/* The row of a checked network (common/netaddr.c), uuid and id unset. */
void db_network_from_def(const struct net_def *d, struct db_network *n);
/* DB_CONFLICT when the label is taken; sets n->uuid (when "") and id. */
int db_network_create(struct db *db, struct db_network *n);
int db_network_get(struct db *db, const char *uuid, struct db_network *out);
int db_network_get_by_label(struct db *db, const char *label,
    struct db_network *out);
int db_network_list(struct db *db, struct db_network **out, size_t *n);

/* One NIC of an instance: its fixed IP and MAC, and its network. */
struct db_vif {
	char instance_uuid[37];
	int vif_index;              /* 0, 1, ... in the order requested */
	int64_t addr;               /* host byte order */
	char address[16];
	char mac[18];
	char vif_uuid[37];
	char network_uuid[37];
	char network_label[DB_NAME];
	char cidr[64];
	char gateway[16];
	char dns[16];
	char bridge[16];
	int mtu;
};

/* Gives the instance's NIC vif_index an address of net (want, host
 * order, or 0 for the lowest free one) and a new MAC, in one
 * transaction; the NIC it has already when it has one. DB_CONFLICT: want
 * is another NIC's; DB_NOSPACE: no address is free. */
int db_vif_allocate(struct db *db, const char *instance_uuid, int vif_index,
    const struct db_network *net, uint32_t want, struct db_vif *out);
int db_vif_list(struct db *db, const char *instance_uuid, struct db_vif **out,
    size_t *n);                 /* by vif_index */
int db_vif_free(struct db *db, const char *instance_uuid); /* idempotent */
struct db_meta;
/* The NICs, and the metadata, of the instances named by uuids_json (a JSON
 * array of uuids: one query for a list page), by instance. */
int db_vif_list_many(struct db *db, const char *uuids_json,
    struct db_vif **out, size_t *n);
int db_instance_metadata_list_many(struct db *db, const char *uuids_json,
    struct db_meta **out, size_t *n);

struct db_meta {
	char instance_uuid[37];
	char key[256];
	char value[256];
};

/* What a create was given for the guest alone; strings (NULL = none). */
struct db_instance_extra {
	const char *user_data;          /* base64, as the API took it */
	const char *key_data;           /* the key pair's public key */
	const char *key_type;           /* "ssh", "x509" */
	const char *requested_networks; /* JSON: null, "auto", "none", [...] */
	const struct db_meta *meta;     /* the server's metadata */
	size_t n_meta;
};

/* The strings into out, malloc'ed (meta is not read: see below);
 * db_instance_extra_clear frees them. DB_NOTFOUND when none was kept. */
int db_instance_extra_get(struct db *db, const char *uuid,
    struct db_instance_extra *out);
void db_instance_extra_clear(struct db_instance_extra *x);
int db_instance_metadata_list(struct db *db, const char *uuid,
    struct db_meta **out, size_t *n);   /* by key */

/* ---- quotas.c ---- */
/* A project's limit for one resource ("instances", "cores", "ram",
 * "key_pairs"); -1 = unlimited. DB_NOTFOUND: no override, the caller's
 * default applies. */
struct db_quota {
	char project_id[DB_NAME];
	char resource[64];
	int64_t hard_limit;
};

int db_quota_get(struct db *db, const char *project_id, const char *resource,
    int64_t *limit);
int db_quota_set(struct db *db, const char *project_id, const char *resource,
    int64_t limit);                     /* insert or replace */
int db_quota_delete(struct db *db, const char *project_id); /* all of it; idempotent */
int db_quota_list(struct db *db, const char *project_id,
    struct db_quota **out, size_t *n);  /* by resource */

/* ---- identity.c, identity_catalog.c ---- */
/* Keystone's objects as kumo's own identity service keeps them. Ids are
 * 32 lower-case hex characters (uuid4 without dashes), except the domain
 * "default". Names are unique per domain (users, projects) or globally
 * (roles, domains), compared exactly. Nothing here hashes or checks a
 * password: the caller stores and reads password_hash as an opaque string. */
#define DB_ID 65                    /* ids: at most 64 bytes */

struct db_domain {
	char id[DB_ID];
	char name[DB_NAME];
	char description[DB_NAME];      /* "" = null */
	bool enabled;
};

struct db_project {
	char id[DB_ID];
	char name[DB_NAME];
	char domain_id[DB_ID];
	char description[DB_NAME];      /* "" = null */
	bool enabled;
	char created_at[DB_TS];
};

struct db_user {
	char id[DB_ID];
	char name[DB_NAME];
	char domain_id[DB_ID];
	char password_hash[128];        /* "" = no password (cannot log in) */
	bool enabled;
	char default_project_id[DB_ID]; /* "" = none */
	char created_at[DB_TS];
	int64_t password_changed_at;    /* unix seconds, 0 = never set */
};

struct db_role {
	char id[DB_ID];
	char name[DB_NAME];
	char description[DB_NAME];      /* "" = null */
	bool immutable;                 /* options.immutable (bootstrap's roles) */
};

enum db_assign_scope { DB_SCOPE_PROJECT, DB_SCOPE_DOMAIN, DB_SCOPE_SYSTEM };

/* A direct assignment: user has role on a project, a domain or the system
 * (target_id "all"). */
struct db_assignment {
	char user_id[DB_ID];
	enum db_assign_scope scope;
	char target_id[DB_ID];
	char role_id[DB_ID];
};

struct db_assignment_filter {
	const char *user_id;            /* NULL = any */
	const char *project_id;         /* NULL = any; set: project scope only */
	const char *domain_id;          /* NULL = any; set: domain scope only */
	const char *role_id;            /* NULL = any */
};

struct db_region {
	char id[DB_ID];
	char description[DB_NAME];
};

struct db_service_entry {           /* the catalog's services */
	char id[DB_ID];
	char type[64];
	char name[DB_NAME];
	char description[DB_NAME];
	bool enabled;
};

struct db_endpoint {
	char id[DB_ID];
	char service_id[DB_ID];
	char interface[16];             /* public, internal, admin */
	char region_id[DB_ID];          /* "" = none */
	char url[1024];
	bool enabled;
};

struct db_app_cred {
	char id[DB_ID];
	char name[DB_NAME];
	char user_id[DB_ID];
	char project_id[DB_ID];
	char description[DB_NAME];
	char secret_hash[128];
	int64_t expires_at;             /* unix seconds, 0 = never */
	bool unrestricted;
	char roles[1024];               /* role ids, comma-separated */
};

/* Create calls: DB_CONFLICT for a duplicate id or name, DB_NOTFOUND for a
 * reference that does not exist (domain, project, user, role, service).
 * An empty id is given a new one (written back). */
int db_domain_create(struct db *db, struct db_domain *d);
int db_domain_get(struct db *db, const char *id, struct db_domain *out);
int db_domain_get_by_name(struct db *db, const char *name, struct db_domain *out);
int db_domain_list(struct db *db, struct db_domain **out, size_t *n); /* by name */

int db_project_create(struct db *db, struct db_project *p);
int db_project_get(struct db *db, const char *id, struct db_project *out);
int db_project_get_by_name(struct db *db, const char *domain_id,
    const char *name, struct db_project *out);
/* By name; domain_id NULL = every domain. */
int db_project_list(struct db *db, const char *domain_id,
    struct db_project **out, size_t *n);
/* Name, description and enabled of p->id. */
int db_project_update(struct db *db, const struct db_project *p);
/* Deletes the project and every assignment on it (one transaction). */
int db_project_delete(struct db *db, const char *id);
/* The projects user_id has any role on (directly), by name. */
int db_user_projects(struct db *db, const char *user_id,
    struct db_project **out, size_t *n);

int db_user_create(struct db *db, struct db_user *u);
int db_user_get(struct db *db, const char *id, struct db_user *out);
int db_user_get_by_name(struct db *db, const char *domain_id,
    const char *name, struct db_user *out);
/* By name; domain_id NULL = every domain. */
int db_user_list(struct db *db, const char *domain_id,
    struct db_user **out, size_t *n);
/* Name, enabled, default_project_id and password_hash of u->id;
 * password_changed_at is set to now when the hash differs from the stored
 * one. */
int db_user_update(struct db *db, const struct db_user *u);
/* Deletes the user, their assignments and application credentials. */
int db_user_delete(struct db *db, const char *id);

int db_role_create(struct db *db, struct db_role *r);
int db_role_get(struct db *db, const char *id, struct db_role *out);
int db_role_get_by_name(struct db *db, const char *name, struct db_role *out);
int db_role_list(struct db *db, struct db_role **out, size_t *n); /* by name */
int db_role_delete(struct db *db, const char *id); /* and its assignments */
/* prior implies implied (admin => member => reader); idempotent. */
int db_role_imply(struct db *db, const char *prior_id, const char *implied_id);

/* Idempotent: an existing assignment is DB_OK. */
int db_assignment_add(struct db *db, const struct db_assignment *a);
int db_assignment_remove(struct db *db, const struct db_assignment *a); /* DB_NOTFOUND if absent */
/* Ordered by user, scope (domain, project, system), target, role. */
int db_assignment_list(struct db *db, const struct db_assignment_filter *f,
    struct db_assignment **out, size_t *n);
/* The effective roles of user_id on a target: the direct assignments
 * plus every role they imply (transitively), each once, ordered by the
 * roles' names. DB_OK with *n 0 when there are none. */
int db_effective_roles(struct db *db, const char *user_id,
    enum db_assign_scope scope, const char *target_id,
    struct db_role **out, size_t *n);

int db_region_create(struct db *db, const struct db_region *r); /* id given */
int db_region_list(struct db *db, struct db_region **out, size_t *n); /* by id */

int db_catalog_service_create(struct db *db, struct db_service_entry *s);
int db_catalog_service_get(struct db *db, const char *id,
    struct db_service_entry *out);
int db_catalog_service_list(struct db *db, struct db_service_entry **out,
    size_t *n); /* by type, then name */
int db_endpoint_create(struct db *db, struct db_endpoint *e);
/* service_id NULL = all; ordered by service, then interface. */
int db_endpoint_list(struct db *db, const char *service_id,
    struct db_endpoint **out, size_t *n);

/* Revocations. A token is revoked when an event matches it: by its audit
 * id (DELETE /v3/auth/tokens), or by its user and issued at or before
 * the event (the user disabled, deleted, their password changed). */
int db_revoke_audit_id(struct db *db, const char *audit_id, int64_t expires_at);
/* A user's newest event covers their older ones, which it replaces; user
 * events have no expiry, so db_revoke_prune keeps them. */
int db_revoke_user(struct db *db, const char *user_id, int64_t issued_before);
/* DB_OK and *revoked. audit_ids: NULL-terminated. */
int db_token_revoked(struct db *db, const char *user_id, int64_t issued_at,
    const char *const *audit_ids, bool *revoked);
/* The events' generation: it changes at every revocation and every
 * identity write (users, projects, roles, assignments), so a cache of
 * them is valid while it does not change. A write that changes no row
 * (an assignment or implication that exists) leaves it. */
int db_identity_generation(struct db *db, int64_t *out);
/* Drops revocation events whose tokens have all expired. */
int db_revoke_prune(struct db *db, int64_t now);

int db_app_cred_create(struct db *db, struct db_app_cred *c);
int db_app_cred_get(struct db *db, const char *id, struct db_app_cred *out);
int db_app_cred_get_by_name(struct db *db, const char *user_id,
    const char *name, struct db_app_cred *out);
int db_app_cred_list(struct db *db, const char *user_id,
    struct db_app_cred **out, size_t *n); /* by name */
int db_app_cred_delete(struct db *db, const char *user_id, const char *id);

#endif
