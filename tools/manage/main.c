/*
 * kumo-manage: the operator's tool, as nova-manage and keystone-manage.
 *
 *   kumo-manage [-c|--config-file FILE] [-n] [-d] GROUP COMMAND
 *   kumo-manage [-c|--config-file FILE] [-n] [-d] COMMAND [OPTIONS]
 *
 * The second form is Keystone's spelling (token_setup, token_rotate): a
 * one-word command whose options, after its name, are its own. A GROUP
 * COMMAND may have options of its own too (db archive_deleted_rows).
 *
 * Exit status: 0 success, 1 failure, 2 bad usage; the db archive and
 * purge commands exit as nova-manage's do (archive.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/common.h"
#include "common/crypto.h"
#include "db/db.h"
#include "tools/manage/manage.h"

#define PROG "kumo-manage"

enum { EXIT_USAGE = 2 };
#define CMD_USAGE (-2)  /* a one-word command's options are wrong */

struct manage {
	struct kumo_conf conf;
	const char *path; /* the SQLite file */
	struct db *db;
};

/* ---- helpers --------------------------------------------------------------- */

/* mkdir -p of the directory holding path. */
static int make_parent_dirs(const char *path)
{
	char dir[CONF_STR];

	if (str_copy(dir, path, sizeof dir) < 0) {
		log_warnx("%s: path too long", path);
		return -1;
	}
	for (char *p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
			log_warn("mkdir %s", dir);
			return -1;
		}
		*p = '/';
	}
	return 0;
}

/*
 * The database holds password hashes and every project's data: 0640, the
 * daemons' user and group only (SQLite gives its -wal and -shm files the
 * database's mode). A file made by an older db sync (0644) loses what
 * others could do, its -wal and -shm with it.
 */
#define DB_MODE 0640

static int db_file_private(const char *path)
{
	static const char *const suffix[] = { "", "-wal", "-shm" };
	char p[CONF_STR + 8];
	struct stat st;
	int fd;

	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, DB_MODE)) < 0) {
		log_warn("cannot create %s", path);
		return -1;
	}
	close(fd);
	for (size_t i = 0; i < sizeof suffix / sizeof *suffix; i++) {
		if (str_fmt(p, sizeof p, "%s%s", path, suffix[i]) < 0 ||
		    stat(p, &st) < 0 || (st.st_mode & 0007) == 0)
			continue;
		if (chmod(p, st.st_mode & 0770) < 0) {
			log_warn("cannot chmod %s", p);
			return -1;
		}
		log_info("%s was readable by every user: now %04o", p,
		    (unsigned)(st.st_mode & 0770));
	}
	return 0;
}

/* Opens the database; with migrate, creates and migrates it, else checks
 * its schema is current. */
static int open_db(struct manage *m, bool migrate)
{
	int rc;

	if (!migrate && access(m->path, F_OK) < 0) {
		log_warnx("no database at %s: run " PROG " db sync", m->path);
		return -1;
	}
	if (migrate && (make_parent_dirs(m->path) < 0 ||
	    db_file_private(m->path) < 0))
		return -1;
	if (db_open(m->path, &m->db) != DB_OK)
		return -1;
	/* db/ has logged why when this fails. */
	rc = migrate ? db_migrate(m->db) : db_check_schema(m->db);
	return rc == DB_OK ? 0 : -1;
}

/* ---- db ------------------------------------------------------------------ */

static int cmd_db_sync(struct manage *m)
{
	int v;

	if (open_db(m, true) < 0 || db_schema_version(m->db, &v) != DB_OK)
		return -1;
	printf("database %s at schema version %d\n", m->path, v);
	return 0;
}

static int cmd_db_version(struct manage *m)
{
	int v;

	if (access(m->path, F_OK) < 0) {
		log_warnx("no database at %s: run " PROG " db sync", m->path);
		return -1;
	}
	if (db_open(m->path, &m->db) != DB_OK ||
	    db_schema_version(m->db, &v) != DB_OK)
		return -1;
	printf("%d\n", v);
	if (v != db_schema_latest())
		fprintf(stderr, "%s: this program needs schema version %d\n",
		    PROG, db_schema_latest());
	return 0;
}

static int cmd_db_archive(struct manage *m, int argc, char **argv)
{
	if (open_db(m, false) < 0)
		return 255;
	return manage_db_archive(m->db, argc, argv);
}

static int cmd_db_purge(struct manage *m, int argc, char **argv)
{
	if (open_db(m, false) < 0)
		return 255;
	return manage_db_purge(m->db, argc, argv);
}

/* ---- flavor -------------------------------------------------------------- */

static const struct {
	const char *flavorid, *name;
	int vcpus, memory_mb, root_gb;
} default_flavors[] = {
	{ "1", "m1.tiny", 1, 512, 1 },
	{ "2", "m1.small", 1, 2048, 20 },
	{ "3", "m1.medium", 2, 4096, 40 },
	{ "4", "m1.large", 4, 8192, 80 },
	{ "5", "m1.xlarge", 8, 16384, 160 },
};

static int cmd_flavor_create_defaults(struct manage *m)
{
	struct db_flavor f;
	int rc, failed = 0;

	if (open_db(m, false) < 0)
		return -1;
	for (size_t i = 0; i < sizeof default_flavors / sizeof *default_flavors; i++) {
		memset(&f, 0, sizeof f);
		str_copy(f.flavorid, default_flavors[i].flavorid, sizeof f.flavorid);
		str_copy(f.name, default_flavors[i].name, sizeof f.name);
		f.vcpus = default_flavors[i].vcpus;
		f.memory_mb = default_flavors[i].memory_mb;
		f.root_gb = default_flavors[i].root_gb;
		f.rxtx_factor = 1.0;
		f.is_public = true;
		if (db_flavor_get(m->db, f.flavorid, &f) == DB_OK) {
			printf("flavor %s (%s) exists\n", f.flavorid, f.name);
			continue;
		}
		if ((rc = db_flavor_create(m->db, &f)) == DB_OK) {
			printf("flavor %s (%s) created\n", f.flavorid, f.name);
			continue;
		}
		log_warnx("flavor %s (%s): %s", f.flavorid, f.name,
		    rc == DB_CONFLICT ? "its name is taken by another flavor" :
		    db_strerror(rc));
		failed = 1;
	}
	return failed ? -1 : 0;
}

static int cmd_flavor_list(struct manage *m)
{
	struct db_flavor *list;
	size_t n;

	if (open_db(m, false) < 0 || db_flavor_list(m->db, &list, &n) != DB_OK)
		return -1;
	printf("%-36s  %-20s  %5s  %8s  %6s  %9s  %6s  %s\n", "ID", "Name",
	    "vCPUs", "RAM(MB)", "Disk", "Ephemeral", "Public", "Disabled");
	for (size_t i = 0; i < n; i++)
		printf("%-36s  %-20s  %5d  %8d  %6d  %9d  %6s  %s\n",
		    list[i].flavorid, list[i].name, list[i].vcpus,
		    list[i].memory_mb, list[i].root_gb, list[i].ephemeral_gb,
		    list[i].is_public ? "yes" : "no",
		    list[i].disabled ? "yes" : "no");
	free(list);
	return 0;
}

/* ---- service ------------------------------------------------------------- */

static int cmd_service_list(struct manage *m)
{
	struct db_service *list;
	time_t now = time(NULL);
	size_t n;

	if (open_db(m, false) < 0 || db_service_list(m->db, &list, &n) != DB_OK)
		return -1;
	printf("%-4s  %-16s  %-24s  %-8s  %-5s  %-20s  %s\n", "Id", "Binary",
	    "Host", "Status", "State", "Updated At", "Disabled Reason");
	for (size_t i = 0; i < n; i++) {
		bool up = !list[i].forced_down &&
		    now - list[i].last_seen_up <= m->conf.service_down_time;
		printf("%-4lld  %-16s  %-24s  %-8s  %-5s  %-20s  %s\n",
		    (long long)list[i].id, list[i].binary, list[i].host,
		    list[i].disabled ? "disabled" : "enabled", up ? "up" : "down",
		    list[i].updated_at, list[i].disabled_reason);
	}
	free(list);
	return 0;
}

/* ---- token --------------------------------------------------------------- */

/* "key repository DIR: keys 0, 1, 2 (primary 2)" once the keys load. */
static int print_repository(const char *dir, const char *what)
{
	struct fernet_keys k;
	int ids[FERNET_MAX_KEYS], n;
	char err[512];

	if (fernet_load(dir, &k, err, sizeof err) < 0 ||
	    (n = fernet_list(dir, ids, err, sizeof err)) < 0) {
		log_warnx("%s", err);
		return -1;
	}
	explicit_bzero(&k, sizeof k);
	printf("key repository %s%s: keys", dir, what);
	for (int i = 0; i < n; i++)
		printf("%s %d", i > 0 ? "," : "", ids[i]);
	printf(" (primary %d)\n", ids[n - 1]);
	return 0;
}

static int cmd_token_setup(struct manage *m, int argc, char **argv)
{
	const char *dir = m->conf.token_key_repository;
	int ids[FERNET_MAX_KEYS];
	char err[512];
	bool existed;

	(void)argv;
	if (argc != 1)
		return CMD_USAGE;
	existed = fernet_list(dir, ids, err, sizeof err) > 0;
	if (fernet_setup(dir, err, sizeof err) < 0) {
		log_warnx("%s", err);
		return -1;
	}
	return print_repository(dir, existed ? " (already set up)" : " created");
}

static int cmd_token_rotate(struct manage *m, int argc, char **argv)
{
	const char *dir = m->conf.token_key_repository;
	char err[512];

	(void)argv;
	if (argc != 1)
		return CMD_USAGE;
	if (fernet_rotate(dir, m->conf.token_max_active_keys, err,
	    sizeof err) < 0) {
		log_warnx("%s", err);
		return -1;
	}
	return print_repository(dir, " rotated");
}

static int cmd_instance_list(struct manage *m, int argc, char **argv)
{
	if (open_db(m, false) < 0)
		return 1;
	return manage_instance_list(m->db, &m->conf, argc, argv);
}

static int cmd_network_create(struct manage *m, int argc, char **argv)
{
	if (open_db(m, false) < 0)
		return 1;
	return manage_network_create(m->db, argc, argv);
}

static int cmd_network_list(struct manage *m)
{
	if (open_db(m, false) < 0)
		return -1;
	return manage_network_list(m->db) == 0 ? 0 : -1;
}

static int cmd_rabbit_user_create(struct manage *m, int argc, char **argv)
{
	return manage_rabbit_user_create(&m->conf, argc, argv);
}

static int cmd_rabbit_user_delete(struct manage *m, int argc, char **argv)
{
	return manage_rabbit_user_delete(&m->conf, argc, argv);
}

static int cmd_rabbit_user_list(struct manage *m, int argc, char **argv)
{
	return manage_rabbit_user_list(&m->conf, argc, argv);
}

static int cmd_bootstrap(struct manage *m, int argc, char **argv)
{
	if (open_db(m, false) < 0)
		return -1;
	return manage_bootstrap(m->db, &m->conf, argc, argv);
}

/* ---- dispatch ------------------------------------------------------------ */

/* GROUP COMMAND (fn, no arguments), or a one-word COMMAND (group NULL):
 * fn_args gets argc and argv from the command's name on, and returns 0,
 * -1, or CMD_USAGE. A GROUP COMMAND with fn_args has options of its own
 * and returns its exit status itself (status). */
static const struct command {
	const char *group, *name;
	int (*fn)(struct manage *);
	int (*fn_args)(struct manage *, int argc, char **argv);
	const char *args, *help;
} commands[] = {
#define GROUP(g, n, f, h) { g, n, f, NULL, "", h }
#define GROUP_ARGS(g, n, f, a, h) { g, n, NULL, f, a, h }
#define WORD(n, f, a, h) { NULL, n, NULL, f, a, h }
	GROUP("db", "sync", cmd_db_sync, "create or migrate the database"),
	GROUP("db", "version", cmd_db_version, "print the schema version"),
	GROUP_ARGS("db", "archive_deleted_rows", cmd_db_archive,
	    " [--max_rows N] [--before DATE] [--purge] [--until-complete]"
	    " [--verbose]", "move deleted servers and theirs to the shadow "
	    "tables (nova-manage's)"),
	GROUP_ARGS("db", "purge", cmd_db_purge,
	    " --all | --before DATE [--verbose]",
	    "delete archived rows (nova-manage's)"),
	GROUP("flavor", "create-defaults", cmd_flavor_create_defaults,
	    "create m1.tiny .. m1.xlarge (ids 1-5) where missing"),
	GROUP("flavor", "list", cmd_flavor_list, "list flavors"),
	GROUP("service", "list", cmd_service_list,
	    "list services and whether they are up"),
	GROUP_ARGS("instance", "list", cmd_instance_list, " --stuck",
	    "instances in a task state and what the conductor's watchdog "
	    "will do about each"),
	GROUP_ARGS("network", "create", cmd_network_create,
	    " --label NAME --fixed_range_v4 CIDR --bridge BR [--gateway A]"
	    " [--dhcp_start A] [--dhcp_end A] [--dns1 A] [--mtu N]",
	    "a flat network besides [network]'s (nova-manage's flags)"),
	GROUP("network", "list", cmd_network_list, "list networks"),
	GROUP_ARGS("rabbit-user", "create", cmd_rabbit_user_create,
	    " HOST [--password-file F]", "compute HOST's own RabbitMQ user "
	    "(generated password unless F); prints its transport_url"),
	GROUP_ARGS("rabbit-user", "delete", cmd_rabbit_user_delete, " HOST",
	    "delete compute HOST's RabbitMQ user"),
	GROUP_ARGS("rabbit-user", "list", cmd_rabbit_user_list, "",
	    "the compute hosts that have their own RabbitMQ user"),
	WORD("token_setup", cmd_token_setup, "",
	    "create the Fernet key repository ([fernet_tokens] key_repository)"),
	WORD("token_rotate", cmd_token_rotate, "",
	    "rotate its keys, keeping [fernet_tokens] max_active_keys"),
	WORD("bootstrap", cmd_bootstrap, " --bootstrap-password PW [...]",
	    "the admin user, roles, projects and catalog (keystone-manage's flags)"),
#undef GROUP
#undef GROUP_ARGS
#undef WORD
};

#define N_COMMANDS (sizeof commands / sizeof *commands)

static void usage(FILE *f)
{
	fprintf(f, "usage: " PROG " [-c|--config-file FILE] [-n] [-d] GROUP COMMAND\n"
	    "       " PROG " [-c|--config-file FILE] [-n] [-d] COMMAND [OPTIONS]\n");
	for (size_t i = 0; i < N_COMMANDS; i++) {
		char name[128];

		snprintf(name, sizeof name, "%s %s%s", commands[i].group ?
		    commands[i].group : commands[i].name, commands[i].group ?
		    commands[i].name : "", commands[i].args);
		if (strlen(name) > 24)     /* long options: help below */
			fprintf(f, "  %s\n  %-24s %s\n", name, "",
			    commands[i].help);
		else
			fprintf(f, "  %-24s %s\n", name, commands[i].help);
	}
}

/* Where the first operand is (argc when none), skipping the program's own
 * options (daemon_args: -c FILE, --config-file FILE, -n, -d, -h). */
static int first_operand(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0)
			return i + 1;
		if (a[0] != '-' || a[1] == '\0')
			return i;
		if (strcmp(a, "-c") == 0 || strcmp(a, "--config-file") == 0)
			i++;
	}
	return argc;
}

static const struct command *find_word(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (commands[i].group == NULL && strcmp(name, commands[i].name) == 0)
			return &commands[i];
	return NULL;
}

static const struct command *find_group(const char *group, const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (commands[i].group != NULL &&
		    strcmp(group, commands[i].group) == 0 &&
		    strcmp(name, commands[i].name) == 0)
			return &commands[i];
	return NULL;
}

/* Runs a command: its exit status. */
static int run(struct manage *m, const struct command *cmd, int argc,
    char **argv)
{
	int rc;

	if (cmd->fn_args == NULL)
		rc = cmd->fn(m);
	else if (cmd->group != NULL)
		return cmd->fn_args(m, argc, argv);
	else if ((rc = cmd->fn_args(m, argc, argv)) == CMD_USAGE)
		fprintf(stderr, "usage: " PROG " [-c FILE] %s%s\n", cmd->name,
		    cmd->args);
	return rc == CMD_USAGE ? EXIT_USAGE : rc < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct manage m;
	const struct command *cmd = NULL;
	int first = first_operand(argc, argv), all = argc, own = first, rc;

	memset(&m, 0, sizeof m);
	/* A command's options are its own: the program's end before it. */
	if (first < argc && (cmd = find_word(argv[first])) != NULL) {
		argc = first;
	} else if (first + 1 < argc && (cmd = find_group(argv[first],
	    argv[first + 1])) != NULL && cmd->fn_args != NULL) {
		argc = first;
		own = first + 1;
	} else {
		cmd = NULL;
	}
	if (daemon_args(argc, argv, PROG, &m.conf,
	    "GROUP COMMAND | COMMAND [OPTIONS]") == 1) {
		daemon_config_ok(PROG);
		return 0;
	}
	if (cmd == NULL && argc - optind == 2)
		cmd = find_group(argv[optind], argv[optind + 1]);
	if (cmd == NULL) {
		if (argc - optind == 2)
			fprintf(stderr, PROG ": unknown command: %s %s\n",
			    argv[optind], argv[optind + 1]);
		usage(stderr);
		return EXIT_USAGE;
	}
	m.path = conf_db_path(&m.conf);
	rc = run(&m, cmd, all - own, argv + own);
	db_close(m.db);
	return rc;
}
