/*
 * Policy: oslo.policy's rule language over kumo's rule names, with Nova's
 * and Glance's default rules (the new defaults: a project's readers read,
 * its members change, admins do what is admin-only), overridable from a
 * policy file in oslo.policy's YAML ([oslo_policy] policy_file):
 *
 *   "os_compute_api:servers:create": "role:admin or role:creator"
 *
 * The language: checks `role:NAME`, `rule:NAME`, `project_id:%(project_id)s`,
 * `user_id:%(user_id)s`, `is_admin:True`, `@` (always), `!` (never), "" (always);
 * `and`, `or`, `not` and parentheses. The target of a check is the caller's
 * own project and user: another project's resources are kept from view by
 * the handlers (404), as Nova does.
 *
 * An unknown rule name or a check that does not parse is an error naming
 * file:line, at start-up.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "api/api.h"

#define READER "rule:project_reader_or_admin"
#define MEMBER "rule:project_member_or_admin"
#define ADMIN "rule:admin_api"

static const struct {
	const char *name;
	const char *check;
} defaults[] = {
	{ "admin_api", "role:admin" },
	{ "project_member_api", "role:member and project_id:%(project_id)s" },
	{ "project_reader_api", "role:reader and project_id:%(project_id)s" },
	{ "project_member_or_admin", "rule:project_member_api or rule:admin_api" },
	{ "project_reader_or_admin", "rule:project_reader_api or rule:admin_api" },
	{ "os_compute_api:servers:index", READER },
	{ "os_compute_api:servers:detail", READER },
	{ "os_compute_api:servers:index:get_all_tenants", ADMIN },
	{ "os_compute_api:servers:detail:get_all_tenants", ADMIN },
	{ "os_compute_api:servers:show", READER },
	{ "os_compute_api:servers:create", MEMBER },
	{ "os_compute_api:servers:update", MEMBER },
	{ "os_compute_api:servers:delete", MEMBER },
	{ "os_compute_api:servers:action", MEMBER },
	{ "os_compute_api:os-admin-actions:reset_state", ADMIN },
	{ "os_compute_api:os-server-password:show", READER },
	{ "os_compute_api:os-server-password:clear", MEMBER },
	{ "os_compute_api:ips:index", READER },
	{ "os_compute_api:ips:show", READER },
	{ "os_compute_api:os-networks:list", READER },
	{ "os_compute_api:os-networks:view", READER },
	{ "os_compute_api:os-instance-actions:list", READER },
	{ "os_compute_api:os-instance-actions:show", READER },
	{ "os_compute_api:os-keypairs:index", READER },
	{ "os_compute_api:os-keypairs:show", READER },
	{ "os_compute_api:os-keypairs:create", MEMBER },
	{ "os_compute_api:os-keypairs:delete", MEMBER },
	{ "os_compute_api:flavors:index", "@" },
	{ "os_compute_api:flavors:show", "@" },
	{ "os_compute_api:os-flavor-extra-specs:index", READER },
	{ "os_compute_api:os-flavor-manage:create", ADMIN },
	{ "os_compute_api:os-flavor-manage:delete", ADMIN },
	{ "os_compute_api:os-flavor-access", ADMIN },
	{ "os_compute_api:os-flavor-access:add_tenant_access", ADMIN },
	{ "os_compute_api:os-flavor-access:remove_tenant_access", ADMIN },
	{ "os_compute_api:os-hypervisors:list", ADMIN },
	{ "os_compute_api:os-hypervisors:list-detail", ADMIN },
	{ "os_compute_api:os-hypervisors:show", ADMIN },
	{ "os_compute_api:os-hypervisors:uptime", ADMIN },
	{ "os_compute_api:os-hypervisors:statistics", ADMIN },
	{ "os_compute_api:os-hypervisors:search", ADMIN },
	{ "os_compute_api:os-hypervisors:servers", ADMIN },
	{ "os_compute_api:os-services:list", ADMIN },
	{ "os_compute_api:os-simple-tenant-usage:list", ADMIN },
	{ "os_compute_api:os-simple-tenant-usage:show", READER },
	{ "os_compute_api:os-instance-usage-audit-log:list", ADMIN },
	{ "os_compute_api:os-instance-usage-audit-log:show", ADMIN },
	{ "os_compute_api:os-migrations:index", ADMIN },
	{ "os_compute_api:os-hosts:list", ADMIN },
	{ "os_compute_api:os-hosts:show", ADMIN },
	{ "os_compute_api:os-hosts:update", ADMIN },
	{ "os_compute_api:os-hosts:start", ADMIN },
	{ "os_compute_api:os-hosts:shutdown", ADMIN },
	{ "os_compute_api:os-hosts:reboot", ADMIN },
	{ "os_compute_api:os-aggregates:index", ADMIN },
	{ "os_compute_api:limits", "@" },
	{ "os_compute_api:os-quota-sets:show", READER },
	{ "os_compute_api:os-quota-sets:detail", READER },
	{ "os_compute_api:os-quota-sets:defaults", "@" },
	{ "os_compute_api:os-quota-sets:update", ADMIN },
	{ "os_compute_api:os-quota-sets:delete", ADMIN },
	{ "os_compute_api:os-availability-zone:list", "@" },
	{ "os_compute_api:image-proxy", READER },
	/* Glance's (the image API on this port) */
	{ "get_images", READER },
	{ "get_image", READER },
	{ "download_image", READER },
	{ "add_image", MEMBER },
	{ "publicize_image", ADMIN },
	{ "delete_image", MEMBER },
	{ "upload_image", MEMBER },
};

#define N_RULES (sizeof defaults / sizeof *defaults)
#define CHECK_MAX 512

struct api_policy {
	char check[N_RULES][CHECK_MAX];
};

/* ---- evaluation: a recursive descent over the check string ---- */

struct eval {
	const struct api_policy *pol;   /* NULL: the defaults */
	const struct policy_creds *c;
	const char *p;                  /* where we are */
	int depth;                      /* rule: nesting */
	const char *err;                /* the first syntax error */
};

static int rule_index(const char *name, size_t n)
{
	for (size_t i = 0; i < N_RULES; i++)
		if (strlen(defaults[i].name) == n &&
		    strncmp(defaults[i].name, name, n) == 0)
			return (int)i;
	return -1;
}

static const char *rule_check(const struct api_policy *pol, int i)
{
	return pol != NULL ? pol->check[i] : defaults[i].check;
}

static void skip_ws(struct eval *e)
{
	while (isspace((unsigned char)*e->p))
		e->p++;
}

/* A word: up to whitespace, less the ')' that close groups at its end
 * (as oslo.policy reads "(role:a or project_id:%(project_id)s)"). */
static size_t word(struct eval *e, const char **start)
{
	size_t n = 0;

	skip_ws(e);
	*start = e->p;
	while (e->p[n] != '\0' && !isspace((unsigned char)e->p[n]))
		n++;
	while (n > 0 && e->p[n - 1] == ')')
		n--;
	return n;
}

static bool keyword(struct eval *e, const char *kw)
{
	const char *s;
	size_t n = word(e, &s);

	if (n != strlen(kw) || strncasecmp(s, kw, n) != 0)
		return false;
	e->p += n;
	return true;
}

static bool eval_or(struct eval *e);

static bool in_list(const char *list, const char *v, size_t n)
{
	const char *p = list;

	while (*p != '\0') {
		size_t k = strcspn(p, ",");

		if (k == n && strncasecmp(p, v, n) == 0)
			return true;
		p += k + (p[k] == ',');
	}
	return false;
}

/* kind:match, one check. */
static bool eval_check(struct eval *e, const char *s, size_t n)
{
	const char *colon = memchr(s, ':', n);
	const char *m;
	size_t kn, mn;
	const char *mine = NULL, *target = NULL;

	if (n == 1 && (*s == '@' || *s == '!'))
		return *s == '@';
	if (colon == NULL) {
		e->err = e->err ? e->err : "a check is kind:match, @ or !";
		return false;
	}
	kn = (size_t)(colon - s);
	m = colon + 1;
	mn = n - kn - 1;
	if (kn == 4 && strncmp(s, "role", 4) == 0)
		return in_list(e->c->roles, m, mn);
	if (kn == 4 && strncmp(s, "rule", 4) == 0) {
		int i = rule_index(m, mn);
		struct eval sub = *e;
		bool v;

		if (i < 0) {
			e->err = e->err ? e->err : "rule: names no rule";
			return false;
		}
		if (e->depth > 16) {
			e->err = e->err ? e->err : "rules nest too deep (a loop?)";
			return false;
		}
		sub.p = rule_check(e->pol, i);
		sub.depth++;
		sub.err = NULL;
		skip_ws(&sub);
		v = *sub.p == '\0' ? true : eval_or(&sub);
		if (sub.err != NULL && e->err == NULL)
			e->err = sub.err;
		return v;
	}
	if (kn == 8 && strncmp(s, "is_admin", 8) == 0)
		return (mn == 4 && strncasecmp(m, "true", 4) == 0) == e->c->is_admin;
	if (kn == 10 && strncmp(s, "project_id", 10) == 0)
		mine = e->c->project_id;
	else if (kn == 7 && strncmp(s, "user_id", 7) == 0)
		mine = e->c->user_id;
	else {
		e->err = e->err ? e->err : "unknown kind of check";
		return false;
	}
	if (mn >= 4 && strncmp(m, "%(", 2) == 0 && strncmp(m + mn - 2, ")s", 2) == 0) {
		size_t tn = mn - 4;

		if (tn == 10 && strncmp(m + 2, "project_id", 10) == 0)
			target = e->c->project_id;
		else if (tn == 7 && strncmp(m + 2, "user_id", 7) == 0)
			target = e->c->user_id;
		else {
			e->err = e->err ? e->err : "unknown %(target)s";
			return false;
		}
		return *mine != '\0' && *target != '\0' && strcmp(mine, target) == 0;
	}
	return *mine != '\0' && strlen(mine) == mn && strncmp(mine, m, mn) == 0;
}

static bool eval_atom(struct eval *e)
{
	const char *s;
	size_t n;
	bool v;

	skip_ws(e);
	if (*e->p == '(') {
		e->p++;
		v = eval_or(e);
		skip_ws(e);
		if (*e->p != ')') {
			e->err = e->err ? e->err : "a '(' without its ')'";
			return false;
		}
		e->p++;
		return v;
	}
	if (keyword(e, "not"))
		return !eval_atom(e);
	n = word(e, &s);
	if (n == 0) {
		e->err = e->err ? e->err : "a check is missing";
		return false;
	}
	e->p += n;
	return eval_check(e, s, n);
}

static bool eval_and(struct eval *e)
{
	bool v = eval_atom(e);

	while (keyword(e, "and"))
		v = eval_atom(e) && v;   /* both sides are parsed, always */
	return v;
}

static bool eval_or(struct eval *e)
{
	bool v = eval_and(e);

	while (keyword(e, "or"))
		v = eval_and(e) || v;
	return v;
}

/* Evaluates a whole check string: its value, and *err a syntax error. */
static bool eval_string(const struct api_policy *pol, const char *check,
    const struct policy_creds *c, const char **err)
{
	struct eval e = { .pol = pol, .c = c, .p = check };
	bool v;

	skip_ws(&e);
	if (*e.p == '\0') {
		*err = NULL;
		return true;   /* "": anyone */
	}
	v = eval_or(&e);
	skip_ws(&e);
	if (*e.p != '\0' && e.err == NULL)
		e.err = "unexpected text after the check";
	*err = e.err;
	return e.err == NULL && v;
}

bool policy_allows(const struct api_policy *pol, const char *rule,
    const struct policy_creds *c)
{
	int i = rule == NULL ? -1 : rule_index(rule, strlen(rule));
	const char *err;

	if (i < 0)
		return false;   /* a rule kumo does not have: never */
	return eval_string(pol, rule_check(pol, i), c, &err);
}

int policy_check_syntax(const char *check, char *err, size_t errlen)
{
	struct policy_creds c = { .roles = "", .project_id = "", .user_id = "" };
	const char *why;

	(void)eval_string(NULL, check, &c, &why);
	if (why == NULL)
		return 0;
	snprintf(err, errlen, "%s", why);
	return -1;
}

/* ---- the file ---- */

static int load_fail(char *err, size_t errlen, const char *path, size_t line,
    const char *fmt, const char *arg)
{
	char msg[320];

	snprintf(msg, sizeof msg, fmt, arg);
	snprintf(err, errlen, "%s:%zu: %s", path, line, msg);
	return -1;
}

/* The document's top-level mapping of scalars into pol. */
static int load_events(yaml_parser_t *y, const char *path,
    struct api_policy *pol, char *err, size_t errlen)
{
	yaml_event_t ev;
	char key[256] = "";
	size_t key_line = 0;
	int depth = 0, rc = 0;

	for (;;) {
		if (!yaml_parser_parse(y, &ev))
			return load_fail(err, errlen, path, (y->context ?
			    y->context_mark.line : y->problem_mark.line) + 1,
			    "YAML: %s", y->problem ? y->problem : "syntax error");
		if (ev.type == YAML_STREAM_END_EVENT)
			break;
		if (ev.type == YAML_MAPPING_START_EVENT && ++depth > 1)
			rc = load_fail(err, errlen, path, ev.start_mark.line + 1,
			    "%s", "rules are \"name\": \"check\" pairs");
		else if (ev.type == YAML_MAPPING_END_EVENT)
			depth--;
		else if (ev.type == YAML_SEQUENCE_START_EVENT)
			rc = load_fail(err, errlen, path, ev.start_mark.line + 1,
			    "%s", "rules are \"name\": \"check\" pairs");
		else if (ev.type == YAML_SCALAR_EVENT && depth == 1) {
			const char *v = (const char *)ev.data.scalar.value;
			size_t line = ev.start_mark.line + 1;
			char why[128];
			int i;

			if (key[0] == '\0') {
				if (str_copy(key, v, sizeof key) < 0 || *v == '\0')
					rc = load_fail(err, errlen, path, line,
					    "%s", "a rule name of 1 to 255 characters");
				key_line = line;
			} else if ((i = rule_index(key, strlen(key))) < 0) {
				rc = load_fail(err, errlen, path, key_line,
				    "unknown rule '%s'", key);
			} else if (strlen(v) >= CHECK_MAX ||
			    policy_check_syntax(v, why, sizeof why) < 0) {
				rc = load_fail(err, errlen, path, line,
				    "rule's check: %s", strlen(v) >= CHECK_MAX ?
				    "longer than 511 characters" : why);
			} else {
				memcpy(pol->check[i], v, strlen(v) + 1);
				key[0] = '\0';
			}
		}
		yaml_event_delete(&ev);
		if (rc < 0)
			return rc;
	}
	yaml_event_delete(&ev);
	return 0;
}

int api_policy_load(const char *path, struct api_policy **out, char *err,
    size_t errlen)
{
	struct api_policy *pol = calloc(1, sizeof *pol);
	yaml_parser_t y;
	FILE *f;
	int rc;

	*out = NULL;
	if (pol == NULL)
		return -1;
	for (size_t i = 0; i < N_RULES; i++)
		memcpy(pol->check[i], defaults[i].check, strlen(defaults[i].check) + 1);
	if (path == NULL || *path == '\0' || (f = fopen(path, "r")) == NULL) {
		*out = pol;   /* no file: the defaults, as oslo.policy */
		return 0;
	}
	yaml_parser_initialize(&y);
	yaml_parser_set_input_file(&y, f);
	rc = load_events(&y, path, pol, err, errlen);
	yaml_parser_delete(&y);
	fclose(f);
	if (rc < 0) {
		free(pol);
		return -1;
	}
	/* a rule may name another only if that one parses too: checked by
	 * evaluating every rule once */
	for (size_t i = 0; i < N_RULES; i++) {
		struct policy_creds c = { .roles = "", .project_id = "", .user_id = "" };
		const char *why;

		(void)eval_string(pol, pol->check[i], &c, &why);
		if (why != NULL) {
			snprintf(err, errlen, "%s: rule '%s': %s", path,
			    defaults[i].name, why);
			free(pol);
			return -1;
		}
	}
	*out = pol;
	return 0;
}

void api_policy_free(struct api_policy *pol)
{
	free(pol);
}

int api_policy_check(struct api_req *r, const char *rule)
{
	struct policy_creds c = { .roles = r->role_names,
	    .project_id = r->project_id, .user_id = r->user_id,
	    .is_admin = r->is_admin };

	if (policy_allows(r->api->policy, rule, &c))
		return 0;
	return api_error(r, ERR_POLICY, rule);
}
