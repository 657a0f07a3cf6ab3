/* db/: every table family against a real SQLite file in a temp directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "common/common.h"
#include "db/db.h"
#include "tests/unit/testutil.h"

static int setup(void **state) { return test_db_setup(state, db_schema_latest()); }
static int setup_v4(void **state) { return test_db_setup(state, 4); }
static int teardown(void **state) { return test_db_teardown(state); }



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

static void test_flavor_access(void **state)
{
	struct fixture *fx = *state;
	struct db_flavor pub = flavor("1", "pub", 1, 512, 1);
	struct db_flavor priv = flavor("2", "priv", 1, 512, 1), g, *list;
	struct db_flavor_access *acc;
	size_t n;

	priv.is_public = false;
	assert_int_equal(db_flavor_create(fx->db, &pub), DB_OK);
	assert_int_equal(db_flavor_create(fx->db, &priv), DB_OK);
	assert_int_equal(db_flavor_get_project(fx->db, "2", "pa", &g), DB_NOTFOUND);
	assert_int_equal(db_flavor_get_project(fx->db, "1", "pa", &g), DB_OK);
	assert_int_equal(db_flavor_access_add(fx->db, "2", "pb"), DB_OK);
	assert_int_equal(db_flavor_access_add(fx->db, "2", "pa"), DB_OK);
	assert_int_equal(db_flavor_access_add(fx->db, "2", "pa"), DB_CONFLICT);
	assert_int_equal(db_flavor_access_add(fx->db, "9", "pa"), DB_NOTFOUND);
	assert_int_equal(db_flavor_get_project(fx->db, "2", "pa", &g), DB_OK);
	assert_string_equal(g.name, "priv");
	assert_int_equal(db_flavor_list_project(fx->db, "pa", &list, &n), DB_OK);
	assert_int_equal(n, 2);
	free(list);
	assert_int_equal(db_flavor_list_project(fx->db, "pc", &list, &n), DB_OK);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].flavorid, "1");
	free(list);
	assert_int_equal(db_flavor_access_list(fx->db, "2", &acc, &n), DB_OK);
	assert_int_equal(n, 2);
	assert_string_equal(acc[0].project_id, "pa");  /* by project */
	assert_string_equal(acc[1].project_id, "pb");
	free(acc);
	assert_int_equal(db_flavor_access_remove(fx->db, "2", "pa"), DB_OK);
	assert_int_equal(db_flavor_access_remove(fx->db, "2", "pa"), DB_NOTFOUND);
	assert_int_equal(db_flavor_get_project(fx->db, "2", "pa", &g), DB_NOTFOUND);
	/* a flavor's delete takes its access along */
	assert_int_equal(db_flavor_delete(fx->db, "2"), DB_OK);
	assert_int_equal(db_flavor_access_list(fx->db, "2", &acc, &n), DB_OK);
	assert_int_equal(n, 0);
	free(acc);
}

/* ---- images -------------------------------------------------------------- */

static struct db_image image(const char *id, const char *name)
{
	struct db_image img;

	memset(&img, 0, sizeof img);
	snprintf(img.id, sizeof img.id, "%s", id);
	snprintf(img.name, sizeof img.name, "%s", name);
	strcpy(img.status, "queued");
	strcpy(img.disk_format, "qcow2");
	strcpy(img.container_format, "bare");
	img.size = -1;
	strcpy(img.visibility, "public");
	strcpy(img.properties, "{}");
	return img;
}

#define IMG1 "11111111-1111-4111-8111-111111111111"
#define IMG2 "22222222-2222-4222-8222-222222222222"

static void test_images(void **state)
{
	struct fixture *fx = *state;
	struct db_image img = image(IMG1, "cirros"), got, *list;
	size_t n;

	assert_int_equal(db_image_create(fx->db, &img), DB_OK);
	assert_int_equal(db_image_create(fx->db, &img), DB_CONFLICT);
	assert_int_equal(db_image_get(fx->db, IMG1, &got), DB_OK);
	assert_string_equal(got.name, "cirros");
	assert_int_equal(got.size, -1);
	assert_string_equal(got.checksum, "");
	assert_string_equal(got.properties, "{}");
	assert_int_equal(got.created_at[19], 'Z');

	strcpy(got.status, "active");
	got.size = 12345;
	strcpy(got.checksum, "0123456789abcdef0123456789abcdef");
	got.protected_ = true;
	assert_int_equal(db_image_update(fx->db, &got), DB_OK);
	assert_int_equal(db_image_get(fx->db, IMG1, &got), DB_OK);
	assert_string_equal(got.status, "active");
	assert_int_equal(got.size, 12345);
	assert_true(got.protected_);

	img = image(IMG2, "");
	assert_int_equal(db_image_create(fx->db, &img), DB_OK);
	assert_int_equal(db_image_page(fx->db, &(struct db_image_filter){
	    .is_admin = true, .visibility = "all", .size_min = -1, .size_max = -1,
	    .limit = 10, .nsort = 2, .sort = { DB_IMAGE_SORT_CREATED,
	    DB_IMAGE_SORT_ID } }, &list, &n), DB_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].id, IMG2); /* newest first */
	assert_string_equal(list[0].name, "");
	free(list);

	strcpy(img.id, "33333333-3333-4333-8333-333333333333");
	assert_int_equal(db_image_update(fx->db, &img), DB_NOTFOUND);
	assert_int_equal(db_image_delete(fx->db, IMG2), DB_OK);
	assert_int_equal(db_image_delete(fx->db, IMG2), DB_NOTFOUND);
	assert_int_equal(db_image_get(fx->db, IMG2, &got), DB_NOTFOUND);
	/* a deleted image's id is never given again */
	assert_int_equal(db_image_create(fx->db, &img), DB_OK);
	assert_int_equal(db_image_delete(fx->db, img.id), DB_OK);
	assert_int_equal(db_image_create(fx->db, &img), DB_CONFLICT);
	assert_int_equal(db_image_get(fx->db, img.id, &got), DB_NOTFOUND);
}

/* The quotas are kept in the statements that change the rows. */
static void test_image_quotas(void **state)
{
	struct fixture *fx = *state;
	struct db_image img = image(IMG1, "a");
	struct db_image_usage u;

	strcpy(img.owner, "p");
	assert_int_equal(db_image_create_within(fx->db, &img, 1), DB_OK);
	img = image(IMG2, "b");
	strcpy(img.owner, "p");
	assert_int_equal(db_image_create_within(fx->db, &img, 1), DB_NOSPACE);
	assert_int_equal(db_image_create_within(fx->db, &img, 2), DB_OK);
	/* one upload at once */
	assert_int_equal(db_image_upload_begin(fx->db, IMG1, 1), DB_OK);
	assert_int_equal(db_image_upload_begin(fx->db, IMG2, 1), DB_NOSPACE);
	assert_int_equal(db_image_upload_begin(fx->db, IMG1, -1), DB_CONFLICT);
	assert_int_equal(db_image_upload_begin(fx->db,
	    "33333333-3333-4333-8333-333333333333", 1), DB_NOTFOUND);
	assert_int_equal(db_image_upload_begin(fx->db, IMG2, 2), DB_OK);
	/* 100 bytes of 150, then 60 more do not fit */
	assert_int_equal(db_image_set_data(fx->db, IMG1, 100, "", "", 150), DB_OK);
	assert_int_equal(db_image_set_data(fx->db, IMG2, 60, "", "", 150), DB_NOSPACE);
	assert_int_equal(db_image_set_data(fx->db, IMG2, 50, "", "", 150), DB_OK);
	assert_int_equal(db_image_set_data(fx->db, IMG2, 50, "", "", 150), DB_CONFLICT);
	assert_int_equal(db_image_usage(fx->db, "p", &u), DB_OK);
	assert_int_equal(u.count, 2);
	assert_int_equal(u.bytes, 150);
	assert_int_equal(u.uploading, 0);
	assert_int_equal(db_image_usage(fx->db, "other", &u), DB_OK);
	assert_int_equal(u.count + u.bytes + u.uploading, 0);
}

/* The images of a cloud older than image_ids keep their ids too. */
static void test_image_ids_upgrade(void **state)
{
	struct fixture *fx = *state;
	struct db_image img = image(IMG1, "old"), got;
	sqlite3 *h;

	assert_int_equal(sqlite3_open(fx->path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "INSERT INTO images (id, status,"
	    " created_at) VALUES ('" IMG1 "', 'queued', '2026-01-01T00:00:00Z')",
	    NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	assert_int_equal(db_migrate(fx->db), DB_OK);
	assert_int_equal(db_image_get(fx->db, IMG1, &got), DB_OK);
	assert_int_equal(db_image_delete(fx->db, IMG1), DB_OK);
	assert_int_equal(db_image_create(fx->db, &img), DB_CONFLICT);
}

static void test_image_readable(void **state)
{
	static const struct {
		const char *visibility, *owner, *project;
		bool admin, readable;
	} cases[] = {
		{ "public", "a", "b", false, true },
		{ "community", "a", "b", false, true },
		{ "private", "a", "b", false, false },
		{ "shared", "a", "b", false, false },  /* no members in kumo */
		{ "private", "a", "a", false, true },
		{ "shared", "a", "a", false, true },
		{ "private", "a", "b", true, true },
		{ "private", "", "", false, false },   /* no owner: admins only */
	};
	struct db_image img = image(IMG1, "x");

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		strcpy(img.visibility, cases[i].visibility);
		strcpy(img.owner, cases[i].owner);
		assert_int_equal(db_image_readable(&img, cases[i].project,
		    cases[i].admin), cases[i].readable);
	}
}

/* ---- instances ----------------------------------------------------------- */

static void instance(struct db_instance *inst, const char *name,
    const char *project, int vcpus, int ram)
{
	memset(inst, 0, sizeof *inst);
	snprintf(inst->name, sizeof inst->name, "%s", name);
	snprintf(inst->project_id, sizeof inst->project_id, "%s", project);
	strcpy(inst->user_id, "user1");
	strcpy(inst->image_ref, IMG1);
	strcpy(inst->flavorid, "1");
	strcpy(inst->flavor_name, "m1.tiny");
	inst->vcpus = vcpus;
	inst->memory_mb = ram;
	inst->root_gb = 1;
	strcpy(inst->vm_state, "building");
	strcpy(inst->task_state, "scheduling");
	strcpy(inst->request_id, "req-1");
}

/* Events go on the newest action of their request, newest first. */
static void check_events(struct db *db, const char *uuid)
{
	size_t n;
	struct db_action_event ev = { .event = "compute__do_build_and_run_instance",
		.start_time = "2026-01-01T00:00:00Z",
		.finish_time = "2026-01-01T00:00:01Z", .result = "Error",
		.traceback = "spawn failed", .host = "bad", .details = "spawn failed" };
	struct db_action_event *evs;

	assert_int_equal(db_action_event_add(db, uuid, "req-1", &ev), DB_OK);
	str_copy(ev.result, "Success", sizeof ev.result);
	str_copy(ev.host, "good", sizeof ev.host);
	ev.traceback[0] = ev.details[0] = '\0';
	assert_int_equal(db_action_event_add(db, uuid, "req-1", &ev), DB_OK);
	assert_int_equal(db_action_event_add(db, uuid, "req-x", &ev),
	    DB_NOTFOUND);
	assert_int_equal(db_action_event_list(db, uuid, "req-1", &evs,
	    &n), DB_OK);
	assert_int_equal(n, 2);
	assert_string_equal(evs[0].host, "good");
	assert_string_equal(evs[0].traceback, "");
	assert_string_equal(evs[1].result, "Error");
	assert_string_equal(evs[1].traceback, "spawn failed");
	assert_string_equal(evs[1].finish_time, "2026-01-01T00:00:01Z");
	free(evs);
	assert_int_equal(db_action_event_list(db, uuid, "req-x", &evs,
	    &n), DB_OK);
	assert_int_equal(n, 0);
	free(evs);
}

static void test_instances(void **state)
{
	struct fixture *fx = *state;
	struct db_instance inst, got;
	struct db_image img = image(IMG1, "cirros");
	struct db_action *acts;
	struct db_fault fault;
	int64_t ni, nc, nr;
	size_t n;

	assert_int_equal(db_image_create(fx->db, &img), DB_OK);
	instance(&inst, "vm1", "p1", 2, 1024);
	assert_int_equal(db_instance_create(fx->db, &inst), DB_OK);
	assert_true(uuid_valid(inst.uuid));
	assert_true(inst.id > 0);
	assert_int_equal(db_instance_create(fx->db, &inst), DB_CONFLICT);

	assert_int_equal(db_instance_get(fx->db, inst.uuid, &got), DB_OK);
	assert_string_equal(got.name, "vm1");
	assert_string_equal(got.task_state, "scheduling");
	assert_string_equal(got.host, "");
	assert_string_equal(got.launched_at, "");
	assert_false(got.deleted);

	/* The create action came with it. */
	assert_int_equal(db_action_list(fx->db, inst.uuid, &acts, &n), DB_OK);
	assert_int_equal(n, 1);
	assert_string_equal(acts[0].action, "create");
	assert_string_equal(acts[0].request_id, "req-1");
	assert_string_equal(acts[0].finish_time, "");
	free(acts);
	assert_int_equal(db_action_finish(fx->db, inst.uuid, "req-1", ""), DB_OK);
	assert_int_equal(db_action_finish(fx->db, inst.uuid, "req-x", ""), DB_NOTFOUND);
	assert_int_equal(db_action_list(fx->db, inst.uuid, &acts, &n), DB_OK);
	assert_int_equal(acts[0].finish_time[19], 'Z');
	free(acts);
	check_events(fx->db, inst.uuid);

	/* expect_task guards the transition. */
	assert_int_equal(db_instance_set_state(fx->db, inst.uuid, "building",
	    "spawning", 0, "host1", "node1", "deleting"), DB_CONFLICT);
	assert_int_equal(db_instance_set_state(fx->db, inst.uuid, "building",
	    "spawning", 0, "host1", "node1", "scheduling"), DB_OK);
	assert_int_equal(db_instance_set_state(fx->db, inst.uuid, "active",
	    "", 1, NULL, NULL, "spawning"), DB_OK);
	assert_int_equal(db_instance_get(fx->db, inst.uuid, &got), DB_OK);
	assert_string_equal(got.vm_state, "active");
	assert_string_equal(got.task_state, "");
	assert_int_equal(got.power_state, 1);
	assert_string_equal(got.host, "host1");
	assert_string_equal(got.node, "node1");
	assert_int_equal(got.launched_at[19], 'Z');
	/* "" expect_task matches no task. */
	assert_int_equal(db_instance_set_state(fx->db, inst.uuid, NULL,
	    "rebooting", -1, NULL, NULL, ""), DB_OK);
	assert_int_equal(db_instance_get(fx->db, inst.uuid, &got), DB_OK);
	assert_string_equal(got.vm_state, "active");
	assert_string_equal(got.task_state, "rebooting");
	assert_int_equal(got.power_state, 1);
	assert_int_equal(db_instance_set_name(fx->db, inst.uuid, "renamed"), DB_OK);

	assert_int_equal(db_image_delete(fx->db, IMG1), DB_INUSE);

	assert_int_equal(db_fault_get_latest(fx->db, inst.uuid, &fault), DB_NOTFOUND);
	assert_int_equal(db_fault_add(fx->db, inst.uuid, 500, "first", ""), DB_OK);
	assert_int_equal(db_fault_add(fx->db, inst.uuid, 404, "second", "trace"), DB_OK);
	assert_int_equal(db_fault_get_latest(fx->db, inst.uuid, &fault), DB_OK);
	assert_int_equal(fault.code, 404);
	assert_string_equal(fault.message, "second");
	assert_string_equal(fault.details, "trace");
	assert_int_equal(db_fault_add(fx->db, "nope", 500, "x", ""), DB_NOTFOUND);

	assert_int_equal(db_instance_usage(fx->db, "p1", &ni, &nc, &nr), DB_OK);
	assert_int_equal(ni, 1);
	assert_int_equal(nc, 2);
	assert_int_equal(nr, 1024);

	/* Soft delete: gone from get, list and usage; kept for get_any. */
	assert_int_equal(db_instance_destroy(fx->db, inst.uuid), DB_OK);
	assert_int_equal(db_instance_destroy(fx->db, inst.uuid), DB_NOTFOUND);
	assert_int_equal(db_instance_get(fx->db, inst.uuid, &got), DB_NOTFOUND);
	assert_int_equal(db_instance_get_any(fx->db, inst.uuid, &got), DB_OK);
	assert_true(got.deleted);
	assert_string_equal(got.vm_state, "deleted");
	assert_int_equal(got.deleted_at[19], 'Z');
	assert_int_equal(db_instance_set_state(fx->db, inst.uuid, "active", "",
	    1, NULL, NULL, NULL), DB_NOTFOUND);
	assert_int_equal(db_instance_set_state(fx->db, "missing", "active", "",
	    1, NULL, NULL, NULL), DB_NOTFOUND);
	assert_int_equal(db_instance_usage(fx->db, "p1", &ni, &nc, &nr), DB_OK);
	assert_int_equal(ni, 0);
	assert_int_equal(db_image_delete(fx->db, IMG1), DB_OK);
}

static void test_instance_list(void **state)
{
	struct fixture *fx = *state;
	struct db_instance_filter f;
	struct db_instance inst, *list;
	char uuids[7][37], name[16];
	size_t n;

	for (int i = 0; i < 7; i++) {
		snprintf(name, sizeof name, "vm%d", i);
		instance(&inst, name, i % 2 ? "odd" : "even", 1, 512);
		assert_int_equal(db_instance_create(fx->db, &inst), DB_OK);
		memcpy(uuids[i], inst.uuid, 37);
	}
	assert_int_equal(db_instance_destroy(fx->db, uuids[6]), DB_OK);

	memset(&f, 0, sizeof f);
	assert_int_equal(db_instance_list(fx->db, &f, &list, &n), DB_OK);
	assert_int_equal(n, 6);
	assert_string_equal(list[0].uuid, uuids[5]); /* newest first */
	assert_string_equal(list[5].uuid, uuids[0]);
	free(list);
	assert_int_equal(db_instance_list(fx->db, NULL, &list, &n), DB_OK);
	assert_int_equal(n, 6);
	free(list);

	f.include_deleted = true;
	assert_int_equal(db_instance_list(fx->db, &f, &list, &n), DB_OK);
	assert_int_equal(n, 7);
	assert_true(list[0].deleted);
	free(list);

	/* Pages of 2, following the marker, then the end. */
	memset(&f, 0, sizeof f);
	f.limit = 2;
	assert_int_equal(db_instance_list(fx->db, &f, &list, &n), DB_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[1].uuid, uuids[4]);
	free(list);
	f.marker = uuids[4];
	assert_int_equal(db_instance_list(fx->db, &f, &list, &n), DB_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].uuid, uuids[3]);
	assert_string_equal(list[1].uuid, uuids[2]);
	free(list);
	f.marker = uuids[0];
	assert_int_equal(db_instance_list(fx->db, &f, &list, &n), DB_OK);
	assert_int_equal(n, 0);
	assert_null(list);
	f.marker = "00000000-0000-4000-8000-000000000000";
	assert_int_equal(db_instance_list(fx->db, &f, &list, &n), DB_NOTFOUND);
	/* A deleted marker still pages. */
	f.marker = uuids[6];
	f.limit = 0;
	assert_int_equal(db_instance_list(fx->db, &f, &list, &n), DB_OK);
	assert_int_equal(n, 6);
	free(list);

	memset(&f, 0, sizeof f);
	f.project_id = "odd";
	assert_int_equal(db_instance_list(fx->db, &f, &list, &n), DB_OK);
	assert_int_equal(n, 3);
	free(list);
	f.name = "vm3";
	assert_int_equal(db_instance_list(fx->db, &f, &list, &n), DB_OK);
	assert_int_equal(n, 1);
	free(list);
	assert_int_equal(db_instance_set_state(fx->db, uuids[1], "active", "",
	    1, "h1", "h1", NULL), DB_OK);
	memset(&f, 0, sizeof f);
	f.host = "h1";
	f.vm_state = "active";
	assert_int_equal(db_instance_list(fx->db, &f, &list, &n), DB_OK);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].uuid, uuids[1]);
	free(list);
}

/* Any order pages by keyset: after the marker's (key, id), ties by id. */
static void test_instance_list_sorted(void **state)
{
	struct fixture *fx = *state;
	struct db_instance_filter f;
	struct db_instance inst, *list;
	const char *names[6] = { "b", "a", "b", "c", "a", "b" };
	char uuids[6][37];
	size_t n;

	for (int i = 0; i < 6; i++) {
		instance(&inst, names[i], "p", 1, 512);
		assert_int_equal(db_instance_create(fx->db, &inst), DB_OK);
		memcpy(uuids[i], inst.uuid, 37);
	}
	memset(&f, 0, sizeof f);
	f.sort = DB_SORT_NAME;
	f.sort_asc = true;
	f.limit = 2;
	/* a(1) a(4) | b(0) b(2) | b(5) c(3) */
	assert_int_equal(db_instance_list(fx->db, &f, &list, &n), DB_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[1].uuid, uuids[4]);
	free(list);
	f.marker = uuids[4];
	assert_int_equal(db_instance_list(fx->db, &f, &list, &n), DB_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].uuid, uuids[0]);
	assert_string_equal(list[1].uuid, uuids[2]);
	free(list);
	f.marker = uuids[2];
	assert_int_equal(db_instance_list(fx->db, &f, &list, &n), DB_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].uuid, uuids[5]);
	assert_string_equal(list[1].uuid, uuids[3]);
	free(list);
	/* descending: c(3) b(5) | b(2) b(0) */
	f.sort_asc = false;
	f.marker = uuids[5];
	assert_int_equal(db_instance_list(fx->db, &f, &list, &n), DB_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].uuid, uuids[2]);
	assert_string_equal(list[1].uuid, uuids[0]);
	free(list);
}

/* Archive moves deleted instances and theirs, oldest first, by date;
 * purge empties the shadow tables; nothing live moves. */
static void test_archive(void **state)
{
	struct fixture *fx = *state;
	struct db_instance_filter f;
	struct db_instance inst, *list;
	int64_t counts[DB_ARCHIVE__COUNT];
	char uuids[4][37];
	size_t n;

	for (int i = 0; i < 4; i++) {
		instance(&inst, "vm", "p", 1, 512);
		assert_int_equal(db_instance_create(fx->db, &inst), DB_OK);
		memcpy(uuids[i], inst.uuid, 37);
	}
	for (int i = 0; i < 3; i++)
		assert_int_equal(db_instance_destroy(fx->db, uuids[i]), DB_OK);
	/* deleted now: none before 2000 */
	assert_int_equal(db_archive_deleted(fx->db, "2000-01-01T00:00:00Z", 10,
	    counts), DB_OK);
	assert_int_equal(counts[DB_ARCHIVE_INSTANCES], 0);
	assert_int_equal(db_archive_deleted(fx->db, NULL, 2, counts), DB_OK);
	assert_int_equal(counts[DB_ARCHIVE_INSTANCES], 2);
	assert_int_equal(counts[DB_ARCHIVE_ACTIONS], 2);   /* their creates */
	memset(&f, 0, sizeof f);
	f.include_deleted = true;
	assert_int_equal(db_instance_list(fx->db, &f, &list, &n), DB_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].uuid, uuids[3]);
	assert_string_equal(list[1].uuid, uuids[2]);
	free(list);
	assert_int_equal(db_purge_shadow(fx->db, "2000-01-01T00:00:00Z", counts),
	    DB_OK);
	assert_int_equal(counts[DB_ARCHIVE_INSTANCES], 0);
	assert_int_equal(db_archive_deleted(fx->db, NULL, 10, counts), DB_OK);
	assert_int_equal(counts[DB_ARCHIVE_INSTANCES], 1);
	assert_int_equal(db_purge_shadow(fx->db, NULL, counts), DB_OK);
	assert_int_equal(counts[DB_ARCHIVE_INSTANCES], 3);
	assert_int_equal(counts[DB_ARCHIVE_ACTIONS], 3);
	assert_int_equal(db_instance_get(fx->db, uuids[3], &inst), DB_OK);
}

/* ---- hosts --------------------------------------------------------------- */

static void node(struct db *db, const char *host, int vcpus, int ram, int disk,
    double cpu_ratio)
{
	struct db_compute_node cn;

	memset(&cn, 0, sizeof cn);
	snprintf(cn.host, sizeof cn.host, "%s", host);
	snprintf(cn.hypervisor_hostname, sizeof cn.hypervisor_hostname, "%s", host);
	strcpy(cn.hypervisor_type, "fake");
	cn.vcpus = vcpus;
	cn.memory_mb = ram;
	cn.local_gb = disk;
	cn.cpu_allocation_ratio = cpu_ratio;
	cn.ram_allocation_ratio = 1.0;
	cn.disk_allocation_ratio = 1.0;
	assert_int_equal(db_compute_node_upsert(db, &cn), DB_OK);
	assert_true(cn.id > 0);
	assert_true(uuid_valid(cn.uuid));
}

#define U(n) "00000000-0000-4000-8000-00000000000" #n

static void test_compute_nodes(void **state)
{
	struct fixture *fx = *state;
	struct db_compute_node cn, *list;
	size_t n;

	node(fx->db, "h2", 8, 8192, 100, 1.0);
	node(fx->db, "h1", 4, 4096, 50, 1.0);
	assert_int_equal(db_compute_node_get(fx->db, "h1", &cn), DB_OK);
	char first_uuid[37];
	memcpy(first_uuid, cn.uuid, sizeof first_uuid);
	node(fx->db, "h1", 16, 4096, 50, 2.0); /* update keeps the uuid */
	assert_int_equal(db_compute_node_get(fx->db, "h1", &cn), DB_OK);
	assert_string_equal(cn.uuid, first_uuid);
	assert_int_equal(cn.vcpus, 16);
	assert_true(cn.cpu_allocation_ratio == 2.0);
	assert_int_equal(cn.vcpus_used, 0);
	assert_int_equal(cn.running_vms, 0);

	assert_int_equal(db_claim(fx->db, U(1), "h1", 2, 1024, 10), DB_OK);
	assert_int_equal(db_claim(fx->db, U(2), "h1", 1, 512, 5), DB_OK);
	assert_int_equal(db_compute_node_list(fx->db, &list, &n), DB_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].host, "h1");
	assert_int_equal(list[0].vcpus_used, 3);
	assert_int_equal(list[0].memory_mb_used, 1536);
	assert_int_equal(list[0].local_gb_used, 15);
	assert_int_equal(list[0].running_vms, 2);
	assert_int_equal(list[1].vcpus_used, 0);
	free(list);
	assert_int_equal(db_compute_node_get(fx->db, "nope", &cn), DB_NOTFOUND);
}

static void test_services(void **state)
{
	struct fixture *fx = *state;
	struct db_service s, *list;
	size_t n;

	assert_int_equal(db_service_heartbeat(fx->db, "c1", "kumo-compute", "compute"), DB_OK);
	assert_int_equal(db_service_heartbeat(fx->db, "c1", "kumo-compute", "compute"), DB_OK);
	assert_int_equal(db_service_heartbeat(fx->db, "ctl", "kumo-scheduler", "scheduler"), DB_OK);
	assert_int_equal(db_service_get(fx->db, "c1", "kumo-compute", &s), DB_OK);
	assert_int_equal(s.report_count, 2);
	assert_true(s.last_seen_up > 0);
	assert_true(uuid_valid(s.uuid));
	assert_false(s.disabled);

	assert_int_equal(db_service_set_disabled(fx->db, "c1", "kumo-compute",
	    true, "maintenance"), DB_OK);
	assert_int_equal(db_service_get(fx->db, "c1", "kumo-compute", &s), DB_OK);
	assert_true(s.disabled);
	assert_string_equal(s.disabled_reason, "maintenance");
	assert_int_equal(db_service_set_disabled(fx->db, "c1", "kumo-compute",
	    false, NULL), DB_OK);
	assert_int_equal(db_service_get(fx->db, "c1", "kumo-compute", &s), DB_OK);
	assert_false(s.disabled);
	assert_string_equal(s.disabled_reason, "");
	assert_int_equal(db_service_set_disabled(fx->db, "zz", "kumo-compute",
	    true, NULL), DB_NOTFOUND);

	assert_int_equal(db_service_list(fx->db, &list, &n), DB_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].host, "c1");
	assert_string_equal(list[1].binary, "kumo-scheduler");
	free(list);
}

static void test_claims(void **state)
{
	struct fixture *fx = *state;
	struct db_compute_node cn;
	struct db_instance inst;

	/* 2 cores x 2.0 = 4 vcpus; 2048 MB x 1.0; 20 GB x 1.0 */
	node(fx->db, "small", 2, 2048, 20, 2.0);
	assert_int_equal(db_claim(fx->db, U(1), "nohost", 1, 1, 1), DB_NOTFOUND);
	assert_int_equal(db_claim(fx->db, U(1), "small", 3, 1024, 10), DB_OK);
	/* Exactly at the limit fits; one more does not, on each resource. */
	assert_int_equal(db_claim(fx->db, U(2), "small", 2, 1024, 10), DB_NOSPACE);
	assert_int_equal(db_claim(fx->db, U(2), "small", 1, 1025, 10), DB_NOSPACE);
	assert_int_equal(db_claim(fx->db, U(2), "small", 1, 1024, 11), DB_NOSPACE);
	assert_int_equal(db_claim(fx->db, U(2), "small", 1, 1024, 10), DB_OK);
	assert_int_equal(db_claim(fx->db, U(3), "small", 0, 1, 0), DB_NOSPACE);
	assert_int_equal(db_compute_node_get(fx->db, "small", &cn), DB_OK);
	assert_int_equal(cn.vcpus_used, 4);
	assert_int_equal(cn.memory_mb_used, 2048);
	assert_int_equal(cn.running_vms, 2);

	/* A re-claim replaces the instance's own allocation. */
	assert_int_equal(db_claim(fx->db, U(1), "small", 3, 1024, 10), DB_OK);
	assert_int_equal(db_claim(fx->db, U(1), "small", 1, 512, 5), DB_OK);
	assert_int_equal(db_compute_node_get(fx->db, "small", &cn), DB_OK);
	assert_int_equal(cn.vcpus_used, 2);
	assert_int_equal(cn.memory_mb_used, 1536);
	assert_int_equal(cn.running_vms, 2);
	/* ... and may move it to another host. */
	node(fx->db, "other", 1, 1024, 10, 1.0);
	assert_int_equal(db_claim(fx->db, U(1), "other", 1, 512, 5), DB_OK);
	assert_int_equal(db_compute_node_get(fx->db, "small", &cn), DB_OK);
	assert_int_equal(cn.running_vms, 1);

	assert_int_equal(db_allocation_delete(fx->db, U(1)), DB_OK);
	assert_int_equal(db_allocation_delete(fx->db, U(1)), DB_OK);
	assert_int_equal(db_compute_node_get(fx->db, "other", &cn), DB_OK);
	assert_int_equal(cn.running_vms, 0);

	/* Destroying an instance frees its allocation. */
	instance(&inst, "vm", "p", 1, 1024);
	assert_int_equal(db_instance_create(fx->db, &inst), DB_OK);
	assert_int_equal(db_claim(fx->db, inst.uuid, "small", 2, 1024, 10), DB_OK);
	assert_int_equal(db_claim(fx->db, U(3), "small", 1, 1, 1), DB_NOSPACE);
	assert_int_equal(db_instance_destroy(fx->db, inst.uuid), DB_OK);
	assert_int_equal(db_claim(fx->db, U(3), "small", 1, 1, 1), DB_OK);
	assert_int_equal(db_claim(fx->db, U(4), "small", -1, 1, 1), DB_ERROR);
}

/* A build claims once: the claim and the move to spawning are one
 * transaction that expects scheduling. */
static void test_claim_for_build(void **state)
{
	struct fixture *fx = *state;
	struct db_compute_node cn;
	struct db_instance a, b, got, *list;
	size_t n;

	node(fx->db, "h1", 2, 2048, 20, 1.0);
	node(fx->db, "h2", 2, 2048, 20, 1.0);
	instance(&a, "a", "p", 2, 1024);
	assert_int_equal(db_instance_create(fx->db, &a), DB_OK);
	assert_int_equal(db_claim_for_build(fx->db, a.uuid, "nohost", "nohost",
	    2, 1024, 1), DB_NOTFOUND);
	assert_int_equal(db_claim_for_build(fx->db, a.uuid, "h1", "h1.node", 3,
	    1024, 1), DB_NOSPACE);
	/* Refused claims left the instance scheduling. */
	assert_int_equal(db_instance_get(fx->db, a.uuid, &got), DB_OK);
	assert_string_equal(got.task_state, "scheduling");
	assert_string_equal(got.host, "");
	assert_int_equal(db_claim_for_build(fx->db, a.uuid, "h1", "h1.node", 2,
	    1024, 1), DB_OK);
	assert_int_equal(db_instance_get(fx->db, a.uuid, &got), DB_OK);
	assert_string_equal(got.task_state, "spawning");
	assert_string_equal(got.host, "h1");
	assert_string_equal(got.node, "h1.node");
	/* A second copy of the build message claims nothing elsewhere. */
	assert_int_equal(db_claim_for_build(fx->db, a.uuid, "h2", "h2", 2, 1024,
	    1), DB_CONFLICT);
	assert_int_equal(db_compute_node_get(fx->db, "h1", &cn), DB_OK);
	assert_int_equal(cn.running_vms, 1);
	assert_int_equal(db_compute_node_get(fx->db, "h2", &cn), DB_OK);
	assert_int_equal(cn.running_vms, 0);
	/* A deleted instance claims nothing. */
	instance(&b, "b", "p", 1, 512);
	assert_int_equal(db_instance_create(fx->db, &b), DB_OK);
	assert_int_equal(db_instance_destroy(fx->db, b.uuid), DB_OK);
	assert_int_equal(db_claim_for_build(fx->db, b.uuid, "h2", "h2", 1, 512,
	    1), DB_CONFLICT);
	assert_int_equal(db_compute_node_get(fx->db, "h2", &cn), DB_OK);
	assert_int_equal(cn.running_vms, 0);

	/* The watchdog's list: builds and deletes not moved since a time. */
	assert_int_equal(db_instance_stalled(fx->db, "9999-01-01T00:00:00Z", 0,
	    &list, &n), DB_OK);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].uuid, a.uuid);
	free(list);
	assert_int_equal(db_instance_stalled(fx->db, "2000-01-01T00:00:00Z", 0,
	    &list, &n), DB_OK);
	assert_int_equal(n, 0);
	free(list);
	assert_int_equal(db_instance_set_state(fx->db, a.uuid, "active", "", 1,
	    NULL, NULL, NULL), DB_OK);
	assert_int_equal(db_instance_stalled(fx->db, "9999-01-01T00:00:00Z", 0,
	    &list, &n), DB_OK);
	assert_int_equal(n, 0);
	free(list);
}

/* Too long for a struct field: refused on write, DB_ERROR on read. */
static void test_no_truncation(void **state)
{
	struct fixture *fx = *state;
	struct db_flavor f = flavor("1", "m1.tiny", 1, 512, 1), g;
	struct db_instance inst;
	char longtext[300];
	sqlite3 *h;

	memset(longtext, 'x', sizeof longtext - 1);
	longtext[sizeof longtext - 1] = '\0';
	assert_int_equal(db_flavor_create(fx->db, &f), DB_OK);
	instance(&inst, "vm", "p", 1, 512);
	assert_int_equal(db_instance_create(fx->db, &inst), DB_OK);
	assert_int_equal(db_fault_add(fx->db, inst.uuid, 500, longtext, ""), DB_ERROR);
	assert_int_equal(db_instance_set_state(fx->db, inst.uuid, NULL, NULL, -1,
	    longtext, NULL, NULL), DB_ERROR);
	assert_int_equal(db_instance_set_name(fx->db, inst.uuid, longtext), DB_ERROR);
	assert_int_equal(db_instance_get(fx->db, inst.uuid, &inst), DB_OK);
	assert_string_equal(inst.name, "vm");

	assert_int_equal(sqlite3_open(fx->path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "UPDATE flavors SET name = printf('%.300c', 'y')",
	    NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	assert_int_equal(db_flavor_get(fx->db, "1", &g), DB_ERROR);
}

/* ---- keypairs, quotas ---------------------------------------------------- */

static void test_keypairs(void **state)
{
	struct fixture *fx = *state;
	struct db_keypair k, got, *list;
	size_t n;

	memset(&k, 0, sizeof k);
	strcpy(k.name, "mykey");
	strcpy(k.user_id, "u1");
	strcpy(k.type, "ssh");
	strcpy(k.fingerprint, "aa:bb");
	strcpy(k.public_key, "ssh-ed25519 AAAA test");
	assert_int_equal(db_keypair_create(fx->db, &k), DB_OK);
	assert_true(k.id > 0);
	assert_int_equal(db_keypair_create(fx->db, &k), DB_CONFLICT);
	strcpy(k.user_id, "u2"); /* names are per user */
	assert_int_equal(db_keypair_create(fx->db, &k), DB_OK);
	strcpy(k.name, "another");
	assert_int_equal(db_keypair_create(fx->db, &k), DB_OK);

	assert_int_equal(db_keypair_get(fx->db, "u1", "mykey", &got), DB_OK);
	assert_string_equal(got.public_key, "ssh-ed25519 AAAA test");
	assert_int_equal(db_keypair_list(fx->db, "u2", &list, &n), DB_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].name, "another");
	free(list);
	assert_int_equal(db_keypair_delete(fx->db, "u1", "mykey"), DB_OK);
	assert_int_equal(db_keypair_delete(fx->db, "u1", "mykey"), DB_NOTFOUND);
	assert_int_equal(db_keypair_get(fx->db, "u1", "mykey", &got), DB_NOTFOUND);
}

static void test_quotas(void **state)
{
	struct fixture *fx = *state;
	struct db_quota *list;
	int64_t v;
	size_t n;

	assert_int_equal(db_quota_get(fx->db, "p1", "cores", &v), DB_NOTFOUND);
	assert_int_equal(db_quota_set(fx->db, "p1", "cores", 20), DB_OK);
	assert_int_equal(db_quota_set(fx->db, "p1", "cores", 40), DB_OK);
	assert_int_equal(db_quota_set(fx->db, "p1", "instances", -1), DB_OK);
	assert_int_equal(db_quota_set(fx->db, "p1", "ram", -2), DB_ERROR);
	assert_int_equal(db_quota_get(fx->db, "p1", "cores", &v), DB_OK);
	assert_int_equal(v, 40);
	assert_int_equal(db_quota_list(fx->db, "p1", &list, &n), DB_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].resource, "cores");
	assert_int_equal(list[1].hard_limit, -1);
	free(list);
	assert_int_equal(db_quota_delete(fx->db, "p1"), DB_OK);
	assert_int_equal(db_quota_delete(fx->db, "p1"), DB_OK);
	assert_int_equal(db_quota_get(fx->db, "p1", "cores", &v), DB_NOTFOUND);
}

/* ---- concurrency --------------------------------------------------------- */

#define CLAIMERS 20 /* more than the pool: some threads wait for a connection */
#define CLAIMS_EACH 20
#define HOST_VCPUS 7

struct claimer {
	struct db *db;
	int index;
	int ok, nospace, other;
};

static void claim_batch(struct db *db, int index, int *ok, int *nospace, int *other)
{
	char uuid[37];

	for (int i = 0; i < CLAIMS_EACH; i++) {
		snprintf(uuid, sizeof uuid, "00000000-0000-4000-8000-%06d%06d",
		    index, i);
		switch (db_claim(db, uuid, "tiny", 1, 64, 1)) {
		case DB_OK: (*ok)++; break;
		case DB_NOSPACE: (*nospace)++; break;
		default: (*other)++; break;
		}
	}
}

static void *claimer_main(void *arg)
{
	struct claimer *cl = arg;

	claim_batch(cl->db, cl->index, &cl->ok, &cl->nospace, &cl->other);
	return NULL;
}

static void assert_tiny_full(struct db *db)
{
	struct db_compute_node cn;

	assert_int_equal(db_compute_node_get(db, "tiny", &cn), DB_OK);
	assert_int_equal(cn.vcpus_used, HOST_VCPUS);
	assert_int_equal(cn.running_vms, HOST_VCPUS);
}

static void test_claim_threads(void **state)
{
	struct fixture *fx = *state;
	struct claimer cl[CLAIMERS];
	pthread_t th[CLAIMERS];
	int ok = 0, nospace = 0;

	node(fx->db, "tiny", HOST_VCPUS, 1 << 20, 1 << 20, 1.0);
	for (int i = 0; i < CLAIMERS; i++) {
		cl[i] = (struct claimer){ .db = fx->db, .index = i };
		assert_int_equal(pthread_create(&th[i], NULL, claimer_main, &cl[i]), 0);
	}
	for (int i = 0; i < CLAIMERS; i++) {
		pthread_join(th[i], NULL);
		ok += cl[i].ok;
		nospace += cl[i].nospace;
		assert_int_equal(cl[i].other, 0);
	}
	assert_int_equal(ok, HOST_VCPUS);
	assert_int_equal(nospace, CLAIMERS * CLAIMS_EACH - HOST_VCPUS);
	assert_tiny_full(fx->db);
}

/* Separate processes, each with its own struct db on the same file: the
 * scheduler and kumo-api as deployed. A child exits with its successes. */
#define PROCS 6

static void test_claim_processes(void **state)
{
	struct fixture *fx = *state;
	pid_t pids[PROCS];
	int ok = 0, status;

	node(fx->db, "tiny", HOST_VCPUS, 1 << 20, 1 << 20, 1.0);
	for (int i = 0; i < PROCS; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			struct db *db;
			int n_ok = 0, n_nospace = 0, n_other = 0;

			if (db_open(fx->path, &db) != DB_OK)
				_exit(255);
			claim_batch(db, i, &n_ok, &n_nospace, &n_other);
			db_close(db);
			_exit(n_other ? 255 : n_ok);
		}
	}
	for (int i = 0; i < PROCS; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		assert_int_not_equal(WEXITSTATUS(status), 255);
		ok += WEXITSTATUS(status);
	}
	assert_int_equal(ok, HOST_VCPUS);
	assert_tiny_full(fx->db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_migrate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schema_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flavors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flavor_access, setup, teardown),
		cmocka_unit_test_setup_teardown(test_images, setup, teardown),
		cmocka_unit_test_setup_teardown(test_image_quotas, setup, teardown),
		cmocka_unit_test_setup_teardown(test_image_ids_upgrade, setup_v4, teardown),
		cmocka_unit_test(test_image_readable),
		cmocka_unit_test_setup_teardown(test_instances, setup, teardown),
		cmocka_unit_test_setup_teardown(test_instance_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_instance_list_sorted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_archive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compute_nodes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_services, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_for_build, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claims, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_truncation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keypairs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quotas, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_threads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_processes, setup, teardown),
	};

	log_init("test_db", LOG_LVL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
