/*
 * kumo-netd [-c FILE] [-n] [-d] [--teardown]: the compute host's network
 * helper (netd.h). At start: the firewall table first (so the bridge is
 * never up unprotected), then the bridge, the saved leases and dnsmasq,
 * then the socket; READY=1. A bridge of that name that kumo-netd did not
 * make is left entirely alone (no address, firewall or dnsmasq), though
 * leases are still kept. SIGTERM stops dnsmasq but keeps the bridge and
 * the firewall, so running guests stay protected; --teardown removes the
 * table, a dnsmasq left running and the bridge, if it made it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compute/net/netd.h"

#define TICK_MS 200

/* --teardown is ours; daemon_args parses the rest. */
static bool take_teardown(int *argc, char **argv)
{
	bool found = false;
	int i, j;

	for (i = 1, j = 1; i < *argc; i++) {
		if (strcmp(argv[i], "--teardown") == 0)
			found = true;
		else
			argv[j++] = argv[i];
	}
	argv[j] = NULL;
	*argc = j;
	return found;
}

/* systemd's StateDirectory= (the unit's /var/lib/kumo-netd: root's alone,
 * never under kumo-compute's state_path, which the user kumo owns), else
 * <state_path>/netd. */
static void state_dir(struct netd *d)
{
	const char *sd = getenv("STATE_DIRECTORY");

	if (sd != NULL && sd[0] == '/' && strchr(sd, ':') == NULL) {
		if (str_copy(d->state_dir, sd, sizeof d->state_dir) < 0)
			fatalx("STATE_DIRECTORY is too long");
	} else if (str_fmt(d->state_dir, sizeof d->state_dir, "%s/netd",
	    d->conf->state_path) < 0)
		fatalx("[DEFAULT] state_path is too long");
}

static int teardown(struct netd *d)
{
	char err[NETD_ERR_LEN];
	int rc = 0;

	dnsmasq_kill_stale(&d->dns);
	if (firewall_remove(d->net.bridge, err, sizeof err) < 0) {
		log_warnx("%s", err);
		rc = 1;
	}
	if (bridge_remove(d->net.bridge, err, sizeof err) < 0) {
		log_warnx("%s", err);
		rc = 1;
	}
	if (rc == 0)
		log_info("torn down: table inet kumo_%s and the bridge %s if "
		    "kumo-netd made it", d->net.bridge, d->net.bridge);
	return rc;
}

/* The firewall before the bridge: a guest never sees it unprotected. */
static void setup(struct netd *d)
{
	enum bridge_owner own;
	char err[NETD_ERR_LEN];

	if (bridge_owner(d->net.bridge, &own, err, sizeof err) < 0)
		fatalx("%s", err);
	if (own == BRIDGE_FOREIGN) {
		log_warnx("bridge %s exists and kumo-netd did not make it (no "
		    "alias '%s'): left alone, no address, firewall or dnsmasq",
		    d->net.bridge, NETD_ALIAS);
		return;
	}
	d->managed = true;
	if (firewall_apply(&d->net, d->conf->net_masquerade, err, sizeof err) < 0 ||
	    bridge_ensure(&d->net, err, sizeof err) < 0)
		fatalx("%s", err);
	log_info("bridge %s %s with the firewall table inet kumo_%s",
	    d->net.bridge, own == BRIDGE_OURS ? "adopted" : "created",
	    d->net.bridge);
}

static void start_leases(struct netd *d)
{
	char err[NETD_ERR_LEN];

	if (lease_set_load(&d->leases, &d->net, d->state_dir, err, sizeof err) < 0 ||
	    lease_set_save(&d->leases, d->state_dir, err, sizeof err) < 0)
		fatalx("%s", err);
	if (!d->managed)
		return;
	dnsmasq_kill_stale(&d->dns);
	if (dnsmasq_start(&d->dns, err, sizeof err) < 0)
		fatalx("%s", err);
}

static void run(struct netd *d, struct netd_server *srv)
{
	while (!daemon_stop_flag) {
		netd_server_poll(srv, d, TICK_MS);
		if (d->managed)
			dnsmasq_supervise(&d->dns);
		daemon_reload_log_level();
		daemon_watchdog();
	}
}

int main(int argc, char **argv)
{
	struct kumo_conf conf;
	struct netd d = { .conf = &conf };
	struct netd_server *srv;
	char err[NETD_ERR_LEN];
	bool down = take_teardown(&argc, argv);
	uid_t uid;
	gid_t gid;
	int check;

	check = daemon_args(argc, argv, "kumo-netd", &conf, "[--teardown]");
	if (net_def_from_conf(&conf, &d.net, err, sizeof err) < 0 ||
	    netd_helper_ids(&conf, &uid, &gid, err, sizeof err) < 0)
		fatalx("%s", err);
	if (check) {
		daemon_config_ok("kumo-netd");
		return 0;
	}
	state_dir(&d);
	if (dnsmasq_init(&d.dns, &d.net, d.state_dir, err, sizeof err) < 0)
		fatalx("%s", err);
	if (down)
		return teardown(&d);
	if (mkdir(d.state_dir, 0750) < 0 && errno != EEXIST)
		fatal("mkdir %s", d.state_dir);
	daemon_signals();
	setup(&d);
	start_leases(&d);
	if ((srv = netd_server_new(&conf, err, sizeof err)) == NULL)
		fatalx("%s", err);
	log_info("serving %s for bridge %s (%s, %zu leases)",
	    conf.net_helper_socket, d.net.bridge,
	    d.managed ? "managed" : "not managed", d.leases.n);
	daemon_ready(d.managed ? "serving" : "serving (bridge not managed)");
	run(&d, srv);
	daemon_stopping();
	log_info("stopping: dnsmasq stops, the bridge and firewall stay");
	dnsmasq_stop(&d.dns);
	netd_server_free(srv);
	unlink(conf.net_helper_socket);
	lease_set_free(&d.leases);
	return 0;
}
