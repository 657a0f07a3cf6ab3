/*
 * kumo: the command-line client.
 *   kumo [--url URL] [--token USER:PROJECT] [-f table|json] NOUN VERB [ARGS]
 * URL and token: the flags, else KUMO_URL and KUMO_TOKEN, else the config
 * file (config.c), else the defaults.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static void usage(FILE *f)
{
	char line[160];

	fprintf(f, "usage: kumo [--url URL] [--token USER:PROJECT] [-f table|json] COMMAND\n"
	    "  --url     API endpoint (KUMO_URL; default http://127.0.0.1:8774)\n"
	    "  --token   X-Auth-Token (KUMO_TOKEN; default admin:admin)\n"
	    "  -f        output format: table (default) or json\n"
	    "config file: $KUMO_CONFIG or ~/.config/kumo/config, lines 'url = URL' and\n"
	    "  'token = TOKEN'; flags override environment variables, which override it\n"
	    "\ncommands:\n");
	for (size_t i = 0; i < cli_ncmds; i++) {
		snprintf(line, sizeof line, "%s %s %s", cli_cmds[i].noun,
		    cli_cmds[i].verb, cli_cmds[i].args);
		fprintf(f, "  %-50s %s\n", line, cli_cmds[i].help);
	}
	fprintf(f, "\nexit codes: 0 ok, 1 error, 2 usage, 3 not found, 4 conflict,\n"
	    "  5 server error, 6 denied, 7 bad request\n");
}

static const struct cli_cmd *find_cmd(const char *noun, const char *verb)
{
	for (size_t i = 0; i < cli_ncmds; i++)
		if (strcmp(cli_cmds[i].noun, noun) == 0 &&
		    strcmp(cli_cmds[i].verb, verb) == 0)
			return &cli_cmds[i];
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "token", required_argument, NULL, 't' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli c = { .fmt = FMT_TABLE };
	struct cli_config cfg;
	const struct cli_cmd *cmd;
	int ch, rc;

	cli_config_load(&cfg);
	c.url = cfg.url[0] ? cfg.url : "http://127.0.0.1:8774";
	c.token = cfg.token[0] ? cfg.token : "admin:admin";
	if (getenv("KUMO_URL") != NULL)
		c.url = getenv("KUMO_URL");
	if (getenv("KUMO_TOKEN") != NULL)
		c.token = getenv("KUMO_TOKEN");
	/* "+": stop at the first non-option, the command's own options follow. */
	while ((ch = getopt_long(argc, argv, "+u:t:f:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'u': c.url = optarg; break;
		case 't': c.token = optarg; break;
		case 'f':
			if (strcmp(optarg, "json") == 0)
				c.fmt = FMT_JSON;
			else if (strcmp(optarg, "table") != 0) {
				fprintf(stderr, "kumo: -f takes table or json\n");
				return CLI_USAGE;
			}
			break;
		case 'h': usage(stdout); return CLI_OK;
		default: usage(stderr); return CLI_USAGE;
		}
	}
	if (argc - optind < 2 || (cmd = find_cmd(argv[optind], argv[optind + 1])) == NULL) {
		if (argc - optind >= 1)
			fprintf(stderr, "kumo: unknown command '%s%s%s'\n", argv[optind],
			    argc - optind >= 2 ? " " : "", argc - optind >= 2 ? argv[optind + 1] : "");
		usage(stderr);
		return CLI_USAGE;
	}
	if (cli_http_init(&c) < 0) {
		fprintf(stderr, "kumo: cannot initialise libcurl\n");
		return CLI_ERR;
	}
	rc = cmd->fn(&c, argc - optind - 1, argv + optind + 1);
	if (rc == CLI_USAGE)
		fprintf(stderr, "usage: kumo %s %s %s\n", cmd->noun, cmd->verb, cmd->args);
	cli_http_free(&c);
	return rc;
}
