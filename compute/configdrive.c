/*
 * The config drive of an instance, laid out as Nova 26 writes it
 * (nova/virt/configdrive.py, nova/api/metadata/base.py,
 * nova/virt/netutils.py): openstack/<version>/ and ec2/<version>/ trees in
 * memory, which configdrive_fs.c turns into an ISO 9660 image (libisofs,
 * in-process) or a 64 MiB FAT image.
 *
 * Choices, each for cloud-init 22.4 (the research recipe, sections 3 and 7):
 * - JSON is dumped as Python's json.dumps does by default, which is what
 *   Nova's jsonutils.dump_as_bytes writes: separators ", " and ": ", keys in
 *   Nova's insertion order, non-ASCII as \u escapes (jansson writes their
 *   hex digits in upper case, Python in lower; both parse the same).
 * - network_data.json is left out when there is no NIC: Nova's "{}" makes
 *   cloud-init configure no interface at all (pitfall 7).
 * - One random_seed per drive, shared by every version directory, so that
 *   the directory cloud-init picks (2018-08-27) equals latest/ but for the
 *   version-gated keys.
 * - ec2/<v>/meta-data.json carries the EC2 keys kumo knows: ami-launch-index,
 *   instance-id (the instance uuid: kumo keeps no EC2 id mapping), hostname,
 *   local-ipv4 (the first NIC's address, else null), public-keys,
 *   local-hostname, public-hostname, public-ipv4 ("", no floating IPs),
 *   placement and instance-action. Left out: ami-id, ami-manifest-path,
 *   reservation-id, security-groups, instance-type, block-device-mapping,
 *   kernel-id and ramdisk-id (kumo has no EC2 ids, security groups or block
 *   device mappings).
 * - Empty user data counts as none (Nova: `if instance.user_data`).
 *
 * Inputs come over RPC from the controller: configdrive_check bounds every
 * string and checks every address before anything is built.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "compute/compute.h"

/* Nova's OPENSTACK_VERSIONS up to Victoria, then "latest"; the keys and
 * files each version adds are gated on these indices. */
enum {
	V_FOLSOM, V_GRIZZLY, V_HAVANA, V_LIBERTY, V_NEWTON_ONE, V_NEWTON_TWO,
	V_OCATA, V_ROCKY, V_VICTORIA, V_LATEST, N_VERSIONS
};
static const char *const os_versions[N_VERSIONS] = {
	"2012-08-10", "2013-04-04", "2013-10-17", "2015-10-15", "2016-06-30",
	"2016-10-06", "2017-02-22", "2018-08-27", "2020-10-14", "latest",
};
/* [api] config_drive_skip_versions drops every EC2 version before these. */
static const char *const ec2_versions[] = { "2009-04-04", "latest" };

#define SEED_BYTES 512
#define SEED_B64 (4 * ((SEED_BYTES + 2) / 3) + 1)
#define JSON_FLAGS JSON_ENSURE_ASCII   /* Python's json.dumps defaults */

static int seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* ---- validation ---- */

static bool utf8_ok(const char *s, size_t n)
{
	size_t k;

	for (size_t i = 0; i < n; i += k)
		if ((k = utf8_seq_len((const unsigned char *)s + i, n - i)) == 0)
			return false;
	return true;
}

/* s (NULL allowed unless required) is valid UTF-8 of at most max bytes. */
static int check_text(const char *what, const char *s, size_t max,
    bool required, char *err, size_t errlen)
{
	size_t n;

	if (!s)
		return required ? seterr(err, errlen, "%s is missing", what) : 0;
	n = strnlen(s, max + 1);
	if (n > max)
		return seterr(err, errlen, "%s is longer than %zu bytes", what, max);
	if (required && n == 0)
		return seterr(err, errlen, "%s is empty", what);
	if (!utf8_ok(s, n))
		return seterr(err, errlen, "%s is not valid UTF-8", what);
	return 0;
}

/* A host name the guest may set: letters, digits, '-' and '.'. */
static int check_hostname(const char *s, char *err, size_t errlen)
{
	if (check_text("hostname", s, CONFIGDRIVE_HOSTNAME_MAX, true, err,
	    errlen) < 0)
		return -1;
	if (s[strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789-.")] != '\0' || s[0] == '-' || s[0] == '.')
		return seterr(err, errlen, "hostname '%s' is not a host name", s);
	return 0;
}

/* Server metadata: an object of at most 128 string -> string pairs,
 * keys 1-255 and values 0-255 bytes (Nova's limits). */
static int check_meta(const json_t *meta, char *err, size_t errlen)
{
	const char *k;
	json_t *v;

	if (!meta)
		return 0;
	if (!json_is_object(meta))
		return seterr(err, errlen, "meta is not an object");
	if (json_object_size(meta) > CONFIGDRIVE_META_MAX)
		return seterr(err, errlen, "meta has more than %d items",
		    CONFIGDRIVE_META_MAX);
	json_object_foreach((json_t *)meta, k, v) {
		if (check_text("meta key", k, 255, true, err, errlen) < 0)
			return -1;
		if (!json_is_string(v) || json_string_length(v) > 255 ||
		    strlen(json_string_value(v)) != json_string_length(v))
			return seterr(err, errlen, "meta '%s' is not a string of "
			    "at most 255 bytes", k);
	}
	return 0;
}

#define TERMINATED(f) (memchr((f), '\0', sizeof(f)) != NULL)

static bool ip4_ok(const char *f, size_t size, bool empty_ok)
{
	uint32_t a;

	if (!memchr(f, '\0', size))
		return false;
	return (empty_ok && f[0] == '\0') || ip4_parse(f, &a) == 0;
}

static int check_nic(const struct configdrive_nic *n, size_t i, char *err,
    size_t errlen)
{
	const char *bad = NULL;

	if (!TERMINATED(n->vif_id) || !uuid_valid(n->vif_id))
		bad = "vif_id is not a uuid";
	else if (!TERMINATED(n->network_id) || !uuid_valid(n->network_id))
		bad = "network_id is not a uuid";
	else if (!TERMINATED(n->mac) || !mac_valid(n->mac))
		bad = "mac is not a unicast MAC address";
	else if (!ip4_ok(n->address, sizeof n->address, false))
		bad = "address is not an IPv4 address";
	else if (n->prefix < 8 || n->prefix > 30)
		bad = "prefix is not within 8-30";
	else if (!ip4_ok(n->gateway, sizeof n->gateway, true))
		bad = "gateway is not an IPv4 address";
	else if (!ip4_ok(n->dns, sizeof n->dns, true))
		bad = "dns is not an IPv4 address";
	else if (n->mtu != 0 && (n->mtu < 68 || n->mtu > 65535))
		bad = "mtu is not within 68-65535";
	return bad ? seterr(err, errlen, "nic %zu: %s", i, bad) : 0;
}

static int check_key(const struct configdrive *cd, char *err, size_t errlen)
{
	if (!cd->key_name || !cd->key_name[0])
		return 0;
	if (check_text("key_name", cd->key_name, 255, true, err, errlen) < 0 ||
	    check_text("key_data", cd->key_data, CONFIGDRIVE_KEY_MAX, true,
	    err, errlen) < 0)
		return -1;
	if (cd->key_type && strcmp(cd->key_type, "ssh") != 0 &&
	    strcmp(cd->key_type, "x509") != 0)
		return seterr(err, errlen, "key_type is not ssh or x509");
	return 0;
}

int configdrive_check(const struct configdrive *cd, char *err, size_t errlen)
{
	if (!cd)
		return seterr(err, errlen, "no config drive");
	if (!cd->uuid || !uuid_valid(cd->uuid))
		return seterr(err, errlen, "uuid is not a uuid");
	if (check_text("name", cd->name, 255, false, err, errlen) < 0 ||
	    check_hostname(cd->hostname, err, errlen) < 0 ||
	    check_text("availability_zone", cd->availability_zone, 255, false,
	    err, errlen) < 0 ||
	    check_text("project_id", cd->project_id, 255, false, err,
	    errlen) < 0 ||
	    check_key(cd, err, errlen) < 0 || check_meta(cd->meta, err,
	    errlen) < 0)
		return -1;
	if (cd->launch_index < 0)
		return seterr(err, errlen, "launch_index is negative");
	if (cd->user_data && cd->user_data_len > CONFIGDRIVE_USER_DATA_MAX)
		return seterr(err, errlen, "user_data is longer than %d bytes",
		    CONFIGDRIVE_USER_DATA_MAX);
	if (cd->n_nics > CONFIGDRIVE_NICS_MAX)
		return seterr(err, errlen, "more than %d nics",
		    CONFIGDRIVE_NICS_MAX);
	if (cd->n_nics > 0 && !cd->nics)
		return seterr(err, errlen, "nics is missing");
	for (size_t i = 0; i < cd->n_nics; i++)
		if (check_nic(&cd->nics[i], i, err, errlen) < 0)
			return -1;
	return 0;
}

/* ---- the documents ---- */

static const char *az_of(const struct configdrive *cd)
{
	return cd->availability_zone && cd->availability_zone[0] ?
	    cd->availability_zone : "nova";
}

static bool has_key(const struct configdrive *cd)
{
	return cd->key_name && cd->key_name[0];
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* 512 random bytes in standard base64 (cloud-init b64decodes it). */
static int seed_new(char out[SEED_B64])
{
	unsigned char raw[SEED_BYTES];
	size_t got = 0;
	ssize_t n;

	while (got < sizeof raw) {
		if ((n = getrandom(raw + got, sizeof raw - got, 0)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)n;
	}
	EVP_EncodeBlock((unsigned char *)out, raw, (int)sizeof raw);
	return 0;
}

/* public_keys {name: data} and keys [{name, type, data}]. */
static int md_keys(json_t *md, const struct configdrive *cd)
{
	json_t *pk = NULL, *keys = NULL, *k = NULL;

	if (json_object_set_new(md, "public_keys", pk = json_object()) < 0 ||
	    json_object_set_new(pk, cd->key_name, json_string(cd->key_data)) < 0 ||
	    json_object_set_new(md, "keys", keys = json_array()) < 0 ||
	    json_array_append_new(keys, k = json_object()) < 0 ||
	    json_object_set_new(k, "name", json_string(cd->key_name)) < 0 ||
	    json_object_set_new(k, "type", json_string(cd->key_type ?
	    cd->key_type : "ssh")) < 0 ||
	    json_object_set_new(k, "data", json_string(cd->key_data)) < 0)
		return -1;
	return 0;
}

/* _metadata_as_json(): its keys in its order, gated by version index v. */
static json_t *md_build(const struct configdrive *cd, int v, const char *seed)
{
	json_t *md = json_object();

	if (!md || json_object_set_new(md, "uuid", json_string(cd->uuid)) < 0)
		goto fail;
	if (cd->meta && json_object_size(cd->meta) > 0 &&
	    json_object_set_new(md, "meta", json_deep_copy(cd->meta)) < 0)
		goto fail;
	if (has_key(cd) && md_keys(md, cd) < 0)
		goto fail;
	if (json_object_set_new(md, "hostname", json_string(cd->hostname)) < 0 ||
	    json_object_set_new(md, "name", str_or_null(cd->name)) < 0 ||
	    json_object_set_new(md, "launch_index",
	    json_integer(cd->launch_index)) < 0 ||
	    json_object_set_new(md, "availability_zone",
	    json_string(az_of(cd))) < 0)
		goto fail;
	if ((v >= V_GRIZZLY && json_object_set_new(md, "random_seed",
	    json_string(seed)) < 0) ||
	    (v >= V_LIBERTY && json_object_set_new(md, "project_id",
	    str_or_null(cd->project_id)) < 0) ||
	    (v >= V_NEWTON_ONE && json_object_set_new(md, "devices",
	    json_array()) < 0) ||
	    (v >= V_VICTORIA && json_object_set_new(md, "dedicated_cpus",
	    json_array()) < 0))
		goto fail;
	return md;
fail:
	json_decref(md);
	return NULL;
}

json_t *configdrive_meta_data(const struct configdrive *cd, const char *version)
{
	char seed[SEED_B64];
	int v;

	if (!version || configdrive_check(cd, NULL, 0) < 0)
		return NULL;
	for (v = 0; v < N_VERSIONS && strcmp(os_versions[v], version) != 0; v++)
		;
	if (v == N_VERSIONS || seed_new(seed) < 0)
		return NULL;
	return md_build(cd, v, seed);
}

static json_t *dns_service(const char *address)
{
	json_t *s = json_object();

	if (!s || json_object_set_new(s, "type", json_string("dns")) < 0 ||
	    json_object_set_new(s, "address", json_string(address)) < 0) {
		json_decref(s);
		return NULL;
	}
	return s;
}

/* links[]: "tap" + vif_id[:11], the device name Nova gives a port. */
static json_t *nd_link(const struct configdrive_nic *n, const char *id)
{
	json_t *l = json_object();
	char mac[MAC_STR_LEN];

	for (size_t i = 0; i < sizeof mac; i++)
		mac[i] = (char)(n->mac[i] >= 'A' && n->mac[i] <= 'F' ?
		    n->mac[i] - 'A' + 'a' : n->mac[i]);
	if (!l || json_object_set_new(l, "id", json_string(id)) < 0 ||
	    json_object_set_new(l, "vif_id", json_string(n->vif_id)) < 0 ||
	    json_object_set_new(l, "type", json_string("bridge")) < 0 ||
	    json_object_set_new(l, "mtu", n->mtu > 0 ? json_integer(n->mtu) :
	    json_null()) < 0 ||
	    json_object_set_new(l, "ethernet_mac_address",
	    json_string(mac)) < 0) {
		json_decref(l);
		return NULL;
	}
	return l;
}

/* The default route of a NIC with a gateway: [] without one. */
static json_t *nd_routes(const struct configdrive_nic *n)
{
	json_t *routes = json_array(), *r;

	if (!routes || !n->gateway[0])
		return routes;
	if (json_array_append_new(routes, r = json_object()) < 0 ||
	    json_object_set_new(r, "network", json_string("0.0.0.0")) < 0 ||
	    json_object_set_new(r, "netmask", json_string("0.0.0.0")) < 0 ||
	    json_object_set_new(r, "gateway", json_string(n->gateway)) < 0) {
		json_decref(routes);
		return NULL;
	}
	return routes;
}

static json_t *nd_network(const struct configdrive_nic *n, size_t i,
    const char *link)
{
	json_t *net = json_object(), *svc = json_array();
	char id[32], mask[IP4_STR_LEN];

	snprintf(id, sizeof id, "network%zu", i);
	ip4_format(ip4_mask(n->prefix), mask);
	if (!net || json_object_set_new(net, "id", json_string(id)) < 0 ||
	    json_object_set_new(net, "type", json_string("ipv4")) < 0 ||
	    json_object_set_new(net, "link", json_string(link)) < 0 ||
	    json_object_set_new(net, "ip_address", json_string(n->address)) < 0 ||
	    json_object_set_new(net, "netmask", json_string(mask)) < 0 ||
	    json_object_set_new(net, "routes", nd_routes(n)) < 0 ||
	    json_object_set_new(net, "network_id",
	    json_string(n->network_id)) < 0)
		goto fail;
	if (json_object_set(net, "services", svc) < 0 ||
	    (n->dns[0] && json_array_append_new(svc, dns_service(n->dns)) < 0))
		goto fail;
	json_decref(svc);
	return net;
fail:
	json_decref(svc);
	json_decref(net);
	return NULL;
}

/* Adds n's DNS server to the top-level services unless already there. */
static int nd_add_service(json_t *services, const struct configdrive_nic *n)
{
	size_t i;
	json_t *s;

	if (!n->dns[0])
		return 0;
	json_array_foreach(services, i, s)
		if (strcmp(json_string_value(json_object_get(s, "address")),
		    n->dns) == 0)
			return 0;
	return json_array_append_new(services, dns_service(n->dns));
}

static json_t *nd_build(const struct configdrive *cd)
{
	json_t *nd = json_object(), *links = NULL, *nets = NULL, *svcs = NULL;
	char link[16];

	if (!nd || json_object_set_new(nd, "links", links = json_array()) < 0 ||
	    json_object_set_new(nd, "networks", nets = json_array()) < 0 ||
	    json_object_set_new(nd, "services", svcs = json_array()) < 0)
		goto fail;
	for (size_t i = 0; i < cd->n_nics; i++) {
		const struct configdrive_nic *n = &cd->nics[i];

		snprintf(link, sizeof link, "tap%.11s", n->vif_id);
		if (json_array_append_new(links, nd_link(n, link)) < 0 ||
		    json_array_append_new(nets, nd_network(n, i, link)) < 0 ||
		    nd_add_service(svcs, n) < 0)
			goto fail;
	}
	return nd;
fail:
	json_decref(nd);
	return NULL;
}

json_t *configdrive_network_data(const struct configdrive *cd)
{
	if (configdrive_check(cd, NULL, 0) < 0 || cd->n_nics == 0)
		return NULL;
	return nd_build(cd);
}

/* get_ec2_metadata()'s keys that kumo can fill, in its order. */
static json_t *ec2_build(const struct configdrive *cd)
{
	json_t *md = json_object(), *pk = NULL, *k0 = NULL, *pl = NULL;

	if (!md || json_object_set_new(md, "ami-launch-index",
	    json_integer(cd->launch_index)) < 0 ||
	    json_object_set_new(md, "instance-id", json_string(cd->uuid)) < 0 ||
	    json_object_set_new(md, "hostname", json_string(cd->hostname)) < 0 ||
	    json_object_set_new(md, "local-ipv4", cd->n_nics ?
	    json_string(cd->nics[0].address) : json_null()) < 0)
		goto fail;
	if (has_key(cd) && (json_object_set_new(md, "public-keys",
	    pk = json_object()) < 0 || json_object_set_new(pk, "0",
	    k0 = json_object()) < 0 || json_object_set_new(k0, "openssh-key",
	    json_string(cd->key_data)) < 0))
		goto fail;
	if (json_object_set_new(md, "local-hostname", json_string(cd->hostname)) < 0 ||
	    json_object_set_new(md, "public-hostname",
	    json_string(cd->hostname)) < 0 ||
	    json_object_set_new(md, "public-ipv4", json_string("")) < 0 ||
	    json_object_set_new(md, "placement", pl = json_object()) < 0 ||
	    json_object_set_new(pl, "availability-zone",
	    json_string(az_of(cd))) < 0 ||
	    json_object_set_new(md, "instance-action", json_string("none")) < 0)
		goto fail;
	return md;
fail:
	json_decref(md);
	return NULL;
}

/* ---- the file tree: every file of the drive, in memory ---- */

struct cd_tree {
	struct configdrive_file *f;
	size_t n, cap;
};

static void tree_free(struct cd_tree *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->f[i].data);
	free(t->f);
	memset(t, 0, sizeof *t);
}

/* Adds dir/name with data, which the tree takes (freed on failure too). */
static int tree_take(struct cd_tree *t, const char *dir, const char *name,
    unsigned char *data, size_t len)
{
	struct configdrive_file *f;

	if (!data)
		return -1;
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;

		if (!(f = realloc(t->f, cap * sizeof *f)))
			goto fail;
		t->f = f;
		t->cap = cap;
	}
	f = &t->f[t->n];
	if (str_fmt(f->path, sizeof f->path, "%s/%s", dir, name) < 0)
		goto fail;
	f->data = data;
	f->len = len;
	t->n++;
	return 0;
fail:
	free(data);
	return -1;
}

static int tree_copy(struct cd_tree *t, const char *dir, const char *name,
    const void *data, size_t len)
{
	unsigned char *copy = malloc(len ? len : 1);

	if (copy)
		memcpy(copy, data, len);
	return tree_take(t, dir, name, copy, len);
}

/* The documents every version directory shares, dumped once. */
struct cd_docs {
	char seed[SEED_B64];
	char *network_data;     /* NULL: no NIC, no file */
	char *vendor_data;      /* {} */
	char *vendor_data2;     /* {"static": {}} (StaticJSON, no file) */
	char *ec2;
};

static char *dump(json_t *doc)
{
	char *s = doc ? json_dumps(doc, JSON_FLAGS) : NULL;

	json_decref(doc);
	return s;
}

static void docs_free(struct cd_docs *d)
{
	free(d->network_data);
	free(d->vendor_data);
	free(d->vendor_data2);
	free(d->ec2);
}

static int docs_make(const struct configdrive *cd, struct cd_docs *d)
{
	json_t *vd2 = json_object();

	memset(d, 0, sizeof *d);
	if (vd2 && json_object_set_new(vd2, "static", json_object()) < 0) {
		json_decref(vd2);
		vd2 = NULL;
	}
	if (!(d->vendor_data2 = dump(vd2)) ||
	    !(d->vendor_data = dump(json_object())) ||
	    !(d->ec2 = dump(ec2_build(cd))) ||
	    (cd->n_nics > 0 && !(d->network_data = dump(nd_build(cd)))) ||
	    seed_new(d->seed) < 0) {
		docs_free(d);
		return -1;
	}
	return 0;
}

static bool has_user_data(const struct configdrive *cd)
{
	return cd->user_data && cd->user_data_len > 0;
}

/* openstack/<v>/: the files metadata_for_config_drive() yields for v. */
static int tree_os_version(struct cd_tree *t, const struct configdrive *cd,
    const struct cd_docs *d, int v)
{
	char dir[32], *md;

	snprintf(dir, sizeof dir, "openstack/%s", os_versions[v]);
	if (!(md = dump(md_build(cd, v, d->seed))) ||
	    tree_take(t, dir, "meta_data.json", (unsigned char *)md,
	    strlen(md)) < 0)
		return -1;
	if (has_user_data(cd) && tree_copy(t, dir, "user_data", cd->user_data,
	    cd->user_data_len) < 0)
		return -1;
	if (v >= V_HAVANA && tree_copy(t, dir, "vendor_data.json",
	    d->vendor_data, strlen(d->vendor_data)) < 0)
		return -1;
	if (v >= V_LIBERTY && d->network_data && tree_copy(t, dir,
	    "network_data.json", d->network_data,
	    strlen(d->network_data)) < 0)
		return -1;
	if (v >= V_NEWTON_TWO && tree_copy(t, dir, "vendor_data2.json",
	    d->vendor_data2, strlen(d->vendor_data2)) < 0)
		return -1;
	return 0;
}

static int tree_build(const struct configdrive *cd, struct cd_tree *t)
{
	struct cd_docs d;
	char dir[32];
	int rc = -1;

	if (docs_make(cd, &d) < 0)
		return -1;
	for (size_t i = 0; i < sizeof ec2_versions / sizeof *ec2_versions; i++) {
		snprintf(dir, sizeof dir, "ec2/%s", ec2_versions[i]);
		if (tree_copy(t, dir, "meta-data.json", d.ec2,
		    strlen(d.ec2)) < 0 || (has_user_data(cd) && tree_copy(t,
		    dir, "user-data", cd->user_data, cd->user_data_len) < 0))
			goto fail;
	}
	for (int v = 0; v < N_VERSIONS; v++)
		if (tree_os_version(t, cd, &d, v) < 0)
			goto fail;
	rc = 0;
fail:
	docs_free(&d);
	return rc;
}

/* ---- the entry point ---- */

static const struct {
	const char *name;       /* [DEFAULT] config_drive_format */
	int (*write)(struct configdrive_file *f, size_t n, const char *out,
	    char *err, size_t errlen);
} formats[] = {
	{ "iso9660", configdrive_iso_write },
	{ "vfat", configdrive_vfat_write },
};

int configdrive_write(const struct configdrive *cd, const char *format,
    const char *path, char *err, size_t errlen)
{
	struct cd_tree t = { 0 };
	char tmp[PATH_MAX];
	size_t i;
	int rc = -1;

	for (i = 0; i < sizeof formats / sizeof *formats; i++)
		if (format && strcmp(format, formats[i].name) == 0)
			break;
	if (i == sizeof formats / sizeof *formats)
		return seterr(err, errlen, "config_drive_format %s is not "
		    "iso9660 or vfat", format ? format : "(null)");
	if (!path || !path[0] || str_fmt(tmp, sizeof tmp, "%s.tmp", path) < 0)
		return seterr(err, errlen, "bad config drive path");
	if (configdrive_check(cd, err, errlen) < 0)
		return -1;
	if (tree_build(cd, &t) < 0) {
		seterr(err, errlen, "out of memory building the config drive");
		goto fail;
	}
	if (formats[i].write(t.f, t.n, tmp, err, errlen) < 0)
		goto fail;
	if (rename(tmp, path) < 0) {
		seterr(err, errlen, "rename %s: %s", tmp, strerror(errno));
		goto fail;
	}
	rc = 0;
fail:
	if (rc < 0)
		unlink(tmp);
	tree_free(&t);
	return rc;
}
