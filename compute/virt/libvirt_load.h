/*
 * The libvirt driver's view of libvirt: the entry points libvirt.c calls,
 * resolved from libvirt.so.0 at run time (libvirt_load.c), so that
 * kumo-compute maps libvirt and what it pulls in (GnuTLS, libxml2, glib,
 * ...) only when compute_driver = libvirt. Private to compute/virt/: only
 * libvirt.c and libvirt_load.c include it.
 */
#ifndef KUMO_LIBVIRT_LOAD_H
#define KUMO_LIBVIRT_LOAD_H

#include <stddef.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#define LIBVIRT_SONAME "libvirt.so.0"

/* Every function libvirt.c calls, without its "vir" prefix. A call of a
 * function missing here fails to link: kumo-compute does not link libvirt. */
#define LIBVIRT_FUNCS(X)                                                   \
	X(Initialize) X(SetErrorFunc) X(GetLastError)                      \
	X(ConnectOpen) X(ConnectClose) X(ConnectRef) X(ConnectIsAlive)     \
	X(ConnectGetVersion) X(ConnectGetHostname) X(ConnectListAllDomains) \
	X(NodeGetInfo)                                                     \
	X(DomainLookupByUUIDString) X(DomainDefineXML) X(DomainCreate)     \
	X(DomainUndefine) X(DomainUndefineFlags) X(DomainFree)             \
	X(DomainIsActive) X(DomainShutdown) X(DomainDestroy)               \
	X(DomainGetInfo) X(DomainGetName) X(DomainGetUUIDString)

/* vir.ConnectOpen(uri) calls virConnectOpen: the prototypes come from
 * libvirt's headers, so the compiler checks every call. */
struct libvirt_api {
#define LIBVIRT_MEMBER(f) __typeof__(vir##f) *f;
	LIBVIRT_FUNCS(LIBVIRT_MEMBER)
#undef LIBVIRT_MEMBER
};

/* Opens the library named soname and fills *out: 0, or -1 with a reason
 * in err (the library is not installed, or lacks a function) and the
 * library closed again. On success the library stays loaded until exit. */
int libvirt_load(const char *soname, struct libvirt_api *out, char *err,
    size_t errlen);

#endif
