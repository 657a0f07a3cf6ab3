/* libvirt's entry points, resolved at run time (libvirt_load.h). */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "common/common.h"
#include "compute/virt/libvirt_load.h"

/* Where each function's address goes: the table's member, by name. */
static const struct dl_symbol symbols[] = {
#define LIBVIRT_SYMBOL(f) { "vir" #f, offsetof(struct libvirt_api, f) },
	LIBVIRT_FUNCS(LIBVIRT_SYMBOL)
#undef LIBVIRT_SYMBOL
};

int libvirt_load(const char *soname, struct libvirt_api *out, char *err,
    size_t errlen)
{
	char need[128];

	snprintf(need, sizeof need, "compute_driver = libvirt needs %s (Debian "
	    "package libvirt0)", soname);
	if (dl_load_table(soname, symbols, sizeof symbols / sizeof *symbols, out,
	    need, err, errlen) < 0) {
		if (strstr(err, " has no ") != NULL)
			strncat(err, ": libvirt too old or not libvirt",
			    errlen - strlen(err) - 1);
		return -1;
	}
	return 0;
}
