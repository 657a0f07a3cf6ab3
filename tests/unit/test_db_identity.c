/* db/identity.c, db/identity_catalog.c against a real SQLite file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "common/common.h"
#include "db/db.h"
#include "tests/unit/testutil.h"


static int setup(void **state) { return test_db_setup(state, db_schema_latest()); }
static int setup_v3(void **state) { return test_db_setup(state, 3); }
static int teardown(void **state) { return test_db_teardown(state); }


/* ---- helpers --------------------------------------------------------------- */

static void domain(struct db *db, struct db_domain *d, const char *name)
{
	memset(d, 0, sizeof *d);
	snprintf(d->name, sizeof d->name, "%s", name);
	d->enabled = true;
	assert_int_equal(db_domain_create(db, d), DB_OK);
}

static void project(struct db *db, struct db_project *p, const char *domain_id,
    const char *name)
{
	memset(p, 0, sizeof *p);
	snprintf(p->name, sizeof p->name, "%s", name);
	snprintf(p->domain_id, sizeof p->domain_id, "%s", domain_id);
	p->enabled = true;
	assert_int_equal(db_project_create(db, p), DB_OK);
}

static struct db_user user_of(const char *domain_id, const char *name)
{
	struct db_user u;

	memset(&u, 0, sizeof u);
	snprintf(u.name, sizeof u.name, "%s", name);
	snprintf(u.domain_id, sizeof u.domain_id, "%s", domain_id);
	u.enabled = true;
	return u;
}

static void user(struct db *db, struct db_user *u, const char *name)
{
	*u = user_of("default", name);
	assert_int_equal(db_user_create(db, u), DB_OK);
}

static void role(struct db *db, struct db_role *r, const char *name)
{
	memset(r, 0, sizeof *r);
	snprintf(r->name, sizeof r->name, "%s", name);
	assert_int_equal(db_role_create(db, r), DB_OK);
}

static struct db_assignment assignment(const char *user_id,
    enum db_assign_scope scope, const char *target_id, const char *role_id)
{
	struct db_assignment a;

	memset(&a, 0, sizeof a);
	snprintf(a.user_id, sizeof a.user_id, "%s", user_id);
	a.scope = scope;
	snprintf(a.target_id, sizeof a.target_id, "%s", target_id);
	snprintf(a.role_id, sizeof a.role_id, "%s", role_id);
	return a;
}

static void assign(struct db *db, const char *user_id,
    enum db_assign_scope scope, const char *target_id, const char *role_id)
{
	struct db_assignment a = assignment(user_id, scope, target_id, role_id);

	assert_int_equal(db_assignment_add(db, &a), DB_OK);
}

static int64_t generation(struct db *db)
{
	int64_t g;

	assert_int_equal(db_identity_generation(db, &g), DB_OK);
	return g;
}

static bool is_hex_id(const char *id)
{
	if (strlen(id) != 32)
		return false;
	for (const char *p = id; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

/* The names of the effective roles, comma-separated. */
static void effective(struct db *db, const char *user_id,
    enum db_assign_scope scope, const char *target, char *buf, size_t size)
{
	struct db_role *roles;
	size_t n, off = 0;

	assert_int_equal(db_effective_roles(db, user_id, scope, target, &roles, &n),
	    DB_OK);
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
		off += (size_t)snprintf(buf + off, size - off, "%s%s",
		    i ? "," : "", roles[i].name);
	free(roles);
}

static size_t count_assignments(struct db *db, const struct db_assignment_filter *f)
{
	struct db_assignment *list;
	size_t n;

	assert_int_equal(db_assignment_list(db, f, &list, &n), DB_OK);
	free(list);
	return n;
}

/* ---- domains --------------------------------------------------------------- */

static void test_default_domain(void **state)
{
	struct fixture *fx = *state;
	struct db_domain d, *list;
	size_t n;

	assert_int_equal(db_domain_get(fx->db, "default", &d), DB_OK);
	assert_string_equal(d.name, "Default");
	assert_true(d.enabled);
	assert_int_equal(db_domain_get_by_name(fx->db, "Default", &d), DB_OK);
	assert_string_equal(d.id, "default");
	assert_int_equal(db_domain_list(fx->db, &list, &n), DB_OK);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].id, "default");
	free(list);
}

static void test_domains(void **state)
{
	struct fixture *fx = *state;
	struct db_domain d, e, got, *list;
	size_t n;

	domain(fx->db, &d, "zeta");
	assert_true(is_hex_id(d.id));
	domain(fx->db, &e, "alpha");
	assert_string_not_equal(d.id, e.id);

	/* A duplicate name; a duplicate id. A new id is taken back. */
	memset(&got, 0, sizeof got);
	strcpy(got.name, "zeta");
	assert_int_equal(db_domain_create(fx->db, &got), DB_CONFLICT);
	assert_string_equal(got.id, "");
	strcpy(got.name, "other");
	strcpy(got.id, d.id);
	assert_int_equal(db_domain_create(fx->db, &got), DB_CONFLICT);
	/* A given id is kept. */
	strcpy(got.id, "mine");
	strcpy(got.description, "given id");
	assert_int_equal(db_domain_create(fx->db, &got), DB_OK);
	assert_int_equal(db_domain_get(fx->db, "mine", &got), DB_OK);
	assert_string_equal(got.name, "other");
	assert_string_equal(got.description, "given id");
	assert_false(got.enabled);

	assert_int_equal(db_domain_get(fx->db, "nope", &got), DB_NOTFOUND);
	assert_int_equal(db_domain_get_by_name(fx->db, "Zeta", &got), DB_NOTFOUND);
	assert_int_equal(db_domain_list(fx->db, &list, &n), DB_OK);
	assert_int_equal(n, 4);
	assert_string_equal(list[0].name, "Default");
	assert_string_equal(list[1].name, "alpha");
	assert_string_equal(list[2].name, "other");
	assert_string_equal(list[3].name, "zeta");
	free(list);
}

/* ---- projects -------------------------------------------------------------- */

static void test_projects(void **state)
{
	struct fixture *fx = *state;
	struct db_domain d;
	struct db_project p, q, r, got, *list;
	size_t n;

	domain(fx->db, &d, "other");
	project(fx->db, &p, "default", "web");
	assert_true(is_hex_id(p.id));
	assert_int_equal(strlen(p.created_at), 20);
	project(fx->db, &q, d.id, "web");         /* same name, other domain */
	project(fx->db, &r, "default", "db");

	memset(&got, 0, sizeof got);
	strcpy(got.name, "web");
	strcpy(got.domain_id, "default");
	assert_int_equal(db_project_create(fx->db, &got), DB_CONFLICT);
	assert_string_equal(got.id, "");
	assert_string_equal(got.created_at, "");
	strcpy(got.name, "x");
	strcpy(got.domain_id, "missing");
	assert_int_equal(db_project_create(fx->db, &got), DB_NOTFOUND);
	got.domain_id[0] = '\0';
	assert_int_equal(db_project_create(fx->db, &got), DB_ERROR);

	assert_int_equal(db_project_get(fx->db, q.id, &got), DB_OK);
	assert_string_equal(got.domain_id, d.id);
	assert_int_equal(db_project_get_by_name(fx->db, "default", "web", &got), DB_OK);
	assert_string_equal(got.id, p.id);
	assert_int_equal(db_project_get_by_name(fx->db, d.id, "db", &got), DB_NOTFOUND);

	assert_int_equal(db_project_list(fx->db, NULL, &list, &n), DB_OK);
	assert_int_equal(n, 3);
	assert_string_equal(list[0].name, "db");
	free(list);
	assert_int_equal(db_project_list(fx->db, "default", &list, &n), DB_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].id, r.id);
	assert_string_equal(list[1].id, p.id);
	free(list);

	/* Update: name, description, enabled; not the domain. */
	got = p;
	strcpy(got.name, "www");
	strcpy(got.description, "front");
	got.enabled = false;
	strcpy(got.domain_id, d.id);
	assert_int_equal(db_project_update(fx->db, &got), DB_OK);
	assert_int_equal(db_project_get(fx->db, p.id, &got), DB_OK);
	assert_string_equal(got.name, "www");
	assert_string_equal(got.description, "front");
	assert_false(got.enabled);
	assert_string_equal(got.domain_id, "default");
	strcpy(got.name, "db");
	assert_int_equal(db_project_update(fx->db, &got), DB_CONFLICT);
	strcpy(got.id, "missing");
	strcpy(got.name, "fresh");
	assert_int_equal(db_project_update(fx->db, &got), DB_NOTFOUND);
}

/* ---- users ----------------------------------------------------------------- */

static void test_users(void **state)
{
	struct fixture *fx = *state;
	struct db_domain d;
	struct db_project p;
	struct db_user u, v, got, *list;
	int64_t before = (int64_t)time(NULL);
	size_t n;

	domain(fx->db, &d, "other");
	project(fx->db, &p, "default", "web");
	u = user_of("default", "alice");
	strcpy(u.password_hash, "$2b$12$hash-one");
	strcpy(u.default_project_id, p.id);
	assert_int_equal(db_user_create(fx->db, &u), DB_OK);
	assert_true(is_hex_id(u.id));
	assert_true(u.password_changed_at >= before);
	v = user_of(d.id, "alice");               /* same name, other domain */
	assert_int_equal(db_user_create(fx->db, &v), DB_OK);
	assert_int_equal(v.password_changed_at, 0);

	got = user_of("default", "alice");
	assert_int_equal(db_user_create(fx->db, &got), DB_CONFLICT);
	assert_string_equal(got.id, "");
	got = user_of("missing", "bob");
	assert_int_equal(db_user_create(fx->db, &got), DB_NOTFOUND);
	got = user_of("default", "bob");
	strcpy(got.default_project_id, "missing");
	assert_int_equal(db_user_create(fx->db, &got), DB_NOTFOUND);

	assert_int_equal(db_user_get(fx->db, u.id, &got), DB_OK);
	assert_string_equal(got.name, "alice");
	assert_string_equal(got.password_hash, "$2b$12$hash-one");
	assert_string_equal(got.default_project_id, p.id);
	assert_string_equal(got.created_at, u.created_at);
	assert_int_equal(got.password_changed_at, u.password_changed_at);
	assert_int_equal(db_user_get_by_name(fx->db, d.id, "alice", &got), DB_OK);
	assert_string_equal(got.id, v.id);
	assert_int_equal(db_user_get_by_name(fx->db, d.id, "bob", &got), DB_NOTFOUND);
	assert_int_equal(db_user_get(fx->db, "missing", &got), DB_NOTFOUND);

	user(fx->db, &got, "aaron");
	assert_int_equal(db_user_list(fx->db, "default", &list, &n), DB_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].name, "aaron");
	assert_string_equal(list[1].name, "alice");
	free(list);
	assert_int_equal(db_user_list(fx->db, NULL, &list, &n), DB_OK);
	assert_int_equal(n, 3);
	free(list);
}

static void test_user_update(void **state)
{
	struct fixture *fx = *state;
	struct db_project p;
	struct db_user u, got;
	int64_t now = (int64_t)time(NULL);

	project(fx->db, &p, "default", "web");
	u = user_of("default", "alice");
	strcpy(u.password_hash, "old");
	u.password_changed_at = 1000;
	assert_int_equal(db_user_create(fx->db, &u), DB_OK);
	assert_int_equal(u.password_changed_at, 1000);

	/* The same hash: password_changed_at stays. */
	strcpy(u.name, "alicia");
	u.enabled = false;
	strcpy(u.default_project_id, p.id);
	assert_int_equal(db_user_update(fx->db, &u), DB_OK);
	assert_int_equal(db_user_get(fx->db, u.id, &got), DB_OK);
	assert_string_equal(got.name, "alicia");
	assert_false(got.enabled);
	assert_string_equal(got.default_project_id, p.id);
	assert_int_equal(got.password_changed_at, 1000);

	/* Another hash: now. */
	strcpy(u.password_hash, "new");
	assert_int_equal(db_user_update(fx->db, &u), DB_OK);
	assert_int_equal(db_user_get(fx->db, u.id, &got), DB_OK);
	assert_string_equal(got.password_hash, "new");
	assert_true(got.password_changed_at >= now);
	/* Cleared: no password. */
	u.password_hash[0] = '\0';
	assert_int_equal(db_user_update(fx->db, &u), DB_OK);
	assert_int_equal(db_user_get(fx->db, u.id, &got), DB_OK);
	assert_string_equal(got.password_hash, "");

	strcpy(u.default_project_id, "missing");
	assert_int_equal(db_user_update(fx->db, &u), DB_NOTFOUND);
	u.default_project_id[0] = '\0';
	user(fx->db, &got, "bob");
	strcpy(u.name, "bob");
	assert_int_equal(db_user_update(fx->db, &u), DB_CONFLICT);
	strcpy(u.id, "missing");
	strcpy(u.name, "carol");
	assert_int_equal(db_user_update(fx->db, &u), DB_NOTFOUND);
}

/* ---- roles and assignments ------------------------------------------------- */

static void test_roles(void **state)
{
	struct fixture *fx = *state;
	struct db_role r, s, got, *list;
	size_t n;

	role(fx->db, &r, "member");
	memset(&s, 0, sizeof s);
	strcpy(s.name, "admin");
	strcpy(s.description, "everything");
	s.immutable = true;
	assert_int_equal(db_role_create(fx->db, &s), DB_OK);
	memset(&got, 0, sizeof got);
	strcpy(got.name, "member");
	assert_int_equal(db_role_create(fx->db, &got), DB_CONFLICT);
	assert_string_equal(got.id, "");

	assert_int_equal(db_role_get(fx->db, s.id, &got), DB_OK);
	assert_string_equal(got.description, "everything");
	assert_true(got.immutable);
	assert_int_equal(db_role_get_by_name(fx->db, "member", &got), DB_OK);
	assert_string_equal(got.id, r.id);
	assert_false(got.immutable);
	assert_int_equal(db_role_get_by_name(fx->db, "reader", &got), DB_NOTFOUND);
	assert_int_equal(db_role_list(fx->db, &list, &n), DB_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].name, "admin");
	assert_string_equal(list[1].name, "member");
	free(list);

	assert_int_equal(db_role_imply(fx->db, s.id, r.id), DB_OK);
	assert_int_equal(db_role_imply(fx->db, s.id, r.id), DB_OK);   /* idempotent */
	assert_int_equal(db_role_imply(fx->db, s.id, "missing"), DB_NOTFOUND);
	assert_int_equal(db_role_imply(fx->db, "missing", r.id), DB_NOTFOUND);
	assert_int_equal(db_role_delete(fx->db, "missing"), DB_NOTFOUND);
}

static void test_assignments(void **state)
{
	struct fixture *fx = *state;
	struct db_project p, q;
	struct db_user u, v;
	struct db_role r, s;
	struct db_assignment a, *list;
	struct db_assignment_filter f;
	size_t n;

	project(fx->db, &p, "default", "web");
	project(fx->db, &q, "default", "db");
	user(fx->db, &u, "alice");
	user(fx->db, &v, "bob");
	role(fx->db, &r, "member");
	role(fx->db, &s, "admin");

	assign(fx->db, u.id, DB_SCOPE_PROJECT, p.id, r.id);
	assign(fx->db, u.id, DB_SCOPE_PROJECT, p.id, r.id);    /* idempotent */
	assign(fx->db, u.id, DB_SCOPE_DOMAIN, "default", s.id);
	assign(fx->db, u.id, DB_SCOPE_SYSTEM, "all", s.id);
	assign(fx->db, v.id, DB_SCOPE_PROJECT, q.id, r.id);

	/* Missing references: target, user, role. */
	a = assignment(u.id, DB_SCOPE_PROJECT, "missing", r.id);
	assert_int_equal(db_assignment_add(fx->db, &a), DB_NOTFOUND);
	a = assignment(u.id, DB_SCOPE_DOMAIN, "missing", r.id);
	assert_int_equal(db_assignment_add(fx->db, &a), DB_NOTFOUND);
	a = assignment(u.id, DB_SCOPE_PROJECT, "default", r.id); /* a domain, not a project */
	assert_int_equal(db_assignment_add(fx->db, &a), DB_NOTFOUND);
	a = assignment(u.id, DB_SCOPE_SYSTEM, "other", r.id);
	assert_int_equal(db_assignment_add(fx->db, &a), DB_NOTFOUND);
	a = assignment("missing", DB_SCOPE_PROJECT, p.id, r.id);
	assert_int_equal(db_assignment_add(fx->db, &a), DB_NOTFOUND);
	a = assignment(u.id, DB_SCOPE_PROJECT, p.id, "missing");
	assert_int_equal(db_assignment_add(fx->db, &a), DB_NOTFOUND);

	assert_int_equal(db_assignment_list(fx->db, NULL, &list, &n), DB_OK);
	assert_int_equal(n, 4);
	free(list);
	memset(&f, 0, sizeof f);
	f.user_id = u.id;
	assert_int_equal(db_assignment_list(fx->db, &f, &list, &n), DB_OK);
	assert_int_equal(n, 3);
	/* user, then scope: domain, project, system */
	assert_int_equal(list[0].scope, DB_SCOPE_DOMAIN);
	assert_string_equal(list[0].target_id, "default");
	assert_string_equal(list[0].role_id, s.id);
	assert_int_equal(list[1].scope, DB_SCOPE_PROJECT);
	assert_string_equal(list[1].target_id, p.id);
	assert_string_equal(list[1].user_id, u.id);
	assert_int_equal(list[2].scope, DB_SCOPE_SYSTEM);
	assert_string_equal(list[2].target_id, "all");
	free(list);
	memset(&f, 0, sizeof f);
	f.project_id = p.id;
	assert_int_equal(count_assignments(fx->db, &f), 1);
	f.project_id = "default";       /* project scope only */
	assert_int_equal(count_assignments(fx->db, &f), 0);
	memset(&f, 0, sizeof f);
	f.domain_id = "default";
	assert_int_equal(count_assignments(fx->db, &f), 1);
	memset(&f, 0, sizeof f);
	f.role_id = r.id;
	assert_int_equal(count_assignments(fx->db, &f), 2);
	f.user_id = v.id;
	assert_int_equal(count_assignments(fx->db, &f), 1);

	a = assignment(u.id, DB_SCOPE_PROJECT, p.id, r.id);
	assert_int_equal(db_assignment_remove(fx->db, &a), DB_OK);
	assert_int_equal(db_assignment_remove(fx->db, &a), DB_NOTFOUND);
	assert_int_equal(count_assignments(fx->db, NULL), 3);
}

static void test_effective_roles(void **state)
{
	struct fixture *fx = *state;
	struct db_project p;
	struct db_user u, v, w, x;
	struct db_role admin, member, reader, other;
	char buf[256];

	project(fx->db, &p, "default", "web");
	user(fx->db, &u, "alice");
	user(fx->db, &v, "bob");
	user(fx->db, &w, "carol");
	user(fx->db, &x, "dave");
	role(fx->db, &reader, "reader");
	role(fx->db, &admin, "admin");
	role(fx->db, &member, "member");
	role(fx->db, &other, "other");
	assert_int_equal(db_role_imply(fx->db, admin.id, member.id), DB_OK);
	assert_int_equal(db_role_imply(fx->db, member.id, reader.id), DB_OK);

	assign(fx->db, u.id, DB_SCOPE_PROJECT, p.id, admin.id);
	assign(fx->db, v.id, DB_SCOPE_PROJECT, p.id, member.id);
	effective(fx->db, u.id, DB_SCOPE_PROJECT, p.id, buf, sizeof buf);
	assert_string_equal(buf, "admin,member,reader");
	effective(fx->db, v.id, DB_SCOPE_PROJECT, p.id, buf, sizeof buf);
	assert_string_equal(buf, "member,reader");
	/* Other scopes and targets: nothing. */
	effective(fx->db, u.id, DB_SCOPE_DOMAIN, "default", buf, sizeof buf);
	assert_string_equal(buf, "");
	effective(fx->db, x.id, DB_SCOPE_PROJECT, p.id, buf, sizeof buf);
	assert_string_equal(buf, "");

	/* reader implied twice (directly and through member): once. */
	assert_int_equal(db_role_imply(fx->db, admin.id, reader.id), DB_OK);
	assign(fx->db, w.id, DB_SCOPE_PROJECT, p.id, admin.id);
	assign(fx->db, w.id, DB_SCOPE_PROJECT, p.id, reader.id);
	effective(fx->db, w.id, DB_SCOPE_PROJECT, p.id, buf, sizeof buf);
	assert_string_equal(buf, "admin,member,reader");

	/* A cycle ends. */
	assert_int_equal(db_role_imply(fx->db, reader.id, other.id), DB_OK);
	assert_int_equal(db_role_imply(fx->db, other.id, admin.id), DB_OK);
	effective(fx->db, v.id, DB_SCOPE_PROJECT, p.id, buf, sizeof buf);
	assert_string_equal(buf, "admin,member,other,reader");

	/* System scope. */
	assign(fx->db, x.id, DB_SCOPE_SYSTEM, "all", reader.id);
	effective(fx->db, x.id, DB_SCOPE_SYSTEM, "all", buf, sizeof buf);
	assert_string_equal(buf, "admin,member,other,reader");

	/* A role's delete takes its implications and assignments along. */
	assert_int_equal(db_role_delete(fx->db, other.id), DB_OK);
	effective(fx->db, v.id, DB_SCOPE_PROJECT, p.id, buf, sizeof buf);
	assert_string_equal(buf, "member,reader");
	assert_int_equal(db_role_delete(fx->db, admin.id), DB_OK);
	effective(fx->db, u.id, DB_SCOPE_PROJECT, p.id, buf, sizeof buf);
	assert_string_equal(buf, "");
	effective(fx->db, w.id, DB_SCOPE_PROJECT, p.id, buf, sizeof buf);
	assert_string_equal(buf, "reader");
}

static void test_user_projects(void **state)
{
	struct fixture *fx = *state;
	struct db_project p, q, r, *list;
	struct db_user u, v;
	struct db_role m, s;
	size_t n;

	project(fx->db, &p, "default", "web");
	project(fx->db, &q, "default", "db");
	project(fx->db, &r, "default", "cache");
	user(fx->db, &u, "alice");
	user(fx->db, &v, "bob");
	role(fx->db, &m, "member");
	role(fx->db, &s, "admin");
	assign(fx->db, u.id, DB_SCOPE_PROJECT, p.id, m.id);
	assign(fx->db, u.id, DB_SCOPE_PROJECT, q.id, m.id);
	assign(fx->db, u.id, DB_SCOPE_PROJECT, q.id, s.id);   /* two roles: once */
	assign(fx->db, u.id, DB_SCOPE_DOMAIN, "default", s.id);
	assign(fx->db, v.id, DB_SCOPE_PROJECT, r.id, m.id);

	assert_int_equal(db_user_projects(fx->db, u.id, &list, &n), DB_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].name, "db");
	assert_string_equal(list[1].name, "web");
	free(list);
	assert_int_equal(db_user_projects(fx->db, "missing", &list, &n), DB_OK);
	assert_int_equal(n, 0);
	assert_null(list);
}

static void test_deletes_cascade(void **state)
{
	struct fixture *fx = *state;
	struct db_project p, q, *list;
	struct db_user u, v, got;
	struct db_role m;
	struct db_app_cred ac, *creds;
	struct db_assignment_filter f;
	size_t n;

	project(fx->db, &p, "default", "web");
	project(fx->db, &q, "default", "db");
	user(fx->db, &u, "alice");
	user(fx->db, &v, "bob");
	role(fx->db, &m, "member");
	assign(fx->db, u.id, DB_SCOPE_PROJECT, p.id, m.id);
	assign(fx->db, u.id, DB_SCOPE_PROJECT, q.id, m.id);
	assign(fx->db, v.id, DB_SCOPE_PROJECT, p.id, m.id);
	assign(fx->db, v.id, DB_SCOPE_DOMAIN, "default", m.id);
	memset(&ac, 0, sizeof ac);
	strcpy(ac.name, "ci");
	strcpy(ac.user_id, u.id);
	strcpy(ac.project_id, p.id);
	strcpy(ac.secret_hash, "h");
	assert_int_equal(db_app_cred_create(fx->db, &ac), DB_OK);

	/* A project takes its assignments, not the others. */
	assert_int_equal(db_project_delete(fx->db, p.id), DB_OK);
	assert_int_equal(db_project_delete(fx->db, p.id), DB_NOTFOUND);
	memset(&f, 0, sizeof f);
	f.project_id = p.id;
	assert_int_equal(count_assignments(fx->db, &f), 0);
	assert_int_equal(count_assignments(fx->db, NULL), 2);
	assert_int_equal(db_user_projects(fx->db, u.id, &list, &n), DB_OK);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].id, q.id);
	free(list);

	/* A user takes their assignments and application credentials. */
	assert_int_equal(db_user_delete(fx->db, u.id), DB_OK);
	assert_int_equal(db_user_delete(fx->db, u.id), DB_NOTFOUND);
	assert_int_equal(db_user_get(fx->db, u.id, &got), DB_NOTFOUND);
	f.project_id = NULL;
	f.user_id = u.id;
	assert_int_equal(count_assignments(fx->db, &f), 0);
	assert_int_equal(count_assignments(fx->db, NULL), 1);
	assert_int_equal(db_app_cred_get(fx->db, ac.id, &ac), DB_NOTFOUND);
	assert_int_equal(db_app_cred_list(fx->db, u.id, &creds, &n), DB_OK);
	assert_int_equal(n, 0);
	free(creds);
	assert_int_equal(db_user_get(fx->db, v.id, &got), DB_OK);
}

/* ---- catalog --------------------------------------------------------------- */

static struct db_endpoint endpoint(const char *service_id, const char *iface,
    const char *region, const char *url)
{
	struct db_endpoint e;

	memset(&e, 0, sizeof e);
	snprintf(e.service_id, sizeof e.service_id, "%s", service_id);
	snprintf(e.interface, sizeof e.interface, "%s", iface);
	snprintf(e.region_id, sizeof e.region_id, "%s", region);
	snprintf(e.url, sizeof e.url, "%s", url);
	e.enabled = true;
	return e;
}

static void test_catalog(void **state)
{
	struct fixture *fx = *state;
	struct db_region reg = { "RegionOne", "the one" }, *regions;
	struct db_service_entry compute, identity, got, *services;
	struct db_endpoint e, *list;
	size_t n;

	assert_int_equal(db_region_create(fx->db, &reg), DB_OK);
	assert_int_equal(db_region_create(fx->db, &reg), DB_CONFLICT);
	assert_int_equal(db_region_list(fx->db, &regions, &n), DB_OK);
	assert_int_equal(n, 1);
	assert_string_equal(regions[0].id, "RegionOne");
	assert_string_equal(regions[0].description, "the one");
	free(regions);

	memset(&compute, 0, sizeof compute);
	strcpy(compute.type, "compute");
	strcpy(compute.name, "nova");
	compute.enabled = true;
	assert_int_equal(db_catalog_service_create(fx->db, &compute), DB_OK);
	assert_true(is_hex_id(compute.id));
	memset(&identity, 0, sizeof identity);
	strcpy(identity.type, "identity");
	strcpy(identity.name, "keystone");
	strcpy(identity.description, "Identity");
	identity.enabled = true;
	assert_int_equal(db_catalog_service_create(fx->db, &identity), DB_OK);
	assert_int_equal(db_catalog_service_get(fx->db, identity.id, &got), DB_OK);
	assert_string_equal(got.name, "keystone");
	assert_string_equal(got.description, "Identity");
	assert_true(got.enabled);
	assert_int_equal(db_catalog_service_get(fx->db, "missing", &got), DB_NOTFOUND);
	assert_int_equal(db_catalog_service_list(fx->db, &services, &n), DB_OK);
	assert_int_equal(n, 2);
	assert_string_equal(services[0].type, "compute");
	assert_string_equal(services[1].type, "identity");
	free(services);

	e = endpoint(identity.id, "public", "RegionOne", "http://h:5000/v3");
	assert_int_equal(db_endpoint_create(fx->db, &e), DB_OK);
	assert_true(is_hex_id(e.id));
	e = endpoint(compute.id, "public", "RegionOne", "http://h:8774/v2.1");
	assert_int_equal(db_endpoint_create(fx->db, &e), DB_OK);
	e = endpoint(compute.id, "admin", "", "http://admin:8774/v2.1");
	assert_int_equal(db_endpoint_create(fx->db, &e), DB_OK);
	e = endpoint(compute.id, "internal", "RegionOne", "http://int:8774/v2.1");
	assert_int_equal(db_endpoint_create(fx->db, &e), DB_OK);
	e = endpoint("missing", "public", "RegionOne", "http://x");
	assert_int_equal(db_endpoint_create(fx->db, &e), DB_NOTFOUND);
	assert_string_equal(e.id, "");
	e = endpoint(compute.id, "public", "RegionTwo", "http://x");
	assert_int_equal(db_endpoint_create(fx->db, &e), DB_NOTFOUND);

	assert_int_equal(db_endpoint_list(fx->db, compute.id, &list, &n), DB_OK);
	assert_int_equal(n, 3);
	assert_string_equal(list[0].interface, "admin");
	assert_string_equal(list[0].region_id, "");
	assert_string_equal(list[0].url, "http://admin:8774/v2.1");
	assert_string_equal(list[1].interface, "internal");
	assert_string_equal(list[2].interface, "public");
	assert_string_equal(list[2].region_id, "RegionOne");
	for (size_t i = 0; i < n; i++)
		assert_string_equal(list[i].service_id, compute.id);
	free(list);
	assert_int_equal(db_endpoint_list(fx->db, identity.id, &list, &n), DB_OK);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].url, "http://h:5000/v3");
	free(list);
	assert_int_equal(db_endpoint_list(fx->db, NULL, &list, &n), DB_OK);
	assert_int_equal(n, 4);
	free(list);
}

/* ---- revocations ----------------------------------------------------------- */

static bool revoked(struct db *db, const char *user_id, int64_t issued_at,
    const char *const *audit_ids)
{
	bool r = true;

	assert_int_equal(db_token_revoked(db, user_id, issued_at, audit_ids, &r),
	    DB_OK);
	return r;
}

static void test_revocations(void **state)
{
	struct fixture *fx = *state;
	const char *const mine[] = { "audit-a", "chain-a", NULL };
	const char *const chained[] = { "audit-b", "audit-a", NULL };
	const char *const other[] = { "audit-c", NULL };

	assert_false(revoked(fx->db, "u1", 100, mine));

	/* By audit id: the token's own or its chain's. */
	assert_int_equal(db_revoke_audit_id(fx->db, "audit-a", 5000), DB_OK);
	assert_true(revoked(fx->db, "u1", 100, mine));
	assert_true(revoked(fx->db, "u2", 100, chained));
	assert_false(revoked(fx->db, "u1", 100, other));
	assert_false(revoked(fx->db, "u1", 100, NULL));

	/* By user: issued at or before the event. */
	assert_int_equal(db_revoke_user(fx->db, "u1", 1000), DB_OK);
	assert_true(revoked(fx->db, "u1", 999, other));
	assert_true(revoked(fx->db, "u1", 1000, other));
	assert_false(revoked(fx->db, "u1", 1001, other));
	assert_false(revoked(fx->db, "u2", 999, other));
	assert_false(revoked(fx->db, NULL, 999, other));
	/* A newer event covers more; an older one changes nothing. */
	assert_int_equal(db_revoke_user(fx->db, "u1", 2000), DB_OK);
	assert_true(revoked(fx->db, "u1", 1500, NULL));
	assert_int_equal(db_revoke_user(fx->db, "u1", 500), DB_OK);
	assert_true(revoked(fx->db, "u1", 1500, NULL));
	assert_false(revoked(fx->db, "u1", 2001, NULL));

	assert_int_equal(db_revoke_audit_id(fx->db, "", 5000), DB_ERROR);
	assert_int_equal(db_revoke_user(fx->db, "", 5000), DB_ERROR);

	/* Prune: audit events whose token expired (expires_at < now). */
	assert_int_equal(db_revoke_audit_id(fx->db, "audit-c", 6000), DB_OK);
	assert_int_equal(db_revoke_prune(fx->db, 5000), DB_OK);
	assert_true(revoked(fx->db, "u9", 1, mine));
	assert_int_equal(db_revoke_prune(fx->db, 5001), DB_OK);
	assert_false(revoked(fx->db, "u9", 1, mine));
	assert_true(revoked(fx->db, "u9", 1, other));
	assert_true(revoked(fx->db, "u1", 1500, NULL)); /* user events stay */
	assert_int_equal(db_revoke_prune(fx->db, 6001), DB_OK);
	assert_false(revoked(fx->db, "u9", 1, other));
	assert_true(revoked(fx->db, "u1", 1500, NULL));
}

/* ---- generation ------------------------------------------------------------ */

static void test_generation(void **state)
{
	struct fixture *fx = *state;
	struct db_project p, *plist;
	struct db_user u, got;
	struct db_role r, s;
	struct db_assignment a;
	struct db_domain d;
	int64_t g = generation(fx->db);
	bool rv;
	size_t n;

#define WROTE() do { int64_t g2 = generation(fx->db); \
	assert_true(g2 > g); g = g2; } while (0)
#define SAME() assert_int_equal(generation(fx->db), g)

	domain(fx->db, &d, "other");
	WROTE();
	project(fx->db, &p, "default", "web");
	WROTE();
	user(fx->db, &u, "alice");
	WROTE();
	role(fx->db, &r, "member");
	WROTE();
	role(fx->db, &s, "admin");
	WROTE();
	assert_int_equal(db_role_imply(fx->db, s.id, r.id), DB_OK);
	WROTE();
	assert_int_equal(db_role_imply(fx->db, s.id, r.id), DB_OK);
	SAME();                         /* it was there */
	assign(fx->db, u.id, DB_SCOPE_PROJECT, p.id, s.id);
	WROTE();
	assign(fx->db, u.id, DB_SCOPE_PROJECT, p.id, s.id);
	SAME();
	strcpy(u.name, "alicia");
	assert_int_equal(db_user_update(fx->db, &u), DB_OK);
	WROTE();
	strcpy(p.description, "x");
	assert_int_equal(db_project_update(fx->db, &p), DB_OK);
	WROTE();
	assert_int_equal(db_revoke_audit_id(fx->db, "a1", 10), DB_OK);
	WROTE();
	assert_int_equal(db_revoke_user(fx->db, u.id, 10), DB_OK);
	WROTE();
	assert_int_equal(db_revoke_prune(fx->db, 5), DB_OK);
	SAME();                         /* nothing expired */
	assert_int_equal(db_revoke_prune(fx->db, 11), DB_OK);
	WROTE();

	/* Reads, and writes that failed, leave it. */
	assert_int_equal(db_user_get(fx->db, u.id, &got), DB_OK);
	assert_int_equal(db_project_list(fx->db, NULL, &plist, &n), DB_OK);
	free(plist);
	assert_int_equal(db_token_revoked(fx->db, u.id, 1, NULL, &rv), DB_OK);
	SAME();
	got = user_of("default", "alicia");
	assert_int_equal(db_user_create(fx->db, &got), DB_CONFLICT);
	a = assignment(u.id, DB_SCOPE_PROJECT, "missing", s.id);
	assert_int_equal(db_assignment_add(fx->db, &a), DB_NOTFOUND);
	assert_int_equal(db_user_delete(fx->db, "missing"), DB_NOTFOUND);
	SAME();

	a = assignment(u.id, DB_SCOPE_PROJECT, p.id, s.id);
	assert_int_equal(db_assignment_remove(fx->db, &a), DB_OK);
	WROTE();
	assert_int_equal(db_role_delete(fx->db, r.id), DB_OK);
	WROTE();
	assert_int_equal(db_project_delete(fx->db, p.id), DB_OK);
	WROTE();
	assert_int_equal(db_user_delete(fx->db, u.id), DB_OK);
	WROTE();
#undef WROTE
#undef SAME
}

/* ---- application credentials ----------------------------------------------- */

static void test_app_creds(void **state)
{
	struct fixture *fx = *state;
	struct db_project p;
	struct db_user u, v;
	struct db_role r, s;
	struct db_app_cred ac, got, *list;
	size_t n;

	project(fx->db, &p, "default", "web");
	user(fx->db, &u, "alice");
	user(fx->db, &v, "bob");
	role(fx->db, &r, "member");
	role(fx->db, &s, "reader");

	memset(&ac, 0, sizeof ac);
	strcpy(ac.name, "deploy");
	strcpy(ac.user_id, u.id);
	strcpy(ac.project_id, p.id);
	strcpy(ac.description, "for CI");
	strcpy(ac.secret_hash, "$2b$hash");
	ac.expires_at = 1900000000;
	snprintf(ac.roles, sizeof ac.roles, "%s,%s", r.id, s.id);
	assert_int_equal(db_app_cred_create(fx->db, &ac), DB_OK);
	assert_true(is_hex_id(ac.id));

	assert_int_equal(db_app_cred_get(fx->db, ac.id, &got), DB_OK);
	assert_string_equal(got.name, "deploy");
	assert_string_equal(got.user_id, u.id);
	assert_string_equal(got.project_id, p.id);
	assert_string_equal(got.description, "for CI");
	assert_string_equal(got.secret_hash, "$2b$hash");
	assert_int_equal(got.expires_at, 1900000000);
	assert_false(got.unrestricted);
	assert_string_equal(got.roles, ac.roles);
	assert_int_equal(db_app_cred_get_by_name(fx->db, u.id, "deploy", &got), DB_OK);
	assert_string_equal(got.id, ac.id);
	assert_int_equal(db_app_cred_get_by_name(fx->db, v.id, "deploy", &got),
	    DB_NOTFOUND);

	/* The same name: another user may, the same user may not. */
	got = ac;
	got.id[0] = '\0';
	assert_int_equal(db_app_cred_create(fx->db, &got), DB_CONFLICT);
	assert_string_equal(got.id, "");
	strcpy(got.user_id, v.id);
	got.unrestricted = true;
	got.roles[0] = '\0';
	assert_int_equal(db_app_cred_create(fx->db, &got), DB_OK);

	/* Missing user, project, role; a malformed role list. */
	got = ac;
	got.id[0] = '\0';
	strcpy(got.name, "other");
	strcpy(got.user_id, "missing");
	assert_int_equal(db_app_cred_create(fx->db, &got), DB_NOTFOUND);
	strcpy(got.user_id, u.id);
	strcpy(got.project_id, "missing");
	assert_int_equal(db_app_cred_create(fx->db, &got), DB_NOTFOUND);
	strcpy(got.project_id, p.id);
	snprintf(got.roles, sizeof got.roles, "%s,missing", r.id);
	assert_int_equal(db_app_cred_create(fx->db, &got), DB_NOTFOUND);
	snprintf(got.roles, sizeof got.roles, "%s,", r.id);
	assert_int_equal(db_app_cred_create(fx->db, &got), DB_NOTFOUND);
	snprintf(got.roles, sizeof got.roles, "%s", r.id);
	assert_int_equal(db_app_cred_create(fx->db, &got), DB_OK);

	assert_int_equal(db_app_cred_list(fx->db, u.id, &list, &n), DB_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].name, "deploy");
	assert_string_equal(list[1].name, "other");
	free(list);

	assert_int_equal(db_app_cred_delete(fx->db, v.id, ac.id), DB_NOTFOUND);
	assert_int_equal(db_app_cred_delete(fx->db, u.id, ac.id), DB_OK);
	assert_int_equal(db_app_cred_delete(fx->db, u.id, ac.id), DB_NOTFOUND);
	assert_int_equal(db_app_cred_list(fx->db, u.id, &list, &n), DB_OK);
	assert_int_equal(n, 1);
	free(list);
}

/* ---- lengths, schema ------------------------------------------------------- */

static void test_lengths(void **state)
{
	struct fixture *fx = *state;
	struct db_project p;
	struct db_user u;
	struct db_domain d;
	struct db_assignment a;
	char big[2 * DB_ID];
	int64_t g = generation(fx->db);

	project(fx->db, &p, "default", "web");
	g = generation(fx->db);
	u = user_of("default", "alice");
	memset(u.password_hash, 'h', sizeof u.password_hash); /* unterminated */
	assert_int_equal(db_user_create(fx->db, &u), DB_ERROR);
	assert_string_equal(u.id, "");
	u = user_of("default", "alice");
	memset(u.name, 'n', sizeof u.name);
	assert_int_equal(db_user_create(fx->db, &u), DB_ERROR);

	memset(&d, 0, sizeof d);
	memset(d.description, 'd', sizeof d.description);
	strcpy(d.name, "x");
	assert_int_equal(db_domain_create(fx->db, &d), DB_ERROR);

	memset(p.name, 'n', sizeof p.name);
	assert_int_equal(db_project_update(fx->db, &p), DB_ERROR);

	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_int_equal(db_revoke_audit_id(fx->db, big, 1), DB_ERROR);
	assert_int_equal(db_revoke_user(fx->db, big, 1), DB_ERROR);
	a = assignment("u", DB_SCOPE_PROJECT, p.id, "r");
	a.scope = (enum db_assign_scope)7;
	assert_int_equal(db_assignment_add(fx->db, &a), DB_ERROR);
	assert_int_equal(generation(fx->db), g);
	assert_int_equal(db_user_get_by_name(fx->db, "default", "alice", &u), DB_NOTFOUND);
}

/* An upgrade: a database at version 3 with rows in it. */
static void test_upgrade_from_3(void **state)
{
	struct fixture *fx = *state;
	struct db_flavor f, fg;
	struct db_keypair k, kg;
	struct db_domain d;
	struct db_project p;
	sqlite3 *h;
	sqlite3_stmt *st;
	int v;

	assert_int_equal(db_schema_version(fx->db, &v), DB_OK);
	assert_int_equal(v, 3);
	assert_int_equal(db_check_schema(fx->db), DB_SCHEMA);
	memset(&f, 0, sizeof f);
	strcpy(f.flavorid, "1");
	strcpy(f.name, "m1.tiny");
	f.vcpus = 1;
	f.memory_mb = 512;
	f.rxtx_factor = 1.0;
	assert_int_equal(db_flavor_create(fx->db, &f), DB_OK);
	memset(&k, 0, sizeof k);
	strcpy(k.name, "key");
	strcpy(k.user_id, "u");
	strcpy(k.type, "ssh");
	strcpy(k.public_key, "ssh-ed25519 AAAA");
	assert_int_equal(db_keypair_create(fx->db, &k), DB_OK);

	assert_int_equal(db_migrate(fx->db), DB_OK);
	assert_int_equal(db_schema_version(fx->db, &v), DB_OK);
	assert_int_equal(v, db_schema_latest());
	assert_int_equal(db_check_schema(fx->db), DB_OK);
	assert_int_equal(db_flavor_get(fx->db, "1", &fg), DB_OK);
	assert_string_equal(fg.name, "m1.tiny");
	assert_int_equal(db_keypair_get(fx->db, "u", "key", &kg), DB_OK);
	assert_string_equal(kg.public_key, "ssh-ed25519 AAAA");
	assert_int_equal(db_domain_get(fx->db, "default", &d), DB_OK);
	assert_string_equal(d.name, "Default");
	assert_int_equal(generation(fx->db), 0);
	project(fx->db, &p, "default", "web");
	assert_int_equal(generation(fx->db), 1);

	/* The file passes SQLite's own checks of its keys. */
	assert_int_equal(sqlite3_open(fx->path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, "PRAGMA foreign_key_check", -1,
	    &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	sqlite3_close(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_default_domain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_domains, setup, teardown),
		cmocka_unit_test_setup_teardown(test_projects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_users, setup, teardown),
		cmocka_unit_test_setup_teardown(test_user_update, setup, teardown),
		cmocka_unit_test_setup_teardown(test_roles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_assignments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_effective_roles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_user_projects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deletes_cascade, setup, teardown),
		cmocka_unit_test_setup_teardown(test_catalog, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revocations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_generation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_app_creds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lengths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_from_3, setup_v3, teardown),
	};

	log_init("test_db_identity", LOG_LVL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
