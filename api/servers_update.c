/*
 * PUT /v2.1/servers/{id}: a new name and access addresses (Nova's update
 * schema: {"server": {name, accessIPv4, accessIPv6}}, nothing else; the
 * description of 2.19 and the hostname of 2.90 are not kept by kumo yet and
 * stay refused as extra properties). The answer is the server in Nova's
 * update view: without the extended attributes before 2.75, as GET from
 * 2.75 on.
 */
#include <arpa/inet.h>
#include <string.h>

#include "api/api.h"
#include "db/db.h"

struct server_update {
	const json_t *name_v;       /* NULL: unchanged */
	char name[DB_NAME];
	char v4[16], v6[46];
	bool has_v4, has_v6;
};

static int update_parse(struct api_req *r, struct server_update *u)
{
	static const char *const top[] = { "server", NULL };
	static const char *const keys[] = { "name", "accessIPv4", "accessIPv6", NULL };
	const json_t *srv;

	memset(u, 0, sizeof *u);
	if (v_object(r, NULL, r->json_in) || v_required(r, NULL, r->json_in, "server") ||
	    v_no_extra(r, NULL, r->json_in, top))
		return API_ERROR;
	srv = json_object_get(r->json_in, "server");
	if (v_object(r, "server", srv) || v_no_extra(r, "server", srv, keys))
		return API_ERROR;
	if ((u->name_v = json_object_get(srv, "name")) != NULL &&
	    v_name(r, "name", u->name_v, u->name, sizeof u->name))
		return API_ERROR;
	u->has_v4 = json_object_get(srv, "accessIPv4") != NULL;
	u->has_v6 = json_object_get(srv, "accessIPv6") != NULL;
	if (servers_access_ip_check(r, srv, "accessIPv4", AF_INET, u->v4, sizeof u->v4) ||
	    servers_access_ip_check(r, srv, "accessIPv6", AF_INET6, u->v6, sizeof u->v6))
		return API_ERROR;
	return 0;
}

enum api_rc servers_update(struct api_req *r)
{
	struct server_update u;
	struct db_instance in;
	int rc = DB_OK;

	if (update_parse(r, &u) != 0 || servers_instance_get(r, &in) != 0)
		return API_ERROR;
	if (u.name_v != NULL)
		rc = db_instance_set_name(r->api->db, in.uuid, u.name);
	if (rc == DB_OK && (u.has_v4 || u.has_v6))
		rc = db_instance_set_access_ips(r->api->db, in.uuid,
		    u.has_v4 ? u.v4 : in.access_ip_v4, u.has_v6 ? u.v6 : in.access_ip_v6);
	if (rc == DB_NOTFOUND)
		return api_error(r, ERR_INSTANCE_NOT_FOUND, r->id);
	if (rc != DB_OK)
		return api_db_error(r, rc);
	log_info("instance %s updated", in.uuid);
	return servers_show_view(r, r->mv < API_MV(2, 75));
}
