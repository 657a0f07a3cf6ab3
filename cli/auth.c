/*
 * Logging in as openstackclient does: the settings from a clouds.yaml
 * entry, then OS_* variables, then --os-* flags (each wins over the one
 * before); POST <auth_url>/auth/tokens with the password method by names,
 * scoped to a project by name; X-Subject-Token is the token, the catalog
 * gives the compute and image endpoints. The session is cached (cache.c)
 * until shortly before it expires. The password and the token are never
 * printed: errors name settings, not values.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "common/common.h"

#define AUTH_FIELD(name) offsetof(struct cli_auth, name), \
	sizeof ((struct cli_auth *)0)->name

/* Flag, variable and field of every setting; the row index is the
 * option's val - CLI_OPT_OS. */
static const struct {
	const char *flag;
	const char *env;
	size_t off, len;
} auth_fields[] = {
	{ "os-cloud", "OS_CLOUD", AUTH_FIELD(cloud) },
	{ "os-auth-url", "OS_AUTH_URL", AUTH_FIELD(auth_url) },
	{ "os-username", "OS_USERNAME", AUTH_FIELD(username) },
	{ "os-password", "OS_PASSWORD", AUTH_FIELD(password) },
	{ "os-project-name", "OS_PROJECT_NAME", AUTH_FIELD(project_name) },
	{ "os-user-domain-name", "OS_USER_DOMAIN_NAME", AUTH_FIELD(user_domain_name) },
	{ "os-user-domain-id", "OS_USER_DOMAIN_ID", AUTH_FIELD(user_domain_id) },
	{ "os-project-domain-name", "OS_PROJECT_DOMAIN_NAME", AUTH_FIELD(project_domain_name) },
	{ "os-project-domain-id", "OS_PROJECT_DOMAIN_ID", AUTH_FIELD(project_domain_id) },
	{ "os-region-name", "OS_REGION_NAME", AUTH_FIELD(region_name) },
	{ "os-interface", "OS_INTERFACE", AUTH_FIELD(interface) },
};
_Static_assert(sizeof auth_fields / sizeof auth_fields[0] == CLI_NAUTH_OPTS,
    "CLI_NAUTH_OPTS counts auth_fields");

static const char *const interfaces[] = {
	"public", "internal", "admin", "publicURL", "internalURL", "adminURL",
};

void cli_auth_options(struct option *o)
{
	for (size_t i = 0; i < CLI_NAUTH_OPTS; i++)
		o[i] = (struct option){ auth_fields[i].flag, required_argument, NULL,
		    CLI_OPT_OS + (int)i };
}

static char *field(struct cli_auth *a, size_t i)
{
	return (char *)a + auth_fields[i].off;
}

int cli_auth_set_opt(struct cli_auth *a, int i, const char *val)
{
	if (i < 0 || (size_t)i >= CLI_NAUTH_OPTS)
		return -1;
	if (str_copy(field(a, (size_t)i), val, auth_fields[i].len) < 0) {
		fprintf(stderr, "kumo: --%s: value too long\n", auth_fields[i].flag);
		return -1;
	}
	return 0;
}

/* Over a: each variable that is set, then each flag that was given. */
static int overlay(struct cli_auth *a, const struct cli_auth *flags)
{
	for (size_t i = 1; i < CLI_NAUTH_OPTS; i++) {
		const char *env = getenv(auth_fields[i].env);

		if (env != NULL && *env != '\0' &&
		    str_copy(field(a, i), env, auth_fields[i].len) < 0) {
			fprintf(stderr, "kumo: %s: value too long\n", auth_fields[i].env);
			return -1;
		}
		if (*((const char *)flags + auth_fields[i].off) != '\0')
			str_copy(field(a, i), (const char *)flags + auth_fields[i].off,
			    auth_fields[i].len);
	}
	return 0;
}

int cli_auth_resolve(struct cli_auth *a, const struct cli_auth *flags)
{
	const char *cloud = getenv("OS_CLOUD");

	memset(a, 0, sizeof *a);
	if (flags->cloud[0] != '\0')
		cloud = flags->cloud;
	if (cloud != NULL && *cloud != '\0') {
		if (str_copy(a->cloud, cloud, sizeof a->cloud) < 0) {
			fprintf(stderr, "kumo: cloud name too long\n");
			return -1;
		}
		if (cli_clouds_load(a) < 0)
			return -1;
	}
	if (overlay(a, flags) < 0)
		return -1;
	if (a->user_domain_name[0] == '\0' && a->user_domain_id[0] == '\0')
		str_copy(a->user_domain_name, "Default", sizeof a->user_domain_name);
	if (a->project_domain_name[0] == '\0' && a->project_domain_id[0] == '\0')
		str_copy(a->project_domain_name, "Default", sizeof a->project_domain_name);
	if (a->interface[0] == '\0')
		str_copy(a->interface, "public", sizeof a->interface);
	for (size_t i = 0; i < sizeof interfaces / sizeof interfaces[0]; i++)
		if (strcmp(a->interface, interfaces[i]) == 0)
			return 0;
	fprintf(stderr, "kumo: interface '%s': public, internal or admin\n", a->interface);
	return -1;
}

/* {"name": name} or {"id": id}: a domain by name when one is given. */
static json_t *domain_ref(const char *name, const char *id)
{
	return *name ? json_pack("{s:s}", "name", name) : json_pack("{s:s}", "id", id);
}

/* The body of a password login scoped to the project, by names. */
static json_t *login_body(const struct cli_auth *a)
{
	return json_pack("{s:{s:{s:[s], s:{s:{s:s, s:o, s:s}}}, s:{s:{s:s, s:o}}}}",
	    "auth", "identity", "methods", "password", "password", "user",
	    "name", a->username, "domain", domain_ref(a->user_domain_name, a->user_domain_id),
	    "password", a->password,
	    "scope", "project", "name", a->project_name,
	    "domain", domain_ref(a->project_domain_name, a->project_domain_id));
}

static void point(struct cli *c, struct cli_session *s)
{
	c->sess = s;
	c->token = s->token;
	c->url = s->compute_url;
	c->image_url = s->image_url;
}

/* The answer to a login into s, or an exit code (printed). */
static int take_answer(struct cli_session *s, struct cli_resp *r)
{
	const char *msg;
	char err[256];

	if (r->status != 201) {
		msg = json_string_value(json_object_get(json_object_get(r->body, "error"), "message"));
		fprintf(stderr, "kumo: authentication failed (%ld): %s\n", r->status,
		    msg ? msg : "no message");
		return cli_exit_code(r->status);
	}
	if (r->subject_token == NULL || r->subject_token[0] == '\0' ||
	    str_copy(s->token, r->subject_token, sizeof s->token) < 0) {
		fprintf(stderr, "kumo: %s: no usable X-Subject-Token in the answer\n",
		    s->auth->auth_url);
		return CLI_ERR;
	}
	if (cli_token_parse(r->body, s->auth->interface, s->auth->region_name, s,
	    err, sizeof err) < 0) {
		fprintf(stderr, "kumo: %s: %s\n", s->auth->auth_url, err);
		return CLI_ERR;
	}
	return CLI_OK;
}

/* The password's copy inside a login body, overwritten. */
static void wipe_body(json_t *body)
{
	json_t *pw = json_object_get(json_object_get(json_object_get(json_object_get(
	    json_object_get(body, "auth"), "identity"), "password"), "user"), "password");
	const char *v;

	if ((v = json_string_value(pw)) != NULL)
		explicit_bzero((char *)v, strlen(v));
	json_decref(body);
}

/* POST <auth_url>/auth/tokens; the session into s and c. An exit code. */
static int fresh_login(struct cli *c, struct cli_session *s)
{
	const struct cli_auth *a = s->auth;
	struct cli_resp r;
	char url[1200];
	size_t n = strlen(a->auth_url);
	json_t *body;
	int rc;

	if (a->username[0] == '\0' || a->password[0] == '\0' || a->project_name[0] == '\0') {
		fprintf(stderr, "kumo: a login needs a user name, a password and a project name "
		    "(--os-username, --os-password, --os-project-name, their OS_* variables "
		    "or the clouds.yaml entry)\n");
		return CLI_USAGE;
	}
	while (n > 0 && a->auth_url[n - 1] == '/')
		n--;
	if (str_fmt(url, sizeof url, "%.*s/auth/tokens", (int)n, a->auth_url) < 0 ||
	    (body = login_body(a)) == NULL) {
		fprintf(stderr, "kumo: auth URL or credentials too long\n");
		return CLI_USAGE;
	}
	s->cached = false;
	rc = cli_fetch(c, "POST", url, NULL, json_incref(body), &r);
	wipe_body(body);
	if (rc < 0)
		return CLI_ERR;
	if ((rc = take_answer(s, &r)) == CLI_OK) {
		cli_cache_write(s);
		point(c, s);
	}
	cli_resp_free(&r);
	return rc;
}

int cli_auth_login(struct cli *c, struct cli_session *s)
{
	cli_cache_path(s->auth, s);
	if (cli_cache_read(s) == 0) {
		point(c, s);
		return CLI_OK;
	}
	return fresh_login(c, s);
}

int cli_auth_renew(struct cli *c)
{
	struct cli_session *s = c->sess;

	cli_cache_drop(s);
	explicit_bzero(s->token, sizeof s->token);
	return fresh_login(c, s);
}

void cli_auth_wipe(struct cli_auth *a, struct cli_session *s)
{
	explicit_bzero(a->password, sizeof a->password);
	explicit_bzero(s->token, sizeof s->token);
}

int cli_token_issue(struct cli *c, int argc, char **argv)
{
	char expires[40];
	struct tm tm;
	json_t *obj;

	(void)argv;
	if (argc != 1)
		return CLI_USAGE;
	if (c->sess == NULL) {
		fprintf(stderr, "kumo: token issue needs a login: --os-auth-url (OS_AUTH_URL) "
		    "or --os-cloud (OS_CLOUD), without --token\n");
		return CLI_USAGE;
	}
	if (gmtime_r(&c->sess->expires, &tm) == NULL ||
	    strftime(expires, sizeof expires, "%Y-%m-%dT%H:%M:%S+0000", &tm) == 0)
		return CLI_ERR;
	obj = json_pack("{s:s, s:s, s:s, s:s}", "expires", expires, "id", c->sess->token,
	    "project_id", c->sess->project_id, "user_id", c->sess->user_id);
	if (obj == NULL)
		return CLI_ERR;
	cli_print_object(c, obj);
	json_decref(obj);
	return CLI_OK;
}
