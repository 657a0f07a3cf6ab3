/*
 * kumo-manage bootstrap: what keystone-manage bootstrap makes, with its
 * flags, for kumo's identity service: the roles reader, member and admin
 * (admin implies member implies reader), the projects admin and service,
 * the admin user with the admin role on project admin and on the system,
 * the region, and the catalog: identity at <url>/identity/v3, compute at
 * /v2.1 and image at /image of the same scheme, host and port, each with
 * public, internal and admin endpoints; image at /image as DevStack
 * has it (kumo-api serves the image API there too). Idempotent: what exists is kept
 * (the admin's password is set anew, as keystone-manage does).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/crypto.h"
#include "db/db.h"
#include "tools/manage/manage.h"

struct boot {
	const char *password, *username, *project, *role, *service, *region;
	const char *url[3];  /* public, internal, admin */
};

static const char *const interfaces[3] = { "public", "internal", "admin" };

static int role_ensure(struct db *db, const char *name, struct db_role *out)
{
	if (db_role_get_by_name(db, name, out) == DB_OK)
		return 0;
	memset(out, 0, sizeof *out);
	str_copy(out->name, name, sizeof out->name);
	out->immutable = true;
	if (db_role_create(db, out) != DB_OK) {
		log_warnx("cannot create role %s", name);
		return -1;
	}
	printf("role %s created\n", name);
	return 0;
}

static int project_ensure(struct db *db, const char *name,
    struct db_project *out)
{
	if (db_project_get_by_name(db, "default", name, out) == DB_OK)
		return 0;
	memset(out, 0, sizeof *out);
	str_copy(out->name, name, sizeof out->name);
	str_copy(out->domain_id, "default", sizeof out->domain_id);
	out->enabled = true;
	if (db_project_create(db, out) != DB_OK) {
		log_warnx("cannot create project %s", name);
		return -1;
	}
	printf("project %s created\n", name);
	return 0;
}

static int admin_ensure(struct db *db, const struct kumo_conf *conf,
    const struct boot *b, const struct db_project *proj, struct db_user *u)
{
	bool exists = db_user_get_by_name(db, "default", b->username, u) == DB_OK;

	if (!exists) {
		memset(u, 0, sizeof *u);
		str_copy(u->name, b->username, sizeof u->name);
		str_copy(u->domain_id, "default", sizeof u->domain_id);
		str_copy(u->default_project_id, proj->id,
		    sizeof u->default_project_id);
	}
	u->enabled = true;
	if (password_hash(b->password, conf->password_hash_rounds,
	    u->password_hash) < 0) {
		log_warnx("cannot hash the password");
		return -1;
	}
	if ((exists ? db_user_update(db, u) : db_user_create(db, u)) != DB_OK) {
		log_warnx("cannot write user %s", b->username);
		return -1;
	}
	printf("user %s %s\n", b->username, exists ? "exists (password set)" :
	    "created");
	return 0;
}

static int grant(struct db *db, const char *user, enum db_assign_scope scope,
    const char *target, const char *role)
{
	struct db_assignment a = { .scope = scope };

	str_copy(a.user_id, user, sizeof a.user_id);
	str_copy(a.target_id, target, sizeof a.target_id);
	str_copy(a.role_id, role, sizeof a.role_id);
	return db_assignment_add(db, &a) == DB_OK ? 0 : -1;
}

/* The service of this type (made when missing) and an endpoint per
 * interface where it has none. */
static int service_ensure(struct db *db, const char *type, const char *name,
    const char *region, const char *const url[3])
{
	struct db_service_entry *list, s;
	struct db_endpoint *eps, e;
	size_t n, ne;
	bool found = false;
	int rc = 0;

	if (db_catalog_service_list(db, &list, &n) != DB_OK)
		return -1;
	for (size_t i = 0; i < n && !found; i++)
		if (strcmp(list[i].type, type) == 0) {
			s = list[i];
			found = true;
		}
	free(list);
	if (!found) {
		memset(&s, 0, sizeof s);
		str_copy(s.type, type, sizeof s.type);
		str_copy(s.name, name, sizeof s.name);
		s.enabled = true;
		if (db_catalog_service_create(db, &s) != DB_OK)
			return -1;
		printf("service %s (%s) created\n", name, type);
	}
	if (db_endpoint_list(db, s.id, &eps, &ne) != DB_OK)
		return -1;
	for (int k = 0; k < 3 && rc == 0; k++) {
		bool have = false;

		for (size_t i = 0; i < ne; i++)
			have |= strcmp(eps[i].interface, interfaces[k]) == 0;
		if (have)
			continue;
		memset(&e, 0, sizeof e);
		str_copy(e.service_id, s.id, sizeof e.service_id);
		str_copy(e.interface, interfaces[k], sizeof e.interface);
		str_copy(e.region_id, region, sizeof e.region_id);
		e.enabled = true;
		if (str_copy(e.url, url[k], sizeof e.url) < 0 ||
		    db_endpoint_create(db, &e) != DB_OK)
			rc = -1;
		else
			printf("endpoint %s %s %s\n", type, interfaces[k], url[k]);
	}
	free(eps);
	return rc;
}

/* url with its path replaced by suffix ("http://h:p/identity/v3" ->
 * "http://h:p/v2.1"). */
static int sibling_url(const char *url, const char *suffix, char *out,
    size_t len)
{
	const char *host = strstr(url, "://");
	const char *slash = host ? strchr(host + 3, '/') : NULL;
	size_t n = slash ? (size_t)(slash - url) : strlen(url);

	return str_fmt(out, len, "%.*s%s", (int)n, url, suffix);
}

static int catalog_ensure(struct db *db, const struct kumo_conf *conf,
    const struct boot *b)
{
	char def[CONF_STR + 64], comp[3][1100], img[3][1100];
	const char *url[3];
	const char *listen = strcmp(conf->osapi_compute_listen, "0.0.0.0") == 0 ||
	    strcmp(conf->osapi_compute_listen, "::") == 0 ? "127.0.0.1" :
	    conf->osapi_compute_listen;
	struct db_region reg = { .id = "" };
	struct db_region *regs;
	size_t n;
	bool have = false;

	str_fmt(def, sizeof def, strchr(listen, ':') ? "http://[%s]:%d/identity/v3"
	    : "http://%s:%d/identity/v3", listen, conf->osapi_compute_listen_port);
	for (int k = 0; k < 3; k++) {
		url[k] = b->url[k] ? b->url[k] : b->url[0] ? b->url[0] : def;
		if (sibling_url(url[k], "/v2.1", comp[k], sizeof comp[k]) < 0 ||
		    sibling_url(url[k], "/image", img[k], sizeof img[k]) < 0)
			return -1;
	}
	if (db_region_list(db, &regs, &n) != DB_OK)
		return -1;
	for (size_t i = 0; i < n; i++)
		have |= strcmp(regs[i].id, b->region) == 0;
	free(regs);
	str_copy(reg.id, b->region, sizeof reg.id);
	if (!have && db_region_create(db, &reg) != DB_OK)
		return -1;
	return service_ensure(db, "identity", b->service, b->region, url) < 0 ||
	    service_ensure(db, "compute", "nova", b->region,
	    (const char *const[]){ comp[0], comp[1], comp[2] }) < 0 ||
	    service_ensure(db, "image", "glance", b->region,
	    (const char *const[]){ img[0], img[1], img[2] }) < 0 ? -1 : 0;
}

static int parse(int argc, char **argv, struct boot *b)
{
	static const struct option opts[] = {
		{ "bootstrap-password", required_argument, NULL, 'p' },
		{ "bootstrap-username", required_argument, NULL, 'u' },
		{ "bootstrap-project-name", required_argument, NULL, 'P' },
		{ "bootstrap-role-name", required_argument, NULL, 'r' },
		{ "bootstrap-service-name", required_argument, NULL, 's' },
		{ "bootstrap-region-id", required_argument, NULL, 'R' },
		{ "bootstrap-public-url", required_argument, NULL, '0' },
		{ "bootstrap-internal-url", required_argument, NULL, '1' },
		{ "bootstrap-admin-url", required_argument, NULL, '2' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'p': b->password = optarg; break;
		case 'u': b->username = optarg; break;
		case 'P': b->project = optarg; break;
		case 'r': b->role = optarg; break;
		case 's': b->service = optarg; break;
		case 'R': b->region = optarg; break;
		case '0': case '1': case '2': b->url[ch - '0'] = optarg; break;
		default: return -1;
		}
	}
	if (b->password == NULL)
		b->password = getenv("OS_BOOTSTRAP_PASSWORD");
	if (b->password == NULL || *b->password == '\0') {
		fprintf(stderr, "kumo-manage bootstrap: --bootstrap-password PW "
		    "(or OS_BOOTSTRAP_PASSWORD) is required\n");
		return -1;
	}
	for (int k = 0; k < 3; k++)
		if (b->url[k] != NULL && strncmp(b->url[k], "http://", 7) != 0 &&
		    strncmp(b->url[k], "https://", 8) != 0) {
			fprintf(stderr, "kumo-manage bootstrap: %s is not an http(s) "
			    "URL\n", b->url[k]);
			return -1;
		}
	return optind == argc ? 0 : -1;
}

int manage_bootstrap(struct db *db, const struct kumo_conf *conf, int argc,
    char **argv)
{
	struct boot b = { .username = "admin", .project = "admin",
	    .role = "admin", .service = "keystone", .region = "RegionOne" };
	struct db_role reader, member, admin;
	struct db_project proj, service;
	struct db_user u;

	if (parse(argc, argv, &b) < 0)
		return -1;
	if (role_ensure(db, "reader", &reader) < 0 ||
	    role_ensure(db, "member", &member) < 0 ||
	    role_ensure(db, b.role, &admin) < 0 ||
	    db_role_imply(db, admin.id, member.id) != DB_OK ||
	    db_role_imply(db, member.id, reader.id) != DB_OK ||
	    project_ensure(db, b.project, &proj) < 0 ||
	    project_ensure(db, "service", &service) < 0 ||
	    admin_ensure(db, conf, &b, &proj, &u) < 0 ||
	    grant(db, u.id, DB_SCOPE_PROJECT, proj.id, admin.id) < 0 ||
	    grant(db, u.id, DB_SCOPE_SYSTEM, "all", admin.id) < 0 ||
	    catalog_ensure(db, conf, &b) < 0) {
		log_warnx("bootstrap failed");
		return -1;
	}
	printf("bootstrap done: user %s (%s), project %s (%s), role %s\n",
	    u.name, u.id, proj.name, proj.id, b.role);
	return 0;
}
