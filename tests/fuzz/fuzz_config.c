/*
 * kumo.conf (common/config.c): inih's reader and kumo's key table, each
 * value range-checked. A refusal names file:line.
 */
#include "common/common.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kumo_conf *conf = malloc(sizeof *conf);
	char path[64], err[512];
	int fd;

	if (conf == NULL)
		abort();
	fuzz_memfile(data, size, path, sizeof path, &fd);
	err[0] = '\0';
	if (conf_load(conf, path, err, sizeof err) == -1 &&
	    strncmp(err, path, strlen(path)) != 0)
		abort();
	close(fd);
	free(conf);
	return 0;
}
