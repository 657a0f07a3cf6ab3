/*
 * The config drive's file system: a list of files in memory (made by
 * configdrive.c) becomes an ISO 9660 image the way Nova's genisoimage call
 * makes it (-l -r -J -allow-lowercase -V config-2), written in-process
 * by libisofs (its only user in kumo), or a 64 MiB FAT image labelled
 * config-2, made by mkfs.vfat and filled by mcopy as child processes
 * (fixed argv and environment, no shell, no mount).
 */
#include <stdint.h>                 /* libisofs.h needs it first */
#define LIBISOFS_WITHOUT_LIBBURN 1  /* makes struct burn_source complete */
#include <libisofs/libisofs.h>      /* a system header: its old-style
                                     * prototypes draw no warnings */

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "compute/compute.h"

#define VFAT_BYTES (64 << 20)          /* Nova's CONFIGDRIVESIZE_BYTES */

static int seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- ISO 9660 through libisofs ---- */

static pthread_once_t iso_once = PTHREAD_ONCE_INIT;
static int iso_ready = -1;

static void iso_start(void)
{
	if (iso_init() < 0)
		return;
	/* No message queue (it would grow in a daemon), no stderr chatter
	 * below FAILURE; errors come back as return codes. */
	iso_set_msgs_severities("NEVER", "FAILURE", "libisofs");
	iso_ready = 0;
}

/* The directory of path's parent in image, created as needed; *name is
 * path's last component. */
static int iso_parent(IsoImage *img, char *path, IsoDir **dir, char **name)
{
	char *save = NULL, *tok = strtok_r(path, "/", &save), *next;
	IsoNode *node;
	int rc;

	*dir = iso_image_get_root(img);
	for (; tok && (next = strtok_r(NULL, "/", &save)); tok = next) {
		rc = iso_dir_get_node(*dir, tok, &node);
		if (rc == 1 && iso_node_get_type(node) == LIBISO_DIR)
			*dir = (IsoDir *)node;
		else if (rc == 1 || (rc = iso_image_add_new_dir(img, *dir, tok,
		    dir)) < 0)
			return rc < 0 ? rc : (int)ISO_NODE_NAME_NOT_UNIQUE;
	}
	*name = tok;
	return tok ? 0 : (int)ISO_WRONG_ARG_VALUE;
}

/* Adds f, whose data the image's stream takes over. */
static int iso_add(IsoImage *img, struct configdrive_file *f)
{
	char path[sizeof f->path], *name;
	IsoStream *st;
	IsoFile *file;
	IsoDir *dir;
	int rc;

	memcpy(path, f->path, sizeof path);
	if ((rc = iso_parent(img, path, &dir, &name)) < 0)
		return rc;
	if ((rc = iso_memory_stream_new(f->data, f->len, &st)) < 0)
		return rc;
	f->data = NULL;         /* the stream frees it */
	/* A successful add takes over the stream's reference. */
	if ((rc = iso_image_add_new_file(img, dir, name, st, &file)) < 0)
		iso_stream_unref(st);
	return rc < 0 ? rc : 0;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Options equivalent to Nova's genisoimage -l -r -J -allow-lowercase
 * -V config-2. */
static int iso_opts(IsoWriteOpts **o)
{
	int rc;

	if ((rc = iso_write_opts_new(o, 0)) < 0)
		return rc;
	iso_write_opts_set_iso_level(*o, 2);
	iso_write_opts_set_rockridge(*o, 1);
	iso_write_opts_set_joliet(*o, 1);
	iso_write_opts_set_allow_lowercase(*o, 1);
	iso_write_opts_set_allow_deep_paths(*o, 1);
	/* "config-2" as is in the primary volume descriptor, not CONFIG_2. */
	iso_write_opts_set_relaxed_vol_atts(*o, 1);
	/* Owner root, files 0444, directories 0555 (genisoimage -r). */
	iso_write_opts_set_replace_mode(*o, 1, 1, 1, 1);
	return 0;
}

/* Copies the image from libisofs' writer thread into fd. read_xt must be
 * asked for single 2048-byte blocks: a larger request that meets the end
 * of the image returns 0 and drops the partial tail. */
static int iso_copy(struct burn_source *bs, int fd, char *err, size_t errlen)
{
	enum { BLOCK = 2048, CAP = 32 * BLOCK };
	unsigned char *buf = malloc(CAP);
	size_t have = 0;
	int n, rc = 0;

	if (!buf)
		return seterr(err, errlen, "out of memory");
	do {
		if ((n = bs->read_xt(bs, buf + have, BLOCK)) > 0)
			have += (size_t)n;
		if (have > 0 && (n <= 0 || have + BLOCK > CAP)) {
			if (write_all(fd, buf, have) < 0) {
				rc = seterr(err, errlen, "write: %s",
				    strerror(errno));
				break;
			}
			have = 0;
		}
	} while (n > 0);
	if (rc == 0 && n < 0)
		rc = seterr(err, errlen, "libisofs: the image writer failed");
	free(buf);
	return rc;
}

/* Runs libisofs' writer thread for img and copies its output into fd. */
static int iso_stream_out(IsoImage *img, int fd, char *err, size_t errlen)
{
	struct burn_source *bs;
	IsoWriteOpts *o;
	int rc;

	if ((rc = iso_opts(&o)) < 0)
		return seterr(err, errlen, "libisofs: %s", iso_error_to_msg(rc));
	rc = iso_image_create_burn_source(img, o, &bs);
	iso_write_opts_free(o);
	if (rc < 0)
		return seterr(err, errlen, "libisofs: %s", iso_error_to_msg(rc));
	rc = iso_copy(bs, fd, err, errlen);
	if (rc < 0 && bs->cancel)
		bs->cancel(bs);
	bs->free_data(bs);
	free(bs);
	return rc;
}

static int open_out(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0644);

	if (fd < 0)
		return seterr(err, errlen, "%s: %s", path, strerror(errno));
	if (fchmod(fd, 0644) < 0) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int configdrive_iso_write(struct configdrive_file *f, size_t n,
    const char *out, char *err, size_t errlen)
{
	IsoImage *img = NULL;
	int rc = 0, fd = -1;

	pthread_once(&iso_once, iso_start);
	if (iso_ready < 0)
		return seterr(err, errlen, "libisofs: iso_init failed");
	if ((rc = iso_image_new("config-2", &img)) < 0)
		img = NULL;
	for (size_t i = 0; rc >= 0 && i < n; i++)
		rc = iso_add(img, &f[i]);
	if (rc < 0) {
		seterr(err, errlen, "libisofs: %s", iso_error_to_msg(rc));
		goto fail;
	}
	iso_image_set_publisher_id(img, "kumo");
	if ((fd = open_out(out, err, errlen)) < 0 ||
	    iso_stream_out(img, fd, err, errlen) < 0)
		goto fail;
	rc = fdatasync(fd);
	if (close(fd) < 0)
		rc = -1;
	fd = -1;
	if (rc < 0) {
		seterr(err, errlen, "%s: %s", out, strerror(errno));
		goto fail;
	}
	iso_image_unref(img);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	if (img)
		iso_image_unref(img);
	return -1;
}

/* ---- vfat: mkfs.vfat and mcopy, as child processes ---- */

/* The absolute path of a tool from dosfstools or mtools. */
static int tool_path(const char *name, char *out, size_t len)
{
	static const char *const dirs[] = {
		"/usr/sbin", "/usr/bin", "/sbin", "/bin",
	};

	for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++)
		if (str_fmt(out, len, "%s/%s", dirs[i], name) == 0 &&
		    access(out, X_OK) == 0)
			return 0;
	return -1;
}

/* Runs argv (argv[0] a bare tool name) with a fixed environment, no shell,
 * its output to /dev/null; 0 when it exits 0. */
static int run(const char *const *argv, char *err, size_t errlen)
{
	static char *const envp[] = {
		"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C",
		"MTOOLS_SKIP_CHECK=1", NULL,
	};
	posix_spawn_file_actions_t fa;
	char exe[64];
	pid_t pid;
	int rc, status = -1;

	if (tool_path(argv[0], exe, sizeof exe) < 0)
		return seterr(err, errlen, "%s not found (dosfstools, mtools)",
		    argv[0]);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	rc = posix_spawn(&pid, exe, &fa, NULL, (char *const *)argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		return seterr(err, errlen, "%s: %s", exe, strerror(rc));
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	return seterr(err, errlen, "%s failed (status %d)", argv[0], status);
}

/* Writes the tree's files under dir (0700, made by mkdtemp). */
static int files_to_dir(const struct configdrive_file *f, size_t n,
    const char *dir, char *err, size_t errlen)
{
	char p[PATH_MAX];
	int fd;

	for (size_t i = 0; i < n; i++) {
		if (str_fmt(p, sizeof p, "%s/%s", dir, f[i].path) < 0)
			return seterr(err, errlen, "path too long");
		for (char *s = p + strlen(dir) + 1; (s = strchr(s, '/')); s++) {
			*s = '\0';
			if (mkdir(p, 0755) < 0 && errno != EEXIST)
				return seterr(err, errlen, "%s: %s", p,
				    strerror(errno));
			*s = '/';
		}
		fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0 || write_all(fd, f[i].data, f[i].len) < 0 ||
		    close(fd) < 0) {
			seterr(err, errlen, "%s: %s", p, strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
	}
	return 0;
}

static int rm_entry(const char *p, const struct stat *st, int type,
    struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(p) < 0 ? -1 : 0;
}

/* A 64 MiB FAT file labelled config-2 with the tree copied in by mcopy
 * from a private directory beside out (Nova mounts; kumo needs no root). */
int configdrive_vfat_write(struct configdrive_file *f, size_t n,
    const char *out, char *err, size_t errlen)
{
	char dir[PATH_MAX], os[PATH_MAX + 16], ec2[PATH_MAX + 16];
	bool made = false;
	int fd, rc = -1;

	if (str_fmt(dir, sizeof dir, "%s.d.XXXXXX", out) < 0)
		return seterr(err, errlen, "path too long");
	if (!mkdtemp(dir))
		return seterr(err, errlen, "%s: %s", dir, strerror(errno));
	made = true;
	if (str_fmt(os, sizeof os, "%s/openstack", dir) < 0 ||
	    str_fmt(ec2, sizeof ec2, "%s/ec2", dir) < 0) {
		seterr(err, errlen, "path too long");
		goto fail;
	}
	if (files_to_dir(f, n, dir, err, errlen) < 0 ||
	    (fd = open_out(out, err, errlen)) < 0)
		goto fail;
	rc = ftruncate(fd, VFAT_BYTES);
	if (close(fd) < 0)
		rc = -1;
	if (rc < 0) {
		seterr(err, errlen, "%s: %s", out, strerror(errno));
		goto fail;
	}
	rc = -1;
	if (run((const char *const[]){ "mkfs.vfat", "-n", "config-2", out,
	    NULL }, err, errlen) < 0 ||
	    run((const char *const[]){ "mcopy", "-s", "-i", out, os, ec2, "::/",
	    NULL }, err, errlen) < 0)
		goto fail;
	rc = 0;
fail:
	if (made)
		nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	return rc;
}

