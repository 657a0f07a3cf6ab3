/*
 * clouds.yaml as openstackclient reads it: the top-level mapping "clouds",
 * one mapping per cloud, its "auth" mapping and a few keys beside it:
 *   clouds:
 *     mycloud:
 *       auth: {auth_url: ..., username: ..., password: ..., project_name: ...}
 *       region_name: RegionOne
 *       interface: public
 * libyaml loads the document; only scalars are taken, keys kumo does not
 * use are ignored, as openstackclient ignores what its plugin does not use.
 * Error messages name keys and positions, never values (a password).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "cli/cli.h"
#include "common/common.h"

#define CLOUDS_MAX_SIZE (1u << 20)

#define AUTH_FIELD(name) offsetof(struct cli_auth, name), \
	sizeof ((struct cli_auth *)0)->name

/* The keys read; in_auth: inside the entry's "auth" mapping. */
static const struct {
	const char *key;
	bool in_auth;
	size_t off, len;
} cloud_keys[] = {
	{ "auth_url", true, AUTH_FIELD(auth_url) },
	{ "username", true, AUTH_FIELD(username) },
	{ "password", true, AUTH_FIELD(password) },
	{ "project_name", true, AUTH_FIELD(project_name) },
	{ "user_domain_name", true, AUTH_FIELD(user_domain_name) },
	{ "user_domain_id", true, AUTH_FIELD(user_domain_id) },
	{ "project_domain_name", true, AUTH_FIELD(project_domain_name) },
	{ "project_domain_id", true, AUTH_FIELD(project_domain_id) },
	{ "region_name", false, AUTH_FIELD(region_name) },
	{ "interface", false, AUTH_FIELD(interface) },
};

static const char *scalar(yaml_node_t *n)
{
	return n != NULL && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* The value of key in mapping m, or NULL. */
static yaml_node_t *map_get(yaml_document_t *d, yaml_node_t *m, const char *key)
{
	yaml_node_pair_t *p;

	if (m == NULL || m->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		const char *k = scalar(yaml_document_get_node(d, p->key));

		if (k != NULL && strcmp(k, key) == 0)
			return yaml_document_get_node(d, p->value);
	}
	return NULL;
}

/* The keys of cloud_keys found in mapping m (in_auth or not) into a. */
static int take_keys(yaml_document_t *d, yaml_node_t *m, bool in_auth,
    struct cli_auth *a, char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof cloud_keys / sizeof cloud_keys[0]; i++) {
		yaml_node_t *v;
		const char *s;

		if (cloud_keys[i].in_auth != in_auth ||
		    (v = map_get(d, m, cloud_keys[i].key)) == NULL)
			continue;
		if ((s = scalar(v)) == NULL) {
			snprintf(err, errlen, "line %zu: '%s' is not a string",
			    v->start_mark.line + 1, cloud_keys[i].key);
			return -1;
		}
		if (str_copy((char *)a + cloud_keys[i].off, s, cloud_keys[i].len) < 0) {
			snprintf(err, errlen, "line %zu: '%s' is too long",
			    v->start_mark.line + 1, cloud_keys[i].key);
			return -1;
		}
	}
	return 0;
}

/* The cloud's entry of a loaded document into a. */
static int take_cloud(yaml_document_t *d, const char *cloud, struct cli_auth *a,
    char *err, size_t errlen)
{
	yaml_node_t *root = yaml_document_get_root_node(d), *clouds, *entry, *auth;
	const char *type;

	if (root == NULL || root->type != YAML_MAPPING_NODE ||
	    (clouds = map_get(d, root, "clouds")) == NULL ||
	    clouds->type != YAML_MAPPING_NODE) {
		snprintf(err, errlen, "no 'clouds' mapping");
		return -1;
	}
	if ((entry = map_get(d, clouds, cloud)) == NULL) {
		snprintf(err, errlen, "no cloud named '%s'", cloud);
		return -1;
	}
	if (entry->type != YAML_MAPPING_NODE) {
		snprintf(err, errlen, "line %zu: cloud '%s' is not a mapping",
		    entry->start_mark.line + 1, cloud);
		return -1;
	}
	type = scalar(map_get(d, entry, "auth_type"));
	if (type != NULL && strcmp(type, "password") != 0 && strcmp(type, "v3password") != 0) {
		snprintf(err, errlen, "cloud '%s': auth_type '%s' is not supported "
		    "(password only)", cloud, type);
		return -1;
	}
	auth = map_get(d, entry, "auth");
	if (auth != NULL && auth->type != YAML_MAPPING_NODE) {
		snprintf(err, errlen, "line %zu: 'auth' is not a mapping",
		    auth->start_mark.line + 1);
		return -1;
	}
	if (take_keys(d, entry, false, a, err, errlen) < 0)
		return -1;
	return auth != NULL ? take_keys(d, auth, true, a, err, errlen) : 0;
}

int cli_clouds_parse(const char *buf, size_t len, const char *cloud,
    struct cli_auth *a, char *err, size_t errlen)
{
	yaml_parser_t p;
	yaml_document_t d;
	int ret = -1;

	if (!yaml_parser_initialize(&p)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&p, &d)) {
		snprintf(err, errlen, "line %zu: %s", p.problem_mark.line + 1,
		    p.problem ? p.problem : "not YAML");
		goto fail;
	}
	ret = take_cloud(&d, cloud, a, err, errlen);
	yaml_document_delete(&d);
fail:
	yaml_parser_delete(&p);
	return ret;
}

/* The clouds.yaml to read into path: 0, or -1 when none (printed). */
static int clouds_path(char *path, size_t len)
{
	const char *env = getenv("OS_CLIENT_CONFIG_FILE"), *home = getenv("HOME");
	char cand[3][4096];
	size_t n = 0;

	if (env != NULL && *env != '\0') {
		if (str_copy(path, env, len) == 0)
			return 0;
		fprintf(stderr, "kumo: OS_CLIENT_CONFIG_FILE: path too long\n");
		return -1;
	}
	str_copy(cand[n++], "clouds.yaml", sizeof cand[0]);
	if (home != NULL && *home != '\0' &&
	    str_fmt(cand[n], sizeof cand[0], "%s/.config/openstack/clouds.yaml", home) == 0)
		n++;
	str_copy(cand[n++], "/etc/openstack/clouds.yaml", sizeof cand[0]);
	for (size_t i = 0; i < n; i++)
		if (access(cand[i], F_OK) == 0)
			return str_copy(path, cand[i], len);
	fprintf(stderr, "kumo: --os-cloud: no clouds.yaml found ($OS_CLIENT_CONFIG_FILE, "
	    "./clouds.yaml, ~/.config/openstack/clouds.yaml, /etc/openstack/clouds.yaml)\n");
	return -1;
}

/* All of path (at most CLOUDS_MAX_SIZE) into a new buffer. */
static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	struct stat st;

	if (f == NULL)
		return NULL;
	if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	if (st.st_size > CLOUDS_MAX_SIZE) {
		errno = EFBIG;
		goto fail;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		goto fail;
	*len = fread(buf, 1, (size_t)st.st_size, f);
	if (ferror(f)) {
		free(buf);
		buf = NULL;
		errno = EIO;
		goto fail;
	}
	buf[*len] = '\0';
fail:
	fclose(f);
	return buf;
}

int cli_clouds_load(struct cli_auth *a)
{
	char path[4096], err[512];
	char *buf;
	size_t len = 0;
	int ret;

	if (clouds_path(path, sizeof path) < 0)
		return -1;
	if ((buf = read_all(path, &len)) == NULL) {
		fprintf(stderr, "kumo: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if ((ret = cli_clouds_parse(buf, len, a->cloud, a, err, sizeof err)) < 0)
		fprintf(stderr, "kumo: %s: %s\n", path, err);
	explicit_bzero(buf, len);
	free(buf);
	return ret;
}
