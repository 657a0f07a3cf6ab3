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

#define P_SRV "os_compute_api:servers:"
#define P_KP "os_compute_api:os-keypairs:"
#define P_ID "/identity/v3"
#define ID ROUTE_IDENTITY | ROUTE_NOVERSION

static const struct api_route routes[] = {
	{ "GET", "/", versions_root, NULL, ROUTE_NOAUTH | ROUTE_NOVERSION },
	{ "GET", "/v2.1", versions_v21, NULL, ROUTE_NOAUTH },
	{ "GET", "/v2", versions_image, NULL, ROUTE_NOAUTH | ROUTE_NOVERSION },
	/* the image API also under /image, the catalog's image endpoint */
	{ "GET", "/image", versions_image, NULL, ROUTE_NOAUTH | ROUTE_NOVERSION },

	{ "GET", "/v2.1/flavors", flavors_list, "os_compute_api:flavors:index", 0 },
	{ "POST", "/v2.1/flavors", flavors_create, P_FLV "create", ROUTE_ADMIN | ROUTE_BODY },
	{ "GET", "/v2.1/flavors/detail", flavors_detail, "os_compute_api:flavors:index", 0 },
	{ "GET", "/v2.1/flavors/{id}", flavors_show, "os_compute_api:flavors:show", 0 },
	{ "DELETE", "/v2.1/flavors/{id}", flavors_delete, P_FLV "delete", ROUTE_ADMIN },
	{ "GET", "/v2.1/flavors/{id}/os-extra_specs", flavors_extra_specs, "os_compute_api:os-flavor-extra-specs:index", 0 },
	{ "GET", "/v2.1/flavors/{id}/os-flavor-access", flavor_access_list, "os_compute_api:os-flavor-access", ROUTE_ADMIN },
	/* whoever may see a flavor reaches its actions; each has its own rule */
	{ "POST", "/v2.1/flavors/{id}/action", flavors_action, "os_compute_api:flavors:show", ROUTE_BODY },

	{ "GET", "/v2.1/servers", servers_list, P_SRV "index", 0 },
	{ "POST", "/v2.1/servers", servers_create, P_SRV "create", ROUTE_BODY },
	{ "GET", "/v2.1/servers/detail", servers_detail, P_SRV "detail", 0 },
	{ "GET", "/v2.1/servers/{id}", servers_show, P_SRV "show", ROUTE_SERVER_ID },
	{ "PUT", "/v2.1/servers/{id}", servers_update, P_SRV "update", ROUTE_SERVER_ID | ROUTE_BODY },
	{ "DELETE", "/v2.1/servers/{id}", servers_delete, P_SRV "delete", ROUTE_SERVER_ID },
	{ "POST", "/v2.1/servers/{id}/action", servers_action, P_SRV "action", ROUTE_SERVER_ID | ROUTE_BODY },
	{ "GET", "/v2.1/servers/{id}/ips", servers_ips_index, "os_compute_api:ips:index", ROUTE_SERVER_ID },
	{ "GET", "/v2.1/servers/{id}/os-server-password", servers_password_show, "os_compute_api:os-server-password:show", ROUTE_SERVER_ID },
	{ "DELETE", "/v2.1/servers/{id}/os-server-password", servers_password_clear, "os_compute_api:os-server-password:clear", ROUTE_SERVER_ID },
	{ "GET", "/v2.1/servers/{id}/ips/{id}", servers_ips_show, "os_compute_api:ips:show", ROUTE_SERVER_ID },
	{ "GET", "/v2.1/os-networks", networks_list, "os_compute_api:os-networks:list", 0 },
	{ "GET", "/v2.1/os-networks/{id}", networks_show, "os_compute_api:os-networks:view", 0 },
	{ "GET", "/v2.1/servers/{id}/os-instance-actions", instance_actions_list, "os_compute_api:os-instance-actions:list", ROUTE_SERVER_ID },
	{ "GET", "/v2.1/servers/{id}/os-instance-actions/{id}", instance_actions_show, "os_compute_api:os-instance-actions:show", ROUTE_SERVER_ID },

	{ "GET", "/v2.1/os-keypairs", keypairs_list, P_KP "index", 0 },
	{ "POST", "/v2.1/os-keypairs", keypairs_create, P_KP "create", ROUTE_BODY },
	{ "GET", "/v2.1/os-keypairs/{id}", keypairs_show, P_KP "show", 0 },
	{ "DELETE", "/v2.1/os-keypairs/{id}", keypairs_delete, P_KP "delete", 0 },

	{ "GET", "/v2.1/os-hypervisors", hypervisors_list, P_HYP "list", ROUTE_ADMIN },
	{ "GET", "/v2.1/os-hypervisors/detail", hypervisors_detail, P_HYP "list-detail", ROUTE_ADMIN },
	{ "GET", "/v2.1/os-hypervisors/statistics", hypervisors_statistics, P_HYP "statistics", ROUTE_ADMIN },
	{ "GET", "/v2.1/os-hypervisors/{id}", hypervisors_show, P_HYP "show", ROUTE_ADMIN },
	{ "GET", "/v2.1/os-hypervisors/{id}/search", hypervisors_search, P_HYP "search", ROUTE_ADMIN },
	{ "GET", "/v2.1/os-hypervisors/{id}/servers", hypervisors_servers, P_HYP "servers", ROUTE_ADMIN },
	{ "GET", "/v2.1/os-hypervisors/{id}/uptime", hypervisors_uptime, P_HYP "uptime", ROUTE_ADMIN },
	{ "GET", "/v2.1/os-services", services_list, "os_compute_api:os-services:list", ROUTE_ADMIN },
	{ "GET", "/v2.1/os-simple-tenant-usage", tenant_usage_list, "os_compute_api:os-simple-tenant-usage:list", ROUTE_ADMIN },
	{ "GET", "/v2.1/os-simple-tenant-usage/{id}", tenant_usage_show, "os_compute_api:os-simple-tenant-usage:show", 0 },
	{ "GET", "/v2.1/os-instance_usage_audit_log", usage_audit_list, "os_compute_api:os-instance-usage-audit-log:list", ROUTE_ADMIN },
	{ "GET", "/v2.1/os-instance_usage_audit_log/{id}", usage_audit_show, "os_compute_api:os-instance-usage-audit-log:show", ROUTE_ADMIN },
	{ "GET", "/v2.1/os-migrations", migrations_list, "os_compute_api:os-migrations:index", ROUTE_ADMIN },
	{ "GET", "/v2.1/os-hosts", os_hosts_list, "os_compute_api:os-hosts:list", ROUTE_ADMIN },
	{ "GET", "/v2.1/os-hosts/{id}", os_hosts_show, "os_compute_api:os-hosts:show", ROUTE_ADMIN },
	{ "PUT", "/v2.1/os-hosts/{id}", os_hosts_update, "os_compute_api:os-hosts:update", ROUTE_ADMIN | ROUTE_BODY },
	{ "GET", "/v2.1/os-hosts/{id}/startup", os_hosts_power, "os_compute_api:os-hosts:start", ROUTE_ADMIN },
	{ "GET", "/v2.1/os-hosts/{id}/shutdown", os_hosts_power, "os_compute_api:os-hosts:shutdown", ROUTE_ADMIN },
	{ "GET", "/v2.1/os-hosts/{id}/reboot", os_hosts_power, "os_compute_api:os-hosts:reboot", ROUTE_ADMIN },
	{ "GET", "/v2.1/os-aggregates", aggregates_list, "os_compute_api:os-aggregates:index", ROUTE_ADMIN },
	{ "GET", "/v2.1/limits", limits_show, "os_compute_api:limits", 0 },
	{ "GET", "/v2.1/os-quota-sets/{id}", quotas_show, P_QS "show", 0 },
	{ "GET", "/v2.1/os-quota-sets/{id}/detail", quotas_detail, P_QS "detail", 0 },
	{ "GET", "/v2.1/os-quota-sets/{id}/defaults", quotas_defaults, P_QS "defaults", 0 },
	{ "PUT", "/v2.1/os-quota-sets/{id}", quotas_update, P_QS "update", ROUTE_ADMIN | ROUTE_BODY },
	{ "DELETE", "/v2.1/os-quota-sets/{id}", quotas_delete, P_QS "delete", ROUTE_ADMIN },
	{ "GET", "/v2.1/os-availability-zone", azs_list, "os_compute_api:os-availability-zone:list", 0 },

	/* Nova's image proxy (deprecated, but the clients' name look-ups use it) */
	{ "GET", "/v2.1/images", images_nova_list, "os_compute_api:image-proxy", 0 },
	{ "GET", "/v2.1/images/detail", images_nova_detail, "os_compute_api:image-proxy", 0 },
	{ "GET", "/v2.1/images/{id}", images_nova_show, "os_compute_api:image-proxy", 0 },

	/* Glance v2 metadata calls, served on the same port */
	{ "POST", "/v2/images", images_create, "add_image", ROUTE_NOVERSION | ROUTE_BODY },
	{ "GET", "/v2/images", images_list, "get_images", ROUTE_NOVERSION },
	{ "GET", "/v2/images/{id}", images_show, "get_image", ROUTE_NOVERSION },
	{ "DELETE", "/v2/images/{id}", images_delete, "delete_image", ROUTE_NOVERSION },
	/* image data: the body streams to disk, past max_request_body_size */
	{ "PUT", "/v2/images/{id}/file", images_file_put, "upload_image",
	  ROUTE_NOVERSION | ROUTE_STREAM },
	{ "GET", "/v2/images/{id}/file", images_file_get, "download_image", ROUTE_NOVERSION },

	/* kumo's Keystone v3 subset ([identity] enabled); policy in the
	 * handlers, as Keystone's defaults say (identity/policy.c) */
	{ "GET", "/identity", ks_versions, NULL, ID | ROUTE_NOAUTH },
	{ "GET", P_ID, ks_version_v3, NULL, ID | ROUTE_NOAUTH },
	{ "POST", P_ID "/auth/tokens", ks_tokens_issue, NULL, ID | ROUTE_NOAUTH | ROUTE_BODY },
	{ "GET", P_ID "/auth/tokens", ks_tokens_validate, NULL, ID },
	{ "HEAD", P_ID "/auth/tokens", ks_tokens_validate, NULL, ID },
	{ "DELETE", P_ID "/auth/tokens", ks_tokens_revoke, NULL, ID },
	{ "GET", P_ID "/auth/catalog", ks_auth_catalog, NULL, ID },
	{ "GET", P_ID "/auth/projects", ks_auth_projects, NULL, ID },
	{ "GET", P_ID "/auth/domains", ks_auth_domains, NULL, ID },
	{ "GET", P_ID "/users", ks_users_list, NULL, ID },
	{ "POST", P_ID "/users", ks_users_create, NULL, ID | ROUTE_BODY },
	{ "GET", P_ID "/users/{id}", ks_users_show, NULL, ID },
	{ "PATCH", P_ID "/users/{id}", ks_users_update, NULL, ID | ROUTE_BODY },
	{ "DELETE", P_ID "/users/{id}", ks_users_delete, NULL, ID },
	{ "POST", P_ID "/users/{id}/password", ks_users_password, NULL, ID | ROUTE_BODY },
	{ "GET", P_ID "/users/{id}/projects", ks_users_projects, NULL, ID },
	{ "GET", P_ID "/users/{id}/application_credentials", ks_app_creds_list, NULL, ID },
	{ "POST", P_ID "/users/{id}/application_credentials", ks_app_creds_create, NULL, ID | ROUTE_BODY },
	{ "GET", P_ID "/users/{id}/application_credentials/{id}", ks_app_creds_show, NULL, ID },
	{ "DELETE", P_ID "/users/{id}/application_credentials/{id}", ks_app_creds_delete, NULL, ID },
	{ "GET", P_ID "/projects", ks_projects_list, NULL, ID },
	{ "POST", P_ID "/projects", ks_projects_create, NULL, ID | ROUTE_BODY },
	{ "GET", P_ID "/projects/{id}", ks_projects_show, NULL, ID },
	{ "PATCH", P_ID "/projects/{id}", ks_projects_update, NULL, ID | ROUTE_BODY },
	{ "DELETE", P_ID "/projects/{id}", ks_projects_delete, NULL, ID },
	{ "GET", P_ID "/projects/{id}/users/{id}/roles", ks_grants_list, NULL, ID },
	{ "PUT", P_ID "/projects/{id}/users/{id}/roles/{id}", ks_grants_put, NULL, ID },
	{ "HEAD", P_ID "/projects/{id}/users/{id}/roles/{id}", ks_grants_check, NULL, ID },
	{ "GET", P_ID "/projects/{id}/users/{id}/roles/{id}", ks_grants_check, NULL, ID },
	{ "DELETE", P_ID "/projects/{id}/users/{id}/roles/{id}", ks_grants_delete, NULL, ID },
	{ "GET", P_ID "/domains/{id}/users/{id}/roles", ks_grants_list, NULL, ID },
	{ "PUT", P_ID "/domains/{id}/users/{id}/roles/{id}", ks_grants_put, NULL, ID },
	{ "HEAD", P_ID "/domains/{id}/users/{id}/roles/{id}", ks_grants_check, NULL, ID },
	{ "GET", P_ID "/domains/{id}/users/{id}/roles/{id}", ks_grants_check, NULL, ID },
	{ "DELETE", P_ID "/domains/{id}/users/{id}/roles/{id}", ks_grants_delete, NULL, ID },
	{ "GET", P_ID "/role_assignments", ks_role_assignments, NULL, ID },
	{ "GET", P_ID "/roles", ks_roles_list, NULL, ID },
	{ "POST", P_ID "/roles", ks_roles_create, NULL, ID | ROUTE_BODY },
	{ "GET", P_ID "/roles/{id}", ks_roles_show, NULL, ID },
	{ "DELETE", P_ID "/roles/{id}", ks_roles_delete, NULL, ID },
	{ "GET", P_ID "/domains", ks_domains_list, NULL, ID },
	{ "GET", P_ID "/domains/{id}", ks_domains_show, NULL, ID },
	{ "GET", P_ID "/services", ks_services_list, NULL, ID },
	{ "POST", P_ID "/services", ks_services_create, NULL, ID | ROUTE_BODY },
	{ "GET", P_ID "/services/{id}", ks_services_show, NULL, ID },
	{ "GET", P_ID "/endpoints", ks_endpoints_list, NULL, ID },
	{ "POST", P_ID "/endpoints", ks_endpoints_create, NULL, ID | ROUTE_BODY },
	{ "GET", P_ID "/regions", ks_regions_list, NULL, ID },
	{ "POST", P_ID "/regions", ks_regions_create, NULL, ID | ROUTE_BODY },
};

const struct api_route *api_routes(size_t *n)
{
	*n = sizeof routes / sizeof *routes;
	return routes;
}

/* Matches path against pattern; {id} takes one non-empty segment; the
 * first API_MAX_IDS are captured (cut to fit). */
static bool pattern_match(const char *pat, const char *path,
    char ids[API_MAX_IDS][API_ID_LEN])
{
	size_t captured = 0;

	while (*pat != '\0' && *path != '\0') {
		if (strncmp(pat, "{id}", 4) == 0) {
			size_t n = strcspn(path, "/");

			if (n == 0)
				return false;
			if (captured < API_MAX_IDS)
				snprintf(ids[captured], API_ID_LEN, "%.*s",
				    (int)n, path);
			captured++;
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

/* api_route_match, with every {id} segment into ids. */
static const struct api_route *route_match(const char *method,
    const char *path, int *status, char *allow, size_t allowlen,
    char ids[API_MAX_IDS][API_ID_LEN])
{
	char norm[1024], tmp[API_MAX_IDS][API_ID_LEN];
	size_t n = strlen(path);

	allow[0] = '\0';
	memset(ids, 0, API_MAX_IDS * API_ID_LEN);
	*status = 404;
	if (n >= sizeof norm)
		return NULL;
	memcpy(norm, path, n + 1);
	if (n > 1 && norm[n - 1] == '/')  /* "/v2.1/" is "/v2.1" */
		norm[n - 1] = '\0';
	/* /image/v2/... is the image API's /v2/... (Glance's endpoint) */
	if (strncmp(norm, "/image/v2", 9) == 0 &&
	    (norm[9] == '\0' || norm[9] == '/'))
		memmove(norm, norm + 6, strlen(norm + 6) + 1);
	for (size_t i = 0; i < sizeof routes / sizeof *routes; i++) {
		memset(tmp, 0, sizeof tmp);
		if (!pattern_match(routes[i].pattern, norm, tmp))
			continue;
		if (strcmp(routes[i].method, method) == 0) {
			memcpy(ids, tmp, sizeof tmp);
			*status = 0;
			return &routes[i];
		}
		allow_add(allow, allowlen, routes[i].method);
		*status = 405;
	}
	return NULL;
}

const struct api_route *api_route_match(const char *method, const char *path,
    int *status, char *allow, size_t allowlen, char *id, size_t idlen)
{
	char ids[API_MAX_IDS][API_ID_LEN];
	const struct api_route *rt = route_match(method, path, status, allow,
	    allowlen, ids);

	snprintf(id, idlen, "%s", ids[0]);
	return rt;
}

void api_route_request(struct api_req *r)
{
	char ids[API_MAX_IDS][API_ID_LEN];

	r->route = route_match(r->method, r->path, &r->route_status, r->allow,
	    sizeof r->allow, ids);
	memcpy(r->id, ids[0], sizeof r->id);
	memcpy(r->id2, ids[1], sizeof r->id2);
	memcpy(r->id3, ids[2], sizeof r->id3);
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

/* Keystone takes JSON or no type; an empty body reads as {} (the handler
 * says what it misses), anything but a JSON object is 400. */
static int parse_body_identity(struct api_req *r)
{
	const char *ct = api_header_get(r, "Content-Type");

	if (ct != NULL && *ct != '\0' &&
	    (strncasecmp(ct, "application/json", 16) != 0 ||
	    (ct[16] != '\0' && ct[16] != ';' && ct[16] != ' ')))
		return api_error(r, ERR_KS_CONTENT_TYPE);
	if (r->body == NULL || r->body_len == 0) {
		r->json_in = json_object();
		return 0;
	}
	r->json_in = json_loadb(r->body, r->body_len, 0, NULL);
	if (r->json_in == NULL)
		return api_error(r, ERR_KS_BAD_JSON);
	return 0;
}

static int parse_body(struct api_req *r)
{
	json_error_t jerr;
	char repr[512];

	if (r->route->flags & ROUTE_IDENTITY)
		return parse_body_identity(r);
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

static bool is_write(const char *method)
{
	return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
}

/* The route's rule (policy.c: Nova's and Glance's defaults, or the policy
 * file's): 0, or API_ERROR (403). Identity routes check Keystone's rules in
 * their handlers. */
static int route_policy(struct api_req *r)
{
	const struct api_route *rt = r->route;

	if (rt->flags & (ROUTE_NOAUTH | ROUTE_IDENTITY))
		return 0;
	/* a domain-scoped or unscoped token has no project to act in */
	if (r->project_id[0] == '\0')
		return api_error(r, ERR_POLICY, rt->policy);
	return api_policy_check(r, rt->policy);
}

/* What every route needs, checked once: 0, or API_ERROR. */
static int route_checks(struct api_req *r)
{
	const struct api_route *rt = r->route;

	if (r->malformed != NULL)
		return api_error(r, ERR_BAD_REQUEST, r->malformed);
	if (r->route_status == 405) {
		api_header_add(r, "Allow", "%s", r->allow);
		return api_error(r, ERR_METHOD, r->method);
	}
	if (rt == NULL || ((rt->flags & ROUTE_IDENTITY) &&
	    (!r->api->conf->identity_enabled || r->api->identity == NULL)))
		return api_error(r, ERR_NOT_FOUND);
	if (route_policy(r) != 0)
		return API_ERROR;
	if ((rt->flags & ROUTE_SERVER_ID) && !uuid_valid(r->id))
		return api_error(r, ERR_INSTANCE_NOT_FOUND, r->id);
	if ((rt->flags & ROUTE_BODY) && parse_body(r) != 0)
		return API_ERROR;
	return 0;
}

enum api_rc api_router_app(struct api_req *r)
{
	enum api_rc rc;

	if (route_checks(r) != 0)
		return API_ERROR;
	rc = r->route->handler(r);
	/* a user, role, grant, credential or token changed: validations
	 * cached before it no longer hold */
	if ((r->route->flags & ROUTE_IDENTITY) && is_write(r->method) &&
	    !(r->route->flags & ROUTE_NOAUTH))
		identity_changed(r->api);
	return rc;
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
