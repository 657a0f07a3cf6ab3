/*
 * POST /v2.1/servers/{id}/action: a table of actions, each a body key with
 * its own schema check and its run. The power actions (reboot, os-stop,
 * os-start) check the state as Nova does, set their task expecting none
 * (so two concurrent actions cannot both pass), record the action and
 * cast to the instance's host: 202. os-getConsoleOutput calls the host and
 * waits for the text (on the call pool, off the HTTP workers): 200.
 * os-resetState (admin) sets the vm_state and clears the task: 202.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "common/rpcapi.h"
#include "common/states.h"
#include "db/db.h"

#define CONSOLE_LINES_MAX (1 << 30)  /* larger lengths mean "all" */

/* The parsed arguments of one action. */
struct action_args {
	bool hard;     /* reboot */
	int length;    /* console: last lines, -1 = all */
	const char *state;  /* os-resetState: VM_STATE_ACTIVE or VM_STATE_ERROR */
};

typedef int (*power_cast_fn)(struct api_req *r, const struct db_instance *in,
    const struct action_args *a, struct rpc_error *err);

/* A power action: Nova's name (messages, the action record), the task it
 * sets, the vm_states it may start from, its cast. */
struct power_spec {
	const char *name;
	const char *task;
	const char *const *from;
	power_cast_fn cast;
};

static int ctx_cast(struct api_req *r, const struct db_instance *in,
    const struct action_args *a, struct rpc_error *err,
    int (*fn)(struct rpc_transport *, const struct rpc_ctx *, const char *,
    const char *, struct rpc_error *))
{
	struct rpc_ctx ctx;
	int rc;

	api_rpc_ctx(r, &ctx);
	if (fn != NULL)
		rc = fn(r->api->rpc, &ctx, in->host, in->uuid, err);
	else
		rc = compute_reboot_instance(r->api->rpc, &ctx, in->host,
		    in->uuid, a->hard, err);
	rpc_ctx_clear(&ctx);
	return rc;
}

static int cast_reboot(struct api_req *r, const struct db_instance *in,
    const struct action_args *a, struct rpc_error *err)
{
	return ctx_cast(r, in, a, err, NULL);
}

static int cast_stop(struct api_req *r, const struct db_instance *in,
    const struct action_args *a, struct rpc_error *err)
{
	return ctx_cast(r, in, a, err, compute_stop_instance);
}

static int cast_start(struct api_req *r, const struct db_instance *in,
    const struct action_args *a, struct rpc_error *err)
{
	return ctx_cast(r, in, a, err, compute_start_instance);
}

/* nova/compute/vm_states.py ALLOW_SOFT_REBOOT, ALLOW_HARD_REBOOT; stop and
 * start as nova/compute/api.py's check_instance_state. */
static const char *const soft_from[] = { VM_STATE_ACTIVE, NULL };
static const char *const hard_from[] = { VM_STATE_ACTIVE, VM_STATE_STOPPED,
	VM_STATE_ERROR, NULL };
static const char *const stop_from[] = { VM_STATE_ACTIVE, VM_STATE_ERROR, NULL };
static const char *const start_from[] = { VM_STATE_STOPPED, NULL };

static const struct power_spec reboot_soft = {
	"reboot", TASK_REBOOTING, soft_from, cast_reboot,
};
static const struct power_spec reboot_hard = {
	"reboot", TASK_REBOOTING_HARD, hard_from, cast_reboot,
};
static const struct power_spec stop = {
	"stop", TASK_POWERING_OFF, stop_from, cast_stop,
};
static const struct power_spec start = {
	"start", TASK_POWERING_ON, start_from, cast_start,
};

static bool in_list(const char *s, const char *const *list)
{
	for (size_t i = 0; list[i] != NULL; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

/* 409 unless the instance may start p: vm_state first, then no task. */
static int state_check(struct api_req *r, const struct db_instance *in,
    const struct power_spec *p)
{
	if (!in_list(in->vm_state, p->from))
		return api_error(r, ERR_INSTANCE_STATE, p->name, in->uuid,
		    "vm_state", in->vm_state);
	if (in->task_state[0] != '\0')
		return api_error(r, ERR_INSTANCE_STATE, p->name, in->uuid,
		    "task_state", in->task_state);
	if (in->host[0] == '\0')
		return api_error(r, ERR_INSTANCE_NOT_READY, in->uuid);
	return 0;
}

/* Sets p's task expecting none; a lost race answers as state_check. */
static int task_set(struct api_req *r, struct db_instance *in,
    const struct power_spec *p)
{
	int rc = db_instance_set_state(r->api->db, in->uuid, NULL, p->task, -1,
	    NULL, NULL, TASK_NONE);

	if (rc == DB_CONFLICT && servers_instance_get(r, in) == 0)
		return state_check(r, in, p) != 0 ? API_ERROR :
		    api_error(r, ERR_INSTANCE_STATE, p->name, in->uuid,
		    "task_state", in->task_state);
	if (rc == DB_NOTFOUND)
		return api_error(r, ERR_INSTANCE_NOT_FOUND, in->uuid);
	if (rc != DB_OK)
		return api_error(r, ERR_INTERNAL);
	return 0;
}

void servers_action_record(struct api_req *r, const struct db_instance *in,
    const char *name)
{
	struct db_action act;

	memset(&act, 0, sizeof act);
	str_copy(act.action, name, sizeof act.action);
	str_copy(act.instance_uuid, in->uuid, sizeof act.instance_uuid);
	str_copy(act.request_id, r->reqid, sizeof act.request_id);
	str_copy(act.user_id, r->user_id, sizeof act.user_id);
	str_copy(act.project_id, r->project_id, sizeof act.project_id);
	if (db_action_start(r->api->db, &act) != DB_OK)
		log_warnx("instance %s: %s action not recorded", in->uuid, name);
}

static enum api_rc run_power(struct api_req *r, struct db_instance *in,
    const struct power_spec *p, const struct action_args *a)
{
	struct rpc_error err;

	if (state_check(r, in, p) != 0 || task_set(r, in, p) != 0)
		return API_ERROR;
	servers_action_record(r, in, p->name);
	if (p->cast(r, in, a, &err) < 0) {
		log_warnx("instance %s: %s not sent to %s: %s", in->uuid, p->name,
		    in->host, err.message);
		db_instance_set_state(r->api->db, in->uuid, NULL, TASK_NONE, -1,
		    NULL, NULL, p->task);
		db_action_finish(r->api->db, in->uuid, r->reqid, "Error");
		return api_error(r, ERR_RPC, err.message);
	}
	log_info("instance %s: %s (%s) sent to %s", in->uuid, p->name, p->task,
	    in->host);
	return api_reply(r, 202, NULL);
}

static enum api_rc run_reboot(struct api_req *r, struct db_instance *in,
    const struct action_args *a)
{
	return run_power(r, in, a->hard ? &reboot_hard : &reboot_soft, a);
}

static enum api_rc run_stop(struct api_req *r, struct db_instance *in,
    const struct action_args *a)
{
	return run_power(r, in, &stop, a);
}

static enum api_rc run_start(struct api_req *r, struct db_instance *in,
    const struct action_args *a)
{
	return run_power(r, in, &start, a);
}

/* The host's error as the API's: timeouts and missing consoles apart. */
static int console_failed(struct api_req *r, const struct db_instance *in,
    const struct rpc_error *err)
{
	log_warnx("instance %s: console output from %s: %s", in->uuid,
	    in->host, err->message);
	if (err->kind == RPC_ERR_TIMEOUT)
		return api_error(r, ERR_RPC_TIMEOUT, in->host);
	if (err->kind == RPC_ERR_REMOTE &&
	    (strcmp(err->cls, "ConsoleNotAvailable") == 0 ||
	    strcmp(err->cls, "InstanceNotFound") == 0))
		return api_error(r, ERR_CONSOLE_NOT_AVAILABLE);
	if (err->kind == RPC_ERR_TRANSPORT)
		return api_error(r, ERR_RPC, err->message);
	return api_error(r, ERR_INTERNAL);
}

/* A console call's state: it waits on the host off the HTTP workers. */
struct console_call {
	struct db_instance in;
	int length;
	char *out;
	struct rpc_error err;
	int rc;
};

static void console_call_free(void *state)
{
	struct console_call *c = state;

	if (c != NULL)
		free(c->out);
	free(c);
}

/* On the call pool: up to rpc_response_timeout when the host hangs. */
static void console_call(struct api_req *r)
{
	struct console_call *c = r->defer_state;
	struct rpc_ctx ctx;

	api_rpc_ctx(r, &ctx);
	c->rc = compute_get_console_output(r->api->rpc, &ctx, c->in.host,
	    c->in.uuid, c->length, &c->out, &c->err);
	rpc_ctx_clear(&ctx);
}

static enum api_rc console_finish(struct api_req *r)
{
	struct console_call *c = r->defer_state;

	if (c->rc < 0)
		return console_failed(r, &c->in, &c->err);
	return api_reply(r, 200, json_pack("{s:o}", "output", view_str(c->out)));
}

static enum api_rc run_console(struct api_req *r, struct db_instance *in,
    const struct action_args *a)
{
	struct console_call *c;

	if (in->host[0] == '\0')
		return api_error(r, ERR_INSTANCE_NOT_READY, in->uuid);
	if ((c = calloc(1, sizeof *c)) == NULL)
		return api_error(r, ERR_INTERNAL);
	c->in = *in;
	c->length = a->length;
	r->defer_state = c;
	r->defer_free = console_call_free;
	return api_defer_call(r, c->in.host, console_call, console_finish);
}

/* os-resetState (admin): the vm_state given, no task, whatever the
 * instance was doing; recorded as Nova records it. Nothing is sent to the
 * host. */
static enum api_rc run_reset_state(struct api_req *r, struct db_instance *in,
    const struct action_args *a)
{
	int rc;

	if (api_policy_check(r, "os_compute_api:os-admin-actions:reset_state") != 0)
		return API_ERROR;
	servers_action_record(r, in, "resetState");
	rc = db_instance_set_state(r->api->db, in->uuid, a->state, TASK_NONE, -1,
	    NULL, NULL, NULL);
	db_action_finish(r->api->db, in->uuid, r->reqid, rc == DB_OK ? NULL : "Error");
	if (rc == DB_NOTFOUND)
		return api_error(r, ERR_INSTANCE_NOT_FOUND, in->uuid);
	if (rc != DB_OK)
		return api_db_error(r, rc);
	log_info("instance %s: state reset to %s", in->uuid, a->state);
	return api_reply(r, 202, NULL);
}

/* ---- the bodies' schemas (Nova's, with its messages) ---- */

/* {key: {'type': 'string', 'enum': allowed}}, required and alone, as
 * Nova's schema says it: the value, or NULL with r's error set. */
static const char *one_of(struct api_req *r, const char *action,
    const json_t *v, const char *key, const char *const *allowed)
{
	const char *const keys[] = { key, NULL };
	const json_t *t;
	char repr[300], list[256] = "[";

	if (v_object(r, action, v) || v_required(r, action, v, key) ||
	    v_no_extra(r, action, v, keys))
		return NULL;
	t = json_object_get(v, key);
	if (json_is_string(t) && in_list(json_string_value(t), allowed))
		return json_string_value(t);
	for (size_t i = 0; allowed[i] != NULL; i++)
		str_fmt(list + strlen(list), sizeof list - strlen(list), "%s'%s'",
		    i ? ", " : "", allowed[i]);
	str_fmt(list + strlen(list), sizeof list - strlen(list), "]");
	api_pyrepr(t, repr, sizeof repr);
	api_invalid(r, key, t, "%s is not one of %s", repr, list);
	return NULL;
}

static int parse_reboot(struct api_req *r, const json_t *v,
    struct action_args *a)
{
	static const char *const types[] = { "HARD", "Hard", "hard", "SOFT",
		"Soft", "soft", NULL };
	const char *t = one_of(r, "reboot", v, "type", types);

	if (t == NULL)
		return API_ERROR;
	a->hard = strcasecmp(t, "HARD") == 0;
	return 0;
}

/* os-stop and os-start: Nova reads no schema for them, so their value may
 * be anything ({"os-stop": null} from novaclient, {} from tempest). */
static int parse_any(struct api_req *r, const json_t *v,
    struct action_args *a)
{
	(void)r;
	(void)v;
	(void)a;
	return 0;
}

/* length: {'type': ['integer', 'string', 'null'], 'pattern':
 * '^-?[0-9]+$', 'minimum': -1}; absent or null = all. */
static int parse_length(struct api_req *r, const json_t *v, int *out)
{
	char repr[300];
	int64_t n = -1;

	*out = -1;
	if (v == NULL || json_is_null(v))
		return 0;
	api_pyrepr(v, repr, sizeof repr);
	if (json_is_integer(v))
		n = json_integer_value(v);
	else if (!json_is_string(v))
		return api_invalid(r, "length", v, "%s is not of type 'integer', "
		    "'string', 'null'", repr);
	else if (num_parse_i64(json_string_value(v), INT64_MIN, INT64_MAX, &n) < 0 ||
	    json_string_value(v)[0] == '+')
		return api_invalid(r, "length", v, "%s does not match "
		    "'^-?[0-9]+$'", repr);
	if (n < -1)
		return api_invalid(r, "length", v, "%s is less than the minimum "
		    "of -1", repr);
	*out = n > CONSOLE_LINES_MAX ? CONSOLE_LINES_MAX : (int)n;
	return 0;
}

static int parse_console(struct api_req *r, const json_t *v,
    struct action_args *a)
{
	static const char *const keys[] = { "length", NULL };

	if (v_object(r, "os-getConsoleOutput", v) ||
	    v_no_extra(r, "os-getConsoleOutput", v, keys))
		return API_ERROR;
	return parse_length(r, json_object_get(v, "length"), &a->length);
}

/* os-resetState: {'state': enum ['active', 'error']}, required */
static int parse_reset_state(struct api_req *r, const json_t *v,
    struct action_args *a)
{
	static const char *const states[] = { VM_STATE_ACTIVE, VM_STATE_ERROR,
		NULL };
	const char *st = one_of(r, "os-resetState", v, "state", states);

	if (st == NULL)
		return API_ERROR;
	a->state = strcmp(st, VM_STATE_ACTIVE) == 0 ? VM_STATE_ACTIVE :
	    VM_STATE_ERROR;
	return 0;
}

static const struct {
	const char *key;
	int (*parse)(struct api_req *r, const json_t *v, struct action_args *a);
	enum api_rc (*run)(struct api_req *r, struct db_instance *in,
	    const struct action_args *a);
} actions[] = {
	{ "reboot", parse_reboot, run_reboot },
	{ "os-stop", parse_any, run_stop },
	{ "os-start", parse_any, run_start },
	{ "os-getConsoleOutput", parse_console, run_console },
	{ "os-resetState", parse_reset_state, run_reset_state },
};

/* Nova's action_peek (exactly one key), then that action's schema: its
 * index in actions, or -1 with r's error set. */
static int action_parse(struct api_req *r, struct action_args *a)
{
	json_t *v;
	int i;

	if ((i = api_action_pick(r, actions, sizeof actions / sizeof *actions,
	    sizeof *actions, &v)) < 0 || actions[i].parse(r, v, a) != 0)
		return -1;
	return i;
}

int servers_action_validate(struct api_req *r)
{
	struct action_args a = { .hard = false, .length = -1, .state = NULL };

	return action_parse(r, &a) < 0 ? API_ERROR : 0;
}

/* The body, the instance, the run. */
enum api_rc servers_action(struct api_req *r)
{
	struct action_args a = { .hard = false, .length = -1, .state = NULL };
	struct db_instance in;
	int i;

	if ((i = action_parse(r, &a)) < 0 || servers_instance_get(r, &in) != 0)
		return API_ERROR;
	return actions[i].run(r, &in, &a);
}
