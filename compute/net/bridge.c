/*
 * The [network] bridge over rtnetlink (libmnl). A bridge kumo-netd made
 * carries the alias NETD_ALIAS (IFLA_IFALIAS, `ip link` shows it): that is
 * how a restart adopts it and --teardown knows it may delete it. A link
 * of that name without the alias is the operator's and is never touched.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compute/net/netd.h"

struct link_info {
	int index;
	bool bridge;
	char alias[64];
};

/* Sends nlh and runs cb over the replies until the ACK or the end of a
 * dump. 0, or -1 with errno (an NLMSG_ERROR's, or the socket's). */
static int nl_talk(struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	unsigned portid, seq = (unsigned)time(NULL);
	ssize_t n;
	int rc = -1, saved;

	if ((nl = mnl_socket_open(NETLINK_ROUTE)) == NULL)
		return -1;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	portid = mnl_socket_get_portid(nl);
	nlh->nlmsg_seq = seq;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		goto fail;
	do {
		if ((n = mnl_socket_recvfrom(nl, buf, sizeof buf)) <= 0)
			goto fail;
		rc = mnl_cb_run(buf, (size_t)n, seq, portid, cb, data);
	} while (rc > MNL_CB_STOP);
fail:
	saved = errno;
	mnl_socket_close(nl);
	errno = saved;
	return rc < 0 ? -1 : 0;
}

static struct nlmsghdr *link_msg(char *buf, int type, int flags, int index)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm;

	nlh->nlmsg_type = (uint16_t)type;
	nlh->nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags);
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof *ifm);
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = index;
	return nlh;
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	struct link_info *li = data;
	const struct nlattr *a, *i;

	li->index = ifm->ifi_index;
	mnl_attr_for_each(a, nlh, sizeof *ifm) {
		if (mnl_attr_get_type(a) == IFLA_IFALIAS &&
		    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
			str_copy(li->alias, mnl_attr_get_str(a), sizeof li->alias);
		if (mnl_attr_get_type(a) != IFLA_LINKINFO)
			continue;
		mnl_attr_for_each_nested(i, a) {
			if (mnl_attr_get_type(i) == IFLA_INFO_KIND &&
			    mnl_attr_validate(i, MNL_TYPE_NUL_STRING) == 0 &&
			    strcmp(mnl_attr_get_str(i), "bridge") == 0)
				li->bridge = true;
		}
	}
	return MNL_CB_OK;
}

/* 0 and li filled, 1 when no link has that name, -1 on failure. */
static int link_get(const char *name, struct link_info *li)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = link_msg(buf, RTM_GETLINK, NLM_F_ACK, 0);

	memset(li, 0, sizeof *li);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	if (nl_talk(nlh, link_cb, li) < 0)
		return errno == ENODEV ? 1 : -1;
	return li->index > 0 ? 0 : 1;
}

int bridge_owner(const char *name, enum bridge_owner *out, char *err,
    size_t errlen)
{
	struct link_info li;
	int rc = link_get(name, &li);

	if (rc < 0) {
		snprintf(err, errlen, "rtnetlink: link %s: %s", name, strerror(errno));
		return -1;
	}
	if (rc == 1)
		*out = BRIDGE_ABSENT;
	else
		*out = li.bridge && strcmp(li.alias, NETD_ALIAS) == 0 ?
		    BRIDGE_OURS : BRIDGE_FOREIGN;
	return 0;
}

static int bridge_create(const struct net_def *net)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK,
	    NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, 0);
	struct nlattr *info;

	mnl_attr_put_strz(nlh, IFLA_IFNAME, net->bridge);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
	mnl_attr_nest_end(nlh, info);
	return nl_talk(nlh, NULL, NULL);
}

/* The alias first: from then on a restart knows the bridge as its own. */
static int bridge_setup(const struct net_def *net, int index)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, NLM_F_ACK, index);
	struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);

	ifm->ifi_flags = IFF_UP;
	ifm->ifi_change = IFF_UP;
	mnl_attr_put_strz(nlh, IFLA_IFALIAS, NETD_ALIAS);
	mnl_attr_put_u32(nlh, IFLA_MTU, (uint32_t)net->mtu);
	return nl_talk(nlh, NULL, NULL);
}

/* NLM_F_REPLACE: adding the address again is not an error. */
static int bridge_address(const struct net_def *net, int index)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa;
	uint32_t gw = htonl(net->gateway);
	uint32_t bcast = htonl(net->net | ~ip4_mask(net->prefix));

	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof *ifa);
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = (unsigned char)net->prefix;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (unsigned)index;
	mnl_attr_put(nlh, IFA_LOCAL, sizeof gw, &gw);
	mnl_attr_put(nlh, IFA_ADDRESS, sizeof gw, &gw);
	mnl_attr_put(nlh, IFA_BROADCAST, sizeof bcast, &bcast);
	return nl_talk(nlh, NULL, NULL);
}

int bridge_ensure(const struct net_def *net, char *err, size_t errlen)
{
	struct link_info li;
	const char *step = "look up";
	int rc;

	if ((rc = link_get(net->bridge, &li)) == 1) {
		step = "create";
		if (bridge_create(net) < 0)
			goto fail;
		step = "look up";
		rc = link_get(net->bridge, &li);
	}
	if (rc != 0)
		goto fail;
	step = "set alias, mtu and up on";
	if (bridge_setup(net, li.index) < 0)
		goto fail;
	step = "add the gateway address to";
	if (bridge_address(net, li.index) < 0)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "rtnetlink: cannot %s bridge %s: %s", step,
	    net->bridge, rc == 1 ? "it vanished" : strerror(errno));
	return -1;
}

int bridge_remove(const char *name, char *err, size_t errlen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	enum bridge_owner own;
	struct link_info li;

	if (bridge_owner(name, &own, err, errlen) < 0)
		return -1;
	if (own != BRIDGE_OURS)
		return 0;
	if (link_get(name, &li) != 0 ||
	    nl_talk(link_msg(buf, RTM_DELLINK, NLM_F_ACK, li.index), NULL,
	    NULL) < 0) {
		snprintf(err, errlen, "rtnetlink: cannot delete bridge %s: %s",
		    name, strerror(errno));
		return -1;
	}
	return 0;
}
