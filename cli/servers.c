/*
 * Server commands: what a user needs to reach a server. Tables show
 * openstackclient's columns (Networks, flavor and image by name), computed
 * here into rows of plain strings; -f json prints the API's objects as
 * they came.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "cli/cli.h"
#include "common/common.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define USER_DATA_MAX 65535     /* Nova's limit, in base64 characters */
_Static_assert(USER_DATA_MAX / 4 * 3 == 49149, "add_user_data's message");

/* {id: name} of the items of a list, for cells that name them. One
 * request; an empty object when it cannot be read (the cells then show
 * ids). NULL only when out of memory. */
static json_t *names_of(struct cli *c, const char *path, const char *key)
{
	json_t *names = json_object(), *it, *rows;
	const char *more;
	char next[2048];
	struct cli_resp r;
	size_t i;

	if (names == NULL || (strncmp(path, "/v2/", 4) == 0 &&
	    (c->image_url == NULL || *c->image_url == '\0')))
		return names;
	/* every page: Glance's lists link the next one */
	for (more = path; str_copy(next, more, sizeof next) == 0; ) {
		if (cli_request(c, "GET", next, NULL, &r) < 0)
			return names;
		rows = r.status == 200 ? json_object_get(r.body, key) : NULL;
		json_array_foreach(rows, i, it) {
			json_t *id = json_object_get(it, "id");
			json_t *nm = json_object_get(it, "name");

			if (json_is_string(id) && json_is_string(nm))
				json_object_set(names, json_string_value(id), nm);
		}
		more = json_string_value(json_object_get(r.body, "next"));
		if (rows == NULL || json_array_size(rows) == 0 || more == NULL ||
		    str_copy(next, more, sizeof next) < 0) {
			cli_resp_free(&r);
			break;
		}
		more = next;
		cli_resp_free(&r);
	}
	return names;
}

/* The id of a server's flavor or image: "" for none (an image of "",
 * a 2.47 embedded flavor). */
static const char *ref_id(json_t *server, const char *field)
{
	const char *id = json_string_value(json_object_get(
	    json_object_get(server, field), "id"));

	return id != NULL ? id : "";
}

/* One row of `server list`'s table: plain strings. */
static json_t *list_row(json_t *s, json_t *images, json_t *flavors)
{
	char *nets = cli_fmt_networks(json_object_get(s, "addresses"));
	const char *fid = ref_id(s, "flavor");
	const char *fname = json_string_value(json_object_get(
	    json_object_get(s, "flavor"), "original_name"));
	json_t *row = json_pack("{s:O?, s:O?, s:O?, s:O?, s:s, s:s, s:s}",
	    "id", json_object_get(s, "id"), "name", json_object_get(s, "name"),
	    "status", json_object_get(s, "status"),
	    "host", json_object_get(s, "OS-EXT-SRV-ATTR:host"),
	    "networks", nets ? nets : "",
	    "image", cli_name_of(images, ref_id(s, "image")),
	    "flavor", *fid || fname == NULL ? cli_name_of(flavors, fid) : fname);

	free(nets);
	return row;
}

/* Rows of plain strings for servers; Host only when the answer had it
 * (admins). */
static void print_servers(struct cli *c, json_t *servers, json_t *images,
    json_t *flavors)
{
	static const struct cli_col cols[] = {
		{ "ID", "id" }, { "Name", "name" }, { "Status", "status" },
		{ "Networks", "networks" }, { "Image", "image" },
		{ "Flavor", "flavor" }, { "Host", "host" },
	};
	json_t *rows = json_array(), *s;
	size_t i, ncols = ARRAY_LEN(cols) - 1;

	json_array_foreach(servers, i, s) {
		json_array_append_new(rows, list_row(s, images, flavors));
		if (json_object_get(s, "OS-EXT-SRV-ATTR:host") != NULL)
			ncols = ARRAY_LEN(cols);
	}
	cli_print_rows(c, rows, cols, ncols);
	json_decref(rows);
}

int cli_server_list(struct cli *c, int argc, char **argv)
{
	json_t *servers, *images, *flavors;
	int rc = CLI_OK;

	(void)argv;
	if (argc != 1)
		return CLI_USAGE;
	servers = cli_get_key(c, "/v2.1/servers/detail", "servers", &rc);
	if (servers == NULL)
		return rc;
	if (c->fmt == FMT_JSON) {
		cli_print_rows(c, servers, NULL, 0);
		json_decref(servers);
		return CLI_OK;
	}
	images = names_of(c, "/v2/images", "images");
	flavors = names_of(c, "/v2.1/flavors/detail?is_public=None", "flavors");
	print_servers(c, servers, images, flavors);
	json_decref(images);
	json_decref(flavors);
	json_decref(servers);
	return CLI_OK;
}

/* Replaces s[key] with the text fmt makes of it (when s has it). */
static void reformat(json_t *s, const char *key, char *(*fmt)(json_t *))
{
	json_t *v = json_object_get(s, key);
	char *text;

	if (v == NULL || (text = fmt(v)) == NULL)
		return;
	json_object_set_new(s, key, json_string(text));
	free(text);
}

/* openstackclient's `server show` view of s, in place: no links, flavor
 * and image as "name (id)", the rest as its formats. */
static void show_view(struct cli *c, json_t *s)
{
	json_t *flavor = json_object_get(s, "flavor"), *names;
	const char *iid = ref_id(s, "image"), *fid = ref_id(s, "flavor");

	json_object_del(s, "links");
	if (*iid) {
		names = names_of(c, "/v2/images", "images");
		json_object_set_new(s, "image", cli_fmt_named(names, iid));
		json_decref(names);
	}
	if (*fid) {
		names = names_of(c, "/v2.1/flavors/detail?is_public=None", "flavors");
		json_object_set_new(s, "flavor", cli_fmt_named(names, fid));
		json_decref(names);
	} else if (json_is_object(flavor)) {
		reformat(s, "flavor", cli_fmt_dict);
	}
	reformat(s, "addresses", cli_fmt_networks);
	reformat(s, "metadata", cli_fmt_dict);
	reformat(s, "security_groups", cli_fmt_dict_list);
}

/* Prints server id: the API's object with -f json, else show_view's. */
static int print_server(struct cli *c, const char *id)
{
	char path[320];
	json_t *s;
	int rc = CLI_OK;

	if (str_fmt(path, sizeof path, "/v2.1/servers/%s", id) < 0)
		return CLI_ERR;
	if ((s = cli_get_key(c, path, "server", &rc)) == NULL)
		return rc;
	if (c->fmt != FMT_JSON)
		show_view(c, s);
	cli_print_object(c, s);
	json_decref(s);
	return CLI_OK;
}

int cli_server_show(struct cli *c, int argc, char **argv)
{
	char id[256];
	int rc;

	if (argc != 2)
		return CLI_USAGE;
	if ((rc = cli_resolve(c, &cli_kind_server, argv[1], id, sizeof id)))
		return rc;
	return print_server(c, id);
}

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
			char *text = cli_escape(m ? m : "(no fault)");

			fprintf(stderr, "%skumo: server %s is ERROR: %s\n",
			    isatty(2) ? "\n" : "", id, text ? text : "(no fault)");
			free(text);
			cli_resp_free(&r);
			return CLI_SERVER;
		}
		cli_resp_free(&r);
		usleep(100000);
	}
	fprintf(stderr, "\nkumo: gave up waiting (last status %s)\n", st ? st : "?");
	return CLI_ERR;
}

/* ---- server create ---- */

struct create_opts {
	const char *flavor, *image;
	bool wait;
	json_t *server;      /* the request's "server" object, being filled */
	json_t *nics;        /* the networks list; NULL without --nic */
	bool auto_none;      /* a --nic auto or none: needs 2.37 */
};

/* The keys of one --nic's KEY=VALUE[,KEY=VALUE] and what Nova calls them. */
static const struct {
	const char *opt, *key;
	bool (*valid)(const char *);
} nic_keys[] = {
	{ "net-id", "uuid", uuid_valid },
	{ "v4-fixed-ip", "fixed_ip", NULL },  /* ip4_parse, in nic_value_ok */
};

static bool nic_value_ok(size_t k, const char *v)
{
	uint32_t a;

	return nic_keys[k].valid ? nic_keys[k].valid(v) : ip4_parse(v, &a) == 0;
}

static int nic_usage(void)
{
	fprintf(stderr, "kumo: --nic takes none, auto, or net-id=UUID and/or "
	    "v4-fixed-ip=ADDR (comma-separated)\n");
	return -1;
}

/* One "KEY=VALUE" of a --nic into nic. -1 (printed). */
static int nic_pair(json_t *nic, char *pair)
{
	char *eq = strchr(pair, '=');

	for (size_t k = 0; eq != NULL && k < ARRAY_LEN(nic_keys); k++) {
		if (strncmp(pair, nic_keys[k].opt, (size_t)(eq - pair)) != 0 ||
		    nic_keys[k].opt[eq - pair] != '\0')
			continue;
		if (!nic_value_ok(k, eq + 1) || json_object_get(nic, nic_keys[k].key))
			break;
		return json_object_set_new(nic, nic_keys[k].key, json_string(eq + 1));
	}
	return nic_usage();
}

/* --nic none|auto|net-id=UUID[,v4-fixed-ip=ADDR]|v4-fixed-ip=ADDR. */
static int add_nic(struct create_opts *o, const char *arg)
{
	char buf[512], *save = NULL, *pair;
	json_t *nic;

	if (strcmp(arg, "none") == 0 || strcmp(arg, "auto") == 0) {
		o->auto_none = true;
		return json_array_append_new(o->nics, json_string(arg));
	}
	if (str_copy(buf, arg, sizeof buf) < 0)
		return nic_usage();
	nic = json_object();
	for (pair = strtok_r(buf, ",", &save); pair; pair = strtok_r(NULL, ",", &save))
		if (nic_pair(nic, pair) < 0) {
			json_decref(nic);
			return -1;
		}
	if (json_object_size(nic) == 0) {
		json_decref(nic);
		return nic_usage();
	}
	return json_array_append_new(o->nics, nic);
}

/* The networks value from the --nic list: "none"/"auto" alone, else the
 * list. NULL (printed) for a mix. */
static json_t *nics_value(struct create_opts *o)
{
	if (!o->auto_none)
		return json_incref(o->nics);
	if (json_array_size(o->nics) != 1) {
		fprintf(stderr, "kumo: --nic none and --nic auto cannot be "
		    "combined with other --nic options\n");
		return NULL;
	}
	return json_incref(json_array_get(o->nics, 0));
}

/* --user-data FILE as base64 into the request. -1 (printed). */
static int add_user_data(struct create_opts *o, const char *file)
{
	unsigned char raw[USER_DATA_MAX / 4 * 3 + 1];
	char enc[USER_DATA_MAX + 2];
	FILE *f = fopen(file, "rb");
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "kumo: %s: %s\n", file, strerror(errno));
		return -1;
	}
	n = fread(raw, 1, sizeof raw, f);
	if (ferror(f) || n == sizeof raw) {
		fprintf(stderr, "kumo: %s: %s\n", file, ferror(f) ? "cannot read" :
		    "user data over 65535 characters once base64-encoded (Nova's "
		    "limit): at most 49149 bytes");
		fclose(f);
		return -1;
	}
	fclose(f);
	EVP_EncodeBlock((unsigned char *)enc, raw, (int)n);
	json_object_set_new(o->server, "user_data", json_string(enc));
	return 0;
}

/* One option of server create into o. 0, or -1 (printed, or a usage
 * error). */
static int create_opt(struct create_opts *o, int ch, const char *arg)
{
	json_t *md;

	switch (ch) {
	case 'f': o->flavor = arg; return 0;
	case 'i': o->image = arg; return 0;
	case 'w': o->wait = true; return 0;
	case 'k':
		return json_object_set_new(o->server, "key_name", json_string(arg));
	case 'n': return add_nic(o, arg);
	case 'u': return add_user_data(o, arg);
	case 'c':
		return json_object_set_new(o->server, "config_drive", json_true());
	case 'p':
		if ((md = json_object_get(o->server, "metadata")) == NULL) {
			md = json_object();
			json_object_set_new(o->server, "metadata", md);
		}
		return cli_property(md, arg);
	}
	return -1;
}

/* Posts the server; its id into id. At 2.37 for --nic auto|none. */
static int create_post(struct cli *c, struct create_opts *o, char *id,
    size_t idlen)
{
	json_t *out = NULL, *nets = NULL;
	int rc;

	if (json_array_size(o->nics) > 0 && (nets = nics_value(o)) == NULL)
		return CLI_USAGE;
	if (nets != NULL)
		json_object_set_new(o->server, "networks", nets);
	c->microversion = o->auto_none ? "2.37" : NULL;
	rc = cli_send_expect(c, "POST", "/v2.1/servers",
	    json_pack("{s:O}", "server", o->server), 202, &out);
	c->microversion = NULL;
	if (rc == CLI_OK && (str_copy(id, json_string_value(json_object_get(
	    json_object_get(out, "server"), "id")) ?: "", idlen) < 0 || !*id)) {
		fprintf(stderr, "kumo: unexpected answer from /v2.1/servers\n");
		rc = CLI_ERR;
	}
	json_decref(out);
	return rc;
}

int cli_server_create(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "flavor", required_argument, NULL, 'f' },
		{ "image", required_argument, NULL, 'i' },
		{ "wait", no_argument, NULL, 'w' },
		{ "key-name", required_argument, NULL, 'k' },
		{ "nic", required_argument, NULL, 'n' },
		{ "user-data", required_argument, NULL, 'u' },
		{ "config-drive", no_argument, NULL, 'c' },
		{ "property", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	struct create_opts o = { .server = json_object(), .nics = json_array() };
	char fid[256], iid[256], id[64];
	int ch, rc = CLI_USAGE;

	optind = 0;     /* reinitialise: options may follow NAME */
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1)
		if (create_opt(&o, ch, optarg) < 0)
			goto out;
	if (o.flavor == NULL || o.image == NULL || optind != argc - 1)
		goto out;
	if ((rc = cli_resolve(c, &cli_kind_flavor, o.flavor, fid, sizeof fid)) ||
	    (rc = cli_resolve(c, &cli_kind_image, o.image, iid, sizeof iid)))
		goto out;
	json_object_set_new(o.server, "name", json_string(argv[optind]));
	json_object_set_new(o.server, "imageRef", json_string(iid));
	json_object_set_new(o.server, "flavorRef", json_string(fid));
	if ((rc = create_post(c, &o, id, sizeof id)) != CLI_OK)
		goto out;
	if (!o.wait || (rc = wait_server(c, id, false)) == CLI_OK)
		rc = print_server(c, id);
out:
	json_decref(o.server);
	json_decref(o.nics);
	return rc;
}

int cli_server_delete(struct cli *c, int argc, char **argv)
{
	char id[256], path[320];
	bool wait = false;
	int rc;

	if (argc == 3 && strcmp(argv[2], "--wait") == 0)
		wait = true;
	else if (argc != 2)
		return CLI_USAGE;
	if ((rc = cli_resolve(c, &cli_kind_server, argv[1], id, sizeof id)))
		return rc;
	snprintf(path, sizeof path, "/v2.1/servers/%s", id);
	if ((rc = cli_send_expect(c, "DELETE", path, NULL, 204, NULL)) != CLI_OK)
		return rc;
	return wait ? wait_server(c, id, true) : CLI_OK;
}
