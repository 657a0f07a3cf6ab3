/*
 * `kumo server ssh ID|NAME [-i KEY] [-l USER] [--network LABEL] [-- ARGS]`:
 * execs ssh (execvp, no shell; $KUMO_SSH names another binary) with
 * "-l USER [-i KEY] ARGS... ADDRESS", ADDRESS the server's first fixed
 * IPv4 address (on LABEL's network when given). What comes from the cloud
 * (the address) and the user name are checked to be plain, so neither
 * can reach ssh's argv as an option. The login defaults to root, the
 * user of kumo's test guest image.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/common.h"

#define SSH_MAX_EXTRA 64

struct ssh_opts {
	const char *login;   /* -l; "root" by default */
	const char *key;     /* -i; NULL: none */
	const char *network; /* --network; NULL: the first */
	const char *ref;     /* ID|NAME */
	char **extra;        /* after "--": ssh options, before the address */
	int nextra;
};

/* A login name: [a-zA-Z0-9._-]+, not starting with '-', at most 64. */
static bool login_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 64 && s[0] != '-' &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-") == n;
}

/* The first fixed IPv4 address in list into addr. 0 or -1. */
static int first_fixed(json_t *list, char addr[IP4_STR_LEN])
{
	json_t *a;
	size_t i;
	uint32_t ip;

	json_array_foreach(list, i, a) {
		const char *type = json_string_value(json_object_get(a, "OS-EXT-IPS:type"));
		const char *s = json_string_value(json_object_get(a, "addr"));

		if (s == NULL || (type != NULL && strcmp(type, "fixed") != 0) ||
		    ip4_parse(s, &ip) < 0)
			continue;
		ip4_format(ip, addr);
		return 0;
	}
	return -1;
}

/* The server's address on network (NULL: the first that has one). An
 * exit code; a server without one is refused (printed). */
static int server_addr(json_t *server, const struct ssh_opts *o,
    char addr[IP4_STR_LEN])
{
	json_t *addrs = json_object_get(server, "addresses"), *list;
	const char *label;
	char *ref = cli_escape(o->ref), *net;

	json_object_foreach(addrs, label, list)
		if ((o->network == NULL || strcmp(label, o->network) == 0) &&
		    first_fixed(list, addr) == 0) {
			free(ref);
			return CLI_OK;
		}
	net = o->network ? cli_escape(o->network) : NULL;
	fprintf(stderr, "kumo: server '%s' has no fixed IPv4 address%s%s%s\n",
	    ref ? ref : "?", net ? " on network '" : "", net ? net : "",
	    net ? "'" : "");
	free(ref);
	free(net);
	return CLI_ERR;
}

/* ssh's argv: ssh -l LOGIN [-i KEY] EXTRA... ADDR. */
static int run_ssh(const struct ssh_opts *o, const char *addr)
{
	const char *ssh = getenv("KUMO_SSH");
	char *argv[SSH_MAX_EXTRA + 8];
	int n = 0;

	if (ssh == NULL || *ssh == '\0')
		ssh = "ssh";
	argv[n++] = (char *)ssh;
	argv[n++] = "-l";
	argv[n++] = (char *)o->login;
	if (o->key != NULL) {
		argv[n++] = "-i";
		argv[n++] = (char *)o->key;
	}
	for (int i = 0; i < o->nextra; i++)
		argv[n++] = o->extra[i];
	argv[n++] = (char *)addr;
	argv[n] = NULL;
	fflush(stdout);
	execvp(ssh, argv);
	fprintf(stderr, "kumo: %s: %s\n", ssh, strerror(errno));
	return CLI_ERR;
}

/* Options before "--" (getopt sees only those), the rest kept as extra. */
static int ssh_parse(int argc, char **argv, struct ssh_opts *o)
{
	static const struct option opts[] = {
		{ "identity", required_argument, NULL, 'i' },
		{ "login", required_argument, NULL, 'l' },
		{ "network", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	int end = argc, ch;

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			end = i;
			break;
		}
	o->extra = argv + end + (end < argc);
	o->nextra = argc - end - (end < argc);
	optind = 0;
	while ((ch = getopt_long(end, argv, "i:l:", opts, NULL)) != -1) {
		if (ch == 'i') o->key = optarg;
		else if (ch == 'l') o->login = optarg;
		else if (ch == 'n') o->network = optarg;
		else return -1;
	}
	if (optind != end - 1 || o->nextra > SSH_MAX_EXTRA)
		return -1;
	o->ref = argv[optind];
	if (!login_ok(o->login)) {
		fprintf(stderr, "kumo: -l takes a login name of letters, digits, "
		    "'.', '_' and '-', not starting with '-'\n");
		return -1;
	}
	return 0;
}

int cli_server_ssh(struct cli *c, int argc, char **argv)
{
	struct ssh_opts o = { .login = "root" };
	char id[256], path[320], addr[IP4_STR_LEN];
	json_t *server;
	int rc = CLI_OK;

	if (ssh_parse(argc, argv, &o) < 0)
		return CLI_USAGE;
	if ((rc = cli_resolve(c, &cli_kind_server, o.ref, id, sizeof id)))
		return rc;
	if (str_fmt(path, sizeof path, "/v2.1/servers/%s", id) < 0)
		return CLI_ERR;
	if ((server = cli_get_key(c, path, "server", &rc)) == NULL)
		return rc;
	rc = server_addr(server, &o, addr);
	json_decref(server);
	return rc == CLI_OK ? run_ssh(&o, addr) : rc;
}
