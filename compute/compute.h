/*
 * compute/: kumo-compute, the service on every hypervisor host. It has no
 * database (the Makefile does not link db/): it builds and destroys what
 * RPC asks for, through a virt driver, and reports to the conductor.
 *
 *   manager.c   the RPC methods of topic "compute" (server = host)
 *   actions.c   reboot, stop, start and the console of a built instance
 *   report.c    the periodic service heartbeat and compute node report
 *   sync.c      reconciliation with the conductor's view: at start, tasks
 *               a restart cut short are finished or failed and orphan
 *               domains reaped; power states synced periodically
 *   locks.c     one operation at a time per instance (Nova's
 *               synchronized(instance.uuid))
 *   args.c      validation of arguments received over RPC
 *   guest.c     the build's "guest": its NICs and config drive contents
 *   vifs.c      the guest's NICs to the driver and their leases to
 *               kumo-netd; its config drive's contents
 *   imagecache.c  image data downloaded from kumo-api into
 *               <state_path>/_base/<sha256>, once per image per host
 *   service_token.c  the token of the compute's own calls to kumo-api:
 *               the [service_user]'s Keystone token, reused until it
 *               nearly expires
 *   configdrive.c  the instance's config drive as Nova writes it: the
 *               openstack/ and ec2/ metadata documents and their tree
 *   configdrive_fs.c  that tree as a file system image: ISO 9660 through
 *               libisofs (in-process), or vfat (mkfs.vfat + mcopy)
 *   netclient.c the client of kumo-netd (compute/net/), the host's
 *               privileged network helper: guests' DHCP leases
 *   virt/       the drivers (virt.h)
 */
#ifndef KUMO_COMPUTE_H
#define KUMO_COMPUTE_H

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "common/common.h"
#include "common/http.h"
#include "common/rpc/rpc.h"
#include "common/rpcapi.h"
#include "compute/virt/virt.h"

/* ---- locks.c ---- */
struct compute_locks {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char (*busy)[UUID_STR_LEN];
	size_t n, cap;
	uint64_t taken;             /* compute_lock calls so far */
};

void compute_locks_init(struct compute_locks *l);
void compute_locks_fini(struct compute_locks *l);
/* Waits until no other thread holds uuid, then holds it. -1 on OOM. */
int compute_lock(struct compute_locks *l, const char *uuid);
void compute_unlock(struct compute_locks *l, const char *uuid);
/* Whether an operation holds uuid now (a hint: it may end at once). */
bool compute_lock_busy(struct compute_locks *l, const char *uuid);
/* How many times a lock was taken so far: a reader that saw it unchanged
 * (but for its own compute_lock calls) knows no operation ran meanwhile. */
uint64_t compute_locks_taken(struct compute_locks *l);

/* The image of a build, from the instance's "image" (rpcapi.h). */
struct compute_image_file {
	char id[UUID_STR_LEN];      /* "" = none */
	bool has_data;              /* active, with a size and a sha256 */
	int64_t size;
	char sha256[65];
};

struct compute_image {
	struct compute_image_file disk, kernel, ramdisk;
	char disk_format[16];
	char cmdline[1024];
};

/* ---- service_token.c ---- */
#define COMPUTE_TOKEN_MAX 1024  /* Fernet tokens are ~200 characters */

/* The service user's token (c->conf [service_user]). */
struct compute_token {
	pthread_mutex_t mu;          /* held across a login: one at a time */
	char value[COMPUTE_TOKEN_MAX]; /* "" = none; never logged */
	time_t expires;              /* expires_at, wall clock */
};

/* The daemon's state, shared by the RPC handlers. */
struct compute {
	const struct kumo_conf *conf;  /* borrowed */
	struct virt_driver *driver;    /* borrowed */
	struct rpc_transport *rpc;     /* borrowed */
	struct compute_locks locks;
	struct compute_locks image_locks; /* one download per image */
	struct compute_token token;    /* .mu = PTHREAD_MUTEX_INITIALIZER */
	bool report_failing;           /* only the main thread heartbeats */
	bool resources_failing;        /* only the sync thread reports them */
	bool sync_failing;             /* only the sync thread syncs */
	bool reaped;                   /* the start-up round ran (sync thread) */
	int64_t started_at;            /* unix seconds: a task the database
	                                * changed later is not one our
	                                * restart cut short */
	/* Builds the start-up round declared lost (sync.c): a build message
	 * for one of them that arrives later is dropped. */
	pthread_mutex_t lost_mu;
	char (*lost)[UUID_STR_LEN];
	size_t n_lost;
};

/* ---- manager.c ---- */
extern const struct rpc_method compute_methods[];
extern const size_t compute_n_methods;

/* ---- actions.c: handlers in manager.c's method table ---- */
int compute_reboot_instance_rpc(void *arg, const struct rpc_ctx *ctx,
    json_t *args, json_t **result, struct rpc_error *err);
int compute_stop_instance_rpc(void *arg, const struct rpc_ctx *ctx,
    json_t *args, json_t **result, struct rpc_error *err);
int compute_start_instance_rpc(void *arg, const struct rpc_ctx *ctx,
    json_t *args, json_t **result, struct rpc_error *err);
int compute_get_console_output_rpc(void *arg, const struct rpc_ctx *ctx,
    json_t *args, json_t **result, struct rpc_error *err);
/* Pure helpers (unit-tested): the start of the last `lines` lines (-1 =
 * all); in-place cleaning of console text to printable UTF-8. */
const char *compute_console_tail(const char *text, size_t len, int lines);
size_t compute_console_clean(char *s, size_t len);

/* ---- imagecache.c ---- */
/* Makes the image's files local (downloading what the cache lacks,
 * checking size and sha256) and sets inst's disk_path, disk_format,
 * kernel_path, ramdisk_path and cmdline. Files without data are skipped
 * (their paths stay ""). 0, or -1 with a one-line reason. */
int compute_image_prepare(struct compute *c, const struct compute_image *img,
    struct virt_instance *inst, char *reason, size_t reasonlen);

/* ---- service_token.c ---- */
/* The X-Auth-Token of the compute's own calls into out: [glance]
 * auth_token when [service_user] auth_url is empty; else the service
 * user's token, logging in (POST <auth_url>/auth/tokens?nocatalog, the
 * password method by names, project-scoped) when there is none, when it
 * expires within a minute, or when it equals `refused` (a call was just
 * answered 401 with it; NULL = none). A failed login is logged once, with
 * Keystone's status and message. 0, or -1 with a one-line reason. */
int compute_service_token(struct compute *c, const char *refused, char *out,
    size_t len, char *reason, size_t reasonlen);
/* Forgets the token (zeroed). */
void compute_service_token_clear(struct compute *c);
/* Pure helpers (unit-tested): the login body (owned; it holds the
 * password), and the expires_at of a token answer's body. 0 or -1. */
json_t *compute_token_request(const struct kumo_conf *conf);
int compute_token_expiry(const char *body, size_t len, time_t *expires);

/* ---- report.c ---- */
/* Casts to the conductor, logging when reporting starts or stops failing:
 * the service heartbeat (main thread) and the host's resources (the
 * reconciliation thread: it may wait on the hypervisor). */
void compute_heartbeat(struct compute *c);
void compute_report_resources(struct compute *c);

/* ---- sync.c ---- */
/* Compares the driver with the instances the conductor lists for this
 * host (the sync thread only). At start (`start`), as Nova's _init_instance,
 * finishes what a restart cut short: a build with no running domain is
 * lost (ERROR with a fault; a build message for it arriving later is
 * dropped), a delete is done, a stop, start or reboot is completed; and
 * destroys the domains of instances deleted meanwhile. Then, for each
 * listed instance with no task, reports a power state the driver sees
 * differently (an active guest found off becomes stopped; a stopped one
 * found running is powered off, as Nova does). Stops early, to retry next
 * time, when any operation ran on this host meanwhile. 0, or -1 when the
 * round did not complete. */
int compute_sync(struct compute *c, bool start);
/* true when the start-up round declared uuid's build lost. Any thread. */
bool compute_build_lost(struct compute *c, const char *uuid);
void compute_sync_free(struct compute *c);

/* ---- args.c: the build arguments (common/rpcapi.h checks tables) ---- */
/* obj[key] (a string wire_check let through) into dst, cut to size. */
void compute_json_str(char *dst, size_t size, const json_t *obj,
    const char *key);
/* The "instance" object of build_and_run_instance, checked and copied. */
/* ---- guest.c ---- */
#define COMPUTE_MAX_NICS VIRT_MAX_NICS
/* One NIC the controller gave the instance (checked). */
struct compute_nic {
	char vif_id[UUID_STR_LEN];
	char network_id[UUID_STR_LEN];
	char network_label[256];
	char bridge[16];
	char mac[MAC_STR_LEN];
	char address[IP4_STR_LEN];
	int prefix;
	char gateway[IP4_STR_LEN];  /* "" = none */
	char dns[IP4_STR_LEN];      /* "" = none */
	int mtu;
};
struct compute_guest {
	bool present;               /* the build carried a "guest" */
	bool config_drive;
	char hostname[256];
	char availability_zone[256];
	int launch_index;
	unsigned char *user_data;   /* decoded; owned */
	size_t user_data_len;
	bool has_user_data;
	char key_name[256];         /* "" = no key pair */
	char key_type[16];
	char *key_data;             /* owned */
	json_t *metadata;           /* owned, or NULL */
	struct compute_nic nics[COMPUTE_MAX_NICS];
	size_t n_nics;
};
/* The instance's "guest" into g (zeroed, present false, when absent);
 * -1 with err for anything of the wrong shape. */
int compute_args_guest(const json_t *instance, struct compute_guest *g,
    struct rpc_error *err);
void compute_guest_clear(struct compute_guest *g);

/* ---- vifs.c ---- */
/* Whether guests sit on the host's bridge, their leases kept by
 * kumo-netd: the libvirt driver with [libvirt] vif_type = bridge. */
bool compute_uses_netd(const struct compute *c);
void compute_guest_nics(const struct compute_guest *g,
    struct virt_instance *inst);
/* Each NIC's fixed address as a static lease (kumo-netd); -1 with reason. */
int compute_vifs_plug(struct compute *c, const char *uuid,
    const struct compute_guest *g, char *reason, size_t len);
/* The instance's leases gone (a failure is logged). */
void compute_vifs_unplug(struct compute *c, const char *uuid);
struct configdrive;
struct configdrive_nic;
/* cd describes the guest (strings borrowed from g, inst and fqdn). */
void compute_guest_configdrive(const struct compute *c,
    const struct compute_guest *g, const struct virt_instance *inst,
    struct configdrive *cd, struct configdrive_nic *nics, char *fqdn,
    size_t fqdn_len);

int compute_args_instance(const json_t *obj, struct virt_instance *out,
    struct rpc_error *err);
/* Its "image" (absent or null: no image data), checked and copied. */
int compute_args_image(const json_t *instance, struct compute_image *out,
    struct rpc_error *err);

/* ---- configdrive.c ---- */
/* Bounds on what the controller may send (configdrive_check). */
#define CONFIGDRIVE_USER_DATA_MAX 65535  /* Nova's user_data column */
#define CONFIGDRIVE_HOSTNAME_MAX 253
#define CONFIGDRIVE_KEY_MAX 16384        /* an ssh line or an x509 PEM */
#define CONFIGDRIVE_META_MAX 128         /* Nova's metadata items quota */
#define CONFIGDRIVE_NICS_MAX 16

struct configdrive_nic {          /* one NIC, as network_data.json describes it */
	char vif_id[UUID_STR_LEN];    /* port uuid */
	char network_id[UUID_STR_LEN];
	char mac[MAC_STR_LEN];        /* "fa:16:3e:.." */
	char address[IP4_STR_LEN];    /* fixed IPv4 */
	int prefix;                   /* 8-30 -> netmask */
	char gateway[IP4_STR_LEN];    /* "" = no default route */
	char dns[IP4_STR_LEN];        /* "" = none */
	int mtu;                      /* 0 = unknown (null), else 68-65535 */
};

/* What goes on the drive. Every pointer is borrowed for the call. */
struct configdrive {
	const char *uuid, *name, *hostname;   /* hostname: full, e.g. "vm1.novalocal" */
	const char *availability_zone;        /* "nova" when "" or NULL */
	const char *project_id;               /* NULL: null */
	int launch_index;
	const char *key_name, *key_data, *key_type;  /* key_name NULL or "": no key
	                                               * pair; type "ssh" (NULL) or "x509" */
	const unsigned char *user_data; size_t user_data_len;  /* raw (already
	                                      * base64-decoded); NULL or 0 bytes: none */
	const json_t *meta;                   /* server metadata: object of string->string, or NULL */
	const struct configdrive_nic *nics; size_t n_nics;
};

/* Wiring (the recipe's section 8): before spawn, under the instance's
 * lock, write <instance dir>/disk.config ([DEFAULT] config_drive_format)
 * and attach it read-only: iso9660 as <disk device='cdrom'> on ide (pc) or
 * sata (q35), vfat as a disk. cloud-init finds it by its label config-2.
 *
 * Writes the drive to path (created 0644, replaced atomically via path.tmp
 * + rename; the caller holds the instance's lock, so no two writers share
 * path.tmp): format "iso9660" (libisofs, volume id config-2, Rock Ridge +
 * Joliet) or "vfat" (64 MiB, label config-2, mkfs.vfat + mcopy from a
 * temporary directory path.tmp.d.XXXXXX); see configdrive_fs.c. 0, or -1
 * with a one-line reason in err (bad input: which field). Thread-safe. */
int configdrive_write(const struct configdrive *cd, const char *format,
    const char *path, char *err, size_t errlen);
/* Checks every field against the bounds above (uuids, MACs, IPv4
 * addresses, UTF-8, lengths): 0, or -1 with the first problem in err
 * (err may be NULL). configdrive_write runs it first. */
int configdrive_check(const struct configdrive *cd, char *err, size_t errlen);
/* The documents, for tests: meta_data.json for a version dir
 * ("2012-08-10" ... "latest"; a fresh random_seed each call),
 * network_data.json (NULL when n_nics == 0). Owned; NULL on bad input. */
json_t *configdrive_meta_data(const struct configdrive *cd, const char *version);
json_t *configdrive_network_data(const struct configdrive *cd);

/* ---- configdrive_fs.c ---- */
/* One file of a drive, its content in memory. */
struct configdrive_file {
	char path[48];          /* relative: "openstack/latest/meta_data.json" */
	unsigned char *data;    /* malloc'd; NULL once a writer took it */
	size_t len;
};

/* Write the n files into a new file out (0644), creating their
 * directories. iso: volume id config-2, Rock Ridge (owner root, files
 * 0444, directories 0555) and Joliet; it takes each file's data (sets it
 * NULL). vfat: 64 MiB, label config-2, through a private directory
 * out.d.XXXXXX removed afterwards. 0, or -1 with a one-line reason (out
 * may then be left half-written: the caller removes it). Thread-safe. */
int configdrive_iso_write(struct configdrive_file *f, size_t n,
    const char *out, char *err, size_t errlen);
int configdrive_vfat_write(struct configdrive_file *f, size_t n,
    const char *out, char *err, size_t errlen);
/* ---- netclient.c ---- */
/* Calls to kumo-netd over [network] helper_socket (unix SOCK_SEQPACKET,
 * one JSON request and one reply), each within COMPUTE_NET_TIMEOUT_S.
 * 0, or -1 with a one-line reason in err (kumo-netd's own error, or why
 * it could not be asked). */
#define COMPUTE_NET_TIMEOUT_S 5
/* The lease of one NIC of instance (its leases go together). */
int compute_net_lease_add(const struct kumo_conf *c, const char *instance,
    const char *mac, const char *ip, const char *hostname, char *err,
    size_t errlen);
int compute_net_lease_del_instance(const struct kumo_conf *c,
    const char *instance, char *err, size_t errlen);
int compute_net_lease_del(const struct kumo_conf *c, const char *mac,
    char *err, size_t errlen);
/* leases: [{"mac", "ip", "hostname"}, ...], the whole set of this host
 * (borrowed). */
int compute_net_leases_sync(const struct kumo_conf *c, const json_t *leases,
    char *err, size_t errlen);
/* *out: the reply {"ok", "bridge", "managed", "dnsmasq_pid", "leases"},
 * owned by the caller. */
int compute_net_status(const struct kumo_conf *c, json_t **out, char *err,
    size_t errlen);

#endif
