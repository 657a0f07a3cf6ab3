/*
 * dnsmasq, the child that serves DHCP (static leases only: it never picks
 * an address) and DNS on the bridge. Started with posix_spawn and a fixed
 * argv (no shell, no config file: --conf-file=/dev/null), kept in the
 * foreground so kumo-netd reaps and restarts it, logging to our stderr.
 * --user=root and an empty --group=: it keeps kumo-netd's uid, gid and
 * bounded capabilities, as changing user or groups (setgroups) would need
 * CAP_SETUID and CAP_SETGID, which kumo-netd's unit does not grant
 * (etc/systemd/kumo-netd.service); dnsmasq's own default, "dip" then
 * "nobody", fails there.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "compute/net/netd.h"

#define DNSMASQ_PATH "/usr/sbin/dnsmasq"
#define BACKOFF_MAX_MS 30000
#define STABLE_MS 60000   /* a child that ran this long resets the back-off */
#define STOP_WAIT_MS 3000

enum { A_IFACE, A_RANGE, A_HOSTS, A_ROUTER, A_DNS, A_MTU, A_LEASES, A_PID };

int dnsmasq_init(struct dnsmasq *d, const struct net_def *net,
    const char *dir, char *err, size_t errlen)
{
	char netip[IP4_STR_LEN], mask[IP4_STR_LEN], gw[IP4_STR_LEN], dns[IP4_STR_LEN];
	size_t n = sizeof d->argv_buf[0];

	memset(d, 0, sizeof *d);
	ip4_format(net->net, netip);
	ip4_format(ip4_mask(net->prefix), mask);
	ip4_format(net->gateway, gw);
	ip4_format(net->dns, dns);
	if (lease_hostsfile(dir, d->hostsfile, sizeof d->hostsfile) < 0 ||
	    str_fmt(d->pidfile, sizeof d->pidfile, "%s/dnsmasq.pid", dir) < 0 ||
	    str_fmt(d->argv_buf[A_IFACE], n, "--interface=%s", net->bridge) < 0 ||
	    str_fmt(d->argv_buf[A_RANGE], n, "--dhcp-range=%s,static,%s,10m",
	    netip, mask) < 0 ||
	    str_fmt(d->argv_buf[A_HOSTS], n, "--dhcp-hostsfile=%s", d->hostsfile) < 0 ||
	    str_fmt(d->argv_buf[A_ROUTER], n, "--dhcp-option=option:router,%s", gw) < 0 ||
	    str_fmt(d->argv_buf[A_DNS], n, "--dhcp-option=option:dns-server,%s",
	    dns) < 0 ||
	    str_fmt(d->argv_buf[A_MTU], n, "--dhcp-option=option:mtu,%d", net->mtu) < 0 ||
	    str_fmt(d->argv_buf[A_LEASES], n, "--dhcp-leasefile=%s/dnsmasq.leases",
	    dir) < 0 ||
	    str_fmt(d->argv_buf[A_PID], n, "--pid-file=%s", d->pidfile) < 0) {
		snprintf(err, errlen, "state directory %s: path too long", dir);
		return -1;
	}
	return 0;
}

static int spawn_attrs(posix_spawnattr_t *attr)
{
	sigset_t none, defaults;

	sigemptyset(&none);
	sigemptyset(&defaults);
	sigaddset(&defaults, SIGPIPE);   /* ignored here; an exec keeps that */
	sigaddset(&defaults, SIGTERM);
	sigaddset(&defaults, SIGHUP);
	sigaddset(&defaults, SIGINT);
	if (posix_spawnattr_init(attr) != 0)
		return -1;
	if (posix_spawnattr_setsigmask(attr, &none) != 0 ||
	    posix_spawnattr_setsigdefault(attr, &defaults) != 0 ||
	    posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF) != 0) {
		posix_spawnattr_destroy(attr);
		return -1;
	}
	return 0;
}

int dnsmasq_start(struct dnsmasq *d, char *err, size_t errlen)
{
	char *argv[] = {
		"dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null",
		"--user=root", "--group=", "--bind-interfaces", "--except-interface=lo",
		"--log-facility=-", "--dhcp-authoritative",
		d->argv_buf[A_IFACE], d->argv_buf[A_RANGE], d->argv_buf[A_HOSTS],
		d->argv_buf[A_ROUTER], d->argv_buf[A_DNS], d->argv_buf[A_MTU],
		d->argv_buf[A_LEASES], d->argv_buf[A_PID], NULL,
	};
	char *envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int rc;

	if (spawn_attrs(&attr) < 0) {
		snprintf(err, errlen, "dnsmasq: posix_spawnattr failed");
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	rc = posix_spawn(&d->pid, DNSMASQ_PATH, &fa, &attr, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (rc != 0) {
		d->pid = 0;
		snprintf(err, errlen, "%s: %s", DNSMASQ_PATH, strerror(rc));
		return -1;
	}
	d->started_at = now_ms();
	log_info("dnsmasq started (pid %d) on %s", (int)d->pid,
	    d->argv_buf[A_IFACE] + strlen("--interface="));
	return 0;
}

static void schedule_restart(struct dnsmasq *d)
{
	uint64_t delay = 1000;

	if (now_ms() - d->started_at >= STABLE_MS)
		d->failures = 0;
	for (unsigned i = 0; i < d->failures && delay < BACKOFF_MAX_MS; i++)
		delay *= 2;
	if (delay > BACKOFF_MAX_MS)
		delay = BACKOFF_MAX_MS;
	d->failures++;
	d->restart_at = now_ms() + delay;
	log_warnx("dnsmasq: restarting in %llu ms", (unsigned long long)delay);
}

void dnsmasq_supervise(struct dnsmasq *d)
{
	char err[NETD_ERR_LEN];
	int status;

	if (d->pid > 0 && waitpid(d->pid, &status, WNOHANG) == d->pid) {
		if (WIFEXITED(status))
			log_warnx("dnsmasq (pid %d) exited %d", (int)d->pid,
			    WEXITSTATUS(status));
		else
			log_warnx("dnsmasq (pid %d) killed by signal %d",
			    (int)d->pid, WTERMSIG(status));
		d->pid = 0;
		schedule_restart(d);
	}
	if (d->pid == 0 && d->restart_at != 0 && now_ms() >= d->restart_at) {
		d->restart_at = 0;
		if (dnsmasq_start(d, err, sizeof err) < 0) {
			log_warnx("%s", err);
			schedule_restart(d);
		}
	}
}

void dnsmasq_reload(struct dnsmasq *d)
{
	if (d->pid > 0 && kill(d->pid, SIGHUP) < 0)
		log_warn("dnsmasq: SIGHUP");
}

/* SIGTERM, then SIGKILL after STOP_WAIT_MS. */
void dnsmasq_stop(struct dnsmasq *d)
{
	const struct timespec tick = { 0, 20 * 1000000L };
	uint64_t deadline = now_ms() + STOP_WAIT_MS;

	d->restart_at = 0;
	if (d->pid <= 0)
		return;
	kill(d->pid, SIGTERM);
	while (waitpid(d->pid, NULL, WNOHANG) == 0) {
		if (now_ms() >= deadline) {
			kill(d->pid, SIGKILL);
			waitpid(d->pid, NULL, 0);
			break;
		}
		nanosleep(&tick, NULL);
	}
	log_info("dnsmasq (pid %d) stopped", (int)d->pid);
	d->pid = 0;
	unlink(d->pidfile);
}

/* Whether /proc/<pid>/cmdline holds arg (a NUL-separated list). */
static bool cmdline_has(pid_t pid, const char *arg)
{
	char path[64], buf[4096];
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	for (char *p = buf; p < buf + n; p += strlen(p) + 1)
		if (strcmp(p, arg) == 0)
			return true;
	return false;
}

void dnsmasq_kill_stale(struct dnsmasq *d)
{
	const struct timespec tick = { 0, 20 * 1000000L };
	char buf[32] = "";
	FILE *f = fopen(d->pidfile, "re");
	int pid;

	if (f == NULL)
		return;
	if (fgets(buf, sizeof buf, f) != NULL)
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
	if (num_parse_int(buf, 2, 1 << 22, &pid) < 0 ||
	    !cmdline_has(pid, d->argv_buf[A_HOSTS]))
		return;
	log_warnx("stopping the dnsmasq (pid %d) an earlier kumo-netd left", pid);
	kill(pid, SIGTERM);
	for (int i = 0; i < STOP_WAIT_MS / 20 && kill(pid, 0) == 0; i++)
		nanosleep(&tick, NULL);
	if (kill(pid, 0) == 0)
		kill(pid, SIGKILL);
}
