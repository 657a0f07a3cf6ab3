/*
 * A build's NICs and config drive, between the RPC arguments and the
 * driver: the "guest" (guest.c) becomes the driver's NICs and the
 * config drive's contents, and each NIC's fixed address becomes a static
 * lease in the host's dnsmasq, through kumo-netd (netclient.c), before
 * the guest boots and asks for it. Only where guests sit on the host's
 * bridge: the libvirt driver with [libvirt] vif_type = bridge.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "compute/compute.h"

bool compute_uses_netd(const struct compute *c)
{
	return strcmp(c->conf->compute_driver, "libvirt") == 0 &&
	    strcmp(c->conf->libvirt_vif_type, "bridge") == 0;
}

/* The driver's NICs from the controller's. */
void compute_guest_nics(const struct compute_guest *g,
    struct virt_instance *inst)
{
	inst->nics_given = g->present;
	inst->n_nics = 0;
	for (size_t i = 0; i < g->n_nics && i < VIRT_MAX_NICS; i++) {
		struct virt_nic *n = &inst->nics[inst->n_nics++];

		str_copy(n->mac, g->nics[i].mac, sizeof n->mac);
		str_copy(n->bridge, g->nics[i].bridge, sizeof n->bridge);
		str_copy(n->vif_id, g->nics[i].vif_id, sizeof n->vif_id);
		n->mtu = g->nics[i].mtu;
	}
}

/* The name dnsmasq gives a lease: the guest's host name (guest.c took
 * only [A-Za-z0-9-]{1,63}) in lower case, as kumo-netd wants it. */
static void lease_name(const struct compute_guest *g, char *out, size_t len)
{
	size_t i;

	for (i = 0; g->hostname[i] != '\0' && i + 1 < len; i++)
		out[i] = (char)tolower((unsigned char)g->hostname[i]);
	out[i] = '\0';
}

int compute_vifs_plug(struct compute *c, const char *uuid,
    const struct compute_guest *g, char *reason, size_t len)
{
	char name[64], err[256];

	if (!compute_uses_netd(c))
		return 0;
	lease_name(g, name, sizeof name);
	for (size_t i = 0; i < g->n_nics; i++) {
		if (compute_net_lease_add(c->conf, uuid, g->nics[i].mac,
		    g->nics[i].address, name, err, sizeof err) < 0) {
			snprintf(reason, len, "the network helper (kumo-netd) did "
			    "not take the lease of %s: %s", g->nics[i].address, err);
			return -1;
		}
	}
	return 0;
}

void compute_vifs_unplug(struct compute *c, const char *uuid)
{
	char err[256];

	if (compute_uses_netd(c) &&
	    compute_net_lease_del_instance(c->conf, uuid, err, sizeof err) < 0)
		log_warnx("instance %s: its leases stay with kumo-netd: %s", uuid,
		    err);
}

/* The config drive's view of the guest (borrowing g's strings; nics is
 * the caller's array of COMPUTE_MAX_NICS). */
void compute_guest_configdrive(const struct compute *c,
    const struct compute_guest *g, const struct virt_instance *inst,
    struct configdrive *cd, struct configdrive_nic *nics, char *fqdn,
    size_t fqdn_len)
{
	memset(cd, 0, sizeof *cd);
	if (c->conf->dhcp_domain[0] == '\0')
		str_copy(fqdn, g->hostname, fqdn_len);
	else
		snprintf(fqdn, fqdn_len, "%s.%s", g->hostname,
		    c->conf->dhcp_domain);
	cd->uuid = inst->uuid;
	cd->name = inst->name;
	cd->hostname = fqdn;
	cd->availability_zone = g->availability_zone;
	cd->project_id = inst->project_id;
	cd->launch_index = g->launch_index;
	if (g->key_name[0] != '\0') {
		cd->key_name = g->key_name;
		cd->key_type = g->key_type;
		cd->key_data = g->key_data;
	}
	if (g->has_user_data) {
		cd->user_data = g->user_data;
		cd->user_data_len = g->user_data_len;
	}
	cd->meta = g->metadata;
	for (size_t i = 0; i < g->n_nics; i++) {
		struct configdrive_nic *n = &nics[i];

		memset(n, 0, sizeof *n);
		str_copy(n->vif_id, g->nics[i].vif_id, sizeof n->vif_id);
		str_copy(n->network_id, g->nics[i].network_id, sizeof n->network_id);
		str_copy(n->mac, g->nics[i].mac, sizeof n->mac);
		str_copy(n->address, g->nics[i].address, sizeof n->address);
		n->prefix = g->nics[i].prefix;
		str_copy(n->gateway, g->nics[i].gateway, sizeof n->gateway);
		str_copy(n->dns, g->nics[i].dns, sizeof n->dns);
		n->mtu = g->nics[i].mtu;
	}
	cd->nics = nics;
	cd->n_nics = g->n_nics;
}
