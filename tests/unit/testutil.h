/*
 * What several unit tests share (include after <cmocka.h>): a file of
 * given text, and a migrated SQLite database in a directory of its own.
 * Static: each test binary takes what it uses.
 */
#ifndef KUMO_TESTUTIL_H
#define KUMO_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "db/db.h"

/* text in a new file under /tmp; the path (static) is the caller's to
 * unlink. */
static inline char *test_write_tmp(const char *text)
{
	static char path[64];
	int fd;

	strcpy(path, "/tmp/kumo-test-file-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

struct fixture {
	char dir[64];
	char path[128];
	struct db *db;
};

/* A cmocka setup: a database at schema version (migrations up to it). */
static inline int test_db_setup(void **state, int version)
{
	struct fixture *fx = calloc(1, sizeof *fx);

	assert_non_null(fx);
	strcpy(fx->dir, "/tmp/kumo-test-db-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	assert_int_equal(str_fmt(fx->path, sizeof fx->path, "%s/kumo.db", fx->dir), 0);
	assert_int_equal(db_open(fx->path, &fx->db), DB_OK);
	assert_int_equal(db_migrate_to(fx->db, version), DB_OK);
	*state = fx;
	return 0;
}

static inline int test_db_teardown(void **state)
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

#endif
