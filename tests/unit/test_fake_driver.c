/*
 * Unit tests of kumo-compute's driver layer: the fake driver's ops and
 * knobs, the driver table, and what the compute checks and serialises
 * before a driver sees a request (args.c, locks.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/states.h"
#include "compute/compute.h"

#define UUID1 "11111111-2222-4333-8444-555555555555"
#define UUID2 "11111111-2222-4333-8444-666666666666"

static struct virt_driver *fake(bool fail, int delay_ms)
{
	struct kumo_conf conf;
	struct virt_driver *d;
	char err[256] = "";

	assert_int_equal(conf_load(&conf, NULL, err, sizeof err), 0);
	snprintf(conf.compute_driver, sizeof conf.compute_driver, "fake");
	snprintf(conf.host, sizeof conf.host, "cmp1");
	conf.fake_vcpus = 8;
	conf.fake_memory_mb = 4096;
	conf.fake_local_gb = 40;
	conf.fake_spawn_fail = fail;
	conf.fake_spawn_delay_ms = delay_ms;
	d = virt_driver_new(&conf, err, sizeof err);
	assert_non_null(d);
	return d;
}

static struct virt_instance instance(const char *uuid)
{
	struct virt_instance i;

	memset(&i, 0, sizeof i);
	snprintf(i.uuid, sizeof i.uuid, "%s", uuid);
	snprintf(i.name, sizeof i.name, "vm");
	i.vcpus = 2;
	i.memory_mb = 512;
	i.root_gb = 1;
	return i;
}

static void test_lifecycle(void **state)
{
	struct virt_driver *d = fake(false, 0);
	struct virt_instance i = instance(UUID1);
	struct virt_info info;
	char reason[256] = "", *console = NULL;

	(void)state;
	assert_int_equal(d->ops->spawn(d, &i, reason, sizeof reason), VIRT_OK);
	assert_int_equal(d->ops->spawn(d, &i, reason, sizeof reason),
	    VIRT_EXISTS);
	assert_int_equal(d->ops->get_info(d, UUID1, &info), VIRT_OK);
	assert_int_equal(info.power_state, POWER_RUNNING);
	assert_int_equal(info.vcpus, 2);
	assert_int_equal(d->ops->power_off(d, UUID1), VIRT_OK);
	assert_int_equal(d->ops->get_info(d, UUID1, &info), VIRT_OK);
	assert_int_equal(info.power_state, POWER_SHUTDOWN);
	assert_int_equal(d->ops->power_on(d, UUID1), VIRT_OK);
	assert_int_equal(d->ops->reboot(d, UUID1, true), VIRT_OK);
	assert_int_equal(d->ops->get_info(d, UUID1, &info), VIRT_OK);
	assert_int_equal(info.power_state, POWER_RUNNING);
	assert_int_equal(d->ops->get_console_output(d, UUID1, &console),
	    VIRT_OK);
	assert_non_null(strstr(console, UUID1));
	free(console);
	assert_int_equal(d->ops->destroy(d, UUID1), VIRT_OK);
	assert_int_equal(d->ops->destroy(d, UUID1), VIRT_NOTFOUND);
	assert_int_equal(d->ops->get_info(d, UUID1, &info), VIRT_NOTFOUND);
	assert_int_equal(d->ops->power_on(d, UUID2), VIRT_NOTFOUND);
	assert_int_equal(d->ops->reboot(d, UUID2, false), VIRT_NOTFOUND);
	assert_int_equal(d->ops->get_console_output(d, UUID2, &console),
	    VIRT_NOTFOUND);
	virt_driver_free(d);
}

static void test_list_and_resources(void **state)
{
	struct virt_driver *d = fake(false, 0);
	struct virt_instance a = instance(UUID1), b = instance(UUID2);
	struct virt_host_resources res;
	char (*uuids)[UUID_STR_LEN] = NULL, reason[64];
	size_t n = 99;

	(void)state;
	assert_int_equal(d->ops->list_instances(d, &uuids, &n), VIRT_OK);
	assert_int_equal(n, 0);
	free(uuids);
	d->ops->spawn(d, &a, reason, sizeof reason);
	d->ops->spawn(d, &b, reason, sizeof reason);
	assert_int_equal(d->ops->list_instances(d, &uuids, &n), VIRT_OK);
	assert_int_equal(n, 2);
	assert_true(strcmp(uuids[0], UUID1) == 0 || strcmp(uuids[1], UUID1) == 0);
	free(uuids);
	assert_int_equal(d->ops->host_resources(d, &res), VIRT_OK);
	assert_int_equal(res.vcpus, 8);
	assert_int_equal(res.memory_mb, 4096);
	assert_int_equal(res.local_gb, 40);
	assert_string_equal(res.hypervisor_type, "fake");
	assert_string_equal(res.hypervisor_hostname, "cmp1");
	virt_driver_free(d);
}

static void test_spawn_fail_knob(void **state)
{
	struct virt_driver *d = fake(true, 0);
	struct virt_instance i = instance(UUID1);
	struct virt_info info;
	char reason[256] = "";

	(void)state;
	assert_int_equal(d->ops->spawn(d, &i, reason, sizeof reason),
	    VIRT_ERROR);
	assert_non_null(strstr(reason, "spawn_fail"));
	assert_int_equal(d->ops->get_info(d, UUID1, &info), VIRT_NOTFOUND);
	virt_driver_free(d);
}

static void test_spawn_delay_knob(void **state)
{
	struct virt_driver *d = fake(false, 100);
	struct virt_instance i = instance(UUID1);
	char reason[64];
	uint64_t t0 = now_ms();

	(void)state;
	assert_int_equal(d->ops->spawn(d, &i, reason, sizeof reason), VIRT_OK);
	assert_true(now_ms() - t0 >= 100);
	virt_driver_free(d);
}

static void test_driver_table(void **state)
{
	struct kumo_conf conf;
	char err[256] = "";

	(void)state;
	assert_int_equal(conf_load(&conf, NULL, err, sizeof err), 0);
	snprintf(conf.compute_driver, sizeof conf.compute_driver, "libvirt");
	snprintf(conf.libvirt_connection_uri,
	    sizeof conf.libvirt_connection_uri, "test:///nonexistent/kumo.xml");
	assert_null(virt_driver_new(&conf, err, sizeof err));
	assert_non_null(strstr(err, "nonexistent"));  /* libvirt's reason */
	snprintf(conf.compute_driver, sizeof conf.compute_driver, "xen");
	assert_null(virt_driver_new(&conf, err, sizeof err));
	assert_non_null(strstr(err, "unknown driver"));
	virt_driver_free(NULL);
}

#define THREADS 8
#define PER_THREAD 50

static void *spawner(void *arg)
{
	struct virt_driver *d = arg;
	struct virt_instance i;
	char reason[64];

	for (int k = 0; k < PER_THREAD; k++) {
		i = instance(UUID1);
		uuid_new_str(i.uuid);
		if (d->ops->spawn(d, &i, reason, sizeof reason) != VIRT_OK)
			return arg;
		if (k % 2 && d->ops->destroy(d, i.uuid) != VIRT_OK)
			return arg;
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct virt_driver *d = fake(false, 0);
	char (*uuids)[UUID_STR_LEN] = NULL;
	pthread_t th[THREADS];
	void *ret;
	size_t n;

	(void)state;
	for (int t = 0; t < THREADS; t++)
		assert_int_equal(pthread_create(&th[t], NULL, spawner, d), 0);
	for (int t = 0; t < THREADS; t++) {
		pthread_join(th[t], &ret);
		assert_null(ret);
	}
	assert_int_equal(d->ops->list_instances(d, &uuids, &n), VIRT_OK);
	assert_int_equal(n, THREADS * PER_THREAD / 2);
	free(uuids);
	virt_driver_free(d);
}

static void test_instance_args(void **state)
{
	struct rpc_error err;
	struct virt_instance i;
	json_t *good = json_pack("{s:s, s:s, s:i, s:i, s:i, s:i, s:i, s:s, "
	    "s:s, s:s, s:s}", "uuid", UUID1, "name", "vm1", "vcpus", 2,
	    "memory_mb", 512, "root_gb", 1, "ephemeral_gb", 0, "swap", 0,
	    "image_ref", UUID2, "flavorid", "1", "project_id", "p",
	    "user_id", "u");
	json_t *bad;

	(void)state;
	assert_int_equal(compute_args_instance(good, &i, &err), 0);
	assert_string_equal(i.uuid, UUID1);
	assert_int_equal(i.memory_mb, 512);
	bad = json_deep_copy(good);
	json_object_set_new(bad, "uuid", json_string("not-a-uuid"));
	assert_int_equal(compute_args_instance(bad, &i, &err), -1);
	json_object_set_new(bad, "uuid", json_string(UUID1));
	json_object_set_new(bad, "vcpus", json_string("2"));
	assert_int_equal(compute_args_instance(bad, &i, &err), -1);
	assert_non_null(strstr(err.message, "vcpus"));
	json_object_set_new(bad, "vcpus", json_integer(0));
	assert_int_equal(compute_args_instance(bad, &i, &err), -1);
	json_object_set_new(bad, "vcpus", json_integer(1));
	json_object_del(bad, "flavorid");
	assert_int_equal(compute_args_instance(bad, &i, &err), -1);
	assert_int_equal(compute_args_instance(json_null(), &i, &err), -1);
	json_decref(bad);
	json_decref(good);
}

/* A second holder of an instance waits for the first (a terminate during
 * a spawn); other instances do not. */
struct lock_run {
	struct compute_locks *l;
	int *order;
	int mark;
};

static void *second_holder(void *arg)
{
	struct lock_run *r = arg;

	compute_lock(r->l, UUID1);
	*r->order = r->mark;
	compute_unlock(r->l, UUID1);
	return NULL;
}

static void test_instance_locks(void **state)
{
	struct compute_locks l;
	struct lock_run r;
	pthread_t th;
	int order = 0;

	(void)state;
	compute_locks_init(&l);
	assert_int_equal(compute_lock(&l, UUID1), 0);
	assert_int_equal(compute_lock(&l, UUID2), 0); /* not blocked */
	r = (struct lock_run){ &l, &order, 2 };
	pthread_create(&th, NULL, second_holder, &r);
	usleep(50000);
	assert_int_equal(order, 0);  /* still waiting */
	compute_unlock(&l, UUID1);
	pthread_join(th, NULL);
	assert_int_equal(order, 2);
	compute_unlock(&l, UUID2);
	compute_locks_fini(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lifecycle),
		cmocka_unit_test(test_list_and_resources),
		cmocka_unit_test(test_spawn_fail_knob),
		cmocka_unit_test(test_spawn_delay_knob),
		cmocka_unit_test(test_driver_table),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_instance_args),
		cmocka_unit_test(test_instance_locks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
