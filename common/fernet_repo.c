/*
 * A Keystone-style Fernet key repository (crypto.h): a directory (0700)
 * of files named 0, 1, 2 ... (0600), each one key as 44 characters of
 * url-safe base64. The highest number is the primary key, which seals;
 * 0 is the staged key, the next primary, which already opens tokens so
 * that nodes that have not rotated yet accept what a rotated one seals.
 * Every change is a new file written under a temporary name and renamed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/common.h"
#include "common/crypto.h"

#define KEY_CHARS 44
#define ID_DIGITS 9     /* key numbers below 10^9 */

static int fail_msg(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail_msg(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* The number a file name stands for ("0", "17"; not "01" or ".0.tmp"),
 * or -1 for any other name, which the repository ignores. */
static int key_number(const char *name)
{
	size_t len = strlen(name);
	int v = 0;

	if (len == 0 || len > ID_DIGITS || (name[0] == '0' && len > 1))
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (name[i] < '0' || name[i] > '9')
			return -1;
		v = v * 10 + (name[i] - '0');
	}
	return v;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

int fernet_list(const char *dir, int ids[FERNET_MAX_KEYS], char *err,
    size_t errlen)
{
	struct dirent *e;
	DIR *d;
	int n = 0, id;

	if ((d = opendir(dir)) == NULL)
		return fail_msg(err, errlen, "key repository %s: %s", dir,
		    strerror(errno));
	while ((e = readdir(d)) != NULL) {
		if ((id = key_number(e->d_name)) < 0)
			continue;
		if (n == FERNET_MAX_KEYS) {
			closedir(d);
			return fail_msg(err, errlen, "key repository %s: more "
			    "than %d keys", dir, FERNET_MAX_KEYS);
		}
		ids[n++] = id;
	}
	closedir(d);
	qsort(ids, (size_t)n, sizeof *ids, cmp_int);
	return n;
}

int fernet_key_decode(const char *s, size_t len,
    unsigned char key[FERNET_KEY_LEN])
{
	if (len != KEY_CHARS && len != KEY_CHARS - 1)
		return -1;
	return b64url_decode(s, len, key, FERNET_KEY_LEN) == FERNET_KEY_LEN ?
	    0 : -1;
}

/* Key file id of dir into key: a regular file that only its owner may
 * read, 44 characters and an optional newline. */
static int read_key(const char *dir, int id, unsigned char *key, char *err,
    size_t errlen)
{
	char path[PATH_MAX], text[KEY_CHARS + 2];
	struct stat st;
	ssize_t n;
	int fd;

	if (str_fmt(path, sizeof path, "%s/%d", dir, id) < 0)
		return fail_msg(err, errlen, "%s/%d: path too long", dir, id);
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    fstat(fd, &st) < 0) {
		fail_msg(err, errlen, "key file %s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		fail_msg(err, errlen, "key file %s: not a regular file", path);
		goto fail;
	}
	if ((st.st_mode & 077) != 0) {
		fail_msg(err, errlen, "key file %s: open to group or others "
		    "(mode %04o); it must be 0600", path, st.st_mode & 07777);
		goto fail;
	}
	n = read(fd, text, sizeof text);
	if (n == KEY_CHARS + 1 && text[KEY_CHARS] == '\n')
		n--;
	if (n != KEY_CHARS || fernet_key_decode(text, KEY_CHARS, key) < 0) {
		fail_msg(err, errlen, "key file %s: not a Fernet key (44 "
		    "characters of url-safe base64)", path);
		goto fail;
	}
	explicit_bzero(text, sizeof text);
	close(fd);
	return 0;
fail:
	explicit_bzero(text, sizeof text);
	if (fd >= 0)
		close(fd);
	return -1;
}

static int check_dir(const char *dir, char *err, size_t errlen)
{
	struct stat st;

	if (stat(dir, &st) < 0)
		return fail_msg(err, errlen, "key repository %s: %s", dir,
		    strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return fail_msg(err, errlen, "key repository %s: not a "
		    "directory", dir);
	if ((st.st_mode & 077) != 0)
		return fail_msg(err, errlen, "key repository %s: open to group "
		    "or others (mode %04o); it must be 0700", dir,
		    st.st_mode & 07777);
	return 0;
}

int fernet_load(const char *dir, struct fernet_keys *k, char *err,
    size_t errlen)
{
	int ids[FERNET_MAX_KEYS], n;

	memset(k, 0, sizeof *k);
	if (check_dir(dir, err, errlen) < 0 ||
	    (n = fernet_list(dir, ids, err, errlen)) < 0)
		return -1;
	if (n == 0)
		return fail_msg(err, errlen, "key repository %s: no keys; run "
		    "kumo-manage token_setup", dir);
	/* The primary first, the staged key 0 last. */
	for (int i = n - 1; i >= 0; i--)
		if (read_key(dir, ids[i], k->key[n - 1 - i], err, errlen) < 0) {
			explicit_bzero(k, sizeof *k);
			return -1;
		}
	k->n = n;
	return 0;
}

/* A new random key as file id of dir: a temporary file, then rename. */
static int write_key(const char *dir, int id, char *err, size_t errlen)
{
	unsigned char key[FERNET_KEY_LEN];
	char tmp[PATH_MAX], path[PATH_MAX], text[KEY_CHARS + 1];
	int fd = -1, rc = -1;

	if (str_fmt(path, sizeof path, "%s/%d", dir, id) < 0 ||
	    str_fmt(tmp, sizeof tmp, "%s/.%d.XXXXXX", dir, id) < 0)
		return fail_msg(err, errlen, "%s/%d: path too long", dir, id);
	if (crypto_random(key, sizeof key) < 0 ||
	    b64url_encode(key, sizeof key, true, text, sizeof text) !=
	    KEY_CHARS) {
		fail_msg(err, errlen, "cannot make a key");
		goto fail;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		fail_msg(err, errlen, "cannot create a file in %s: %s", dir,
		    strerror(errno));
		goto fail;
	}
	if (fchmod(fd, 0600) < 0 || write(fd, text, KEY_CHARS) != KEY_CHARS ||
	    fsync(fd) < 0 || rename(tmp, path) < 0) {
		fail_msg(err, errlen, "cannot write key file %s: %s", path,
		    strerror(errno));
		unlink(tmp);
		goto fail;
	}
	rc = 0;
fail:
	if (fd >= 0 && close(fd) < 0 && rc == 0)
		rc = fail_msg(err, errlen, "cannot write key file %s: %s", path,
		    strerror(errno));
	explicit_bzero(key, sizeof key);
	explicit_bzero(text, sizeof text);
	return rc;
}

/* The renames and removals reach the disk. */
static int sync_dir(const char *dir, char *err, size_t errlen)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (fd < 0)
		return fail_msg(err, errlen, "key repository %s: %s", dir,
		    strerror(errno));
	rc = fsync(fd);
	close(fd);
	return rc < 0 ? fail_msg(err, errlen, "key repository %s: fsync: %s",
	    dir, strerror(errno)) : 0;
}

int fernet_setup(const char *dir, char *err, size_t errlen)
{
	int ids[FERNET_MAX_KEYS], n;
	struct stat st;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return fail_msg(err, errlen, "cannot create key repository %s: "
		    "%s", dir, strerror(errno));
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return fail_msg(err, errlen, "key repository %s: not a "
		    "directory", dir);
	if ((n = fernet_list(dir, ids, err, errlen)) != 0)
		return n < 0 ? -1 : 0;
	/* Ours to fill: its mode whatever the umask or its creator. */
	if (chmod(dir, 0700) < 0)
		return fail_msg(err, errlen, "key repository %s: chmod: %s", dir,
		    strerror(errno));
	if (write_key(dir, 0, err, errlen) < 0 ||
	    write_key(dir, 1, err, errlen) < 0)
		return -1;
	return sync_dir(dir, err, errlen);
}

int fernet_rotate(const char *dir, int max_active, char *err, size_t errlen)
{
	char from[PATH_MAX], to[PATH_MAX];
	unsigned char key[FERNET_KEY_LEN];
	int ids[FERNET_MAX_KEYS], n, next;

	if (max_active < 2 || max_active > FERNET_MAX_KEYS)
		return fail_msg(err, errlen, "max_active_keys %d: must be 2-%d",
		    max_active, FERNET_MAX_KEYS);
	if ((n = fernet_list(dir, ids, err, errlen)) < 0)
		return -1;
	if (n == 0 || ids[0] != 0)
		return fail_msg(err, errlen, "key repository %s: no staged key "
		    "0; run kumo-manage token_setup", dir);
	if (n == FERNET_MAX_KEYS)
		return fail_msg(err, errlen, "key repository %s: already %d "
		    "keys", dir, n);
	/* The staged key must be sound before it becomes the primary. */
	if (read_key(dir, 0, key, err, errlen) < 0)
		return -1;
	explicit_bzero(key, sizeof key);
	next = ids[n - 1] + 1;
	if (str_fmt(from, sizeof from, "%s/0", dir) < 0 ||
	    str_fmt(to, sizeof to, "%s/%d", dir, next) < 0)
		return fail_msg(err, errlen, "%s: path too long", dir);
	if (rename(from, to) < 0)
		return fail_msg(err, errlen, "cannot rename %s to %s: %s", from,
		    to, strerror(errno));
	if (write_key(dir, 0, err, errlen) < 0)
		return -1;
	/* Now n + 1 keys: 0, ids[1..n-1], next. The oldest secondaries go. */
	for (int i = 1; i < n && n + 1 - i >= max_active; i++) {
		if (str_fmt(from, sizeof from, "%s/%d", dir, ids[i]) < 0 ||
		    unlink(from) < 0)
			return fail_msg(err, errlen, "cannot remove key file %s: "
			    "%s", from, strerror(errno));
	}
	return sync_dir(dir, err, errlen);
}
