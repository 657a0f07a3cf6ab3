/*
 * api/: kumo-api, the Compute API (and Glance's image calls) over HTTP.
 *
 *   server.c       libmicrohttpd glue: per-request state, body, replies
 *   pipeline.c     api-pipeline.ini -> the ordered filter list; runs it
 *   errors.c       the one error catalogue { code, status, format }
 *   router.c       the route table; 404/405, path ids, policy, JSON bodies
 *   policy.c       oslo.policy's rule language, defaults, the policy file
 *   pyrepr.c       Python repr() of JSON values (Nova's schema messages)
 *   validate.c     Nova's JSON-schema checks, its 'name' format
 *   regex.c        regular expressions with a bounded cost (PCRE2)
 *   view.c         shared JSON pieces: links, timestamps, hostId (SHA-224,
 *                  common/crypto.h)
 *   versions.c     GET /, GET /v2.1
 *   flavors.c      /v2.1/flavors, each caller seeing the flavors its
 *                  project may use
 *   flavor_access.c  /v2.1/flavors/{id}/os-flavor-access and the flavor
 *                  actions addTenantAccess, removeTenantAccess
 *   servers.c      /v2.1/servers list, show, delete and their views
 *   servers_query.c  the list's filters, sorting and paging (servers_query.h)
 *   servers_create.c  POST /v2.1/servers: validation and the boot cast
 *   servers_update.c  PUT /v2.1/servers/{id}: name and access addresses
 *   servers_ips.c  addresses and metadata in the server view,
 *                  /servers/{id}/ips, the read side of /os-networks
 *   servers_guest.c  what a create gives the guest: user_data,
 *                  config_drive, hostname, metadata, networks
 *   servers_action.c  POST /v2.1/servers/{id}/action: reboot, os-stop,
 *                  os-start, os-getConsoleOutput
 *   hosts.c        /v2.1/os-hypervisors, /v2.1/os-services, os-aggregates
 *   os_hosts.c     /v2.1/os-hosts (up to 2.42): hosts, a host's resources
 *   usage_audit.c  /v2.1/os-instance_usage_audit_log (no audit task runs)
 *   tenant_usage.c  /v2.1/os-simple-tenant-usage: server hours per project
 *   migrations.c   /v2.1/os-migrations (none: kumo does not migrate yet)
 *   servers_password.c  /v2.1/servers/{id}/os-server-password (none posted)
 *   images.c       /v2/images (Glance v2 metadata; the list filtered and
 *                  paged in SQL, the image count quota) and /v2.1/images
 *   images_data.c  /v2/images/{id}/file: data streamed to and from the
 *                  image store, within its bounds and the byte quotas
 *   limits.c       /v2.1/limits, /v2.1/os-availability-zone
 *   quotas.c       per-project quotas: enforcement, /v2.1/os-quota-sets
 *   keypairs.c     /v2.1/os-keypairs
 *   sshkey.c       OpenSSH public keys: checks and fingerprints
 *   keygen.c       key pairs generated for os-keypairs (libcrypto), bounded
 *   defer.c        slow work (password checks) and calls that wait on a
 *                  compute host, off the HTTP workers
 *   instance_actions.c  /v2.1/servers/{id}/os-instance-actions
 *   filters/NAME.c  one pipeline filter a file (request_id, faultwrap, ...)
 *   identity/      kumo's Keystone v3 subset at /identity/v3 (identity.h)
 *   authtoken/     tokens checked by an external Keystone, as
 *                  keystonemiddleware does in front of Nova (authtoken.h)
 *
 * A request: libmicrohttpd calls the access handler several times; the
 * state (struct api_req) hangs on its per-connection pointer and is freed
 * once, in the completion callback. The filters' request hooks run when the
 * headers are in, in pipeline order; the body then streams in (bounded by
 * r->body_limit; a route with a stream gets it chunk by chunk instead,
 * see struct api_stream); the app (the router) runs on the complete request; the
 * response hooks of the filters that ran run in reverse order; the reply is
 * queued; the complete hooks run once it is sent.
 */
#ifndef KUMO_API_H
#define KUMO_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/common.h"
#include "common/crypto.h"

struct MHD_Connection;
struct MHD_Daemon;
struct db;
struct rpc_transport;
struct api_req;
struct db_instance;
struct db_image;

/* Microversions, as major * 1000 + minor: 2.1 = 2001. */
#define API_MV(maj, min) ((maj) * 1000 + (min))
#define API_MV_MIN API_MV(2, 1)
#define API_MV_MAX API_MV(2, 93)
#define API_MV_MAX_STR "2.93"

/* ---- errors.c: the catalogue ------------------------------------------- */

enum api_err {
	ERR_NONE = 0,
	ERR_BAD_REQUEST,       /* 400, a message made by the caller */
	ERR_MALFORMED_BODY,
	ERR_INVALID_INPUT,     /* 400, Nova's schema message with a path */
	ERR_FLAVOR_REF,        /* 400, unknown flavorRef on create */
	ERR_IMAGE_REF,         /* 400, unknown imageRef on create */
	ERR_IMAGE_NOT_ACTIVE,
	ERR_NO_SUCH_ACTION,    /* 400, an unknown server action */
	ERR_KEYPAIR_INVALID,   /* 400, Nova's InvalidKeypair with a reason */
	ERR_MV_MALFORMED,
	ERR_UNAUTHORIZED,
	ERR_BAD_TOKEN,
	ERR_POLICY,            /* 403 */
	ERR_FORBIDDEN,         /* 403, a message made by the caller */
	ERR_QUOTA_EXCEEDED,    /* 403, Nova's TooManyInstances */
	ERR_KEYPAIR_QUOTA,
	ERR_IMAGE_READONLY,
	ERR_IMAGE_PROTECTED,
	ERR_NOT_FOUND,         /* 404, no such route */
	ERR_NETWORK_NOT_FOUND, /* 404, os-networks */
	ERR_NOT_IN_NETWORK,    /* 404, /servers/{id}/ips/{network} */
	ERR_INSTANCE_NOT_FOUND,
	ERR_FLAVOR_NOT_FOUND,
	ERR_IMAGE_NOT_FOUND,
	ERR_HYPERVISOR_NOT_FOUND,
	ERR_HOST_NOT_FOUND,    /* 404, os-hosts: no service on that host */
	ERR_HYPERVISOR_NO_MATCH, /* 404, os-hypervisors search and servers */
	ERR_COMPUTE_HOST_NOT_FOUND,
	ERR_CONSOLE_NOT_AVAILABLE,
	ERR_KEYPAIR_NOT_FOUND,
	ERR_ACTION_NOT_FOUND,
	ERR_FLAVOR_ACCESS_NOT_FOUND,
	ERR_FLAVOR_ACCESS_PUBLIC, /* 404, no access list for a public flavor */
	ERR_METHOD,            /* 405 */
	ERR_MV_UNSUPPORTED,    /* 406 */
	ERR_FLAVOR_NAME_EXISTS,
	ERR_FLAVOR_ID_EXISTS,
	ERR_FLAVOR_ACCESS_EXISTS,
	ERR_FLAVOR_IS_PUBLIC,  /* 409, access added to a public flavor */
	ERR_IMAGE_IN_USE,
	ERR_IMAGE_EXISTS,
	ERR_KEYPAIR_EXISTS,
	ERR_IMAGE_STATUS,      /* 409, Glance's status transition refusal */
	ERR_INSTANCE_STATE,    /* 409, Cannot '<action>' instance ... */
	ERR_INSTANCE_NOT_READY,
	ERR_TOO_LARGE,         /* 413 */
	ERR_IMAGE_FULL,        /* 413, the image store has no room */
	ERR_IMAGE_TOO_LARGE,   /* 413, over [glance] image_size_cap */
	ERR_IMAGE_QUOTA,       /* 413, a project's image quota (oslo.limit's words) */
	ERR_MEDIA_TYPE,        /* 415 */
	ERR_KEYGEN_BUSY,       /* 429, every key generation slot is taken */
	ERR_BUSY,              /* 429, the deferred work queue is full */
	ERR_CALLS_BUSY,        /* 429, the project's calls to hosts are all waiting */
	ERR_INTERNAL,          /* 500 */
	ERR_RPC,               /* 500, the broker refused a cast */
	ERR_RPC_TIMEOUT,       /* 500, a compute host did not answer a call */
	ERR_NOT_IMPLEMENTED,   /* 501, a message made by the caller */
	ERR_KS_UNAVAILABLE,    /* 503, an external Keystone cannot check a token */
	ERR_HOST_BUSY,         /* 503, too many calls wait on one compute host */
	ERR_CALLS_FULL,        /* 503, every slot of the call pool is taken */
	ERR_SHUTTING_DOWN,     /* 503, deferred work not begun when kumo-api stops */
	ERR_DB_FULL,           /* 503 with Retry-After, the database's disk is full */
	/* Keystone's answers (identity routes; KS_AUTH on every route when
	 * auth_strategy = keystone) */
	ERR_KS_AUTH,           /* 401 */
	ERR_KS_METHOD,         /* 401, an authentication method kumo lacks */
	ERR_KS_EXPECTING,      /* 400, "Expecting to find <what> in <where>" */
	ERR_KS_BAD_JSON,
	ERR_KS_CONTENT_TYPE,
	ERR_KS_INVALID,        /* 400, a schema message made by the caller */
	ERR_KS_POLICY,         /* 403, names the rule */
	ERR_KS_FORBIDDEN,      /* 403, a message made by the caller */
	ERR_KS_NOT_FOUND,      /* 404, "Could not find <kind>: <id>." */
	ERR_KS_NO_TOKEN,
	ERR_KS_TOKEN_UNKNOWN,
	ERR_KS_TOKEN_INVALID,
	ERR_KS_CONFLICT,       /* 409, a duplicate name */
	ERR_KS_THROTTLED,      /* 429, failed logins */
	ERR__COUNT
};

/* Records error e on r, formatting the catalogue's text with the
 * arguments (every catalogue format takes only %s). The first error wins.
 * Returns API_ERROR, for `return api_error(...)`. */
int api_error(struct api_req *r, enum api_err e, ...);
/* An action body ({"<action>": <value>}, one key) against a table whose
 * entries start with their key (const char *), stride bytes apart: the
 * entry's index and *v the value, or -1 with the error answered (Nova's
 * malformed body, or no such action). */
int api_action_pick(struct api_req *r, const void *table, size_t n,
    size_t stride, json_t **v);
/* api_error for a failed db/ call: ERR_DB_FULL for DB_FULL, else
 * ERR_INTERNAL. (faultwrap also answers 503 for an ERR_INTERNAL while
 * db_full: a status flattened on its way up is still a full disk.) */
int api_db_error(struct api_req *r, int rc);
/* The status of e, and Nova's fault name for a status ("itemNotFound"). */
int api_err_status(enum api_err e);
const char *api_fault_name(int status);
/* {"<kind>": {"code": N, "message": msg}}; new reference. */
json_t *api_error_body(int status, const char *msg);
/* The HTTP reason phrase of a status ("Not Found"): Keystone's "title". */
const char *api_status_title(int status);

/* ---- pipeline.c --------------------------------------------------------- */

/* API_SUSPEND: the handler deferred its work (api_defer). */
enum api_rc { API_NEXT = 0, API_DONE = 1, API_ERROR = 2, API_SUSPEND = 3 };

/* One filter (STYLE: one file each). request runs before the app (headers
 * only, no body yet) and returns NEXT, DONE (it answered) or ERROR (it
 * called api_error). response runs after the app, in reverse order, for the
 * filters whose request ran; complete runs once the reply is sent. Either
 * hook may be NULL. */
struct api_filter {
	const char *name;
	enum api_rc (*request)(struct api_req *r);
	void (*response)(struct api_req *r);
	void (*complete)(struct api_req *r);
};

typedef enum api_rc (*api_app_fn)(struct api_req *r);

#define API_MAX_FILTERS 16

struct api_pipeline {
	const struct api_filter *filters[API_MAX_FILTERS];
	size_t n;
	api_app_fn app;
};

/* Parses an api-pipeline.ini ([pipeline:main] pipeline = f1 f2 ... app).
 * On error writes "file:line: message" to err and returns -1. */
int api_pipeline_load(const char *path, struct api_pipeline *p,
    char *err, size_t errlen);
/* The same from a string (unit tests); `name` is used in messages. */
int api_pipeline_parse(const char *name, const char *text,
    struct api_pipeline *p, char *err, size_t errlen);

/* The filters, each defined in filters/<name>.c. */
extern const struct api_filter filter_request_id;
extern const struct api_filter filter_faultwrap;
extern const struct api_filter filter_sizelimit;
extern const struct api_filter filter_access_log;
extern const struct api_filter filter_auth;
extern const struct api_filter filter_microversion;

/* Pure helpers of the filters, for unit tests. */
/* True when v is "req-" and a canonical uuid. */
bool reqid_acceptable(const char *v);
/* Parses "X.Y" or "latest": 0 and *mv, -1 malformed. */
int mv_parse(const char *s, int *mv);
/* The compute entry of an OpenStack-API-Version value ("compute 2.37",
 * possibly among other services); NULL when none. Writes into buf. */
const char *mv_from_openstack_header(const char *v, char *buf, size_t len);
/* noauth2: "user:project" -> 0 and the parts, -1 when malformed. */
int auth_parse_token(const char *tok, char *user, size_t ulen,
    char *project, size_t plen);

/* ---- the daemon and a request -------------------------------------------- */

/* The roles kumo's default policy knows (Keystone's bootstrap roles; admin
 * implies member implies reader). */
enum api_role {
	API_ROLE_READER = 1 << 0,
	API_ROLE_MEMBER = 1 << 1,
	API_ROLE_ADMIN = 1 << 2,
	API_ROLE_SERVICE = 1 << 3,
};

/* The bit of a role name ("reader" -> API_ROLE_READER), 0 for others. */
unsigned api_role_bit(const char *name);

struct identity;
struct authtoken;
struct api_policy;

/* ---- policy.c: oslo.policy's rule language, kumo's rule names ---------- */

struct policy_creds {
	const char *roles;        /* role names, comma-separated */
	const char *project_id;   /* "" = none */
	const char *user_id;
	bool is_admin;
};

/* The defaults, then the rules of the YAML file at path (none there: the
 * defaults alone). -1 with "file:line: why" in err for an unknown rule or
 * a check that does not parse. */
int api_policy_load(const char *path, struct api_policy **out, char *err,
    size_t errlen);
void api_policy_free(struct api_policy *pol);
/* Whether rule allows c (pol NULL: the defaults); an unknown rule never. */
bool policy_allows(const struct api_policy *pol, const char *rule,
    const struct policy_creds *c);
/* 0 when check parses, else -1 and why. */
int policy_check_syntax(const char *check, char *err, size_t errlen);
/* The caller against rule: 0, or API_ERROR (403 naming the rule). */
int api_policy_check(struct api_req *r, const char *rule);

struct api {
	const struct kumo_conf *conf;
	bool keystone;             /* [api] auth_strategy = keystone */
	struct identity *identity; /* keys, login throttle (identity/) */
	struct authtoken *authtoken; /* [keystone_authtoken] auth_url set */
	struct api_policy *policy; /* [oslo_policy] policy_file over the defaults */
	struct db *db;
	struct rpc_transport *rpc;
	struct api_pipeline pipeline;
	struct MHD_Daemon *mhd;
	volatile int in_flight;   /* requests begun and not completed */
	unsigned long completed;  /* requests completed (the idle trim's clock) */
	struct api_pool *pool;     /* deferred CPU work (defer.c) */
	struct api_pool *call_pool; /* deferred calls to compute hosts */
	int keygen_busy;          /* key generations running (keygen.c) */
};

enum route_flags {
	ROUTE_NOAUTH = 1 << 0,   /* version documents */
	ROUTE_NOVERSION = 1 << 1, /* no microversion headers (GET /, Glance) */
	ROUTE_BODY = 1 << 2,     /* a JSON object body is required */
	ROUTE_ADMIN = 1 << 3,    /* its default rule is admin-only (policy.c) */
	ROUTE_SERVER_ID = 1 << 4, /* {id} must be a uuid, else Instance not found */
	ROUTE_STREAM = 1 << 5,   /* the body streams to api_route_stream(route) */
	ROUTE_IDENTITY = 1 << 6, /* /identity: Keystone's errors and policy */
	ROUTE_WRITE = 1 << 7,    /* changes something: a member's role, not a reader's */
};

/* A route whose body streams to it instead of being kept in memory (image
 * data): it is bounded by API_STREAM_MAX, not max_request_body_size (the
 * sizelimit filter and server.c honour this). begin runs once the headers
 * are in, the filters and the router's checks passed (0, or API_ERROR: the
 * body is then dropped as any refused body); data runs for every chunk (0,
 * or API_ERROR: the rest is dropped and the connection closed); the
 * route's handler runs when the body is complete; end runs once when the
 * request is over, whatever happened, if begin succeeded. */
struct api_stream {
	int (*begin)(struct api_req *r);
	int (*data)(struct api_req *r, const char *buf, size_t len);
	void (*end)(struct api_req *r);
};

#define API_STREAM_MAX ((int64_t)64 << 30)  /* 64 GiB */

struct api_route {
	const char *method;
	const char *pattern;      /* "/v2.1/servers/{id}": {id} is one segment */
	enum api_rc (*handler)(struct api_req *r);
	const char *policy;       /* named in the 403 message */
	int flags;
};

#define API_MAX_HEADERS 12
#define API_MAX_IDS 3      /* {id} segments captured per path */
#define API_ID_LEN 256

struct api_header {
	const char *name;          /* static */
	char value[320];
};

struct api_req {
	struct api *api;
	struct MHD_Connection *conn;
	const char *method;        /* borrowed from MHD for the request's life */
	const char *path;          /* decoded; the request target as sent when
	                            * it is refused for a NUL (path_sent) */
	char path_sent[1024];
	uint64_t start_us;
	char reqid[64];
	char base_url[160];        /* "http://host:port" for links */

	/* body */
	char *body;
	size_t body_len, body_cap;
	int64_t body_limit;
	json_t *json_in;           /* the parsed body, for ROUTE_BODY routes */
	bool streaming;            /* route->stream began (end still to run) */
	void *stream_state;        /* the stream's own, freed by its end */

	/* filters */
	size_t n_ran;              /* filters whose request hook ran */
	bool answered;             /* a filter or the app produced the reply */

	/* deferred work (defer.c): work runs on the pool, finish after */
	void (*defer_work)(struct api_req *r);
	enum api_rc (*defer_finish)(struct api_req *r);
	void *defer_state;         /* the handler's, freed by defer_free */
	void (*defer_free)(void *state);
	struct api_pool *defer_pool;
	short defer_key[2];        /* the pool's key slots held, + 1 (0 none) */
	bool defer_cancelled;      /* the pool stopped before work ran */

	/* identity (auth) */
	bool authed;
	bool is_admin;
	unsigned roles;            /* API_ROLE_* */
	char role_names[256];      /* "reader,member", for policy checks */
	char user_id[256];
	char project_id[256];      /* "" unless the token is project-scoped */
	struct token token;        /* keystone: the caller's token, opened */

	/* microversion */
	int mv;
	char mv_echo[32];          /* echoed in the headers; "" = none */

	/* route */
	const struct api_route *route;
	int route_status;          /* 0, 404 or 405 */
	const char *malformed;     /* why the request is refused whole (400) */
	char allow[64];            /* for 405 */
	char id[API_ID_LEN];       /* the {id} segments, unescaped */
	char id2[API_ID_LEN];
	char id3[API_ID_LEN];

	/* reply */
	int status;
	json_t *json_out;          /* owned */
	char *text_out;            /* owned; the body when json_out is NULL */
	size_t text_len;
	const char *content_type;  /* NULL = application/json */
	int fd_out;                /* a file to send (owned), -1 = none */
	uint64_t fd_len;
	struct api_header headers[API_MAX_HEADERS];
	size_t n_headers;
	size_t reply_bytes;

	/* error (api_error) */
	enum api_err err;
	char err_msg[1024];
};

/* A request header; NULL when absent. Borrowed. */
const char *api_header_get(struct api_req *r, const char *name);
/* A query argument; NULL when absent. Borrowed. */
const char *api_query_get(struct api_req *r, const char *name);
/* True when the query names the argument, with or without a value
 * ("?nocatalog"). */
bool api_query_has(struct api_req *r, const char *name);
/* Appends "&name=value" to the link in buf ('?' after a '?'), the value
 * percent-encoded, when the request had that argument (servers_query.c). */
void api_query_append(struct api_req *r, char *buf, size_t len, const char *name);
/* Adds a reply header (name static); silently drops past the limit. */
void api_header_add(struct api_req *r, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Sets the reply; body is stolen (NULL = empty). Returns API_DONE. */
int api_reply(struct api_req *r, int status, json_t *body);
/* The same with a finished writer's text (stolen); NULL text = 500. */
int api_reply_text(struct api_req *r, int status, char *text, size_t len);
/* The reply is len bytes of the open file fd (stolen, closed once sent). */
int api_reply_fd(struct api_req *r, int status, int fd, uint64_t len);

/* ---- defer.c ---- */
/* Runs work(r) on the pool of slow work, off libmicrohttpd's threads, then
 * finish(r) back on one: its answer is the request's. Returns API_SUSPEND,
 * which the handler returns, or API_ERROR (429 when the queue is full).
 * State for finish hangs on r->defer_state (freed by r->defer_free). */
enum api_rc api_defer(struct api_req *r, void (*work)(struct api_req *r),
    enum api_rc (*finish)(struct api_req *r));
/* The same on the pool of calls to compute hosts, for a handler whose
 * work waits on host's reply: at most a few such requests of one project
 * (429 beyond) and of one host (503 beyond) wait at once. */
enum api_rc api_defer_call(struct api_req *r, const char *host,
    void (*work)(struct api_req *r), enum api_rc (*finish)(struct api_req *r));
int api_pool_start(struct api *api);
void api_pool_stop(struct api *api);
/* server.c, once the connection is suspended: queue r's work. */
void api_pool_submit(struct api_req *r);

/* Starts libmicrohttpd on conf's listen address: 0 or -1 (logged). */
int api_server_start(struct api *api);
/* Stops accepting, waits up to grace_ms for requests in flight, stops. */
void api_server_stop(struct api *api, int grace_ms);

/* ---- router.c ----------------------------------------------------------- */

/* The terminal app "compute_app". */
enum api_rc api_router_app(struct api_req *r);
/* Finds the route of method+path: the route, or NULL with *status 404 or
 * 405 (and allow filled for 405); id receives the first {id} segment. */
const struct api_route *api_route_match(const char *method, const char *path,
    int *status, char *allow, size_t allowlen, char *id, size_t idlen);
/* The route table (tests walk it). */
const struct api_route *api_routes(size_t *n);
/* Sets r->route/route_status/id from r->method and r->path. */
void api_route_request(struct api_req *r);
/* The stream of a ROUTE_STREAM route, else NULL. */
const struct api_stream *api_route_stream(const struct api_route *rt);
/* For a route with a stream: the router's checks, then stream->begin.
 * 0, or API_ERROR with r's error set. */
int api_router_stream_begin(struct api_req *r);

/* ---- pyrepr.c ------------------------------------------------------------- */

/* Python's repr() of a JSON value, as Nova's messages show it ("{'a': 1}").
 * Truncated with "..." to fit. */
void api_pyrepr(const json_t *v, char *buf, size_t len);
/* "Invalid input for field/attribute <field>. Value: <repr>. <msg>". */
int api_invalid(struct api_req *r, const char *field, const json_t *value,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* A schema error at the top level: just the message. */
int api_invalid_top(struct api_req *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- validate.c: Nova's JSON-schema checks and their messages ---------- */

/* Each returns 0, or API_ERROR with r's error set ("Invalid input for
 * field/attribute <field>. Value: <repr>. <jsonschema's message>"). */
/* additionalProperties: every key of obj must be in allowed (NULL-ended). */
int v_no_extra(struct api_req *r, const char *field, const json_t *obj,
    const char *const *allowed);
/* required: "'<key>' is a required property" (field NULL at the top). */
int v_required(struct api_req *r, const char *field, const json_t *obj,
    const char *key);
int v_object(struct api_req *r, const char *field, const json_t *v);
/* A string of min..max bytes into out (size > max). */
int v_string(struct api_req *r, const char *field, const json_t *v,
    size_t min, size_t max, char *out, size_t size);
/* Nova's 'name' format: a string of 1..255 bytes, name_is_printable. */
int v_name(struct api_req *r, const char *field, const json_t *v, char *out,
    size_t size);
/* {'type': ['integer', 'string'], 'pattern': '^[0-9]*$', minimum, maximum} */
int v_int_param(struct api_req *r, const char *field, const json_t *v,
    int64_t min, int64_t max, int64_t *out);
/* parameter_types.boolean: true/false or their usual spellings. */
int v_bool_param(struct api_req *r, const char *field, const json_t *v,
    bool *out);
/* Nova's valid_name_regex: valid UTF-8, every character printable (no
 * category C, no Z but Zs, none past U+FFFE), neither the first nor the
 * last a space separator. "" passes (length is checked apart). Every
 * name a client gives (servers, images, flavors) goes through it. */
bool name_is_printable(const char *utf8);

/* ---- regex.c: regular expressions with a bounded cost (PCRE2) -------- */

struct api_regex;
/* Compiles a UTF-8 pattern of at most max_len bytes; NULL with why set
 * (PCRE2's message and offset, or "longer than N bytes") when it does not
 * compile or is over a limit (length, nesting, compiled size). */
struct api_regex *api_regex_new(const char *pattern, size_t max_len,
    char *why, size_t why_len);
/* 1 on a match (anywhere in subject, as Python's re.search), 0 on none,
 * -1 when the match goes over its bounds (steps, depth, heap) or subject
 * is not UTF-8. */
int api_regex_match(const struct api_regex *re, const char *subject);
void api_regex_free(struct api_regex *re);

/* ---- jsonw.c: a streaming JSON writer for the hot views -------------- */

struct jw {
	char *buf;
	size_t len, cap;
	bool oom;
	bool comma;    /* the next item needs ", " */
};

void jw_init(struct jw *w, size_t hint);
void jw_free(struct jw *w);
/* The text (malloc'd, not NUL-terminated) and its length; NULL after an
 * allocation failed. The writer is empty afterwards. */
char *jw_finish(struct jw *w, size_t *len);
void jw_open(struct jw *w, char c);     /* '{' or '[' */
void jw_close(struct jw *w, char c);
void jw_key(struct jw *w, const char *k);
/* A key the program spells: JW_KEY("name") is the text "\"name\": " and
 * its length, made at compile time (of string literals only), which
 * jw_key_lit writes as it is. For the hot views' many fixed keys. */
#define JW_KEY(lit) "\"" lit "\": ", sizeof "\"" lit "\": " - 1
void jw_key_lit(struct jw *w, const char *quoted, size_t len);
void jw_str(struct jw *w, const char *s);
void jw_str_or_null(struct jw *w, const char *s);  /* "" -> null */
void jw_int(struct jw *w, long long v);
void jw_raw(struct jw *w, const char *text);  /* a literal: null, true, {} */

/* ---- view.c ------------------------------------------------------------- */

/* [{"rel": "self", "href": base/v2.1/<coll>/<id>}, {"rel": "bookmark", ...}] */
json_t *view_links(const struct api_req *r, const char *coll, const char *id);
/* [{"rel": "bookmark", "href": base/<coll>/<id>}] */
json_t *view_bookmark(const struct api_req *r, const char *coll, const char *id);
/* A JSON string of s; bytes that are not valid UTF-8 become '?'. */
json_t *view_str(const char *s);
/* "" -> null, else the string. */
json_t *view_str_or_null(const char *s);
/* "2026-11-25T13:49:11Z" -> "2026-11-25T13:49:11.000000"; "" -> null. */
json_t *view_time_usec(const char *iso);
/* The request's context for RPC (request id, user, project, admin, roles):
 * the caller clears it with rpc_ctx_clear. */
struct rpc_ctx;
void api_rpc_ctx(const struct api_req *r, struct rpc_ctx *ctx);
/* Nova's hostId: sha224(project_id + host) hex; "" without a host. */
void view_host_id(const char *project_id, const char *host, char out[57]);

/* ---- handlers (router.c's table) ---------------------------------------- */

/* ---- tenant_usage.c, usage_audit.c, migrations.c, servers_password.c --- */
enum api_rc tenant_usage_list(struct api_req *r);
enum api_rc tenant_usage_show(struct api_req *r);
enum api_rc usage_audit_list(struct api_req *r);
enum api_rc usage_audit_show(struct api_req *r);
enum api_rc migrations_list(struct api_req *r);
enum api_rc servers_password_show(struct api_req *r);
enum api_rc servers_password_clear(struct api_req *r);

/* ---- os_hosts.c ------------------------------------------------------------ */
enum api_rc os_hosts_list(struct api_req *r);
enum api_rc os_hosts_show(struct api_req *r);
enum api_rc os_hosts_update(struct api_req *r);
enum api_rc os_hosts_power(struct api_req *r);

enum api_rc versions_root(struct api_req *r);
enum api_rc versions_v21(struct api_req *r);
enum api_rc versions_image(struct api_req *r);

enum api_rc flavors_list(struct api_req *r);
enum api_rc flavors_detail(struct api_req *r);
enum api_rc flavors_show(struct api_req *r);
enum api_rc flavors_create(struct api_req *r);
enum api_rc flavors_delete(struct api_req *r);
enum api_rc flavors_extra_specs(struct api_req *r);
enum api_rc flavor_access_list(struct api_req *r);
enum api_rc flavors_action(struct api_req *r);

enum api_rc servers_list(struct api_req *r);
enum api_rc servers_detail(struct api_req *r);
enum api_rc servers_show(struct api_req *r);
/* GET's view of r->id, or with partial Nova's PUT view before 2.75 (no
 * extended attributes). */
enum api_rc servers_show_view(struct api_req *r, bool partial);
/* PUT /servers/{id} (servers_update.c): name and access addresses. */
enum api_rc servers_update(struct api_req *r);
/* servers_ips.c */
enum api_rc servers_ips_index(struct api_req *r);
enum api_rc servers_ips_show(struct api_req *r);
enum api_rc networks_list(struct api_req *r);
enum api_rc networks_show(struct api_req *r);
/* The addresses and metadata of a page of servers (or of one). */
struct db_instance;
struct db_vif;
struct servers_extras {
	struct db_vif *vifs;
	size_t n_vifs;
	struct db_meta *meta;
	size_t n_meta;
};
int servers_extras_load(struct api_req *r, const struct db_instance *list,
    size_t n, struct servers_extras *x);
void servers_extras_free(struct servers_extras *x);
void servers_write_addresses(struct jw *w, const struct servers_extras *x,
    const char *uuid);
void servers_write_metadata(struct jw *w, const struct servers_extras *x,
    const char *uuid);
enum api_rc servers_create(struct api_req *r);
enum api_rc servers_delete(struct api_req *r);
enum api_rc servers_action(struct api_req *r);
/* The instance r->id if the caller may see it (admins: any project);
 * 0, or API_ERROR (404 or 500). */
int servers_instance_get(struct api_req *r, struct db_instance *in);
/* Records the action `name` of this request on the instance (logged when
 * it cannot: the action itself goes on). */
void servers_action_record(struct api_req *r, const struct db_instance *in,
    const char *name);

enum api_rc hypervisors_list(struct api_req *r);
enum api_rc hypervisors_detail(struct api_req *r);
enum api_rc hypervisors_show(struct api_req *r);
enum api_rc hypervisors_uptime(struct api_req *r);
enum api_rc hypervisors_statistics(struct api_req *r);
enum api_rc hypervisors_search(struct api_req *r);
enum api_rc hypervisors_servers(struct api_req *r);
enum api_rc services_list(struct api_req *r);
enum api_rc aggregates_list(struct api_req *r);

enum api_rc keypairs_list(struct api_req *r);
enum api_rc keypairs_show(struct api_req *r);
enum api_rc keypairs_create(struct api_req *r);
enum api_rc keypairs_delete(struct api_req *r);

enum api_rc instance_actions_list(struct api_req *r);
enum api_rc instance_actions_show(struct api_req *r);

enum api_rc quotas_show(struct api_req *r);
enum api_rc quotas_detail(struct api_req *r);
enum api_rc quotas_defaults(struct api_req *r);
enum api_rc quotas_update(struct api_req *r);
enum api_rc quotas_delete(struct api_req *r);

enum api_rc images_create(struct api_req *r);
enum api_rc images_list(struct api_req *r);
enum api_rc images_show(struct api_req *r);
enum api_rc images_delete(struct api_req *r);
enum api_rc images_file_put(struct api_req *r);
enum api_rc images_file_get(struct api_req *r);
extern const struct api_stream images_upload_stream;
/* The image r->id if the caller may see it: 0, or API_ERROR (404). */
int images_load(struct api_req *r, struct db_image *img);
/* 413 in oslo.limit's words: owner would go over limit of resource
 * (image_count_total, image_size_total, image_count_uploading) by delta. */
int images_over_limit(struct api_req *r, const char *owner,
    const char *resource, int64_t limit, int64_t delta);
/* Path of an image's data in the image store ([glance] image_store_path,
 * state_path/images by default): 0, or -1 when too long. */
int images_data_path(const struct api_req *r, const char *id, char *buf,
    size_t len);
enum api_rc images_nova_list(struct api_req *r);
enum api_rc images_nova_detail(struct api_req *r);
enum api_rc images_nova_show(struct api_req *r);

enum api_rc limits_show(struct api_req *r);
enum api_rc azs_list(struct api_req *r);

/* identity/ (identity.h lists its files) */
/* Loads the key repository when auth_strategy = keystone: 0, or -1
 * (logged: e.g. no keys, run kumo-manage token_setup). */
int identity_start(struct api *api);
void identity_stop(struct api *api);
/* An identity write answered: cached token validations end. */
void identity_changed(struct api *api);
/* The auth filter's check of a caller's token: 0 and r's identity set, or
 * -1 (not a valid token now; logged at info). */
int identity_authenticate(struct api_req *r, const char *token);
/* The client's address as text ("127.0.0.1"), "" when unknown. */
void api_client_addr(struct api_req *r, char *out, size_t len);

/* authtoken/ (authtoken.h): with auth_strategy = keystone and
 * [keystone_authtoken] auth_url, the state of the checks against that
 * Keystone (none otherwise): 0, or -1 (logged). */
int authtoken_start(struct api *api);
void authtoken_stop(struct api *api);
/* The auth filter's check of a caller's token by the external Keystone:
 * 0 and r's identity set, or API_ERROR (401 for a token Keystone refuses,
 * 503 when Keystone cannot tell). */
int authtoken_authenticate(struct api_req *r, const char *token);
/* Where a 401 sends clients to log in: www_authenticate_uri (else
 * auth_url) without a final '/'; NULL without an external Keystone.
 * Borrowed. */
const char *authtoken_login_uri(const struct api *api);

enum api_rc ks_versions(struct api_req *r);
enum api_rc ks_version_v3(struct api_req *r);
enum api_rc ks_tokens_issue(struct api_req *r);
enum api_rc ks_tokens_validate(struct api_req *r);
enum api_rc ks_tokens_revoke(struct api_req *r);
enum api_rc ks_auth_catalog(struct api_req *r);
enum api_rc ks_auth_projects(struct api_req *r);
enum api_rc ks_auth_domains(struct api_req *r);
enum api_rc ks_users_list(struct api_req *r);
enum api_rc ks_users_create(struct api_req *r);
enum api_rc ks_users_show(struct api_req *r);
enum api_rc ks_users_update(struct api_req *r);
enum api_rc ks_users_delete(struct api_req *r);
enum api_rc ks_users_password(struct api_req *r);
enum api_rc ks_users_projects(struct api_req *r);
enum api_rc ks_app_creds_list(struct api_req *r);
enum api_rc ks_app_creds_create(struct api_req *r);
enum api_rc ks_app_creds_show(struct api_req *r);
enum api_rc ks_app_creds_delete(struct api_req *r);
enum api_rc ks_projects_list(struct api_req *r);
enum api_rc ks_projects_create(struct api_req *r);
enum api_rc ks_projects_show(struct api_req *r);
enum api_rc ks_projects_update(struct api_req *r);
enum api_rc ks_projects_delete(struct api_req *r);
enum api_rc ks_grants_list(struct api_req *r);
enum api_rc ks_grants_put(struct api_req *r);
enum api_rc ks_grants_check(struct api_req *r);
enum api_rc ks_grants_delete(struct api_req *r);
enum api_rc ks_role_assignments(struct api_req *r);
enum api_rc ks_roles_list(struct api_req *r);
enum api_rc ks_roles_create(struct api_req *r);
enum api_rc ks_roles_show(struct api_req *r);
enum api_rc ks_roles_delete(struct api_req *r);
enum api_rc ks_domains_list(struct api_req *r);
enum api_rc ks_domains_show(struct api_req *r);
enum api_rc ks_services_list(struct api_req *r);
enum api_rc ks_services_create(struct api_req *r);
enum api_rc ks_services_show(struct api_req *r);
enum api_rc ks_endpoints_list(struct api_req *r);
enum api_rc ks_endpoints_create(struct api_req *r);
enum api_rc ks_regions_list(struct api_req *r);
enum api_rc ks_regions_create(struct api_req *r);

/* ---- quotas.c, sshkey.c ------------------------------------------------- */

struct db_flavor;

/* The project's limit of a resource ("instances", "cores", "ram",
 * "key_pairs", ...): its override, else Nova's default; -1 = unlimited.
 * 0, or API_ERROR. */
int api_quota_limit(struct api_req *r, const char *project,
    const char *resource, int64_t *limit);
/* How many of min..max servers of flavor fl the caller's project may
 * still create (*count, the most that fit), or API_ERROR with Nova's
 * "Quota exceeded for instances: Requested 1, but already used 10 of 10
 * instances" (403) when not even min fit. */
int api_quota_check_build(struct api_req *r, const struct db_flavor *fl,
    int min, int max, int *count);
/* After inserting count servers: 0 when the project is still within its
 * quotas, else API_ERROR as above (concurrent creates raced past the check). */
int api_quota_recheck(struct api_req *r, const struct db_flavor *fl, int count);

/* Checks an OpenSSH public key line and writes Nova's fingerprint (MD5 of
 * the key blob, "aa:bb:..."): 0, or -1 when it is not a valid key. */
int sshkey_fingerprint(const char *public_key, char out[48]);

/* ---- keygen.c ---- */
/* A new RSA 2048 key pair: the OpenSSH public line ("ssh-rsa ...
 * Generated-by-Nova") into public_key, the PKCS#1 PEM private key into
 * *private_key (the caller's: keygen_secret_free). 0, or -1 (logged). */
int keygen_rsa(char *public_key, size_t publen, char **private_key);
/* A new x509 pair for user_id (Nova's WinRM certificate): the PEM
 * certificate into cert, its SHA-1 fingerprint ("aa:bb:...") and the
 * base64 PKCS#12 bundle (password "") into *private_key (the caller's:
 * keygen_secret_free). 0, or -1 (logged; a user id longer than a common
 * name's 64 characters fails). */
int keygen_x509(const char *user_id, char *cert, size_t certlen,
    char fingerprint[60], char **private_key);
/* The fingerprint of a PEM certificate: 0, or -1 when it is not one. */
int keygen_x509_fingerprint(const char *pem, char fingerprint[60]);
/* Wipes and frees a secret string; NULL does nothing. */
void keygen_secret_free(char *secret);
/* The bound on generations at once: half the HTTP workers, at least one.
 * take is false when all are busy; every true take needs one put. */
int keygen_slots(const struct api *api);
bool keygen_slot_take(struct api *api);
void keygen_slot_put(struct api *api);

/* ---- validation (pure, unit-tested) ------------------------------------- */

/* Validates a flavor create body at microversion mv into f (flavorid ""
 * when the body has no id). 0, or API_ERROR with r's error set. */
/* A flavor as the caller may see it: any for an admin, else a public
 * one or a private one the caller's project was given (DB_NOTFOUND). */
int api_flavor_get(struct api_req *r, const char *flavorid,
    struct db_flavor *out);
int flavors_validate_create(struct api_req *r, const json_t *body, int mv,
    struct db_flavor *f);
/* The handlers' body checks, for the fuzzer (tests/fuzz/fuzz_api_body.c):
 * 0, or API_ERROR with r's error set (a 400). Glance's image create body
 * into img (its other fields as the caller set them); Nova's keypair
 * create at r->mv into k (*import: a public_key was given); the
 * quota_set of an update. */
struct db_image;
struct db_keypair;
int images_validate_create(struct api_req *r, const json_t *body,
    struct db_image *img);
int keypairs_validate_create(struct api_req *r, const json_t *body,
    struct db_keypair *k, bool *import);
int quotas_validate_update(struct api_req *r, const json_t *qs);
/* A server action's body (r->json_in): one known action, its schema. */
int servers_action_validate(struct api_req *r);

struct db_network;
struct db_keypair;
struct db_meta;
struct db_instance_extra;

/* What the guest itself is given (servers_guest.c). */
struct server_guest {
	const char *user_data;      /* base64, borrowed from the body; NULL none */
	bool config_drive;
	char hostname[64];          /* 2.90's, sanitized; "" = from the name */
	char access_ip_v4[16];      /* accessIPv4, canonical; "" = none */
	char access_ip_v6[46];
	json_t *networks;           /* as asked ("auto", "none", [...]); owned */
	char *networks_text;        /* its JSON, for instance_extra */
	struct db_meta *meta;       /* the metadata, for instance_extra */
	size_t n_meta;
};

/* srv's key (accessIPv4 with AF_INET, accessIPv6 with AF_INET6), when
 * there, as Nova's ipv4/ipv6 formats into out in canonical form: 0, or
 * API_ERROR. */
int servers_access_ip_check(struct api_req *r, const json_t *srv,
    const char *key, int af, char *out, size_t size);
int servers_guest_validate(struct api_req *r, const json_t *srv, int mv,
    struct server_guest *g);
/* The networks against the database (400s as Nova's); max_count > 1
 * refuses a fixed_ip. */
int servers_guest_resolve(struct api_req *r, struct server_guest *g,
    int max_count);
int servers_guest_extra(struct server_guest *g, const json_t *metadata,
    const struct db_keypair *kp, struct db_instance_extra *x);
void servers_guest_free(struct server_guest *g);
bool api_network_holds(const struct db_network *net, const char *ip);

struct server_create {
	struct server_guest guest;
	char name[256];
	char image_ref[37];
	char flavor_ref[256];
	char availability_zone[256];
	char key_name[256];         /* "" = none */
	char description[256];
	bool has_description;
	int min_count;
	int max_count;
};

/* Validates a server create body at microversion mv. 0, or API_ERROR. */
int servers_validate_create(struct api_req *r, const json_t *body, int mv,
    struct server_create *sc);

#endif
