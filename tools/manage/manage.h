/*
 * tools/manage/: kumo-manage, the operator's database tool.
 *
 *   main.c       options, the command table, db/flavor/service/token commands
 *   bootstrap.c  kumo-manage bootstrap (keystone-manage bootstrap's flags)
 *   archive.c    db archive_deleted_rows, db purge (nova-manage's flags)
 *   stuck.c      instance list --stuck: what the conductor's watchdog sees
 *   network.c    network create, network list
 *   rabbit.c     rabbit-user create|delete|list: compute hosts' bus users
 */
#ifndef KUMO_MANAGE_H
#define KUMO_MANAGE_H

struct db;
struct kumo_conf;

/* bootstrap [--bootstrap-password PW] [...]: argv[0] is "bootstrap".
 * 0, or -1 (said why). */
int manage_bootstrap(struct db *db, const struct kumo_conf *conf, int argc,
    char **argv);

/* db archive_deleted_rows [...] and db purge [...]: argv[0] is the
 * command's name. Each returns nova-manage's exit status (archive.c). */
int manage_db_archive(struct db *db, int argc, char **argv);
int manage_db_purge(struct db *db, int argc, char **argv);

/* instance list --stuck: argv[0] is "list". 0, 1 (the database failed,
 * logged) or 2 (bad usage). */
int manage_instance_list(struct db *db, const struct kumo_conf *conf,
    int argc, char **argv);

/* network create --label NAME --fixed_range_v4 CIDR --bridge BR [...]:
 * argv[0] is "create". 0 (prints the uuid), 1 (exists, or the database
 * failed), 2 (bad usage or values, said why). */
int manage_network_create(struct db *db, int argc, char **argv);
int manage_network_list(struct db *db);

/* rabbit-user create HOST [--password-file F], delete HOST, list: argv[0]
 * is the command's name. 0, 1 (rabbitmqctl failed, said why) or 2 (bad
 * usage or values, said before rabbitmqctl runs). */
int manage_rabbit_user_create(const struct kumo_conf *conf, int argc,
    char **argv);
int manage_rabbit_user_delete(const struct kumo_conf *conf, int argc,
    char **argv);
int manage_rabbit_user_list(const struct kumo_conf *conf, int argc,
    char **argv);

#endif
