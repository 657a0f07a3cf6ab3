/*
 * The conductor's watchdog: no build or delete waits forever. Every
 * WATCH_INTERVAL_S the main thread looks at the instances whose build or
 * delete has not moved for a while (db_instance_stalled) and decides:
 *
 *   scheduling, unchanged for WATCH_STALL_S
 *       its build message may be lost (a broker restart with transient
 *       queues, a kumo-api killed between its commit and its cast, a
 *       scheduler killed with the message read): it is sent again. A copy
 *       that arrives as well claims nothing (db_claim_for_build).
 *   spawning on a compute that is up, unchanged for twice WATCH_STALL_S
 *       the build message may not have reached it (a scheduler killed
 *       after its claim, before its cast left; a transient queue lost
 *       with the broker): it is sent to that host again, at most once in
 *       twice WATCH_STALL_S. The compute drops a copy of a build it runs and
 *       reports one it has finished (compute/manager.c).
 *   spawning on a compute that is down (no report for WATCH_DEAD_FACTOR
 *   times service_down_time: one merely slow to report is left alone)
 *       ERROR with a fault naming the host: the guest may have started
 *       there, so it is not built a second time elsewhere. The allocation
 *       stays until the delete, as Nova keeps it for an instance in ERROR.
 *   deleting on a compute that is down
 *       the delete completes in the database (Nova's local delete); the
 *       compute destroys the guest when it comes back (compute/sync.c
 *       reaps what the conductor lists as deleted).
 *   building for longer than [DEFAULT] instance_build_timeout
 *       ERROR, as Nova's _check_instance_build_time.
 *   rebooting, powering-off or powering-on, unchanged for twice
 *   WATCH_STALL_S on a compute that is up
 *       the cast may have been lost (a compute killed with it read, a
 *       transient queue lost with the broker): it is sent there again,
 *       with the action's own request id, at most once in twice
 *       WATCH_STALL_S. Doing one twice is harmless: a stop of a stopped
 *       guest, a start of a running one, a second reboot.
 *   the same on a compute that is down, or unchanged for longer than
 *   [DEFAULT] instance_action_timeout
 *       given up: the task is cleared (the vm_state stays; the compute's
 *       sync corrects the power state when it reports), the action ends
 *       in Error with an event that says why.
 *
 * The rules are watch_judge's (verdict.c); this file carries them out.
 *
 * A compute is judged down only when the conductor itself has been
 * consuming for service_down_time: after a broker outage the computes'
 * reports could not arrive, and their silence is the broker's. Likewise
 * after a full disk: their reports arrived but could not be recorded.
 * While the disk is full the watchdog does nothing (it could record
 * nothing); an instance update the conductor could not record then is
 * repaired afterwards like a lost one: the build is sent to its host
 * again, and the compute reports the build it has finished.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/rpcapi.h"
#include "common/states.h"
#include "scheduler/sched.h"

#define WATCH_LIMIT 1000    /* instances looked at per round */
#define RESENT_SLOTS 1024   /* builds sent to their host again, remembered */

/* When a spawning build was last sent to its host again (main thread
 * only): a hash table that forgets on collision, so a build may at worst
 * be sent once more than needed. */
static struct {
	char uuid[37];
	int64_t at;
} resent[RESENT_SLOTS];

static bool resent_within(const char *uuid, int64_t now, int64_t period)
{
	unsigned h = 5381;

	for (const char *p = uuid; *p != '\0'; p++)
		h = h * 33 + (unsigned char)*p;
	h %= RESENT_SLOTS;
	if (strcmp(resent[h].uuid, uuid) == 0 && now - resent[h].at < period)
		return true;
	str_copy(resent[h].uuid, uuid, sizeof resent[h].uuid);
	resent[h].at = now;
	return false;
}

static void resend_build(struct sched *s, const struct rpc_ctx *ctx,
    const struct db_instance *inst, int64_t idle)
{
	struct rpc_error e;

	/* Touch it (still expecting scheduling): the next resend waits
	 * another WATCH_STALL_S. */
	if (db_instance_set_state(s->db, inst->uuid, NULL, NULL, -1, NULL, NULL,
	    TASK_SCHEDULING) != DB_OK)
		return;
	log_warnx("instance %s: scheduling for %lld s with no progress: its "
	    "build is sent again", inst->uuid, (long long)idle);
	if (sched_build_instances(s->rpc, ctx, inst->uuid, NULL, &e) < 0)
		log_warnx("instance %s: build not sent again: %s", inst->uuid,
		    e.message);
}

static void resend_to_host(struct sched *s, const struct rpc_ctx *ctx,
    const struct db_instance *inst, int64_t idle, int64_t now, int64_t period)
{
	struct sched_retry retry = { .num_attempts = 1 };
	struct rpc_error e;
	json_t *ij;

	if (resent_within(inst->uuid, now, period) ||
	    (ij = sched_instance_json(s->db, ctx, inst)) == NULL)
		return;
	log_warnx("instance %s: spawning on %s for %lld s with no word from "
	    "it: its build is sent there again", inst->uuid, inst->host,
	    (long long)idle);
	if (compute_build_and_run_instance(s->rpc, ctx, inst->host, ij,
	    wire_retry_json(&retry, inst->host), &e) < 0)
		log_warnx("instance %s: build not sent again: %s", inst->uuid,
		    e.message);
}

static void host_lost(struct sched *s, const struct rpc_ctx *ctx,
    const struct db_instance *inst, int64_t idle)
{
	char why[512];
	int rc;

	if (strcmp(inst->task_state, TASK_DELETING) == 0) {
		if ((rc = db_instance_destroy(s->db, inst->uuid)) == DB_OK) {
			db_action_finish(s->db, inst->uuid, inst->request_id, NULL);
			log_warnx("instance %s: deleted in the database while "
			    "kumo-compute on %s is down; the guest goes when it is "
			    "back", inst->uuid, inst->host);
		}
		return;
	}
	snprintf(why, sizeof why, "kumo-compute on %s is down (no report for "
	    "over %d s) and the build made no progress for %lld s",
	    inst->host, WATCH_DEAD_FACTOR * s->conf->service_down_time,
	    (long long)idle);
	if (cond_set_error(s, ctx, inst->uuid, TASK_SPAWNING,
	    "Build of instance aborted: its compute host is down", why) == 0)
		log_warnx("instance %s: ERROR: %s", inst->uuid, why);
}

static void timed_out(struct sched *s, const struct rpc_ctx *ctx,
    const struct db_instance *inst)
{
	char why[256];

	snprintf(why, sizeof why, "not built within [DEFAULT] "
	    "instance_build_timeout = %d s", s->conf->instance_build_timeout);
	if (cond_set_error(s, ctx, inst->uuid, inst->task_state,
	    "Instance build timed out", why) == 0) {
		db_allocation_delete(s->db, inst->uuid);
		log_warnx("instance %s: ERROR: %s", inst->uuid, why);
	}
}

/* The action a power task belongs to (kumo-api's name for it). */
static const char *task_action(const char *task)
{
	if (strcmp(task, TASK_POWERING_OFF) == 0)
		return "stop";
	if (strcmp(task, TASK_POWERING_ON) == 0)
		return "start";
	return "reboot";
}

/* The action inst's task belongs to: its newest record when that is one
 * of this action, else (a record lost, a database restored from before
 * it) one made from the task and the instance's owner. */
static void task_record(struct sched *s, const struct db_instance *inst,
    struct db_action *out)
{
	const char *name = task_action(inst->task_state);
	struct db_action *acts = NULL;
	size_t n = 0;

	if (db_action_list(s->db, inst->uuid, &acts, &n) == DB_OK && n > 0 &&
	    strcmp(acts[0].action, name) == 0) {
		*out = acts[0];
	} else {
		memset(out, 0, sizeof *out);
		str_copy(out->action, name, sizeof out->action);
		str_copy(out->user_id, inst->user_id, sizeof out->user_id);
		str_copy(out->project_id, inst->project_id, sizeof out->project_id);
	}
	free(acts);
}

static int cast_action(struct sched *s, const struct rpc_ctx *ctx,
    const struct db_instance *inst, struct rpc_error *e)
{
	const char *t = inst->task_state;

	if (strcmp(t, TASK_POWERING_OFF) == 0)
		return compute_stop_instance(s->rpc, ctx, inst->host, inst->uuid, e);
	if (strcmp(t, TASK_POWERING_ON) == 0)
		return compute_start_instance(s->rpc, ctx, inst->host, inst->uuid, e);
	return compute_reboot_instance(s->rpc, ctx, inst->host, inst->uuid,
	    strcmp(t, TASK_REBOOTING_HARD) == 0, e);
}

static void resend_action(struct sched *s, const struct db_instance *inst,
    const struct db_action *act, int64_t idle, int64_t now, int64_t period)
{
	struct rpc_ctx ctx;
	struct rpc_error e;

	if (resent_within(inst->uuid, now, period))
		return;
	log_warnx("instance %s: %s on %s for %lld s with no word from it: the "
	    "%s is sent there again", inst->uuid, inst->task_state, inst->host,
	    (long long)idle, act->action);
	rpc_ctx_init(&ctx, act->request_id, act->user_id, act->project_id, false);
	if (cast_action(s, &ctx, inst, &e) < 0)
		log_warnx("instance %s: %s not sent again: %s", inst->uuid,
		    act->action, e.message);
	rpc_ctx_clear(&ctx);
}

/* The task cleared (expecting it still), the action ended in Error with
 * an event naming why. */
static void give_up_action(struct sched *s, const struct db_instance *inst,
    const struct db_action *act, const char *why)
{
	struct db_action_event ev;

	if (db_instance_set_state(s->db, inst->uuid, NULL, TASK_NONE, -1, NULL,
	    NULL, inst->task_state) != DB_OK)
		return;   /* it finished meanwhile, or was deleted */
	memset(&ev, 0, sizeof ev);
	snprintf(ev.event, sizeof ev.event, "compute_%s_instance", act->action);
	time_iso8601(ev.start_time);
	str_copy(ev.finish_time, ev.start_time, sizeof ev.finish_time);
	str_copy(ev.result, "Error", sizeof ev.result);
	str_copy(ev.host, inst->host, sizeof ev.host);
	str_copy(ev.traceback, why, sizeof ev.traceback);
	str_copy(ev.details, why, sizeof ev.details);
	if (db_action_event_add(s->db, inst->uuid, act->request_id, &ev) != DB_OK ||
	    db_action_finish(s->db, inst->uuid, act->request_id, "Error") != DB_OK)
		log_info("instance %s: the %s action not finished", inst->uuid,
		    act->action);
	log_warnx("instance %s: %s given up: %s", inst->uuid, act->action, why);
}

static void watch_action(struct sched *s, const struct db_instance *inst,
    enum watch_verdict v, int64_t idle, int64_t now)
{
	struct db_action act;
	char why[512];

	task_record(s, inst, &act);
	if (v == WATCH_RESEND_ACTION) {
		resend_action(s, inst, &act, idle, now, 2 * watch_stall(s->conf));
		return;
	}
	if (v == WATCH_ACTION_LOST)
		snprintf(why, sizeof why, "kumo-compute on %s is down (no report "
		    "for over %d s): the %s did not happen", inst->host,
		    WATCH_DEAD_FACTOR * s->conf->service_down_time, act.action);
	else
		snprintf(why, sizeof why, "the %s did not finish within [DEFAULT] "
		    "instance_action_timeout = %d s", act.action,
		    s->conf->instance_action_timeout);
	give_up_action(s, inst, &act, why);
}

static void judge(struct sched *s, const struct db_instance *inst,
    const struct db_service *svc, size_t nsvc, int64_t now, bool can_judge)
{
	int64_t updated = 0, idle, stall = watch_stall(s->conf);
	enum watch_verdict v;
	struct rpc_ctx ctx;

	if (time_parse_utc(inst->updated_at, &updated) < 0)
		return;
	idle = now - updated;
	rpc_ctx_init(&ctx, inst->request_id, inst->user_id, inst->project_id,
	    false);
	switch ((v = watch_judge(s->conf, inst, svc, nsvc, now, can_judge))) {
	case WATCH_TIMED_OUT:
		timed_out(s, &ctx, inst);
		break;
	case WATCH_RESEND_BUILD:
		resend_build(s, &ctx, inst, idle);
		break;
	case WATCH_RESEND_TO_HOST:
		resend_to_host(s, &ctx, inst, idle, now, 2 * stall);
		break;
	case WATCH_HOST_LOST:
	case WATCH_LOCAL_DELETE:
		host_lost(s, &ctx, inst, idle);
		break;
	case WATCH_RESEND_ACTION:
	case WATCH_ACTION_LOST:
	case WATCH_ACTION_TIMED_OUT:
		watch_action(s, inst, v, idle, now);
		break;
	default:
		break;   /* nothing to do this round */
	}
	rpc_ctx_clear(&ctx);
}

void cond_watch(struct sched *s, int64_t consuming_since)
{
	struct db_instance *list = NULL;
	struct db_service *svc = NULL;
	int64_t now = (int64_t)time(NULL), stall = watch_stall(s->conf);
	size_t n = 0, nsvc = 0;
	char before[DB_TS];
	bool can_judge;

	if (consuming_since <= 0)
		return;   /* the conductor is not consuming: nothing is sure */
	if (db_full(s->db)) {
		s->db_full_at = now;
		return;
	}
	can_judge = now - consuming_since >= s->conf->service_down_time &&
	    now - s->db_full_at >= s->conf->service_down_time;
	time_iso8601_at(now - stall, before);
	if (db_instance_stalled(s->db, before, WATCH_LIMIT, &list, &n) != DB_OK) {
		log_warnx("watchdog: cannot list stalled instances");
		return;
	}
	if (n > 0 && db_service_list(s->db, &svc, &nsvc) != DB_OK) {
		log_warnx("watchdog: cannot list services");
		free(list);
		return;
	}
	for (size_t i = 0; i < n; i++)
		judge(s, &list[i], svc, nsvc, now, can_judge);
	free(svc);
	free(list);
}
