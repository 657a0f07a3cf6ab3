/* Keystone's shapes: links, collections, times, the objects' views, and
 * its policy and error answers. */
#include <microhttpd.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/identity/identity.h"

void ks_time(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%S.000000Z", &tm);
}

json_t *ks_links(const struct api_req *r, const char *coll, const char *id)
{
	char href[600];

	snprintf(href, sizeof href, "%s/identity/v3/%s/%s", r->base_url, coll, id);
	return json_pack("{s:o}", "self", view_str(href));
}

static enum MHD_Result query_cat(void *cls, enum MHD_ValueKind kind,
    const char *key, const char *value)
{
	char *buf = cls;
	size_t n = strlen(buf);

	(void)kind;
	snprintf(buf + n, 1024 - n, "%s%s%s%s", strchr(buf, '?') ? "&" : "?",
	    key, value ? "=" : "", value ? value : "");
	return MHD_YES;
}

json_t *ks_collection_links(struct api_req *r)
{
	char self[1024];

	snprintf(self, sizeof self, "%s%s", r->base_url, r->path);
	if (r->conn != NULL)
		MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND,
		    query_cat, self);
	return json_pack("{s:n, s:o, s:n}", "next", "self", view_str(self),
	    "previous");
}

json_t *ks_domain_ref(const struct db_domain *d)
{
	return json_pack("{s:s, s:o}", "id", d->id, "name", view_str(d->name));
}

json_t *ks_user_view(const struct api_req *r, const struct db_user *u)
{
	json_t *v = json_pack("{s:s, s:o, s:s, s:b}", "id", u->id, "name",
	    view_str(u->name), "domain_id", u->domain_id, "enabled", u->enabled);

	if (u->default_project_id[0] != '\0')
		json_object_set_new(v, "default_project_id",
		    json_string(u->default_project_id));
	json_object_set_new(v, "password_expires_at", json_null());
	json_object_set_new(v, "options", json_object());
	json_object_set_new(v, "links", ks_links(r, "users", u->id));
	return v;
}

json_t *ks_project_view(const struct api_req *r, const struct db_project *p)
{
	return json_pack("{s:s, s:o, s:s, s:o, s:b, s:s, s:b, s:[], s:{}, s:o}",
	    "id", p->id, "name", view_str(p->name), "domain_id", p->domain_id,
	    "description", view_str(p->description), "enabled", p->enabled,
	    "parent_id", p->domain_id, "is_domain", 0, "tags", "options",
	    "links", ks_links(r, "projects", p->id));
}

json_t *ks_role_view(const struct api_req *r, const struct db_role *ro)
{
	json_t *opts = json_object();

	if (ro->immutable)
		json_object_set_new(opts, "immutable", json_true());
	return json_pack("{s:s, s:o, s:n, s:o, s:o, s:o}", "id", ro->id,
	    "name", view_str(ro->name), "domain_id", "description",
	    view_str_or_null(ro->description), "options", opts,
	    "links", ks_links(r, "roles", ro->id));
}

json_t *ks_domain_view(const struct api_req *r, const struct db_domain *d)
{
	return json_pack("{s:s, s:o, s:o, s:b, s:[], s:{}, s:o}", "id", d->id,
	    "name", view_str(d->name), "description", view_str(d->description),
	    "enabled", d->enabled, "tags", "options",
	    "links", ks_links(r, "domains", d->id));
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

const char *ks_str(struct api_req *r, const json_t *obj, const char *key,
    size_t max, int *bad)
{
	json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
	const char *s;
	char msg[256];

	if (v == NULL)
		return NULL;
	s = json_string_value(v);
	if (s == NULL || *s == '\0' || strlen(s) > max ||
	    strlen(s) != json_string_length(v) || has_control(s)) {
		snprintf(msg, sizeof msg, "Invalid input for field '%s': the "
		    "value must be a string of 1 to %zu characters without "
		    "control characters.", key, max);
		*bad = api_error(r, ERR_KS_INVALID, msg);
		return NULL;
	}
	return s;
}

bool ks_admin(const struct api_req *r)
{
	return (r->roles & API_ROLE_ADMIN) != 0;
}

int ks_policy(struct api_req *r, bool allowed, const char *rule)
{
	char name[128];

	if (allowed)
		return 0;
	snprintf(name, sizeof name, "identity:%s", rule);
	return api_error(r, ERR_KS_POLICY, name);
}

int ks_db_error(struct api_req *r, int rc, const char *kind, const char *id)
{
	if (rc == DB_NOTFOUND)
		return api_error(r, ERR_KS_NOT_FOUND, kind, id);
	if (rc == DB_CONFLICT)
		return api_error(r, ERR_KS_CONFLICT, kind, id);
	return api_error(r, ERR_INTERNAL);
}
