/*
 * faultwrap: the only place an error becomes an HTTP body. Compute and
 * image routes answer in the Compute API's shape {"itemNotFound": {"code":
 * 404, "message": "..."}} with Content-Type "application/json;
 * charset=UTF-8" (as Nova's); /identity answers as Keystone,
 * {"error":{"code":401,"message":"...","title":"Unauthorized"}} and a
 * newline; a 401 of another route under auth_strategy = keystone as
 * keystonemiddleware does in front of Nova. Every 401 names where to log in
 * (WWW-Authenticate). Each rejection is logged here, once.
 */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "db/db.h"

#define DB_FULL_RETRY_S 10   /* an operator frees space in minutes, not ms */

static enum api_rc faultwrap_request(struct api_req *r)
{
	(void)r;
	return API_NEXT;
}

static bool identity_path(const struct api_req *r)
{
	if (r->route != NULL)
		return (r->route->flags & ROUTE_IDENTITY) != 0;
	return strncmp(r->path, "/identity", 9) == 0 &&
	    (r->path[9] == '\0' || r->path[9] == '/');
}

/* Keystone's own error: compact JSON, keys code, message, title, and a
 * final newline. */
static void keystone_error(struct api_req *r, int status)
{
	json_t *inner = json_pack("{s:i, s:o, s:s}", "code", status,
	    "message", view_str(r->err_msg), "title", api_status_title(status));
	json_t *outer = json_pack("{s:o}", "error", inner);
	char *text = json_dumps(outer, JSON_COMPACT), *nl = NULL;
	size_t n = text ? strlen(text) : 0;

	json_decref(outer);
	if (text != NULL && (nl = realloc(text, n + 2)) == NULL)
		free(text);
	if (nl != NULL) {
		nl[n] = '\n';
		nl[n + 1] = '\0';
	}
	api_reply_text(r, status, nl, n + 1);
	if (status == 401)
		api_header_add(r, "WWW-Authenticate", "Keystone uri=\"%s/identity/v3\"",
		    r->base_url);
}

/* keystonemiddleware's 401 in front of a service: other key order, and
 * json.dumps' spacing; the login is at the external Keystone when there
 * is one. */
static void authtoken_error(struct api_req *r, int status)
{
	json_t *inner = json_pack("{s:i, s:s, s:o}", "code", status,
	    "title", api_status_title(status), "message", view_str(r->err_msg));
	const char *uri = authtoken_login_uri(r->api);

	api_reply(r, status, json_pack("{s:o}", "error", inner));
	if (uri != NULL)
		api_header_add(r, "WWW-Authenticate", "Keystone uri=\"%s\"", uri);
	else
		api_header_add(r, "WWW-Authenticate", "Keystone uri=\"%s/identity\"",
		    r->base_url);
}

/* A full disk fails every write alike: 503 and when to come back, logged
 * by db/ once a minute rather than here once a request. */
static bool disk_full(struct api_req *r)
{
	if (r->err == ERR_INTERNAL && r->api->db != NULL && db_full(r->api->db)) {
		r->err = ERR_NONE;
		api_error(r, ERR_DB_FULL);
	}
	if (r->err != ERR_DB_FULL)
		return false;
	log_debug("%s %s: 503 %s", r->method, r->path, r->err_msg);
	return true;
}

static void faultwrap_response(struct api_req *r)
{
	bool full;
	int status;

	if (r->err == ERR_NONE)
		return;
	full = disk_full(r);
	status = api_err_status(r->err);
	if (full)
		api_header_add(r, "Retry-After", "%d", DB_FULL_RETRY_S);
	else if (status >= 500)
		log_warnx("%s %s: %d %s", r->method, r->path, status, r->err_msg);
	else
		log_info("%s %s rejected: %d %s", r->method, r->path, status,
		    r->err_msg);
	if (identity_path(r)) {
		keystone_error(r, status);
		return;
	}
	if (status == 401 && r->api->keystone) {
		authtoken_error(r, status);
		return;
	}
	api_reply(r, status, api_error_body(status, r->err_msg));
	r->content_type = "application/json; charset=UTF-8";
}

const struct api_filter filter_faultwrap = {
	.name = "faultwrap",
	.request = faultwrap_request,
	.response = faultwrap_response,
};
