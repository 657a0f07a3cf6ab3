/*
 * /v2.1/servers/{id}/os-server-password: the encrypted password a guest
 * posts to the metadata service. kumo has no metadata service, so no guest
 * has posted one: show answers Nova's empty password and clear has
 * nothing to clear (204).
 */
#include "api/api.h"
#include "db/db.h"

enum api_rc servers_password_show(struct api_req *r)
{
	struct db_instance in;

	if (servers_instance_get(r, &in) != 0)
		return API_ERROR;
	return api_reply(r, 200, json_pack("{s:s}", "password", ""));
}

enum api_rc servers_password_clear(struct api_req *r)
{
	struct db_instance in;

	if (servers_instance_get(r, &in) != 0)
		return API_ERROR;
	return api_reply(r, 204, NULL);
}
