/*
 * IPv4 addresses, flat networks and MAC addresses as text: one strict
 * parser for every place that reads them (kumo.conf, the API, RPC
 * arguments, kumo-netd's requests), so that "010.1.1.1", "1.2.3.4 " and
 * "fa:16:3e:0:0:1" are refused alike everywhere.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "common/common.h"

/* Dotted quad, each part 0-255 in plain decimal (no leading zero, no
 * sign, nothing around it). Host byte order. */
int ip4_parse(const char *s, uint32_t *out)
{
	uint32_t a = 0;

	for (int part = 0; part < 4; part++) {
		unsigned v = 0;
		int digits = 0;

		while (*s >= '0' && *s <= '9' && digits < 4) {
			v = v * 10 + (unsigned)(*s++ - '0');
			digits++;
		}
		if (digits == 0 || digits > 3 || v > 255 ||
		    (digits > 1 && s[-digits] == '0'))
			return -1;
		a = a << 8 | v;
		if (part < 3 && *s++ != '.')
			return -1;
	}
	if (*s != '\0')
		return -1;
	*out = a;
	return 0;
}

void ip4_format(uint32_t a, char out[IP4_STR_LEN])
{
	snprintf(out, IP4_STR_LEN, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255,
	    (a >> 8) & 255, a & 255);
}

uint32_t ip4_mask(int prefix)
{
	return prefix <= 0 ? 0 : 0xffffffffu << (32 - prefix);
}

/* "10.99.0.0/24": the network's own address (no host bits) and a prefix
 * of 8-30 (a flat network needs a gateway and room for guests). */
int ip4_cidr_parse(const char *s, uint32_t *net, int *prefix)
{
	char addr[IP4_STR_LEN];
	const char *slash = strchr(s, '/');
	size_t n;
	int p;

	if (slash == NULL || (n = (size_t)(slash - s)) >= sizeof addr)
		return -1;
	memcpy(addr, s, n);
	addr[n] = '\0';
	if (ip4_parse(addr, net) < 0 || num_parse_int(slash + 1, 8, 30, &p) < 0 ||
	    (slash[1] == '0') || (*net & ~ip4_mask(p)) != 0)
		return -1;
	*prefix = p;
	return 0;
}

bool ip4_in_net(const struct net_def *n, uint32_t a)
{
	return (a & ip4_mask(n->prefix)) == n->net;
}

bool net_bridge_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 15 && strcmp(s, ".") != 0 && strcmp(s, "..") != 0 &&
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_.-") == n;
}

/* An address of the network that a guest or the gateway may hold: not
 * the network's own address, not its broadcast. */
static bool host_addr(const struct net_def *n, uint32_t a)
{
	uint32_t host = a & ~ip4_mask(n->prefix);

	return ip4_in_net(n, a) && host != 0 && host != ~ip4_mask(n->prefix);
}

static int opt_addr(const char *s, uint32_t def, uint32_t *out)
{
	if (s[0] == '\0') {
		*out = def;
		return 0;
	}
	return ip4_parse(s, out);
}

int net_def_make(struct net_def *out, const char *name, const char *cidr,
    const char *gateway, const char *dhcp_start, const char *dhcp_end,
    const char *dns, const char *bridge, int mtu, char *err, size_t errlen)
{
	uint32_t bcast;

	memset(out, 0, sizeof *out);
	if (name[0] == '\0' || str_copy(out->name, name, sizeof out->name) < 0 ||
	    !utf8_printable(name)) {
		snprintf(err, errlen, "network name must be 1-%zu printable "
		    "characters", sizeof out->name - 1);
		return -1;
	}
	if (ip4_cidr_parse(cidr, &out->net, &out->prefix) < 0) {
		snprintf(err, errlen, "cidr '%.64s' is not an IPv4 network "
		    "a.b.c.d/8-30 without host bits", cidr);
		return -1;
	}
	bcast = out->net | ~ip4_mask(out->prefix);
	if (opt_addr(gateway, out->net + 1, &out->gateway) < 0 ||
	    !host_addr(out, out->gateway)) {
		snprintf(err, errlen, "gateway '%.64s' is not a host address of %s",
		    gateway, cidr);
		return -1;
	}
	if (opt_addr(dhcp_start, out->gateway + 1, &out->dhcp_start) < 0 ||
	    opt_addr(dhcp_end, bcast - 1, &out->dhcp_end) < 0 ||
	    !host_addr(out, out->dhcp_start) || !host_addr(out, out->dhcp_end) ||
	    out->dhcp_start > out->dhcp_end) {
		snprintf(err, errlen, "dhcp_start '%.64s' and dhcp_end '%.64s' "
		    "are not a range of host addresses of %s", dhcp_start,
		    dhcp_end, cidr);
		return -1;
	}
	if (opt_addr(dns, out->gateway, &out->dns) < 0) {
		snprintf(err, errlen, "dns '%.64s' is not an IPv4 address", dns);
		return -1;
	}
	if (!net_bridge_name_ok(bridge)) {
		snprintf(err, errlen, "bridge '%.64s' is not an interface name "
		    "(1-15 of A-Z a-z 0-9 _ . -)", bridge);
		return -1;
	}
	str_copy(out->bridge, bridge, sizeof out->bridge);
	if (mtu < 576 || mtu > 9000) {
		snprintf(err, errlen, "mtu %d is not within 576-9000", mtu);
		return -1;
	}
	out->mtu = mtu;
	return 0;
}

int net_def_from_conf(const struct kumo_conf *c, struct net_def *out,
    char *err, size_t errlen)
{
	return net_def_make(out, c->net_name, c->net_cidr, c->net_gateway,
	    c->net_dhcp_start, c->net_dhcp_end, c->net_dns, c->net_bridge,
	    c->net_mtu, err, errlen);
}

/* "fa:16:3e:0a:1b:2c": six lower- or upper-case hex pairs. */
int mac_parse(const char *s, uint8_t out[6])
{
	static const char hex[] = "0123456789abcdef";

	if (strlen(s) != 17)
		return -1;
	for (int i = 0; i < 6; i++) {
		const char *h, *l;

		if ((h = strchr(hex, s[3 * i] | 0x20)) == NULL || s[3 * i] == '\0' ||
		    (l = strchr(hex, s[3 * i + 1] | 0x20)) == NULL ||
		    s[3 * i + 1] == '\0' || (i < 5 && s[3 * i + 2] != ':'))
			return -1;
		out[i] = (uint8_t)((h - hex) << 4 | (l - hex));
	}
	return 0;
}

/* A unicast MAC (the multicast bit clear), as a guest NIC may have. */
bool mac_valid(const char *s)
{
	uint8_t m[6];

	return mac_parse(s, m) == 0 && (m[0] & 1) == 0 &&
	    (m[0] | m[1] | m[2] | m[3] | m[4] | m[5]) != 0;
}

/* Nova's: the OpenStack prefix fa:16:3e and three random bytes. */
void mac_random(char out[MAC_STR_LEN])
{
	uint8_t r[3] = { 0 };

	if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
		fatal("getrandom");
	snprintf(out, MAC_STR_LEN, "fa:16:3e:%02x:%02x:%02x", r[0], r[1], r[2]);
}

/* Nova's sanitize_hostname: at most 63 characters, blanks, '_' and '.'
 * as '-', nothing but letters, digits and '-', lower case, no '-' or '.'
 * at either end; "" when nothing is left (the caller's default). */
void hostname_sanitize(const char *name, char *out, size_t len)
{
	size_t j = 0, k = 0, start;

	for (const char *p = name; *p && k < 63 && j + 1 < len; p++, k++) {
		unsigned char c = (unsigned char)*p;

		if (c == ' ' || c == '_' || c == '.')
			out[j++] = '-';
		else if (isalnum(c) || c == '-')
			out[j++] = (char)tolower(c);
	}
	out[j] = '\0';
	while (j > 0 && out[j - 1] == '-')
		out[--j] = '\0';
	for (start = 0; out[start] == '-'; start++)
		;
	memmove(out, out + start, j - start + 1);
}

bool hostname_valid(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 63 && s[0] != '-' &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789-") == n;
}

void hostname_pick(const char *kept, const char *name, const char *uuid,
    char *out, size_t len)
{
	if (kept != NULL && hostname_valid(kept))
		str_copy(out, kept, len);
	else
		hostname_sanitize(name, out, len);
	if (out[0] == '\0')
		snprintf(out, len, "Server-%.36s", uuid);
}
