/*
 * Arguments received over RPC come from the controller, through a broker
 * other hosts can publish to: every field is checked against a table
 * before use (STYLE 20).
 */
#include <stdint.h>
#include <string.h>

#include "compute/compute.h"

#define BAD "InvalidParameterValue"
#define NFIELDS(t) (sizeof t / sizeof *t)

static const struct wire_field instance_args[] = {
	{ "uuid", WIRE_UUID, 1, 0, false },
	{ "name", WIRE_STR, 0, VIRT_NAME - 1, false },
	{ "vcpus", WIRE_INT, 1, 1 << 16, false },
	{ "memory_mb", WIRE_INT, 1, 1 << 30, false },
	{ "root_gb", WIRE_INT, 0, 1 << 30, false },
	{ "ephemeral_gb", WIRE_INT, 0, 1 << 30, false },
	{ "swap", WIRE_INT, 0, 1 << 30, false },
	{ "image_ref", WIRE_UUID_OR_EMPTY, 0, 0, false },
	{ "flavorid", WIRE_STR, 1, VIRT_NAME - 1, false },
	{ "project_id", WIRE_STR, 0, VIRT_NAME - 1, false },
	{ "user_id", WIRE_STR, 0, VIRT_NAME - 1, false },
};

void compute_json_str(char *dst, size_t size, const json_t *obj,
    const char *key)
{
	str_copy(dst, json_string_value(json_object_get(obj, key)), size);
}

static int get_int(const json_t *obj, const char *key)
{
	return (int)json_integer_value(json_object_get(obj, key));
}

int compute_args_instance(const json_t *obj, struct virt_instance *out,
    struct rpc_error *err)
{
	memset(out, 0, sizeof *out);
	if (wire_check(obj, instance_args, NFIELDS(instance_args),
	    err) < 0)
		return -1;
	compute_json_str(out->uuid, sizeof out->uuid, obj, "uuid");
	compute_json_str(out->name, sizeof out->name, obj, "name");
	compute_json_str(out->image_ref, sizeof out->image_ref, obj, "image_ref");
	compute_json_str(out->flavorid, sizeof out->flavorid, obj, "flavorid");
	compute_json_str(out->project_id, sizeof out->project_id, obj, "project_id");
	compute_json_str(out->user_id, sizeof out->user_id, obj, "user_id");
	out->vcpus = get_int(obj, "vcpus");
	out->memory_mb = get_int(obj, "memory_mb");
	out->root_gb = get_int(obj, "root_gb");
	out->ephemeral_gb = get_int(obj, "ephemeral_gb");
	out->swap = get_int(obj, "swap");
	return 0;
}

static const struct wire_field file_args[] = {
	{ "id", WIRE_UUID, 1, 0, false },
	{ "status", WIRE_STR, 1, 15, false },
	{ "size", WIRE_INT, -1, INT64_MAX, false },
	{ "os_hash_value", WIRE_STR, 0, 128, false },
};

static bool is_sha256_hex(const char *s)
{
	return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

/* One file of the image: null is none; data only when active with a
 * size and a sha256. */
static int image_file(const json_t *v, struct compute_image_file *out,
    struct rpc_error *err)
{
	const char *hash;

	memset(out, 0, sizeof *out);
	if (v == NULL || json_is_null(v))
		return 0;
	if (wire_check(v, file_args, NFIELDS(file_args), err) < 0)
		return -1;
	compute_json_str(out->id, sizeof out->id, v, "id");
	out->size = json_integer_value(json_object_get(v, "size"));
	hash = json_string_value(json_object_get(v, "os_hash_value"));
	out->has_data = strcmp(json_string_value(json_object_get(v, "status")),
	    "active") == 0 && out->size >= 0 && is_sha256_hex(hash);
	if (out->has_data)
		str_copy(out->sha256, hash, sizeof out->sha256);
	return 0;
}

static const struct wire_field image_args[] = {
	{ "disk", WIRE_OBJECT, 0, 0, false },
	{ "disk_format", WIRE_STR, 0, 15, false },
	{ "kernel", WIRE_OBJECT, 0, 0, true },
	{ "ramdisk", WIRE_OBJECT, 0, 0, true },
	{ "os_command_line", WIRE_STR, 0, 1023, false },
};

int compute_args_image(const json_t *instance, struct compute_image *out,
    struct rpc_error *err)
{
	const json_t *img = json_object_get(instance, "image");
	const char *fmt;

	memset(out, 0, sizeof *out);
	if (img == NULL || json_is_null(img))
		return 0;
	if (wire_check(img, image_args, NFIELDS(image_args), err) < 0 ||
	    image_file(json_object_get(img, "disk"), &out->disk, err) < 0 ||
	    image_file(json_object_get(img, "kernel"), &out->kernel, err) < 0 ||
	    image_file(json_object_get(img, "ramdisk"), &out->ramdisk, err) < 0)
		return -1;
	fmt = json_string_value(json_object_get(img, "disk_format"));
	if (fmt[0] != '\0' && strcmp(fmt, "raw") != 0 && strcmp(fmt, "qcow2") != 0) {
		rpc_error_set(err, BAD, NULL, "bad argument 'disk_format'");
		return -1;
	}
	str_copy(out->disk_format, fmt, sizeof out->disk_format);
	compute_json_str(out->cmdline, sizeof out->cmdline, img, "os_command_line");
	return 0;
}
