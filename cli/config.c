/*
 * The CLI's config file: "key = value" lines, '#' starts a comment.
 *   url = http://controller:8774
 *   token = alice:project1
 * A bad line is a warning naming file:line and is skipped: a config file
 * never stops the CLI (flags and environment variables still apply).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/common.h"

static const struct {
	const char *key;
	size_t off, len;
} config_keys[] = {
	{ "url", offsetof(struct cli_config, url), sizeof ((struct cli_config *)0)->url },
	{ "token", offsetof(struct cli_config, token), sizeof ((struct cli_config *)0)->token },
};

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && strchr(" \t\r\n", e[-1]))
		*--e = '\0';
	return s;
}

static void config_line(struct cli_config *cfg, const char *file, int n, char *line)
{
	char *eq, *key, *val, *hash;

	if ((hash = strchr(line, '#')) != NULL)
		*hash = '\0';
	if (*(line = trim(line)) == '\0')
		return;
	if ((eq = strchr(line, '=')) == NULL) {
		fprintf(stderr, "kumo: %s:%d: expected 'key = value'\n", file, n);
		return;
	}
	*eq = '\0';
	key = trim(line);
	val = trim(eq + 1);
	for (size_t i = 0; i < sizeof config_keys / sizeof config_keys[0]; i++) {
		if (strcmp(config_keys[i].key, key) != 0)
			continue;
		if (*val == '\0')
			fprintf(stderr, "kumo: %s:%d: empty value for '%s'\n", file, n, key);
		else if (str_copy((char *)cfg + config_keys[i].off, val, config_keys[i].len) < 0)
			fprintf(stderr, "kumo: %s:%d: value for '%s' too long\n", file, n, key);
		return;
	}
	fprintf(stderr, "kumo: %s:%d: unknown key '%s' (known: url, token)\n", file, n, key);
}

/* The file to read into path; false when there is no candidate. */
static bool config_path(char *path, size_t len, bool *explicit)
{
	const char *env = getenv("KUMO_CONFIG"), *home;

	*explicit = env != NULL && *env != '\0';
	if (*explicit)
		return str_copy(path, env, len) == 0;
	if ((home = getenv("XDG_CONFIG_HOME")) != NULL && *home != '\0')
		return str_fmt(path, len, "%s/kumo/config", home) == 0;
	if ((home = getenv("HOME")) != NULL && *home != '\0')
		return str_fmt(path, len, "%s/.config/kumo/config", home) == 0;
	return false;
}

void cli_config_load(struct cli_config *cfg)
{
	char path[4096], line[4096];
	bool explicit;
	FILE *f;
	int n = 0;

	memset(cfg, 0, sizeof *cfg);
	if (!config_path(path, sizeof path, &explicit))
		return;
	if ((f = fopen(path, "r")) == NULL) {
		if (explicit || errno != ENOENT)
			fprintf(stderr, "kumo: %s: %s (ignored)\n", path, strerror(errno));
		return;
	}
	while (fgets(line, sizeof line, f) != NULL) {
		n++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			int ch;

			fprintf(stderr, "kumo: %s:%d: line too long\n", path, n);
			while ((ch = fgetc(f)) != EOF && ch != '\n')
				;
			continue;
		}
		config_line(cfg, path, n, line);
	}
	if (ferror(f))
		fprintf(stderr, "kumo: %s: read error\n", path);
	fclose(f);
}
