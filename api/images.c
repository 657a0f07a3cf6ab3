/*
 * Images: Glance v2's metadata calls on the compute port (POST, GET list,
 * GET one, DELETE /v2/images) with Glance's shapes and Nova-style error
 * bodies, and Nova's deprecated image proxy (/v2.1/images, 404 from 2.36
 * on as in Nova). An image is created "queued"; its data comes with PUT
 * /v2/images/{id}/file (images_data.c), and a server may boot from a
 * queued image too (see servers_create.c), on the fake driver.
 * Extra top-level keys (kernel_id, ramdisk_id, os_command_line, ...) are
 * string properties, stored as one JSON object and shown at the top level.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "db/db.h"

static const char *const image_readonly[] = {
	"status", "checksum", "size", "virtual_size", "created_at", "updated_at",
	"self", "file", "schema", "os_hash_algo", "os_hash_value", "direct_url",
	"locations", "owner", NULL,
};
static const char *const image_known[] = {
	"id", "name", "disk_format", "container_format", "visibility",
	"min_disk", "min_ram", "protected", "tags", "os_hidden", NULL,
};

static bool in_list(const char *s, const char *const *list)
{
	for (size_t i = 0; list[i] != NULL; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

static bool image_visible(const struct api_req *r, const struct db_image *img)
{
	return db_image_readable(img, r->project_id, r->is_admin);
}

/* An enumerated string field (NULL/absent keeps the default). */
static int image_enum(struct api_req *r, const json_t *body, const char *key,
    const char *const *allowed, char *out, size_t len)
{
	const json_t *v = json_object_get(body, key);
	char repr[300], msg[600];

	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_string(v) && in_list(json_string_value(v), allowed)) {
		str_copy(out, json_string_value(v), len);
		return 0;
	}
	api_pyrepr(v, repr, sizeof repr);
	snprintf(msg, sizeof msg, "Invalid value %s for %s: must be one of", repr, key);
	for (size_t i = 0; allowed[i] != NULL; i++)
		snprintf(msg + strlen(msg), sizeof msg - strlen(msg), "%s '%s'",
		    i ? "," : "", allowed[i]);
	return api_error(r, ERR_BAD_REQUEST, msg);
}

/* Unknown keys: string properties, or read-only attributes (403). */
static int image_properties(struct api_req *r, const json_t *body,
    struct db_image *img)
{
	json_t *props = json_object(), *v;
	const char *key;
	char *text;
	int rc = 0;

	json_object_foreach((json_t *)body, key, v) {
		if (in_list(key, image_known))
			continue;
		if (in_list(key, image_readonly)) {
			rc = api_error(r, ERR_IMAGE_READONLY, key);
			break;
		}
		if (!json_is_string(v) || strlen(key) > 255 || json_string_length(v) > 255) {
			rc = api_invalid(r, key, v, "property values are strings of "
			    "at most 255 characters");
			break;
		}
		json_object_set(props, key, v);
	}
	text = rc == 0 ? json_dumps(props, JSON_COMPACT) : NULL;
	if (rc == 0 && (text == NULL || str_copy(img->properties, text,
	    sizeof img->properties) < 0))
		rc = api_error(r, ERR_BAD_REQUEST, "Image properties are too large.");
	free(text);
	json_decref(props);
	return rc;
}

int images_validate_create(struct api_req *r, const json_t *body,
    struct db_image *img)
{
	static const char *const disk[] = { "raw", "qcow2", NULL };
	static const char *const cont[] = { "bare", NULL };
	static const char *const vis[] = { "public", "private", "shared",
		"community", NULL };
	const json_t *v;
	int64_t n;

	if ((v = json_object_get(body, "id")) && !json_is_null(v)) {
		if (!json_is_string(v) || !uuid_valid(json_string_value(v)))
			return api_invalid(r, "id", v, "not a valid uuid");
		str_copy(img->id, json_string_value(v), sizeof img->id);
	}
	if ((v = json_object_get(body, "name")) && !json_is_null(v)) {
		if (v_string(r, "name", v, 0, 255, img->name, sizeof img->name))
			return API_ERROR;
		/* shown in other users' lists: nothing that moves or hides text */
		if (!utf8_printable(img->name))
			return api_invalid(r, "name", v, "a name holds no control, "
			    "format or separator characters but the space");
	}
	if (image_enum(r, body, "disk_format", disk, img->disk_format, sizeof img->disk_format) ||
	    image_enum(r, body, "container_format", cont, img->container_format,
	    sizeof img->container_format) ||
	    image_enum(r, body, "visibility", vis, img->visibility, sizeof img->visibility))
		return API_ERROR;
	if ((v = json_object_get(body, "min_disk"))) {
		if (v_int_param(r, "min_disk", v, 0, 2147483647, &n))
			return API_ERROR;
		img->min_disk = (int)n;
	}
	if ((v = json_object_get(body, "min_ram"))) {
		if (v_int_param(r, "min_ram", v, 0, 2147483647, &n))
			return API_ERROR;
		img->min_ram = (int)n;
	}
	if ((v = json_object_get(body, "protected")) && !json_is_boolean(v))
		return api_invalid(r, "protected", v, "not of type 'boolean'");
	img->protected_ = v != NULL && json_is_true(v);
	if ((v = json_object_get(body, "tags")) && !json_is_array(v))
		return api_invalid(r, "tags", v, "not of type 'array'");
	return image_properties(r, body, img);
}

static json_t *glance_view(const struct db_image *img)
{
	json_t *v = json_object(), *props;
	char path[64];

	json_object_set_new(v, "name", view_str_or_null(img->name));
	json_object_set_new(v, "disk_format", view_str_or_null(img->disk_format));
	json_object_set_new(v, "container_format", view_str_or_null(img->container_format));
	json_object_set_new(v, "visibility", view_str(img->visibility));
	json_object_set_new(v, "size", img->size < 0 ? json_null() : json_integer(img->size));
	json_object_set_new(v, "virtual_size", json_null());
	json_object_set_new(v, "status", view_str(img->status));
	json_object_set_new(v, "checksum", view_str_or_null(img->checksum));
	json_object_set_new(v, "protected", json_boolean(img->protected_));
	json_object_set_new(v, "min_ram", json_integer(img->min_ram));
	json_object_set_new(v, "min_disk", json_integer(img->min_disk));
	json_object_set_new(v, "owner", view_str_or_null(img->owner));
	json_object_set_new(v, "os_hidden", json_false());
	json_object_set_new(v, "os_hash_algo", view_str_or_null(img->os_hash_algo));
	json_object_set_new(v, "os_hash_value", view_str_or_null(img->os_hash_value));
	json_object_set_new(v, "id", json_string(img->id));
	json_object_set_new(v, "created_at", view_str(img->created_at));
	json_object_set_new(v, "updated_at", view_str(img->updated_at));
	json_object_set_new(v, "tags", json_array());
	snprintf(path, sizeof path, "/v2/images/%s", img->id);
	json_object_set_new(v, "self", json_string(path));
	snprintf(path, sizeof path, "/v2/images/%s/file", img->id);
	json_object_set_new(v, "file", json_string(path));
	json_object_set_new(v, "schema", json_string("/v2/schemas/image"));
	props = json_loads(img->properties, 0, NULL);
	if (json_is_object(props))
		json_object_update_missing(v, props);
	json_decref(props);
	return v;
}

enum api_rc images_create(struct api_req *r)
{
	struct db_image img;
	int rc;

	memset(&img, 0, sizeof img);
	str_copy(img.status, "queued", sizeof img.status);
	str_copy(img.visibility, "shared", sizeof img.visibility);
	img.size = -1;
	str_copy(img.owner, r->project_id, sizeof img.owner);
	str_copy(img.properties, "{}", sizeof img.properties);
	if (images_validate_create(r, r->json_in, &img) != 0)
		return API_ERROR;
	/* Glance's default: only admins publish to every project */
	if (strcmp(img.visibility, "public") == 0 &&
	    api_policy_check(r, "publicize_image") != 0)
		return API_ERROR;
	if (img.id[0] == '\0')
		uuid_new_str(img.id);
	rc = db_image_create_within(r->api->db, &img,
	    r->api->conf->glance_count_total);
	if (rc == DB_CONFLICT)
		return api_error(r, ERR_IMAGE_EXISTS, img.id);
	if (rc == DB_NOSPACE)
		return images_over_limit(r, img.owner, "image_count_total",
		    r->api->conf->glance_count_total, 1);
	if (rc != DB_OK || db_image_get(r->api->db, img.id, &img) != DB_OK)
		return api_error(r, ERR_INTERNAL);
	log_info("image %s (%s) created", img.id, img.name);
	api_header_add(r, "Location", "%s/v2/images/%s", r->base_url, img.id);
	return api_reply(r, 201, glance_view(&img));
}

/* oslo.limit's ProjectOverLimit, as Glance answers it (413): the usage
 * is read again for the message. */
int images_over_limit(struct api_req *r, const char *owner,
    const char *resource, int64_t limit, int64_t delta)
{
	struct db_image_usage u;
	char msg[700];
	int64_t used;

	if (db_image_usage(r->api->db, owner, &u) != DB_OK)
		memset(&u, 0, sizeof u);
	used = strcmp(resource, "image_count_total") == 0 ? u.count :
	    strcmp(resource, "image_count_uploading") == 0 ? u.uploading :
	    (u.bytes + (1 << 20) - 1) >> 20;
	snprintf(msg, sizeof msg, "Project %.255s is over a limit for [Resource "
	    "%s is over limit of %lld due to current usage %lld and delta %lld]",
	    owner, resource, (long long)limit, (long long)used, (long long)delta);
	log_warnx("%s", msg);
	return api_error(r, ERR_IMAGE_QUOTA, msg);
}

int images_load(struct api_req *r, struct db_image *img)
{
	int rc = db_image_get(r->api->db, r->id, img);

	if (rc == DB_OK && !image_visible(r, img))
		rc = DB_NOTFOUND;
	if (rc == DB_NOTFOUND)
		return api_error(r, ERR_IMAGE_NOT_FOUND, r->id);
	if (rc != DB_OK)
		return api_error(r, ERR_INTERNAL);
	return 0;
}

enum api_rc images_show(struct api_req *r)
{
	struct db_image img;

	if (images_load(r, &img) != 0)
		return API_ERROR;
	return api_reply(r, 200, glance_view(&img));
}

enum api_rc images_delete(struct api_req *r)
{
	struct db_image img;
	char path[512];
	int rc;

	if (images_load(r, &img) != 0)
		return API_ERROR;
	if (!r->is_admin && strcmp(img.owner, r->project_id) != 0)
		return api_error(r, ERR_POLICY, "delete_image");
	if (img.protected_)
		return api_error(r, ERR_IMAGE_PROTECTED, img.id);
	rc = db_image_delete(r->api->db, img.id);
	if (rc == DB_INUSE)
		return api_error(r, ERR_IMAGE_IN_USE, img.id);
	if (rc == DB_NOTFOUND)
		return api_error(r, ERR_IMAGE_NOT_FOUND, img.id);
	if (rc != DB_OK)
		return api_error(r, ERR_INTERNAL);
	log_info("image %s deleted", img.id);
	if (images_data_path(r, img.id, path, sizeof path) == 0 &&
	    unlink(path) < 0 && errno != ENOENT)
		log_warn("image %s: cannot remove %s", img.id, path);
	return api_reply(r, 204, NULL);
}

/* ---- the list: Glance's query arguments, paged in SQL ---- */

static const char *const sort_names[DB_IMAGE_SORT__COUNT] = {
	[DB_IMAGE_SORT_NAME] = "name", [DB_IMAGE_SORT_STATUS] = "status",
	[DB_IMAGE_SORT_CONTAINER_FORMAT] = "container_format",
	[DB_IMAGE_SORT_DISK_FORMAT] = "disk_format", [DB_IMAGE_SORT_SIZE] = "size",
	[DB_IMAGE_SORT_ID] = "id", [DB_IMAGE_SORT_CREATED] = "created_at",
	[DB_IMAGE_SORT_UPDATED] = "updated_at",
};
/* what a user may name: room is kept for created_at and id after them */
#define USER_SORT_MAX (DB_IMAGE_SORT_MAX - 2)

static int bad_arg(struct api_req *r, const char *fmt, const char *arg)
{
	char msg[600];

	snprintf(msg, sizeof msg, fmt, arg);
	return api_error(r, ERR_BAD_REQUEST, msg);
}

/* The next comma-separated item of *p, trimmed; NULL after the last. */
static char *next_item(char **p)
{
	char *item = *p, *e;

	if (item == NULL)
		return NULL;
	if ((e = strchr(item, ',')) != NULL)
		*e++ = '\0';
	*p = e;
	while (*item == ' ')
		item++;
	for (e = item + strlen(item); e > item && e[-1] == ' '; )
		*--e = '\0';
	return item;
}

static int sort_key_add(struct api_req *r, struct db_image_filter *f,
    const char *key)
{
	char msg[700], keys[200] = "";

	for (int i = 0; i < DB_IMAGE_SORT__COUNT; i++) {
		if (strcmp(key, sort_names[i]) != 0)
			continue;
		if (f->nsort == USER_SORT_MAX)
			return api_error(r, ERR_BAD_REQUEST, "Too many sort keys.");
		f->asc[f->nsort] = false;
		f->sort[f->nsort++] = (enum db_image_sort)i;
		return 0;
	}
	for (int i = 0; i < DB_IMAGE_SORT__COUNT; i++)
		snprintf(keys + strlen(keys), sizeof keys - strlen(keys), "%s%s",
		    i ? ", " : "", sort_names[i]);
	snprintf(msg, sizeof msg, "Invalid sort key: %.255s. It must be one of "
	    "the following: %s.", key, keys);
	return api_error(r, ERR_BAD_REQUEST, msg);
}

static int sort_dir_of(struct api_req *r, const char *dir, bool *asc)
{
	if (strcmp(dir, "asc") != 0 && strcmp(dir, "desc") != 0)
		return bad_arg(r, "Invalid sort direction: %.255s", dir);
	*asc = strcmp(dir, "asc") == 0;
	return 0;
}

/* sort=key[:dir],... (desc when a key has none) */
static int sort_new(struct api_req *r, struct db_image_filter *f, char *p)
{
	char *item, *colon;

	while ((item = next_item(&p)) != NULL) {
		if ((colon = strchr(item, ':')) != NULL)
			*colon++ = '\0';
		if (sort_key_add(r, f, item) != 0 || sort_dir_of(r,
		    colon != NULL && *colon != '\0' ? colon : "desc",
		    &f->asc[f->nsort - 1]) != 0)
			return API_ERROR;
	}
	return 0;
}

/* sort_key=k,...&sort_dir=d,...: one direction for every key, or one
 * for all; the direction of created_at and id when Glance adds them. */
static int sort_classic(struct api_req *r, struct db_image_filter *f,
    char *keys, char *dirs, bool *tail_asc)
{
	bool asc[USER_SORT_MAX + 1];
	int n = 0;
	char *item;

	while (keys != NULL && (item = next_item(&keys)) != NULL)
		if (sort_key_add(r, f, item) != 0)
			return API_ERROR;
	while (dirs != NULL && (item = next_item(&dirs)) != NULL && n <= USER_SORT_MAX)
		if (sort_dir_of(r, item, &asc[n++]) != 0)
			return API_ERROR;
	if (n > 1 && n != (f->nsort ? f->nsort : 1))
		return api_error(r, ERR_BAD_REQUEST, "Number of sort dirs does "
		    "not match the number of sort keys");
	for (int i = 0; n > 0 && i < f->nsort; i++)
		f->asc[i] = asc[n == 1 ? 0 : i];
	*tail_asc = n == 1 && asc[0];
	return 0;
}

static bool sorted_by(const struct db_image_filter *f, enum db_image_sort k)
{
	for (int i = 0; i < f->nsort; i++)
		if (f->sort[i] == k)
			return true;
	return false;
}

/* Glance's order: the keys asked for, then created_at and id. */
static int parse_sort(struct api_req *r, struct db_image_filter *f)
{
	const char *sort = api_query_get(r, "sort");
	const char *key = api_query_get(r, "sort_key"), *dir = api_query_get(r, "sort_dir");
	char a[512], b[512];
	bool tail_asc = false;

	if (sort != NULL && (key != NULL || dir != NULL))
		return api_error(r, ERR_BAD_REQUEST,
		    "Old and new sorting syntax cannot be combined");
	if (str_copy(a, sort ? sort : key ? key : "", sizeof a) < 0 ||
	    str_copy(b, dir ? dir : "", sizeof b) < 0)
		return api_error(r, ERR_BAD_REQUEST, "The sort arguments are too long.");
	if (sort != NULL ? sort_new(r, f, a) : sort_classic(r, f,
	    key ? a : NULL, dir ? b : NULL, &tail_asc))
		return API_ERROR;
	if (sort != NULL)
		tail_asc = f->nsort == 1 && f->asc[0];
	if (!sorted_by(f, DB_IMAGE_SORT_CREATED)) {
		f->asc[f->nsort] = tail_asc;
		f->sort[f->nsort++] = DB_IMAGE_SORT_CREATED;
	}
	if (!sorted_by(f, DB_IMAGE_SORT_ID)) {
		f->asc[f->nsort] = tail_asc;
		f->sort[f->nsort++] = DB_IMAGE_SORT_ID;
	}
	return 0;
}

static int parse_size(struct api_req *r, const char *name, int64_t *out)
{
	const char *v = api_query_get(r, name);

	*out = -1;
	if (v != NULL && num_parse_i64(v, 0, INT64_MAX, out) < 0)
		return api_error(r, ERR_BAD_REQUEST, "Unable to filter on a range "
		    "with a non-numeric value.");
	return 0;
}

static int parse_limit(struct api_req *r, int *limit)
{
	const char *v = api_query_get(r, "limit");
	int64_t n;

	*limit = r->api->conf->glance_limit_default;
	if (v == NULL)
		return 0;
	if (num_parse_i64(v, INT64_MIN, INT64_MAX, &n) < 0)
		return api_error(r, ERR_BAD_REQUEST, "limit param must be an integer");
	if (n < 0)
		return api_error(r, ERR_BAD_REQUEST, "limit param must be positive");
	*limit = n > r->api->conf->glance_limit_max ?
	    r->api->conf->glance_limit_max : (int)n;
	return 0;
}

static int parse_list(struct api_req *r, struct db_image_filter *f)
{
	static const char *const vis[] = { "community", "public", "private",
		"shared", "all", NULL };
	static const char *const member[] = { "pending", "accepted", "rejected",
		"all", NULL };
	const char *v;

	memset(f, 0, sizeof *f);
	f->project_id = r->project_id;
	f->is_admin = r->is_admin;
	if ((v = api_query_get(r, "visibility")) != NULL && !in_list(v, vis))
		return bad_arg(r, "Invalid visibility value: %.255s", v);
	f->visibility = v;
	if ((v = api_query_get(r, "member_status")) != NULL && !in_list(v, member))
		return bad_arg(r, "Invalid status: %.255s", v);
	if (api_query_has(r, "changes-since"))
		return api_error(r, ERR_BAD_REQUEST, "The \"changes-since\" filter "
		    "is no longer available on v2.");
	f->name = api_query_get(r, "name");
	f->owner = api_query_get(r, "owner");
	f->status = api_query_get(r, "status");
	f->disk_format = api_query_get(r, "disk_format");
	f->container_format = api_query_get(r, "container_format");
	f->none = api_query_has(r, "tag");  /* kumo's images have no tags */
	f->marker = api_query_get(r, "marker");
	if (parse_size(r, "size_min", &f->size_min) ||
	    parse_size(r, "size_max", &f->size_max) ||
	    parse_limit(r, &f->limit) || parse_sort(r, f))
		return API_ERROR;
	return 0;
}

/* Glance's links: first without the marker, next after the page's last. */
static void list_links(struct api_req *r, json_t *body, const char *last)
{
	static const char *const keep[] = { "limit", "name", "owner", "visibility",
		"status", "disk_format", "container_format", "tag", "size_min",
		"size_max", "member_status", "sort_key", "sort_dir", "sort" };
	char href[2048] = "/v2/images?";
	size_t n;

	for (size_t i = 0; i < sizeof keep / sizeof *keep; i++)
		api_query_append(r, href, sizeof href, keep[i]);
	n = strlen(href);
	if (href[n - 1] == '?')
		href[--n] = '\0';
	json_object_set_new(body, "first", json_string(href));
	if (last == NULL)
		return;
	if (n + strlen(last) + 9 < sizeof href)
		snprintf(href + n, sizeof href - n, "%smarker=%s",
		    strchr(href, '?') ? "&" : "?", last);
	json_object_set_new(body, "next", json_string(href));
}

static int list_failed(struct api_req *r, int rc, const char *marker)
{
	if (rc == DB_NOTFOUND)
		return bad_arg(r, "No image found with ID %.255s", marker);
	return api_error(r, ERR_INTERNAL);
}

enum api_rc images_list(struct api_req *r)
{
	struct db_image_filter f;
	struct db_image *list;
	json_t *arr, *body;
	size_t n;
	int rc;

	if (parse_list(r, &f) != 0)
		return API_ERROR;
	if ((rc = db_image_page(r->api->db, &f, &list, &n)) != DB_OK)
		return list_failed(r, rc, f.marker);
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, glance_view(&list[i]));
	body = json_object();
	json_object_set_new(body, "images", arr);
	/* Glance: a full page has a next link */
	list_links(r, body, n > 0 && n == (size_t)f.limit ? list[n - 1].id : NULL);
	json_object_set_new(body, "schema", json_string("/v2/schemas/images"));
	free(list);
	return api_reply(r, 200, body);
}

/* Nova's proxy lists a page of what Glance's default list shows:
 * ?limit= ([api] max_limit at most) and ?marker=. */
static enum api_rc nova_index(struct api_req *r,
    json_t *(*view)(const struct api_req *, const struct db_image *))
{
	struct db_image_filter f = {
		.project_id = r->project_id, .is_admin = r->is_admin,
		.size_min = -1, .size_max = -1, .nsort = 2,
		.sort = { DB_IMAGE_SORT_CREATED, DB_IMAGE_SORT_ID },
		.marker = api_query_get(r, "marker"),
	};
	const char *limit = api_query_get(r, "limit");
	struct db_image *list;
	json_t *arr, *body;
	size_t n;
	int rc;

	f.limit = r->api->conf->max_limit;
	if (limit != NULL && num_parse_int(limit, 0, 1 << 30, &f.limit) < 0)
		return api_error(r, ERR_BAD_REQUEST, "limit param must be an integer");
	if (f.limit > r->api->conf->max_limit)
		f.limit = r->api->conf->max_limit;
	if ((rc = db_image_page(r->api->db, &f, &list, &n)) != DB_OK)
		return list_failed(r, rc, f.marker);
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, view(r, &list[i]));
	free(list);
	body = json_object();
	json_object_set_new(body, "images", arr);
	return api_reply(r, 200, body);
}

/* ---- Nova's image proxy ---- */

static json_t *nova_image_brief(const struct api_req *r, const struct db_image *img)
{
	json_t *v = json_object();

	json_object_set_new(v, "id", json_string(img->id));
	json_object_set_new(v, "name", view_str(img->name));
	json_object_set_new(v, "links", view_links(r, "images", img->id));
	return v;
}

/* nova/api/openstack/compute/views/images.py: status and progress. */
static json_t *nova_image_detail(const struct api_req *r, const struct db_image *img)
{
	static const struct { const char *glance, *nova; int progress; } st[] = {
		{ "active", "ACTIVE", 100 }, { "queued", "SAVING", 25 },
		{ "saving", "SAVING", 50 }, { "killed", "ERROR", 0 },
		{ "deleted", "DELETED", 0 },
	};
	json_t *v = nova_image_brief(r, img), *meta = json_loads(img->properties, 0, NULL);
	size_t i;

	for (i = 0; i < sizeof st / sizeof *st - 1; i++)
		if (strcmp(st[i].glance, img->status) == 0)
			break;
	json_object_set_new(v, "minRam", json_integer(img->min_ram));
	json_object_set_new(v, "minDisk", json_integer(img->min_disk));
	json_object_set_new(v, "metadata", json_is_object(meta) ? meta :
	    json_object());
	if (!json_is_object(meta))
		json_decref(meta);
	json_object_set_new(v, "created", view_str(img->created_at));
	json_object_set_new(v, "updated", view_str(img->updated_at));
	json_object_set_new(v, "status", json_string(st[i].nova));
	json_object_set_new(v, "progress", json_integer(st[i].progress));
	json_object_set_new(v, "OS-EXT-IMG-SIZE:size", img->size < 0 ?
	    json_null() : json_integer(img->size));
	return v;
}

enum api_rc images_nova_list(struct api_req *r)
{
	if (r->mv >= API_MV(2, 36))
		return api_error(r, ERR_NOT_FOUND);
	return nova_index(r, nova_image_brief);
}

enum api_rc images_nova_detail(struct api_req *r)
{
	if (r->mv >= API_MV(2, 36))
		return api_error(r, ERR_NOT_FOUND);
	return nova_index(r, nova_image_detail);
}

enum api_rc images_nova_show(struct api_req *r)
{
	struct db_image img;
	json_t *body;

	if (r->mv >= API_MV(2, 36))
		return api_error(r, ERR_NOT_FOUND);
	if (images_load(r, &img) != 0)
		return API_ERROR;
	body = json_object();
	json_object_set_new(body, "image", nova_image_detail(r, &img));
	return api_reply(r, 200, body);
}
