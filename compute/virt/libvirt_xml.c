/*
 * The libvirt driver's domain XML, built from plain strings (no libvirt
 * types here, so tests can check it alone). What comes from users (the
 * instance's name, project, flavor, the image's paths and kernel command
 * line) is a trust boundary (STYLE 20): paths and the command line are
 * checked for shape, everything else is escaped. Attributes are quoted
 * with ' and escaped like text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "compute/virt/virt.h"

#define MAX_VCPUS 256
#define MAX_MEMORY_MB (4 * 1024 * 1024)   /* 4 TiB */
#define MAX_ROOT_GB 65536

/* True when s holds no ASCII control character (XML 1.0 cannot carry
 * most of them, not even as references). */
static bool printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* An image file the caller named: absolute (so that neither qemu-img nor
 * qemu reads it as "proto:..." or relative to their cwd), printable, a
 * regular file. "" is fine when optional. */
static int check_path(const char *what, const char *path, bool required,
    char *err, size_t errlen)
{
	struct stat st;

	if (path[0] == '\0') {
		if (!required)
			return 0;
		snprintf(err, errlen, "no %s given", what);
		return -1;
	}
	if (path[0] != '/' || !printable(path)) {
		snprintf(err, errlen, "%s path is not an absolute printable path",
		    what);
		return -1;
	}
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s %s is not a readable file", what, path);
		return -1;
	}
	return 0;
}

static int check_sizes(const struct virt_instance *inst, char *err,
    size_t errlen)
{
	if (inst->vcpus < 1 || inst->vcpus > MAX_VCPUS ||
	    inst->memory_mb < 16 || inst->memory_mb > MAX_MEMORY_MB ||
	    inst->root_gb < 0 || inst->root_gb > MAX_ROOT_GB) {
		snprintf(err, errlen, "flavor out of range (vcpus %d, "
		    "memory_mb %d, root_gb %d)", inst->vcpus, inst->memory_mb,
		    inst->root_gb);
		return -1;
	}
	return 0;
}

int virt_instance_check(const struct virt_instance *inst, char *err,
    size_t errlen)
{
	bool kernel = inst->kernel_path[0] != '\0';

	if (!uuid_valid(inst->uuid)) {
		snprintf(err, errlen, "instance uuid is not a uuid");
		return -1;
	}
	if (check_sizes(inst, err, errlen) < 0)
		return -1;
	if (check_path("disk image", inst->disk_path, !kernel, err, errlen) < 0 ||
	    check_path("kernel", inst->kernel_path, false, err, errlen) < 0 ||
	    check_path("ramdisk", inst->ramdisk_path, false, err, errlen) < 0)
		return -1;
	if (inst->ramdisk_path[0] != '\0' && !kernel) {
		snprintf(err, errlen, "a ramdisk needs a kernel");
		return -1;
	}
	if (inst->disk_path[0] != '\0' && strcmp(inst->disk_format, "raw") != 0 &&
	    strcmp(inst->disk_format, "qcow2") != 0) {
		snprintf(err, errlen, "disk format must be raw or qcow2");
		return -1;
	}
	if (!printable(inst->cmdline)) {
		snprintf(err, errlen, "kernel command line has control characters");
		return -1;
	}
	return 0;
}

/* The NICs: a list of at most VIRT_MAX_NICS, each a unicast MAC, an
 * interface name for its bridge, and a port uuid (or none). */
static int check_nics(const struct virt_instance *inst, char *err,
    size_t errlen)
{
	if (inst->n_nics > VIRT_MAX_NICS) {
		snprintf(err, errlen, "more than %d NICs", VIRT_MAX_NICS);
		return -1;
	}
	for (size_t i = 0; i < inst->n_nics; i++) {
		const struct virt_nic *n = &inst->nics[i];

		if (!mac_valid(n->mac) || (n->bridge[0] != '\0' &&
		    !net_bridge_name_ok(n->bridge)) || (n->vif_id[0] != '\0' &&
		    !uuid_valid(n->vif_id)) || n->mtu < 0 || n->mtu > 65535) {
			snprintf(err, errlen, "NIC %zu is not of the right shape", i);
			return -1;
		}
	}
	return 0;
}

int virt_domain_name(const char *uuid, char *out, size_t outlen)
{
	size_t n = strlen(VIRT_DOMAIN_PREFIX);

	if (!uuid_valid(uuid) || outlen < n + UUID_STR_LEN)
		return -1;
	memcpy(out, VIRT_DOMAIN_PREFIX, n);
	for (size_t i = 0; i < UUID_STR_LEN; i++)
		out[n + i] = (char)(uuid[i] >= 'A' && uuid[i] <= 'F' ?
		    uuid[i] - 'A' + 'a' : uuid[i]);
	return 0;
}

/* s as XML text or attribute value; control characters (only ever in
 * free-text fields: paths are checked) become '?'. */
static void put_esc(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&apos;", f); break;
		default:
			fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
		}
	}
}

/* <tag>escaped text</tag> on a line of its own. */
static void put_elem(FILE *f, const char *indent, const char *tag,
    const char *text)
{
	fprintf(f, "%s<%s>", indent, tag);
	put_esc(f, text);
	fprintf(f, "</%s>\n", tag);
}

/* Who the domain is for, as Nova's <nova:instance> metadata. */
static void put_metadata(FILE *f, const struct virt_instance *inst)
{
	fputs("  <metadata>\n    <kumo:instance "
	    "xmlns:kumo='https://kumo.invalid/xmlns/instance/1.0'>\n", f);
	put_elem(f, "      ", "kumo:name", inst->name);
	put_elem(f, "      ", "kumo:flavor", inst->flavorid);
	put_elem(f, "      ", "kumo:image", inst->image_ref);
	put_elem(f, "      ", "kumo:project", inst->project_id);
	put_elem(f, "      ", "kumo:user", inst->user_id);
	fputs("    </kumo:instance>\n  </metadata>\n", f);
}

/* SMBIOS type 1: the guest reads the instance uuid as product_uuid. */
static void put_sysinfo(FILE *f, const char *uuid)
{
	fputs("  <sysinfo type='smbios'>\n    <system>\n"
	    "      <entry name='manufacturer'>kumo</entry>\n"
	    "      <entry name='product'>kumo compute</entry>\n"
	    "      <entry name='family'>Virtual Machine</entry>\n", f);
	fprintf(f, "      <entry name='serial'>%s</entry>\n"
	    "      <entry name='uuid'>%s</entry>\n"
	    "    </system>\n  </sysinfo>\n", uuid, uuid);
}

static void put_os(FILE *f, const struct virt_instance *inst)
{
	fputs("  <os>\n    <type arch='x86_64' machine='pc'>hvm</type>\n", f);
	if (inst->kernel_path[0] != '\0') {
		put_elem(f, "    ", "kernel", inst->kernel_path);
		if (inst->ramdisk_path[0] != '\0')
			put_elem(f, "    ", "initrd", inst->ramdisk_path);
		put_elem(f, "    ", "cmdline", inst->cmdline[0] != '\0' ?
		    inst->cmdline : "console=ttyS0");
	} else {
		fputs("    <boot dev='hd'/>\n", f);
	}
	fputs("    <smbios mode='sysinfo'/>\n  </os>\n", f);
}

bool virt_network_name_ok(const char *name)
{
	size_t n = strlen(name);

	return n >= 1 && n <= 64 && strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

static const char *vif_type_of(const struct virt_domain_spec *spec)
{
	if (spec->vif_type != NULL && spec->vif_type[0] != '\0')
		return spec->vif_type;
	return spec->network != NULL && spec->network[0] != '\0' ?
	    "network" : "user";
}

/* One NIC: on the host's bridge (a TAP named after the port, as Nova's
 * "tap" + port id[:11]), libvirt user-mode networking, or the named
 * libvirt network. */
static void put_nic(FILE *f, const struct virt_domain_spec *spec,
    const struct virt_nic *nic)
{
	const char *type = vif_type_of(spec);

	fprintf(f, "    <interface type='%s'>\n      <mac address='", type);
	put_esc(f, nic->mac);
	fputs("'/>\n", f);
	if (strcmp(type, "bridge") == 0) {
		fputs("      <source bridge='", f);
		put_esc(f, nic->bridge[0] ? nic->bridge :
		    spec->bridge ? spec->bridge : "");
		fputs("'/>\n", f);
		if (nic->vif_id[0] != '\0')
			fprintf(f, "      <target dev='tap%.11s'/>\n", nic->vif_id);
	} else if (strcmp(type, "network") == 0) {
		fputs("      <source network='", f);
		put_esc(f, spec->network ? spec->network : "");
		fputs("'/>\n", f);
	}
	fputs("      <model type='virtio'/>\n", f);
	/* libvirt 9.0 refuses an MTU on a user-mode NIC ("not supported yet") */
	if (nic->mtu > 0 && strcmp(type, "user") != 0)
		fprintf(f, "      <mtu size='%d'/>\n", nic->mtu);
	fputs("      <rom enabled='no'/>\n    </interface>\n", f);
}

/* The controller's NICs; without its list, one user-mode NIC (or on the
 * libvirt network when one is set) with a locally administered, stable
 * MAC from the uuid (52:54:00 is qemu's). */
static void put_nics(FILE *f, const struct virt_domain_spec *spec,
    const char *uuid)
{
	const struct virt_instance *inst = spec->inst;
	struct virt_domain_spec legacy = *spec;
	struct virt_nic one;

	if (inst->nics_given) {
		for (size_t i = 0; i < inst->n_nics; i++)
			put_nic(f, spec, &inst->nics[i]);
		return;
	}
	/* no address was given for it: not on the bridge */
	legacy.vif_type = NULL;
	spec = &legacy;
	memset(&one, 0, sizeof one);
	snprintf(one.mac, sizeof one.mac, "52:54:00:%.2s:%.2s:%.2s", uuid,
	    uuid + 2, uuid + 4);
	put_nic(f, spec, &one);
}

/* The config drive, as Nova's libvirt driver attaches it: an ISO as an
 * IDE cdrom (hda, the root being vda), vfat as a second virtio disk. */
static void put_config_drive(FILE *f, const struct virt_domain_spec *spec)
{
	bool vfat = spec->config_drive_format != NULL &&
	    strcmp(spec->config_drive_format, "vfat") == 0;

	if (spec->config_drive_path == NULL || spec->config_drive_path[0] == '\0')
		return;
	fprintf(f, "    <disk type='file' device='%s'>\n"
	    "      <driver name='qemu' type='raw'/>\n      <source file='",
	    vfat ? "disk" : "cdrom");
	put_esc(f, spec->config_drive_path);
	fprintf(f, "'/>\n      <target dev='%s' bus='%s'/>\n"
	    "      <readonly/>\n    </disk>\n", vfat ? "vdb" : "hda",
	    vfat ? "virtio" : "ide");
}

/* The serial console is a pty whose output libvirt logs to a file (through
 * virtlogd when it runs, which caps and rotates it: a guest cannot fill
 * the host's disk); append, so reboots keep the earlier boots' lines. */
static void put_devices(FILE *f, const struct virt_domain_spec *spec,
    const char *uuid)
{
	fputs("  <devices>\n", f);
	if (spec->disk_path[0] != '\0') {
		fputs("    <disk type='file' device='disk'>\n"
		    "      <driver name='qemu' type='qcow2'/>\n"
		    "      <source file='", f);
		put_esc(f, spec->disk_path);
		fputs("'/>\n      <target dev='vda' bus='virtio'/>\n"
		    "    </disk>\n", f);
	}
	put_config_drive(f, spec);
	put_nics(f, spec, uuid);
	fputs("    <serial type='pty'>\n      <log file='", f);
	put_esc(f, spec->console_path);
	fputs("' append='on'/>\n      <target port='0'/>\n    </serial>\n"
	    "    <console type='pty'>\n      <target type='serial' port='0'/>\n"
	    "    </console>\n"
	    "    <controller type='usb' model='none'/>\n"
	    "    <memballoon model='virtio'/>\n  </devices>\n", f);
}

static int check_spec(const struct virt_domain_spec *spec, char *err,
    size_t errlen)
{
	if (virt_instance_check(spec->inst, err, errlen) < 0 ||
	    check_nics(spec->inst, err, errlen) < 0)
		return -1;
	if ((spec->bridge != NULL && spec->bridge[0] != '\0' &&
	    !net_bridge_name_ok(spec->bridge)) ||
	    (spec->config_drive_path != NULL &&
	    spec->config_drive_path[0] != '\0' &&
	    spec->config_drive_path[0] != '/')) {
		snprintf(err, errlen, "bad bridge name or config drive path");
		return -1;
	}
	if (strcmp(spec->virt_type, "kvm") != 0 &&
	    strcmp(spec->virt_type, "qemu") != 0) {
		snprintf(err, errlen, "virt_type must be kvm or qemu");
		return -1;
	}
	if (spec->console_path[0] != '/' ||
	    (spec->disk_path[0] != '\0' && spec->disk_path[0] != '/')) {
		snprintf(err, errlen, "instance paths must be absolute");
		return -1;
	}
	return 0;
}

char *virt_domain_xml(const struct virt_domain_spec *spec, char *err,
    size_t errlen)
{
	const struct virt_instance *inst = spec->inst;
	char name[VIRT_DOMAIN_NAME], *uuid, *xml = NULL;
	size_t len = 0;
	FILE *f;
	int bad;

	if (check_spec(spec, err, errlen) < 0 ||
	    virt_domain_name(inst->uuid, name, sizeof name) < 0)
		return NULL;
	uuid = name + strlen(VIRT_DOMAIN_PREFIX);
	if ((f = open_memstream(&xml, &len)) == NULL)
		goto fail;
	fprintf(f, "<domain type='%s'>\n  <name>%s</name>\n  <uuid>%s</uuid>\n",
	    spec->virt_type, name, uuid);
	put_metadata(f, inst);
	fprintf(f, "  <memory unit='MiB'>%d</memory>\n  <vcpu>%d</vcpu>\n",
	    inst->memory_mb, inst->vcpus);
	put_sysinfo(f, uuid);
	put_os(f, inst);
	fputs("  <features>\n    <acpi/>\n    <apic/>\n  </features>\n", f);
	if (strcmp(spec->virt_type, "kvm") == 0)
		fputs("  <cpu mode='host-model'/>\n", f);
	fputs("  <clock offset='utc'/>\n  <on_poweroff>destroy</on_poweroff>\n"
	    "  <on_reboot>restart</on_reboot>\n  <on_crash>destroy</on_crash>\n",
	    f);
	put_devices(f, spec, uuid);
	fputs("</domain>\n", f);
	bad = ferror(f);
	if (fclose(f) != 0 || bad)
		goto fail;
	return xml;
fail:
	snprintf(err, errlen, "domain XML: out of memory");
	free(xml);
	return NULL;
}
