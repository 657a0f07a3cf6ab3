/* The command table and its handlers. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/common.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* GET path, expect 200, hand back body[key]. NULL on failure (*rc set). */
static json_t *get_key(struct cli *c, const char *path, const char *key, int *rc)
{
	struct cli_resp r;
	json_t *v;

	if (cli_request(c, "GET", path, NULL, &r) < 0) {
		*rc = CLI_ERR;
		return NULL;
	}
	if (r.status != 200) {
		*rc = cli_fail(&r);
		cli_resp_free(&r);
		return NULL;
	}
	v = json_incref(json_object_get(r.body, key));
	cli_resp_free(&r);
	if (v == NULL) {
		fprintf(stderr, "kumo: unexpected answer from %s\n", path);
		*rc = CLI_ERR;
	}
	return v;
}

/* A resource's id from an id or a unique name, using its list. */
static int resolve(struct cli *c, const char *list_path, const char *key,
    const char *ref, char *id, size_t idlen)
{
	json_t *items, *it;
	size_t i, found = 0;
	int rc = CLI_OK;

	if ((items = get_key(c, list_path, key, &rc)) == NULL)
		return rc;
	json_array_foreach(items, i, it) {
		const char *iid = json_string_value(json_object_get(it, "id"));
		const char *nm = json_string_value(json_object_get(it, "name"));
		if (iid && strcmp(iid, ref) == 0) {
			found = 1;
			str_copy(id, iid, idlen);
			break;
		}
		if (iid && nm && strcmp(nm, ref) == 0) {
			found++;
			str_copy(id, iid, idlen);
		}
	}
	json_decref(items);
	if (found == 1)
		return CLI_OK;
	fprintf(stderr, "kumo: %s '%s' %s\n", key, ref,
	    found ? "is ambiguous: more than one has that name" : "not found");
	return found ? CLI_CONFLICT : CLI_NOTFOUND;
}

static int show(struct cli *c, const char *path, const char *key)
{
	int rc = CLI_OK;
	json_t *obj = get_key(c, path, key, &rc);

	if (obj == NULL)
		return rc;
	cli_print_object(c, obj);
	json_decref(obj);
	return CLI_OK;
}

static int list(struct cli *c, const char *path, const char *key,
    const struct cli_col *cols, size_t ncols)
{
	int rc = CLI_OK;
	json_t *rows = get_key(c, path, key, &rc);

	if (rows == NULL)
		return rc;
	cli_print_rows(c, rows, cols, ncols);
	json_decref(rows);
	return CLI_OK;
}

static int send_expect(struct cli *c, const char *method, const char *path,
    json_t *body, long want, json_t **out)
{
	struct cli_resp r;
	int rc;

	if (cli_request(c, method, path, body, &r) < 0)
		return CLI_ERR;
	if (r.status != want) {
		rc = cli_fail(&r);
		cli_resp_free(&r);
		return rc;
	}
	if (out)
		*out = json_incref(r.body);
	cli_resp_free(&r);
	return CLI_OK;
}

/* ---- servers ---- */

/* Polls until status is one of the targets; a live line on a terminal. */
static int wait_server(struct cli *c, const char *id, bool gone)
{
	char path[256];
	const char *st = "";

	snprintf(path, sizeof path, "/v2.1/servers/%s", id);
	for (int i = 0; i < 3000; i++) {
		struct cli_resp r;
		json_t *s;

		if (cli_request(c, "GET", path, NULL, &r) < 0)
			return CLI_ERR;
		if (r.status == 404 && gone) {
			cli_resp_free(&r);
			fprintf(stderr, "%sserver %s deleted\n", isatty(2) ? "\r" : "", id);
			return CLI_OK;
		}
		if (r.status != 200) {
			int rc = cli_fail(&r);
			cli_resp_free(&r);
			return rc;
		}
		s = json_object_get(r.body, "server");
		st = json_string_value(json_object_get(s, "status"));
		if (isatty(2))
			fprintf(stderr, "\rserver %s: %-12s", id, st ? st : "?");
		if (st && !gone && strcmp(st, "ACTIVE") == 0) {
			fprintf(stderr, "%s", isatty(2) ? "\n" : "");
			cli_resp_free(&r);
			return CLI_OK;
		}
		if (st && strcmp(st, "ERROR") == 0) {
			const char *m = json_string_value(json_object_get(
			    json_object_get(s, "fault"), "message"));
			fprintf(stderr, "%skumo: server %s is ERROR: %s\n",
			    isatty(2) ? "\n" : "", id, m ? m : "(no fault)");
			cli_resp_free(&r);
			return CLI_SERVER;
		}
		cli_resp_free(&r);
		usleep(100000);
	}
	fprintf(stderr, "\nkumo: gave up waiting (last status %s)\n", st ? st : "?");
	return CLI_ERR;
}

static int server_list(struct cli *c, int argc, char **argv)
{
	static const struct cli_col cols[] = {
		{ "ID", "id" }, { "Name", "name" }, { "Status", "status" },
		{ "Host", "OS-EXT-SRV-ATTR:host" }, { "Flavor", "flavor.id" },
		{ "Image", "image.id" },
	};
	(void)argv;
	if (argc != 1)
		return CLI_USAGE;
	return list(c, "/v2.1/servers/detail", "servers", cols, ARRAY_LEN(cols));
}

static int server_ref(struct cli *c, const char *ref, char *id, size_t idlen)
{
	return resolve(c, "/v2.1/servers", "servers", ref, id, idlen);
}

static int server_show(struct cli *c, int argc, char **argv)
{
	char id[256], path[320];
	int rc;

	if (argc != 2)
		return CLI_USAGE;
	if ((rc = server_ref(c, argv[1], id, sizeof id)) != CLI_OK)
		return rc;
	snprintf(path, sizeof path, "/v2.1/servers/%s", id);
	return show(c, path, "server");
}

static int server_create(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "flavor", required_argument, NULL, 'f' },
		{ "image", required_argument, NULL, 'i' },
		{ "wait", no_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	const char *flavor = NULL, *image = NULL;
	char fid[256], iid[256];
	bool wait = false;
	json_t *out = NULL;
	int ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'f') flavor = optarg;
		else if (ch == 'i') image = optarg;
		else if (ch == 'w') wait = true;
		else return CLI_USAGE;
	}
	if (flavor == NULL || image == NULL || optind != argc - 1)
		return CLI_USAGE;
	if ((rc = resolve(c, "/v2.1/flavors", "flavors", flavor, fid, sizeof fid)) ||
	    (rc = resolve(c, "/v2/images", "images", image, iid, sizeof iid)))
		return rc;
	rc = send_expect(c, "POST", "/v2.1/servers", json_pack(
	    "{s:{s:s, s:s, s:s}}", "server", "name", argv[optind],
	    "imageRef", iid, "flavorRef", fid), 202, &out);
	if (rc != CLI_OK)
		return rc;
	{
		char id[64];
		str_copy(id, json_string_value(json_object_get(
		    json_object_get(out, "server"), "id")) ?: "", sizeof id);
		json_decref(out);
		if (wait && (rc = wait_server(c, id, false)) != CLI_OK)
			return rc;
		char path[128];
		snprintf(path, sizeof path, "/v2.1/servers/%s", id);
		return show(c, path, "server");
	}
}

static int server_delete(struct cli *c, int argc, char **argv)
{
	char id[256], path[320];
	bool wait = false;
	int rc;

	if (argc == 3 && strcmp(argv[2], "--wait") == 0)
		wait = true;
	else if (argc != 2)
		return CLI_USAGE;
	if ((rc = server_ref(c, argv[1], id, sizeof id)) != CLI_OK)
		return rc;
	snprintf(path, sizeof path, "/v2.1/servers/%s", id);
	if ((rc = send_expect(c, "DELETE", path, NULL, 204, NULL)) != CLI_OK)
		return rc;
	return wait ? wait_server(c, id, true) : CLI_OK;
}

/* ---- flavors, images, hypervisors, services ---- */

static int flavor_list(struct cli *c, int argc, char **argv)
{
	static const struct cli_col cols[] = {
		{ "ID", "id" }, { "Name", "name" }, { "RAM", "ram" },
		{ "Disk", "disk" }, { "VCPUs", "vcpus" },
	};
	(void)argv;
	if (argc != 1)
		return CLI_USAGE;
	return list(c, "/v2.1/flavors/detail", "flavors", cols, ARRAY_LEN(cols));
}

static int flavor_show(struct cli *c, int argc, char **argv)
{
	char id[256], path[320];
	int rc;

	if (argc != 2)
		return CLI_USAGE;
	if ((rc = resolve(c, "/v2.1/flavors", "flavors", argv[1], id, sizeof id)))
		return rc;
	snprintf(path, sizeof path, "/v2.1/flavors/%s", id);
	return show(c, path, "flavor");
}

static int image_list(struct cli *c, int argc, char **argv)
{
	static const struct cli_col cols[] = {
		{ "ID", "id" }, { "Name", "name" }, { "Status", "status" },
		{ "Format", "disk_format" },
	};
	(void)argv;
	if (argc != 1)
		return CLI_USAGE;
	return list(c, "/v2/images", "images", cols, ARRAY_LEN(cols));
}

static int image_create(struct cli *c, int argc, char **argv)
{
	json_t *out = NULL;
	int rc;

	if (argc != 2)
		return CLI_USAGE;
	rc = send_expect(c, "POST", "/v2/images", json_pack("{s:s, s:s, s:s}",
	    "name", argv[1], "disk_format", "qcow2", "container_format", "bare"),
	    201, &out);
	if (rc == CLI_OK)
		cli_print_object(c, out);
	json_decref(out);
	return rc;
}

static int image_show(struct cli *c, int argc, char **argv)
{
	char id[256], path[320];
	json_t *out = NULL;
	int rc;

	if (argc != 2)
		return CLI_USAGE;
	if ((rc = resolve(c, "/v2/images", "images", argv[1], id, sizeof id)))
		return rc;
	snprintf(path, sizeof path, "/v2/images/%s", id);
	if ((rc = send_expect(c, "GET", path, NULL, 200, &out)) == CLI_OK)
		cli_print_object(c, out);
	json_decref(out);
	return rc;
}

static int image_delete(struct cli *c, int argc, char **argv)
{
	char id[256], path[320];
	int rc;

	if (argc != 2)
		return CLI_USAGE;
	if ((rc = resolve(c, "/v2/images", "images", argv[1], id, sizeof id)))
		return rc;
	snprintf(path, sizeof path, "/v2/images/%s", id);
	return send_expect(c, "DELETE", path, NULL, 204, NULL);
}

static int hypervisor_list(struct cli *c, int argc, char **argv)
{
	static const struct cli_col cols[] = {
		{ "ID", "id" }, { "Hostname", "hypervisor_hostname" },
		{ "Type", "hypervisor_type" }, { "State", "state" },
		{ "vCPUs used", "vcpus_used" }, { "vCPUs", "vcpus" },
		{ "RAM used", "memory_mb_used" }, { "RAM", "memory_mb" },
		{ "VMs", "running_vms" },
	};
	(void)argv;
	if (argc != 1)
		return CLI_USAGE;
	return list(c, "/v2.1/os-hypervisors/detail", "hypervisors", cols, ARRAY_LEN(cols));
}

static int service_list(struct cli *c, int argc, char **argv)
{
	static const struct cli_col cols[] = {
		{ "ID", "id" }, { "Binary", "binary" }, { "Host", "host" },
		{ "Zone", "zone" }, { "Status", "status" }, { "State", "state" },
		{ "Updated At", "updated_at" },
	};
	(void)argv;
	if (argc != 1)
		return CLI_USAGE;
	return list(c, "/v2.1/os-services", "services", cols, ARRAY_LEN(cols));
}

const struct cli_cmd cli_cmds[] = {
	{ "server", "list", server_list, "", "list servers with their status and host" },
	{ "server", "show", server_show, "ID|NAME", "show one server" },
	{ "server", "create", server_create, "--flavor F --image I [--wait] NAME", "boot a server" },
	{ "server", "delete", server_delete, "ID|NAME [--wait]", "delete a server" },
	{ "flavor", "list", flavor_list, "", "list flavors" },
	{ "flavor", "show", flavor_show, "ID|NAME", "show one flavor" },
	{ "image", "list", image_list, "", "list images" },
	{ "image", "show", image_show, "ID|NAME", "show one image" },
	{ "image", "create", image_create, "NAME", "register an image (metadata only, for now)" },
	{ "image", "delete", image_delete, "ID|NAME", "delete an image" },
	{ "hypervisor", "list", hypervisor_list, "", "list compute hosts and their usage (admin)" },
	{ "service", "list", service_list, "", "list services and whether they are up (admin)" },
};
const size_t cli_ncmds = ARRAY_LEN(cli_cmds);
