/* libvirt's entry points, resolved at run time (libvirt_load.h). */
#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "compute/virt/libvirt_load.h"

_Static_assert(sizeof(void *) == sizeof(void (*)(void)),
    "dlsym's void * must hold a function's address");

/* Where each function's address goes: the table's member, by name. */
static const struct {
	const char *name;
	size_t offset;
} symbols[] = {
#define LIBVIRT_SYMBOL(f) { "vir" #f, offsetof(struct libvirt_api, f) },
	LIBVIRT_FUNCS(LIBVIRT_SYMBOL)
#undef LIBVIRT_SYMBOL
};

int libvirt_load(const char *soname, struct libvirt_api *out, char *err,
    size_t errlen)
{
	struct libvirt_api api;
	const char *e;
	void *h, *f;

	if ((h = dlopen(soname, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		e = dlerror();
		snprintf(err, errlen, "compute_driver = libvirt needs %s (Debian "
		    "package libvirt0): %s", soname, e != NULL ? e : "not found");
		return -1;
	}
	for (size_t i = 0; i < sizeof symbols / sizeof *symbols; i++) {
		if ((f = dlsym(h, symbols[i].name)) == NULL) {
			snprintf(err, errlen, "%s has no %s: libvirt too old or "
			    "not libvirt", soname, symbols[i].name);
			dlclose(h);
			return -1;
		}
		/* POSIX: a function's address from dlsym converts back. */
		memcpy((char *)&api + symbols[i].offset, &f, sizeof f);
	}
	*out = api;
	return 0;
}
