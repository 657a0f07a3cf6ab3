/*
 * The lease set: MAC -> fixed IP (and a hostname) of the guests of this
 * host. Kept in <state>/leases.json so a restart keeps it, and given to
 * dnsmasq as <state>/dhcp-hosts ("MAC,name,IP" lines); both files are
 * replaced through a temporary file and rename, never written in place.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compute/net/netd.h"

bool lease_hostname_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= NETD_HOSTNAME_MAX &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

static int lease_key(const json_t *o, const char *key, const char **out,
    char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_string(v)) {
		snprintf(err, errlen, "lease '%s' must be a string", key);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

int lease_from_json(const struct net_def *net, const json_t *o,
    struct lease *out, char *err, size_t errlen)
{
	const char *mac, *ip, *host, *key;
	json_t *v;

	if (!json_is_object(o)) {
		snprintf(err, errlen, "a lease must be an object");
		return -1;
	}
	json_object_foreach((json_t *)o, key, v) {
		if (strcmp(key, "mac") != 0 && strcmp(key, "ip") != 0 &&
		    strcmp(key, "hostname") != 0 && strcmp(key, "instance") != 0) {
			snprintf(err, errlen, "unknown lease field '%.32s'", key);
			return -1;
		}
	}
	if (lease_key(o, "mac", &mac, err, errlen) < 0 ||
	    lease_key(o, "ip", &ip, err, errlen) < 0 ||
	    lease_key(o, "hostname", &host, err, errlen) < 0)
		return -1;
	memset(out, 0, sizeof *out);
	if (!mac_valid(mac)) {
		snprintf(err, errlen, "mac is not a unicast MAC address");
		return -1;
	}
	for (int i = 0; i < MAC_STR_LEN - 1; i++)
		out->mac[i] = (char)(mac[i] | 0x20); /* hex digits and ":" keep */
	if (ip4_parse(ip, &out->ip) < 0 || out->ip < net->dhcp_start ||
	    out->ip > net->dhcp_end) {
		snprintf(err, errlen, "ip is not an address of the network's "
		    "DHCP range");
		return -1;
	}
	if (!lease_hostname_ok(host)) {
		snprintf(err, errlen, "hostname must be 1-%d of a-z 0-9 -",
		    NETD_HOSTNAME_MAX);
		return -1;
	}
	str_copy(out->hostname, host, sizeof out->hostname);
	if ((v = json_object_get(o, "instance")) != NULL) {
		if (!json_is_string(v) || !uuid_valid(json_string_value(v))) {
			snprintf(err, errlen, "instance is not a uuid");
			return -1;
		}
		str_copy(out->instance, json_string_value(v), sizeof out->instance);
	}
	return 0;
}

void lease_set_free(struct lease_set *s)
{
	free(s->v);
	memset(s, 0, sizeof *s);
}

int lease_set_copy(struct lease_set *dst, const struct lease_set *src)
{
	memset(dst, 0, sizeof *dst);
	if (src->n == 0)
		return 0;
	if ((dst->v = calloc(src->n, sizeof *dst->v)) == NULL)
		return -1;
	memcpy(dst->v, src->v, src->n * sizeof *dst->v);
	dst->n = dst->cap = src->n;
	return 0;
}

void lease_set_del(struct lease_set *s, const char *mac)
{
	for (size_t i = 0; i < s->n; i++) {
		if (strcasecmp(s->v[i].mac, mac) == 0) {
			s->v[i] = s->v[--s->n];
			return;
		}
	}
}

void lease_set_del_instance(struct lease_set *s, const char *instance)
{
	for (size_t i = 0; i < s->n;)
		if (strcmp(s->v[i].instance, instance) == 0)
			s->v[i] = s->v[--s->n];
		else
			i++;
}

int lease_set_put(struct lease_set *s, const struct lease *l, char *err,
    size_t errlen)
{
	struct lease *nv;
	size_t ncap;

	for (size_t i = 0; i < s->n; i++) {
		if (s->v[i].ip == l->ip && strcmp(s->v[i].mac, l->mac) != 0) {
			snprintf(err, errlen, "ip is leased to another mac");
			return -1;
		}
	}
	lease_set_del(s, l->mac);
	if (s->n == s->cap) {
		if (s->n >= NETD_MAX_LEASES) {
			snprintf(err, errlen, "too many leases (at most %d)",
			    NETD_MAX_LEASES);
			return -1;
		}
		ncap = s->cap ? s->cap * 2 : 16;
		if ((nv = realloc(s->v, ncap * sizeof *nv)) == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		s->v = nv;
		s->cap = ncap;
	}
	s->v[s->n++] = *l;
	return 0;
}

static json_t *lease_to_json(const struct lease *l)
{
	char ip[IP4_STR_LEN];

	ip4_format(l->ip, ip);
	json_t *o = json_pack("{s:s, s:s, s:s}", "mac", l->mac, "ip", ip,
	    "hostname", l->hostname);

	if (o != NULL && l->instance[0] != '\0')
		json_object_set_new(o, "instance", json_string(l->instance));
	return o;
}

/* Writes data to path through path.tmp, fsync and rename. */
static int write_atomic(const char *path, const char *data, size_t len,
    char *err, size_t errlen)
{
	char tmp[CONF_STR + 64];
	int fd = -1;

	if (str_fmt(tmp, sizeof tmp, "%s.tmp", path) < 0) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
		goto fail;
	if (write(fd, data, len) != (ssize_t)len || fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return -1;
}

int lease_hostsfile(const char *dir, char *out, size_t size)
{
	return str_fmt(out, size, "%s/dhcp-hosts", dir);
}

static char *hosts_text(const struct lease_set *s)
{
	size_t size = s->n * 100 + 1, off = 0;
	char *buf = malloc(size), ip[IP4_STR_LEN];

	if (buf == NULL)
		return NULL;
	buf[0] = '\0';
	for (size_t i = 0; i < s->n; i++) {
		ip4_format(s->v[i].ip, ip);
		off += (size_t)snprintf(buf + off, size - off, "%s,%s,%s\n",
		    s->v[i].mac, s->v[i].hostname, ip);
	}
	return buf;
}

int lease_set_save(const struct lease_set *s, const char *dir, char *err,
    size_t errlen)
{
	char path[CONF_STR + 64], *text = NULL, *hosts = NULL;
	json_t *arr = json_array();
	int rc = -1;

	for (size_t i = 0; arr != NULL && i < s->n; i++)
		if (json_array_append_new(arr, lease_to_json(&s->v[i])) < 0)
			goto fail;
	if (arr == NULL || (text = json_dumps(arr, JSON_INDENT(1))) == NULL ||
	    (hosts = hosts_text(s)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (str_fmt(path, sizeof path, "%s/leases.json", dir) < 0 ||
	    write_atomic(path, text, strlen(text), err, errlen) < 0 ||
	    lease_hostsfile(dir, path, sizeof path) < 0 ||
	    write_atomic(path, hosts, strlen(hosts), err, errlen) < 0)
		goto fail;
	rc = 0;
fail:
	if (rc < 0 && err[0] == '\0')
		snprintf(err, errlen, "cannot save the leases");
	free(text);
	free(hosts);
	json_decref(arr);
	return rc;
}

int lease_set_load(struct lease_set *s, const struct net_def *net,
    const char *dir, char *err, size_t errlen)
{
	char path[CONF_STR + 64], why[NETD_ERR_LEN];
	json_error_t jerr;
	json_t *arr = NULL, *o;
	struct lease l;
	size_t i;

	memset(s, 0, sizeof *s);
	if (str_fmt(path, sizeof path, "%s/leases.json", dir) < 0) {
		snprintf(err, errlen, "%s: path too long", dir);
		return -1;
	}
	if (access(path, F_OK) < 0 && errno == ENOENT)
		return 0;
	if ((arr = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr)) == NULL ||
	    !json_is_array(arr)) {
		snprintf(err, errlen, "%s: not a JSON array of leases", path);
		json_decref(arr);
		return -1;
	}
	json_array_foreach(arr, i, o) {
		if (lease_from_json(net, o, &l, why, sizeof why) < 0 ||
		    lease_set_put(s, &l, why, sizeof why) < 0)
			log_warnx("%s: lease %zu dropped: %s", path, i, why);
	}
	json_decref(arr);
	return 0;
}
