/*
 * kumo.conf: one ini file for every daemon. The keys are a table: section,
 * name, type, where the value goes, bounds and default. An unknown section
 * or key, or a value out of range, is an error naming file:line.
 */
#include <ini.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common.h"

enum conf_type { CT_STR, CT_INT, CT_I64, CT_DOUBLE, CT_BOOL };

struct conf_key {
	const char *section;
	const char *name;
	enum conf_type type;
	size_t off;
	size_t size;      /* CT_STR: buffer size */
	double min, max;  /* numbers */
	const char *def;
	bool secret;      /* never echoed in an error */
};

#define OFF(f) offsetof(struct kumo_conf, f)
#define STR(sec, key, f, d) { sec, key, CT_STR, OFF(f), sizeof(((struct kumo_conf *)0)->f), 0, 0, d, false }
#define SECRET(sec, key, f) { sec, key, CT_STR, OFF(f), sizeof(((struct kumo_conf *)0)->f), 0, 0, "", true }
/* a string that may hold a password (a URL's user:password@) */
#define STR_SECRET(sec, key, f, d) { sec, key, CT_STR, OFF(f), sizeof(((struct kumo_conf *)0)->f), 0, 0, d, true }
#define INT(sec, key, f, lo, hi, d) { sec, key, CT_INT, OFF(f), 0, lo, hi, d, false }
#define I64(sec, key, f, lo, hi, d) { sec, key, CT_I64, OFF(f), 0, lo, hi, d, false }
#define DBL(sec, key, f, lo, hi, d) { sec, key, CT_DOUBLE, OFF(f), 0, lo, hi, d, false }
#define BOOL(sec, key, f, d) { sec, key, CT_BOOL, OFF(f), 0, 0, 0, d, false }

static const struct conf_key conf_keys[] = {
	STR("DEFAULT", "host", host, ""), /* "" = gethostname() */
	STR_SECRET("DEFAULT", "transport_url", transport_url, "rabbit://guest:guest@127.0.0.1:5672/"),
	STR("DEFAULT", "control_exchange", control_exchange, "kumo"),
	STR("DEFAULT", "state_path", state_path, "/var/lib/kumo"),
	STR("DEFAULT", "osapi_compute_listen", osapi_compute_listen, "127.0.0.1"),
	INT("DEFAULT", "osapi_compute_listen_port", osapi_compute_listen_port, 1, 65535, "8774"),
	STR("DEFAULT", "compute_driver", compute_driver, "libvirt"),
	INT("DEFAULT", "rpc_response_timeout", rpc_response_timeout, 1, 3600, "60"),
	INT("DEFAULT", "executor_thread_pool_size", rpc_workers, 1, 256, "16"),
	INT("DEFAULT", "heartbeat_timeout_threshold", heartbeat_timeout_threshold, 0, 3600, "60"),
	/* oslo.messaging's names: work queues that survive a broker restart */
	BOOL("oslo_messaging_rabbit", "amqp_durable_queues", amqp_durable_queues, "false"),
	BOOL("oslo_messaging_rabbit", "rabbit_quorum_queue", rabbit_quorum_queue, "false"),
	INT("oslo_messaging_rabbit", "rabbit_transient_queues_ttl", rabbit_transient_queues_ttl, 1, 2147483, "1800"),
	/* kumo-manage rabbit-user runs rabbitmqctl (no shell) */
	STR("oslo_messaging_rabbit", "rabbitmqctl", rabbitmqctl, "rabbitmqctl"),
	STR("oslo_messaging_rabbit", "rabbitmqctl_node", rabbitmqctl_node, ""),
	/* refuse compute reports from any bus user but a compute's own
	 * (kumo-compute-<host>, see scheduler/conductor.c) */
	BOOL("conductor", "require_compute_users", require_compute_users, "false"),
	INT("DEFAULT", "report_interval", report_interval, 1, 3600, "10"),
	INT("DEFAULT", "service_down_time", service_down_time, 2, 86400, "60"),
	/* Nova's name; Nova's default 0 (never) would let a build wait
	 * forever on a compute that is up but stuck: kumo's is an hour */
	INT("DEFAULT", "instance_build_timeout", instance_build_timeout, 0, 31536000, "3600"),
	/* kumo's: a reboot, stop or start unfinished this long is given up */
	INT("DEFAULT", "instance_action_timeout", instance_action_timeout, 0, 31536000, "600"),
	INT("DEFAULT", "osapi_compute_workers", api_workers, 1, 256, "4"),
	STR("DEFAULT", "log_level", log_level, "info"),
	STR("api", "auth_strategy", auth_strategy, "keystone"),
	BOOL("api", "allow_insecure_noauth", allow_insecure_noauth, "false"),
	STR("api", "api_paste_config", api_paste_config, "/etc/kumo/api-pipeline.ini"),
	I64("api", "max_request_body_size", max_request_body_size, 1024, 1073741824, "114688"),
	/* a connection idle this long is closed (Nova's wsgi name); one
	 * client address holds at most this many (0 = no bound) */
	INT("api", "client_socket_timeout", client_socket_timeout, 1, 3600, "30"),
	INT("api", "max_connections_per_ip", max_connections_per_ip, 0, 65535, "64"),
	/* the largest page of a list (Nova's name) */
	INT("api", "max_limit", max_limit, 1, 100000, "1000"),
	/* kumo's own Keystone v3 subset at /identity/v3 (Keystone's key names) */
	BOOL("identity", "enabled", identity_enabled, "true"),
	INT("identity", "password_hash_rounds", password_hash_rounds, 4, 31, "12"),
	INT("token", "expiration", token_expiration, 60, 31536000, "3600"),
	STR("fernet_tokens", "key_repository", token_key_repository, "/etc/kumo/fernet-keys"),
	INT("fernet_tokens", "max_active_keys", token_max_active_keys, 2, 64, "3"),
	STR("oslo_policy", "policy_file", policy_file, "/etc/kumo/policy.yaml"),
	STR("database", "connection", db_connection, "sqlite:////var/lib/kumo/kumo.db"),
	STR("filter_scheduler", "enabled_filters", enabled_filters,
	    "ComputeFilter,RamFilter,CoreFilter,DiskFilter,AvailabilityZoneFilter"),
	STR("filter_scheduler", "weight_classes", weight_classes, "RamWeigher"),
	DBL("filter_scheduler", "cpu_allocation_ratio", cpu_allocation_ratio, 0.01, 1000, "4.0"),
	DBL("filter_scheduler", "ram_allocation_ratio", ram_allocation_ratio, 0.01, 1000, "1.0"),
	DBL("filter_scheduler", "disk_allocation_ratio", disk_allocation_ratio, 0.01, 1000, "1.0"),
	DBL("filter_scheduler", "ram_weight_multiplier", ram_weight_multiplier, -1000, 1000, "1.0"),
	INT("scheduler", "max_attempts", max_attempts, 1, 100, "3"),
	STR("glance", "api_servers", glance_api_servers, "http://127.0.0.1:8774"),
	STR("glance", "auth_token", glance_auth_token, "admin:service"),
	/* kumo-api's image store and its bounds (Glance's names where it has
	 * one; the quotas are unified limits' resource names, -1 = none) */
	STR("glance", "image_store_path", glance_store_path, ""), /* state_path/images */
	INT("glance", "image_store_reserve_mb", glance_store_reserve_mb, 0, 1 << 30, "1024"),
	I64("glance", "image_size_cap", glance_size_cap, 0, 68719476736, "68719476736"),
	I64("glance", "image_count_total", glance_count_total, -1, 1 << 30, "1000"),
	I64("glance", "image_size_total", glance_size_total, -1, 1LL << 40, "-1"),
	I64("glance", "image_count_uploading", glance_count_uploading, -1, 1 << 30, "-1"),
	INT("glance", "limit_param_default", glance_limit_default, 1, 100000, "25"),
	INT("glance", "api_limit_max", glance_limit_max, 1, 100000, "1000"),
	/* the Keystone user kumo-compute logs in as (keystoneauth's names);
	 * auth_url "" = send [glance] auth_token instead */
	STR("service_user", "auth_url", service_auth_url, ""),
	STR("service_user", "username", service_username, ""),
	SECRET("service_user", "password", service_password),
	STR("service_user", "project_name", service_project_name, "service"),
	STR("service_user", "user_domain_name", service_user_domain_name, "Default"),
	STR("service_user", "project_domain_name", service_project_domain_name, "Default"),
	/* kumo-api in front of an existing Keystone (keystonemiddleware's
	 * names, as in nova.conf); auth_url "" = kumo's own identity service */
	STR("keystone_authtoken", "auth_url", authtoken_auth_url, ""),
	STR("keystone_authtoken", "username", authtoken_username, ""),
	SECRET("keystone_authtoken", "password", authtoken_password),
	STR("keystone_authtoken", "project_name", authtoken_project_name, "service"),
	STR("keystone_authtoken", "user_domain_name", authtoken_user_domain_name, "Default"),
	STR("keystone_authtoken", "project_domain_name", authtoken_project_domain_name, "Default"),
	INT("keystone_authtoken", "token_cache_time", authtoken_cache_time, 0, 86400, "300"),
	STR("keystone_authtoken", "www_authenticate_uri", authtoken_www_authenticate_uri, ""), /* "" = auth_url */
	STR("keystone_authtoken", "interface", authtoken_interface, "internal"),
	STR("keystone_authtoken", "region_name", authtoken_region_name, ""), /* "" = any */
	STR("libvirt", "connection_uri", libvirt_connection_uri, "qemu:///system"),
	STR("libvirt", "virt_type", libvirt_virt_type, "auto"),
	STR("libvirt", "network", libvirt_network, ""), /* a libvirt network name */
	/* the guests' NIC: "bridge" (the [network] bridge, fixed IPs), "user"
	 * (QEMU user-mode: the guest reaches the host's loopback; warned
	 * about), "network" (the libvirt network [libvirt] network) */
	STR("libvirt", "vif_type", libvirt_vif_type, "bridge"),
	/* the default flat network (nova-network FlatDHCP's shape): every
	 * compute host has its bridge; "" = derived from cidr */
	STR("network", "name", net_name, "private"),
	STR("network", "cidr", net_cidr, "10.99.0.0/24"),
	STR("network", "gateway", net_gateway, ""),      /* first host address */
	STR("network", "dhcp_start", net_dhcp_start, ""), /* gateway + 1 */
	STR("network", "dhcp_end", net_dhcp_end, ""),     /* last host address */
	STR("network", "bridge", net_bridge, "kumobr0"),
	STR("network", "dns", net_dns, ""),              /* the gateway */
	INT("network", "mtu", net_mtu, 576, 9000, "1500"),
	BOOL("network", "masquerade", net_masquerade, "false"),
	/* kumo-netd, the compute host's privileged network helper */
	STR("network", "helper_socket", net_helper_socket, "/run/kumo/netd.sock"),
	STR("network", "helper_user", net_helper_user, "kumo"),
	/* config drive (Nova's names) */
	BOOL("DEFAULT", "force_config_drive", force_config_drive, "false"),
	STR("DEFAULT", "config_drive_format", config_drive_format, "iso9660"),
	STR("api", "dhcp_domain", dhcp_domain, "novalocal"),
	INT("fake", "vcpus", fake_vcpus, 1, 1 << 20, "64"),
	INT("fake", "memory_mb", fake_memory_mb, 1, 1 << 30, "131072"),
	INT("fake", "local_gb", fake_local_gb, 1, 1 << 30, "2000"),
	INT("fake", "spawn_delay_ms", fake_spawn_delay_ms, 0, 600000, "0"),
	BOOL("fake", "spawn_fail", fake_spawn_fail, "false"),
	/* test knobs of the power state sync and the start-up reap (fake.c) */
	INT("fake", "power_off_after_ms", fake_power_off_after_ms, 0, 86400000, "0"),
	BOOL("fake", "persist", fake_persist, "false"),
};

/* Values a key may take, beyond its type. */
static const struct {
	const char *name;
	const char *allowed[4];
} conf_enums[] = {
	{ "compute_driver", { "libvirt", "fake", NULL } },
	{ "auth_strategy", { "keystone", "noauth2", NULL } },
	{ "virt_type", { "auto", "kvm", "qemu", NULL } },
	{ "vif_type", { "bridge", "user", "network", NULL } },
	{ "config_drive_format", { "iso9660", "vfat", NULL } },
	{ "log_level", { "error", "warning", "info", "debug" } },
	{ "interface", { "public", "internal", "admin", NULL } },
};

struct conf_parse {
	struct kumo_conf *conf;
	char *err;
	size_t errlen;
	const char *path;
};

static int parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

static int check_enum(const char *name, const char *v)
{
	for (size_t i = 0; i < sizeof conf_enums / sizeof *conf_enums; i++) {
		if (strcmp(conf_enums[i].name, name) != 0)
			continue;
		for (size_t j = 0; j < 4 && conf_enums[i].allowed[j]; j++)
			if (strcmp(conf_enums[i].allowed[j], v) == 0)
				return 0;
		return -1;
	}
	return 0;
}

/* Stores one value; returns NULL or a static description of what is wrong. */
static const char *conf_set(struct kumo_conf *conf, const struct conf_key *k,
    const char *v)
{
	char *base = (char *)conf + k->off;
	double d;
	int64_t i64;
	int i;

	switch (k->type) {
	case CT_STR:
		if (str_copy(base, v, k->size) < 0)
			return "value too long";
		if (check_enum(k->name, v) < 0)
			return "value not one of the allowed ones";
		return NULL;
	case CT_INT:
		if (num_parse_int(v, (int)k->min, (int)k->max, &i) < 0)
			return "not an integer in range";
		memcpy(base, &i, sizeof i);
		return NULL;
	case CT_I64:
		if (num_parse_i64(v, (int64_t)k->min, (int64_t)k->max, &i64) < 0)
			return "not an integer in range";
		memcpy(base, &i64, sizeof i64);
		return NULL;
	case CT_DOUBLE:
		if (num_parse_double(v, k->min, k->max, &d) < 0)
			return "not a number in range";
		memcpy(base, &d, sizeof d);
		return NULL;
	case CT_BOOL: {
		bool b;
		if (parse_bool(v, &b) < 0)
			return "not a boolean (true/false)";
		memcpy(base, &b, sizeof b);
		return NULL;
	}
	}
	return "bad key type";
}

static const struct conf_key *conf_find(const char *section, const char *name,
    bool *section_known)
{
	*section_known = false;
	for (size_t i = 0; i < sizeof conf_keys / sizeof *conf_keys; i++) {
		if (strcmp(conf_keys[i].section, section) != 0)
			continue;
		*section_known = true;
		if (strcmp(conf_keys[i].name, name) == 0)
			return &conf_keys[i];
	}
	return NULL;
}

/* inih hands us no line number: returning 0 makes ini_parse() return the
 * line of the first error, and we keep the first message. */
static int conf_handler(void *user, const char *section, const char *name,
    const char *value)
{
	struct conf_parse *p = user;
	const struct conf_key *k;
	const char *why;
	bool section_known;

	if (p->err[0] != '\0')
		return 0;
	k = conf_find(section, name, &section_known);
	if (k == NULL) {
		if (!section_known)
			snprintf(p->err, p->errlen, "unknown section [%s]", section);
		else
			snprintf(p->err, p->errlen, "unknown key '%s' in [%s]", name,
			    section);
		return 0;
	}
	if ((why = conf_set(p->conf, k, value)) != NULL) {
		snprintf(p->err, p->errlen, "[%s] %s = %s: %s", section, name,
		    k->secret ? "(secret)" : value, why);
		return 0;
	}
	return 1;
}

/* Keys that only make sense together: "" or why not, naming the key. */
static const char *conf_check_service_user(const struct kumo_conf *conf)
{
	const char *u = conf->service_auth_url;

	if (u[0] == '\0')
		return "";
	if (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0)
		return "[service_user] auth_url must start with http:// or https://";
	if (conf->service_username[0] == '\0')
		return "[service_user] username must be set with auth_url";
	if (conf->service_password[0] == '\0')
		return "[service_user] password must be set with auth_url";
	if (conf->service_project_name[0] == '\0' ||
	    conf->service_user_domain_name[0] == '\0' ||
	    conf->service_project_domain_name[0] == '\0')
		return "[service_user] project_name, user_domain_name and "
		    "project_domain_name must not be empty";
	return "";
}

static bool http_url(const char *u)
{
	return strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0;
}

static const char *conf_check_authtoken(const struct kumo_conf *conf)
{
	if (conf->authtoken_auth_url[0] == '\0')
		return "";
	if (!http_url(conf->authtoken_auth_url))
		return "[keystone_authtoken] auth_url must start with http:// or https://";
	if (conf->authtoken_www_authenticate_uri[0] != '\0' &&
	    !http_url(conf->authtoken_www_authenticate_uri))
		return "[keystone_authtoken] www_authenticate_uri must start with "
		    "http:// or https://";
	if (conf->authtoken_username[0] == '\0')
		return "[keystone_authtoken] username must be set with auth_url";
	if (conf->authtoken_password[0] == '\0')
		return "[keystone_authtoken] password must be set with auth_url";
	if (conf->authtoken_project_name[0] == '\0' ||
	    conf->authtoken_user_domain_name[0] == '\0' ||
	    conf->authtoken_project_domain_name[0] == '\0')
		return "[keystone_authtoken] project_name, user_domain_name and "
		    "project_domain_name must not be empty";
	return "";
}

int conf_load(struct kumo_conf *conf, const char *path, char *err, size_t errlen)
{
	const char *why;
	struct conf_parse p = { conf, err, errlen, path };
	struct net_def net;
	char msg[512] = "";
	int line;

	memset(conf, 0, sizeof *conf);
	for (size_t i = 0; i < sizeof conf_keys / sizeof *conf_keys; i++)
		if (conf_set(conf, &conf_keys[i], conf_keys[i].def) != NULL)
			fatalx("config default of %s is invalid", conf_keys[i].name);
	if (path != NULL) {
		p.err = msg;
		p.errlen = sizeof msg;
		line = ini_parse(path, conf_handler, &p);
		if (line == -1) {
			snprintf(err, errlen, "%s: cannot open", path);
			return -1;
		}
		if (line != 0) {
			if (msg[0] == '\0')
				snprintf(msg, sizeof msg, "syntax error");
			snprintf(err, errlen, "%s:%d: %s", path, line, msg);
			return -1;
		}
	}
	if (conf->host[0] == '\0' && gethostname(conf->host, sizeof conf->host) < 0)
		str_copy(conf->host, "localhost", sizeof conf->host);
	conf->host[sizeof conf->host - 1] = '\0';
	if (conf_db_path(conf) == NULL) {
		snprintf(err, errlen, "%s: [database] connection must be sqlite:///PATH",
		    path ? path : "(defaults)");
		return -1;
	}
	if ((why = conf_check_service_user(conf))[0] != '\0' ||
	    (why = conf_check_authtoken(conf))[0] != '\0') {
		snprintf(err, errlen, "%s: %s", path ? path : "(defaults)", why);
		return -1;
	}
	if (net_def_from_conf(conf, &net, msg, sizeof msg) < 0) {
		snprintf(err, errlen, "%s: [network] %s", path ? path : "(defaults)",
		    msg);
		return -1;
	}
	return 0;
}

const char *conf_db_path(const struct kumo_conf *conf)
{
	static const char prefix[] = "sqlite:///";

	if (strncmp(conf->db_connection, prefix, sizeof prefix - 1) != 0)
		return NULL;
	if (conf->db_connection[sizeof prefix - 1] == '\0')
		return NULL;
	/* sqlite:////abs/path -> /abs/path; sqlite:///rel -> rel (SQLAlchemy's rule) */
	return conf->db_connection + sizeof prefix - 1;
}
