/* What every kumo daemon does the same way: arguments, signals, systemd. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common.h"

volatile int daemon_stop_flag;
static const char *daemon_conf_path = "/etc/kumo/kumo.conf";
volatile int daemon_hup_flag;
static int daemon_debug; /* -d: debug logging whatever the config says */

static void usage(const char *progname, const char *extra, FILE *f)
{
	fprintf(f, "usage: %s [-c|--config-file FILE] [-n] [-d]%s%s\n"
	    "  -c, --config-file FILE  configuration (default /etc/kumo/kumo.conf)\n"
	    "  -n                      check the configuration and exit\n"
	    "  -d                      debug logging\n",
	    progname, extra ? " " : "", extra ? extra : "");
}

int daemon_args(int argc, char **argv, const char *progname,
    struct kumo_conf *conf, const char *extra_usage)
{
	static const struct option longopts[] = {
		{ "config-file", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = daemon_conf_path;
	char err[1024];
	enum log_level lvl;
	int check = 0, debug = 0, ch;

	log_init(progname, LOG_LVL_INFO);
	while ((ch = getopt_long(argc, argv, "c:ndh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': path = optarg; break;
		case 'n': check = 1; break;
		case 'd': debug = 1; break;
		case 'h': usage(progname, extra_usage, stdout); exit(0);
		default: usage(progname, extra_usage, stderr); exit(2);
		}
	}
	if (conf_load(conf, path, err, sizeof err) < 0) {
		fprintf(stderr, "%s: %s\n", progname, err);
		exit(1);
	}
	if (log_level_parse(conf->log_level, &lvl) == 0)
		log_set_level(debug ? LOG_LVL_DEBUG : lvl);
	daemon_conf_path = path;
	daemon_debug = debug;
	return check;
}

void daemon_config_ok(const char *progname)
{
	printf("%s: configuration %s OK\n", progname, daemon_conf_path);
}

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		daemon_hup_flag = 1;
	else
		daemon_stop_flag = 1;
}

void daemon_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* sd_notify(3) without libsystemd, which would map libgcrypt, liblzma,
 * libzstd, liblz4 and libcap into every daemon for this one datagram: the
 * message goes to $NOTIFY_SOCKET, a path or, after '@', an abstract name. */
static void notify(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t salen;
	size_t len;
	int fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@') ||
	    (len = strlen(path)) < 2 || len >= sizeof sa.sun_path)
		return;
	memcpy(sa.sun_path, path, len);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
	    (path[0] == '/'));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return;
	if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa,
	    salen) < 0)
		log_debug("notify %s: %s", path, strerror(errno));
	close(fd);
}

void daemon_ready(const char *status)
{
	char msg[256];

	snprintf(msg, sizeof msg, "READY=1\nSTATUS=%.200s",
	    status ? status : "ready");
	notify(msg);
}

void daemon_status(const char *status)
{
	char msg[256];

	snprintf(msg, sizeof msg, "STATUS=%.200s", status);
	notify(msg);
}

void daemon_stopping(void) { notify("STOPPING=1"); }
void daemon_watchdog(void) { notify("WATCHDOG=1"); }

/* Only log_level is re-read: everything else needs a restart. The file is
 * loaded whole, so a bad key anywhere keeps the running level. */
void daemon_reload_log_level(void)
{
	struct kumo_conf *conf;
	enum log_level lvl;
	char err[1024];

	if (!daemon_hup_flag)
		return;
	daemon_hup_flag = 0;
	if ((conf = malloc(sizeof *conf)) == NULL) {
		log_warn("SIGHUP: reload");
		return;
	}
	if (conf_load(conf, daemon_conf_path, err, sizeof err) < 0)
		log_warnx("SIGHUP: %s: log level unchanged", err);
	else if (log_level_parse(conf->log_level, &lvl) == 0) {
		log_info("SIGHUP: log level %s%s", conf->log_level,
		    daemon_debug ? " (-d: debug)" : "");
		log_set_level(daemon_debug ? LOG_LVL_DEBUG : lvl);
	}
	free(conf);
}

int thread_start(pthread_t *thr, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(thr, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		errno = rc;
		log_warn("pthread_create");
		return -1;
	}
	return 0;
}
