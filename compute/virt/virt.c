/* The virt drivers kumo-compute knows, by their compute_driver name. */
#include <stdio.h>
#include <string.h>

#include "compute/virt/virt.h"

static const struct {
	const char *name;
	struct virt_driver *(*new)(const struct kumo_conf *, char *, size_t);
} drivers[] = {
	{ "fake", virt_fake_new },
	{ "libvirt", virt_libvirt_new },
};

struct virt_driver *virt_driver_new(const struct kumo_conf *conf, char *err,
    size_t errlen)
{
	for (size_t i = 0; i < sizeof drivers / sizeof *drivers; i++) {
		if (strcmp(drivers[i].name, conf->compute_driver) != 0)
			continue;
		if (drivers[i].new == NULL) {
			snprintf(err, errlen, "compute_driver = %s: this driver is "
			    "not built yet; use compute_driver = fake",
			    conf->compute_driver);
			return NULL;
		}
		return drivers[i].new(conf, err, errlen);
	}
	snprintf(err, errlen, "compute_driver = %s: unknown driver",
	    conf->compute_driver);
	return NULL;
}

void virt_driver_free(struct virt_driver *d)
{
	if (d != NULL)
		d->ops->free(d);
}
