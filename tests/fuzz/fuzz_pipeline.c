/*
 * api-pipeline.ini (api/pipeline.c): the ordered filter list kumo-api
 * runs, read from the string entry point. A refusal names file:line.
 */
#include "api/api.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct api_pipeline p;
	char *text = fuzz_cstr(data, size), err[512];

	memset(&p, 0, sizeof p);
	err[0] = '\0';
	if (api_pipeline_parse("fuzz.ini", text, &p, err, sizeof err) == 0) {
		if (p.n > API_MAX_FILTERS || p.app == NULL)
			abort();
	} else if (strncmp(err, "fuzz.ini", 8) != 0) {
		abort();
	}
	free(text);
	return 0;
}
