/*
 * kumo-netd's requests (compute/net/requests.c): one packet from its
 * socket, answered with one JSON object, {"ok": true, ...} or
 * {"error": ...}; whatever it kept must still be a lease set that fits
 * the network (every IP in the range, no IP twice).
 */
#include <jansson.h>

#include "compute/net/netd.h"
#include "tests/fuzz/fuzz.h"

static struct kumo_conf conf;
static struct netd d;

static void init(void)
{
	char err[256], dir[] = "/tmp/kumo-fuzz-netd-XXXXXX";

	if (conf_load(&conf, NULL, err, sizeof err) < 0 || mkdtemp(dir) == NULL)
		abort();
	d.conf = &conf;
	if (net_def_from_conf(&conf, &d.net, err, sizeof err) < 0)
		abort();
	snprintf(d.state_dir, sizeof d.state_dir, "%s", dir);
	d.dns.pid = 0;
	log_set_level(LOG_LVL_ERROR);
}

static void check_set(void)
{
	for (size_t i = 0; i < d.leases.n; i++) {
		if (d.leases.v[i].ip < d.net.dhcp_start ||
		    d.leases.v[i].ip > d.net.dhcp_end || !mac_valid(d.leases.v[i].mac))
			abort();
		for (size_t j = i + 1; j < d.leases.n; j++)
			if (d.leases.v[i].ip == d.leases.v[j].ip ||
			    strcmp(d.leases.v[i].mac, d.leases.v[j].mac) == 0)
				abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *reply;
	json_t *r;

	if (d.conf == NULL)
		init();
	reply = netd_handle(&d, (const char *)data, size);
	if (reply == NULL)
		abort();
	r = json_loads(reply, 0, NULL);
	if (!json_is_object(r) || (json_object_get(r, "ok") == NULL) ==
	    (json_object_get(r, "error") == NULL))
		abort();
	json_decref(r);
	free(reply);
	check_set();
	return 0;
}
