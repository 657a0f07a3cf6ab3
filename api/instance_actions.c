/*
 * /v2.1/servers/{id}/os-instance-actions[/{request_id}]: what was done to
 * a server (create, delete, reboot, ...), newest first, from the
 * instance_actions table. Deleted servers keep theirs from 2.21 on. One
 * action shows its events (the steps the computes and the conductor
 * reported, newest first) as Nova does: to admins always, with the
 * traceback and, from 2.62, the host; to the owner from 2.51, without
 * them; hostId for both from 2.62; details for admins from 2.84.
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

/* The server's actions, if the caller may see the server (in). */
static int load_actions(struct api_req *r, struct db_instance *in,
    struct db_action **list, size_t *n)
{
	int rc = r->mv >= API_MV(2, 21) ?
	    db_instance_get_any(r->api->db, r->id, in) :
	    db_instance_get(r->api->db, r->id, in);

	*list = NULL;
	*n = 0;
	if (rc == DB_OK && !r->is_admin && strcmp(in->project_id, r->project_id) != 0)
		rc = DB_NOTFOUND;
	if (rc == DB_NOTFOUND)
		return api_error(r, ERR_INSTANCE_NOT_FOUND, r->id);
	if (rc != DB_OK || db_action_list(r->api->db, r->id, list, n) != DB_OK)
		return api_error(r, ERR_INTERNAL);
	return 0;
}

enum api_rc instance_actions_list(struct api_req *r)
{
	struct db_instance in;
	struct db_action *list;
	json_t *arr, *body;
	size_t n;

	if (load_actions(r, &in, &list, &n) != 0)
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

static json_t *event_view(const struct api_req *r, const struct db_action_event *e,
    const char *project_id)
{
	json_t *v = json_object();
	char host_id[57];

	json_object_set_new(v, "event", view_str(e->event));
	json_object_set_new(v, "start_time", view_time_usec(e->start_time));
	json_object_set_new(v, "finish_time", view_time_usec(e->finish_time));
	json_object_set_new(v, "result", view_str_or_null(e->result));
	if (r->is_admin)
		json_object_set_new(v, "traceback", view_str_or_null(e->traceback));
	if (r->is_admin && r->mv >= API_MV(2, 62))
		json_object_set_new(v, "host", view_str(e->host));
	if (r->mv >= API_MV(2, 62)) {
		view_host_id(project_id, e->host, host_id);
		json_object_set_new(v, "hostId", view_str(host_id));
	}
	if (r->is_admin && r->mv >= API_MV(2, 84))
		json_object_set_new(v, "details", view_str_or_null(e->details));
	return v;
}

/* The events of the action, or NULL after api_error. */
static json_t *events_view(struct api_req *r, const struct db_action *a,
    const struct db_instance *in)
{
	struct db_action_event *list = NULL;
	json_t *arr;
	size_t n = 0;

	if (db_action_event_list(r->api->db, a->instance_uuid, a->request_id,
	    &list, &n) != DB_OK) {
		api_error(r, ERR_INTERNAL);
		return NULL;
	}
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, event_view(r, &list[i],
		    a->project_id[0] ? a->project_id : in->project_id));
	free(list);
	return arr;
}

enum api_rc instance_actions_show(struct api_req *r)
{
	struct db_instance in;
	struct db_action *list, *found = NULL;
	json_t *v, *events, *body;
	char reqid[128];
	const char *want = request_id_of(r, reqid, sizeof reqid);
	size_t n;

	if (load_actions(r, &in, &list, &n) != 0)
		return API_ERROR;
	for (size_t i = 0; i < n && found == NULL; i++)
		if (strcmp(list[i].request_id, want) == 0)
			found = &list[i];
	if (found == NULL) {
		free(list);
		return api_error(r, ERR_ACTION_NOT_FOUND, want, r->id);
	}
	v = action_view(r, found);
	if (r->is_admin || r->mv >= API_MV(2, 51)) {
		if ((events = events_view(r, found, &in)) == NULL) {
			free(list);
			json_decref(v);
			return API_ERROR;
		}
		json_object_set_new(v, "events", events);
	}
	free(list);
	body = json_object();
	json_object_set_new(body, "instanceAction", v);
	return api_reply(r, 200, body);
}
