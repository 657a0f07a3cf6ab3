/*
 * compute/virt/: hypervisor drivers behind one ops struct (STYLE 8), as
 * Nova's ComputeDriver. kumo-compute calls only these; a driver's own
 * types (libvirt's, the fake's) never leave its file.
 *
 *   virt.c         the table of drivers, chosen by [DEFAULT] compute_driver
 *   fake.c         in memory, for tests and benchmarks ([fake] knobs)
 *   libvirt.c      real VMs through libvirt (QEMU/KVM), [libvirt] knobs
 *   libvirt_xml.c  the libvirt driver's domain XML (plain strings)
 *   libvirt_load.c libvirt's functions, loaded from libvirt.so.0 only when
 *                  the libvirt driver is made (kumo-compute does not link it)
 *
 * Every op may be called from several threads at once.
 */
#ifndef KUMO_VIRT_H
#define KUMO_VIRT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/common.h"

enum virt_status {
	VIRT_OK = 0,
	VIRT_ERROR = -1,    /* the hypervisor failed; reason given or logged */
	VIRT_NOTFOUND = -2, /* no such instance on this host */
	VIRT_EXISTS = -3,   /* spawn of an instance already here */
};

struct configdrive;

#define VIRT_NAME 256
#define VIRT_MAX_NICS 8

/* A guest NIC as the hypervisor plugs it. */
struct virt_nic {
	char mac[18];
	char bridge[16];            /* vif_type bridge: the host's bridge */
	char vif_id[UUID_STR_LEN];  /* names the TAP device: tap<vif_id[:11]> */
	int mtu;
};

/* What a driver needs to build an instance (the RPC "instance" object). */
struct virt_instance {
	char uuid[UUID_STR_LEN];
	char name[VIRT_NAME];
	int vcpus;
	int memory_mb;
	int root_gb;
	int ephemeral_gb;
	int swap;                   /* MiB */
	char image_ref[UUID_STR_LEN];
	char flavorid[VIRT_NAME];
	char project_id[VIRT_NAME];
	char user_id[VIRT_NAME];
	/* The image, as the compute's image cache has it on local disk
	 * (all "" when unused; the fake driver ignores them). A disk, or a
	 * kernel for direct boot, or both. Paths are absolute. */
	char disk_path[PATH_MAX];   /* base image file; the instance's disk
	                               is an overlay on it */
	char disk_format[16];       /* "raw" or "qcow2" */
	char kernel_path[PATH_MAX]; /* direct kernel boot when set */
	char ramdisk_path[PATH_MAX];
	char cmdline[1024];         /* kernel command line ("" = console=ttyS0) */
	/* the NICs the controller gave (nics_given); a build without that
	 * list (virt-drive, older controllers) gets one NIC of the driver's
	 * vif_type with a MAC made from the uuid */
	struct virt_nic nics[VIRT_MAX_NICS];
	size_t n_nics;
	bool nics_given;
	/* the config drive to attach (NULL: none); the driver writes it into
	 * the instance's directory (compute/configdrive.c) */
	const struct configdrive *config_drive;
	const char *config_drive_format;  /* "iso9660" or "vfat" */
};

/* The host's capacity, reported to the conductor. */
struct virt_host_resources {
	int vcpus;
	int memory_mb;
	int local_gb;
	char hypervisor_type[32];   /* "fake", "QEMU" */
	int hypervisor_version;     /* major * 1000000 + minor * 1000 + micro */
	char hypervisor_hostname[VIRT_NAME];
};

struct virt_info {
	int power_state;            /* enum power_state (common/states.h) */
	int vcpus;
	int memory_mb;
};

struct virt_driver;

struct virt_ops {
	const char *name;
	/* VIRT_OK, or an error with a one-line reason for the user's fault. */
	int (*spawn)(struct virt_driver *d, const struct virt_instance *inst,
	    char *reason, size_t reasonlen);
	/* Stops and removes the instance; VIRT_NOTFOUND when absent. */
	int (*destroy)(struct virt_driver *d, const char *uuid);
	int (*reboot)(struct virt_driver *d, const char *uuid, bool hard);
	int (*power_on)(struct virt_driver *d, const char *uuid);
	int (*power_off)(struct virt_driver *d, const char *uuid);
	int (*get_info)(struct virt_driver *d, const char *uuid,
	    struct virt_info *out);
	/* *out: a NUL-terminated string the caller frees (the libvirt
	 * driver's: at most the last 1 MiB of the log, valid UTF-8). */
	int (*get_console_output)(struct virt_driver *d, const char *uuid,
	    char **out);
	int (*host_resources)(struct virt_driver *d,
	    struct virt_host_resources *out);
	/* *uuids: an array of *n uuids the caller frees with free(). */
	int (*list_instances)(struct virt_driver *d,
	    char (**uuids)[UUID_STR_LEN], size_t *n);
	void (*free)(struct virt_driver *d);
};

struct virt_driver {
	const struct virt_ops *ops;
	void *impl;                 /* the driver's own state */
};

/* The driver named by conf->compute_driver, or NULL with a reason in err
 * (unknown name, a driver not built in, or its start-up failed). */
struct virt_driver *virt_driver_new(const struct kumo_conf *conf, char *err,
    size_t errlen);
void virt_driver_free(struct virt_driver *d);

/* ---- fake.c ---- */
struct virt_driver *virt_fake_new(const struct kumo_conf *conf, char *err,
    size_t errlen);

/* ---- libvirt.c ---- */
/* Loads libvirt (at the first call) and connects to [libvirt]
 * connection_uri; NULL with a reason in err, also when libvirt.so.0 is not
 * installed or lacks a function. */
struct virt_driver *virt_libvirt_new(const struct kumo_conf *conf, char *err,
    size_t errlen);

/* ---- libvirt_xml.c: the domain XML, separate so tests can read it ---- */
#define VIRT_DOMAIN_PREFIX "kumo-"  /* domain name = prefix + lower-case uuid */
#define VIRT_DOMAIN_NAME (sizeof VIRT_DOMAIN_PREFIX + UUID_STR_LEN)

struct virt_domain_spec {
	const struct virt_instance *inst;
	const char *virt_type;     /* "kvm" or "qemu" */
	const char *disk_path;     /* the instance's own disk (overlay), or "" */
	const char *console_path;  /* where the serial console is logged */
	const char *network;       /* a libvirt network's name; "" = user-mode NIC */
	const char *vif_type;      /* "bridge", "user", "network"; NULL: network
	                              when set, else user */
	const char *bridge;        /* vif_type bridge, a NIC without its own */
	const char *config_drive_path;   /* "" or NULL: none */
	const char *config_drive_format; /* "iso9660" (cdrom) or "vfat" (disk) */
};
/* A libvirt network name kumo accepts: 1-64 of [A-Za-z0-9_.-]. */
bool virt_network_name_ok(const char *name);

/* 0, or -1 with a reason when inst has a value of the wrong shape (uuid,
 * sizes, image paths, format, command line). */
int virt_instance_check(const struct virt_instance *inst, char *err,
    size_t errlen);
/* [libvirt] virt_type = auto: whether QEMU started through uri can use
 * the KVM device dev. It must open read-write here, and under
 * qemu:///system, where libvirt starts QEMU as its own user (a member of
 * the group kvm), the node must also let the group kvm, or everyone, read
 * and write it (udev makes it root:kvm 0660 or 0666; a node left 0600
 * root, as without udev, makes QEMU fail with "Could not access KVM
 * kernel module"). why says what was missing when it returns false. */
bool virt_kvm_usable(const char *dev, const char *uri, char *why, size_t whylen);
/* "kumo-<uuid>" in lower case; -1 when uuid is not a uuid. */
int virt_domain_name(const char *uuid, char *out, size_t outlen);
/* The domain XML (caller frees), or NULL with a reason in err. Checks the
 * instance as virt_instance_check does; every other string is escaped. */
char *virt_domain_xml(const struct virt_domain_spec *spec, char *err,
    size_t errlen);

#endif
