/*
 * configdrive-bench: milliseconds per config drive (compute/configdrive.c)
 * for a typical instance: an ssh key pair, 4 KiB of user data, one NIC,
 * two metadata items. Prints the median, minimum and maximum of N drives.
 *
 *   configdrive-bench [-n N] [-f iso9660|vfat] [-o FILE]
 *
 * Without -o it writes into a private directory under /tmp and removes it.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compute/compute.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void typical(struct configdrive *cd, struct configdrive_nic *nic,
    unsigned char *ud, size_t udlen)
{
	static const char key[] = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq0"
	    "b3KQ2cX1v6l9m1o7xY4C3Qk3l1Zb0JtZp9gK1v2r bench@kumo";

	for (size_t i = 0; i < udlen; i++)
		ud[i] = (unsigned char)(i * 131 + 7);
	memset(nic, 0, sizeof *nic);
	strcpy(nic->vif_id, "3f1e2d4c-5b6a-4789-8abc-def012345678");
	strcpy(nic->network_id, "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d");
	strcpy(nic->mac, "fa:16:3e:12:34:56");
	strcpy(nic->address, "10.99.0.13");
	nic->prefix = 24;
	strcpy(nic->gateway, "10.99.0.1");
	strcpy(nic->dns, "10.99.0.1");
	nic->mtu = 1500;
	*cd = (struct configdrive){
		.uuid = "8c1d0f4e-6a57-4b8e-9d63-0d8f5f2b3a11",
		.name = "bench-vm", .hostname = "bench-vm.novalocal",
		.availability_zone = "nova",
		.project_id = "00000000000000000000000000000000",
		.key_name = "bench-key", .key_data = key, .key_type = "ssh",
		.user_data = ud, .user_data_len = udlen,
		.nics = nic, .n_nics = 1,
	};
}

int main(int argc, char **argv)
{
	const char *format = "iso9660", *out = NULL;
	char dir[] = "/tmp/kumo-cd-bench-XXXXXX", path[64], err[256];
	struct configdrive cd;
	struct configdrive_nic nic;
	static unsigned char ud[4096];
	uint64_t *ms, t0;
	json_t *meta;
	int n = 50, c;

	while ((c = getopt(argc, argv, "n:f:o:")) != -1) {
		if (c == 'n' && num_parse_int(optarg, 1, 100000, &n) == 0)
			continue;
		if (c == 'f' || c == 'o') {
			*(c == 'f' ? &format : &out) = optarg;
			continue;
		}
		fprintf(stderr, "usage: configdrive-bench [-n N] "
		    "[-f iso9660|vfat] [-o FILE]\n");
		return 2;
	}
	typical(&cd, &nic, ud, sizeof ud);
	meta = json_object();
	json_object_set_new(meta, "role", json_string("bench"));
	json_object_set_new(meta, "owner", json_string("kumo"));
	cd.meta = meta;
	if (!out) {
		if (!mkdtemp(dir) || str_fmt(path, sizeof path, "%s/disk.config",
		    dir) < 0)
			return 1;
		out = path;
	}
	if (!(ms = calloc((size_t)n, sizeof *ms)))
		return 1;
	for (int i = 0; i < n; i++) {
		t0 = now_us();
		if (configdrive_write(&cd, format, out, err, sizeof err) < 0) {
			fprintf(stderr, "configdrive_write: %s\n", err);
			return 1;
		}
		ms[i] = now_us() - t0;
	}
	qsort(ms, (size_t)n, sizeof *ms, cmp_u64);
	printf("config drive (%s, key, %zu B user data, 1 NIC): median %.2f ms,"
	    " min %.2f ms, max %.2f ms over %d\n", format, sizeof ud,
	    (double)ms[n / 2] / 1000, (double)ms[0] / 1000,
	    (double)ms[n - 1] / 1000, n);
	if (out == path) {
		unlink(path);
		rmdir(dir);
	}
	free(ms);
	json_decref(meta);
	return 0;
}
