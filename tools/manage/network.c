/*
 * kumo-manage network create|list (nova-manage network create's shape):
 * networks beside the [network] one kumo-scheduler records by itself.
 * A network's guests sit on its bridge on every compute host; kumo-netd
 * runs the bridge, leases and firewall of [network] only, so another
 * network's bridge is the operator's (see README).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "db/db.h"
#include "tools/manage/manage.h"

int manage_network_create(struct db *db, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "label", required_argument, NULL, 'l' },
		{ "fixed_range_v4", required_argument, NULL, 'c' },
		{ "cidr", required_argument, NULL, 'c' },
		{ "gateway", required_argument, NULL, 'g' },
		{ "dhcp_start", required_argument, NULL, 's' },
		{ "dhcp_end", required_argument, NULL, 'e' },
		{ "dns1", required_argument, NULL, 'd' },
		{ "bridge", required_argument, NULL, 'b' },
		{ "mtu", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	/* by option letter: label, cidr, gateway, dhcp_start, dhcp_end, dns1,
	 * bridge, mtu */
	const char *v[8] = { "", "", "", "", "", "", "", "1500" };
	static const char keys[] = "lcgsedbm";
	struct db_network n;
	struct net_def d;
	char err[256];
	int ch, mtu, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		const char *k = ch > 0 ? strchr(keys, ch) : NULL;

		if (k == NULL)
			return 2;
		v[k - keys] = optarg;
	}
	if (optind != argc || v[0][0] == '\0' || v[1][0] == '\0' || v[6][0] == '\0') {
		fprintf(stderr, "usage: kumo-manage network create --label NAME "
		    "--fixed_range_v4 CIDR --bridge BRIDGE [--gateway A] "
		    "[--dhcp_start A] [--dhcp_end A] [--dns1 A] [--mtu N]\n");
		return 2;
	}
	/* net_def_make checks the range (and says it) */
	if (num_parse_int(v[7], 0, 1 << 20, &mtu) < 0)
		snprintf(err, sizeof err, "mtu '%.16s' is not a number", v[7]);
	else if (net_def_make(&d, v[0], v[1], v[2], v[3], v[4], v[5], v[6], mtu,
	    err, sizeof err) == 0)
		err[0] = '\0';
	if (err[0] != '\0') {
		fprintf(stderr, "kumo-manage: %s\n", err);
		return 2;
	}
	db_network_from_def(&d, &n);
	if ((rc = db_network_create(db, &n)) == DB_CONFLICT) {
		fprintf(stderr, "kumo-manage: a network labelled '%s' exists\n",
		    n.label);
		return 1;
	}
	if (rc != DB_OK)
		return 1;
	printf("%s\n", n.uuid);
	return 0;
}

int manage_network_list(struct db *db)
{
	struct db_network *list = NULL;
	size_t n = 0;

	if (db_network_list(db, &list, &n) != DB_OK)
		return 1;
	printf("%-36s  %-16s %-18s %-15s %s\n", "id", "label", "cidr", "gateway",
	    "bridge");
	for (size_t i = 0; i < n; i++)
		printf("%-36s  %-16s %-18s %-15s %s\n", list[i].uuid, list[i].label,
		    list[i].cidr, list[i].gateway, list[i].bridge);
	free(list);
	return 0;
}
