/*
 * A build's "instance" as kumo-compute reads it off the bus
 * (compute/args.c, compute/guest.c): whatever they accept must make a
 * config drive description that configdrive_check accepts and whose
 * documents build (compute/configdrive.c), and driver NICs that the
 * domain XML takes: the checks at the boundary are the only ones.
 */
#include <jansson.h>

#include "compute/compute.h"
#include "tests/fuzz/fuzz.h"

static void describe(const struct compute_guest *g, struct virt_instance *inst)
{
	static struct kumo_conf conf;
	struct compute c = { .conf = &conf };
	struct configdrive_nic nics[COMPUTE_MAX_NICS];
	struct virt_domain_spec spec = { .inst = inst, .virt_type = "qemu",
	    .disk_path = "", .console_path = "/c", .network = "",
	    .vif_type = "bridge", .bridge = "kumobr0" };
	struct configdrive cd;
	char fqdn[320], err[256], *xml;
	json_t *md, *nd;

	snprintf(conf.dhcp_domain, sizeof conf.dhcp_domain, "novalocal");
	compute_guest_nics(g, inst);
	compute_guest_configdrive(&c, g, inst, &cd, nics, fqdn, sizeof fqdn);
	if (configdrive_check(&cd, err, sizeof err) < 0) {
		fprintf(stderr, "guest accepted, config drive refused: %s\n", err);
		abort();
	}
	md = configdrive_meta_data(&cd, "latest");
	nd = configdrive_network_data(&cd);
	if (md == NULL || (g->n_nics > 0 && nd == NULL))
		abort();
	json_decref(md);
	json_decref(nd);
	/* the image paths come from the compute's own cache, not the bus; the
	 * flavor's bounds are the driver's own check (a refused build, not
	 * this harness's question) */
	snprintf(inst->kernel_path, sizeof inst->kernel_path, "/proc/self/exe");
	inst->vcpus = 1;
	inst->memory_mb = 512;
	inst->root_gb = inst->ephemeral_gb = inst->swap = 0;
	if ((xml = virt_domain_xml(&spec, err, sizeof err)) == NULL) {
		fprintf(stderr, "guest accepted, domain XML refused: %s\n", err);
		abort();
	}
	free(xml);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct virt_instance inst;
	struct compute_guest g;
	struct rpc_error err;
	json_t *o = json_loadb((const char *)data, size, 0, NULL);

	if (o == NULL)
		return 0;
	memset(&err, 0, sizeof err);
	if (compute_args_instance(o, &inst, &err) == 0 &&
	    compute_args_guest(o, &g, &err) == 0) {
		if (g.present)   /* (without one, there is no config drive) */
			describe(&g, &inst);
		compute_guest_clear(&g);
	}
	json_decref(o);
	return 0;
}
