/*
 * Unit tests of the scheduler's pure part: filters, weighers, selection
 * and the plugin tables, on hand-made host lists (no DB, no broker).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "scheduler/sched.h"

#define NOW 1000000

static struct sched_policy policy(void)
{
	struct sched_policy p = {
		.cpu_allocation_ratio = 4.0, .ram_allocation_ratio = 1.0,
		.disk_allocation_ratio = 1.0, .ram_weight_multiplier = 1.0,
		.service_down_time = 60, .now = NOW,
	};
	return p;
}

static struct db_compute_node node(const char *host, int vcpus, int mem,
    int disk)
{
	struct db_compute_node n;

	memset(&n, 0, sizeof n);
	snprintf(n.host, sizeof n.host, "%s", host);
	n.vcpus = vcpus;
	n.memory_mb = mem;
	n.local_gb = disk;
	return n;
}

static struct db_service service(const char *host, int64_t seen)
{
	struct db_service s;

	memset(&s, 0, sizeof s);
	snprintf(s.host, sizeof s.host, "%s", host);
	snprintf(s.binary, sizeof s.binary, "kumo-compute");
	s.last_seen_up = seen;
	return s;
}

static struct sched_request request(int vcpus, int mem, int disk)
{
	struct sched_request r = {
		.vcpus = vcpus, .memory_mb = mem, .disk_gb = disk,
		.availability_zone = "",
	};
	return r;
}

static void test_ram_exact_limit(void **state)
{
	struct db_compute_node n = node("a", 4, 2048, 10);
	struct sched_host h = { .node = &n };
	struct sched_policy p = policy();
	struct sched_request r = request(1, 1024, 1);

	(void)state;
	n.memory_mb_used = 1024;
	assert_true(filter_ram(&h, &r, &p));
	r.memory_mb = 1025;
	assert_false(filter_ram(&h, &r, &p));
	p.ram_allocation_ratio = 1.5; /* 3072 usable */
	r.memory_mb = 2048;
	assert_true(filter_ram(&h, &r, &p));
	r.memory_mb = 2049;
	assert_false(filter_ram(&h, &r, &p));
}

static void test_core_ratio(void **state)
{
	struct db_compute_node n = node("a", 4, 2048, 10);
	struct sched_host h = { .node = &n };
	struct sched_policy p = policy();
	struct sched_request r = request(1, 1, 1);

	(void)state;
	n.vcpus_used = 15; /* 4 * 4.0 = 16 */
	assert_true(filter_core(&h, &r, &p));
	r.vcpus = 2;
	assert_false(filter_core(&h, &r, &p));
	p.cpu_allocation_ratio = 1.0;
	n.vcpus_used = 0;
	r.vcpus = 4;
	assert_true(filter_core(&h, &r, &p));
	r.vcpus = 5;
	assert_false(filter_core(&h, &r, &p));
}

static void test_disk_and_size(void **state)
{
	struct db_compute_node n = node("a", 4, 2048, 10);
	struct sched_host h = { .node = &n };
	struct sched_policy p = policy();
	struct sched_request r = request(1, 1, 5);

	(void)state;
	n.local_gb_used = 5;
	assert_true(filter_disk(&h, &r, &p));
	r.disk_gb = 6;
	assert_false(filter_disk(&h, &r, &p));
	p.disk_allocation_ratio = 2.0;
	assert_true(filter_disk(&h, &r, &p));
	assert_int_equal(sched_disk_gb(1, 0, 0), 1);
	assert_int_equal(sched_disk_gb(1, 2, 1), 4);
	assert_int_equal(sched_disk_gb(1, 0, 1024), 2);
	assert_int_equal(sched_disk_gb(1, 0, 1025), 3);
}

static void test_compute_filter(void **state)
{
	struct db_compute_node n = node("a", 4, 2048, 10);
	struct db_service s = service("a", NOW - 60);
	struct sched_host h = { .node = &n, .service = &s };
	struct sched_policy p = policy();
	struct sched_request r = request(1, 1, 1);

	(void)state;
	assert_true(filter_compute(&h, &r, &p));     /* exactly at the limit */
	s.last_seen_up = NOW - 61;
	assert_false(filter_compute(&h, &r, &p));    /* down */
	s.last_seen_up = 0;
	assert_false(filter_compute(&h, &r, &p));    /* never seen */
	s.last_seen_up = NOW;
	s.disabled = true;
	assert_false(filter_compute(&h, &r, &p));
	s.disabled = false;
	s.forced_down = true;
	assert_false(filter_compute(&h, &r, &p));
	h.service = NULL;
	assert_false(filter_compute(&h, &r, &p));    /* no service row */
}

static void test_az_filter(void **state)
{
	struct db_compute_node n = node("a", 4, 2048, 10);
	struct sched_host h = { .node = &n };
	struct sched_policy p = policy();
	struct sched_request r = request(1, 1, 1);

	(void)state;
	assert_true(filter_availability_zone(&h, &r, &p));
	r.availability_zone = "nova";
	assert_true(filter_availability_zone(&h, &r, &p));
	r.availability_zone = "elsewhere";
	assert_false(filter_availability_zone(&h, &r, &p));
}

/* Three up hosts with 1, 3 and 2 GB free; all default plugins. */
struct fixture {
	struct db_compute_node nodes[3];
	struct db_service svcs[3];
	struct sched_host hosts[3];
	struct sched_plugins plugins;
};

static void fixture_init(struct fixture *f)
{
	static const char *names[] = { "h1", "h2", "h3" };
	static const int used[] = { 3072, 1024, 2048 };
	char err[256];

	memset(f, 0, sizeof *f);
	for (int i = 0; i < 3; i++) {
		f->nodes[i] = node(names[i], 8, 4096, 100);
		f->nodes[i].memory_mb_used = used[i];
		f->svcs[i] = service(names[i], NOW);
		f->hosts[i].node = &f->nodes[i];
		f->hosts[i].service = &f->svcs[i];
	}
	assert_int_equal(sched_plugins_load(&f->plugins, "ComputeFilter, "
	    "RamFilter,CoreFilter,DiskFilter,AvailabilityZoneFilter",
	    "RamWeigher", err, sizeof err), 0);
}

static void test_select_spread(void **state)
{
	struct fixture f;
	struct sched_policy p = policy();
	struct sched_request r = request(1, 512, 1);
	char why[512];

	(void)state;
	fixture_init(&f);
	assert_int_equal(sched_select(&f.plugins, f.hosts, 3, &r, &p, why,
	    sizeof why), 3);
	assert_string_equal(f.hosts[0].node->host, "h2");
	assert_string_equal(f.hosts[1].node->host, "h3");
	assert_string_equal(f.hosts[2].node->host, "h1");
}

static void test_select_stack(void **state)
{
	struct fixture f;
	struct sched_policy p = policy();
	struct sched_request r = request(1, 512, 1);
	char why[512];

	(void)state;
	fixture_init(&f);
	p.ram_weight_multiplier = -1.0;
	assert_int_equal(sched_select(&f.plugins, f.hosts, 3, &r, &p, why,
	    sizeof why), 3);
	assert_string_equal(f.hosts[0].node->host, "h1");
	assert_string_equal(f.hosts[1].node->host, "h3");
	assert_string_equal(f.hosts[2].node->host, "h2");
}

static void test_select_filters_and_retry(void **state)
{
	static const char *const tried[] = { "h2" };
	struct fixture f;
	struct sched_policy p = policy();
	struct sched_request r = request(1, 1536, 1);
	char why[512];

	(void)state;
	fixture_init(&f);
	f.svcs[2].disabled = true;    /* h3 out */
	r.ignore_hosts = tried;       /* h2 out */
	r.n_ignore_hosts = 1;
	/* h1 has only 1024 MB free */
	assert_int_equal(sched_select(&f.plugins, f.hosts, 3, &r, &p, why,
	    sizeof why), 0);
	assert_non_null(strstr(why, "RetryFilter: (start: 3, end: 2)"));
	assert_non_null(strstr(why, "ComputeFilter: (start: 2, end: 1)"));
	assert_non_null(strstr(why, "RamFilter: (start: 1, end: 0)"));
	r.memory_mb = 1024;
	fixture_init(&f);
	f.svcs[2].disabled = true;
	assert_int_equal(sched_select(&f.plugins, f.hosts, 3, &r, &p, why,
	    sizeof why), 1);
	assert_string_equal(f.hosts[0].node->host, "h1");
}

static void test_select_ties_and_empty(void **state)
{
	struct fixture f;
	struct sched_policy p = policy();
	struct sched_request r = request(1, 1, 1);
	char why[512];

	(void)state;
	fixture_init(&f);
	for (int i = 0; i < 3; i++)
		f.nodes[i].memory_mb_used = 0;
	/* equal weights: ordered by name, every time */
	f.hosts[0].node = &f.nodes[2];
	f.hosts[2].node = &f.nodes[0];
	f.hosts[0].service = &f.svcs[2];
	f.hosts[2].service = &f.svcs[0];
	assert_int_equal(sched_select(&f.plugins, f.hosts, 3, &r, &p, why,
	    sizeof why), 3);
	assert_string_equal(f.hosts[0].node->host, "h1");
	assert_string_equal(f.hosts[2].node->host, "h3");
	assert_int_equal(sched_select(&f.plugins, f.hosts, 0, &r, &p, why,
	    sizeof why), 0);
}

static void test_plugins_by_name(void **state)
{
	struct sched_plugins pl;
	char err[256] = "";

	(void)state;
	assert_int_equal(sched_plugins_load(&pl, " RamFilter ,ComputeFilter,",
	    "", err, sizeof err), 0);
	assert_int_equal(pl.n_filters, 2);
	assert_string_equal(pl.filters[0]->name, "RamFilter");
	assert_string_equal(pl.filters[1]->name, "ComputeFilter");
	assert_int_equal(pl.n_weighers, 0);
	assert_int_equal(sched_plugins_load(&pl, "RamFilter,NoSuchFilter",
	    "RamWeigher", err, sizeof err), -1);
	assert_non_null(strstr(err, "'NoSuchFilter'"));
	assert_non_null(strstr(err, "enabled_filters"));
	assert_int_equal(sched_plugins_load(&pl, "RamFilter", "CPUWeigher",
	    err, sizeof err), -1);
	assert_non_null(strstr(err, "'CPUWeigher'"));
	assert_int_equal(sched_plugins_load(&pl, "RamFilter,RamFilter", "",
	    err, sizeof err), -1);
	assert_null(sched_filter_find("ramfilter"));
	assert_non_null(sched_weigher_find("RamWeigher"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ram_exact_limit),
		cmocka_unit_test(test_core_ratio),
		cmocka_unit_test(test_disk_and_size),
		cmocka_unit_test(test_compute_filter),
		cmocka_unit_test(test_az_filter),
		cmocka_unit_test(test_select_spread),
		cmocka_unit_test(test_select_stack),
		cmocka_unit_test(test_select_filters_and_retry),
		cmocka_unit_test(test_select_ties_and_empty),
		cmocka_unit_test(test_plugins_by_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
