/*
 * kumo: the command-line client.
 *   kumo [--url URL] [--token USER:PROJECT] [--os-* ...] [-f table|json] NOUN VERB [ARGS]
 * Two ways in. A Keystone login (auth.c) when there is an auth URL: the
 * --os-* flags, else OS_* variables, else the --os-cloud entry of a
 * clouds.yaml; the endpoints then come from the catalog. Otherwise, or when
 * --token or KUMO_TOKEN is given, noauth2 as before: URL and token from the
 * flags, else KUMO_URL and KUMO_TOKEN, else the config file (config.c),
 * else the defaults.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static void usage(FILE *f)
{
	char line[256];

	fprintf(f, "usage: kumo [--url URL] [--token USER:PROJECT] [--os-cloud NAME]\n"
	    "            [--os-auth-url URL --os-username U --os-password P --os-project-name P]\n"
	    "            [-f table|json] COMMAND\n"
	    "  --url     API endpoint (KUMO_URL; default http://127.0.0.1:8774)\n"
	    "  --token   X-Auth-Token (KUMO_TOKEN; default admin:admin)\n"
	    "  -f        output format: table (default) or json\n"
	    "config file: $KUMO_CONFIG or ~/.config/kumo/config, lines 'url = URL' and\n"
	    "  'token = TOKEN'; flags override environment variables, which override it\n"
	    "\nKeystone login, as openstackclient (flags over OS_* variables over clouds.yaml):\n"
	    "  --os-cloud NAME               entry of clouds.yaml (OS_CLOUD): $OS_CLIENT_CONFIG_FILE,\n"
	    "                                ./clouds.yaml, ~/.config/openstack/, /etc/openstack/\n"
	    "  --os-auth-url URL             identity endpoint, e.g. http://HOST:8774/identity/v3\n"
	    "  --os-username, --os-password, --os-project-name\n"
	    "  --os-user-domain-name, --os-project-domain-name   (default Default; or --os-*-domain-id)\n"
	    "  --os-region-name, --os-interface    catalog filter (any region; public)\n"
	    "  Each --os-x-y is also the variable OS_X_Y (--os-auth-url: OS_AUTH_URL).\n"
	    "  The token and endpoints are cached in ~/.cache/kumo (0600) until 60 s before\n"
	    "  expiry. --token or KUMO_TOKEN (noauth2, with --url) wins over a login.\n"
	    "\ncommands:\n");
	for (size_t i = 0; i < cli_ncmds; i++) {
		snprintf(line, sizeof line, "%s %s %s", cli_cmds[i].noun,
		    cli_cmds[i].verb, cli_cmds[i].args);
		fprintf(f, "  %-50s %s\n", line, cli_cmds[i].help);
	}
	fprintf(f, "\nexit codes: 0 ok, 1 error, 2 usage, 3 not found, 4 conflict,\n"
	    "  5 server error, 6 denied (also a failed login), 7 bad request\n");
}

static const struct cli_cmd *find_cmd(const char *noun, const char *verb)
{
	for (size_t i = 0; i < cli_ncmds; i++)
		if (strcmp(cli_cmds[i].noun, noun) == 0 &&
		    strcmp(cli_cmds[i].verb, verb) == 0)
			return &cli_cmds[i];
	return NULL;
}

/* The global options; an exit code, or -1 to go on. */
static int parse_opts(struct cli *c, struct cli_auth *flags, bool *token_given,
    int argc, char **argv)
{
	static const struct option base[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "token", required_argument, NULL, 't' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
	};
	struct option opts[sizeof base / sizeof base[0] + CLI_NAUTH_OPTS + 1];
	int ch;

	memcpy(opts, base, sizeof base);
	cli_auth_options(opts + sizeof base / sizeof base[0]);
	memset(&opts[sizeof opts / sizeof opts[0] - 1], 0, sizeof opts[0]);
	/* "+": stop at the first non-option, the command's own options follow. */
	while ((ch = getopt_long(argc, argv, "+u:t:f:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'u': c->url = optarg; break;
		case 't': c->token = optarg; *token_given = true; break;
		case 'f':
			if (strcmp(optarg, "json") == 0)
				c->fmt = FMT_JSON;
			else if (strcmp(optarg, "table") != 0) {
				fprintf(stderr, "kumo: -f takes table or json\n");
				return CLI_USAGE;
			}
			break;
		case 'h': usage(stdout); return CLI_OK;
		default:
			if (ch < CLI_OPT_OS || cli_auth_set_opt(flags, ch - CLI_OPT_OS, optarg) < 0) {
				usage(stderr);
				return CLI_USAGE;
			}
			/* Out of ps: the password's copy is in flags now. */
			if (strcmp(opts[sizeof base / sizeof base[0] + ch - CLI_OPT_OS].name,
			    "os-password") == 0)
				memset(optarg, 'x', strlen(optarg));
		}
	}
	return -1;
}

/* Runs cmd once the way in is settled. */
static int run(struct cli *c, const struct cli_cmd *cmd, struct cli_auth *auth,
    bool login, int argc, char **argv)
{
	struct cli_session sess = { .auth = auth };
	int rc;

	if (cli_http_init(c) < 0) {
		fprintf(stderr, "kumo: cannot initialise libcurl\n");
		return CLI_ERR;
	}
	rc = login && !cmd->offline ? cli_auth_login(c, &sess) : CLI_OK;
	if (rc == CLI_OK) {
		rc = cmd->fn(c, argc, argv);
		if (rc == CLI_USAGE)
			fprintf(stderr, "usage: kumo %s %s %s\n", cmd->noun, cmd->verb, cmd->args);
	}
	cli_http_free(c);
	cli_auth_wipe(auth, &sess);
	return rc;
}

int main(int argc, char **argv)
{
	struct cli c = { .fmt = FMT_TABLE };
	struct cli_config cfg;
	struct cli_auth flags = { .cloud = "" }, auth = { .cloud = "" };
	const struct cli_cmd *cmd;
	bool token_given = getenv("KUMO_TOKEN") != NULL;
	int rc;

	cli_config_load(&cfg);
	c.url = cfg.url[0] ? cfg.url : "http://127.0.0.1:8774";
	c.token = cfg.token[0] ? cfg.token : "admin:admin";
	if (getenv("KUMO_URL") != NULL)
		c.url = getenv("KUMO_URL");
	if (getenv("KUMO_TOKEN") != NULL)
		c.token = getenv("KUMO_TOKEN");
	if ((rc = parse_opts(&c, &flags, &token_given, argc, argv)) >= 0)
		goto out;
	rc = CLI_USAGE;
	if (argc - optind < 2 || (cmd = find_cmd(argv[optind], argv[optind + 1])) == NULL) {
		if (argc - optind >= 1)
			fprintf(stderr, "kumo: unknown command '%s%s%s'\n", argv[optind],
			    argc - optind >= 2 ? " " : "", argc - optind >= 2 ? argv[optind + 1] : "");
		usage(stderr);
		goto out;
	}
	/* --token (noauth2, or a token of one's own) wins over a login. */
	if (!token_given && cli_auth_resolve(&auth, &flags) < 0) {
		rc = CLI_ERR;
		goto out;
	}
	c.image_url = c.url;
	rc = run(&c, cmd, &auth, !token_given && auth.auth_url[0] != '\0',
	    argc - optind - 1, argv + optind + 1);
out:
	explicit_bzero(&flags, sizeof flags);
	explicit_bzero(&auth, sizeof auth);
	return rc;
}
