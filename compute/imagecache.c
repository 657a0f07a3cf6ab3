/*
 * The compute's image cache: image data downloaded from kumo-api
 * (GET <[glance] api_servers>/v2/images/<id>/file, X-Auth-Token the
 * service user's token, or [glance] auth_token: service_token.c) into
 * <state_path>/_base/<sha256> through a temporary file and a rename, once
 * per image per host: concurrent builds of one image wait on its lock
 * (c->image_locks) for the one download, and later builds reuse the file
 * (two images of the same data may both download it: each renames a
 * checked copy over the same name, atomically).
 * The size and the sha256 the controller recorded are checked while
 * downloading; a mismatch leaves nothing behind and fails the build. As
 * the file is named by that sha256 and only a download that matched it is
 * renamed there, a file of other data (an earlier image of the same id, or
 * one put there by anyone) is never taken for the image.
 * An image without data (queued) is skipped: the fake driver boots
 * metadata-only images.
 * The service token may read every image: which images a build fetches is
 * the conductor's choice, made after checking that the build's project may
 * read each of them (scheduler/build.c), never the compute's own.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/crypto.h"
#include "compute/compute.h"

struct download {
	FILE *f;
	const struct compute_image_file *want;
	struct hash_ctx sha;
	int64_t got;
	bool too_big;
};

static size_t on_data(char *buf, size_t size, size_t n, void *arg)
{
	struct download *d = arg;
	size_t len = size * n;

	if (d->got + (int64_t)len > d->want->size) {
		d->too_big = true;
		return 0;
	}
	if (fwrite(buf, 1, len, d->f) != len)
		return 0;
	hash_update(&d->sha, buf, len);
	d->got += (int64_t)len;
	return len;
}

/*
 * _base's mode. qemu, another user (libvirt-qemu), opens the files in it
 * as backing files, kernels and initrds, and libvirt's DAC driver chowns
 * a backing file to that user for good: the files stay 0644, for this
 * process to read them after that, and the directory keeps other users
 * out. It is 0750 when its group is not this process's own (install-post
 * and the all-in-one give it qemu's group), else 0751: qemu then has
 * only traversal, as every user has.
 */
static mode_t base_mode(const char *dir)
{
	struct stat st;

	if (stat(dir, &st) == 0 && st.st_gid != getegid())
		return 0750;
	return 0751;
}

/* <state_path>/_base (created with its parents) into dir; the parents
 * are 0751, _base as base_mode says. */
static int base_dir(const struct compute *c, char *dir, size_t len)
{
	bool made = false;

	if (str_fmt(dir, len, "%s/_base", c->conf->state_path) < 0)
		return -1;
	for (char *p = dir + 1; ; p++) {
		char ch = *p;

		if (ch != '/' && ch != '\0')
			continue;
		*p = '\0';
		if (mkdir(dir, 0751) == 0)
			made = true;
		else if (errno != EEXIST) {
			log_warn("cannot create %s", dir);
			*p = ch;
			return -1;
		}
		/* Whatever the umask (kumo-compute.service: 0027). */
		if ((made || ch == '\0') &&
		    chmod(dir, ch == '\0' ? base_mode(dir) : 0751) < 0) {
			log_warn("cannot chmod %s", dir);
			*p = ch;
			return -1;
		}
		*p = ch;
		if (ch == '\0')
			return 0;
	}
}

/* GETs the image into d->f, sending token: the HTTP status (an error
 * status leaves d untouched), or -1 with a reason. */
static long get_file(struct compute *c, struct download *d, const char *token,
    char *reason, size_t rlen)
{
	const struct http_lib *cu = http_lib();
	char url[1024], auth[COMPUTE_TOKEN_MAX + 32];
	struct curl_slist *hdrs = NULL;
	long status = 0;
	CURLcode rc;
	CURL *h = NULL;

	if (cu == NULL) {
		snprintf(reason, rlen, "image %s: libcurl cannot be loaded",
		    d->want->id);
		return -1;
	}
	if (str_fmt(url, sizeof url, "%s/v2/images/%s/file",
	    c->conf->glance_api_servers, d->want->id) < 0 ||
	    str_fmt(auth, sizeof auth, "X-Auth-Token: %s", token) < 0 ||
	    (hdrs = cu->slist_append(NULL, auth)) == NULL ||
	    (h = http_new(url, hdrs)) == NULL) {
		if (hdrs != NULL)
			cu->slist_free_all(hdrs);
		explicit_bzero(auth, sizeof auth);
		snprintf(reason, rlen, "image %s: cannot set up the download",
		    d->want->id);
		return -1;
	}
	cu->easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	cu->easy_setopt(h, CURLOPT_WRITEDATA, d);
	cu->easy_setopt(h, CURLOPT_FAILONERROR, 1L);  /* no error body in d */
	rc = cu->easy_perform(h);
	cu->easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	cu->easy_cleanup(h);
	cu->slist_free_all(hdrs);
	explicit_bzero(auth, sizeof auth);
	if (d->too_big) {
		snprintf(reason, rlen, "image %s: more data than its size %lld",
		    d->want->id, (long long)d->want->size);
		return -1;
	}
	if (rc != CURLE_OK && rc != CURLE_HTTP_RETURNED_ERROR) {
		snprintf(reason, rlen, "image %s: download from %s failed: %s",
		    d->want->id, c->conf->glance_api_servers,
		    cu->easy_strerror(rc));
		return -1;
	}
	return status;
}

/* GETs the image into d->f: 0, or -1 with a reason. A service token
 * refused (401: expired early, revoked) is renewed once, and the download
 * tried once more. */
static int fetch(struct compute *c, struct download *d, char *reason,
    size_t rlen)
{
	char token[COMPUTE_TOKEN_MAX], why[512];
	long status = -1;

	if (compute_service_token(c, NULL, token, sizeof token, why,
	    sizeof why) < 0)
		goto fail;
	status = get_file(c, d, token, reason, rlen);
	if (status == 401 && c->conf->service_auth_url[0] != '\0' &&
	    d->got == 0) {
		log_info("image %s: the service token was refused, logging in "
		    "again", d->want->id);
		if (compute_service_token(c, token, token, sizeof token, why,
		    sizeof why) < 0)
			goto fail;
		status = get_file(c, d, token, reason, rlen);
	}
	explicit_bzero(token, sizeof token);
	if (status > 0 && status != 200)
		snprintf(reason, rlen, "image %s: download from %s answered %ld",
		    d->want->id, c->conf->glance_api_servers, status);
	return status == 200 ? 0 : -1;
fail:
	explicit_bzero(token, sizeof token);
	snprintf(reason, rlen, "image %s: %s", d->want->id, why);
	return -1;
}

/* The data as the controller recorded it: size, then sha256. */
static int verify(struct download *d, char *reason, size_t rlen)
{
	char hex[65];

	if (d->got != d->want->size) {
		snprintf(reason, rlen, "image %s: got %lld bytes, expected %lld",
		    d->want->id, (long long)d->got, (long long)d->want->size);
		return -1;
	}
	hash_final_hex(&d->sha, hex);
	if (strcmp(hex, d->want->sha256) != 0) {
		snprintf(reason, rlen, "image %s: checksum mismatch: sha256 %s, "
		    "expected %s", d->want->id, hex, d->want->sha256);
		return -1;
	}
	return 0;
}

/* Downloads f into path via a temporary file: 0, or -1 (nothing left). */
static int download(struct compute *c, const struct compute_image_file *f,
    const char *dir, const char *path, char *reason, size_t rlen)
{
	struct download d = { .want = f };
	char tmp[PATH_MAX];
	int fd, rc;

	if (sha256_init(&d.sha) < 0) {
		snprintf(reason, rlen, "image %s: cannot start its checksum", f->id);
		return -1;
	}
	if (str_fmt(tmp, sizeof tmp, "%s/.%s.XXXXXX", dir, f->sha256) < 0 ||
	    (fd = mkostemp(tmp, O_CLOEXEC)) < 0 || fchmod(fd, 0644) < 0 ||
	    (d.f = fdopen(fd, "w")) == NULL) {
		snprintf(reason, rlen, "image %s: cannot write into %s: %s", f->id,
		    dir, strerror(errno));
		hash_abort(&d.sha);
		return -1;
	}
	rc = fetch(c, &d, reason, rlen);
	if (rc == 0)
		rc = verify(&d, reason, rlen);
	if (fflush(d.f) != 0 || fsync(fileno(d.f)) < 0) {
		if (rc == 0)
			snprintf(reason, rlen, "image %s: cannot write: %s", f->id,
			    strerror(errno));
		rc = -1;
	}
	fclose(d.f);
	hash_abort(&d.sha);  /* a download that failed never reached final */
	if (rc == 0 && rename(tmp, path) < 0) {
		snprintf(reason, rlen, "image %s: cannot rename into the cache: %s",
		    f->id, strerror(errno));
		rc = -1;
	}
	if (rc < 0)
		unlink(tmp);
	return rc;
}

/* The cached file of f (downloaded first when missing) into path; "" for
 * a file without data. */
static int cache_file(struct compute *c, const struct compute_image_file *f,
    char *path, size_t len, char *reason, size_t rlen)
{
	char dir[PATH_MAX];
	struct stat st;
	int rc = 0;

	path[0] = '\0';
	if (!f->has_data)
		return 0;
	if (base_dir(c, dir, sizeof dir) < 0 ||
	    str_fmt(path, len, "%s/%s", dir, f->sha256) < 0) {
		snprintf(reason, rlen, "image %s: no cache directory", f->id);
		return -1;
	}
	if (compute_lock(&c->image_locks, f->id) < 0) {
		snprintf(reason, rlen, "out of memory");
		return -1;
	}
	if (stat(path, &st) == 0 && st.st_size == f->size) {
		log_debug("image %s: in the cache", f->id);
	} else if ((rc = download(c, f, dir, path, reason, rlen)) == 0) {
		log_info("image %s: %lld bytes downloaded into the cache", f->id,
		    (long long)f->size);
	}
	compute_unlock(&c->image_locks, f->id);
	if (rc < 0)
		path[0] = '\0';
	return rc;
}

int compute_image_prepare(struct compute *c, const struct compute_image *img,
    struct virt_instance *inst, char *reason, size_t reasonlen)
{
	if (cache_file(c, &img->disk, inst->disk_path, sizeof inst->disk_path,
	    reason, reasonlen) < 0 ||
	    cache_file(c, &img->kernel, inst->kernel_path,
	    sizeof inst->kernel_path, reason, reasonlen) < 0 ||
	    cache_file(c, &img->ramdisk, inst->ramdisk_path,
	    sizeof inst->ramdisk_path, reason, reasonlen) < 0)
		return -1;
	str_copy(inst->disk_format, img->disk_format, sizeof inst->disk_format);
	str_copy(inst->cmdline, img->cmdline, sizeof inst->cmdline);
	return 0;
}
