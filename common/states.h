/*
 * Instance states, as Nova's (nova/compute/vm_states.py, task_states.py,
 * power_state.py). Stored and sent as these strings; task_state "" is
 * Nova's None. The API's `status` derives from them (state_api_status).
 */
#ifndef KUMO_STATES_H
#define KUMO_STATES_H

#include <stdbool.h>

/* vm_state: what the instance is, stable between tasks. */
#define VM_STATE_BUILDING "building" /* not yet running for the first time */
#define VM_STATE_ACTIVE   "active"   /* running */
#define VM_STATE_STOPPED  "stopped"  /* powered off by the user */
#define VM_STATE_ERROR    "error"    /* a build or action failed; see the fault */
#define VM_STATE_DELETED  "deleted"  /* gone; rows kept soft-deleted */

/* task_state: what is being done to it now ("" = nothing). */
#define TASK_NONE          ""
#define TASK_SCHEDULING    "scheduling"     /* waiting for a host */
#define TASK_SPAWNING      "spawning"       /* the compute host is building it */
#define TASK_DELETING      "deleting"       /* delete requested */
#define TASK_REBOOTING     "rebooting"      /* soft reboot */
#define TASK_REBOOTING_HARD "rebooting_hard" /* hard reboot */
#define TASK_POWERING_OFF  "powering-off"   /* os-stop */
#define TASK_POWERING_ON   "powering-on"    /* os-start */

/* power_state: what the hypervisor reports. */
enum power_state {
	POWER_NOSTATE = 0,
	POWER_RUNNING = 1,
	POWER_PAUSED = 3,
	POWER_SHUTDOWN = 4,
	POWER_CRASHED = 6,
	POWER_SUSPENDED = 7,
};

/* True when the vm_state may go from `from` to `to` (the one transition
 * table, states.c). Equal states are always allowed. */
bool state_vm_transition_ok(const char *from, const char *to);
/* True when vm_state/task_state name known states ("" task is fine). */
bool state_vm_valid(const char *vm_state);
bool state_task_valid(const char *task_state);
/* Nova's status: BUILD, ACTIVE, SHUTOFF, ERROR, DELETED, REBOOT,
 * HARD_REBOOT... ; "UNKNOWN" otherwise. Returns a static string. */
const char *state_api_status(const char *vm_state, const char *task_state);

#endif
