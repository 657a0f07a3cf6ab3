/*
 * /v2.1/servers/{id}/os-instance-actions[/{request_id}]: what was done to
 * a server (create, delete, reboot, ...), newest first, from the
 * instance_actions table. Deleted servers keep theirs from 2.21 on. kumo
 * records no per-step events, so an action's "events" is empty.
 */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "db/db.h"

static json_t *action_view(const struct api_req *r, const struct db_action *a)
{
	json_t *v = json_object();

	json_object_set_new(v, "action", view_str(a->action));
	json_object_set_new(v, "instance_uuid", view_str(a->instance_uuid));
	json_object_set_new(v, "message", view_str_or_null(a->message));
	json_object_set_new(v, "project_id", view_str(a->project_id));
	json_object_set_new(v, "request_id", view_str(a->request_id));
	json_object_set_new(v, "start_time", view_time_usec(a->start_time));
	json_object_set_new(v, "user_id", view_str(a->user_id));
	if (r->mv >= API_MV(2, 58))
		json_object_set_new(v, "updated_at", view_time_usec(
		    a->finish_time[0] ? a->finish_time : a->start_time));
	return v;
}

/* The server's actions, if the caller may see the server. */
static int load_actions(struct api_req *r, struct db_action **list, size_t *n)
{
	struct db_instance in;
	int rc = r->mv >= API_MV(2, 21) ?
	    db_instance_get_any(r->api->db, r->id, &in) :
	    db_instance_get(r->api->db, r->id, &in);

	*list = NULL;
	*n = 0;
	if (rc == DB_OK && !r->is_admin && strcmp(in.project_id, r->project_id) != 0)
		rc = DB_NOTFOUND;
	if (rc == DB_NOTFOUND)
		return api_error(r, ERR_INSTANCE_NOT_FOUND, r->id);
	if (rc != DB_OK || db_action_list(r->api->db, r->id, list, n) != DB_OK)
		return api_error(r, ERR_INTERNAL);
	return 0;
}

enum api_rc instance_actions_list(struct api_req *r)
{
	struct db_action *list;
	json_t *arr, *body;
	size_t n;

	if (load_actions(r, &list, &n) != 0)
		return API_ERROR;
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, action_view(r, &list[i]));
	free(list);
	body = json_object();
	json_object_set_new(body, "instanceActions", arr);
	return api_reply(r, 200, body);
}

/* The request id is the path's last segment (the router's {id} is the
 * server). */
static const char *request_id_of(const struct api_req *r, char *buf, size_t len)
{
	const char *p = strstr(r->path, "/os-instance-actions/");
	size_t n;

	if (p == NULL)
		return "";
	p += strlen("/os-instance-actions/");
	n = strcspn(p, "/?");
	if (n >= len)
		n = len - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return buf;
}

enum api_rc instance_actions_show(struct api_req *r)
{
	struct db_action *list;
	json_t *v = NULL, *body;
	char reqid[128];
	const char *want = request_id_of(r, reqid, sizeof reqid);
	size_t n;

	if (load_actions(r, &list, &n) != 0)
		return API_ERROR;
	for (size_t i = 0; i < n && v == NULL; i++)
		if (strcmp(list[i].request_id, want) == 0)
			v = action_view(r, &list[i]);
	free(list);
	if (v == NULL)
		return api_error(r, ERR_ACTION_NOT_FOUND, want, r->id);
	json_object_set_new(v, "events", json_array());
	body = json_object();
	json_object_set_new(body, "instanceAction", v);
	return api_reply(r, 200, body);
}
