/*
 * /v2.1/flavors: list and detail (by flavorid, paged by limit and marker),
 * show, create (admin; 200 as Nova), delete (admin; 202), os-extra_specs
 * (always empty). Shapes per microversion:
 * description from 2.55, extra_specs from 2.61, swap 0 rather than ""
 * from 2.75.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "db/db.h"

#define MAX_INT 2147483647

static json_t *flavor_view(const struct api_req *r, const struct db_flavor *f,
    bool detail)
{
	json_t *v = json_object();

	json_object_set_new(v, "id", view_str(f->flavorid));
	json_object_set_new(v, "name", view_str(f->name));
	if (detail) {
		json_object_set_new(v, "ram", json_integer(f->memory_mb));
		json_object_set_new(v, "disk", json_integer(f->root_gb));
		json_object_set_new(v, "swap", f->swap == 0 && r->mv < API_MV(2, 75) ?
		    json_string("") : json_integer(f->swap));
		json_object_set_new(v, "OS-FLV-EXT-DATA:ephemeral",
		    json_integer(f->ephemeral_gb));
		json_object_set_new(v, "OS-FLV-DISABLED:disabled",
		    json_boolean(f->disabled));
		json_object_set_new(v, "vcpus", json_integer(f->vcpus));
		json_object_set_new(v, "os-flavor-access:is_public",
		    json_boolean(f->is_public));
		json_object_set_new(v, "rxtx_factor", json_real(f->rxtx_factor));
	}
	json_object_set_new(v, "links", view_links(r, "flavors", f->flavorid));
	if (r->mv >= API_MV(2, 55))
		json_object_set_new(v, "description", view_str_or_null(f->description));
	if (detail && r->mv >= API_MV(2, 61))
		json_object_set_new(v, "extra_specs", json_object());
	return v;
}

int api_flavor_get(struct api_req *r, const char *flavorid,
    struct db_flavor *out)
{
	if (r->is_admin)
		return db_flavor_get(r->api->db, flavorid, out);
	return db_flavor_get_project(r->api->db, flavorid, r->project_id, out);
}

/* Which flavors a list starts from (Nova's _parse_is_public): the caller's
 * (public, and private ones its project has access to), all, or the
 * private ones. Only an admin's ?is_public counts: true or absent is the
 * caller's, "none" all, false the private ones. */
enum flavor_scope { SCOPE_OWN, SCOPE_ALL, SCOPE_PRIVATE };

static int flavor_scope(struct api_req *r, enum flavor_scope *out)
{
	const char *p = api_query_get(r, "is_public");
	char msg[300];
	bool b;

	*out = SCOPE_OWN;
	if (!r->is_admin || p == NULL)
		return 0;
	if (strcasecmp(p, "none") == 0) {
		*out = SCOPE_ALL;
		return 0;
	}
	if (str_to_bool(p, &b) == 0) {
		*out = b ? SCOPE_OWN : SCOPE_PRIVATE;
		return 0;
	}
	snprintf(msg, sizeof msg, "Invalid is_public filter [%.200s]", p);
	return api_error(r, ERR_BAD_REQUEST, msg);
}

static bool flavor_listed(struct api_req *r, enum flavor_scope scope,
    const struct db_flavor *f)
{
	const char *min_ram = api_query_get(r, "minRam");
	const char *min_disk = api_query_get(r, "minDisk");
	int n;

	if (f->disabled || (scope == SCOPE_PRIVATE && f->is_public))
		return false;
	if (min_ram && num_parse_int(min_ram, 0, MAX_INT, &n) == 0 &&
	    f->memory_mb < n)
		return false;
	if (min_disk && num_parse_int(min_disk, 0, MAX_INT, &n) == 0 &&
	    f->root_gb < n)
		return false;
	return true;
}

/* Nova's paging of the list (sorted by flavorid): ?limit= (at most [api]
 * max_limit) and ?marker=, a flavorid; a page that ends at the limit links
 * the next one (flavors_links). */
struct flavor_page {
	int limit;
	const char *marker;
};

static int flavor_page_parse(struct api_req *r, struct flavor_page *pg)
{
	const char *limit = api_query_get(r, "limit");
	struct db_flavor f;
	char msg[300];
	int rc;

	pg->limit = r->api->conf->max_limit;
	if (limit != NULL) {
		if (num_parse_int(limit, INT32_MIN, INT32_MAX, &pg->limit) < 0)
			return api_error(r, ERR_BAD_REQUEST, "limit param must be an integer");
		if (pg->limit < 0)
			return api_error(r, ERR_BAD_REQUEST, "limit param must be positive");
		if (pg->limit > r->api->conf->max_limit)
			pg->limit = r->api->conf->max_limit;
	}
	pg->marker = api_query_get(r, "marker");
	if (pg->marker == NULL)
		return 0;
	rc = db_flavor_get(r->api->db, pg->marker, &f);
	if (rc == DB_NOTFOUND) {
		snprintf(msg, sizeof msg, "Marker %.200s could not be found.", pg->marker);
		return api_error(r, ERR_BAD_REQUEST, msg);
	}
	return rc == DB_OK ? 0 : api_error(r, ERR_INTERNAL);
}

static json_t *flavor_next_link(const struct api_req *r, const struct flavor_page *pg,
    const char *last)
{
	char href[600];
	json_t *links = json_array(), *l = json_object();

	snprintf(href, sizeof href, "%s/v2.1/flavors%s?limit=%d&marker=%.255s",
	    r->base_url, strstr(r->path, "/detail") ? "/detail" : "", pg->limit, last);
	json_object_set_new(l, "rel", json_string("next"));
	json_object_set_new(l, "href", view_str(href));
	json_array_append_new(links, l);
	return links;
}

static enum api_rc flavors_index(struct api_req *r, bool detail)
{
	struct db_flavor *list = NULL;
	struct flavor_page pg;
	enum flavor_scope scope;
	json_t *body, *arr;
	const char *last = NULL;
	size_t n;
	int rc;

	if (flavor_scope(r, &scope) != 0 || flavor_page_parse(r, &pg) != 0)
		return API_ERROR;
	rc = scope == SCOPE_OWN ? db_flavor_list_project(r->api->db,
	    r->project_id, &list, &n) : db_flavor_list(r->api->db, &list, &n);
	if (rc != DB_OK)
		return api_error(r, ERR_INTERNAL);
	arr = json_array();
	for (size_t i = 0; i < n && json_array_size(arr) < (size_t)pg.limit; i++) {
		if (pg.marker && strcmp(list[i].flavorid, pg.marker) <= 0)
			continue;
		if (flavor_listed(r, scope, &list[i])) {
			json_array_append_new(arr, flavor_view(r, &list[i], detail));
			last = list[i].flavorid;
		}
	}
	body = json_object();
	json_object_set_new(body, "flavors", arr);
	if (last != NULL && json_array_size(arr) == (size_t)pg.limit)
		json_object_set_new(body, "flavors_links", flavor_next_link(r, &pg, last));
	free(list);
	return api_reply(r, 200, body);
}

enum api_rc flavors_list(struct api_req *r) { return flavors_index(r, false); }
enum api_rc flavors_detail(struct api_req *r) { return flavors_index(r, true); }

enum api_rc flavors_show(struct api_req *r)
{
	struct db_flavor f;
	json_t *body;
	int rc = api_flavor_get(r, r->id, &f);

	if (rc == DB_NOTFOUND)
		return api_error(r, ERR_FLAVOR_NOT_FOUND, r->id);
	if (rc != DB_OK)
		return api_error(r, ERR_INTERNAL);
	body = json_object();
	json_object_set_new(body, "flavor", flavor_view(r, &f, true));
	return api_reply(r, 200, body);
}

/* Flavors carry no extra specs in kumo: an empty set, for the clients
 * that fetch it per flavor (openstacksdk from 2.61). */
enum api_rc flavors_extra_specs(struct api_req *r)
{
	struct db_flavor f;
	json_t *body;
	int rc = api_flavor_get(r, r->id, &f);

	if (rc == DB_NOTFOUND)
		return api_error(r, ERR_FLAVOR_NOT_FOUND, r->id);
	if (rc != DB_OK)
		return api_error(r, ERR_INTERNAL);
	body = json_object();
	json_object_set_new(body, "extra_specs", json_object());
	return api_reply(r, 200, body);
}

enum api_rc flavors_create(struct api_req *r)
{
	struct db_flavor f, old;
	char u[UUID_STR_LEN];
	json_t *body;
	int rc;

	if (flavors_validate_create(r, r->json_in, r->mv, &f) != 0)
		return API_ERROR;
	if (f.flavorid[0] == '\0') {
		uuid_new_str(u);
		str_copy(f.flavorid, u, sizeof f.flavorid);
	} else if (db_flavor_get(r->api->db, f.flavorid, &old) == DB_OK) {
		return api_error(r, ERR_FLAVOR_ID_EXISTS, f.flavorid);
	}
	rc = db_flavor_create(r->api->db, &f);
	if (rc == DB_CONFLICT)
		return api_error(r, ERR_FLAVOR_NAME_EXISTS, f.name);
	if (rc != DB_OK || db_flavor_get(r->api->db, f.flavorid, &f) != DB_OK)
		return api_error(r, ERR_INTERNAL);
	log_info("flavor %s (%s) created", f.flavorid, f.name);
	body = json_object();
	json_object_set_new(body, "flavor", flavor_view(r, &f, true));
	return api_reply(r, 200, body);
}

enum api_rc flavors_delete(struct api_req *r)
{
	int rc = db_flavor_delete(r->api->db, r->id);

	if (rc == DB_NOTFOUND)
		return api_error(r, ERR_FLAVOR_NOT_FOUND, r->id);
	if (rc != DB_OK)
		return api_error(r, ERR_INTERNAL);
	log_info("flavor %s deleted", r->id);
	return api_reply(r, 202, NULL);
}

/* ---- validation: Nova's flavor_manage create schema, in its order ---- */

static int flavor_id(struct api_req *r, const json_t *v, char *out, size_t len)
{
	static const char pat[] = "'^(?! )[a-zA-Z0-9. _-]+(?<! )$'";
	char repr[300];
	const char *s;
	size_t n;

	api_pyrepr(v, repr, sizeof repr);
	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_integer(v) || json_is_real(v)) {
		str_copy(out, repr, len);
		return 0;
	}
	if (!json_is_string(v))
		return api_invalid(r, "id", v,
		    "%s is not of type 'string', 'number', 'null'", repr);
	s = json_string_value(v);
	n = strlen(s);
	if (n == 0)
		return api_invalid(r, "id", v, "%s is too short", repr);
	if (n > 255)
		return api_invalid(r, "id", v, "%s is too long", repr);
	if (strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789. _-") != n || s[0] == ' ' || s[n - 1] == ' ')
		return api_invalid(r, "id", v, "%s does not match %s", repr, pat);
	str_copy(out, s, len);
	return 0;
}

static int flavor_rxtx(struct api_req *r, const json_t *v, double *out)
{
	char repr[300];
	double d;

	api_pyrepr(v, repr, sizeof repr);
	if (json_is_string(v)) {
		if (num_parse_double(json_string_value(v), 0, 3.40282e+38, &d) < 0)
			return api_invalid(r, "rxtx_factor", v,
			    "%s does not match '^[0-9]+(\\\\.[0-9]+)?$'", repr);
	} else if (json_is_number(v)) {
		d = json_number_value(v);
	} else {
		return api_invalid(r, "rxtx_factor", v,
		    "%s is not of type 'number', 'string'", repr);
	}
	if (d <= 0)
		return api_invalid(r, "rxtx_factor", v,
		    "%s is less than or equal to the minimum of 0", repr);
	if (d > 3.40282e+38)
		return api_invalid(r, "rxtx_factor", v,
		    "%s is greater than the maximum of 3.40282e+38", repr);
	*out = d;
	return 0;
}

static int flavor_description(struct api_req *r, const json_t *v,
    struct db_flavor *f)
{
	if (v == NULL || json_is_null(v))
		return 0;
	return v_string(r, "description", v, 0, sizeof f->description - 1,
	    f->description, sizeof f->description);
}

/* The integer fields, in the schema's order, with their bounds. */
static int flavor_sizes(struct api_req *r, const json_t *fl, struct db_flavor *f)
{
	static const struct {
		const char *key;
		int64_t min;
		size_t off;
	} ints[] = {
		{ "ram", 1, offsetof(struct db_flavor, memory_mb) },
		{ "vcpus", 1, offsetof(struct db_flavor, vcpus) },
		{ "disk", 0, offsetof(struct db_flavor, root_gb) },
		{ "OS-FLV-EXT-DATA:ephemeral", 0, offsetof(struct db_flavor, ephemeral_gb) },
		{ "swap", 0, offsetof(struct db_flavor, swap) },
	};
	int64_t n;

	for (size_t i = 0; i < sizeof ints / sizeof *ints; i++) {
		const json_t *v = json_object_get(fl, ints[i].key);
		int val;

		if (v == NULL)
			continue;
		if (v_int_param(r, ints[i].key, v, ints[i].min, MAX_INT, &n) != 0)
			return API_ERROR;
		val = (int)n;
		memcpy((char *)f + ints[i].off, &val, sizeof val);
	}
	return 0;
}

#define FLAVOR_KEYS "name", "id", "ram", "vcpus", "disk", \
	"OS-FLV-EXT-DATA:ephemeral", "swap", "rxtx_factor", \
	"os-flavor-access:is_public"

int flavors_validate_create(struct api_req *r, const json_t *body, int mv,
    struct db_flavor *f)
{
	static const char *const top[] = { "flavor", NULL };
	static const char *const keys_21[] = { FLAVOR_KEYS, NULL };
	static const char *const keys_255[] = { FLAVOR_KEYS, "description", NULL };
	static const char *const required[] = { "name", "ram", "vcpus", "disk" };
	const json_t *fl = json_object_get(body, "flavor"), *v;

	memset(f, 0, sizeof *f);
	f->rxtx_factor = 1.0;
	f->is_public = true;
	if (v_required(r, NULL, body, "flavor") || v_no_extra(r, NULL, body, top) ||
	    v_object(r, "flavor", fl))
		return API_ERROR;
	if ((v = json_object_get(fl, "name")) &&
	    v_name(r, "name", v, f->name, sizeof f->name))
		return API_ERROR;
	if (flavor_id(r, json_object_get(fl, "id"), f->flavorid, sizeof f->flavorid) ||
	    flavor_sizes(r, fl, f))
		return API_ERROR;
	if ((v = json_object_get(fl, "rxtx_factor")) && flavor_rxtx(r, v, &f->rxtx_factor))
		return API_ERROR;
	if ((v = json_object_get(fl, "os-flavor-access:is_public")) &&
	    v_bool_param(r, "os-flavor-access:is_public", v, &f->is_public))
		return API_ERROR;
	if (mv >= API_MV(2, 55) &&
	    flavor_description(r, json_object_get(fl, "description"), f))
		return API_ERROR;
	for (size_t i = 0; i < sizeof required / sizeof *required; i++)
		if (v_required(r, "flavor", fl, required[i]))
			return API_ERROR;
	/* description is a property only from 2.55 on */
	return v_no_extra(r, "flavor", fl,
	    mv >= API_MV(2, 55) ? keys_255 : keys_21) ? API_ERROR : 0;
}
