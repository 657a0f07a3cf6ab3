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

static int image_validate(struct api_req *r, const json_t *body,
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
	if (image_validate(r, r->json_in, &img) != 0)
		return API_ERROR;
	/* Glance's default: only admins publish to every project */
	if (strcmp(img.visibility, "public") == 0 &&
	    api_policy_check(r, "publicize_image") != 0)
		return API_ERROR;
	if (img.id[0] == '\0')
		uuid_new_str(img.id);
	rc = db_image_create(r->api->db, &img);
	if (rc == DB_CONFLICT)
		return api_error(r, ERR_IMAGE_EXISTS, img.id);
	if (rc != DB_OK || db_image_get(r->api->db, img.id, &img) != DB_OK)
		return api_error(r, ERR_INTERNAL);
	log_info("image %s (%s) created", img.id, img.name);
	api_header_add(r, "Location", "%s/v2/images/%s", r->base_url, img.id);
	return api_reply(r, 201, glance_view(&img));
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

/* Glance list and Nova's proxy list share the walk over visible images. */
static enum api_rc images_index(struct api_req *r,
    json_t *(*view)(const struct api_req *, const struct db_image *),
    bool glance)
{
	struct db_image *list;
	json_t *arr, *body;
	size_t n;

	if (db_image_list(r->api->db, &list, &n) != DB_OK)
		return api_error(r, ERR_INTERNAL);
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		if (image_visible(r, &list[i]))
			json_array_append_new(arr, view(r, &list[i]));
	free(list);
	body = json_object();
	json_object_set_new(body, "images", arr);
	if (glance) {
		json_object_set_new(body, "first", json_string("/v2/images"));
		json_object_set_new(body, "schema", json_string("/v2/schemas/images"));
	}
	return api_reply(r, 200, body);
}

static json_t *glance_item(const struct api_req *r, const struct db_image *img)
{
	(void)r;
	return glance_view(img);
}

enum api_rc images_list(struct api_req *r) { return images_index(r, glance_item, true); }

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
	return images_index(r, nova_image_brief, false);
}

enum api_rc images_nova_detail(struct api_req *r)
{
	if (r->mv >= API_MV(2, 36))
		return api_error(r, ERR_NOT_FOUND);
	return images_index(r, nova_image_detail, false);
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
