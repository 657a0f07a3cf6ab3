/*
 * cli/: `kumo`, the command-line client. A REST client of kumo-api (or any
 * Nova-compatible endpoint); it owns nothing.
 *
 *   http.c        one libcurl easy handle; request -> status + parsed JSON;
 *                 file uploads streamed from disk
 *   progress.c    an upload's progress bar (terminal) or summary line
 *   output.c      table and JSON output of rows
 *   config.c      ~/.config/kumo/config: url and token
 *   clouds.c      clouds.yaml (libyaml): one cloud's auth settings
 *   auth.c        OS_* settings by precedence, the Keystone login, token issue
 *   keystone.c    the token body: ids, expiry, endpoints from the catalog
 *   cache.c       the token cache file (0600 in a 0700 directory)
 *   commands.c    the command table, the helpers handlers share, and one
 *                 small handler per command
 *   servers.c     server list/show/create/delete: openstackclient's columns
 *   ssh.c         server ssh: exec ssh to a server's fixed address
 *   format.c      openstackclient's column formats (networks, dicts)
 *   completion.c  a bash completion script generated from the table
 *   main.c        global options, dispatch, exit codes
 */
#ifndef KUMO_CLI_H
#define KUMO_CLI_H

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

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

struct cli_session;

struct cli {
	const char *url;     /* e.g. http://127.0.0.1:8774: paths /v2.1/... */
	const char *image_url; /* Glance's root: paths /v2/...; "" none */
	const char *token;   /* X-Auth-Token */
	struct cli_session *sess; /* a Keystone login; NULL with --token */
	enum cli_format fmt;
	void *curl;          /* CURL *, opaque here */
	const char *microversion; /* "2.84": sent as OpenStack-API-Version;
	                      * NULL: none (2.1) */
};

struct cli_resp {
	long status;
	json_t *body;        /* parsed JSON or NULL; owned */
	char *subject_token; /* X-Subject-Token or NULL; owned */
};

/* http.c */
int cli_http_init(struct cli *c);
void cli_http_free(struct cli *c);
/* path is appended to c->image_url when it starts "/v2/", else to c->url;
 * body may be NULL (stolen). A 401 to a token from the cache logs in once
 * more (cli_auth_renew) and repeats the request. 0 or -1 (printed). */
int cli_request(struct cli *c, const char *method, const char *path,
    json_t *body, struct cli_resp *out);
/* method on an absolute url, with token unless NULL; body may be NULL
 * (stolen; its text is wiped after sending: it may hold a password). */
int cli_fetch(struct cli *c, const char *method, const char *url,
    const char *token, json_t *body, struct cli_resp *out);
/* PUT path with size bytes of f as application/octet-stream, read from f
 * as they are sent (never held in memory); progress on stderr under the
 * name what. 0 or -1 (printed). */
int cli_upload(struct cli *c, const char *path, FILE *f, int64_t size,
    const char *what, struct cli_resp *out);
void cli_resp_free(struct cli_resp *r);
/* Prints the API's error message as is; returns the exit code for status. */
int cli_fail(const struct cli_resp *r);
/* The exit code for an HTTP error status. */
int cli_exit_code(long status);

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

/* clouds.c, auth.c: what a Keystone login needs, merged from clouds.yaml,
 * then OS_* variables, then --os-* flags (each overrides the one before). */
struct cli_auth {
	char cloud[256];     /* --os-cloud, OS_CLOUD */
	char auth_url[1024]; /* "" when none: no login (noauth2) */
	char username[256];
	char password[512];  /* never printed; wiped by cli_auth_wipe */
	char project_name[256];
	char user_domain_name[256];
	char user_domain_id[256];
	char project_domain_name[256];
	char project_domain_id[256];
	char region_name[256]; /* "": any region */
	char interface[32];  /* public (default), internal, admin */
};
/* The entry named cloud of a clouds.yaml in buf into a (only the keys it
 * has). 0, or -1 with a message for the file in err (no value in it). */
int cli_clouds_parse(const char *buf, size_t len, const char *cloud,
    struct cli_auth *a, char *err, size_t errlen);
/* Finds clouds.yaml as openstackclient does ($OS_CLIENT_CONFIG_FILE, else
 * ./clouds.yaml, ~/.config/openstack/clouds.yaml,
 * /etc/openstack/clouds.yaml) and reads a->cloud's entry. 0 or -1
 * (printed, naming the file). */
int cli_clouds_load(struct cli_auth *a);

/* A logged-in session: what the cache file holds. */
struct cli_session {
	const struct cli_auth *auth; /* borrowed */
	char token[1024];
	char expires_at[40]; /* Keystone's "2026-12-07T14:26:59.000000Z" */
	time_t expires;
	char user_id[128];
	char project_id[128];
	char compute_url[1024]; /* the compute endpoint without /v2.1 */
	char image_url[1024];   /* "" when the catalog has none */
	char cache_path[4096];  /* "" when there is no cache */
	bool cached;            /* the token came from the cache file */
};

/* auth.c. The long options --os-cloud, --os-auth-url, ...: getopt's val
 * is CLI_OPT_OS + their index. */
#define CLI_OPT_OS 1000
#define CLI_NAUTH_OPTS 11
/* Fills o[0 .. CLI_NAUTH_OPTS - 1]. */
void cli_auth_options(struct option *o);
/* Fills a from clouds.yaml (a->cloud, when set), then the environment; the
 * flags were kept aside in flags (same layout, "" = not given) and win.
 * 0 or -1 (printed). */
int cli_auth_resolve(struct cli_auth *a, const struct cli_auth *flags);
/* Stores the value of option index i (CLI_OPT_OS + i) into a. 0 or -1. */
int cli_auth_set_opt(struct cli_auth *a, int i, const char *val);
/* Logs in (or takes the cached token) and points c at the session's
 * token and endpoints. An exit code; failures printed. */
int cli_auth_login(struct cli *c, struct cli_session *s);
/* After a 401: drops the cache and logs in again. An exit code. */
int cli_auth_renew(struct cli *c);
void cli_auth_wipe(struct cli_auth *a, struct cli_session *s);
/* `kumo token issue`. */
int cli_token_issue(struct cli *c, int argc, char **argv);

/* keystone.c: a token body of POST /v3/auth/tokens into s (ids, expiry,
 * the endpoints of type compute and image for interface and region). 0, or
 * -1 with a message in err. */
int cli_token_parse(json_t *body, const char *interface, const char *region,
    struct cli_session *s, char *err, size_t errlen);
/* The url of the endpoint of service type for interface ("public" or
 * "publicURL") and region ("" or NULL: any) in a catalog. 0 or -1. */
int cli_catalog_endpoint(json_t *catalog, const char *type,
    const char *interface, const char *region, char *url, size_t len);
/* Keystone's "2026-12-07T14:26:59.000000Z" (or without fraction) as UTC.
 * 0 or -1. */
int cli_time_parse(const char *iso, time_t *out);

/* cache.c. The file for a's login into s->cache_path (under
 * $XDG_CACHE_HOME/kumo or ~/.cache/kumo); -1 when there is no home. */
int cli_cache_path(const struct cli_auth *a, struct cli_session *s);
/* Reads s->cache_path into s: 0, or -1 when absent, expired (60 s
 * before expires), unreadable, or open to others (refused, printed). */
int cli_cache_read(struct cli_session *s);
/* Writes s to s->cache_path: 0600, under a temporary name and renamed, in
 * a 0700 directory made when missing. 0 or -1 (printed). */
int cli_cache_write(const struct cli_session *s);
void cli_cache_drop(const struct cli_session *s);

/* output.c */
struct cli_col {
	const char *title;
	const char *path;    /* dotted key into each row, e.g. "flavor.id" */
};
/* s with every character that is not printable (unicode_printable) or
 * not UTF-8 escaped as \xNN or \uNNNN, for a terminal; caller frees;
 * NULL when out of memory. */
char *cli_escape(const char *s);
/* Prints rows (a JSON array of objects) as a table or as JSON. */
void cli_print_rows(const struct cli *c, json_t *rows,
    const struct cli_col *cols, size_t ncols);
/* Prints one object as Field/Value pairs, or as JSON. */
void cli_print_object(const struct cli *c, json_t *obj);

/* format.c: text for a table cell (raw: the printer escapes it); NULL
 * when out of memory; caller frees. */
/* addresses {"label": [{"addr": ..}, ..], ..} as "label=a1, a2; other=a3",
 * labels in the object's order, addresses in the list's. */
char *cli_fmt_networks(json_t *addresses);
/* osc_lib's format_dict: "a='1', b='2'", keys sorted, a null as "k=", a
 * nested object's keys as "outer.inner='v'". */
char *cli_fmt_dict(json_t *obj);
/* A list of objects (security_groups) as format_dict's each, "; "-joined. */
char *cli_fmt_dict_list(json_t *arr);
/* The name for id in names ({id: name}), or id itself; borrowed. */
const char *cli_name_of(json_t *names, const char *id);
/* "name (id)" as openstackclient shows a flavor or image, or id when names
 * has none; a new string. */
json_t *cli_fmt_named(json_t *names, const char *id);

/* commands.c: what the handler files share. A kind of resource: its list,
 * the key of that list in the answer, its noun in messages. */
struct cli_kind {
	const char *list_path;  /* "/v2.1/servers" */
	const char *key;        /* "servers" */
	const char *noun;       /* "server": also the key of one in an answer */
};
extern const struct cli_kind cli_kind_server, cli_kind_flavor, cli_kind_image;
/* GET path, expect 200, hand back body[key] (owned); an array's further
 * pages are fetched from the answers' "next" links (Glance's lists) and
 * appended. NULL on failure (printed, *rc set). */
json_t *cli_get_key(struct cli *c, const char *path, const char *key, int *rc);
/* The id of the k that ref is the id or unique name of, into id. An exit
 * code; "server 'x' not found" or "... is ambiguous" printed. */
int cli_resolve(struct cli *c, const struct cli_kind *k, const char *ref,
    char *id, size_t idlen);
/* method path with body (stolen, may be NULL); a status other than want
 * is printed and its exit code returned. out (if not NULL) gets the
 * answer's body. */
int cli_send_expect(struct cli *c, const char *method, const char *path,
    json_t *body, long want, json_t **out);
/* --property KEY=VALUE into obj; -1 (printed) without '=' or a key. */
int cli_property(json_t *obj, const char *kv);

/* servers.c, ssh.c: handlers of the command table. */
int cli_server_list(struct cli *c, int argc, char **argv);
int cli_server_show(struct cli *c, int argc, char **argv);
int cli_server_create(struct cli *c, int argc, char **argv);
int cli_server_delete(struct cli *c, int argc, char **argv);
int cli_server_ssh(struct cli *c, int argc, char **argv);

/* commands.c */
struct cli_cmd {
	const char *noun;
	const char *verb;
	int (*fn)(struct cli *c, int argc, char **argv); /* argv[0] = verb */
	const char *args;    /* usage of the arguments; its --options are
	                      * what shell completion offers */
	const char *help;
	bool offline;        /* needs no API, so no login */
};
extern const struct cli_cmd cli_cmds[];
extern const size_t cli_ncmds;

/* completion.c: `kumo completion bash`. */
int cli_completion_bash(struct cli *c, int argc, char **argv);

#endif
