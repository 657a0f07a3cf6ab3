/*
 * The watchdog's rules as one pure function: what the conductor will do
 * about an instance in a task state. watch.c acts on the verdict;
 * kumo-manage instance list --stuck shows it, so the operator reads the
 * same rules the conductor follows.
 */
#include <stdint.h>
#include <string.h>

#include "common/states.h"
#include "scheduler/sched.h"

/* Seconds since host's kumo-compute last reported; INT64_MAX when it is
 * forced down or has no service record at all. */
static int64_t host_silent(const struct db_service *svc, size_t n,
    const char *host, int64_t now)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(svc[i].binary, "kumo-compute") == 0 &&
		    strcmp(svc[i].host, host) == 0)
			return svc[i].forced_down ? INT64_MAX :
			    now - svc[i].last_seen_up;
	return INT64_MAX;
}

bool watch_host_down(const struct kumo_conf *conf, const struct db_service *svc,
    size_t n, const char *host, int64_t now)
{
	return host_silent(svc, n, host, now) > conf->service_down_time;
}

int64_t watch_stall(const struct kumo_conf *conf)
{
	return WATCH_STALL_S < conf->service_down_time ? WATCH_STALL_S :
	    conf->service_down_time;
}

static bool is_action(const char *task)
{
	return strcmp(task, TASK_REBOOTING) == 0 ||
	    strcmp(task, TASK_REBOOTING_HARD) == 0 ||
	    strcmp(task, TASK_POWERING_OFF) == 0 ||
	    strcmp(task, TASK_POWERING_ON) == 0;
}

static bool watched(const char *task)
{
	return strcmp(task, TASK_SCHEDULING) == 0 ||
	    strcmp(task, TASK_SPAWNING) == 0 ||
	    strcmp(task, TASK_DELETING) == 0 || is_action(task);
}

/* A reboot, stop or start: the API set its task and cast it to the host.
 * Lost on the way (a compute killed with it read, a broker restart with
 * transient queues), it is sent there again; given up on a dead host or
 * after instance_action_timeout. */
static enum watch_verdict judge_action(const struct kumo_conf *conf,
    const struct db_instance *inst, const struct db_service *svc,
    size_t nsvc, int64_t now, int64_t idle, bool can_judge)
{
	int64_t stall = watch_stall(conf);

	if (conf->instance_action_timeout > 0 &&
	    idle > conf->instance_action_timeout)
		return WATCH_ACTION_TIMED_OUT;
	if (!watch_host_down(conf, svc, nsvc, inst->host, now))
		return idle > 2 * stall ? WATCH_RESEND_ACTION : WATCH_MOVING;
	if (!can_judge || host_silent(svc, nsvc, inst->host, now) <=
	    (int64_t)WATCH_DEAD_FACTOR * conf->service_down_time)
		return WATCH_WAIT_HOST;
	return WATCH_ACTION_LOST;
}

enum watch_verdict watch_judge(const struct kumo_conf *conf,
    const struct db_instance *inst, const struct db_service *svc, size_t nsvc,
    int64_t now, bool can_judge)
{
	int64_t updated = 0, created = 0, idle, stall = watch_stall(conf);
	bool building = strcmp(inst->task_state, TASK_SCHEDULING) == 0 ||
	    strcmp(inst->task_state, TASK_SPAWNING) == 0;

	if (!watched(inst->task_state))
		return WATCH_NOT_WATCHED;
	if (time_parse_utc(inst->updated_at, &updated) < 0 ||
	    time_parse_utc(inst->created_at, &created) < 0)
		return WATCH_NOTHING;
	idle = now - updated;
	if (idle <= stall)   /* db_instance_stalled lists it from then on */
		return WATCH_MOVING;
	if (is_action(inst->task_state))
		return judge_action(conf, inst, svc, nsvc, now, idle, can_judge);
	if (building && conf->instance_build_timeout > 0 &&
	    now - created > conf->instance_build_timeout)
		return WATCH_TIMED_OUT;
	if (strcmp(inst->task_state, TASK_SCHEDULING) == 0)
		return WATCH_RESEND_BUILD;
	if (inst->host[0] == '\0')
		return WATCH_API_DELETES;
	if (!watch_host_down(conf, svc, nsvc, inst->host, now)) {
		/* twice the stall: a compute that restarted settles its own
		 * cut-short builds first (compute/sync.c) */
		if (strcmp(inst->task_state, TASK_SPAWNING) == 0)
			return idle > 2 * stall ? WATCH_RESEND_TO_HOST :
			    WATCH_MOVING;
		return WATCH_NOTHING;   /* a delete its compute is doing */
	}
	/* A compute slow to report (a loaded host, a long libvirt call) is
	 * filtered out of scheduling at service_down_time; its builds and
	 * deletes are taken from it only when it has been silent for
	 * WATCH_DEAD_FACTOR times that. */
	if (!can_judge || idle <= conf->service_down_time ||
	    host_silent(svc, nsvc, inst->host, now) <=
	    (int64_t)WATCH_DEAD_FACTOR * conf->service_down_time)
		return WATCH_WAIT_HOST;
	return building ? WATCH_HOST_LOST : WATCH_LOCAL_DELETE;
}

const char *watch_verdict_text(enum watch_verdict v)
{
	static const char *const texts[] = {
		[WATCH_NOT_WATCHED] = "not watched",
		[WATCH_NOTHING] = "nothing: its compute is working on it",
		[WATCH_MOVING] = "nothing yet: changed recently",
		[WATCH_TIMED_OUT] = "ERROR: instance_build_timeout passed",
		[WATCH_RESEND_BUILD] = "resend the build to the scheduler",
		[WATCH_API_DELETES] = "nothing: kumo-api deletes it (never scheduled)",
		[WATCH_RESEND_TO_HOST] = "resend the build to its host",
		[WATCH_WAIT_HOST] = "wait: its host may be down",
		[WATCH_HOST_LOST] = "ERROR: its host is down",
		[WATCH_LOCAL_DELETE] = "delete in the database: its host is down",
		[WATCH_RESEND_ACTION] = "resend the action to its host",
		[WATCH_ACTION_LOST] = "give the action up: its host is down",
		[WATCH_ACTION_TIMED_OUT] = "give the action up: "
		    "instance_action_timeout passed",
	};

	if ((int)v < 0 || (size_t)v >= sizeof texts / sizeof *texts)
		return "?";
	return texts[v];
}
