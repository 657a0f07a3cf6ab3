/*
 * The policy file (api/policy.c): YAML read with libyaml, each rule in
 * oslo.policy's check language. A file that loads is evaluated for every
 * rule name in the input's own words; the input is also one check string
 * (policy_check_syntax), as a rule's value.
 */
#include "api/api.h"
#include "tests/fuzz/fuzz.h"

static const char *const rules[] = {
	"os_compute_api:servers:create", "os_compute_api:servers:index",
	"os_compute_api:servers:delete", "os_compute_api:os-flavor-manage:create",
	"compute:server:show", "admin_api", "no:such:rule",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_creds c = { .roles = "member,reader", .project_id = "p1",
	    .user_id = "u1" };
	struct api_policy *pol;
	char path[64], err[512], *check;
	int fd;

	check = fuzz_cstr(data, size);
	(void)policy_check_syntax(check, err, sizeof err);
	free(check);
	fuzz_memfile(data, size, path, sizeof path, &fd);
	if (api_policy_load(path, &pol, err, sizeof err) == 0) {
		for (size_t i = 0; i < sizeof rules / sizeof *rules; i++)
			(void)policy_allows(pol, rules[i], &c);
		api_policy_free(pol);
	}
	close(fd);
	return 0;
}
