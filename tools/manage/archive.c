/*
 * kumo-manage db archive_deleted_rows and db purge: nova-manage's flags
 * and exit statuses (scripts loop "while archive_deleted_rows exits 1").
 *
 *   db archive_deleted_rows [--max_rows N] [--before DATE] [--purge]
 *                           [--until-complete] [--verbose]
 *     0 nothing archived, 1 rows archived, 2 a bad --max_rows,
 *     4 a bad --before, 255 another failure
 *   db purge (--all | --before DATE) [--verbose]
 *     0 rows deleted, 1 neither --all nor --before, 2 a bad --before,
 *     3 nothing to delete, 255 another failure
 *
 * DATE is UTC, as `date -u` prints it or YYYY-MM-DD[ HH:MM[:SS]].
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/common.h"
#include "db/db.h"
#include "tools/manage/manage.h"

#define EXIT_FAILED 255

/* The spellings of DATE, tried in order; the whole string must match. */
static const char *const date_formats[] = {
	"%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M",
	"%Y-%m-%dT%H:%M", "%Y-%m-%d",
	"%a %b %d %H:%M:%S %Z %Y",     /* date's default output */
	"%a %b %d %H:%M:%S %Y", "%b %d %Y",
};

/* DATE -> "YYYY-MM-DDTHH:MM:SSZ", as deleted_at is stored: 0, or -1. */
static int parse_date(const char *s, char out[32])
{
	struct tm tm;
	const char *end;

	for (size_t i = 0; i < sizeof date_formats / sizeof *date_formats; i++) {
		memset(&tm, 0, sizeof tm);
		end = strptime(s, date_formats[i], &tm);
		if (end != NULL && (*end == '\0' || strcmp(end, "Z") == 0) &&
		    timegm(&tm) != (time_t)-1)
			return strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) > 0 ?
			    0 : -1;
	}
	return -1;
}

static void print_counts(const char *what, const int64_t counts[DB_ARCHIVE__COUNT])
{
	printf("%-32s %s\n", "Table", what);
	for (int t = DB_ARCHIVE__COUNT - 1; t >= 0; t--)
		printf("%-32s %lld\n", db_archive_tables[t], (long long)counts[t]);
}

static int64_t total(const int64_t counts[DB_ARCHIVE__COUNT])
{
	int64_t n = 0;

	for (int t = 0; t < DB_ARCHIVE__COUNT; t++)
		n += counts[t];
	return n;
}

struct archive_opts {
	int max_rows;
	const char *before;
	bool purge, until_complete, verbose, all;
};

/* getopt_long over a command's own argv (argv[0] its name): 0, or the
 * exit status of a bad option. */
static int parse_opts(int argc, char **argv, struct archive_opts *o)
{
	static const struct option opts[] = {
		{ "max_rows", required_argument, NULL, 'm' },
		{ "max-rows", required_argument, NULL, 'm' },
		{ "before", required_argument, NULL, 'b' },
		{ "purge", no_argument, NULL, 'p' },
		{ "until-complete", no_argument, NULL, 'u' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "all", no_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'm':
			if (num_parse_int(optarg, 1, INT_MAX, &o->max_rows) < 0) {
				fprintf(stderr, "Must supply a positive value for "
				    "max_rows (at most %d)\n", INT_MAX);
				return 2;
			}
			break;
		case 'b': o->before = optarg; break;
		case 'p': o->purge = true; break;
		case 'u': o->until_complete = true; break;
		case 'v': o->verbose = true; break;
		case 'a': o->all = true; break;
		default: return 2;
		}
	}
	return optind == argc ? 0 : 2;
}

int manage_db_archive(struct db *db, int argc, char **argv)
{
	struct archive_opts o = { .max_rows = 1000 };
	int64_t counts[DB_ARCHIVE__COUNT], sum[DB_ARCHIVE__COUNT] = { 0 };
	char before[32];
	int rc;

	if ((rc = parse_opts(argc, argv, &o)) != 0 || o.all)
		return rc != 0 ? rc : 2;
	if (o.before != NULL && parse_date(o.before, before) < 0) {
		fprintf(stderr, "Invalid value for --before: %s\n", o.before);
		return 4;
	}
	do {
		if (db_archive_deleted(db, o.before ? before : NULL, o.max_rows,
		    counts) != DB_OK)
			return EXIT_FAILED;
		for (int t = 0; t < DB_ARCHIVE__COUNT; t++)
			sum[t] += counts[t];
	} while (o.until_complete && counts[DB_ARCHIVE_INSTANCES] > 0);
	if (o.verbose)
		print_counts("Number of Rows Archived", sum);
	if (o.purge && db_purge_shadow(db, NULL, counts) != DB_OK)
		return EXIT_FAILED;
	if (o.purge && o.verbose)
		print_counts("Number of Rows Purged", counts);
	return total(sum) > 0 ? 1 : 0;
}

int manage_db_purge(struct db *db, int argc, char **argv)
{
	struct archive_opts o = { .max_rows = 1 };
	int64_t counts[DB_ARCHIVE__COUNT];
	char before[32];
	int rc;

	if ((rc = parse_opts(argc, argv, &o)) != 0)
		return rc;
	if (o.purge || o.until_complete || o.max_rows != 1)
		return 2;
	if (!o.all && o.before == NULL) {
		fprintf(stderr, "Must supply either --all or --before\n");
		return 1;
	}
	if (o.before != NULL && parse_date(o.before, before) < 0) {
		fprintf(stderr, "Invalid value for --before: %s\n", o.before);
		return 2;
	}
	if (db_purge_shadow(db, o.all ? NULL : before, counts) != DB_OK)
		return EXIT_FAILED;
	if (o.verbose)
		print_counts("Number of Rows Purged", counts);
	return total(counts) > 0 ? 0 : 3;
}
