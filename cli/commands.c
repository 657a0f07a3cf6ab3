/* The command table and its handlers. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/common.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* GET path, expect 200, hand back body[key]. NULL on failure (*rc set). */
/* Glance pages its lists: the next page of an array is at "next". */
#define MAX_PAGES 10000

json_t *cli_get_key(struct cli *c, const char *path, const char *key, int *rc)
{
	const char *more;
	char next[2048];
	struct cli_resp r;
	json_t *all = NULL, *v;

	if (str_copy(next, path, sizeof next) < 0) {
		*rc = CLI_ERR;
		return NULL;
	}
	for (int page = 0; ; page++) {
		if (cli_request(c, "GET", next, NULL, &r) < 0) {
			*rc = CLI_ERR;
			json_decref(all);
			return NULL;
		}
		if (r.status != 200) {
			*rc = cli_fail(&r);
			cli_resp_free(&r);
			json_decref(all);
			return NULL;
		}
		if ((v = json_object_get(r.body, key)) == NULL) {
			fprintf(stderr, "kumo: unexpected answer from %s\n", next);
			*rc = CLI_ERR;
			cli_resp_free(&r);
			json_decref(all);
			return NULL;
		}
		if (all == NULL)
			all = json_incref(v);
		else
			json_array_extend(all, v);
		more = json_string_value(json_object_get(r.body, "next"));
		if (!json_is_array(v) || json_array_size(v) == 0 || more == NULL ||
		    page == MAX_PAGES || str_copy(next, more, sizeof next) < 0) {
			cli_resp_free(&r);
			return all;
		}
		cli_resp_free(&r);
	}
}

const struct cli_kind cli_kind_server = { "/v2.1/servers", "servers", "server" };
const struct cli_kind cli_kind_flavor = { "/v2.1/flavors", "flavors", "flavor" };
const struct cli_kind cli_kind_image = { "/v2/images", "images", "image" };

int cli_resolve(struct cli *c, const struct cli_kind *k, const char *ref,
    char *id, size_t idlen)
{
	json_t *items, *it;
	size_t i, found = 0;
	int rc = CLI_OK;
	char *text;

	if ((items = cli_get_key(c, k->list_path, k->key, &rc)) == NULL)
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
	text = cli_escape(ref);
	fprintf(stderr, "kumo: %s '%s' %s\n", k->noun, text ? text : "?",
	    found ? "is ambiguous: more than one has that name" : "not found");
	free(text);
	return found ? CLI_CONFLICT : CLI_NOTFOUND;
}

/* For "NOUN VERB ID|NAME": resolves argv[1] through the list at list_path
 * and writes "<list_path>/<id>" into path. */
static int item_path(struct cli *c, int argc, char **argv,
    const struct cli_kind *k, char *path, size_t pathlen)
{
	char id[256];
	int rc;

	if (argc != 2)
		return CLI_USAGE;
	if ((rc = cli_resolve(c, k, argv[1], id, sizeof id)) != CLI_OK)
		return rc;
	if (str_fmt(path, pathlen, "%s/%s", k->list_path, id) < 0)
		return CLI_ERR;
	return CLI_OK;
}

static int show(struct cli *c, const char *path, const char *key)
{
	int rc = CLI_OK;
	json_t *obj = cli_get_key(c, path, key, &rc);

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
	json_t *rows = cli_get_key(c, path, key, &rc);

	if (rows == NULL)
		return rc;
	cli_print_rows(c, rows, cols, ncols);
	json_decref(rows);
	return CLI_OK;
}

int cli_send_expect(struct cli *c, const char *method, const char *path,
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

static int server_ref(struct cli *c, const char *ref, char *id, size_t idlen)
{
	return cli_resolve(c, &cli_kind_server, ref, id, idlen);
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
	char path[320];
	int rc = item_path(c, argc, argv, &cli_kind_flavor, path,
	    sizeof path);

	return rc != CLI_OK ? rc : show(c, path, "flavor");
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

int cli_property(json_t *body, const char *kv)
{
	const char *eq = strchr(kv, '=');
	char key[256];

	if (eq == NULL || eq == kv || (size_t)(eq - kv) >= sizeof key) {
		fprintf(stderr, "kumo: --property takes KEY=VALUE, not '%s'\n", kv);
		return -1;
	}
	memcpy(key, kv, (size_t)(eq - kv));
	key[eq - kv] = '\0';
	json_object_set_new(body, key, json_string(eq + 1));
	return 0;
}

/* The file to upload, open: a readable regular file. NULL (printed). */
static FILE *image_file(const char *file, int64_t *size)
{
	struct stat st;
	FILE *f = fopen(file, "rb");

	if (f == NULL) {
		fprintf(stderr, "kumo: %s: %s\n", file, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "kumo: %s: not a regular file\n", file);
		fclose(f);
		return NULL;
	}
	*size = (int64_t)st.st_size;
	return f;
}

/* Streams f into image id, then checks the image is active and holds
 * size bytes; prints it. A failed transfer deletes the queued image. */
static int image_upload(struct cli *c, const char *id, FILE *f, int64_t size,
    const char *file)
{
	char path[320];
	struct cli_resp r;
	json_t *img = NULL;
	const char *st;
	int rc;

	snprintf(path, sizeof path, "/v2/images/%s/file", id);
	if (cli_upload(c, path, f, size, file, &r) < 0 || r.status != 204) {
		rc = r.status ? cli_fail(&r) : CLI_ERR;
		cli_resp_free(&r);
		snprintf(path, sizeof path, "/v2/images/%s", id);
		if (cli_send_expect(c, "DELETE", path, NULL, 204, NULL) == CLI_OK)
			fprintf(stderr, "kumo: deleted the queued image %s\n", id);
		return rc;
	}
	cli_resp_free(&r);
	snprintf(path, sizeof path, "/v2/images/%s", id);
	if ((rc = cli_send_expect(c, "GET", path, NULL, 200, &img)) != CLI_OK)
		return rc;
	st = json_string_value(json_object_get(img, "status"));
	if (st == NULL || strcmp(st, "active") != 0 ||
	    json_integer_value(json_object_get(img, "size")) != size) {
		fprintf(stderr, "kumo: image %s is %s with %" JSON_INTEGER_FORMAT
		    " bytes after the upload; expected active with %lld\n", id,
		    st ? st : "?", json_integer_value(json_object_get(img, "size")),
		    (long long)size);
		rc = CLI_ERR;
	} else {
		cli_print_object(c, img);
	}
	json_decref(img);
	return rc;
}

static int image_create(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "file", required_argument, NULL, 'F' },
		{ "disk-format", required_argument, NULL, 'd' },
		{ "property", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	const char *file = NULL;
	json_t *body = json_pack("{s:s, s:s}", "disk_format", "qcow2",
	    "container_format", "bare"), *out = NULL;
	char id[64];
	int64_t size = 0;
	FILE *f = NULL;
	int ch, rc = CLI_USAGE;

	optind = 0;     /* reinitialise: options may follow NAME */
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'F')
			file = optarg;
		else if (ch == 'd' && (strcmp(optarg, "raw") == 0 || strcmp(optarg, "qcow2") == 0))
			json_object_set_new(body, "disk_format", json_string(optarg));
		else if (ch == 'd') {
			fprintf(stderr, "kumo: --disk-format takes raw or qcow2\n");
			goto out;
		} else if (ch != 'p' || cli_property(body, optarg) < 0)
			goto out;
	}
	if (optind != argc - 1)
		goto out;
	json_object_set_new(body, "name", json_string(argv[optind]));
	if (file != NULL && (f = image_file(file, &size)) == NULL) {
		rc = CLI_ERR;
		goto out;
	}
	rc = cli_send_expect(c, "POST", "/v2/images", body, 201, &out);
	body = NULL;
	if (rc != CLI_OK || f == NULL) {
		if (rc == CLI_OK)
			cli_print_object(c, out);
		goto out;
	}
	str_copy(id, json_string_value(json_object_get(out, "id")) ?: "", sizeof id);
	rc = image_upload(c, id, f, size, file);
out:
	if (f != NULL)
		fclose(f);
	json_decref(body);
	json_decref(out);
	return rc;
}

static int image_show(struct cli *c, int argc, char **argv)
{
	char path[320];
	json_t *out = NULL;
	int rc = item_path(c, argc, argv, &cli_kind_image, path,
	    sizeof path);

	if (rc != CLI_OK)
		return rc;
	if ((rc = cli_send_expect(c, "GET", path, NULL, 200, &out)) == CLI_OK)
		cli_print_object(c, out);
	json_decref(out);
	return rc;
}

static int image_delete(struct cli *c, int argc, char **argv)
{
	char path[320];
	int rc = item_path(c, argc, argv, &cli_kind_image, path,
	    sizeof path);

	return rc != CLI_OK ? rc : cli_send_expect(c, "DELETE", path, NULL, 204, NULL);
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

static int network_list(struct cli *c, int argc, char **argv)
{
	static const struct cli_col cols[] = {
		{ "ID", "id" }, { "Label", "label" }, { "CIDR", "cidr" },
	};
	(void)argv;
	if (argc != 1)
		return CLI_USAGE;
	return list(c, "/v2.1/os-networks", "networks", cols, ARRAY_LEN(cols));
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

/* ---- server actions and events ---- */

/* POST /servers/{id}/action with body, expecting want; out (if not NULL)
 * receives the answer. */
static int server_action(struct cli *c, const char *ref, json_t *body,
    long want, json_t **out)
{
	char id[256], path[320];
	int rc;

	if ((rc = server_ref(c, ref, id, sizeof id)) != CLI_OK) {
		json_decref(body);
		return rc;
	}
	snprintf(path, sizeof path, "/v2.1/servers/%s/action", id);
	return cli_send_expect(c, "POST", path, body, want, out);
}

static int server_reboot(struct cli *c, int argc, char **argv)
{
	bool hard = argc == 3 && strcmp(argv[1], "--hard") == 0;

	if (argc != 2 && !hard)
		return CLI_USAGE;
	return server_action(c, argv[argc - 1], json_pack("{s:{s:s}}", "reboot",
	    "type", hard ? "HARD" : "SOFT"), 202, NULL);
}

static int server_stop(struct cli *c, int argc, char **argv)
{
	if (argc != 2)
		return CLI_USAGE;
	return server_action(c, argv[1], json_pack("{s:n}", "os-stop"), 202, NULL);
}

static int server_start(struct cli *c, int argc, char **argv)
{
	if (argc != 2)
		return CLI_USAGE;
	return server_action(c, argv[1], json_pack("{s:n}", "os-start"), 202, NULL);
}

static int console_log(struct cli *c, int argc, char **argv)
{
	json_t *out = NULL, *body = json_pack("{s:{}}", "os-getConsoleOutput");
	const char *text;
	int lines, rc;

	if (argc == 4 && strcmp(argv[1], "--lines") == 0 &&
	    num_parse_int(argv[2], 1, 1 << 30, &lines) == 0)
		json_object_set_new(json_object_get(body, "os-getConsoleOutput"),
		    "length", json_integer(lines));
	else if (argc != 2) {
		json_decref(body);
		return CLI_USAGE;
	}
	if ((rc = server_action(c, argv[argc - 1], body, 200, &out)) != CLI_OK)
		return rc;
	if ((text = json_string_value(json_object_get(out, "output"))) != NULL)
		fputs(text, stdout);
	json_decref(out);
	return text ? CLI_OK : CLI_ERR;
}

/* server events ID|NAME: the server's actions; with REQUEST_ID, the
 * events of that action (asked at 2.84: what the caller may see of each,
 * the host and details for admins). */
static int server_events(struct cli *c, int argc, char **argv)
{
	static const struct cli_col cols[] = {
		{ "Request ID", "request_id" }, { "Action", "action" },
		{ "Start Time", "start_time" }, { "Message", "message" },
	};
	static const struct cli_col event_cols[] = {
		{ "Event", "event" }, { "Result", "result" },
		{ "Start Time", "start_time" }, { "Finish Time", "finish_time" },
		{ "Host", "host" },
	};
	char id[256], path[600];
	json_t *action, *events;
	int rc = CLI_OK;

	if (argc != 2 && argc != 3)
		return CLI_USAGE;
	if ((rc = server_ref(c, argv[1], id, sizeof id)) != CLI_OK)
		return rc;
	if (argc == 2) {
		snprintf(path, sizeof path, "/v2.1/servers/%s/os-instance-actions", id);
		return list(c, path, "instanceActions", cols, ARRAY_LEN(cols));
	}
	if (strlen(argv[2]) > 128 || strcspn(argv[2], "/?#%") != strlen(argv[2]))
		return CLI_USAGE;
	snprintf(path, sizeof path, "/v2.1/servers/%s/os-instance-actions/%s",
	    id, argv[2]);
	c->microversion = "2.84";
	action = cli_get_key(c, path, "instanceAction", &rc);
	c->microversion = NULL;
	if (action == NULL)
		return rc;
	if ((events = json_object_get(action, "events")) == NULL) {
		fprintf(stderr, "kumo: no events in the answer\n");
		json_decref(action);
		return CLI_ERR;
	}
	cli_print_rows(c, events, event_cols, ARRAY_LEN(event_cols));
	json_decref(action);
	return CLI_OK;
}

/* ---- flavors (admin) ---- */

static int flavor_create(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ram", required_argument, NULL, 'r' },
		{ "disk", required_argument, NULL, 'd' },
		{ "vcpus", required_argument, NULL, 'v' },
		{ "id", required_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	int ram = -1, disk = -1, vcpus = -1, ch, rc;
	const char *fid = NULL;
	json_t *f, *out = NULL;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		int *dst = ch == 'r' ? &ram : ch == 'd' ? &disk : ch == 'v' ? &vcpus : NULL;

		if (ch == 'i')
			fid = optarg;
		else if (dst == NULL || num_parse_int(optarg, 0, 1 << 30, dst) < 0)
			return CLI_USAGE;
	}
	if (ram < 0 || disk < 0 || vcpus < 0 || optind != argc - 1)
		return CLI_USAGE;
	f = json_pack("{s:s, s:i, s:i, s:i}", "name", argv[optind], "ram", ram,
	    "disk", disk, "vcpus", vcpus);
	if (fid != NULL)
		json_object_set_new(f, "id", json_string(fid));
	rc = cli_send_expect(c, "POST", "/v2.1/flavors", json_pack("{s:o}", "flavor", f),
	    200, &out);
	if (rc == CLI_OK)
		cli_print_object(c, json_object_get(out, "flavor"));
	json_decref(out);
	return rc;
}

static int flavor_delete(struct cli *c, int argc, char **argv)
{
	char path[320];
	int rc = item_path(c, argc, argv, &cli_kind_flavor, path,
	    sizeof path);

	return rc != CLI_OK ? rc : cli_send_expect(c, "DELETE", path, NULL, 202, NULL);
}

/* ---- keypairs, limits ---- */

/* /v2.1/os-keypairs/NAME, the name percent-encoded. -1 when too long. */
static int keypair_path(const char *name, char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, "/v2.1/os-keypairs/");

	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (n + 4 >= len)
			return -1;
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p))
			buf[n++] = (char)*p;
		else
			n += (size_t)snprintf(buf + n, len - n, "%%%02X", *p);
	}
	buf[n] = '\0';
	return 0;
}

static int keypair_list(struct cli *c, int argc, char **argv)
{
	static const struct cli_col cols[] = {
		{ "Name", "name" }, { "Fingerprint", "fingerprint" },
	};
	json_t *items, *it, *rows;
	size_t i;
	int rc = CLI_OK;

	(void)argv;
	if (argc != 1)
		return CLI_USAGE;
	if ((items = cli_get_key(c, "/v2.1/os-keypairs", "keypairs", &rc)) == NULL)
		return rc;
	rows = json_array();   /* each item is {"keypair": {...}} */
	json_array_foreach(items, i, it)
		json_array_append(rows, json_object_get(it, "keypair"));
	cli_print_rows(c, rows, cols, ARRAY_LEN(cols));
	json_decref(rows);
	json_decref(items);
	return CLI_OK;
}

static int keypair_show(struct cli *c, int argc, char **argv)
{
	char path[600];

	if (argc != 2 || keypair_path(argv[1], path, sizeof path) < 0)
		return CLI_USAGE;
	return show(c, path, "keypair");
}

static int keypair_delete(struct cli *c, int argc, char **argv)
{
	char path[600];

	if (argc != 2 || keypair_path(argv[1], path, sizeof path) < 0)
		return CLI_USAGE;
	return cli_send_expect(c, "DELETE", path, NULL, 202, NULL);
}

/* The public key file's text (at most 16 KiB), or NULL (printed). */
static char *read_key(const char *file)
{
	FILE *f = fopen(file, "r");
	char *buf = calloc(1, 16385);
	size_t n = 0;

	if (f == NULL || buf == NULL) {
		fprintf(stderr, "kumo: %s: cannot read\n", file);
		goto fail;
	}
	n = fread(buf, 1, 16385, f);
	if (n == 0 || n > 16384 || ferror(f)) {
		fprintf(stderr, "kumo: %s: empty, unreadable or larger than 16 KiB\n", file);
		goto fail;
	}
	fclose(f);
	return buf;
fail:
	if (f != NULL)
		fclose(f);
	free(buf);
	return NULL;
}

/* Opens FILE for a new private key: created 0600, never over an existing
 * file (a key there may be the only copy). -1 when it cannot (printed). */
static int private_key_open(const char *file)
{
	int fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0)
		fprintf(stderr, "kumo: %s: %s\n", file, strerror(errno));
	return fd;
}

/* Writes the private key to fd; CLI_OK or CLI_ERR (printed). */
static int private_key_write(int fd, const char *file, const char *pem)
{
	size_t len = strlen(pem), off = 0;
	ssize_t n;

	while (off < len) {
		if ((n = write(fd, pem + off, len - off)) < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "kumo: %s: %s\n", file, strerror(errno));
			return CLI_ERR;
		}
		off += (size_t)n;
	}
	return CLI_OK;
}

/* Prints or saves the private key of a generated pair: into the new file
 * given, else on stdout as PEM (as `openstack keypair create` does), or
 * within the object with -f json. */
static int keypair_show_new(struct cli *c, json_t *kp, int fd, const char *file)
{
	const char *pem = json_string_value(json_object_get(kp, "private_key"));

	if (pem == NULL) {
		cli_print_object(c, kp);
		return CLI_OK;
	}
	if (fd >= 0) {
		if (private_key_write(fd, file, pem) != CLI_OK)
			return CLI_ERR;
		json_object_del(kp, "private_key");
		cli_print_object(c, kp);
	} else if (c->fmt == FMT_JSON) {
		cli_print_object(c, kp);
	} else {
		fputs(pem, stdout);
	}
	return CLI_OK;
}

/* keypair create [--public-key FILE | --private-key FILE] NAME: imports
 * the public key, or has the server generate a pair. */
static int keypair_create(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "public-key", required_argument, NULL, 'u' },
		{ "private-key", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	const char *pubfile = NULL, *privfile = NULL;
	json_t *kp, *out = NULL;
	char *key = NULL;
	int ch, rc, fd = -1;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'u')
			pubfile = optarg;
		else if (ch == 'p')
			privfile = optarg;
		else
			return CLI_USAGE;
	}
	if (optind != argc - 1 || (pubfile != NULL && privfile != NULL))
		return CLI_USAGE;
	if (pubfile != NULL && (key = read_key(pubfile)) == NULL)
		return CLI_USAGE;
	if (privfile != NULL && (fd = private_key_open(privfile)) < 0)
		return CLI_ERR;
	kp = json_pack("{s:s}", "name", argv[optind]);
	if (key != NULL)
		json_object_set_new(kp, "public_key", json_string(key));
	free(key);
	rc = cli_send_expect(c, "POST", "/v2.1/os-keypairs", json_pack("{s:o}",
	    "keypair", kp), 200, &out);
	if (rc == CLI_OK)
		rc = keypair_show_new(c, json_object_get(out, "keypair"), fd, privfile);
	if (fd >= 0) {
		if (close(fd) != 0 && rc == CLI_OK)
			rc = CLI_ERR;
		if (rc != CLI_OK)
			unlink(privfile);
	}
	json_decref(out);
	return rc;
}

static int limits_show(struct cli *c, int argc, char **argv)
{
	int rc = CLI_OK;
	json_t *lim;

	(void)argv;
	if (argc != 1)
		return CLI_USAGE;
	if ((lim = cli_get_key(c, "/v2.1/limits", "limits", &rc)) == NULL)
		return rc;
	cli_print_object(c, json_object_get(lim, "absolute"));
	json_decref(lim);
	return CLI_OK;
}

const struct cli_cmd cli_cmds[] = {
	{ "server", "list", cli_server_list, "", "list servers: status, addresses (Networks), image and flavor names, host", false },
	{ "server", "show", cli_server_show, "ID|NAME", "show one server", false },
	{ "server", "create", cli_server_create, "--flavor F --image I [--key-name K] [--nic none|auto|net-id=UUID|v4-fixed-ip=ADDR]... [--user-data FILE] [--config-drive] [--property KEY=VALUE]... [--wait] NAME", "boot a server", false },
	{ "server", "delete", cli_server_delete, "ID|NAME [--wait]", "delete a server", false },
	{ "server", "ssh", cli_server_ssh, "[--login USER] [--identity KEY] [--network LABEL] ID|NAME [-- SSH_OPTIONS...]", "ssh to a server's fixed address (login root by default; $KUMO_SSH: the ssh binary)", false },
	{ "server", "reboot", server_reboot, "[--hard] ID|NAME", "reboot a server", false },
	{ "server", "stop", server_stop, "ID|NAME", "power a server off", false },
	{ "server", "start", server_start, "ID|NAME", "power a server on", false },
	{ "server", "events", server_events, "ID|NAME [REQUEST_ID]", "what was done to a server (actions), or the steps (events) of one", false },
	{ "console", "log", console_log, "[--lines N] ID|NAME", "a server's console output", false },
	{ "flavor", "list", flavor_list, "", "list flavors", false },
	{ "flavor", "show", flavor_show, "ID|NAME", "show one flavor", false },
	{ "flavor", "create", flavor_create, "--ram MB --disk GB --vcpus N [--id ID] NAME", "create a flavor (admin)", false },
	{ "flavor", "delete", flavor_delete, "ID|NAME", "delete a flavor (admin)", false },
	{ "keypair", "list", keypair_list, "", "list your keypairs", false },
	{ "keypair", "show", keypair_show, "NAME", "show one keypair", false },
	{ "keypair", "create", keypair_create, "[--public-key FILE | --private-key FILE] NAME", "import a public key, or generate a pair (private key printed, or saved to a new FILE)", false },
	{ "keypair", "delete", keypair_delete, "NAME", "delete a keypair", false },
	{ "limits", "show", limits_show, "", "your project's quotas and usage", false },
	{ "image", "list", image_list, "", "list images", false },
	{ "image", "show", image_show, "ID|NAME", "show one image", false },
	{ "image", "create", image_create, "[--file PATH] [--disk-format raw|qcow2] [--property KEY=VALUE]... NAME", "register an image, uploading its data from PATH", false },
	{ "image", "delete", image_delete, "ID|NAME", "delete an image", false },
	{ "network", "list", network_list, "", "list networks and their address ranges", false },
	{ "hypervisor", "list", hypervisor_list, "", "list compute hosts and their usage (admin)", false },
	{ "service", "list", service_list, "", "list services and whether they are up (admin)", false },
	{ "token", "issue", cli_token_issue, "", "log in (or take the cached token): its id, expiry, project and user", false },
	{ "completion", "bash", cli_completion_bash, "", "print a bash completion script: source <(kumo completion bash)", true },
};
const size_t cli_ncmds = ARRAY_LEN(cli_cmds);
