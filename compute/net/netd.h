/*
 * compute/net/: kumo-netd, the compute host's privileged network helper
 * (nova-network FlatDHCP's shape). kumo-compute runs with no capabilities;
 * this small daemon holds CAP_NET_ADMIN (and, for dnsmasq's DHCP,
 * CAP_NET_BIND_SERVICE and CAP_NET_RAW) and does only what its narrow
 * request interface names, as Nova splits privileged work into privsep.
 *
 *   bridge.c    the [network] bridge over rtnetlink (libmnl): create, mtu,
 *               the gateway address, up; ownership by the alias "kumo-netd"
 *   firewall.c  the table inet kumo_<bridge> (libnftables), replaced whole
 *               in one transaction
 *   dnsmasq.c   the static-lease DHCP/DNS child: spawn, supervise, SIGHUP
 *   leases.c    the lease set (MAC -> IP, hostname): checks, the state
 *               file, dnsmasq's hosts file, each written atomically
 *   requests.c  the JSON requests (an ops table) and their validation
 *   server.c    the unix SOCK_SEQPACKET socket, SO_PEERCRED checks
 *   main.c      the program
 *
 * kumo-compute's client is compute/netclient.c (compute/compute.h).
 */
#ifndef KUMO_NETD_H
#define KUMO_NETD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/common.h"

#define NETD_ALIAS "kumo-netd"       /* IFLA_IFALIAS of a bridge kumo-netd made */
#define NETD_MAX_MSG 65536           /* one request or reply, bytes */
#define NETD_MAX_LEASES 4096
#define NETD_HOSTNAME_MAX 63
#define NETD_ERR_LEN 256

/* ---- leases.c ---- */
struct lease {
	char mac[MAC_STR_LEN];       /* lower case */
	uint32_t ip;                 /* host byte order */
	char hostname[NETD_HOSTNAME_MAX + 1];
	char instance[UUID_STR_LEN]; /* the guest's; "" = not said */
};

struct lease_set {
	struct lease *v;
	size_t n, cap;
};

/* A lease from a request's object {"mac", "ip", "hostname"[, "instance"]}
 * (no other key): instance a uuid, mac unicast, ip inside net's dhcp_start..dhcp_end, hostname of
 * [a-z0-9-], 1-63. 0, or -1 with a one-line reason. */
int lease_from_json(const struct net_def *net, const json_t *o,
    struct lease *out, char *err, size_t errlen);
bool lease_hostname_ok(const char *s);
void lease_set_free(struct lease_set *s);
int lease_set_copy(struct lease_set *dst, const struct lease_set *src);
/* Replaces the lease of l->mac; -1 (err) when another MAC holds l->ip. */
int lease_set_put(struct lease_set *s, const struct lease *l, char *err,
    size_t errlen);
void lease_set_del(struct lease_set *s, const char *mac);
/* Every lease of the instance (a delete of the guest). */
void lease_set_del_instance(struct lease_set *s, const char *instance);
/* <dir>/leases.json: a missing file is an empty set; a lease that no
 * longer fits net (the config changed) is dropped with a warning. */
int lease_set_load(struct lease_set *s, const struct net_def *net,
    const char *dir, char *err, size_t errlen);
/* leases.json and dnsmasq's hosts file (<dir>/dhcp-hosts), each through a
 * temporary file and rename. */
int lease_set_save(const struct lease_set *s, const char *dir, char *err,
    size_t errlen);
/* The hosts file's path into out. */
int lease_hostsfile(const char *dir, char *out, size_t size);

/* ---- bridge.c ---- */
enum bridge_owner {
	BRIDGE_ABSENT,
	BRIDGE_OURS,                 /* a bridge carrying our alias */
	BRIDGE_FOREIGN,              /* anything else of that name: hands off */
};

/* Who owns the link named name. -1 on a netlink failure. */
int bridge_owner(const char *name, enum bridge_owner *out, char *err,
    size_t errlen);
/* Creates the bridge (alias NETD_ALIAS) when absent, sets its mtu, the
 * gateway/prefix address and up; idempotent. */
int bridge_ensure(const struct net_def *net, char *err, size_t errlen);
/* Deletes the bridge, only when it carries our alias. */
int bridge_remove(const char *name, char *err, size_t errlen);

/* ---- firewall.c ---- */
/* The ruleset text of table inet kumo_<bridge> (also for unit tests). NULL
 * on OOM; the caller frees. */
char *firewall_ruleset(const struct net_def *net, bool masquerade);
int firewall_apply(const struct net_def *net, bool masquerade, char *err,
    size_t errlen);
int firewall_remove(const char *bridge, char *err, size_t errlen);

/* ---- dnsmasq.c ---- */
struct dnsmasq {
	pid_t pid;                   /* 0 = not running */
	uint64_t restart_at;         /* now_ms() of the next try, 0 = none */
	unsigned failures;           /* exits in a row; backs off */
	uint64_t started_at;
	char argv_buf[8][320];       /* the --opt=value arguments */
	char pidfile[CONF_STR + 32];
	char hostsfile[CONF_STR + 32];
};

/* Fills the fixed argv from net and the state directory. */
int dnsmasq_init(struct dnsmasq *d, const struct net_def *net,
    const char *dir, char *err, size_t errlen);
int dnsmasq_start(struct dnsmasq *d, char *err, size_t errlen);
/* Reaps an exited child and restarts it after a back-off; call each tick. */
void dnsmasq_supervise(struct dnsmasq *d);
void dnsmasq_reload(struct dnsmasq *d);   /* SIGHUP: re-read the hosts file */
void dnsmasq_stop(struct dnsmasq *d);
/* A dnsmasq left by an earlier kumo-netd (its pid file, its hosts file
 * in its command line) is stopped. */
void dnsmasq_kill_stale(struct dnsmasq *d);

/* ---- requests.c ---- */
struct netd {
	const struct kumo_conf *conf;
	struct net_def net;
	bool managed;                /* the bridge is ours to run */
	char state_dir[CONF_STR + 16];
	struct lease_set leases;
	struct dnsmasq dns;
};

/* One request packet in, one reply out (an owned NUL-terminated string,
 * always a JSON object; NULL only on OOM). Never trusts req. */
char *netd_handle(struct netd *d, const char *req, size_t len);

/* ---- server.c ---- */
struct netd_server;

/* Binds conf's helper_socket (dir 0750, socket 0660, group of
 * helper_user). NULL with err. */
struct netd_server *netd_server_new(const struct kumo_conf *c, char *err,
    size_t errlen);
/* Serves for up to timeout_ms: accepts, checks peers, answers. */
void netd_server_poll(struct netd_server *s, struct netd *d, int timeout_ms);
void netd_server_free(struct netd_server *s);
/* The uid and gid of helper_user. */
int netd_helper_ids(const struct kumo_conf *c, uid_t *uid, gid_t *gid,
    char *err, size_t errlen);

#endif
