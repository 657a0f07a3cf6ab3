/*
 * Unit tests of the fake driver's reconciliation knobs ([fake]
 * power_off_after_ms and persist) and of the lock count compute/sync.c
 * relies on to notice operations that ran during a sync.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/states.h"
#include "compute/compute.h"

#define UUID1 "11111111-2222-4333-8444-555555555555"
#define UUID2 "11111111-2222-4333-8444-666666666666"

static struct virt_driver *fake(int power_off_after_ms, const char *state_path,
    char *err, size_t errlen)
{
	struct kumo_conf conf;

	assert_int_equal(conf_load(&conf, NULL, err, errlen), 0);
	snprintf(conf.compute_driver, sizeof conf.compute_driver, "fake");
	snprintf(conf.host, sizeof conf.host, "cmp1");
	conf.fake_power_off_after_ms = power_off_after_ms;
	if (state_path != NULL) {
		conf.fake_persist = true;
		snprintf(conf.state_path, sizeof conf.state_path, "%s",
		    state_path);
	}
	return virt_driver_new(&conf, err, errlen);
}

static void spawn(struct virt_driver *d, const char *uuid)
{
	struct virt_instance i;
	char reason[256] = "";

	memset(&i, 0, sizeof i);
	snprintf(i.uuid, sizeof i.uuid, "%s", uuid);
	i.vcpus = 1;
	i.memory_mb = 128;
	assert_int_equal(d->ops->spawn(d, &i, reason, sizeof reason), VIRT_OK);
}

static int power(struct virt_driver *d, const char *uuid)
{
	struct virt_info info;

	assert_int_equal(d->ops->get_info(d, uuid, &info), VIRT_OK);
	return info.power_state;
}

static void test_power_off_after(void **state)
{
	char err[256] = "";
	struct virt_driver *d = fake(100, NULL, err, sizeof err);

	(void)state;
	assert_non_null(d);
	spawn(d, UUID1);
	assert_int_equal(power(d, UUID1), POWER_RUNNING);
	usleep(150000);
	assert_int_equal(power(d, UUID1), POWER_SHUTDOWN);
	/* Started again, the clock starts again. */
	assert_int_equal(d->ops->power_on(d, UUID1), VIRT_OK);
	assert_int_equal(power(d, UUID1), POWER_RUNNING);
	usleep(150000);
	assert_int_equal(power(d, UUID1), POWER_SHUTDOWN);
	virt_driver_free(d);
}

static void test_persist(void **state)
{
	char dir[] = "/tmp/kumo-fake-XXXXXX", path[128], err[256] = "";
	char (*uuids)[UUID_STR_LEN] = NULL;
	struct virt_driver *d;
	size_t n = 0;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/fake-instances.json", dir);
	d = fake(0, dir, err, sizeof err);
	assert_non_null(d);
	spawn(d, UUID1);
	spawn(d, UUID2);
	assert_int_equal(d->ops->power_off(d, UUID2), VIRT_OK);
	virt_driver_free(d);

	/* A restart finds both, with their power states. */
	d = fake(0, dir, err, sizeof err);
	assert_non_null(d);
	assert_int_equal(d->ops->list_instances(d, &uuids, &n), VIRT_OK);
	assert_int_equal(n, 2);
	free(uuids);
	assert_int_equal(power(d, UUID1), POWER_RUNNING);
	assert_int_equal(power(d, UUID2), POWER_SHUTDOWN);
	assert_int_equal(d->ops->destroy(d, UUID1), VIRT_OK);
	virt_driver_free(d);

	d = fake(0, dir, err, sizeof err);
	assert_non_null(d);
	assert_int_equal(d->ops->get_info(d, UUID1, &(struct virt_info){ 0 }),
	    VIRT_NOTFOUND);
	assert_int_equal(power(d, UUID2), POWER_SHUTDOWN);
	virt_driver_free(d);

	/* A file of another shape stops the start, naming the file. */
	assert_non_null(f = fopen(path, "w"));
	fputs("[{\"uuid\": \"not-a-uuid\", \"vcpus\": 1, \"memory_mb\": 1, "
	    "\"power_state\": 1}]", f);
	fclose(f);
	assert_null(fake(0, dir, err, sizeof err));
	assert_non_null(strstr(err, "fake-instances.json: bad entry 0"));
	unlink(path);
	rmdir(dir);
}

static void test_locks_taken(void **state)
{
	struct compute_locks l;

	(void)state;
	compute_locks_init(&l);
	assert_int_equal(compute_locks_taken(&l), 0);
	assert_int_equal(compute_lock(&l, UUID1), 0);
	assert_int_equal(compute_lock(&l, UUID2), 0);
	compute_unlock(&l, UUID1);
	compute_unlock(&l, UUID2);
	assert_int_equal(compute_locks_taken(&l), 2);
	compute_locks_fini(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_power_off_after),
		cmocka_unit_test(test_persist),
		cmocka_unit_test(test_locks_taken),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
