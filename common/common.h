/*
 * common/: what every kumo program shares.
 *
 *   log        stderr logging with levels and the request id of the thread
 *   num        range-checked number parsing (never atoi)
 *   uuid       uuid4 strings, with and without dashes
 *   time       monotonic milliseconds, ISO 8601 timestamps
 *   str        bounded copies that report truncation
 *   config     the one kumo.conf, as a table of keys (config.c)
 *   daemon     argument parsing, signals, sd_notify (daemon.c)
 *
 * The RPC library has its own header: common/rpc/rpc.h.
 */
#ifndef KUMO_COMMON_H
#define KUMO_COMMON_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- log.c -------------------------------------------------------------- */

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

void log_init(const char *progname, enum log_level level);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
int log_level_parse(const char *s, enum log_level *out);
/* The request id printed on this thread's lines; NULL clears. Copied. */
void log_set_reqid(const char *reqid);
const char *log_get_reqid(void); /* borrowed; "" when none */

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* ---- util.c ------------------------------------------------------------- */

/* Parse all of s as a base-10 integer within [min, max]. 0 or -1. */
int num_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
int num_parse_int(const char *s, int min, int max, int *out);
int num_parse_double(const char *s, double min, double max, double *out);

#define UUID_STR_LEN 37 /* 36 chars and the NUL */
#define UUID_HEX_LEN 33 /* 32 hex chars and the NUL */
void uuid_new_str(char out[UUID_STR_LEN]); /* 8-4-4-4-12, lower case */
void uuid_new_hex(char out[UUID_HEX_LEN]); /* 32 hex, no dashes */
bool uuid_valid(const char *s);            /* canonical 8-4-4-4-12 form */

uint64_t now_ms(void);         /* CLOCK_MONOTONIC */
uint64_t now_us(void);         /* CLOCK_MONOTONIC */
/* UTC now as "2026-11-25T13:49:11Z" (Nova's format). */
void time_iso8601(char out[32]);

/* A shared library's functions, loaded at run time into a table of
 * function pointers: name, and where in the table its address goes. */
struct dl_symbol {
	const char *name;
	size_t offset;
};
/* dlopen(soname) and fills table from syms. 0, or -1 with err: "<need>:
 * <dlerror>" when the library is missing, "<soname> has no <symbol>" when
 * it lacks one. */
int dl_load_table(const char *soname, const struct dl_symbol *syms, size_t n,
    void *table, const char *need, char *err, size_t errlen);
/* t (unix seconds) in time_iso8601's form. */
void time_iso8601_at(int64_t t, char out[32]);
/* "2026-12-07T14:26:59.000000Z" (Keystone's expires_at; the fraction is
 * optional) as unix seconds: 0, or -1 when s is not that shape. */
int time_parse_utc(const char *s, int64_t *out);

/* strlcpy semantics: returns -1 when src did not fit (dst still terminated). */
int str_copy(char *dst, const char *src, size_t size);
/* str_copy that cuts a too-long src at a UTF-8 character boundary, for
 * text shown to users (fault messages); returns -1 when it cut. */
int str_copy_utf8(char *dst, const char *src, size_t size);
/* The length of the UTF-8 sequence at p (n > 0 bytes there): 1 for ASCII,
 * 2-4, or 0 when it is not valid UTF-8 (overlong, a surrogate, beyond
 * U+10FFFF, cut short), as jansson and Python judge it. */
size_t utf8_seq_len(const unsigned char *p, size_t n);
/* utf8_seq_len that also gives the code point (*cp) of a valid sequence. */
size_t utf8_decode(const unsigned char *p, size_t n, uint32_t *cp);
/* Whether cp may be shown as itself: false for controls (C0, DEL, C1),
 * format characters (U+200B, U+202E, U+FEFF, ...) and separators other
 * than the space (U+00A0, U+2028, U+2029, ...), which would move or hide
 * text on a terminal, as Python's str.isprintable() judges them. */
bool unicode_printable(uint32_t cp);
/* s is valid UTF-8 of printable characters only (names from users). */
bool utf8_printable(const char *s);
/* oslo's strutils.bool_from_string(s, strict=True): "1", "t", "true",
 * "on", "y", "yes" are true, "0", "f", "false", "off", "n", "no" false,
 * in any case and between blanks; 0, or -1 for anything else. */
int str_to_bool(const char *s, bool *out);
/* snprintf that returns -1 on error or truncation. */
int str_fmt(char *dst, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- netaddr.c ---------------------------------------------------------- */

struct kumo_conf;

#define IP4_STR_LEN 16
#define MAC_STR_LEN 18

/* A flat IPv4 network (nova-network FlatDHCP's shape); addresses in host
 * byte order. */
struct net_def {
	char name[256];
	uint32_t net;
	int prefix;                 /* 8-30 */
	uint32_t gateway;           /* the bridge's own address */
	uint32_t dhcp_start, dhcp_end; /* what guests are given, inclusive */
	uint32_t dns;
	char bridge[16];
	int mtu;
};

/* Strict dotted quad (no leading zeros, nothing around it): 0 or -1. */
int ip4_parse(const char *s, uint32_t *out);
void ip4_format(uint32_t a, char out[IP4_STR_LEN]);
uint32_t ip4_mask(int prefix);
/* "a.b.c.d/P", P 8-30, no host bits set: 0 or -1. */
int ip4_cidr_parse(const char *s, uint32_t *net, int *prefix);
bool ip4_in_net(const struct net_def *n, uint32_t a);
/* A Linux interface name kumo may create or use (1-15 safe characters). */
bool net_bridge_name_ok(const char *s);
/* Checks and fills a network; "" for gateway, dhcp_start, dhcp_end, dns
 * take the defaults (first host address, gateway + 1, last host address,
 * the gateway). -1 with why in err. */
int net_def_make(struct net_def *out, const char *name, const char *cidr,
    const char *gateway, const char *dhcp_start, const char *dhcp_end,
    const char *dns, const char *bridge, int mtu, char *err, size_t errlen);
/* The [network] section's default network. */
int net_def_from_conf(const struct kumo_conf *c, struct net_def *out,
    char *err, size_t errlen);
int mac_parse(const char *s, uint8_t out[6]);
bool mac_valid(const char *s);   /* unicast, not all zero */
void mac_random(char out[MAC_STR_LEN]); /* fa:16:3e:xx:xx:xx */
/* Nova's sanitize_hostname of a display name: at most 63 of [a-z0-9-],
 * no '-' at either end; "" when nothing is left (the caller's default). */
void hostname_sanitize(const char *name, char *out, size_t len);
/* A guest host name kumo hands out: 1-63 of [A-Za-z0-9-], no '-' first. */
bool hostname_valid(const char *s);
/* An instance's host name, as Nova picks it: kept when it is one (2.90's,
 * or the one recorded at create), else the display name's, else
 * "Server-<uuid>". */
void hostname_pick(const char *kept, const char *name, const char *uuid,
    char *out, size_t len);

/* ---- config.c ----------------------------------------------------------- */

#define CONF_STR 256

struct kumo_conf {
	/* [DEFAULT] */
	char host[CONF_STR];
	char transport_url[1024];
	char control_exchange[CONF_STR];
	char state_path[CONF_STR];
	char osapi_compute_listen[CONF_STR];
	int osapi_compute_listen_port;
	char compute_driver[CONF_STR]; /* "libvirt" or "fake" */
	int rpc_response_timeout;      /* seconds */
	int rpc_workers;               /* RPC server worker threads */
	int heartbeat_timeout_threshold; /* AMQP heartbeat, seconds, 0 = off */
	/* [oslo_messaging_rabbit] (rpc.h's struct rpc_conf) */
	bool amqp_durable_queues;
	bool rabbit_quorum_queue;
	int rabbit_transient_queues_ttl; /* seconds */
	/* kumo-manage rabbit-user: the rabbitmqctl it runs (a bare name is
	 * looked up in PATH) and its -n node ("" = rabbitmqctl's default) */
	char rabbitmqctl[CONF_STR];
	char rabbitmqctl_node[CONF_STR];
	/* [conductor]: compute reports only from per-host bus users */
	bool require_compute_users;
	int report_interval;           /* compute heartbeat to the conductor, s */
	int service_down_time;         /* a service is down after this many s */
	int instance_build_timeout;    /* s from create to ERROR; 0 = never */
	int instance_action_timeout;   /* s from a reboot/stop/start to giving
	                                * it up; 0 = never */
	int api_workers;               /* HTTP worker threads */
	char log_level[16];
	/* [api] */
	char auth_strategy[CONF_STR]; /* "keystone" or "noauth2" */
	bool allow_insecure_noauth;   /* noauth2 on a non-loopback address */
	/* [identity], [token], [fernet_tokens] */
	bool identity_enabled;        /* kumo-api serves /identity/v3 */
	int password_hash_rounds;     /* bcrypt cost of new password hashes */
	int token_expiration;         /* seconds */
	char token_key_repository[CONF_STR];
	int token_max_active_keys;
	char policy_file[CONF_STR];   /* [oslo_policy]; absent file: defaults */
	char api_paste_config[CONF_STR];
	int64_t max_request_body_size;
	int client_socket_timeout;    /* seconds a connection may be idle */
	int max_connections_per_ip;   /* 0 = no bound */
	int max_limit;                /* a list's largest page */
	/* [database] */
	char db_connection[CONF_STR];
	/* [filter_scheduler] */
	char enabled_filters[1024];
	char weight_classes[1024];
	double cpu_allocation_ratio;
	double ram_allocation_ratio;
	double disk_allocation_ratio;
	double ram_weight_multiplier; /* > 0 spreads, < 0 stacks */
	/* [scheduler] */
	int max_attempts;
	/* [glance]: where computes download image data (kumo-api serves
	 * Glance's /v2/images/{id}/file), and the token they send: with
	 * noauth2, "admin:<project>" reads every project's images. */
	char glance_api_servers[CONF_STR];
	char glance_auth_token[CONF_STR];
	/* kumo-api's image store: its directory ("" = state_path/images),
	 * the free space kept for everything else on its filesystem, the
	 * largest image (bytes), and each project's quotas (-1 = none): how
	 * many images, how many MiB of data, how many uploads at once. A
	 * list's page: limit_param_default rows unless ?limit= asks for
	 * fewer or more, api_limit_max at most. */
	char glance_store_path[CONF_STR];
	int glance_store_reserve_mb;
	int64_t glance_size_cap;
	int64_t glance_count_total;
	int64_t glance_size_total;      /* MiB */
	int64_t glance_count_uploading;
	int glance_limit_default;
	int glance_limit_max;
	/* [service_user]: the Keystone user kumo-compute logs in as for its
	 * own calls (image downloads), by names, project-scoped; auth_url ""
	 * = not used (glance_auth_token is sent). The password is never
	 * logged, nor echoed in a config error. */
	char service_auth_url[CONF_STR];  /* .../identity/v3 */
	char service_username[CONF_STR];
	char service_password[CONF_STR];
	char service_project_name[CONF_STR];
	char service_user_domain_name[CONF_STR];
	char service_project_domain_name[CONF_STR];
	/* [keystone_authtoken]: the Keystone kumo-api checks tokens with
	 * (keystonemiddleware's names); auth_url "" = kumo's own identity
	 * service. kumo-api logs in as username (project-scoped, by names)
	 * to validate its callers' tokens; the password is never logged. */
	char authtoken_auth_url[CONF_STR];  /* .../v3, or unversioned */
	char authtoken_username[CONF_STR];
	char authtoken_password[CONF_STR];
	char authtoken_project_name[CONF_STR];
	char authtoken_user_domain_name[CONF_STR];
	char authtoken_project_domain_name[CONF_STR];
	int authtoken_cache_time;     /* seconds a validation is reused */
	char authtoken_www_authenticate_uri[CONF_STR]; /* "" = auth_url */
	char authtoken_interface[16]; /* the catalog's identity endpoint */
	char authtoken_region_name[CONF_STR]; /* "" = any region */
	/* [libvirt] */
	char libvirt_connection_uri[CONF_STR];
	char libvirt_virt_type[CONF_STR];
	char libvirt_network[CONF_STR]; /* vif_type network: its name */
	char libvirt_vif_type[16];      /* "bridge", "user", "network" */
	/* [network]: the default flat network (common/netaddr.c checks it) */
	char net_name[CONF_STR];
	char net_cidr[64];
	char net_gateway[64];
	char net_dhcp_start[64];
	char net_dhcp_end[64];
	char net_bridge[16];            /* IFNAMSIZ */
	char net_dns[64];
	int net_mtu;
	bool net_masquerade;
	char net_helper_socket[CONF_STR];
	char net_helper_user[CONF_STR];
	/* config drive */
	bool force_config_drive;
	char config_drive_format[16];   /* "iso9660" or "vfat" */
	char dhcp_domain[CONF_STR];     /* [api]: meta_data.json's hostname suffix */
	/* [fake] */
	int fake_vcpus;
	int fake_memory_mb;
	int fake_local_gb;
	int fake_spawn_delay_ms;  /* test knob: each spawn sleeps this long */
	bool fake_spawn_fail;     /* test knob: every spawn fails */
	int fake_power_off_after_ms; /* test knob: guests power themselves off */
	bool fake_persist;        /* test knob: the table outlives a restart */
};

/* Defaults into conf, then the file (NULL = defaults only). On a bad key or
 * value, writes "file:line: message" to err and returns -1. */
int conf_load(struct kumo_conf *conf, const char *path, char *err, size_t errlen);
/* Path of the SQLite file named by [database] connection, or NULL. Borrowed. */
const char *conf_db_path(const struct kumo_conf *conf);

/* ---- daemon.c ----------------------------------------------------------- */

/* Every daemon: -c/--config-file FILE, -n (check config, exit), -d (debug),
 * -h. Loads the config or exits 1 naming file:line. Returns 1 when -n was
 * given: the caller runs its own checks of the config (pipeline, filters,
 * driver), then calls daemon_config_ok and exits 0. */
int daemon_args(int argc, char **argv, const char *progname,
    struct kumo_conf *conf, const char *extra_usage);
void daemon_config_ok(const char *progname); /* prints "<prog>: configuration <path> OK" */
/* SIGTERM/SIGINT set the stop flag, SIGHUP the reload flag. */
void daemon_signals(void);
extern volatile int daemon_stop_flag;
/* pthread_create with every signal blocked in the new thread: signals are
 * the main thread's. 0, or -1 (logged, errno set). */
int thread_start(pthread_t *thr, void *(*fn)(void *), void *arg);
extern volatile int daemon_hup_flag;
/* sd_notify wrappers; no-ops outside systemd. */
void daemon_ready(const char *status);
void daemon_status(const char *status);
void daemon_stopping(void);
void daemon_watchdog(void);
/* After SIGHUP (daemon_hup_flag): re-reads log_level from the config file;
 * otherwise does nothing. Main loops call it on every tick. */
void daemon_reload_log_level(void);

#endif
