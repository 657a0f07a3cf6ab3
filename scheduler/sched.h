/*
 * scheduler/: kumo-scheduler, which serves two RPC topics from one process:
 * "scheduler" (placement) and "conductor" (state updates from computes).
 *
 *   select.c       the pure part: filter, weigh and order candidate hosts
 *   registry.c     the tables of filters and weighers, enabled by name
 *   filters/       one host filter per file (Nova's names)
 *   weighers/      one weigher per file
 *   build.c        scheduler.build_instances: pick, claim, cast to compute
 *   network.c      the default network, a build's NICs (fixed IPs), and
 *                  what the guest is told (config drive contents)
 *   conductor.c    conductor.* methods: instance updates, reschedules,
 *                  deletes, compute node and service reports
 *   wire.c         validation of arguments received over RPC
 *
 * The pure part (select.c, filters, weighers) touches neither the DB nor
 * the broker, so unit tests drive it with hand-made host lists.
 */
#ifndef KUMO_SCHED_H
#define KUMO_SCHED_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/common.h"
#include "common/rpc/rpc.h"
#include "common/rpcapi.h"
#include "db/db.h"

#define SCHED_MAX_PLUGINS 16
#define SCHED_MAX_RETRY_HOSTS 100

/* What a placement needs to know of the request (Nova's RequestSpec). */
struct sched_request {
	int vcpus;
	int memory_mb;
	int disk_gb;                   /* sched_disk_gb() of the flavor */
	const char *availability_zone; /* "" = any */
	const char *const *ignore_hosts; /* hosts of earlier attempts */
	size_t n_ignore_hosts;
};

/* The knobs filters and weighers read, from kumo.conf, and the clock. */
struct sched_policy {
	double cpu_allocation_ratio;
	double ram_allocation_ratio;
	double disk_allocation_ratio;
	double ram_weight_multiplier;
	int service_down_time;         /* seconds */
	int64_t now;                   /* unix seconds */
};

/* One candidate: a compute node and its service row (NULL = never
 * reported, treated as down). Both borrowed. */
struct sched_host {
	const struct db_compute_node *node;
	const struct db_service *service;
	double weight;                 /* set by sched_select */
};

/* A filter returns true when the host can take the request. It bails out
 * on its first line when it does not apply. */
typedef bool (*sched_filter_fn)(const struct sched_host *host,
    const struct sched_request *req, const struct sched_policy *pol);
/* A weigher returns the raw weight of a host; sched_select normalises the
 * raw weights of all hosts to [0, 1] and multiplies by `multiplier`. */
typedef double (*sched_weigher_fn)(const struct sched_host *host,
    const struct sched_policy *pol);
typedef double (*sched_multiplier_fn)(const struct sched_policy *pol);

struct sched_filter {
	const char *name;
	sched_filter_fn fn;
};

struct sched_weigher {
	const char *name;
	sched_weigher_fn fn;
	sched_multiplier_fn multiplier;
};

/* The enabled plugins, in config order. */
struct sched_plugins {
	const struct sched_filter *filters[SCHED_MAX_PLUGINS];
	size_t n_filters;
	const struct sched_weigher *weighers[SCHED_MAX_PLUGINS];
	size_t n_weighers;
};

/* ---- registry.c ---- */
/* Enables the comma-separated names of enabled_filters and weight_classes.
 * On an unknown or repeated name: -1 and a message naming it in err. */
int sched_plugins_load(struct sched_plugins *p, const char *filters,
    const char *weighers, char *err, size_t errlen);
const struct sched_filter *sched_filter_find(const char *name);
const struct sched_weigher *sched_weigher_find(const char *name);

/* ---- select.c ---- */
/* Disk a flavor takes on a host, in GB: root + ephemeral + swap rounded up
 * (what the claim records and DiskFilter checks). */
int sched_disk_gb(int root_gb, int ephemeral_gb, int swap_mb);
/* True when `used + want` fits `total * ratio` (the one rounding rule). */
bool sched_fits(int total, int used, double ratio, int want);
bool sched_service_up(const struct db_service *svc,
    const struct sched_policy *pol);
/* Filters hosts in place (the survivors first, in their input order),
 * weighs and orders them best first; returns how many survive. When none
 * does, `why` names the first filter that left no host. */
size_t sched_select(const struct sched_plugins *p, struct sched_host *hosts,
    size_t n, const struct sched_request *req, const struct sched_policy *pol,
    char *why, size_t whylen);
void sched_policy_from_conf(struct sched_policy *pol,
    const struct kumo_conf *conf);

/* ---- filters/ ---- */
bool filter_compute(const struct sched_host *, const struct sched_request *,
    const struct sched_policy *);
bool filter_ram(const struct sched_host *, const struct sched_request *,
    const struct sched_policy *);
bool filter_core(const struct sched_host *, const struct sched_request *,
    const struct sched_policy *);
bool filter_disk(const struct sched_host *, const struct sched_request *,
    const struct sched_policy *);
bool filter_availability_zone(const struct sched_host *,
    const struct sched_request *, const struct sched_policy *);

/* ---- weighers/ ---- */
double weigher_ram(const struct sched_host *, const struct sched_policy *);
double weigher_ram_multiplier(const struct sched_policy *);

/* ---- the daemon's state, shared by the RPC handlers ---- */
struct sched {
	const struct kumo_conf *conf;  /* borrowed */
	struct db *db;                 /* borrowed */
	struct rpc_transport *rpc;     /* borrowed */
	struct sched_plugins plugins;
	/* unix seconds, set by the main loop: since when both RPC servers
	 * consume (0 = not now), and when they last stopped (0 = never) */
	volatile int64_t consuming_since;
	volatile int64_t broker_lost_at;
	/* unix seconds: when the main loop (heartbeat, watchdog) last found
	 * the database's disk full (main thread; 0 = never) */
	int64_t db_full_at;
};

/* ---- build.c ---- */
extern const struct rpc_method sched_methods[];
extern const size_t sched_n_methods;
/* The "instance" of a build_and_run_instance cast (rpcapi.h), its images
 * described and checked against ctx's project; a new reference, or NULL
 * (logged). */
json_t *sched_instance_json(struct db *db, const struct rpc_ctx *ctx,
    const struct db_instance *i);

/* ---- network.c ---- */
/* The [network] network in the database, made when absent. 0 or -1. */
int sched_network_ensure(struct db *db, const struct kumo_conf *conf);
/* The NICs the instance's create asked for; DB_OK, or a failure with the
 * fault's message in why (DB_NOSPACE: "No more fixed IPs ..."). */
int sched_allocate_nics(struct sched *s, const char *uuid, char *why,
    size_t wlen);
/* The instance's "guest" object (rpcapi.h): hostname, config_drive, key,
 * user_data, metadata, nics. A new reference, or NULL. */
json_t *sched_guest_json(struct db *db, const struct db_instance *i);

/* ---- conductor.c ---- */
extern const struct rpc_method cond_methods[];
extern const size_t cond_n_methods;
/* Sets the instance ERROR (expecting task_state expect_task, NULL = any),
 * records a fault and finishes the create action with "Error". -1 when
 * the instance changed meanwhile (logged). */
int cond_set_error(struct sched *s, const struct rpc_ctx *ctx,
    const char *uuid, const char *expect_task, const char *message,
    const char *details);

/* ---- watch.c: the conductor's watchdog ---- */
#define WATCH_INTERVAL_S 10   /* between rounds */
#define WATCH_STALL_S 60      /* a build unchanged this long is looked at */
#define WATCH_DEAD_FACTOR 3   /* silent this many service_down_times: dead
                              * (the heartbeat never waits on the hypervisor:
                              * compute/report.c) */
/* One round (main thread); see watch.c for what it decides. */
void cond_watch(struct sched *s, int64_t consuming_since);

/* ---- verdict.c: the watchdog's rules (also kumo-manage's) ---- */
enum watch_verdict {
	WATCH_NOT_WATCHED,     /* a task the watchdog does not look at */
	WATCH_NOTHING,         /* its compute has it */
	WATCH_MOVING,          /* changed within the stall time(s) */
	WATCH_TIMED_OUT,       /* ERROR: instance_build_timeout */
	WATCH_RESEND_BUILD,    /* scheduling: build_instances again */
	WATCH_API_DELETES,     /* deleting, never scheduled */
	WATCH_RESEND_TO_HOST,  /* spawning on an up host: build_and_run again */
	WATCH_WAIT_HOST,       /* host silent, not yet for long enough */
	WATCH_HOST_LOST,       /* ERROR: its host is down */
	WATCH_LOCAL_DELETE,    /* deleting on a down host: done in the db */
	WATCH_RESEND_ACTION,   /* reboot/stop/start on an up host: cast again */
	WATCH_ACTION_LOST,     /* the same on a down host: task cleared, Error */
	WATCH_ACTION_TIMED_OUT, /* instance_action_timeout: task cleared, Error */
};
/* What the watchdog does about inst at now. can_judge: the conductor has
 * consumed (and recorded) for service_down_time, so a silent host is down. */
enum watch_verdict watch_judge(const struct kumo_conf *conf,
    const struct db_instance *inst, const struct db_service *svc, size_t nsvc,
    int64_t now, bool can_judge);
const char *watch_verdict_text(enum watch_verdict v);   /* static */
/* No kumo-compute report from host within service_down_time (or forced
 * down, or no such service). */
bool watch_host_down(const struct kumo_conf *conf, const struct db_service *svc,
    size_t n, const char *host, int64_t now);
/* How long an instance stays unchanged before the watchdog looks at it. */
int64_t watch_stall(const struct kumo_conf *conf);

/* ---- wire.c: the retry record (common/rpcapi.h checks the rest) ---- */
/* The retry record of a build: {"num_attempts": n, "hosts": [s...]}. */
struct sched_retry {
	int num_attempts;
	const char *hosts[SCHED_MAX_RETRY_HOSTS]; /* borrowed from the JSON */
	size_t n_hosts;
};
/* retry may be NULL or JSON null (a first attempt). */
int wire_retry(const json_t *retry, struct sched_retry *out,
    struct rpc_error *err);
/* A new JSON retry record with `host` appended (NULL = none). */
json_t *wire_retry_json(const struct sched_retry *r, const char *host);

#endif
