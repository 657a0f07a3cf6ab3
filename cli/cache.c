/*
 * The token cache: one JSON file per login (auth URL, user, project,
 * domains, region, interface), named by their SHA-256, in
 * $XDG_CACHE_HOME/kumo or ~/.cache/kumo. It holds a bearer token, so: the
 * directory is 0700, the file 0600 and written under a temporary name then
 * renamed; a file another user owns or that group or others may read is
 * refused. A token is used until 60 s before it expires. The password is
 * no part of the key: whoever can read the file holds the token anyway.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/common.h"
#include "common/crypto.h"

#define CACHE_MARGIN 60        /* seconds before expiry a token is dropped */
#define CACHE_MAX_SIZE 65536

#define SESS_FIELD(name) offsetof(struct cli_session, name), \
	sizeof ((struct cli_session *)0)->name

/* The string fields of the file, all required. */
static const struct {
	const char *key;
	size_t off, len;
} cache_keys[] = {
	{ "token", SESS_FIELD(token) },
	{ "expires_at", SESS_FIELD(expires_at) },
	{ "user_id", SESS_FIELD(user_id) },
	{ "project_id", SESS_FIELD(project_id) },
	{ "compute_url", SESS_FIELD(compute_url) },
	{ "image_url", SESS_FIELD(image_url) },
};

/* The cache directory into dir. 0, or -1 when there is no home. */
static int cache_dir(char *dir, size_t len)
{
	const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");

	if (x != NULL && *x == '/')
		return str_fmt(dir, len, "%s/kumo", x);
	if (home != NULL && *home != '\0')
		return str_fmt(dir, len, "%s/.cache/kumo", home);
	return -1;
}

int cli_cache_path(const struct cli_auth *a, struct cli_session *s)
{
	char dir[3072], key[4096], hex[65];

	s->cache_path[0] = '\0';
	if (cache_dir(dir, sizeof dir) < 0)
		return -1;
	/* NUL-free fields joined by newlines: no two logins share a key. */
	if (str_fmt(key, sizeof key, "%s\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n%s",
	    a->auth_url, a->username, a->user_domain_name, a->user_domain_id,
	    a->project_name, a->project_domain_name, a->project_domain_id,
	    a->region_name, a->interface) < 0)
		return -1;
	sha256_hex(key, strlen(key), hex);
	return str_fmt(s->cache_path, sizeof s->cache_path, "%s/token-%s.json", dir, hex);
}

/* Refuses a file that is not ours alone. 0 or -1 (printed). */
static int check_private(const char *path, const struct stat *st)
{
	if (!S_ISREG(st->st_mode)) {
		fprintf(stderr, "kumo: token cache %s is not a regular file; not used\n", path);
		return -1;
	}
	if (st->st_uid != geteuid()) {
		fprintf(stderr, "kumo: token cache %s belongs to another user; not used\n", path);
		return -1;
	}
	if (st->st_mode & 077) {
		fprintf(stderr, "kumo: token cache %s is open to others (mode %04o); "
		    "not used\n", path, (unsigned)(st->st_mode & 07777));
		return -1;
	}
	return 0;
}

static int cache_load(struct cli_session *s, json_t *j)
{
	for (size_t i = 0; i < sizeof cache_keys / sizeof cache_keys[0]; i++) {
		const char *v = json_string_value(json_object_get(j, cache_keys[i].key));

		if (v == NULL || str_copy((char *)s + cache_keys[i].off, v, cache_keys[i].len) < 0)
			return -1;
	}
	if (s->token[0] == '\0' || s->compute_url[0] == '\0' ||
	    cli_time_parse(s->expires_at, &s->expires) < 0)
		return -1;
	return 0;
}

int cli_cache_read(struct cli_session *s)
{
	struct stat st;
	json_t *j = NULL;
	char buf[CACHE_MAX_SIZE];
	ssize_t n;
	int fd, ret = -1;

	if (s->cache_path[0] == '\0')
		return -1;
	if ((fd = open(s->cache_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		if (errno != ENOENT)
			fprintf(stderr, "kumo: token cache %s: %s; not used\n",
			    s->cache_path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || check_private(s->cache_path, &st) < 0)
		goto fail;
	if ((n = read(fd, buf, sizeof buf)) <= 0 || (size_t)n == sizeof buf)
		goto fail;
	if ((j = json_loadb(buf, (size_t)n, 0, NULL)) == NULL || cache_load(s, j) < 0) {
		fprintf(stderr, "kumo: token cache %s is damaged; not used\n", s->cache_path);
		goto fail;
	}
	if (s->expires - CACHE_MARGIN <= time(NULL))
		goto fail;
	s->cached = true;
	ret = 0;
fail:
	explicit_bzero(buf, sizeof buf);
	json_decref(j);
	close(fd);
	if (ret < 0)
		s->token[0] = '\0';
	return ret;
}

/* Makes dir (and its parent, ~/.cache) 0700 when missing; refuses one
 * another user owns. 0 or -1 (printed). */
static int make_dir(const char *dir)
{
	char parent[4096];
	char *slash;
	struct stat st;

	if (str_copy(parent, dir, sizeof parent) < 0)
		return -1;
	if ((slash = strrchr(parent, '/')) != NULL && slash != parent) {
		*slash = '\0';
		if (mkdir(parent, 0700) < 0 && errno != EEXIST)
			goto fail;
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		goto fail;
	if (lstat(dir, &st) < 0)
		goto fail;
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid()) {
		fprintf(stderr, "kumo: %s is not a directory of this user; "
		    "token not cached\n", dir);
		return -1;
	}
	if ((st.st_mode & 077) && chmod(dir, 0700) < 0)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "kumo: %s: %s; token not cached\n", dir, strerror(errno));
	return -1;
}

/* The session as the file's JSON text (owned), or NULL. */
static char *cache_text(const struct cli_session *s)
{
	json_t *j = json_object();
	char *text;

	for (size_t i = 0; i < sizeof cache_keys / sizeof cache_keys[0]; i++)
		json_object_set_new(j, cache_keys[i].key,
		    json_string((const char *)s + cache_keys[i].off));
	text = json_dumps(j, JSON_COMPACT);
	/* The token is copied into j's strings: wipe them before freeing. */
	explicit_bzero((char *)json_string_value(json_object_get(j, "token")),
	    strlen(s->token));
	json_decref(j);
	return text;
}

/* text into a new file path, 0600. 0, or -1 with errno. */
static int write_private(const char *path, const char *text)
{
	size_t len = strlen(text);
	int fd, err;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
		return -1;
	if (fchmod(fd, 0600) < 0 || write(fd, text, len) != (ssize_t)len) {
		err = errno ? errno : EIO;
		close(fd);
		errno = err;
		return -1;
	}
	return close(fd);
}

int cli_cache_write(const struct cli_session *s)
{
	char dir[4096], tmp[4160], *text = NULL, *slash;
	int ret = -1;

	if (s->cache_path[0] == '\0' || str_copy(dir, s->cache_path, sizeof dir) < 0 ||
	    (slash = strrchr(dir, '/')) == NULL)
		return -1;
	*slash = '\0';
	if (make_dir(dir) < 0)
		return -1;
	if (str_fmt(tmp, sizeof tmp, "%s.%ld.tmp", s->cache_path, (long)getpid()) < 0 ||
	    (text = cache_text(s)) == NULL)
		goto fail;
	unlink(tmp);
	errno = 0;
	if (write_private(tmp, text) < 0 || rename(tmp, s->cache_path) < 0) {
		fprintf(stderr, "kumo: token cache %s: %s; token not cached\n",
		    s->cache_path, strerror(errno));
		unlink(tmp);
		goto fail;
	}
	ret = 0;
fail:
	if (text != NULL) {
		explicit_bzero(text, strlen(text));
		free(text);
	}
	return ret;
}

void cli_cache_drop(const struct cli_session *s)
{
	if (s->cache_path[0] != '\0' && unlink(s->cache_path) < 0 && errno != ENOENT)
		fprintf(stderr, "kumo: token cache %s: %s\n", s->cache_path, strerror(errno));
}
