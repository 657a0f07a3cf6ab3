/*
 * Actions on an instance already built here: reboot, stop, start (casts
 * whose end the conductor hears of) and the console output (a call). The
 * API set the task before casting; the report back expects that task, so
 * a delete that came meanwhile wins.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/rpcapi.h"
#include "common/states.h"
#include "compute/compute.h"

#define NFIELDS(t) (sizeof t / sizeof *t)

/* What a power action does and how it ends. */
struct power_action {
	const char *name;        /* in logs and the fault */
	const char *event;       /* the action event (Nova's name) */
	const char *task;        /* the task the API set */
	const char *vm_state;    /* after success */
	int power_state;
	int (*op)(struct virt_driver *d, const char *uuid);
};

static int op_reboot_soft(struct virt_driver *d, const char *uuid)
{
	return d->ops->reboot(d, uuid, false);
}

static int op_reboot_hard(struct virt_driver *d, const char *uuid)
{
	return d->ops->reboot(d, uuid, true);
}

static int op_power_off(struct virt_driver *d, const char *uuid)
{
	return d->ops->power_off(d, uuid);
}

static int op_power_on(struct virt_driver *d, const char *uuid)
{
	return d->ops->power_on(d, uuid);
}

static const struct power_action reboot_soft = {
	"reboot", "compute_reboot_instance", TASK_REBOOTING, VM_STATE_ACTIVE,
	POWER_RUNNING, op_reboot_soft,
};
static const struct power_action reboot_hard = {
	"reboot", "compute_reboot_instance", TASK_REBOOTING_HARD, VM_STATE_ACTIVE,
	POWER_RUNNING, op_reboot_hard,
};
static const struct power_action stop = {
	"stop", "compute_stop_instance", TASK_POWERING_OFF, VM_STATE_STOPPED,
	POWER_SHUTDOWN, op_power_off,
};
static const struct power_action start = {
	"start", "compute_start_instance", TASK_POWERING_ON, VM_STATE_ACTIVE,
	POWER_RUNNING, op_power_on,
};

/* Runs a under the instance's lock and reports the end to the conductor. */
static int run_power_action(struct compute *c, const struct rpc_ctx *ctx,
    const char *uuid, const struct power_action *a, struct rpc_error *err)
{
	struct rpcapi_event ev;
	int rc;

	rpcapi_event_start(&ev, a->event);
	if (compute_lock(&c->locks, uuid) < 0) {
		rpc_error_set(err, "MemoryError", "builtins", "out of memory");
		return -1;
	}
	log_info("instance %s: %s (%s)", uuid, a->name, a->task);
	rc = a->op(c->driver, uuid);
	compute_unlock(&c->locks, uuid);
	if (rc == VIRT_OK)
		return cond_instance_update(c->rpc, ctx, c->conf->host, uuid, a->vm_state,
		    TASK_NONE, a->power_state, a->task, &ev, err);
	log_warnx("instance %s: %s failed (%s)", uuid, a->name,
	    rc == VIRT_NOTFOUND ? "not on this host" : "driver error");
	ev.error = rc == VIRT_NOTFOUND ? "Instance could not be found on its "
	    "host" : "The hypervisor failed the operation";
	return cond_action_failed(c->rpc, ctx, c->conf->host, uuid, a->name,
	    ev.error, a->task, &ev, err);
}

static const struct wire_field uuid_args[] = {
	{ "instance_uuid", WIRE_UUID, 1, 0, false },
};

static const struct wire_field reboot_args[] = {
	{ "instance_uuid", WIRE_UUID, 1, 0, false },
	{ "reboot_type", WIRE_STR, 4, 4, false },
};

int compute_reboot_instance_rpc(void *arg, const struct rpc_ctx *ctx,
    json_t *args, json_t **result, struct rpc_error *err)
{
	const char *type;

	*result = NULL;
	if (wire_check(args, reboot_args, NFIELDS(reboot_args), err) < 0)
		return -1;
	type = json_string_value(json_object_get(args, "reboot_type"));
	if (strcmp(type, "SOFT") != 0 && strcmp(type, "HARD") != 0) {
		rpc_error_set(err, "InvalidParameterValue", NULL,
		    "bad argument 'reboot_type'");
		return -1;
	}
	return run_power_action(arg, ctx,
	    json_string_value(json_object_get(args, "instance_uuid")),
	    strcmp(type, "HARD") == 0 ? &reboot_hard : &reboot_soft, err);
}

static int power_rpc(void *arg, const struct rpc_ctx *ctx, json_t *args,
    json_t **result, const struct power_action *a, struct rpc_error *err)
{
	*result = NULL;
	if (wire_check(args, uuid_args, NFIELDS(uuid_args), err) < 0)
		return -1;
	return run_power_action(arg, ctx,
	    json_string_value(json_object_get(args, "instance_uuid")), a, err);
}

int compute_stop_instance_rpc(void *arg, const struct rpc_ctx *ctx,
    json_t *args, json_t **result, struct rpc_error *err)
{
	return power_rpc(arg, ctx, args, result, &stop, err);
}

int compute_start_instance_rpc(void *arg, const struct rpc_ctx *ctx,
    json_t *args, json_t **result, struct rpc_error *err)
{
	return power_rpc(arg, ctx, args, result, &start, err);
}

/* The start of the last `lines` lines of text (len bytes); lines < 0 =
 * all. A trailing newline does not start an empty last line. */
const char *compute_console_tail(const char *text, size_t len, int lines)
{
	size_t end = len;

	if (lines < 0)
		return text;
	if (lines == 0)
		return text + len;
	if (end > 0 && text[end - 1] == '\n')
		end--;
	while (end > 0) {
		if (text[end - 1] == '\n' && --lines == 0)
			return text + end;
		end--;
	}
	return text;
}

/* In place, as Nova's API does: control characters other than tab and
 * newline go; bytes that are not UTF-8 become '?'. The new length. */
size_t compute_console_clean(char *s, size_t len)
{
	unsigned char *p = (unsigned char *)s;
	size_t i = 0, j = 0, n;

	while (i < len) {
		if (p[i] < 0x20 && p[i] != '\t' && p[i] != '\n') {
			i++;
			continue;
		}
		if ((n = utf8_seq_len(p + i, len - i)) == 0) {
			p[j++] = '?';
			i++;
			continue;
		}
		memmove(p + j, p + i, n);
		i += n;
		j += n;
	}
	return j;
}

static const struct wire_field console_args[] = {
	{ "instance_uuid", WIRE_UUID, 1, 0, false },
	{ "length", WIRE_INT, -1, 1 << 30, false },
};

int compute_get_console_output_rpc(void *arg, const struct rpc_ctx *ctx,
    json_t *args, json_t **result, struct rpc_error *err)
{
	struct compute *c = arg;
	const char *uuid, *tail;
	char *out = NULL;
	size_t len;
	int rc;

	(void)ctx;
	*result = NULL;
	if (wire_check(args, console_args, NFIELDS(console_args),
	    err) < 0)
		return -1;
	uuid = json_string_value(json_object_get(args, "instance_uuid"));
	rc = c->driver->ops->get_console_output(c->driver, uuid, &out);
	if (rc != VIRT_OK || out == NULL) {
		free(out);
		rpc_error_set(err, rc == VIRT_NOTFOUND ? "InstanceNotFound" :
		    "ConsoleNotAvailable", NULL, "instance %s: no console output",
		    uuid);
		return -1;
	}
	len = compute_console_clean(out, strlen(out));
	tail = compute_console_tail(out, len,
	    (int)json_integer_value(json_object_get(args, "length")));
	/* Bounded; a character cut at the front becomes '?'s. */
	if ((size_t)(out + len - tail) > RPCAPI_CONSOLE_MAX) {
		tail = out + len - RPCAPI_CONSOLE_MAX;
		compute_console_clean((char *)tail, RPCAPI_CONSOLE_MAX);
	}
	*result = json_pack("{s:s%}", "output", tail, (size_t)(out + len - tail));
	free(out);
	if (*result == NULL) {
		rpc_error_set(err, "MemoryError", "builtins", "out of memory");
		return -1;
	}
	return 0;
}
