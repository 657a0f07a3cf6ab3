/*
 * The service catalog (every service with its endpoints, the same for
 * every user, as Keystone's) and the admin calls that build it: services,
 * endpoints, regions. Listing needs any valid token (Keystone's default
 * lets admins list; kumo's catalog holds nothing secret and clients look
 * endpoints up), creating needs admin.
 */
#include <stdlib.h>
#include <string.h>

#include "api/identity/identity.h"

static json_t *endpoint_view(const struct api_req *r, const struct db_endpoint *e,
    bool full)
{
	json_t *v = json_pack("{s:s, s:s, s:s?, s:o, s:s?}", "id", e->id,
	    "interface", e->interface, "region_id",
	    e->region_id[0] ? e->region_id : NULL, "url", view_str(e->url),
	    "region", e->region_id[0] ? e->region_id : NULL);

	if (full) {
		json_object_set_new(v, "service_id", json_string(e->service_id));
		json_object_set_new(v, "enabled", json_boolean(e->enabled));
		json_object_set_new(v, "links", ks_links(r, "endpoints", e->id));
	}
	return v;
}

json_t *ks_catalog(struct api_req *r)
{
	struct db_service_entry *svc = NULL;
	struct db_endpoint *ep = NULL;
	size_t nsvc = 0, nep = 0;
	json_t *cat;

	if (db_catalog_service_list(r->api->db, &svc, &nsvc) != DB_OK ||
	    db_endpoint_list(r->api->db, NULL, &ep, &nep) != DB_OK) {
		free(svc);
		api_error(r, ERR_INTERNAL);
		return NULL;
	}
	cat = json_array();
	for (size_t i = 0; i < nsvc; i++) {
		json_t *eps = json_array();

		if (!svc[i].enabled)
			continue;
		for (size_t j = 0; j < nep; j++)
			if (ep[j].enabled &&
			    strcmp(ep[j].service_id, svc[i].id) == 0)
				json_array_append_new(eps,
				    endpoint_view(r, &ep[j], false));
		json_array_append_new(cat, json_pack("{s:o, s:s, s:s, s:o}",
		    "endpoints", eps, "id", svc[i].id, "type", svc[i].type,
		    "name", view_str(svc[i].name)));
	}
	free(svc);
	free(ep);
	return cat;
}

static json_t *service_view(const struct api_req *r,
    const struct db_service_entry *s)
{
	return json_pack("{s:s, s:s, s:o, s:o, s:b, s:o}", "id", s->id,
	    "type", s->type, "name", view_str(s->name), "description",
	    view_str(s->description), "enabled", s->enabled,
	    "links", ks_links(r, "services", s->id));
}

enum api_rc ks_services_list(struct api_req *r)
{
	struct db_service_entry *svc;
	const char *type = api_query_get(r, "type");
	json_t *list;
	size_t n;

	if (db_catalog_service_list(r->api->db, &svc, &n) != DB_OK)
		return api_error(r, ERR_INTERNAL);
	list = json_array();
	for (size_t i = 0; i < n; i++)
		if (type == NULL || strcmp(type, svc[i].type) == 0)
			json_array_append_new(list, service_view(r, &svc[i]));
	free(svc);
	return api_reply(r, 200, json_pack("{s:o, s:o}", "services", list,
	    "links", ks_collection_links(r)));
}

enum api_rc ks_services_show(struct api_req *r)
{
	struct db_service_entry s;
	int rc = db_catalog_service_get(r->api->db, r->id, &s);

	if (rc != DB_OK)
		return ks_db_error(r, rc, "service", r->id);
	return api_reply(r, 200, json_pack("{s:o}", "service",
	    service_view(r, &s)));
}

enum api_rc ks_services_create(struct api_req *r)
{
	json_t *in = json_object_get(r->json_in, "service");
	struct db_service_entry s = { .enabled = true };
	const char *type, *name, *desc;
	int bad = 0, rc;

	if (ks_policy(r, ks_admin(r), "create_service") != 0)
		return API_ERROR;
	if (!json_is_object(in))
		return api_error(r, ERR_KS_EXPECTING, "service", "request body");
	type = ks_str(r, in, "type", 63, &bad);
	name = ks_str(r, in, "name", DB_NAME - 1, &bad);
	desc = ks_str(r, in, "description", DB_NAME - 1, &bad);
	if (bad)
		return API_ERROR;
	if (type == NULL)
		return api_error(r, ERR_KS_INVALID, "'type' is a required property");
	str_copy(s.type, type, sizeof s.type);
	str_copy(s.name, name ? name : "", sizeof s.name);
	str_copy(s.description, desc ? desc : "", sizeof s.description);
	if (json_is_false(json_object_get(in, "enabled")))
		s.enabled = false;
	if ((rc = db_catalog_service_create(r->api->db, &s)) != DB_OK)
		return ks_db_error(r, rc, "service", s.name);
	log_info("service %s (%s) created", s.id, s.type);
	return api_reply(r, 201, json_pack("{s:o}", "service",
	    service_view(r, &s)));
}

enum api_rc ks_endpoints_list(struct api_req *r)
{
	const char *svc = api_query_get(r, "service_id");
	const char *iface = api_query_get(r, "interface");
	struct db_endpoint *ep;
	json_t *list;
	size_t n;

	if (db_endpoint_list(r->api->db, svc, &ep, &n) != DB_OK)
		return api_error(r, ERR_INTERNAL);
	list = json_array();
	for (size_t i = 0; i < n; i++)
		if (iface == NULL || strcmp(iface, ep[i].interface) == 0)
			json_array_append_new(list, endpoint_view(r, &ep[i], true));
	free(ep);
	return api_reply(r, 200, json_pack("{s:o, s:o}", "endpoints", list,
	    "links", ks_collection_links(r)));
}

static bool interface_ok(const char *s)
{
	return strcmp(s, "public") == 0 || strcmp(s, "internal") == 0 ||
	    strcmp(s, "admin") == 0;
}

static bool url_ok(const char *s)
{
	if (strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return false;
	return true;
}

enum api_rc ks_endpoints_create(struct api_req *r)
{
	json_t *in = json_object_get(r->json_in, "endpoint");
	struct db_endpoint e = { .enabled = true };
	const char *svc, *iface, *url, *region;
	int bad = 0, rc;

	if (ks_policy(r, ks_admin(r), "create_endpoint") != 0)
		return API_ERROR;
	if (!json_is_object(in))
		return api_error(r, ERR_KS_EXPECTING, "endpoint", "request body");
	svc = ks_str(r, in, "service_id", DB_ID - 1, &bad);
	iface = ks_str(r, in, "interface", 15, &bad);
	url = ks_str(r, in, "url", sizeof e.url - 1, &bad);
	region = ks_str(r, in, "region_id", DB_ID - 1, &bad);
	if (region == NULL)
		region = ks_str(r, in, "region", DB_ID - 1, &bad);
	if (bad)
		return API_ERROR;
	if (svc == NULL || iface == NULL || url == NULL)
		return api_error(r, ERR_KS_INVALID, "'service_id', 'interface' and "
		    "'url' are required properties");
	if (!interface_ok(iface))
		return api_error(r, ERR_KS_INVALID, "Invalid input for field "
		    "'interface': not one of 'public', 'internal', 'admin'");
	if (!url_ok(url))
		return api_error(r, ERR_KS_INVALID, "Invalid input for field "
		    "'url': an http:// or https:// URL without spaces");
	str_copy(e.service_id, svc, sizeof e.service_id);
	str_copy(e.interface, iface, sizeof e.interface);
	str_copy(e.url, url, sizeof e.url);
	str_copy(e.region_id, region ? region : "", sizeof e.region_id);
	if (json_is_false(json_object_get(in, "enabled")))
		e.enabled = false;
	if ((rc = db_endpoint_create(r->api->db, &e)) != DB_OK)
		return ks_db_error(r, rc, rc == DB_NOTFOUND ? "service" :
		    "endpoint", svc);
	log_info("endpoint %s (%s %s) created", e.id, e.interface, e.url);
	return api_reply(r, 201, json_pack("{s:o}", "endpoint",
	    endpoint_view(r, &e, true)));
}

enum api_rc ks_regions_list(struct api_req *r)
{
	struct db_region *reg;
	json_t *list;
	size_t n;

	if (db_region_list(r->api->db, &reg, &n) != DB_OK)
		return api_error(r, ERR_INTERNAL);
	list = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, json_pack("{s:s, s:o, s:n, s:o}",
		    "id", reg[i].id, "description", view_str(reg[i].description),
		    "parent_region_id", "links", ks_links(r, "regions", reg[i].id)));
	free(reg);
	return api_reply(r, 200, json_pack("{s:o, s:o}", "regions", list,
	    "links", ks_collection_links(r)));
}

enum api_rc ks_regions_create(struct api_req *r)
{
	json_t *in = json_object_get(r->json_in, "region");
	struct db_region reg = { .id = "" };
	const char *id, *desc;
	int bad = 0, rc;

	if (ks_policy(r, ks_admin(r), "create_region") != 0)
		return API_ERROR;
	if (!json_is_object(in))
		return api_error(r, ERR_KS_EXPECTING, "region", "request body");
	id = ks_str(r, in, "id", DB_ID - 1, &bad);
	desc = ks_str(r, in, "description", DB_NAME - 1, &bad);
	if (bad)
		return API_ERROR;
	if (id != NULL)
		str_copy(reg.id, id, sizeof reg.id);
	else
		uuid_new_hex(reg.id);
	str_copy(reg.description, desc ? desc : "", sizeof reg.description);
	if ((rc = db_region_create(r->api->db, &reg)) != DB_OK)
		return ks_db_error(r, rc, "region", reg.id);
	return api_reply(r, 201, json_pack("{s:{s:s, s:o, s:n, s:o}}", "region",
	    "id", reg.id, "description", view_str(reg.description),
	    "parent_region_id", "links", ks_links(r, "regions", reg.id)));
}
