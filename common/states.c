#include <string.h>

#include "states.h"

static const char *const vm_states[] = {
	VM_STATE_BUILDING, VM_STATE_ACTIVE, VM_STATE_STOPPED, VM_STATE_ERROR,
	VM_STATE_DELETED,
};

static const char *const task_states[] = {
	TASK_NONE, TASK_SCHEDULING, TASK_SPAWNING, TASK_DELETING,
	TASK_REBOOTING, TASK_REBOOTING_HARD, TASK_POWERING_OFF,
	TASK_POWERING_ON,
};

/* Allowed vm_state moves; anything may become error or deleted. */
static const struct {
	const char *from, *to;
} vm_transitions[] = {
	{ VM_STATE_BUILDING, VM_STATE_ACTIVE },
	{ VM_STATE_ACTIVE, VM_STATE_STOPPED },
	{ VM_STATE_STOPPED, VM_STATE_ACTIVE },
	{ VM_STATE_ERROR, VM_STATE_ACTIVE },  /* a reset or a good reboot */
	{ VM_STATE_ERROR, VM_STATE_STOPPED },
};

static bool in_list(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, list[i]) == 0)
			return true;
	return false;
}

bool state_vm_valid(const char *vm_state)
{
	return vm_state != NULL &&
	    in_list(vm_state, vm_states, sizeof vm_states / sizeof *vm_states);
}

bool state_task_valid(const char *task_state)
{
	return task_state != NULL && in_list(task_state, task_states,
	    sizeof task_states / sizeof *task_states);
}

bool state_vm_transition_ok(const char *from, const char *to)
{
	if (!state_vm_valid(from) || !state_vm_valid(to))
		return false;
	if (strcmp(from, to) == 0)
		return true;
	if (strcmp(from, VM_STATE_DELETED) == 0)
		return false;
	if (strcmp(to, VM_STATE_ERROR) == 0 || strcmp(to, VM_STATE_DELETED) == 0)
		return true;
	for (size_t i = 0; i < sizeof vm_transitions / sizeof *vm_transitions; i++)
		if (strcmp(vm_transitions[i].from, from) == 0 &&
		    strcmp(vm_transitions[i].to, to) == 0)
			return true;
	return false;
}

/* Nova's nova/api/openstack/common.py _STATE_MAP, reduced to our states. */
const char *state_api_status(const char *vm_state, const char *task_state)
{
	if (vm_state == NULL)
		return "UNKNOWN";
	if (task_state == NULL)
		task_state = TASK_NONE;
	if (strcmp(vm_state, VM_STATE_BUILDING) == 0)
		return "BUILD";
	if (strcmp(vm_state, VM_STATE_ACTIVE) == 0) {
		if (strcmp(task_state, TASK_REBOOTING) == 0)
			return "REBOOT";
		if (strcmp(task_state, TASK_REBOOTING_HARD) == 0)
			return "HARD_REBOOT";
		return "ACTIVE";
	}
	if (strcmp(vm_state, VM_STATE_STOPPED) == 0) {
		if (strcmp(task_state, TASK_REBOOTING_HARD) == 0)
			return "HARD_REBOOT";
		return "SHUTOFF";
	}
	if (strcmp(vm_state, VM_STATE_ERROR) == 0)
		return "ERROR";
	if (strcmp(vm_state, VM_STATE_DELETED) == 0)
		return "DELETED";
	return "UNKNOWN";
}
