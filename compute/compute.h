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
 *   imagecache.c  image data downloaded from kumo-api into
 *               <state_path>/_base/<sha256>, once per image per host
 *   service_token.c  the token of the compute's own calls to kumo-api:
 *               the [service_user]'s Keystone token, reused until it
 *               nearly expires
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
	bool report_failing;           /* only the main thread reports */
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
/* Casts the service heartbeat and the driver's resources to the
 * conductor; logs when reporting starts or stops failing. */
void compute_report(struct compute *c);

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
/* The "instance" object of build_and_run_instance, checked and copied. */
int compute_args_instance(const json_t *obj, struct virt_instance *out,
    struct rpc_error *err);
/* Its "image" (absent or null: no image data), checked and copied. */
int compute_args_image(const json_t *instance, struct compute_image *out,
    struct rpc_error *err);

/* ---- netclient.c ---- */
/* Calls to kumo-netd over [network] helper_socket (unix SOCK_SEQPACKET,
 * one JSON request and one reply), each within COMPUTE_NET_TIMEOUT_S.
 * 0, or -1 with a one-line reason in err (kumo-netd's own error, or why
 * it could not be asked). */
#define COMPUTE_NET_TIMEOUT_S 5
int compute_net_lease_add(const struct kumo_conf *c, const char *mac,
    const char *ip, const char *hostname, char *err, size_t errlen);
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
