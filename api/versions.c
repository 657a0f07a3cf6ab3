/* Version discovery: GET / (every API version), GET /v2.1 (this one), and
 * GET /v2 (Glance's document for the image API on the same port). */
#include <stdio.h>
#include <string.h>

#include "api/api.h"

static json_t *link_obj(const char *rel, const char *href, const char *type)
{
	json_t *l = json_object();

	json_object_set_new(l, "rel", json_string(rel));
	if (type != NULL)
		json_object_set_new(l, "type", json_string(type));
	json_object_set_new(l, "href", view_str(href));
	return l;
}

/* One version entry: v2.0 is SUPPORTED without microversions, v2.1 CURRENT. */
static json_t *version_obj(const struct api_req *r, bool v21, bool doc)
{
	json_t *v = json_object(), *links = json_array();
	char href[256];

	snprintf(href, sizeof href, "%s/%s/", r->base_url, v21 ? "v2.1" : "v2");
	json_object_set_new(v, "id", json_string(v21 ? "v2.1" : "v2.0"));
	json_object_set_new(v, "status", json_string(v21 ? "CURRENT" : "SUPPORTED"));
	json_object_set_new(v, "version", json_string(v21 ? API_MV_MAX_STR : ""));
	json_object_set_new(v, "min_version", json_string(v21 ? "2.1" : ""));
	json_object_set_new(v, "updated", json_string(v21 ?
	    "2013-07-23T11:33:21Z" : "2011-01-21T11:33:21Z"));
	json_array_append_new(links, link_obj("self", href, NULL));
	if (doc) {
		json_t *mt = json_array(), *m = json_object();

		json_array_append_new(links, link_obj("describedby",
		    "http://docs.openstack.org/", "text/html"));
		json_object_set_new(m, "base", json_string("application/json"));
		json_object_set_new(m, "type", json_string(
		    "application/vnd.openstack.compute+json;version=2.1"));
		json_array_append_new(mt, m);
		json_object_set_new(v, "links", links);
		json_object_set_new(v, "media-types", mt);
		return v;
	}
	json_object_set_new(v, "links", links);
	return v;
}

enum api_rc versions_root(struct api_req *r)
{
	json_t *body = json_object(), *list = json_array();

	json_array_append_new(list, version_obj(r, false, false));
	json_array_append_new(list, version_obj(r, true, false));
	json_object_set_new(body, "versions", list);
	return api_reply(r, 200, body);
}

enum api_rc versions_v21(struct api_req *r)
{
	json_t *body = json_object();

	json_object_set_new(body, "version", version_obj(r, true, true));
	return api_reply(r, 200, body);
}

/* Glance's answer to version discovery, at /image (the catalog's image
 * endpoint, as DevStack has it) and /v2: keystoneauth finds the image API
 * through it. */
enum api_rc versions_image(struct api_req *r)
{
	json_t *body = json_object(), *list = json_array(), *v = json_object();
	json_t *links = json_array();
	bool image = strncmp(r->path, "/image", 6) == 0;
	char href[256];

	snprintf(href, sizeof href, "%s%s/v2/", r->base_url, image ? "/image" : "");
	json_object_set_new(v, "id", json_string("v2.9"));
	json_object_set_new(v, "status", json_string("CURRENT"));
	json_array_append_new(links, link_obj("self", href, NULL));
	json_object_set_new(v, "links", links);
	json_array_append_new(list, v);
	json_object_set_new(body, "versions", list);
	return api_reply(r, 200, body);
}
