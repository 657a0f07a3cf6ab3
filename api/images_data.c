/*
 * Image data (Glance v2): PUT /v2/images/{id}/file streams the body into
 * the image store ([glance] image_store_path, state_path/images by
 * default) through a temporary file and a rename, hashing it (md5
 * checksum, sha256 os_hash_value) on the way; the image goes queued ->
 * saving -> active. The body is never held in memory: this is a route
 * with a stream (api.h). Its bounds, checked on the declared length at
 * the start and on the bytes received while it streams (a chunked body
 * declares none): [glance] image_size_cap, the owner's image_size_total
 * and image_count_uploading, and image_store_reserve_mb of free space
 * kept on the store's filesystem (the database may share it), each a 413.
 * An upload that does not complete (refused, the client went away, a
 * write error) leaves the image queued and no file behind. GET streams
 * the file back.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "api/api.h"
#include "common/crypto.h"
#include "db/db.h"

struct upload {
	char id[UUID_STR_LEN];
	char owner[DB_NAME];
	int fd;
	char tmp[512];
	struct hash_ctx sha;   /* live from upload_begin until final or abort */
	struct hash_ctx md5;
	int64_t size;
	int64_t quota_left;    /* bytes the owner may still store, -1 = no bound */
	bool done;             /* in place and recorded */
};

/* The store's directory: [glance] image_store_path, or state_path/images. */
static int store_path(const struct api_req *r, char *buf, size_t len)
{
	const struct kumo_conf *conf = r->api->conf;

	if (conf->glance_store_path[0] != '\0')
		return str_copy(buf, conf->glance_store_path, len);
	return str_fmt(buf, len, "%s/images", conf->state_path);
}

int images_data_path(const struct api_req *r, const char *id, char *buf,
    size_t len)
{
	char dir[512];

	if (store_path(r, dir, sizeof dir) < 0)
		return -1;
	return str_fmt(buf, len, "%s/%s", dir, id);
}

/* The store's directory, created 0750 with its parents when missing. */
static int images_dir(const struct api_req *r, char *buf, size_t len)
{
	if (store_path(r, buf, len) < 0)
		return -1;
	for (char *p = buf + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(buf, 0750) < 0 && errno != EEXIST) {
			log_warn("cannot create %s", buf);
			*p = c;
			return -1;
		}
		*p = c;
		if (c == '\0')
			return 0;
	}
}

/* The owner's image_size_total in bytes, -1 = no bound. */
static int64_t size_total(const struct api_req *r)
{
	int64_t mib = r->api->conf->glance_size_total;

	return mib < 0 ? -1 : mib << 20;
}

/* 413 unless want more bytes fit the store and leave its reserve free
 * (fd: the open temporary file, or -1 to ask about dir). */
static int room_check(struct api_req *r, const char *dir, int fd, int64_t want)
{
	uint64_t reserve = (uint64_t)r->api->conf->glance_store_reserve_mb << 20;
	struct statvfs sv;

	if ((fd >= 0 ? fstatvfs(fd, &sv) : statvfs(dir, &sv)) < 0) {
		log_warn("image store %s", dir);
		return api_error(r, ERR_INTERNAL);
	}
	if ((uint64_t)want + reserve > (uint64_t)sv.f_bavail * sv.f_frsize)
		return api_error(r, ERR_IMAGE_FULL, "not enough free space");
	return 0;
}

/* The bounds of size bytes in all (the declared length at the start, the
 * bytes received so far while streaming). */
static int size_check(struct api_req *r, struct upload *u, int64_t size)
{
	if (size > r->api->conf->glance_size_cap)
		return api_error(r, ERR_IMAGE_TOO_LARGE, "The provided image is "
		    "too large.");
	if (u->quota_left >= 0 && size > u->quota_left)
		return images_over_limit(r, u->owner, "image_size_total",
		    r->api->conf->glance_size_total, (size + (1 << 20) - 1) >> 20);
	return 0;
}

/* What the owner may still store, read at the start (the final record
 * checks it again, in one statement with the insert of the size). */
static int quota_left(struct api_req *r, struct upload *u)
{
	struct db_image_usage use;
	int64_t total = size_total(r);

	u->quota_left = -1;
	if (total < 0)
		return 0;
	if (db_image_usage(r->api->db, u->owner, &use) != DB_OK)
		return api_error(r, ERR_INTERNAL);
	u->quota_left = total > use.bytes ? total - use.bytes : 0;
	return 0;
}

/* The declared length, -1 for a chunked body. */
static int64_t declared_length(struct api_req *r)
{
	const char *cl = api_header_get(r, "Content-Length");
	int64_t n;

	if (cl == NULL || num_parse_i64(cl, 0, INT64_MAX, &n) < 0)
		return -1;
	return n;
}

static bool octet_stream(const char *ct)
{
	static const char want[] = "application/octet-stream";

	return ct != NULL && strncasecmp(ct, want, sizeof want - 1) == 0 &&
	    (ct[sizeof want - 1] == '\0' || ct[sizeof want - 1] == ';');
}

/* Who may upload, and when (Glance: the owner, into a queued image). */
static int upload_allowed(struct api_req *r, const struct db_image *img)
{
	if (!r->is_admin && strcmp(img->owner, r->project_id) != 0)
		return api_error(r, ERR_POLICY, "upload_image");
	if (!octet_stream(api_header_get(r, "Content-Type")))
		return api_error(r, ERR_MEDIA_TYPE);
	if (strcmp(img->status, "queued") != 0)
		return api_error(r, ERR_IMAGE_STATUS, img->status);
	return 0;
}

/* A temporary file beside the final one, then the status saving (only
 * one upload wins the queued -> saving move, within the owner's
 * image_count_uploading). */
static int upload_open(struct api_req *r, struct upload *u, const char *dir)
{
	int64_t most = r->api->conf->glance_count_uploading;
	int rc;

	if (str_fmt(u->tmp, sizeof u->tmp, "%s/.%s.XXXXXX", dir, u->id) < 0 ||
	    (u->fd = mkostemp(u->tmp, O_CLOEXEC)) < 0) {
		log_warn("image %s: cannot create a temporary file in %s", u->id,
		    dir);
		return api_error(r, ERR_INTERNAL);
	}
	rc = db_image_upload_begin(r->api->db, u->id, most);
	if (rc == DB_OK)
		return 0;
	close(u->fd);
	unlink(u->tmp);
	if (rc == DB_NOSPACE)
		return images_over_limit(r, u->owner, "image_count_uploading",
		    most, 1);
	if (rc == DB_CONFLICT)
		return api_error(r, ERR_IMAGE_STATUS, "saving");
	if (rc == DB_NOTFOUND)
		return api_error(r, ERR_IMAGE_NOT_FOUND, u->id);
	return api_error(r, ERR_INTERNAL);
}

static struct upload *upload_new(const struct db_image *img)
{
	struct upload *u = calloc(1, sizeof *u);

	if (u == NULL)
		return NULL;
	u->fd = -1;
	str_copy(u->id, img->id, sizeof u->id);
	str_copy(u->owner, img->owner, sizeof u->owner);
	if (sha256_init(&u->sha) < 0 || md5_init(&u->md5) < 0) {
		hash_abort(&u->sha);
		free(u);
		return NULL;
	}
	return u;
}

static void upload_free(struct upload *u)
{
	hash_abort(&u->sha);
	hash_abort(&u->md5);
	free(u);
}

static int upload_begin(struct api_req *r)
{
	int64_t want = declared_length(r);
	struct db_image img;
	struct upload *u;
	char dir[512];

	if (images_load(r, &img) != 0 || upload_allowed(r, &img) != 0)
		return API_ERROR;
	if (images_dir(r, dir, sizeof dir) < 0)
		return api_error(r, ERR_INTERNAL);
	if ((u = upload_new(&img)) == NULL)
		return api_error(r, ERR_INTERNAL);
	if (quota_left(r, u) != 0 || (want > 0 && size_check(r, u, want) != 0) ||
	    room_check(r, dir, -1, want > 0 ? want : 0) != 0 ||
	    upload_open(r, u, dir) != 0) {
		upload_free(u);
		return API_ERROR;
	}
	r->stream_state = u;
	log_info("image %s: upload begins", u->id);
	return 0;
}

static int upload_data(struct api_req *r, const char *buf, size_t len)
{
	struct upload *u = r->stream_state;
	size_t off = 0;
	ssize_t n;

	if (size_check(r, u, u->size + (int64_t)len) != 0 ||
	    room_check(r, u->tmp, u->fd, (int64_t)len) != 0)
		return API_ERROR;
	while (off < len) {
		if ((n = write(u->fd, buf + off, len - off)) < 0) {
			if (errno == EINTR)
				continue;
			log_warn("image %s: write to %s", u->id, u->tmp);
			if (errno == ENOSPC || errno == EDQUOT)
				return api_error(r, ERR_IMAGE_FULL, strerror(errno));
			return api_error(r, ERR_INTERNAL);
		}
		off += (size_t)n;
	}
	hash_update(&u->sha, buf, len);
	hash_update(&u->md5, buf, len);
	u->size += (int64_t)len;
	return 0;
}

/* Whatever happened: an upload not done leaves no file and a queued image. */
static void upload_end(struct api_req *r)
{
	struct upload *u = r->stream_state;

	r->stream_state = NULL;
	if (u == NULL)
		return;
	if (u->fd >= 0)
		close(u->fd);
	if (!u->done) {
		unlink(u->tmp);
		if (db_image_set_status(r->api->db, u->id, "saving", "queued") ==
		    DB_OK)
			log_warnx("image %s: upload aborted after %lld bytes; "
			    "the image is queued again", u->id, (long long)u->size);
	}
	/* Nothing when images_file_put finished them. */
	upload_free(u);
}

const struct api_stream images_upload_stream = {
	.begin = upload_begin,
	.data = upload_data,
	.end = upload_end,
};

/* The body is complete: sync, rename into place, record. */
enum api_rc images_file_put(struct api_req *r)
{
	struct upload *u = r->stream_state;
	char path[512], sha[65], md5[33];
	int rc;

	if (u == NULL || images_data_path(r, u->id, path, sizeof path) < 0)
		return api_error(r, ERR_INTERNAL);
	if (fsync(u->fd) < 0 || close(u->fd) < 0) {
		u->fd = -1;
		log_warn("image %s: cannot write %s", u->id, u->tmp);
		return api_error(r, ERR_IMAGE_FULL, strerror(errno));
	}
	u->fd = -1;
	if (rename(u->tmp, path) < 0) {
		log_warn("image %s: rename to %s", u->id, path);
		return api_error(r, ERR_INTERNAL);
	}
	hash_final_hex(&u->sha, sha);
	hash_final_hex(&u->md5, md5);
	rc = db_image_set_data(r->api->db, u->id, u->size, md5, sha,
	    size_total(r));
	if (rc != DB_OK) {
		unlink(path);  /* over quota, deleted meanwhile, or the DB failed */
		if (rc == DB_NOSPACE)
			return images_over_limit(r, u->owner, "image_size_total",
			    r->api->conf->glance_size_total,
			    (u->size + (1 << 20) - 1) >> 20);
		return rc == DB_NOTFOUND ? api_error(r, ERR_IMAGE_NOT_FOUND,
		    u->id) : api_error(r, ERR_INTERNAL);
	}
	u->done = true;
	log_info("image %s: %lld bytes stored, sha256 %s", u->id,
	    (long long)u->size, sha);
	return api_reply(r, 204, NULL);
}

/* Glance: 204 when the image has no data yet. */
enum api_rc images_file_get(struct api_req *r)
{
	struct db_image img;
	struct stat st;
	char path[512];
	int fd;

	if (images_load(r, &img) != 0)
		return API_ERROR;
	if (strcmp(img.status, "active") != 0)
		return api_reply(r, 204, NULL);
	if (images_data_path(r, img.id, path, sizeof path) < 0)
		return api_error(r, ERR_INTERNAL);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0) {
		log_warn("image %s: cannot read %s", img.id, path);
		if (fd >= 0)
			close(fd);
		return api_error(r, ERR_IMAGE_NOT_FOUND, img.id);
	}
	r->content_type = "application/octet-stream";
	if (img.checksum[0] != '\0')
		api_header_add(r, "Content-MD5", "%s", img.checksum);
	return api_reply_fd(r, 200, fd, (uint64_t)st.st_size);
}
