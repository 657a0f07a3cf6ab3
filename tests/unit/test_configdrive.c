/*
 * Unit tests of compute/configdrive.c: the documents (meta_data.json per
 * version, network_data.json), then whole drives written to a temporary
 * directory and read back, byte for byte, with libisofs' own reader, by
 * the raw primary volume descriptor, and with genisoimage's isoinfo and
 * mtools when they are installed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#define LIBISOFS_WITHOUT_LIBBURN 1
#include <libisofs/libisofs.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "compute/compute.h"

#define UUID "8c1d0f4e-6a57-4b8e-9d63-0d8f5f2b3a11"
#define KEY "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq0 test@kumo"

struct fx {
	char dir[64];
	char path[128];
	struct configdrive cd;
	struct configdrive_nic nic[2];
	unsigned char ud[300];
	json_t *meta;
};

static void nic_fill(struct configdrive_nic *n, const char *vif,
    const char *mac, const char *addr)
{
	memset(n, 0, sizeof *n);
	strcpy(n->vif_id, vif);
	strcpy(n->network_id, "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d");
	strcpy(n->mac, mac);
	strcpy(n->address, addr);
	n->prefix = 24;
	strcpy(n->gateway, "10.99.0.1");
	strcpy(n->dns, "10.99.0.1");
	n->mtu = 1500;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);

	assert_non_null(f);
	strcpy(f->dir, "/tmp/kumo-test-cd-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(str_fmt(f->path, sizeof f->path, "%s/disk.config",
	    f->dir), 0);
	for (size_t i = 0; i < sizeof f->ud; i++)   /* every byte value, NULs too */
		f->ud[i] = (unsigned char)(i * 7);
	nic_fill(&f->nic[0], "3f1e2d4c-5b6a-4789-8abc-def012345678",
	    "FA:16:3E:12:34:56", "10.99.0.13");
	nic_fill(&f->nic[1], "7a7b7c7d-0000-4000-8000-000000000001",
	    "fa:16:3e:00:00:02", "10.98.0.5");
	f->nic[1].prefix = 20;
	f->nic[1].gateway[0] = '\0';
	f->nic[1].mtu = 0;
	f->meta = json_object();
	json_object_set_new(f->meta, "role", json_string("web"));
	f->cd = (struct configdrive){
		.uuid = UUID, .name = "vm1", .hostname = "vm1.novalocal",
		.availability_zone = "", .project_id = "p1",
		.launch_index = 2,
		.key_name = "k1", .key_data = KEY, .key_type = "ssh",
		.user_data = f->ud, .user_data_len = sizeof f->ud,
		.meta = f->meta, .nics = f->nic, .n_nics = 1,
	};
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[160];

	json_decref(f->meta);
	assert_int_equal(str_fmt(cmd, sizeof cmd, "rm -rf %s", f->dir), 0);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static char *dumps(json_t *doc)
{
	char *s;

	assert_non_null(doc);
	s = json_dumps(doc, JSON_ENSURE_ASCII);
	json_decref(doc);
	assert_non_null(s);
	return s;
}

/* Nova's _metadata_as_json() for 2012-08-10: keys, order and separators. */
static void test_meta_data_folsom_bytes(void **state)
{
	struct fx *f = *state;
	char *s = dumps(configdrive_meta_data(&f->cd, "2012-08-10"));

	assert_string_equal(s, "{\"uuid\": \"" UUID "\", \"meta\": {\"role\": "
	    "\"web\"}, \"public_keys\": {\"k1\": \"" KEY "\"}, \"keys\": "
	    "[{\"name\": \"k1\", \"type\": \"ssh\", \"data\": \"" KEY "\"}], "
	    "\"hostname\": \"vm1.novalocal\", \"name\": \"vm1\", "
	    "\"launch_index\": 2, \"availability_zone\": \"nova\"}");
	free(s);
}

static void test_meta_data_versions(void **state)
{
	static const struct {
		const char *v;
		bool seed, project, devices, cpus;
	} rows[] = {
		{ "2012-08-10", 0, 0, 0, 0 }, { "2013-04-04", 1, 0, 0, 0 },
		{ "2013-10-17", 1, 0, 0, 0 }, { "2015-10-15", 1, 1, 0, 0 },
		{ "2016-06-30", 1, 1, 1, 0 }, { "2016-10-06", 1, 1, 1, 0 },
		{ "2017-02-22", 1, 1, 1, 0 }, { "2018-08-27", 1, 1, 1, 0 },
		{ "2020-10-14", 1, 1, 1, 1 }, { "latest", 1, 1, 1, 1 },
	};
	struct fx *f = *state;

	for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
		json_t *md = configdrive_meta_data(&f->cd, rows[i].v), *seed;

		assert_non_null(md);
		seed = json_object_get(md, "random_seed");
		assert_int_equal(seed != NULL, rows[i].seed);
		if (seed) {   /* 512 bytes in standard base64: 684 chars, one '=' */
			assert_int_equal(json_string_length(seed), 684);
			assert_int_equal(json_string_value(seed)[683], '=');
			assert_int_equal(json_string_value(seed)[682] != '=', 1);
		}
		assert_int_equal(json_object_get(md, "project_id") != NULL,
		    rows[i].project);
		assert_int_equal(json_is_array(json_object_get(md, "devices")),
		    rows[i].devices);
		assert_int_equal(json_is_array(json_object_get(md,
		    "dedicated_cpus")), rows[i].cpus);
		json_decref(md);
	}
	assert_null(configdrive_meta_data(&f->cd, "2019-01-01"));
	assert_null(configdrive_meta_data(&f->cd, NULL));
}

static void test_meta_data_order_and_options(void **state)
{
	static const char *const order[] = { "uuid", "meta", "public_keys",
		"keys", "hostname", "name", "launch_index", "availability_zone",
		"random_seed", "project_id", "devices", "dedicated_cpus" };
	struct fx *f = *state;
	json_t *md = configdrive_meta_data(&f->cd, "latest"), *empty;
	const char *k;
	json_t *v;
	size_t i = 0;

	json_object_foreach(md, k, v)
		assert_string_equal(k, order[i++]);
	assert_int_equal(i, sizeof order / sizeof *order);
	assert_string_equal(json_string_value(json_object_get(md, "project_id")),
	    "p1");
	json_decref(md);

	/* No key pair, no metadata (NULL or {}), an x509 key, a zone. */
	f->cd.key_name = NULL;
	f->cd.meta = NULL;
	md = configdrive_meta_data(&f->cd, "latest");
	assert_null(json_object_get(md, "public_keys"));
	assert_null(json_object_get(md, "keys"));
	assert_null(json_object_get(md, "meta"));
	json_decref(md);
	f->cd.meta = empty = json_object();
	f->cd.key_name = "";
	md = configdrive_meta_data(&f->cd, "latest");
	assert_null(json_object_get(md, "meta"));
	assert_null(json_object_get(md, "keys"));
	json_decref(md);
	f->cd.meta = NULL;
	json_decref(empty);
	f->cd.key_name = "cert";
	f->cd.key_type = "x509";
	f->cd.availability_zone = "az1";
	md = configdrive_meta_data(&f->cd, "latest");
	assert_non_null(md);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(md, "keys"), 0), "type")), "x509");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    md, "public_keys"), "cert")), KEY);
	assert_string_equal(json_string_value(json_object_get(md,
	    "availability_zone")), "az1");
	json_decref(md);
}

static void test_network_data(void **state)
{
	struct fx *f = *state;
	char *s;
	json_t *nd, *net;

	f->cd.n_nics = 0;
	assert_null(configdrive_network_data(&f->cd));
	f->cd.n_nics = 1;
	s = dumps(configdrive_network_data(&f->cd));
	assert_string_equal(s, "{\"links\": [{\"id\": \"tap3f1e2d4c-5b\", "
	    "\"vif_id\": \"3f1e2d4c-5b6a-4789-8abc-def012345678\", \"type\": "
	    "\"bridge\", \"mtu\": 1500, \"ethernet_mac_address\": "
	    "\"fa:16:3e:12:34:56\"}], \"networks\": [{\"id\": \"network0\", "
	    "\"type\": \"ipv4\", \"link\": \"tap3f1e2d4c-5b\", \"ip_address\": "
	    "\"10.99.0.13\", \"netmask\": \"255.255.255.0\", \"routes\": "
	    "[{\"network\": \"0.0.0.0\", \"netmask\": \"0.0.0.0\", \"gateway\": "
	    "\"10.99.0.1\"}], \"network_id\": "
	    "\"0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d\", \"services\": "
	    "[{\"type\": \"dns\", \"address\": \"10.99.0.1\"}]}], "
	    "\"services\": [{\"type\": \"dns\", \"address\": \"10.99.0.1\"}]}");
	free(s);

	/* A second NIC: /20, no gateway (no route), no MTU, the same DNS
	 * server (listed once at the top). */
	f->cd.n_nics = 2;
	nd = configdrive_network_data(&f->cd);
	assert_int_equal(json_array_size(json_object_get(nd, "links")), 2);
	net = json_array_get(json_object_get(nd, "networks"), 1);
	assert_string_equal(json_string_value(json_object_get(net, "id")),
	    "network1");
	assert_string_equal(json_string_value(json_object_get(net, "link")),
	    "tap7a7b7c7d-00");
	assert_string_equal(json_string_value(json_object_get(net, "netmask")),
	    "255.255.240.0");
	assert_int_equal(json_array_size(json_object_get(net, "routes")), 0);
	assert_true(json_is_null(json_object_get(json_array_get(
	    json_object_get(nd, "links"), 1), "mtu")));
	assert_int_equal(json_array_size(json_object_get(nd, "services")), 1);
	json_decref(nd);
	f->nic[1].dns[0] = '\0';
	nd = configdrive_network_data(&f->cd);
	net = json_array_get(json_object_get(nd, "networks"), 1);
	assert_int_equal(json_array_size(json_object_get(net, "services")), 0);
	json_decref(nd);
}

/* ---- reading drives back ---- */

static bool file_exists(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0;
}

static unsigned char *read_file(const char *p, size_t *len)
{
	FILE *fp = fopen(p, "rb");
	unsigned char *b;
	long n;

	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	rewind(fp);
	b = malloc((size_t)n + 1);
	assert_non_null(b);
	assert_int_equal(fread(b, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	*len = (size_t)n;
	return b;
}

static IsoImage *iso_open(const char *path)
{
	IsoDataSource *src;
	IsoReadOpts *ro;
	IsoImage *img;

	assert_true(iso_data_source_new_from_file(path, &src) >= 0);
	assert_true(iso_read_opts_new(&ro, 0) >= 0);
	assert_true(iso_image_new("read", &img) >= 0);
	assert_true(iso_image_import(img, src, ro, NULL) >= 0);
	iso_read_opts_free(ro);
	iso_data_source_unref(src);
	return img;
}

/* The content of path in img (malloc, NUL-terminated), or NULL. */
static char *iso_get(IsoImage *img, const char *path, size_t *len)
{
	IsoNode *node;
	IsoStream *st;
	char *b;
	size_t got = 0;
	int n;

	if (iso_tree_path_to_node(img, path, &node) != 1)
		return NULL;
	assert_int_equal(iso_node_get_type(node), LIBISO_FILE);
	st = iso_file_get_stream((IsoFile *)node);
	*len = (size_t)iso_stream_get_size(st);
	assert_non_null(b = malloc(*len + 1));
	assert_true(iso_stream_open(st) >= 0);
	while (got < *len && (n = iso_stream_read(st, b + got, *len - got)) > 0)
		got += (size_t)n;
	iso_stream_close(st);
	assert_int_equal(got, *len);
	b[got] = '\0';
	return b;
}

static json_t *iso_json(IsoImage *img, const char *path)
{
	size_t len;
	char *s = iso_get(img, path, &len);
	json_t *j;

	assert_non_null(s);
	j = json_loadb(s, len, 0, NULL);
	assert_non_null(j);
	free(s);
	return j;
}

static void assert_iso_text(IsoImage *img, const char *path, const char *want)
{
	size_t len;
	char *s = iso_get(img, path, &len);

	assert_non_null(s);
	assert_int_equal(len, strlen(want));
	assert_string_equal(s, want);
	free(s);
}

/* The primary volume descriptor at 16 * 2048: type 1, "CD001", and the
 * volume id at byte 40, 32 bytes padded with spaces. */
static void assert_pvd(const char *path)
{
	size_t len;
	unsigned char *b = read_file(path, &len);

	assert_true(len >= 32768 + 2048);
	assert_int_equal(len % 2048, 0);
	assert_int_equal(b[32768], 1);
	assert_memory_equal(b + 32768 + 1, "CD001", 5);
	assert_memory_equal(b + 32768 + 40, "config-2                        ", 32);
	free(b);
}

static void test_iso_roundtrip(void **state)
{
	struct fx *f = *state;
	char err[256], tmp[160];
	IsoImage *img;
	json_t *latest, *rocky, *md;
	size_t len;
	char *s;
	struct stat st;

	assert_int_equal(configdrive_write(&f->cd, "iso9660", f->path, err,
	    sizeof err), 0);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_int_equal(str_fmt(tmp, sizeof tmp, "%s.tmp", f->path), 0);
	assert_false(file_exists(tmp));
	assert_pvd(f->path);

	img = iso_open(f->path);
	s = iso_get(img, "/openstack/latest/user_data", &len);
	assert_non_null(s);
	assert_int_equal(len, sizeof f->ud);
	assert_memory_equal(s, f->ud, sizeof f->ud);
	free(s);
	s = iso_get(img, "/ec2/2009-04-04/user-data", &len);
	assert_int_equal(len, sizeof f->ud);
	assert_memory_equal(s, f->ud, sizeof f->ud);
	free(s);

	/* Every version directory agrees but for the gated keys (cloud-init
	 * reads 2018-08-27, not latest). */
	latest = iso_json(img, "/openstack/latest/meta_data.json");
	rocky = iso_json(img, "/openstack/2018-08-27/meta_data.json");
	assert_string_equal(json_string_value(json_object_get(latest, "uuid")),
	    UUID);
	assert_int_equal(json_object_del(latest, "dedicated_cpus"), 0);
	assert_true(json_equal(latest, rocky));
	json_decref(rocky);
	/* The bytes on the drive are the document's dump (seed aside). */
	md = configdrive_meta_data(&f->cd, "latest");
	json_object_set_new(md, "random_seed", json_incref(json_object_get(
	    latest, "random_seed")));
	json_object_del(md, "dedicated_cpus");
	assert_true(json_equal(md, latest));
	json_decref(md);
	json_decref(latest);

	assert_iso_text(img, "/openstack/latest/vendor_data.json", "{}");
	assert_iso_text(img, "/openstack/latest/vendor_data2.json",
	    "{\"static\": {}}");
	s = dumps(configdrive_network_data(&f->cd));
	assert_iso_text(img, "/openstack/2015-10-15/network_data.json", s);
	free(s);
	assert_null(iso_get(img, "/openstack/2013-10-17/network_data.json", &len));
	assert_null(iso_get(img, "/openstack/2012-08-10/vendor_data.json", &len));
	assert_null(iso_get(img, "/openstack/2016-06-30/vendor_data2.json", &len));
	md = iso_json(img, "/ec2/latest/meta-data.json");
	assert_string_equal(json_string_value(json_object_get(md,
	    "local-ipv4")), "10.99.0.13");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    json_object_get(md, "public-keys"), "0"), "openssh-key")), KEY);
	json_decref(md);
	iso_image_unref(img);
}

/* No NIC: no network_data.json at all; no user data: no user_data; and
 * a second write replaces the first. */
static void test_iso_minimal(void **state)
{
	struct fx *f = *state;
	char err[256];
	IsoImage *img;
	size_t len;

	assert_int_equal(configdrive_write(&f->cd, "iso9660", f->path, err,
	    sizeof err), 0);
	f->cd.n_nics = 0;
	f->cd.user_data = NULL;
	assert_int_equal(configdrive_write(&f->cd, "iso9660", f->path, err,
	    sizeof err), 0);
	img = iso_open(f->path);
	assert_null(iso_get(img, "/openstack/latest/network_data.json", &len));
	assert_null(iso_get(img, "/openstack/latest/user_data", &len));
	assert_null(iso_get(img, "/ec2/latest/user-data", &len));
	assert_iso_text(img, "/openstack/latest/vendor_data.json", "{}");
	iso_image_unref(img);
}

/* One bad input each, applied to a good drive by test_bad_input. */
#define BAD(fn, body) static void fn(struct configdrive *cd, \
    struct configdrive_nic *n) { (void)cd; (void)n; body; }
BAD(bad0, strcpy(n->mac, "fa:16:3e:12:34"))
BAD(bad1, strcpy(n->mac, "01:00:5e:00:00:01"))
BAD(bad2, memset(n->mac, 'a', sizeof n->mac))
BAD(bad3, strcpy(n->address, "10.0.0.256"))
BAD(bad4, n->prefix = 31)
BAD(bad5, strcpy(n->gateway, "x"))
BAD(bad6, strcpy(n->vif_id, "nope"))
BAD(bad7, n->mtu = 20)
BAD(bad8, cd->uuid = "8c1d0f4e")
BAD(bad9, cd->uuid = NULL)
BAD(bad10, cd->hostname = "vm 1")
BAD(bad11, cd->hostname = NULL)
BAD(bad12, cd->name = "\xff\xfe")
BAD(bad13, cd->key_type = "rsa")
BAD(bad14, cd->key_data = NULL)
BAD(bad15, cd->launch_index = -1)
BAD(bad16, cd->n_nics = CONFIGDRIVE_NICS_MAX + 1)
#undef BAD

/* Each bad input fails with a reason and leaves no file behind. */
static void test_bad_input(void **state)
{
	struct fx *f = *state;
	struct configdrive good = f->cd;
	struct configdrive_nic nic = f->nic[0];
	static unsigned char big[CONFIGDRIVE_USER_DATA_MAX + 1];
	char longname[300], err[256], tmp[160];
	json_t *badmeta = json_pack("{s:i}", "n", 1);
	struct {
		const char *why;
		void (*apply)(struct configdrive *, struct configdrive_nic *);
	} *c, cases[] = {
		{ "nic 0: mac", bad0 },
		{ "nic 0: mac", bad1 },
		{ "nic 0: mac", bad2 },
		{ "nic 0: address", bad3 },
		{ "nic 0: prefix", bad4 },
		{ "nic 0: gateway", bad5 },
		{ "nic 0: vif_id", bad6 },
		{ "nic 0: mtu", bad7 },
		{ "uuid", bad8 },
		{ "uuid", bad9 },
		{ "hostname", bad10 },
		{ "hostname", bad11 },
		{ "name", bad12 },
		{ "key_type", bad13 },
		{ "key_data", bad14 },
		{ "launch_index", bad15 },
		{ "more than", bad16 },
	};

	assert_int_equal(str_fmt(tmp, sizeof tmp, "%s.tmp", f->path), 0);
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		c = &cases[i];
		f->cd = good;
		f->nic[0] = nic;
		c->apply(&f->cd, &f->nic[0]);
		err[0] = '\0';
		assert_int_equal(configdrive_write(&f->cd, "iso9660", f->path,
		    err, sizeof err), -1);
		if (!strstr(err, c->why))
			fail_msg("case %zu: '%s' lacks '%s'", i, err, c->why);
		assert_false(file_exists(f->path));
		assert_false(file_exists(tmp));
	}
	f->cd = good;
	f->nic[0] = nic;
	f->cd.user_data = big;
	f->cd.user_data_len = sizeof big;
	assert_int_equal(configdrive_write(&f->cd, "iso9660", f->path, err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "user_data is longer than 65535"));
	f->cd.user_data_len = sizeof big - 1;   /* the limit itself is fine */
	assert_int_equal(configdrive_write(&f->cd, "iso9660", f->path, err,
	    sizeof err), 0);
	assert_int_equal(unlink(f->path), 0);
	f->cd = good;
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	f->cd.name = longname;
	assert_int_equal(configdrive_write(&f->cd, "iso9660", f->path, err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "name is longer than 255"));
	f->cd = good;
	f->cd.meta = badmeta;
	assert_int_equal(configdrive_write(&f->cd, "iso9660", f->path, err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "meta 'n'"));
	f->cd = good;
	assert_int_equal(configdrive_write(&f->cd, "udf", f->path, err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "config_drive_format udf"));
	assert_int_equal(configdrive_write(&f->cd, "iso9660",
	    "/nonexistent-dir/disk.config", err, sizeof err), -1);
	assert_non_null(strstr(err, "/nonexistent-dir/disk.config.tmp"));
	assert_false(file_exists(f->path));
	json_decref(badmeta);
}

/* genisoimage's isoinfo, the reader Nova's own drives are checked with. */
static void test_isoinfo_oracle(void **state)
{
	struct fx *f = *state;
	char err[256], cmd[256], buf[4096];
	unsigned char out[sizeof f->ud + 16];
	size_t n;
	FILE *p;

	if (access("/usr/bin/isoinfo", X_OK) != 0)
		skip();
	assert_int_equal(configdrive_write(&f->cd, "iso9660", f->path, err,
	    sizeof err), 0);
	assert_int_equal(str_fmt(cmd, sizeof cmd, "/usr/bin/isoinfo -R -x "
	    "/openstack/latest/user_data -i %s", f->path), 0);
	assert_non_null(p = popen(cmd, "r"));
	n = fread(out, 1, sizeof out, p);
	assert_int_equal(pclose(p), 0);
	assert_int_equal(n, sizeof f->ud);
	assert_memory_equal(out, f->ud, sizeof f->ud);
	assert_int_equal(str_fmt(cmd, sizeof cmd, "/usr/bin/isoinfo -d -i %s",
	    f->path), 0);
	assert_non_null(p = popen(cmd, "r"));
	n = fread(buf, 1, sizeof buf - 1, p);
	buf[n] = '\0';
	assert_int_equal(pclose(p), 0);
	assert_non_null(strstr(buf, "Volume id: config-2\n"));
	assert_non_null(strstr(buf, "Joliet"));
	assert_non_null(strstr(buf, "Rock Ridge"));
}

/* vfat: 64 MiB, FAT label config-2, user_data read back with mtools. */
static void test_vfat(void **state)
{
	struct fx *f = *state;
	char err[256], cmd[256];
	unsigned char out[sizeof f->ud + 16], boot[64];
	struct stat st;
	size_t n;
	FILE *p;

	if (access("/usr/sbin/mkfs.vfat", X_OK) != 0 ||
	    access("/usr/bin/mcopy", X_OK) != 0)
		skip();
	assert_int_equal(configdrive_write(&f->cd, "vfat", f->path, err,
	    sizeof err), 0);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_size, 64 << 20);
	assert_non_null(p = fopen(f->path, "rb"));
	assert_int_equal(fread(boot, 1, sizeof boot, p), sizeof boot);
	fclose(p);
	assert_memory_equal(boot + 43, "config-2   ", 11);  /* FAT16 label */
	assert_int_equal(str_fmt(cmd, sizeof cmd, "MTOOLS_SKIP_CHECK=1 "
	    "/usr/bin/mcopy -n -i %s ::/openstack/2018-08-27/user_data -",
	    f->path), 0);
	assert_non_null(p = popen(cmd, "r"));
	n = fread(out, 1, sizeof out, p);
	assert_int_equal(pclose(p), 0);
	assert_int_equal(n, sizeof f->ud);
	assert_memory_equal(out, f->ud, sizeof f->ud);
	assert_int_equal(str_fmt(cmd, sizeof cmd, "ls %s | wc -l", f->dir), 0);
	assert_non_null(p = popen(cmd, "r"));   /* no temp dir left behind */
	n = fread(out, 1, sizeof out, p);
	pclose(p);
	assert_memory_equal(out, "1\n", 2);
}

struct thr {
	const struct configdrive *cd;
	char path[160];
	int failures;
};

static void *writer(void *arg)
{
	struct thr *t = arg;
	char err[256];

	for (int i = 0; i < 10; i++)
		if (configdrive_write(t->cd, "iso9660", t->path, err,
		    sizeof err) < 0)
			t->failures++;
	return NULL;
}

/* kumo-compute writes drives from several RPC worker threads at once. */
static void test_threads(void **state)
{
	struct fx *f = *state;
	struct thr t[4];
	pthread_t th[4];
	IsoImage *img;
	size_t len;
	char *s;

	for (int i = 0; i < 4; i++) {
		t[i].cd = &f->cd;
		t[i].failures = 0;
		assert_int_equal(str_fmt(t[i].path, sizeof t[i].path,
		    "%s/d%d.config", f->dir, i), 0);
		assert_int_equal(pthread_create(&th[i], NULL, writer, &t[i]), 0);
	}
	for (int i = 0; i < 4; i++)   /* all joined before any assert jumps */
		assert_int_equal(pthread_join(th[i], NULL), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(t[i].failures, 0);
		assert_pvd(t[i].path);
		img = iso_open(t[i].path);
		s = iso_get(img, "/openstack/latest/user_data", &len);
		assert_int_equal(len, sizeof f->ud);
		assert_memory_equal(s, f->ud, len);
		free(s);
		iso_image_unref(img);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_meta_data_folsom_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_meta_data_versions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_meta_data_order_and_options, setup, teardown),
		cmocka_unit_test_setup_teardown(test_network_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iso_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iso_minimal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_isoinfo_oracle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vfat, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
