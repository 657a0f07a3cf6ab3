/*
 * The fake driver: instances are rows in memory, as Nova's FakeDriver.
 * Capacity comes from [fake] vcpus, memory_mb and local_gb; two test knobs
 * slow spawns down ([fake] spawn_delay_ms) or make every spawn fail
 * ([fake] spawn_fail). Thread-safe: one mutex over the table, never held
 * while a spawn sleeps.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/states.h"
#include "compute/virt/virt.h"

struct fake_vm {
	char uuid[UUID_STR_LEN];
	int vcpus;
	int memory_mb;
	int power_state;
};

struct fake {
	pthread_mutex_t lock;
	struct fake_vm *vms;
	size_t n, cap;
	struct virt_host_resources res;
	int spawn_delay_ms;
	bool spawn_fail;
};

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
	f->n++;
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
	if ((i = find(f, uuid)) >= 0)
		f->vms[i] = f->vms[--f->n];
	pthread_mutex_unlock(&f->lock);
	return i >= 0 ? VIRT_OK : VIRT_NOTFOUND;
}

/* Sets the power state of uuid; the shared body of the power ops. */
static int set_power(struct virt_driver *d, const char *uuid, int state)
{
	struct fake *f = d->impl;
	ssize_t i;

	pthread_mutex_lock(&f->lock);
	if ((i = find(f, uuid)) >= 0)
		f->vms[i].power_state = state;
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
	d->ops = &fake_ops;
	d->impl = f;
	return d;
}
