/* JSON pieces every resource view shares: links, strings, times, hostId. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "common/rpc/rpc.h"
#include "common/crypto.h"

json_t *view_str(const char *s)
{
	json_t *j = json_string(s);
	char *copy;

	if (j != NULL)
		return j;
	if ((copy = strdup(s)) == NULL)
		return json_string("");
	for (char *p = copy; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	j = json_string(copy);
	free(copy);
	return j ? j : json_string("");
}

json_t *view_str_or_null(const char *s)
{
	return s == NULL || *s == '\0' ? json_null() : view_str(s);
}

static json_t *link(const char *rel, const char *href)
{
	json_t *l = json_object();

	json_object_set_new(l, "rel", json_string(rel));
	json_object_set_new(l, "href", view_str(href));
	return l;
}

json_t *view_bookmark(const struct api_req *r, const char *coll, const char *id)
{
	json_t *links = json_array();
	char href[512];

	snprintf(href, sizeof href, "%s/%s/%s", r->base_url, coll, id);
	json_array_append_new(links, link("bookmark", href));
	return links;
}

json_t *view_links(const struct api_req *r, const char *coll, const char *id)
{
	json_t *links = json_array();
	char href[512];

	snprintf(href, sizeof href, "%s/v2.1/%s/%s", r->base_url, coll, id);
	json_array_append_new(links, link("self", href));
	snprintf(href, sizeof href, "%s/%s/%s", r->base_url, coll, id);
	json_array_append_new(links, link("bookmark", href));
	return links;
}

json_t *view_time_usec(const char *iso)
{
	char b[40];
	size_t n;

	if (iso == NULL || *iso == '\0')
		return json_null();
	n = strlen(iso);
	if (n > 0 && iso[n - 1] == 'Z')
		n--;
	if (n > 19)  /* already has a fraction */
		n = 19;
	snprintf(b, sizeof b, "%.*s.000000", (int)n, iso);
	return json_string(b);
}

void view_host_id(const char *project_id, const char *host, char out[57])
{
	char data[600];
	int n;

	out[0] = '\0';
	if (host == NULL || *host == '\0')
		return;
	n = snprintf(data, sizeof data, "%s%s", project_id, host);
	if (n < 0 || (size_t)n >= sizeof data)
		return;
	sha224_hex(data, (size_t)n, out);
}

void api_rpc_ctx(const struct api_req *r, struct rpc_ctx *ctx)
{
	char names[sizeof r->role_names], *save = NULL;

	rpc_ctx_init(ctx, r->reqid, r->user_id, r->project_id, r->is_admin);
	if (r->role_names[0] == '\0' || (ctx->roles = json_array()) == NULL)
		return;
	memcpy(names, r->role_names, sizeof names);
	for (char *n = strtok_r(names, ",", &save); n != NULL;
	    n = strtok_r(NULL, ",", &save))
		json_array_append_new(ctx->roles, json_string(n));
}
