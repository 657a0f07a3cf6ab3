/*
 * cli/: `kumo`, the command-line client. A REST client of kumo-api (or any
 * Nova-compatible endpoint); it owns nothing.
 *
 *   http.c        one libcurl easy handle; request -> status + parsed JSON;
 *                 file uploads streamed from disk
 *   progress.c    an upload's progress bar (terminal) or summary line
 *   output.c      table and JSON output of rows
 *   config.c      ~/.config/kumo/config: url and token
 *   commands.c    the command table and one small handler per command
 *   completion.c  a bash completion script generated from the table
 *   main.c        global options, dispatch, exit codes
 */
#ifndef KUMO_CLI_H
#define KUMO_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Exit codes: distinct per kind of failure, so scripts can tell. */
enum cli_exit {
	CLI_OK = 0,
	CLI_ERR = 1,        /* connection failure, unexpected answer */
	CLI_USAGE = 2,      /* bad command line */
	CLI_NOTFOUND = 3,   /* 404 */
	CLI_CONFLICT = 4,   /* 409 */
	CLI_SERVER = 5,     /* 5xx, or a server that went to ERROR */
	CLI_DENIED = 6,     /* 401, 403 */
	CLI_BADREQ = 7,     /* other 4xx */
};

enum cli_format { FMT_TABLE, FMT_JSON };

struct cli {
	const char *url;     /* e.g. http://127.0.0.1:8774 */
	const char *token;   /* X-Auth-Token */
	enum cli_format fmt;
	void *curl;          /* CURL *, opaque here */
	const char *microversion; /* "2.84": sent as OpenStack-API-Version;
	                      * NULL: none (2.1) */
};

struct cli_resp {
	long status;
	json_t *body;        /* parsed JSON or NULL; owned */
};

/* http.c */
int cli_http_init(struct cli *c);
void cli_http_free(struct cli *c);
/* path is appended to c->url; body may be NULL (stolen). 0 or -1 (printed). */
int cli_request(struct cli *c, const char *method, const char *path,
    json_t *body, struct cli_resp *out);
/* PUT path with size bytes of f as application/octet-stream, read from f
 * as they are sent (never held in memory); progress on stderr under the
 * name what. 0 or -1 (printed). */
int cli_upload(struct cli *c, const char *path, FILE *f, int64_t size,
    const char *what, struct cli_resp *out);
void cli_resp_free(struct cli_resp *r);
/* Prints the API's error message as is; returns the exit code for status. */
int cli_fail(const struct cli_resp *r);

/* progress.c */
struct cli_progress {
	const char *what;    /* borrowed; names the transfer */
	double start, last;  /* monotonic seconds: start, last redraw */
	uint64_t shown;      /* bytes at the last redraw */
	bool tty;            /* stderr is a terminal: a live bar */
};
void cli_progress_start(struct cli_progress *p, const char *what);
void cli_progress_update(struct cli_progress *p, uint64_t done, uint64_t total);
void cli_progress_end(struct cli_progress *p, uint64_t done, bool ok);

/* config.c: "url = ..." and "token = ..." lines, '#' comments. */
struct cli_config {
	char url[1024];      /* "" when not set */
	char token[512];
};
/* Reads $KUMO_CONFIG, else $XDG_CONFIG_HOME/kumo/config or
 * ~/.config/kumo/config. A missing default file is silent; every other
 * problem is a warning naming file:line, and the line is ignored. */
void cli_config_load(struct cli_config *cfg);

/* output.c */
struct cli_col {
	const char *title;
	const char *path;    /* dotted key into each row, e.g. "flavor.id" */
};
/* Prints rows (a JSON array of objects) as a table or as JSON. */
void cli_print_rows(const struct cli *c, json_t *rows,
    const struct cli_col *cols, size_t ncols);
/* Prints one object as Field/Value pairs, or as JSON. */
void cli_print_object(const struct cli *c, json_t *obj);

/* commands.c */
struct cli_cmd {
	const char *noun;
	const char *verb;
	int (*fn)(struct cli *c, int argc, char **argv); /* argv[0] = verb */
	const char *args;    /* usage of the arguments; its --options are
	                      * what shell completion offers */
	const char *help;
};
extern const struct cli_cmd cli_cmds[];
extern const size_t cli_ncmds;

/* completion.c: `kumo completion bash`. */
int cli_completion_bash(struct cli *c, int argc, char **argv);

#endif
