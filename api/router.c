/*
 * The route table and the app "compute_app". What every route needs is
 * checked here, once: 404 for an unknown path, 405 (with Allow) for a known
 * path and another method, policy (admin-only routes), a uuid {id} for
 * servers, and a JSON object body where the route takes one.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"

#define P_HYP "os_compute_api:os-hypervisors:"
#define P_FLV "os_compute_api:os-flavor-manage:"
#define P_QS "os_compute_api:os-quota-sets:"

static const struct api_route routes[] = {
	{ "GET", "/", versions_root, NULL, ROUTE_NOAUTH | ROUTE_NOVERSION },
	{ "GET", "/v2.1", versions_v21, NULL, ROUTE_NOAUTH },
	{ "GET", "/v2", versions_image, NULL, ROUTE_NOAUTH | ROUTE_NOVERSION },

	{ "GET", "/v2.1/flavors", flavors_list, NULL, 0 },
	{ "POST", "/v2.1/flavors", flavors_create, P_FLV "create", ROUTE_ADMIN | ROUTE_BODY },
	{ "GET", "/v2.1/flavors/detail", flavors_detail, NULL, 0 },
	{ "GET", "/v2.1/flavors/{id}", flavors_show, NULL, 0 },
	{ "DELETE", "/v2.1/flavors/{id}", flavors_delete, P_FLV "delete", ROUTE_ADMIN },
	{ "GET", "/v2.1/flavors/{id}/os-extra_specs", flavors_extra_specs, NULL, 0 },

	{ "GET", "/v2.1/servers", servers_list, NULL, 0 },
	{ "POST", "/v2.1/servers", servers_create, NULL, ROUTE_BODY },
	{ "GET", "/v2.1/servers/detail", servers_detail, NULL, 0 },
	{ "GET", "/v2.1/servers/{id}", servers_show, NULL, ROUTE_SERVER_ID },
	{ "DELETE", "/v2.1/servers/{id}", servers_delete, NULL, ROUTE_SERVER_ID },
	{ "POST", "/v2.1/servers/{id}/action", servers_action, NULL, ROUTE_SERVER_ID | ROUTE_BODY },
	{ "GET", "/v2.1/servers/{id}/os-instance-actions", instance_actions_list, NULL, ROUTE_SERVER_ID },
	/* the second {id} (the request id) is not captured: see the handler */
	{ "GET", "/v2.1/servers/{id}/os-instance-actions/{id}", instance_actions_show, NULL, ROUTE_SERVER_ID },

	{ "GET", "/v2.1/os-keypairs", keypairs_list, NULL, 0 },
	{ "POST", "/v2.1/os-keypairs", keypairs_create, NULL, ROUTE_BODY },
	{ "GET", "/v2.1/os-keypairs/{id}", keypairs_show, NULL, 0 },
	{ "DELETE", "/v2.1/os-keypairs/{id}", keypairs_delete, NULL, 0 },

	{ "GET", "/v2.1/os-hypervisors", hypervisors_list, P_HYP "list", ROUTE_ADMIN },
	{ "GET", "/v2.1/os-hypervisors/detail", hypervisors_detail, P_HYP "list-detail", ROUTE_ADMIN },
	{ "GET", "/v2.1/os-hypervisors/{id}", hypervisors_show, P_HYP "show", ROUTE_ADMIN },
	{ "GET", "/v2.1/os-hypervisors/{id}/uptime", hypervisors_uptime, P_HYP "uptime", ROUTE_ADMIN },
	{ "GET", "/v2.1/os-services", services_list, "os_compute_api:os-services:list", ROUTE_ADMIN },
	{ "GET", "/v2.1/os-aggregates", aggregates_list, "os_compute_api:os-aggregates:index", ROUTE_ADMIN },
	{ "GET", "/v2.1/limits", limits_show, NULL, 0 },
	{ "GET", "/v2.1/os-quota-sets/{id}", quotas_show, NULL, 0 },
	{ "GET", "/v2.1/os-quota-sets/{id}/detail", quotas_detail, NULL, 0 },
	{ "GET", "/v2.1/os-quota-sets/{id}/defaults", quotas_defaults, NULL, 0 },
	{ "PUT", "/v2.1/os-quota-sets/{id}", quotas_update, P_QS "update", ROUTE_ADMIN | ROUTE_BODY },
	{ "DELETE", "/v2.1/os-quota-sets/{id}", quotas_delete, P_QS "delete", ROUTE_ADMIN },
	{ "GET", "/v2.1/os-availability-zone", azs_list, NULL, 0 },

	/* Nova's image proxy (deprecated, but the clients' name look-ups use it) */
	{ "GET", "/v2.1/images", images_nova_list, NULL, 0 },
	{ "GET", "/v2.1/images/detail", images_nova_detail, NULL, 0 },
	{ "GET", "/v2.1/images/{id}", images_nova_show, NULL, 0 },

	/* Glance v2 metadata calls, served on the same port */
	{ "POST", "/v2/images", images_create, NULL, ROUTE_NOVERSION | ROUTE_BODY },
	{ "GET", "/v2/images", images_list, NULL, ROUTE_NOVERSION },
	{ "GET", "/v2/images/{id}", images_show, NULL, ROUTE_NOVERSION },
	{ "DELETE", "/v2/images/{id}", images_delete, NULL, ROUTE_NOVERSION },
	/* image data: the body streams to disk, past max_request_body_size */
	{ "PUT", "/v2/images/{id}/file", images_file_put, NULL,
	  ROUTE_NOVERSION | ROUTE_STREAM },
	{ "GET", "/v2/images/{id}/file", images_file_get, NULL, ROUTE_NOVERSION },
};

/* Matches path against pattern; {id} takes one non-empty segment; the
 * first {id} is captured. */
static bool pattern_match(const char *pat, const char *path, char *id,
    size_t idlen)
{
	bool captured = false;

	while (*pat != '\0' && *path != '\0') {
		if (strncmp(pat, "{id}", 4) == 0) {
			size_t n = strcspn(path, "/");

			if (n == 0)
				return false;
			if (!captured)
				snprintf(id, idlen, "%.*s", (int)n, path);
			captured = true;
			pat += 4;
			path += n;
			continue;
		}
		if (*pat++ != *path++)
			return false;
	}
	return *pat == '\0' && *path == '\0';
}

static void allow_add(char *allow, size_t len, const char *method)
{
	if (strstr(allow, method) != NULL)
		return;
	if (allow[0] != '\0')
		strncat(allow, ", ", len - strlen(allow) - 1);
	strncat(allow, method, len - strlen(allow) - 1);
}

const struct api_route *api_route_match(const char *method, const char *path,
    int *status, char *allow, size_t allowlen, char *id, size_t idlen)
{
	char norm[1024], tmp[256];
	size_t n = strlen(path);

	allow[0] = '\0';
	id[0] = '\0';
	*status = 404;
	if (n >= sizeof norm)
		return NULL;
	memcpy(norm, path, n + 1);
	if (n > 1 && norm[n - 1] == '/')  /* "/v2.1/" is "/v2.1" */
		norm[n - 1] = '\0';
	for (size_t i = 0; i < sizeof routes / sizeof *routes; i++) {
		if (!pattern_match(routes[i].pattern, norm, tmp, sizeof tmp))
			continue;
		if (strcmp(routes[i].method, method) == 0) {
			snprintf(id, idlen, "%s", tmp);
			*status = 0;
			return &routes[i];
		}
		allow_add(allow, allowlen, routes[i].method);
		*status = 405;
	}
	return NULL;
}

void api_route_request(struct api_req *r)
{
	r->route = api_route_match(r->method, r->path, &r->route_status,
	    r->allow, sizeof r->allow, r->id, sizeof r->id);
}

/* Nova takes JSON, its vendor type, text/plain or no type at all. */
static bool content_type_ok(const char *ct)
{
	static const char *const ok[] = {
		"application/json", "application/vnd.openstack.compute+json",
		"text/plain",
	};

	if (ct == NULL || *ct == '\0')
		return true;
	for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
		size_t n = strlen(ok[i]);

		if (strncasecmp(ct, ok[i], n) == 0 &&
		    (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' '))
			return true;
	}
	return false;
}

static int parse_body(struct api_req *r)
{
	json_error_t jerr;
	char repr[512];

	if (!content_type_ok(api_header_get(r, "Content-Type")))
		return api_error(r, ERR_MEDIA_TYPE);
	if (r->body == NULL || r->body_len == 0)
		return api_error(r, ERR_MALFORMED_BODY);
	r->json_in = json_loadb(r->body, r->body_len, JSON_DECODE_ANY, &jerr);
	if (r->json_in == NULL) {
		log_debug("body: %s at %d", jerr.text, jerr.position);
		return api_error(r, ERR_MALFORMED_BODY);
	}
	if (!json_is_object(r->json_in)) {
		api_pyrepr(r->json_in, repr, sizeof repr);
		return api_invalid_top(r, "%s is not of type 'object'", repr);
	}
	return 0;
}

/* What every route needs, checked once: 0, or API_ERROR. */
static int route_checks(struct api_req *r)
{
	const struct api_route *rt = r->route;

	if (r->route_status == 405) {
		api_header_add(r, "Allow", "%s", r->allow);
		return api_error(r, ERR_METHOD, r->method);
	}
	if (rt == NULL)
		return api_error(r, ERR_NOT_FOUND);
	if ((rt->flags & ROUTE_ADMIN) && !r->is_admin)
		return api_error(r, ERR_POLICY, rt->policy);
	if ((rt->flags & ROUTE_SERVER_ID) && !uuid_valid(r->id))
		return api_error(r, ERR_INSTANCE_NOT_FOUND, r->id);
	if ((rt->flags & ROUTE_BODY) && parse_body(r) != 0)
		return API_ERROR;
	return 0;
}

enum api_rc api_router_app(struct api_req *r)
{
	if (route_checks(r) != 0)
		return API_ERROR;
	return r->route->handler(r);
}

/* The streams of ROUTE_STREAM routes, by their handler. */
static const struct {
	enum api_rc (*handler)(struct api_req *r);
	const struct api_stream *stream;
} streams[] = {
	{ images_file_put, &images_upload_stream },
};

const struct api_stream *api_route_stream(const struct api_route *rt)
{
	if (rt == NULL || !(rt->flags & ROUTE_STREAM))
		return NULL;
	for (size_t i = 0; i < sizeof streams / sizeof *streams; i++)
		if (streams[i].handler == rt->handler)
			return streams[i].stream;
	return NULL;
}

int api_router_stream_begin(struct api_req *r)
{
	if (route_checks(r) != 0)
		return API_ERROR;
	return api_route_stream(r->route)->begin(r);
}
