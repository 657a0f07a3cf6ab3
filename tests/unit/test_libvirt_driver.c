/*
 * Unit tests of the libvirt virt driver against libvirt's built-in mock
 * driver, test:///default (in-process, no daemon, nothing boots; its
 * domains live as long as this process, shared by every connection), and
 * of its domain XML builder alone. The overlay tests run the real
 * qemu-img (Debian's qemu-utils) and are skipped without it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <libvirt/libvirt.h>

#include "common/states.h"
#include "compute/virt/libvirt_load.h"
#include "compute/virt/virt.h"

#define UUID1 "11111111-2222-4333-8444-555555555555"
#define UUID2 "11111111-2222-4333-8444-666666666666"
#define UUID3 "11111111-2222-4333-8444-777777777777"
#define QEMU_IMG "/usr/bin/qemu-img"
#define HOSTILE "a</name><devices>\"'&x"

static char tmp[64];          /* the state_path of every test */
static char kernel[128];      /* an empty file: the mock boots nothing */

static int setup(void **state)
{
	int fd;

	(void)state;
	snprintf(tmp, sizeof tmp, "/tmp/kumo-lvtest.XXXXXX");
	if (mkdtemp(tmp) == NULL)
		return -1;
	snprintf(kernel, sizeof kernel, "%s/vmlinuz", tmp);
	if ((fd = open(kernel, O_WRONLY | O_CREAT, 0644)) < 0)
		return -1;
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
	return system(cmd) == 0 ? 0 : -1;
}

static struct virt_driver *driver(void)
{
	struct kumo_conf conf;
	struct virt_driver *d;
	char err[512] = "";

	assert_int_equal(conf_load(&conf, NULL, err, sizeof err), 0);
	snprintf(conf.compute_driver, sizeof conf.compute_driver, "libvirt");
	snprintf(conf.libvirt_connection_uri,
	    sizeof conf.libvirt_connection_uri, "test:///default");
	snprintf(conf.state_path, sizeof conf.state_path, "%s/state", tmp);
	d = virt_driver_new(&conf, err, sizeof err);
	if (d == NULL)
		fail_msg("%s", err);
	assert_string_equal(d->ops->name, "libvirt");
	return d;
}

static struct virt_instance instance(const char *uuid)
{
	struct virt_instance i;

	memset(&i, 0, sizeof i);
	snprintf(i.uuid, sizeof i.uuid, "%s", uuid);
	snprintf(i.name, sizeof i.name, "vm");
	snprintf(i.kernel_path, sizeof i.kernel_path, "%s", kernel);
	i.vcpus = 2;
	i.memory_mb = 512;
	return i;
}

static bool path_exists(const char *uuid, const char *file)
{
	char p[256];

	snprintf(p, sizeof p, "%s/state/instances/%s%s", tmp, uuid, file);
	return access(p, F_OK) == 0;
}

static int power(struct virt_driver *d, const char *uuid)
{
	struct virt_info info;

	assert_int_equal(d->ops->get_info(d, uuid, &info), VIRT_OK);
	return info.power_state;
}

static void test_lifecycle(void **state)
{
	struct virt_driver *d = driver();
	struct virt_instance i = instance(UUID1);
	struct virt_info info;
	char reason[512] = "", dir[256];
	struct stat st;
	mode_t old;

	(void)state;
	old = umask(027);  /* kumo-compute.service's */
	assert_int_equal(d->ops->spawn(d, &i, reason, sizeof reason), VIRT_OK);
	umask(old);
	/* qemu, another user, must pass through to the disk */
	snprintf(dir, sizeof dir, "%s/state/instances/%s", tmp, UUID1);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0751);
	assert_true(path_exists(UUID1, "/console.log"));
	assert_int_equal(d->ops->spawn(d, &i, reason, sizeof reason),
	    VIRT_EXISTS);
	assert_int_equal(d->ops->get_info(d, UUID1, &info), VIRT_OK);
	assert_int_equal(info.power_state, POWER_RUNNING);
	assert_int_equal(info.vcpus, 2);
	assert_int_equal(info.memory_mb, 512);
	assert_int_equal(d->ops->reboot(d, UUID1, false), VIRT_OK);
	assert_int_equal(power(d, UUID1), POWER_RUNNING);
	assert_int_equal(d->ops->reboot(d, UUID1, true), VIRT_OK);
	assert_int_equal(power(d, UUID1), POWER_RUNNING);
	assert_int_equal(d->ops->power_off(d, UUID1), VIRT_OK);
	assert_int_equal(power(d, UUID1), POWER_SHUTDOWN);
	assert_int_equal(d->ops->power_off(d, UUID1), VIRT_OK);
	assert_int_equal(d->ops->reboot(d, UUID1, false), VIRT_OK);
	assert_int_equal(power(d, UUID1), POWER_RUNNING);
	assert_int_equal(d->ops->power_off(d, UUID1), VIRT_OK);
	assert_int_equal(d->ops->power_on(d, UUID1), VIRT_OK);
	assert_int_equal(d->ops->power_on(d, UUID1), VIRT_OK);
	assert_int_equal(power(d, UUID1), POWER_RUNNING);
	assert_int_equal(d->ops->destroy(d, UUID1), VIRT_OK);
	assert_false(path_exists(UUID1, ""));
	assert_int_equal(d->ops->destroy(d, UUID1), VIRT_NOTFOUND);
	assert_int_equal(d->ops->get_info(d, UUID1, &info), VIRT_NOTFOUND);
	virt_driver_free(d);
}

static void test_notfound(void **state)
{
	struct virt_driver *d = driver();
	struct virt_info info;
	char *out = (char *)"x";

	(void)state;
	assert_int_equal(d->ops->destroy(d, UUID2), VIRT_NOTFOUND);
	assert_int_equal(d->ops->reboot(d, UUID2, true), VIRT_NOTFOUND);
	assert_int_equal(d->ops->power_on(d, UUID2), VIRT_NOTFOUND);
	assert_int_equal(d->ops->power_off(d, UUID2), VIRT_NOTFOUND);
	assert_int_equal(d->ops->get_info(d, UUID2, &info), VIRT_NOTFOUND);
	assert_int_equal(d->ops->get_console_output(d, UUID2, &out),
	    VIRT_NOTFOUND);
	assert_null(out);
	/* not a uuid: never reaches libvirt nor the file system */
	assert_int_equal(d->ops->destroy(d, "../../etc"), VIRT_NOTFOUND);
	assert_int_equal(d->ops->get_info(d, "", &info), VIRT_NOTFOUND);
	virt_driver_free(d);
}

/* A spawn that died half-way left files but no domain: destroy removes
 * them (and says NOTFOUND); a new spawn starts from an empty dir. */
static void test_leftover_dir(void **state)
{
	struct virt_driver *d = driver();
	struct virt_instance i = instance(UUID2);
	char p[256], reason[512];
	int fd;

	(void)state;
	snprintf(p, sizeof p, "%s/state/instances/%s", tmp, UUID2);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof p, "%s/state/instances/%s/junk", tmp, UUID2);
	assert_true((fd = open(p, O_WRONLY | O_CREAT, 0644)) >= 0);
	close(fd);
	assert_int_equal(d->ops->destroy(d, UUID2), VIRT_NOTFOUND);
	assert_false(path_exists(UUID2, ""));
	snprintf(p, sizeof p, "%s/state/instances/%s", tmp, UUID2);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof p, "%s/state/instances/%s/junk", tmp, UUID2);
	assert_true((fd = open(p, O_WRONLY | O_CREAT, 0644)) >= 0);
	close(fd);
	assert_int_equal(d->ops->spawn(d, &i, reason, sizeof reason), VIRT_OK);
	assert_false(path_exists(UUID2, "/junk"));
	assert_int_equal(d->ops->destroy(d, UUID2), VIRT_OK);
	virt_driver_free(d);
}

static void test_list_and_host(void **state)
{
	struct virt_driver *d = driver();
	struct virt_instance a = instance(UUID1), b = instance(UUID3);
	struct virt_host_resources r;
	char (*uuids)[UUID_STR_LEN] = NULL, reason[512];
	size_t n = 99;

	(void)state;
	assert_int_equal(d->ops->list_instances(d, &uuids, &n), VIRT_OK);
	assert_int_equal(n, 0);  /* the mock's own domain "test" is not ours */
	free(uuids);
	assert_int_equal(d->ops->spawn(d, &a, reason, sizeof reason), VIRT_OK);
	assert_int_equal(d->ops->spawn(d, &b, reason, sizeof reason), VIRT_OK);
	assert_int_equal(d->ops->power_off(d, UUID3), VIRT_OK);
	assert_int_equal(d->ops->list_instances(d, &uuids, &n), VIRT_OK);
	assert_int_equal(n, 2);  /* shut off ones too */
	assert_true(strcmp(uuids[0], UUID1) == 0 || strcmp(uuids[1], UUID1) == 0);
	assert_true(strcmp(uuids[0], UUID3) == 0 || strcmp(uuids[1], UUID3) == 0);
	free(uuids);
	assert_int_equal(d->ops->host_resources(d, &r), VIRT_OK);
	assert_int_equal(r.vcpus, 16);          /* the mock's node */
	assert_true(r.memory_mb > 0);
	assert_true(r.local_gb > 0);            /* statvfs of state_path */
	assert_string_equal(r.hypervisor_type, "QEMU");
	assert_true(r.hypervisor_version > 0);
	assert_true(r.hypervisor_hostname[0] != '\0');
	assert_int_equal(d->ops->destroy(d, UUID1), VIRT_OK);
	assert_int_equal(d->ops->destroy(d, UUID3), VIRT_OK);
	virt_driver_free(d);
}

static void write_console(const char *uuid, const char *data, size_t len)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof p, "%s/state/instances/%s/console.log", tmp, uuid);
	assert_non_null(f = fopen(p, "w"));
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void test_console(void **state)
{
	static const char bad[] = "boot\r\nKUMO\0\xff\xc0\xaf \xe2\x82\xac ok\n";
	struct virt_driver *d = driver();
	struct virt_instance i = instance(UUID1);
	char reason[512], *out = NULL, *big;
	size_t n = 3 * 1024 * 1024;

	(void)state;
	assert_int_equal(d->ops->spawn(d, &i, reason, sizeof reason), VIRT_OK);
	assert_int_equal(d->ops->get_console_output(d, UUID1, &out), VIRT_OK);
	assert_string_equal(out, "");  /* nothing logged yet */
	free(out);
	write_console(UUID1, bad, sizeof bad - 1);
	assert_int_equal(d->ops->get_console_output(d, UUID1, &out), VIRT_OK);
	assert_string_equal(out, "boot\r\nKUMO???? \xe2\x82\xac ok\n");
	free(out);
	assert_non_null(big = malloc(n));
	for (size_t k = 0; k < n; k++)
		big[k] = k % 100 == 99 ? '\n' : 'a' + (char)(k % 100 % 26);
	memcpy(big + n - 5, "END\n", 4);
	write_console(UUID1, big, n - 1);
	assert_int_equal(d->ops->get_console_output(d, UUID1, &out), VIRT_OK);
	assert_true(strlen(out) <= 1024 * 1024);
	assert_true(strlen(out) > 1024 * 1024 - 100);
	assert_true(out[0] == 'a');  /* starts at a line */
	assert_string_equal(out + strlen(out) - 4, "END\n");
	free(out);
	free(big);
	assert_int_equal(d->ops->destroy(d, UUID1), VIRT_OK);
	virt_driver_free(d);
}

static void test_spawn_rejects(void **state)
{
	struct virt_driver *d = driver();
	struct virt_instance i;
	char reason[512];

	(void)state;
	i = instance("not-a-uuid");
	assert_int_equal(d->ops->spawn(d, &i, reason, sizeof reason),
	    VIRT_ERROR);
	assert_non_null(strstr(reason, "uuid"));
	i = instance(UUID1);
	snprintf(i.kernel_path, sizeof i.kernel_path, "vmlinuz");
	assert_int_equal(d->ops->spawn(d, &i, reason, sizeof reason),
	    VIRT_ERROR);
	assert_non_null(strstr(reason, "absolute"));
	snprintf(i.kernel_path, sizeof i.kernel_path, "%s/nope", tmp);
	assert_int_equal(d->ops->spawn(d, &i, reason, sizeof reason),
	    VIRT_ERROR);
	i = instance(UUID1);
	i.kernel_path[0] = '\0';
	assert_int_equal(d->ops->spawn(d, &i, reason, sizeof reason),
	    VIRT_ERROR);
	assert_non_null(strstr(reason, "no disk image"));
	i = instance(UUID1);
	snprintf(i.cmdline, sizeof i.cmdline, "console=ttyS0\n");
	assert_int_equal(d->ops->spawn(d, &i, reason, sizeof reason),
	    VIRT_ERROR);
	i = instance(UUID1);
	snprintf(i.disk_path, sizeof i.disk_path, "%s", kernel);
	snprintf(i.disk_format, sizeof i.disk_format, "vmdk");
	assert_int_equal(d->ops->spawn(d, &i, reason, sizeof reason),
	    VIRT_ERROR);
	i = instance(UUID1);
	i.vcpus = 0;
	assert_int_equal(d->ops->spawn(d, &i, reason, sizeof reason),
	    VIRT_ERROR);
	assert_false(path_exists(UUID1, ""));
	virt_driver_free(d);
}

static bool have_qemu_img(void)
{
	return access(QEMU_IMG, X_OK) == 0;
}

static void qemu_img(const char *args)
{
	char cmd[700];

	snprintf(cmd, sizeof cmd, QEMU_IMG " %s >/dev/null", args);
	assert_int_equal(system(cmd), 0);
}

/* The virtual size in a qcow2 header. */
static uint64_t qcow2_size(const char *path)
{
	unsigned char h[32];
	uint64_t v = 0;
	FILE *f = fopen(path, "rb");

	assert_non_null(f);
	assert_int_equal(fread(h, 1, sizeof h, f), sizeof h);
	fclose(f);
	for (int k = 24; k < 32; k++)
		v = v << 8 | h[k];
	return v;
}

static void test_overlay(void **state)
{
	struct virt_driver *d;
	struct virt_instance i = instance(UUID3);
	char base[128], disk[256], reason[512], cmd[600];

	(void)state;
	if (!have_qemu_img())
		skip();
	d = driver();
	snprintf(base, sizeof base, "%s/base.qcow2", tmp);
	snprintf(cmd, sizeof cmd, "create -q -f qcow2 %s 64M", base);
	qemu_img(cmd);
	i.kernel_path[0] = '\0';  /* BIOS boot from the disk */
	snprintf(i.disk_path, sizeof i.disk_path, "%s", base);
	snprintf(i.disk_format, sizeof i.disk_format, "qcow2");
	i.root_gb = 1;
	assert_int_equal(d->ops->spawn(d, &i, reason, sizeof reason), VIRT_OK);
	snprintf(disk, sizeof disk, "%s/state/instances/%s/disk", tmp, UUID3);
	assert_int_equal(qcow2_size(disk), 1024ULL * 1024 * 1024);
	snprintf(cmd, sizeof cmd, "info %s | grep -q 'backing file: %s'", disk,
	    base);
	qemu_img(cmd);
	assert_int_equal(d->ops->destroy(d, UUID3), VIRT_OK);
	assert_false(path_exists(UUID3, ""));
	i.root_gb = 0;  /* the image's own size */
	assert_int_equal(d->ops->spawn(d, &i, reason, sizeof reason), VIRT_OK);
	assert_int_equal(qcow2_size(disk), 64ULL * 1024 * 1024);
	assert_int_equal(d->ops->destroy(d, UUID3), VIRT_OK);
	virt_driver_free(d);
}

static void test_overlay_rejects(void **state)
{
	struct virt_driver *d;
	struct virt_instance i = instance(UUID3);
	char base[128], evil[128], reason[512], cmd[600];

	(void)state;
	if (!have_qemu_img())
		skip();
	d = driver();
	snprintf(base, sizeof base, "%s/big.qcow2", tmp);
	snprintf(cmd, sizeof cmd, "create -q -f qcow2 %s 2G", base);
	qemu_img(cmd);
	snprintf(i.disk_path, sizeof i.disk_path, "%s", base);
	snprintf(i.disk_format, sizeof i.disk_format, "qcow2");
	i.root_gb = 1;
	assert_int_equal(d->ops->spawn(d, &i, reason, sizeof reason),
	    VIRT_ERROR);
	assert_non_null(strstr(reason, "smaller"));
	/* a user's qcow2 naming a host file as its backing file */
	snprintf(evil, sizeof evil, "%s/evil.qcow2", tmp);
	snprintf(cmd, sizeof cmd, "create -q -f qcow2 -F raw -b /etc/passwd "
	    "%s 1M", evil);
	qemu_img(cmd);
	snprintf(i.disk_path, sizeof i.disk_path, "%s", evil);
	i.root_gb = 0;
	assert_int_equal(d->ops->spawn(d, &i, reason, sizeof reason),
	    VIRT_ERROR);
	assert_non_null(strstr(reason, "other files"));
	/* raw claimed qcow2 */
	snprintf(i.disk_path, sizeof i.disk_path, "%s", kernel);
	assert_int_equal(d->ops->spawn(d, &i, reason, sizeof reason),
	    VIRT_ERROR);
	assert_non_null(strstr(reason, "not a qcow2"));
	assert_false(path_exists(UUID3, ""));
	virt_driver_free(d);
}

static char *xml_of(struct virt_instance *i, const char *disk)
{
	struct virt_domain_spec spec = { .inst = i, .virt_type = "qemu",
	    .disk_path = disk,
	    .console_path = "/var/lib/kumo/instances/x/console.log",
	    .network = "" };
	char err[256] = "", *xml = virt_domain_xml(&spec, err, sizeof err);

	if (xml == NULL)
		fail_msg("%s", err);
	return xml;
}

static size_t count(const char *s, const char *what)
{
	size_t n = 0;

	for (; (s = strstr(s, what)) != NULL; s++)
		n++;
	return n;
}

/* The NIC: user-mode by default, the named libvirt network when set. */
static void test_xml_network(void **state)
{
	struct virt_instance i = instance(UUID1);
	struct virt_domain_spec spec = { .inst = &i, .virt_type = "qemu",
	    .disk_path = "", .console_path = "/c", .network = "kumo-net.1" };
	char err[256] = "", *xml;

	(void)state;
	xml = xml_of(&i, "");
	assert_int_equal(count(xml, "<interface type='user'>"), 1);
	assert_null(strstr(xml, "type='network'"));
	free(xml);
	assert_non_null(xml = virt_domain_xml(&spec, err, sizeof err));
	assert_int_equal(count(xml, "<interface type='network'>"), 1);
	assert_non_null(strstr(xml, "<source network='kumo-net.1'/>"));
	assert_null(strstr(xml, "type='user'"));
	free(xml);
	assert_true(virt_network_name_ok("default"));
	assert_false(virt_network_name_ok(""));
	assert_false(virt_network_name_ok("a'/><x"));
	assert_false(virt_network_name_ok("a b"));
	assert_false(virt_network_name_ok(
	    "x2345678901234567890123456789012345678901234567890123456789012345"));
}

/* The controller's NICs on the host's bridge, each with its MAC, a TAP
 * named after its port and its MTU; the config drive as an IDE cdrom (or
 * a virtio disk for vfat); libvirt parses it back. Bad NICs are refused. */
static void test_xml_bridge_nics(void **state)
{
	struct virt_instance i = instance(UUID1);
	struct virt_domain_spec spec = { .inst = &i, .virt_type = "qemu",
	    .disk_path = "", .console_path = "/c", .network = "",
	    .vif_type = "bridge", .bridge = "kumobr0",
	    .config_drive_path = "/x/disk.config" };
	char err[256] = "", *xml;
	virConnectPtr c;
	virDomainPtr dom;

	(void)state;
	i.nics_given = true;
	i.n_nics = 2;
	snprintf(i.nics[0].mac, sizeof i.nics[0].mac, "fa:16:3e:00:00:01");
	snprintf(i.nics[0].vif_id, sizeof i.nics[0].vif_id, "%s", UUID2);
	i.nics[0].mtu = 1400;
	snprintf(i.nics[1].mac, sizeof i.nics[1].mac, "fa:16:3e:00:00:02");
	snprintf(i.nics[1].bridge, sizeof i.nics[1].bridge, "kumobr9");
	assert_non_null(xml = virt_domain_xml(&spec, err, sizeof err));
	assert_int_equal(count(xml, "<interface type='bridge'>"), 2);
	assert_non_null(strstr(xml, "<mac address='fa:16:3e:00:00:01'/>\n"
	    "      <source bridge='kumobr0'/>\n      <target dev='tap"));
	assert_non_null(strstr(xml, "<mtu size='1400'/>"));
	assert_non_null(strstr(xml, "<source bridge='kumobr9'/>"));
	assert_non_null(strstr(xml, "<disk type='file' device='cdrom'>"));
	assert_non_null(strstr(xml, "<target dev='hda' bus='ide'/>"));
	assert_null(strstr(xml, "type='user'"));
	assert_non_null(c = virConnectOpen("test:///default"));
	assert_non_null(dom = virDomainDefineXML(c, xml));
	assert_int_equal(virDomainUndefine(dom), 0);
	virDomainFree(dom);
	virConnectClose(c);
	free(xml);
	spec.config_drive_format = "vfat";
	assert_non_null(xml = virt_domain_xml(&spec, err, sizeof err));
	assert_non_null(strstr(xml, "<target dev='vdb' bus='virtio'/>"));
	free(xml);
	/* QEMU's user-mode NIC: the same NICs, no MTU (libvirt 9.0 refuses one) */
	spec.vif_type = "user";
	assert_non_null(xml = virt_domain_xml(&spec, err, sizeof err));
	assert_int_equal(count(xml, "<interface type='user'>"), 2);
	assert_null(strstr(xml, "<mtu"));
	free(xml);
	spec.vif_type = "bridge";
	/* none given: no NIC at all */
	i.n_nics = 0;
	assert_non_null(xml = virt_domain_xml(&spec, err, sizeof err));
	assert_null(strstr(xml, "<interface"));
	free(xml);
	i.n_nics = 1;
	snprintf(i.nics[0].mac, sizeof i.nics[0].mac, "01:16:3e:00:00:01");
	assert_null(virt_domain_xml(&spec, err, sizeof err));
	snprintf(i.nics[0].mac, sizeof i.nics[0].mac, "fa:16:3e:00:00:01");
	snprintf(i.nics[0].bridge, sizeof i.nics[0].bridge, "a'/><x");
	assert_null(virt_domain_xml(&spec, err, sizeof err));
}

/* Hostile text is escaped (string checks), and libvirt parses the XML
 * back with the same values. */
static void test_xml_escaping(void **state)
{
	struct virt_instance i = instance(UUID1);
	char *xml, *meta;
	virConnectPtr c;
	virDomainPtr dom;

	(void)state;
	snprintf(i.name, sizeof i.name, HOSTILE "\x01");
	snprintf(i.project_id, sizeof i.project_id, "p'><x a='");
	snprintf(i.cmdline, sizeof i.cmdline, "console=ttyS0 x=\"<&>'\"");
	xml = xml_of(&i, "");
	assert_null(strstr(xml, HOSTILE));
	assert_int_equal(count(xml, "<devices>"), 1);
	assert_int_equal(count(xml, "<name>"), 1);
	assert_non_null(strstr(xml, "<kumo:name>a&lt;/name&gt;&lt;devices&gt;"
	    "&quot;&apos;&amp;x?</kumo:name>"));
	assert_non_null(strstr(xml, "<cmdline>console=ttyS0 x=&quot;&lt;&amp;"
	    "&gt;&apos;&quot;</cmdline>"));
	assert_non_null(strstr(xml, "<name>kumo-" UUID1 "</name>"));
	assert_non_null(strstr(xml, "<uuid>" UUID1 "</uuid>"));
	assert_non_null(strstr(xml, "<entry name='uuid'>" UUID1 "</entry>"));
	assert_non_null(strstr(xml, "<smbios mode='sysinfo'/>"));
	assert_non_null(c = virConnectOpen("test:///default"));
	assert_non_null(dom = virDomainDefineXML(c, xml));
	meta = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT,
	    "https://kumo.invalid/xmlns/instance/1.0", 0);
	assert_non_null(meta);
	assert_non_null(strstr(meta, "a&lt;/name&gt;&lt;devices&gt;"));
	assert_string_equal(virDomainGetName(dom), "kumo-" UUID1);
	free(meta);
	assert_int_equal(virDomainUndefine(dom), 0);
	virDomainFree(dom);
	virConnectClose(c);
	free(xml);
}

static void test_xml_shape(void **state)
{
	struct virt_instance i = instance(UUID1);
	struct virt_domain_spec spec = { .inst = &i, .virt_type = "qemu",
	    .disk_path = "relative/disk", .console_path = "/c", .network = "" };
	char err[256], *xml;

	(void)state;
	xml = xml_of(&i, "");
	assert_non_null(strstr(xml, "<domain type='qemu'>"));
	assert_non_null(strstr(xml, "<kernel>"));
	assert_non_null(strstr(xml, "<cmdline>console=ttyS0</cmdline>"));
	assert_null(strstr(xml, "<disk"));
	assert_null(strstr(xml, "<boot dev"));
	assert_non_null(strstr(xml, "<interface type='user'>"));
	assert_non_null(strstr(xml, "<mac address='52:54:00:11:11:11'/>"));
	assert_non_null(strstr(xml, "<acpi/>"));
	assert_non_null(strstr(xml, "<memory unit='MiB'>512</memory>"));
	assert_non_null(strstr(xml, "<vcpu>2</vcpu>"));
	assert_non_null(strstr(xml, "<log file='/var/lib/kumo/instances/x/"
	    "console.log' append='on'/>"));
	free(xml);
	i.kernel_path[0] = '\0';
	snprintf(i.disk_path, sizeof i.disk_path, "%s", kernel);
	snprintf(i.disk_format, sizeof i.disk_format, "raw");
	xml = xml_of(&i, "/var/lib/kumo/instances/x/disk");
	assert_non_null(strstr(xml, "<boot dev='hd'/>"));
	assert_non_null(strstr(xml, "<driver name='qemu' type='qcow2'/>"));
	assert_non_null(strstr(xml, "<source file='/var/lib/kumo/instances/x/"
	    "disk'/>"));
	assert_null(strstr(xml, "<kernel>"));
	free(xml);
	assert_null(virt_domain_xml(&spec, err, sizeof err));
	spec.disk_path = "";
	spec.virt_type = "xen";
	assert_null(virt_domain_xml(&spec, err, sizeof err));
	spec.virt_type = "kvm";
	assert_non_null(xml = virt_domain_xml(&spec, err, sizeof err));
	assert_non_null(strstr(xml, "<domain type='kvm'>"));
	free(xml);
}

static void test_domain_name(void **state)
{
	char name[VIRT_DOMAIN_NAME];

	(void)state;
	assert_int_equal(virt_domain_name("ABCDEF00-2222-4333-8444-555555555555",
	    name, sizeof name), 0);
	assert_string_equal(name, "kumo-abcdef00-2222-4333-8444-555555555555");
	assert_int_equal(virt_domain_name("x", name, sizeof name), -1);
	assert_int_equal(virt_domain_name(UUID1, name, 10), -1);
}

static void test_conf(void **state)
{
	struct kumo_conf conf;
	char err[512] = "";

	(void)state;
	assert_int_equal(conf_load(&conf, NULL, err, sizeof err), 0);
	snprintf(conf.compute_driver, sizeof conf.compute_driver, "libvirt");
	snprintf(conf.libvirt_connection_uri,
	    sizeof conf.libvirt_connection_uri, "test:///default");
	snprintf(conf.state_path, sizeof conf.state_path, "%s/state", tmp);
	snprintf(conf.libvirt_virt_type, sizeof conf.libvirt_virt_type, "xen");
	assert_null(virt_driver_new(&conf, err, sizeof err));
	assert_non_null(strstr(err, "virt_type"));
	snprintf(conf.libvirt_virt_type, sizeof conf.libvirt_virt_type, "qemu");
	snprintf(conf.libvirt_connection_uri,
	    sizeof conf.libvirt_connection_uri, "test:///nonexistent/kumo.xml");
	assert_null(virt_driver_new(&conf, err, sizeof err));
	assert_non_null(strstr(err, "nonexistent"));
}

/* kumo-compute does not link libvirt: the driver loads it. */
static void test_load(void **state)
{
	struct libvirt_api api;
	char err[512] = "";

	(void)state;
	assert_int_equal(libvirt_load("libkumo-absent.so.0", &api, err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "needs libkumo-absent.so.0 (Debian package "
	    "libvirt0)"));
	assert_int_equal(libvirt_load("libc.so.6", &api, err, sizeof err), -1);
	assert_string_equal(err, "libc.so.6 has no virInitialize: libvirt too "
	    "old or not libvirt");
	assert_int_equal(libvirt_load(LIBVIRT_SONAME, &api, err, sizeof err), 0);
	/* The library this test links: one libvirt in the process. */
	assert_ptr_equal(api.ConnectOpen, virConnectOpen);
	assert_ptr_equal(api.DomainGetUUIDString, virDomainGetUUIDString);
}

static void *spawn_destroy(void *arg)
{
	struct virt_driver *d = ((void **)arg)[0];
	struct virt_instance i = instance(((void **)arg)[1]);
	char reason[512];

	for (int k = 0; k < 20; k++) {
		if (d->ops->spawn(d, &i, reason, sizeof reason) != VIRT_OK ||
		    d->ops->reboot(d, i.uuid, true) != VIRT_OK ||
		    d->ops->destroy(d, i.uuid) != VIRT_OK)
			return (void *)1;
	}
	return NULL;
}

static void test_threads(void **state)
{
	static const char *uuids[] = {
		"22222222-2222-4333-8444-000000000001",
		"22222222-2222-4333-8444-000000000002",
		"22222222-2222-4333-8444-000000000003",
		"22222222-2222-4333-8444-000000000004",
	};
	struct virt_driver *d = driver();
	pthread_t t[4];
	void *args[4][2], *res;

	(void)state;
	for (int k = 0; k < 4; k++) {
		args[k][0] = d;
		args[k][1] = (void *)uuids[k];
		assert_int_equal(pthread_create(&t[k], NULL, spawn_destroy,
		    args[k]), 0);
	}
	for (int k = 0; k < 4; k++) {
		assert_int_equal(pthread_join(t[k], &res), 0);
		assert_null(res);
	}
	virt_driver_free(d);
}

/* virt_type = auto: KVM only when QEMU's user could open the device. */
static void test_kvm_usable(void **state)
{
	char dev[] = "/tmp/kumo-kvm-XXXXXX", why[300] = "";
	struct group *kvm = getgrnam("kvm");
	int fd = mkstemp(dev);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(chmod(dev, 0600), 0);
	/* Under qemu:///session QEMU is this process: opening is enough. */
	assert_true(virt_kvm_usable(dev, "qemu:///session", why, sizeof why));
	if (geteuid() == 0 && chown(dev, 0, 0) == 0) {
		/* root-only (no udev): libvirt's qemu user could not open it. */
		assert_false(virt_kvm_usable(dev, "qemu:///system", why, sizeof why));
		assert_non_null(strstr(why, "mode 0600"));
	}
	assert_int_equal(chmod(dev, 0666), 0);
	assert_true(virt_kvm_usable(dev, "qemu:///system", why, sizeof why));
	if (kvm != NULL && chown(dev, (uid_t)-1, kvm->gr_gid) == 0) {
		assert_int_equal(chmod(dev, 0660), 0);
		assert_true(virt_kvm_usable(dev, "qemu:///system", why, sizeof why));
		assert_int_equal(chmod(dev, 0640), 0);
		assert_false(virt_kvm_usable(dev, "qemu:///system", why, sizeof why));
	}
	unlink(dev);
	/* Missing: no KVM, and why says so. */
	assert_false(virt_kvm_usable(dev, "qemu:///system", why, sizeof why));
	assert_non_null(strstr(why, "No such file"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lifecycle),
		cmocka_unit_test(test_notfound),
		cmocka_unit_test(test_leftover_dir),
		cmocka_unit_test(test_list_and_host),
		cmocka_unit_test(test_console),
		cmocka_unit_test(test_spawn_rejects),
		cmocka_unit_test(test_overlay),
		cmocka_unit_test(test_overlay_rejects),
		cmocka_unit_test(test_xml_escaping),
		cmocka_unit_test(test_xml_shape),
		cmocka_unit_test(test_domain_name),
		cmocka_unit_test(test_xml_network),
		cmocka_unit_test(test_xml_bridge_nics),
		cmocka_unit_test(test_conf),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_kvm_usable),
	};

	log_init("test_libvirt_driver", LOG_LVL_WARN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
