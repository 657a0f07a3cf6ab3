/* Unit tests of kumo-netd's requests (compute/net/requests.c, leases.c),
 * its ruleset text, and kumo-compute's client against its real socket
 * code in a thread (no bridge, no dnsmasq, no nftables: those are
 * tests/system/test_netd.py's). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "compute/compute.h"
#include "compute/net/netd.h"

#define INST_A "11111111-2222-4333-8444-555555555555"
#define INST_B "11111111-2222-4333-8444-666666666666"

struct fx {
	struct kumo_conf conf;
	struct netd d;
	char dir[64];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	char err[512];

	assert_non_null(f);
	strcpy(f->dir, "/tmp/kumo-netd-unit-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(conf_load(&f->conf, NULL, err, sizeof err), 0);
	strcpy(f->conf.net_cidr, "10.98.0.0/24");
	strcpy(f->conf.net_dhcp_end, "10.98.0.200");
	strcpy(f->conf.net_helper_user, "root");
	snprintf(f->conf.net_helper_socket, sizeof f->conf.net_helper_socket,
	    "%s/run/netd.sock", f->dir);
	f->d.conf = &f->conf;
	assert_int_equal(net_def_from_conf(&f->conf, &f->d.net, err, sizeof err), 0);
	strcpy(f->d.state_dir, f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	lease_set_free(&f->d.leases);
	snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* The reply to req contains want. */
static void expect(struct netd *d, const char *req, size_t len, const char *want)
{
	char *out = netd_handle(d, req, len);

	assert_non_null(out);
	if (strstr(out, want) == NULL)
		fail_msg("%.80s -> %s, wanted %s", req, out, want);
	free(out);
}

#define EXPECT(d, req, want) expect(d, req, strlen(req), want)
#define ADD(mac, ip, host) "{\"op\":\"lease_add\",\"mac\":\"" mac "\",\"ip\":\"" \
	ip "\",\"hostname\":\"" host "\"}"

static const struct { const char *req, *want; } bad[] = {
	{ "", "not a JSON object" },
	{ "[1]", "not a JSON object" },
	{ "{\"op\":1}", "unknown op" },
	{ "{\"op\":\"reboot\"}", "unknown op" },
	{ "{\"op\":\"status\",\"op\":\"status\"}", "not a JSON object" },
	{ "{\"op\":\"status\",\"extra\":1}", "unknown field" },
	{ ADD("fa:16:3e:00:00:01", "10.98.0.250", "vm"), "DHCP range" },
	{ ADD("fa:16:3e:00:00:01", "10.98.0.1", "vm"), "DHCP range" },
	{ ADD("fa:16:3e:00:00:01", "10.97.0.5", "vm"), "DHCP range" },
	{ ADD("fa:16:3e:00:00:01", "10.98.0.05", "vm"), "DHCP range" },
	{ ADD("ff:16:3e:00:00:01", "10.98.0.5", "vm"), "MAC" },
	{ ADD("fa:16:3e:00:00", "10.98.0.5", "vm"), "MAC" },
	{ ADD("fa:16:3e:00:00:01", "10.98.0.5", "a/b"), "hostname" },
	{ ADD("fa:16:3e:00:00:01", "10.98.0.5", "a\\nb"), "hostname" },
	{ ADD("fa:16:3e:00:00:01", "10.98.0.5", "Vm"), "hostname" },
	{ ADD("fa:16:3e:00:00:01", "10.98.0.5", ""), "hostname" },
	{ "{\"op\":\"lease_add\",\"mac\":\"fa:16:3e:00:00:01\",\"ip\":\"10.98.0.5\"}",
	  "hostname" },
	{ "{\"op\":\"lease_add\",\"mac\":\"fa:16:3e:00:00:01\",\"ip\":\"10.98.0.5\","
	  "\"hostname\":\"vm\",\"x\":1}", "unknown field" },
	{ "{\"op\":\"lease_del\"}", "mac or instance" },
	{ "{\"op\":\"lease_del\",\"instance\":\"x\"}", "uuid" },
	{ "{\"op\":\"leases_sync\",\"leases\":{}}", "array" },
	{ "{\"op\":\"leases_sync\",\"leases\":[1]}", "leases[0]" },
	{ "{\"op\":\"leases_sync\",\"leases\":[{\"mac\":\"fa:16:3e:00:00:01\","
	  "\"ip\":\"10.98.0.5\",\"hostname\":\"a\"},{\"mac\":\"fa:16:3e:00:00:01\","
	  "\"ip\":\"10.98.0.6\",\"hostname\":\"b\"}]}", "leases[1]: mac given twice" },
};

static void test_bad_requests(void **state)
{
	struct fx *f = *state;
	char nul[] = "{\"op\":\"status\"}\0junk";

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		EXPECT(&f->d, bad[i].req, bad[i].want);
	expect(&f->d, nul, sizeof nul, "not a JSON object");
	expect(&f->d, "{}", NETD_MAX_MSG + 1, "too large");
	assert_int_equal(f->d.leases.n, 0);
}

static char *slurp(const char *dir, const char *name)
{
	static char buf[4096];
	char path[256];
	FILE *fp;
	size_t n;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	assert_non_null(fp = fopen(path, "r"));
	n = fread(buf, 1, sizeof buf - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static void test_leases(void **state)
{
	struct fx *f = *state;
	struct lease_set s;
	char err[256];

	EXPECT(&f->d, ADD("FA:16:3E:00:00:01", "10.98.0.5", "vm-1"), "\"ok\":true");
	assert_string_equal(slurp(f->dir, "dhcp-hosts"),
	    "fa:16:3e:00:00:01,vm-1,10.98.0.5\n");
	EXPECT(&f->d, ADD("fa:16:3e:00:00:02", "10.98.0.5", "vm-2"), "another mac");
	EXPECT(&f->d, ADD("fa:16:3e:00:00:01", "10.98.0.6", "vm-1b"), "\"ok\":true");
	assert_string_equal(slurp(f->dir, "dhcp-hosts"),
	    "fa:16:3e:00:00:01,vm-1b,10.98.0.6\n");
	EXPECT(&f->d, ADD("fa:16:3e:00:00:02", "10.98.0.5", "vm-2"), "\"ok\":true");
	EXPECT(&f->d, "{\"op\":\"lease_del\",\"mac\":\"fa:16:3e:00:00:01\"}", "\"ok\":true");
	EXPECT(&f->d, "{\"op\":\"lease_del\",\"mac\":\"fa:16:3e:00:00:01\"}", "\"ok\":true");
	EXPECT(&f->d, "{\"op\":\"status\"}", "\"leases\":1");
	EXPECT(&f->d, "{\"op\":\"leases_sync\",\"leases\":[{\"mac\":\"fa:16:3e:00:00:07\","
	    "\"ip\":\"10.98.0.7\",\"hostname\":\"x\"}]}", "\"leases\":1");
	assert_string_equal(slurp(f->dir, "dhcp-hosts"),
	    "fa:16:3e:00:00:07,x,10.98.0.7\n");
	/* What a restart reads back. */
	assert_int_equal(lease_set_load(&s, &f->d.net, f->dir, err, sizeof err), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.v[0].mac, "fa:16:3e:00:00:07");
	lease_set_free(&s);
}

static void test_ruleset(void **state)
{
	struct fx *f = *state;
	char *r = firewall_ruleset(&f->d.net, false);

	assert_non_null(r);
	assert_non_null(strstr(r, "delete table inet kumo_kumobr0\n"));
	assert_non_null(strstr(r, "iifname \"kumobr0\" ip daddr 10.98.0.1 tcp dport 53 accept"));
	assert_non_null(strstr(r, "iifname \"kumobr0\" drop"));
	assert_null(strstr(r, "masquerade"));
	free(r);
	r = firewall_ruleset(&f->d.net, true);
	assert_non_null(strstr(r, "oifname != \"kumobr0\" ip saddr 10.98.0.0/24 masquerade"));
	free(r);
}

static volatile int serving;

static void *serve(void *arg)
{
	struct fx *f = arg;
	char err[256];
	struct netd_server *s = netd_server_new(&f->conf, err, sizeof err);

	if (s == NULL)
		fail_msg("%s", err);
	serving = 1;
	while (serving == 1)
		netd_server_poll(s, &f->d, 50);
	netd_server_free(s);
	return NULL;
}

/* Root (uid 0) is let in; the client sees kumo-netd's own errors. */
static void test_client(void **state)
{
	struct fx *f = *state;
	json_t *st = NULL, *leases;
	pthread_t thr;
	char err[256];

	if (geteuid() != 0)
		skip();
	serving = 0;
	assert_int_equal(pthread_create(&thr, NULL, serve, f), 0);
	while (serving == 0)
		usleep(1000);
	assert_int_equal(compute_net_lease_add(&f->conf, INST_A,
	    "fa:16:3e:00:00:09", "10.98.0.9", "vm-9", err, sizeof err), 0);
	assert_int_equal(compute_net_lease_add(&f->conf, INST_B,
	    "fa:16:3e:00:00:0a", "10.98.0.9", "vm-10", err, sizeof err), -1);
	assert_string_equal(err, "kumo-netd: ip is leased to another mac");
	assert_int_equal(compute_net_lease_del(&f->conf, "fa:16:3e:00:00:09",
	    err, sizeof err), 0);
	/* an instance's leases go together, and only its */
	assert_int_equal(compute_net_lease_add(&f->conf, INST_A,
	    "fa:16:3e:00:00:0c", "10.98.0.12", "a", err, sizeof err), 0);
	assert_int_equal(compute_net_lease_add(&f->conf, INST_A,
	    "fa:16:3e:00:00:0d", "10.98.0.13", "a", err, sizeof err), 0);
	assert_int_equal(compute_net_lease_add(&f->conf, INST_B,
	    "fa:16:3e:00:00:0e", "10.98.0.14", "b", err, sizeof err), 0);
	assert_int_equal(compute_net_lease_del_instance(&f->conf, INST_A, err,
	    sizeof err), 0);
	assert_int_equal(compute_net_status(&f->conf, &st, err, sizeof err), 0);
	assert_int_equal(json_integer_value(json_object_get(st, "leases")), 1);
	json_decref(st);
	assert_int_equal(compute_net_lease_del_instance(&f->conf, "not-a-uuid",
	    err, sizeof err), -1);
	leases = json_pack("[{s:s, s:s, s:s}]", "mac", "fa:16:3e:00:00:0b",
	    "ip", "10.98.0.11", "hostname", "b");
	assert_int_equal(compute_net_leases_sync(&f->conf, leases, err, sizeof err), 0);
	json_decref(leases);
	assert_int_equal(compute_net_status(&f->conf, &st, err, sizeof err), 0);
	assert_int_equal(json_integer_value(json_object_get(st, "leases")), 1);
	assert_true(json_is_false(json_object_get(st, "managed")));
	json_decref(st);
	serving = 2;
	pthread_join(thr, NULL);
	assert_int_equal(compute_net_status(&f->conf, &st, err, sizeof err), -1);
	assert_null(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ruleset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client, setup, teardown),
	};

	log_init("test_netd", LOG_LVL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
