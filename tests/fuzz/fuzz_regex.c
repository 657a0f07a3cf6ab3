/*
 * A user's pattern (GET /v2.1/servers?name=): compiled and matched under
 * api/regex.c's bounds. Input: pattern, a NUL, then the subject (a name).
 */
#include "api/api.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = fuzz_cstr(data, size), why[256];
	size_t plen = strlen(in);
	const char *subject = plen < size ? in + plen + 1 : "";
	struct api_regex *re = api_regex_new(in, 1024, why, sizeof why);

	if (re == NULL && why[0] == '\0')
		abort();
	if (re != NULL)
		(void)api_regex_match(re, subject);
	api_regex_free(re);
	free(in);
	return 0;
}
