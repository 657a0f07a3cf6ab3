/*
 * kumo-api: the Compute API (and Glance's image metadata calls) over
 * HTTP. Reads kumo.conf and api-pipeline.ini, opens the database (refusing
 * an old schema), makes the RPC transport, listens, and on SIGTERM stops
 * accepting, lets requests in flight finish, and exits 0.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "common/rpc/rpc.h"
#include "common/rpcapi.h"
#include "db/db.h"

#define API_GRACE_MS 10000
#define IDLE_TRIM_TICKS 50   /* 100 ms ticks without a request: 5 s */

/*
 * malloc keeps what requests freed (main sets high thresholds, so that a
 * busy API does not map and unmap list pages on every request); once the
 * API has been idle for a while, that memory goes back to the system.
 * Measured: ~600 KiB after a login and a few lists, of ~10 MB resident.
 */
static void trim_when_idle(struct api *api, unsigned long *seen, int *idle)
{
	unsigned long n = __atomic_load_n(&api->completed, __ATOMIC_RELAXED);

	if (n != *seen ||
	    __atomic_load_n(&api->in_flight, __ATOMIC_SEQ_CST) > 0) {
		*seen = n;
		*idle = 0;
		return;
	}
	if (*idle >= 0 && ++*idle >= IDLE_TRIM_TICKS) {
		malloc_trim(0);
		*idle = -1;   /* once per idle spell */
	}
}

/* noauth2 believes any caller: only on loopback, unless the operator said
 * otherwise in so many words. */
static bool noauth_refused(const struct kumo_conf *conf)
{
	const char *a = conf->osapi_compute_listen;

	if (strcmp(conf->auth_strategy, "noauth2") != 0 ||
	    conf->allow_insecure_noauth)
		return false;
	if (strncmp(a, "127.", 4) == 0 || strcmp(a, "::1") == 0)
		return false;
	fprintf(stderr, "kumo-api: [api] auth_strategy = noauth2 lets anyone "
	    "who reaches %s act as any user, admin included; it listens only on "
	    "loopback (127.0.0.0/8, ::1) unless [api] allow_insecure_noauth = "
	    "true. Use auth_strategy = keystone.\n", a);
	return true;
}

/* Writes into a database file that was deleted or replaced would be
 * lost: stop at once, loudly (systemd restarts kumo-api on the file that
 * is there now), rather than answer 503 with the cloud's state gone. */
static void check_db_file(struct api *api, uint64_t *next)
{
	if (now_ms() < *next)
		return;
	*next = now_ms() + DB_FILE_CHECK_MS;
	if (db_file_moved(api->db))
		fatalx("%s was deleted or replaced under kumo-api: stopping",
		    conf_db_path(api->conf));
}

int main(int argc, char **argv)
{
	struct kumo_conf conf;
	struct api api = { .conf = &conf };
	uint64_t next_check = 0;
	unsigned long seen = 0;
	int idle = 0;
	char err[1024];
	int checked = daemon_args(argc, argv, "kumo-api", &conf, NULL);

	if (api_pipeline_load(conf.api_paste_config, &api.pipeline, err,
	    sizeof err) < 0) {
		fprintf(stderr, "kumo-api: %s\n", err);
		return 1;
	}
	if (noauth_refused(&conf))
		return 1;
	if (api_policy_load(conf.policy_file, &api.policy, err, sizeof err) < 0) {
		fprintf(stderr, "kumo-api: %s\n", err);
		return 1;
	}
	if (checked) {
		api_policy_free(api.policy);
		daemon_config_ok("kumo-api");
		return 0;
	}
	/* List pages (instance arrays, bodies) are a few hundred KiB: keep
	 * them on the heap rather than mmap and unmap them on every request. */
	mallopt(M_MMAP_THRESHOLD, 8 << 20);
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	daemon_signals();
	api.db = db_open_service(conf_db_path(&conf));
	if (identity_start(&api) < 0 || authtoken_start(&api) < 0) {
		identity_stop(&api);
		api_policy_free(api.policy);
		db_close(api.db);
		return 1;
	}
	api.rpc = rpcapi_transport_open(&conf, NULL);
	if (api_server_start(&api) < 0) {
		rpc_transport_free(api.rpc);
		authtoken_stop(&api);
		identity_stop(&api);
		api_policy_free(api.policy);
		db_close(api.db);
		return 1;
	}
	log_info("listening on %s:%d with %d workers, auth %s%s",
	    conf.osapi_compute_listen, conf.osapi_compute_listen_port,
	    conf.api_workers, conf.auth_strategy,
	    api.authtoken != NULL ? ", tokens checked by an external Keystone" :
	    api.identity != NULL ? ", identity at /identity/v3" : "");
	daemon_ready("listening");
	/* libmicrohttpd serves from its own threads: the watchdog catches a hung
	 * or stopped process, not one wedged worker. */
	while (!daemon_stop_flag) {
		usleep(100 * 1000);
		daemon_watchdog();
		daemon_reload_log_level();
		trim_when_idle(&api, &seen, &idle);
		check_db_file(&api, &next_check);
	}
	log_info("stopping");
	daemon_stopping();
	api_server_stop(&api, API_GRACE_MS);
	rpc_transport_free(api.rpc);
	authtoken_stop(&api);
	identity_stop(&api);
	api_policy_free(api.policy);
	db_close(api.db);
	return 0;
}
