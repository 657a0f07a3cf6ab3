/* db/: every table family against a real SQLite file in a temp directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/common.h"
#include "db/db.h"

struct fixture {
	char dir[64];
	char path[128];
	struct db *db;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof *fx);

	assert_non_null(fx);
	strcpy(fx->dir, "/tmp/kumo-test-db-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	assert_int_equal(str_fmt(fx->path, sizeof fx->path, "%s/kumo.db", fx->dir), 0);
	assert_int_equal(db_open(fx->path, &fx->db), DB_OK);
	assert_int_equal(db_migrate(fx->db), DB_OK);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char p[160];

	db_close(fx->db);
	for (const char *const *s = (const char *const[]){ "", "-wal", "-shm", NULL };
	    *s; s++) {
		snprintf(p, sizeof p, "%s%s", fx->path, *s);
		unlink(p);
	}
	rmdir(fx->dir);
	free(fx);
	return 0;
}

/* ---- core ---------------------------------------------------------------- */

static void test_migrate(void **state)
{
	struct fixture *fx = *state;
	struct db *db2;
	int v;

	assert_int_equal(db_schema_version(fx->db, &v), DB_OK);
	assert_int_equal(v, db_schema_latest());
	assert_int_equal(db_migrate(fx->db), DB_OK); /* idempotent */
	assert_int_equal(db_schema_version(fx->db, &v), DB_OK);
	assert_int_equal(v, db_schema_latest());
	assert_int_equal(db_check_schema(fx->db), DB_OK);

	/* A second handle on the same file sees the same schema. */
	assert_int_equal(db_open(fx->path, &db2), DB_OK);
	assert_int_equal(db_check_schema(db2), DB_OK);
	db_close(db2);
}

static void test_schema_refused(void **state)
{
	struct fixture *fx = *state;
	char path[160];
	struct db *db;
	int v;

	snprintf(path, sizeof path, "%s/empty.db", fx->dir);
	assert_int_equal(db_open(path, &db), DB_OK);
	assert_int_equal(db_schema_version(db, &v), DB_OK);
	assert_int_equal(v, 0);
	assert_int_equal(db_check_schema(db), DB_SCHEMA);
	db_close(db);
	unlink(path);
	snprintf(path, sizeof path, "%s/empty.db-wal", fx->dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/empty.db-shm", fx->dir);
	unlink(path);

	assert_int_equal(db_open("/nonexistent-dir/x/kumo.db", &db), DB_ERROR);
	assert_null(db);
	assert_string_equal(db_strerror(DB_NOSPACE), "not enough resources on the host");
}

/* ---- flavors ------------------------------------------------------------- */

static struct db_flavor flavor(const char *id, const char *name, int vcpus,
    int ram, int disk)
{
	struct db_flavor f;

	memset(&f, 0, sizeof f);
	snprintf(f.flavorid, sizeof f.flavorid, "%s", id);
	snprintf(f.name, sizeof f.name, "%s", name);
	f.vcpus = vcpus;
	f.memory_mb = ram;
	f.root_gb = disk;
	f.rxtx_factor = 1.0;
	f.is_public = true;
	return f;
}

static void test_flavors(void **state)
{
	struct fixture *fx = *state;
	struct db_flavor f = flavor("1", "m1.tiny", 1, 512, 1), g, *list;
	size_t n;

	snprintf(f.description, sizeof f.description, "smallest");
	assert_int_equal(db_flavor_create(fx->db, &f), DB_OK);
	assert_true(f.id > 0);
	assert_int_equal(f.created_at[19], 'Z');

	assert_int_equal(db_flavor_get(fx->db, "1", &g), DB_OK);
	assert_int_equal(g.id, f.id);
	assert_string_equal(g.name, "m1.tiny");
	assert_int_equal(g.memory_mb, 512);
	assert_true(g.is_public);
	assert_false(g.disabled);
	assert_string_equal(g.description, "smallest");
	assert_true(g.rxtx_factor == 1.0);
	assert_int_equal(db_flavor_get_by_name(fx->db, "m1.tiny", &g), DB_OK);
	assert_string_equal(g.flavorid, "1");

	/* Duplicate id or name. */
	g = flavor("1", "other", 1, 1, 1);
	assert_int_equal(db_flavor_create(fx->db, &g), DB_CONFLICT);
	g = flavor("9", "m1.tiny", 1, 1, 1);
	assert_int_equal(db_flavor_create(fx->db, &g), DB_CONFLICT);

	g = flavor("2", "m1.small", 1, 2048, 20);
	assert_int_equal(db_flavor_create(fx->db, &g), DB_OK);
	assert_int_equal(db_flavor_list(fx->db, &list, &n), DB_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].flavorid, "1");
	assert_string_equal(list[1].name, "m1.small");
	assert_string_equal(list[1].description, "");
	free(list);

	assert_int_equal(db_flavor_delete(fx->db, "1"), DB_OK);
	assert_int_equal(db_flavor_delete(fx->db, "1"), DB_NOTFOUND);
	assert_int_equal(db_flavor_get(fx->db, "1", &g), DB_NOTFOUND);
	assert_int_equal(db_flavor_get(fx->db, "", &g), DB_NOTFOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_migrate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schema_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flavors, setup, teardown),
	};

	log_init("test_db", LOG_LVL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
