/*
 * kumo-manage rabbit-user create|delete|list: each compute host's own
 * RabbitMQ user, RPCAPI_COMPUTE_USER_PREFIX + host, on the vhost of
 * [DEFAULT] transport_url. Its permissions let it do what kumo-compute
 * does and no more:
 *
 *   declare  the control exchange, its queues compute and compute.<host>,
 *            the fanout exchange compute_fanout and its own
 *            compute_fanout_<hex> queue, its reply_<host>_<hex> queue
 *            (kumo-compute tags its reply queue with its host)
 *   bind     those queues; on the control exchange (a topic exchange,
 *            RabbitMQ's topic permissions) only with the keys compute and
 *            compute.<host>: never another host's builds
 *   publish  on the control exchange only with the key conductor (its
 *            reports, its instances_on_host call), and replies on the
 *            default exchange
 *   consume  compute, compute.<host>, its fanout and reply queues
 *
 * RabbitMQ refuses a message from it whose user_id is not its own, and
 * the conductor takes the host of its reports from that user_id. What the
 * broker cannot narrow: the default exchange routes a reply to any queue
 * by name (kumo-compute drops a request from a compute's user), and the
 * configure permission that declaring the control exchange and the
 * shared compute queue needs also lets it delete them.
 *
 * rabbitmqctl ([oslo_messaging_rabbit] rabbitmqctl, -n rabbitmqctl_node)
 * runs without a shell; the password goes on its standard input, never
 * on its command line. Host names are checked before anything runs.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/common.h"
#include "common/crypto.h"
#include "common/rpcapi.h"
#include "common/rpc/rpc_internal.h" /* rpc_url_parse: vhost and brokers */
#include "tools/manage/manage.h"

#define PASSWORD_MAX 128
#define CTL_ARGS 16
#define CTL_OUTPUT_MAX (1 << 20)
#define FANOUT_Q TOPIC_COMPUTE "_fanout_[0-9a-f]{32}"

/* Writes text to fd and closes it (the child may have exited: EPIPE). */
static void feed(int fd, const char *text)
{
	size_t n = text ? strlen(text) : 0, off = 0;

	while (off < n) {
		ssize_t w = write(fd, text + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	close(fd);
}

/* Reads fd to its end into a malloc'd string (at most CTL_OUTPUT_MAX
 * bytes kept), or NULL when not wanted. */
static char *drain(int fd, bool keep)
{
	char buf[4096], *out = NULL;
	size_t len = 0;
	ssize_t r;

	while ((r = read(fd, buf, sizeof buf)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		if (!keep || len + (size_t)r > CTL_OUTPUT_MAX)
			continue;
		char *nb = realloc(out, len + (size_t)r + 1);
		if (nb == NULL)
			break;
		out = nb;
		memcpy(out + len, buf, (size_t)r);
		len += (size_t)r;
		out[len] = '\0';
	}
	close(fd);
	return keep && out == NULL ? strdup("") : out;
}

/* Runs rabbitmqctl -q ARGS... (args NULL-terminated) with input on its
 * standard input; its output into *output (malloc'd) when output is not
 * NULL, else to ours. 0 when it exits 0. */
static int ctl_run(const struct kumo_conf *conf, const char *const *args,
    const char *input, char **output)
{
	const char *argv[CTL_ARGS], *cmd = args[0];
	int in[2], out[2] = { -1, -1 }, n = 0, status;
	pid_t pid;

	argv[n++] = conf->rabbitmqctl;
	if (conf->rabbitmqctl_node[0] != '\0') {
		argv[n++] = "-n";
		argv[n++] = conf->rabbitmqctl_node;
	}
	argv[n++] = "-q";
	while (*args != NULL && n < CTL_ARGS - 1)
		argv[n++] = *args++;
	argv[n] = NULL;
	if (pipe2(in, O_CLOEXEC) < 0)
		return -1;
	if ((output && pipe2(out, O_CLOEXEC) < 0) || (pid = fork()) < 0) {
		log_warn("cannot run %s", argv[0]);
		close(in[0]);
		close(in[1]);
		if (out[0] >= 0) {
			close(out[0]);
			close(out[1]);
		}
		return -1;
	}
	if (pid == 0) {
		if (dup2(in[0], 0) < 0 || (output && dup2(out[1], 1) < 0))
			_exit(127);
		execvp(argv[0], (char *const *)argv);
		fprintf(stderr, "kumo-manage: cannot run %s: %s\n", argv[0],
		    strerror(errno));
		_exit(127);
	}
	close(in[0]);
	feed(in[1], input);
	if (output) {
		close(out[1]);
		*output = drain(out[0], true);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			log_warn("waitpid");
			return -1;
		}
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	log_warnx("%s %s failed (exit status %d)", conf->rabbitmqctl, cmd,
	    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return -1;
}

/* s with every character but letters, digits, '_' and '-' escaped for a
 * RabbitMQ (PCRE) regular expression. 0, or -1 when it does not fit. */
static int re_quote(const char *s, char *out, size_t len)
{
	size_t j = 0;

	for (; *s != '\0'; s++) {
		bool plain = strchr("_-", *s) != NULL ||
		    (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9');
		if (j + 3 > len)
			return -1;
		if (!plain)
			out[j++] = '\\';
		out[j++] = *s;
	}
	out[j] = '\0';
	return 0;
}

/* The five patterns of host's user: configure, write and read on the
 * vhost, then write and read of topics on the control exchange. */
struct perms {
	char configure[1024], write[1024], read[1024];
	char topic_write[256], topic_read[256];
};

static int perms_make(const struct kumo_conf *conf, const char *host,
    struct perms *p)
{
	char x[512], h[256];
	int r = 0;

	if (re_quote(conf->control_exchange, x, sizeof x) < 0 ||
	    re_quote(host, h, sizeof h) < 0)
		return -1;
	r |= str_fmt(p->configure, sizeof p->configure, "^(%s|%s|%s\\.%s|%s_fanout|"
	    FANOUT_Q "|reply_%s_[0-9a-f]{32})$", x, TOPIC_COMPUTE, TOPIC_COMPUTE,
	    h, TOPIC_COMPUTE, h);
	r |= str_fmt(p->write, sizeof p->write, "^(%s|amq\\.default|%s|%s\\.%s|"
	    FANOUT_Q ")$", x, TOPIC_COMPUTE, TOPIC_COMPUTE, h);
	r |= str_fmt(p->read, sizeof p->read, "^(%s|%s_fanout|%s|%s\\.%s|"
	    FANOUT_Q "|reply_%s_[0-9a-f]{32})$", x, TOPIC_COMPUTE, TOPIC_COMPUTE,
	    TOPIC_COMPUTE, h, h);
	r |= str_fmt(p->topic_write, sizeof p->topic_write, "^%s$",
	    TOPIC_CONDUCTOR);
	r |= str_fmt(p->topic_read, sizeof p->topic_read, "^%s(\\.%s)?$",
	    TOPIC_COMPUTE, h);
	return r < 0 ? -1 : 0;
}

static bool has_ctl(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* The password of --password-file (its first line), or a generated one,
 * into pw (PASSWORD_MAX bytes). */
static int password_get(const char *file, char *pw)
{
	char line[2 * PASSWORD_MAX];
	FILE *f;
	size_t n;
	int rc = -1;

	if (file == NULL)
		return crypto_secret(24, pw, PASSWORD_MAX);
	if ((f = fopen(file, "re")) == NULL) {
		log_warn("%s", file);
		return -1;
	}
	if (fgets(line, sizeof line, f) == NULL)
		line[0] = '\0';
	fclose(f);
	n = strcspn(line, "\r\n");
	line[n] = '\0';
	if (n == 0 || n >= PASSWORD_MAX)
		log_warnx("%s: the password's first line must hold 1 to %d "
		    "bytes", file, PASSWORD_MAX - 1);
	else if (has_ctl(line))
		log_warnx("%s: control character in the password", file);
	else
		rc = str_copy(pw, line, PASSWORD_MAX);
	explicit_bzero(line, sizeof line);
	return rc;
}

/* Percent-encodes s for a URL's user, password or path. */
static void put_pct(const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-._~", c))
			putchar(c);
		else
			printf("%%%02X", c);
	}
}

/* The transport_url line of the compute's kumo.conf: the controller's
 * brokers and vhost, the new user and password. */
static void print_url(const struct rpc_url *u, const char *user,
    const char *pw)
{
	printf("transport_url = rabbit://");
	for (size_t i = 0; i < u->n_hosts; i++) {
		bool v6 = strchr(u->hosts[i].host, ':') != NULL;
		printf("%s", i ? "," : "");
		put_pct(user);
		putchar(':');
		put_pct(pw);
		printf(v6 ? "@[%s]:%d" : "@%s:%d", u->hosts[i].host,
		    u->hosts[i].port);
	}
	putchar('/');
	if (strcmp(u->vhost, "/") != 0)
		put_pct(u->vhost);
	putchar('\n');
}

/* The user of host, after checking host. 0, or -1 (said why). */
static int user_of(const char *host, char *user, size_t len)
{
	if (!hostname_valid(host)) {
		log_warnx("'%.64s' is not a host name (1 to 63 letters, digits "
		    "and '-', not starting with '-')", host);
		return -1;
	}
	return str_fmt(user, len, "%s%s", RPCAPI_COMPUTE_USER_PREFIX, host);
}

static int usage_create(void)
{
	fprintf(stderr, "usage: kumo-manage rabbit-user create HOST "
	    "[--password-file FILE]\n");
	return 2;
}

static int vhost_of(const struct kumo_conf *conf, struct rpc_url *u)
{
	char err[256];

	if (rpc_url_parse(conf->transport_url, u, err, sizeof err) == 0)
		return 0;
	log_warnx("[DEFAULT] transport_url: %s", err);
	return -1;
}

int manage_rabbit_user_create(const struct kumo_conf *conf, int argc,
    char **argv)
{
	static const struct option opts[] = {
		{ "password-file", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	const char *file = NULL;
	char user[128], pw[PASSWORD_MAX];
	struct perms p;
	struct rpc_url u;
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 'p')
			return usage_create();
		file = optarg;
	}
	if (optind + 1 != argc)
		return usage_create();
	if (user_of(argv[optind], user, sizeof user) < 0 ||
	    perms_make(conf, argv[optind], &p) < 0 || vhost_of(conf, &u) < 0 ||
	    password_get(file, pw) < 0)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	const char *add[] = { "add_user", user, NULL };
	const char *set[] = { "set_permissions", "-p", u.vhost, user,
	    p.configure, p.write, p.read, NULL };
	const char *topic[] = { "set_topic_permissions", "-p", u.vhost, user,
	    conf->control_exchange, p.topic_write, p.topic_read, NULL };
	if (ctl_run(conf, add, pw, NULL) < 0 || ctl_run(conf, set, NULL, NULL) < 0 ||
	    ctl_run(conf, topic, NULL, NULL) < 0) {
		explicit_bzero(pw, sizeof pw);
		return 1;
	}
	printf("%s created on vhost %s\n", user, u.vhost);
	print_url(&u, user, pw);
	explicit_bzero(pw, sizeof pw);
	return 0;
}

int manage_rabbit_user_delete(const struct kumo_conf *conf, int argc,
    char **argv)
{
	char user[128];

	if (argc != 2) {
		fprintf(stderr, "usage: kumo-manage rabbit-user delete HOST\n");
		return 2;
	}
	if (user_of(argv[1], user, sizeof user) < 0)
		return 2;
	const char *del[] = { "delete_user", user, NULL };
	if (ctl_run(conf, del, NULL, NULL) < 0)
		return 1;
	printf("%s deleted\n", user);
	return 0;
}

/* The compute users RabbitMQ has, one host a line. */
int manage_rabbit_user_list(const struct kumo_conf *conf, int argc,
    char **argv)
{
	const char *list[] = { "list_users", "--no-table-headers", NULL };
	size_t plen = sizeof RPCAPI_COMPUTE_USER_PREFIX - 1;
	char *out = NULL, *line, *save = NULL;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: kumo-manage rabbit-user list\n");
		return 2;
	}
	if (ctl_run(conf, list, NULL, &out) < 0) {
		free(out);
		return 1;
	}
	for (line = strtok_r(out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		line[strcspn(line, " \t")] = '\0';
		if (strncmp(line, RPCAPI_COMPUTE_USER_PREFIX, plen) == 0 &&
		    hostname_valid(line + plen))
			printf("%s\t%s\n", line + plen, line);
	}
	free(out);
	return 0;
}
