/*
 * virt-drive: one libvirt driver op from the command line, as kumo-compute
 * would call it (no broker, no database). For tests/e2e and by hand.
 *
 *   virt-drive [-c kumo.conf] [-d] COMMAND [UUID] [options]
 *     spawn UUID [--disk F [--format raw|qcow2]] [--kernel K] [--initrd I]
 *                [--cmdline C] [--vcpus N] [--memory MB] [--root-gb G]
 *                [--name NAME]
 *     destroy|power-on|power-off|info|console UUID
 *     reboot UUID [--hard]
 *     list | host
 *
 * [libvirt] connection_uri, virt_type and [DEFAULT] state_path come from
 * the config file. Exit status: 0 ok, 1 error, 2 usage, 3 no such
 * instance, 4 already exists.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/states.h"
#include "compute/virt/virt.h"

struct drive {
	struct virt_driver *d;
	const char *uuid;
	struct virt_instance inst;
	bool hard;
};

static int cmd_spawn(struct drive *v)
{
	char reason[1024] = "";
	int rc = v->d->ops->spawn(v->d, &v->inst, reason, sizeof reason);

	if (rc != VIRT_OK)
		fprintf(stderr, "virt-drive: spawn: %s\n", reason);
	return rc;
}

static int cmd_destroy(struct drive *v)
{
	return v->d->ops->destroy(v->d, v->uuid);
}

static int cmd_reboot(struct drive *v)
{
	return v->d->ops->reboot(v->d, v->uuid, v->hard);
}

static int cmd_power_on(struct drive *v)
{
	return v->d->ops->power_on(v->d, v->uuid);
}

static int cmd_power_off(struct drive *v)
{
	return v->d->ops->power_off(v->d, v->uuid);
}

static int cmd_info(struct drive *v)
{
	static const char *names[] = { [POWER_NOSTATE] = "nostate",
	    [POWER_RUNNING] = "running", [POWER_PAUSED] = "paused",
	    [POWER_SHUTDOWN] = "shutdown", [POWER_CRASHED] = "crashed",
	    [POWER_SUSPENDED] = "suspended" };
	struct virt_info i;
	int rc = v->d->ops->get_info(v->d, v->uuid, &i);

	if (rc == VIRT_OK)
		printf("power_state=%s vcpus=%d memory_mb=%d\n",
		    i.power_state >= 0 && i.power_state <= POWER_SUSPENDED &&
		    names[i.power_state] ? names[i.power_state] : "?",
		    i.vcpus, i.memory_mb);
	return rc;
}

static int cmd_console(struct drive *v)
{
	char *out = NULL;
	int rc = v->d->ops->get_console_output(v->d, v->uuid, &out);

	if (rc == VIRT_OK)
		fputs(out, stdout);
	free(out);
	return rc;
}

static int cmd_list(struct drive *v)
{
	char (*uuids)[UUID_STR_LEN] = NULL;
	size_t n = 0;
	int rc = v->d->ops->list_instances(v->d, &uuids, &n);

	for (size_t i = 0; rc == VIRT_OK && i < n; i++)
		printf("%s\n", uuids[i]);
	free(uuids);
	return rc;
}

static int cmd_host(struct drive *v)
{
	struct virt_host_resources r;
	int rc = v->d->ops->host_resources(v->d, &r);

	if (rc == VIRT_OK)
		printf("vcpus=%d memory_mb=%d local_gb=%d hypervisor_type=%s "
		    "hypervisor_version=%d hypervisor_hostname=%s\n", r.vcpus,
		    r.memory_mb, r.local_gb, r.hypervisor_type,
		    r.hypervisor_version, r.hypervisor_hostname);
	return rc;
}

static const struct {
	const char *name;
	int (*fn)(struct drive *);
	bool uuid;
} cmds[] = {
	{ "spawn", cmd_spawn, true },
	{ "destroy", cmd_destroy, true },
	{ "reboot", cmd_reboot, true },
	{ "power-on", cmd_power_on, true },
	{ "power-off", cmd_power_off, true },
	{ "info", cmd_info, true },
	{ "console", cmd_console, true },
	{ "list", cmd_list, false },
	{ "host", cmd_host, false },
};

static void usage(void)
{
	fprintf(stderr, "usage: virt-drive [-c kumo.conf] [-d] spawn|destroy|"
	    "reboot|power-on|power-off|info|console UUID [options] | list | "
	    "host\n  spawn options: --disk F --format raw|qcow2 --kernel K "
	    "--initrd I --cmdline C --vcpus N --memory MB --root-gb G "
	    "--name NAME\n  reboot option: --hard\n");
	exit(2);
}

/* One option into the instance; -1 on a bad value. */
static int set_opt(struct drive *v, int opt, const char *val)
{
	struct virt_instance *i = &v->inst;

	switch (opt) {
	case 'D': return str_copy(i->disk_path, val, sizeof i->disk_path);
	case 'F': return str_copy(i->disk_format, val, sizeof i->disk_format);
	case 'K': return str_copy(i->kernel_path, val, sizeof i->kernel_path);
	case 'I': return str_copy(i->ramdisk_path, val, sizeof i->ramdisk_path);
	case 'L': return str_copy(i->cmdline, val, sizeof i->cmdline);
	case 'N': return str_copy(i->name, val, sizeof i->name);
	case 'V': return num_parse_int(val, 1, 256, &i->vcpus);
	case 'M': return num_parse_int(val, 16, 1 << 22, &i->memory_mb);
	case 'G': return num_parse_int(val, 0, 65536, &i->root_gb);
	case 'H': v->hard = true; return 0;
	default: return -1;
	}
}

static void parse(int argc, char **argv, struct drive *v, const char **conf,
    bool *debug)
{
	static const struct option longopts[] = {
		{ "config-file", required_argument, NULL, 'c' },
		{ "disk", required_argument, NULL, 'D' },
		{ "format", required_argument, NULL, 'F' },
		{ "kernel", required_argument, NULL, 'K' },
		{ "initrd", required_argument, NULL, 'I' },
		{ "cmdline", required_argument, NULL, 'L' },
		{ "name", required_argument, NULL, 'N' },
		{ "vcpus", required_argument, NULL, 'V' },
		{ "memory", required_argument, NULL, 'M' },
		{ "root-gb", required_argument, NULL, 'G' },
		{ "hard", no_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "c:d", longopts, NULL)) != -1) {
		if (opt == 'c')
			*conf = optarg;
		else if (opt == 'd')
			*debug = true;
		else if (opt == '?' || set_opt(v, opt, optarg) < 0)
			usage();
	}
}

int main(int argc, char **argv)
{
	struct drive v = { .inst = { .vcpus = 1, .memory_mb = 256 } };
	struct kumo_conf conf;
	const char *path = NULL;
	char err[1024];
	bool debug = false;
	size_t c;
	int rc;

	parse(argc, argv, &v, &path, &debug);
	log_init("virt-drive", debug ? LOG_LVL_DEBUG : LOG_LVL_WARN);
	if (optind >= argc)
		usage();
	for (c = 0; c < sizeof cmds / sizeof *cmds; c++)
		if (strcmp(cmds[c].name, argv[optind]) == 0)
			break;
	if (c == sizeof cmds / sizeof *cmds ||
	    argc - optind != (cmds[c].uuid ? 2 : 1))
		usage();
	v.uuid = cmds[c].uuid ? argv[optind + 1] : "";
	str_copy(v.inst.uuid, v.uuid, sizeof v.inst.uuid);
	if (v.inst.disk_path[0] != '\0' && v.inst.disk_format[0] == '\0')
		str_copy(v.inst.disk_format, "qcow2", sizeof v.inst.disk_format);
	if (conf_load(&conf, path, err, sizeof err) < 0)
		fatalx("%s", err);
	if ((v.d = virt_libvirt_new(&conf, err, sizeof err)) == NULL)
		fatalx("%s", err);
	rc = cmds[c].fn(&v);
	virt_driver_free(v.d);
	return rc == VIRT_OK ? 0 : rc == VIRT_NOTFOUND ? 3 :
	    rc == VIRT_EXISTS ? 4 : 1;
}
