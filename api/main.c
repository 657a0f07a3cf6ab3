/*
 * kumo-api: the Compute API (and Glance's image metadata calls) over
 * HTTP. Reads kumo.conf and api-pipeline.ini, opens the database (refusing
 * an old schema), makes the RPC transport, listens, and on SIGTERM stops
 * accepting, lets requests in flight finish, and exits 0.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "api/api.h"
#include "common/rpc/rpc.h"
#include "common/rpcapi.h"
#include "db/db.h"

#define API_GRACE_MS 10000

int main(int argc, char **argv)
{
	struct kumo_conf conf;
	struct api api = { .conf = &conf };
	char err[1024];
	int checked = daemon_args(argc, argv, "kumo-api", &conf, NULL);

	if (api_pipeline_load(conf.api_paste_config, &api.pipeline, err,
	    sizeof err) < 0) {
		fprintf(stderr, "kumo-api: %s\n", err);
		return 1;
	}
	if (checked) {
		daemon_config_ok("kumo-api");
		return 0;
	}
	/* List pages (instance arrays, bodies) are a few hundred KiB: keep
	 * them on the heap rather than mmap and unmap them on every request. */
	mallopt(M_MMAP_THRESHOLD, 8 << 20);
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	daemon_signals();
	api.db = db_open_service(conf_db_path(&conf));
	api.rpc = rpcapi_transport_open(&conf);
	if (api_server_start(&api) < 0) {
		rpc_transport_free(api.rpc);
		db_close(api.db);
		return 1;
	}
	log_info("listening on %s:%d with %d workers", conf.osapi_compute_listen,
	    conf.osapi_compute_listen_port, conf.api_workers);
	daemon_ready("listening");
	/* libmicrohttpd serves from its own threads: the watchdog catches a hung
	 * or stopped process, not one wedged worker. */
	while (!daemon_stop_flag) {
		usleep(100 * 1000);
		daemon_watchdog();
		daemon_reload_log_level();
	}
	log_info("stopping");
	daemon_stopping();
	api_server_stop(&api, API_GRACE_MS);
	rpc_transport_free(api.rpc);
	db_close(api.db);
	return 0;
}
