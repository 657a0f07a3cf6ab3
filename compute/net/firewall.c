/*
 * The guests' firewall: one nftables table, inet kumo_<bridge>, sent to
 * libnftables as one buffer that creates, deletes and re-creates it, so
 * the kernel replaces it in a single transaction (never a moment without
 * rules). A drop in any base chain is final in nftables: no other table
 * (iptables-nft, docker, an operator's) can accept what this one drops.
 *
 * input: from the bridge, only DHCP (udp 67/68), DNS to the gateway (udp
 * and tcp 53) and replies to connections the host opened (ct established,
 * so the host may still ssh into its guests); everything else, IPv6
 * included, is dropped: no host service, no RabbitMQ 5672, no kumo-api
 * 8774, nothing bound to the gateway's address or reached through it.
 * forward: guest to guest on the bridge is accepted; from the bridge to
 * any other interface dropped, unless [network] masquerade = true, which
 * accepts the network's sources and masquerades them in postrouting. The
 * masquerade also needs net.ipv4.ip_forward = 1, which kumo never sets: it
 * is the operator's decision for the whole host.
 */
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compute/net/netd.h"

/* nft identifiers take [A-Za-z0-9_]: '-' and '.' of a bridge name are '_'. */
static void table_name(const char *bridge, char out[32])
{
	size_t i;

	snprintf(out, 32, "kumo_%s", bridge);
	for (i = 5; out[i] != '\0'; i++)
		if (out[i] == '-' || out[i] == '.')
			out[i] = '_';
}

static const char ruleset_fmt[] =
    "table inet %1$s\n"
    "delete table inet %1$s\n"
    "table inet %1$s {\n"
    "  chain input {\n"
    "    type filter hook input priority filter; policy accept;\n"
    "    iifname \"%2$s\" ct state established,related accept\n"
    "    iifname \"%2$s\" udp dport { 67, 68 } accept\n"
    "    iifname \"%2$s\" ip daddr %3$s udp dport 53 accept\n"
    "    iifname \"%2$s\" ip daddr %3$s tcp dport 53 accept\n"
    "    iifname \"%2$s\" drop\n"
    "  }\n"
    "  chain forward {\n"
    "    type filter hook forward priority filter; policy accept;\n"
    "    iifname \"%2$s\" oifname \"%2$s\" accept\n"
    "%4$s"
    "    iifname \"%2$s\" drop\n"
    "  }\n"
    "%5$s"
    "}\n";

static const char masq_forward_fmt[] =
    "    iifname \"%s\" ip saddr %s accept\n";

static const char masq_nat_fmt[] =
    "  chain postrouting {\n"
    "    type nat hook postrouting priority srcnat; policy accept;\n"
    "    oifname != \"%s\" ip saddr %s masquerade\n"
    "  }\n";

char *firewall_ruleset(const struct net_def *net, bool masquerade)
{
	char table[32], gw[IP4_STR_LEN], netip[IP4_STR_LEN], cidr[32];
	char fwd[128] = "", nat[256] = "", *out = NULL;

	table_name(net->bridge, table);
	ip4_format(net->gateway, gw);
	ip4_format(net->net, netip);
	snprintf(cidr, sizeof cidr, "%s/%d", netip, net->prefix);
	if (masquerade) {
		snprintf(fwd, sizeof fwd, masq_forward_fmt, net->bridge, cidr);
		snprintf(nat, sizeof nat, masq_nat_fmt, net->bridge, cidr);
	}
	if (asprintf(&out, ruleset_fmt, table, net->bridge, gw, fwd, nat) < 0)
		return NULL;
	return out;
}

/* Runs one nft script; the error buffer's first line goes into err. */
static int nft_run(const char *script, char *err, size_t errlen)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	const char *msg;
	int rc = -1;

	if (ctx == NULL) {
		snprintf(err, errlen, "nftables: no context");
		return -1;
	}
	if (nft_ctx_buffer_error(ctx) < 0 || nft_ctx_buffer_output(ctx) < 0) {
		snprintf(err, errlen, "nftables: cannot buffer its output");
		goto fail;
	}
	if (nft_run_cmd_from_buffer(ctx, script) != 0) {
		msg = nft_ctx_get_error_buffer(ctx);
		snprintf(err, errlen, "nftables: %.*s", (int)strcspn(msg ? msg : "",
		    "\n"), msg ? msg : "");
		goto fail;
	}
	rc = 0;
fail:
	nft_ctx_free(ctx);
	return rc;
}

int firewall_apply(const struct net_def *net, bool masquerade, char *err,
    size_t errlen)
{
	char *script = firewall_ruleset(net, masquerade);
	int rc;

	if (script == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = nft_run(script, err, errlen);
	free(script);
	return rc;
}

/* Adding the table first makes the delete succeed when it was absent. */
int firewall_remove(const char *bridge, char *err, size_t errlen)
{
	char table[32], script[128];

	table_name(bridge, table);
	snprintf(script, sizeof script, "table inet %s\ndelete table inet %s\n",
	    table, table);
	return nft_run(script, err, errlen);
}
