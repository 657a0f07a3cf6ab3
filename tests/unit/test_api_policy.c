/* Unit tests of api/policy.c: oslo.policy's rule language, the defaults,
 * and the policy file's errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/unit/testutil.h"

#include "api/api.h"

static const struct policy_creds admin = { "admin,member,reader", "p1", "u1", true };
static const struct policy_creds member = { "member,reader", "p1", "u2", false };
static const struct policy_creds reader = { "reader", "p1", "u3", false };
static const struct policy_creds noproj = { "admin,member,reader", "", "u1", true };

static void test_defaults(void **state)
{
	(void)state;
	assert_true(policy_allows(NULL, "os_compute_api:servers:create", &member));
	assert_false(policy_allows(NULL, "os_compute_api:servers:create", &reader));
	assert_true(policy_allows(NULL, "os_compute_api:servers:index", &reader));
	assert_true(policy_allows(NULL, "os_compute_api:os-hypervisors:list", &admin));
	assert_false(policy_allows(NULL, "os_compute_api:os-hypervisors:list", &member));
	assert_true(policy_allows(NULL, "os_compute_api:limits", &reader));
	assert_false(policy_allows(NULL, "add_image", &reader));
	assert_true(policy_allows(NULL, "get_image", &reader));
	assert_false(policy_allows(NULL, "publicize_image", &member));
	assert_false(policy_allows(NULL,
	    "os_compute_api:os-flavor-access:add_tenant_access", &member));
	assert_false(policy_allows(NULL, "os_compute_api:os-flavor-access", &member));
	assert_true(policy_allows(NULL, "publicize_image", &admin));
	/* project_id:%(project_id)s needs a project on both sides */
	assert_false(policy_allows(NULL, "os_compute_api:servers:index",
	    &(struct policy_creds){ "reader", "", "u", false }));
	assert_true(policy_allows(NULL, "os_compute_api:servers:index", &noproj));
	/* a rule kumo does not have allows nothing */
	assert_false(policy_allows(NULL, "os_compute_api:nope", &admin));
}


static bool allows_with(const char *yaml, const char *rule,
    const struct policy_creds *c)
{
	struct api_policy *pol;
	char err[512];
	char *p = test_write_tmp(yaml);
	bool v;

	if (api_policy_load(p, &pol, err, sizeof err) != 0)
		fail_msg("%s", err);
	unlink(p);
	v = policy_allows(pol, rule, c);
	api_policy_free(pol);
	return v;
}

static void test_language(void **state)
{
	const char *r = "os_compute_api:servers:create";
	char yaml[512];
	static const struct {
		const char *check;
		bool admin, member, reader;
	} cases[] = {
		{ "role:admin", true, false, false },
		{ "role:reader and not role:member", false, false, true },
		{ "(role:admin or role:member) and project_id:%(project_id)s",
		  true, true, false },
		{ "user_id:u3", false, false, true },
		{ "user_id:%(user_id)s", true, true, true },
		{ "!", false, false, false },
		{ "@", true, true, true },
		{ "", true, true, true },
		{ "is_admin:True", true, false, false },
		{ "rule:admin_api or role:reader", true, true, true },
		{ "not (role:member)", false, false, true },
		{ "ROLE:admin", false, false, false },  /* kinds are lower case */
		{ "role:ADMIN", true, false, false },   /* role names are not */
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		snprintf(yaml, sizeof yaml, "# kumo\n\"%s\": \"%s\"\n", r,
		    cases[i].check);
		if (strncmp(cases[i].check, "ROLE", 4) == 0) {
			struct api_policy *pol;
			char err[256], *p = test_write_tmp(yaml);

			assert_int_equal(api_policy_load(p, &pol, err, sizeof err), -1);
			unlink(p);
			continue;
		}
		if (allows_with(yaml, r, &admin) != cases[i].admin ||
		    allows_with(yaml, r, &member) != cases[i].member ||
		    allows_with(yaml, r, &reader) != cases[i].reader)
			fail_msg("case %zu: %s", i, cases[i].check);
	}
	/* an override of a base rule changes every rule built on it */
	assert_false(allows_with("admin_api: \"role:operator\"\n",
	    "os_compute_api:os-hypervisors:list", &admin));
	assert_true(allows_with("admin_api: role:operator\n",
	    "os_compute_api:os-hypervisors:list",
	    &(struct policy_creds){ "operator", "p", "u", false }));
}

static void test_file_errors(void **state)
{
	static const struct {
		const char *yaml;
		int line;
		const char *what;
	} cases[] = {
		{ "\"os_compute_api:servers:create\": role:admin\n"
		  "\"os_compute_api:servers:explode\": \"@\"\n", 2, "unknown rule" },
		{ "\n\n\"os_compute_api:servers:create\": \"role:admin and\"\n", 3,
		  "a check is missing" },
		{ "\"get_image\": \"(role:admin\"\n", 1, "without its ')'" },
		{ "\"get_image\": \"rule:no_such_rule\"\n", 1, "names no rule" },
		{ "\"get_image\": \"colour:blue\"\n", 1, "unknown kind" },
		{ "\"get_image\": [\"role:admin\"]\n", 1, "name\": \"check\" pairs" },
		{ "\"get_image\": \"role:admin\n", 1, "YAML" },
		{ "\"get_image\": \"role:admin role:member\"\n", 1, "unexpected text" },
		{ "\"get_image\": \"project_id:%(colour)s\"\n", 1, "%(target)s" },
	};
	struct api_policy *pol;
	char err[512], want[600];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char *p = test_write_tmp(cases[i].yaml);

		err[0] = '\0';
		assert_int_equal(api_policy_load(p, &pol, err, sizeof err), -1);
		snprintf(want, sizeof want, "%s:%d: ", p, cases[i].line);
		if (strncmp(err, want, strlen(want)) != 0 ||
		    strstr(err, cases[i].what) == NULL)
			fail_msg("case %zu: got '%s', want '%s...%s'", i, err, want,
			    cases[i].what);
		unlink(p);
	}
	/* a rule loop is found when the file is loaded */
	{
		char *p = test_write_tmp("admin_api: rule:project_member_or_admin\n");

		assert_int_equal(api_policy_load(p, &pol, err, sizeof err), -1);
		assert_non_null(strstr(err, "too deep"));
		unlink(p);
	}
	/* no file: the defaults */
	assert_int_equal(api_policy_load("/nonexistent/policy.yaml", &pol, err,
	    sizeof err), 0);
	assert_true(policy_allows(pol, "os_compute_api:servers:create", &member));
	api_policy_free(pol);
}

/* Every compute and image route names a rule kumo has, and its default
 * lets an admin act in their own project. */
static void test_every_route_has_a_rule(void **state)
{
	size_t n;
	const struct api_route *rt = api_routes(&n);

	(void)state;
	for (size_t i = 0; i < n; i++) {
		if (rt[i].flags & (ROUTE_NOAUTH | ROUTE_IDENTITY))
			continue;
		if (rt[i].policy == NULL ||
		    !policy_allows(NULL, rt[i].policy, &admin))
			fail_msg("%s %s: rule %s", rt[i].method, rt[i].pattern,
			    rt[i].policy ? rt[i].policy : "(none)");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_language),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_every_route_has_a_rule),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
