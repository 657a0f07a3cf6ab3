/*
 * The fake driver: instances are rows in memory, as Nova's FakeDriver.
 * Capacity comes from [fake] vcpus, memory_mb and local_gb. Test knobs:
 *   spawn_delay_ms      every spawn sleeps this long
 *   spawn_fail          every spawn fails
 *   power_off_after_ms  a guest powers itself off this long after it last
 *                       started (spawn, power on, reboot, driver start):
 *                       what the compute's power state sync must notice
 *   persist             the table is kept in <state_path>/fake-instances.json
 *                       (rewritten on every change, read at start), so that
 *                       "domains" outlive a restart of kumo-compute, as
 *                       libvirt's do
 * Thread-safe: one mutex over the table (and its file), never held while
 * a spawn sleeps.
 */
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/states.h"
#include "compute/virt/virt.h"

#define FAKE_FILE "fake-instances.json"

struct fake_vm {
	char uuid[UUID_STR_LEN];
	int vcpus;
	int memory_mb;
	int power_state;
	uint64_t started_ms;        /* now_ms() when it last started */
};

struct fake {
	pthread_mutex_t lock;
	struct fake_vm *vms;
	size_t n, cap;
	struct virt_host_resources res;
	int spawn_delay_ms;
	bool spawn_fail;
	int power_off_after_ms;     /* 0 = guests never stop by themselves */
	char path[PATH_MAX];        /* the table's file; "" = not persisted */
};

/* The table as JSON: [{"uuid", "vcpus", "memory_mb", "power_state"}...]. */
static json_t *table_json(const struct fake *f)
{
	json_t *a = json_array(), *e;

	for (size_t i = 0; a != NULL && i < f->n; i++) {
		e = json_pack("{s:s, s:i, s:i, s:i}", "uuid", f->vms[i].uuid,
		    "vcpus", f->vms[i].vcpus, "memory_mb", f->vms[i].memory_mb,
		    "power_state", f->vms[i].power_state);
		if (e == NULL || json_array_append_new(a, e) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* Rewrites the table's file (write, then rename), when persisted. Called
 * with the lock held after every change; a failure is logged, the change
 * stays in memory. */
static void save(const struct fake *f)
{
	char tmp[PATH_MAX + 8];
	json_t *a;
	int rc;

	if (f->path[0] == '\0')
		return;
	if (str_fmt(tmp, sizeof tmp, "%s.tmp", f->path) < 0 ||
	    (a = table_json(f)) == NULL) {
		log_warnx("fake driver: %s not saved", f->path);
		return;
	}
	rc = json_dump_file(a, tmp, JSON_COMPACT);
	json_decref(a);
	if (rc < 0 || rename(tmp, f->path) < 0)
		log_warn("fake driver: %s not saved", f->path);
}

/* Powers off a guest whose time is up ([fake] power_off_after_ms). Lock
 * held. */
static void settle(const struct fake *f, struct fake_vm *vm)
{
	if (f->power_off_after_ms > 0 && vm->power_state == POWER_RUNNING &&
	    now_ms() - vm->started_ms >= (uint64_t)f->power_off_after_ms) {
		vm->power_state = POWER_SHUTDOWN;
		save(f);
	}
}

/* Index of uuid in f->vms, or -1. Called with the lock held. */
static ssize_t find(const struct fake *f, const char *uuid)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->vms[i].uuid, uuid) == 0)
			return (ssize_t)i;
	return -1;
}

static int add(struct fake *f, const struct virt_instance *inst)
{
	struct fake_vm *vms;
	size_t cap;

	if (find(f, inst->uuid) >= 0)
		return VIRT_EXISTS;
	if (f->n == f->cap) {
		cap = f->cap ? f->cap * 2 : 16;
		if ((vms = realloc(f->vms, cap * sizeof *vms)) == NULL)
			return VIRT_ERROR;
		f->vms = vms;
		f->cap = cap;
	}
	memset(&f->vms[f->n], 0, sizeof f->vms[f->n]);
	str_copy(f->vms[f->n].uuid, inst->uuid, sizeof f->vms[f->n].uuid);
	f->vms[f->n].vcpus = inst->vcpus;
	f->vms[f->n].memory_mb = inst->memory_mb;
	f->vms[f->n].power_state = POWER_RUNNING;
	f->vms[f->n].started_ms = now_ms();
	f->n++;
	save(f);
	return VIRT_OK;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int fake_spawn(struct virt_driver *d, const struct virt_instance *inst,
    char *reason, size_t reasonlen)
{
	struct fake *f = d->impl;
	int rc;

	if (f->spawn_delay_ms > 0)
		sleep_ms(f->spawn_delay_ms);
	if (f->spawn_fail) {
		snprintf(reason, reasonlen, "fake driver: spawn failed "
		    "([fake] spawn_fail is set)");
		return VIRT_ERROR;
	}
	pthread_mutex_lock(&f->lock);
	rc = add(f, inst);
	pthread_mutex_unlock(&f->lock);
	if (rc == VIRT_EXISTS)
		snprintf(reason, reasonlen, "instance %s already exists",
		    inst->uuid);
	else if (rc != VIRT_OK)
		snprintf(reason, reasonlen, "fake driver: out of memory");
	return rc;
}

static int fake_destroy(struct virt_driver *d, const char *uuid)
{
	struct fake *f = d->impl;
	ssize_t i;

	pthread_mutex_lock(&f->lock);
	if ((i = find(f, uuid)) >= 0) {
		f->vms[i] = f->vms[--f->n];
		save(f);
	}
	pthread_mutex_unlock(&f->lock);
	return i >= 0 ? VIRT_OK : VIRT_NOTFOUND;
}

/* Sets the power state of uuid; the shared body of the power ops. */
static int set_power(struct virt_driver *d, const char *uuid, int state)
{
	struct fake *f = d->impl;
	ssize_t i;

	pthread_mutex_lock(&f->lock);
	if ((i = find(f, uuid)) >= 0) {
		f->vms[i].power_state = state;
		if (state == POWER_RUNNING)
			f->vms[i].started_ms = now_ms();
		save(f);
	}
	pthread_mutex_unlock(&f->lock);
	return i >= 0 ? VIRT_OK : VIRT_NOTFOUND;
}

static int fake_reboot(struct virt_driver *d, const char *uuid, bool hard)
{
	(void)hard;
	return set_power(d, uuid, POWER_RUNNING);
}

static int fake_power_on(struct virt_driver *d, const char *uuid)
{
	return set_power(d, uuid, POWER_RUNNING);
}

static int fake_power_off(struct virt_driver *d, const char *uuid)
{
	return set_power(d, uuid, POWER_SHUTDOWN);
}

static int fake_get_info(struct virt_driver *d, const char *uuid,
    struct virt_info *out)
{
	struct fake *f = d->impl;
	ssize_t i;

	pthread_mutex_lock(&f->lock);
	if ((i = find(f, uuid)) >= 0) {
		settle(f, &f->vms[i]);
		out->power_state = f->vms[i].power_state;
		out->vcpus = f->vms[i].vcpus;
		out->memory_mb = f->vms[i].memory_mb;
	}
	pthread_mutex_unlock(&f->lock);
	return i >= 0 ? VIRT_OK : VIRT_NOTFOUND;
}

static int fake_get_console_output(struct virt_driver *d, const char *uuid,
    char **out)
{
	struct virt_info info;

	*out = NULL;
	if (fake_get_info(d, uuid, &info) != VIRT_OK)
		return VIRT_NOTFOUND;
	if (asprintf(out, "FAKE CONSOLE OUTPUT of %s\nkumo login: ", uuid) < 0) {
		*out = NULL;
		return VIRT_ERROR;
	}
	return VIRT_OK;
}

static int fake_host_resources(struct virt_driver *d,
    struct virt_host_resources *out)
{
	struct fake *f = d->impl;

	*out = f->res;
	return VIRT_OK;
}

static int fake_list_instances(struct virt_driver *d,
    char (**uuids)[UUID_STR_LEN], size_t *n)
{
	struct fake *f = d->impl;
	int rc = VIRT_OK;

	pthread_mutex_lock(&f->lock);
	*n = f->n;
	if ((*uuids = calloc(f->n ? f->n : 1, sizeof **uuids)) == NULL)
		rc = VIRT_ERROR;
	for (size_t i = 0; rc == VIRT_OK && i < f->n; i++)
		memcpy((*uuids)[i], f->vms[i].uuid, UUID_STR_LEN);
	pthread_mutex_unlock(&f->lock);
	if (rc != VIRT_OK)
		*n = 0;
	return rc;
}

static void fake_free(struct virt_driver *d)
{
	struct fake *f = d->impl;

	pthread_mutex_destroy(&f->lock);
	free(f->vms);
	free(f);
	free(d);
}

static const struct virt_ops fake_ops = {
	.name = "fake",
	.spawn = fake_spawn,
	.destroy = fake_destroy,
	.reboot = fake_reboot,
	.power_on = fake_power_on,
	.power_off = fake_power_off,
	.get_info = fake_get_info,
	.get_console_output = fake_get_console_output,
	.host_resources = fake_host_resources,
	.list_instances = fake_list_instances,
	.free = fake_free,
};

/* One entry of the table's file into the table. Lock not needed (start). */
static int load_one(struct fake *f, json_t *e)
{
	struct virt_instance inst;
	const char *uuid;
	int power;

	memset(&inst, 0, sizeof inst);
	if (json_unpack(e, "{s:s, s:i, s:i, s:i}", "uuid", &uuid, "vcpus",
	    &inst.vcpus, "memory_mb", &inst.memory_mb, "power_state",
	    &power) < 0 || !uuid_valid(uuid) || inst.vcpus < 0 ||
	    inst.memory_mb < 0 || (power != POWER_RUNNING &&
	    power != POWER_SHUTDOWN))
		return VIRT_ERROR;
	str_copy(inst.uuid, uuid, sizeof inst.uuid);
	if (add(f, &inst) != VIRT_OK)
		return VIRT_ERROR;
	f->vms[f->n - 1].power_state = power;
	return VIRT_OK;
}

/* Reads the table's file at start ([fake] persist); no file is an empty
 * table. -1 with a reason in err for a file of another shape. */
static int load(struct fake *f, const char *state_path, char *err,
    size_t errlen)
{
	char path[PATH_MAX];
	json_error_t je;
	struct stat st;
	json_t *a, *e;
	size_t i;

	if (str_fmt(path, sizeof path, "%s/" FAKE_FILE, state_path) < 0) {
		snprintf(err, errlen, "fake driver: state_path too long");
		return -1;
	}
	if (mkdir(state_path, 0755) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "fake driver: cannot create %s: %s",
		    state_path, strerror(errno));
		return -1;
	}
	if (stat(path, &st) == 0) {
		if ((a = json_load_file(path, 0, &je)) == NULL ||
		    !json_is_array(a)) {
			json_decref(a);
			snprintf(err, errlen, "fake driver: %s: not a JSON array",
			    path);
			return -1;
		}
		json_array_foreach(a, i, e) {
			if (load_one(f, e) != VIRT_OK) {
				json_decref(a);
				snprintf(err, errlen, "fake driver: %s: bad entry "
				    "%zu", path, i);
				return -1;
			}
		}
		json_decref(a);
	}
	str_copy(f->path, path, sizeof f->path);
	return 0;
}

struct virt_driver *virt_fake_new(const struct kumo_conf *conf, char *err,
    size_t errlen)
{
	struct virt_driver *d = calloc(1, sizeof *d);
	struct fake *f = calloc(1, sizeof *f);

	if (d == NULL || f == NULL) {
		snprintf(err, errlen, "fake driver: out of memory");
		free(d);
		free(f);
		return NULL;
	}
	pthread_mutex_init(&f->lock, NULL);
	f->res.vcpus = conf->fake_vcpus;
	f->res.memory_mb = conf->fake_memory_mb;
	f->res.local_gb = conf->fake_local_gb;
	str_copy(f->res.hypervisor_type, "fake", sizeof f->res.hypervisor_type);
	f->res.hypervisor_version = 1000; /* Nova's FakeDriver reports 1000 */
	str_copy(f->res.hypervisor_hostname, conf->host,
	    sizeof f->res.hypervisor_hostname);
	f->spawn_delay_ms = conf->fake_spawn_delay_ms;
	f->spawn_fail = conf->fake_spawn_fail;
	f->power_off_after_ms = conf->fake_power_off_after_ms;
	d->ops = &fake_ops;
	d->impl = f;
	if (conf->fake_persist && load(f, conf->state_path, err, errlen) < 0) {
		fake_free(d);
		return NULL;
	}
	return d;
}
