/*
 * openstackclient's column formats, so that a table shows what a user
 * reads rather than JSON: addresses as "private=10.99.0.5, 10.99.0.6;
 * other=...", a dict as "a='1', b='2'" (osc_lib's format_dict), a resource
 * as "name (id)". The text is raw: the table printer escapes it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/common.h"

/* A value as Python's str() would show it in format_dict. */
static void put_scalar(FILE *f, json_t *v)
{
	if (json_is_string(v))
		fputs(json_string_value(v), f);
	else if (json_is_true(v))
		fputs("True", f);
	else if (json_is_false(v))
		fputs("False", f);
	else
		json_dumpf(v, f, JSON_COMPACT | JSON_ENCODE_ANY);
}

/* The text written to f (*buf is open_memstream's, set when f closes), or
 * NULL when f or the writer (ok false) failed: out of memory. */
static char *memstream_done(FILE *f, char **buf, bool ok)
{
	bool failed = ferror(f) != 0;

	if (fclose(f) != 0 || failed || !ok) {
		free(*buf);
		return NULL;
	}
	return *buf;
}

char *cli_fmt_networks(json_t *addresses)
{
	char *buf = NULL;
	size_t len, i;
	const char *label;
	json_t *list, *a;
	FILE *f = open_memstream(&buf, &len);
	bool first = true;

	if (f == NULL)
		return NULL;
	json_object_foreach(addresses, label, list) {
		fprintf(f, "%s%s=", first ? "" : "; ", label);
		first = false;
		json_array_foreach(list, i, a) {
			const char *addr = json_string_value(json_object_get(a, "addr"));
			fprintf(f, "%s%s", i ? ", " : "", addr ? addr : "");
		}
	}
	return memstream_done(f, &buf, true);
}

static int key_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* format_dict: keys sorted, a nested dict's keys prefixed "outer.".
 * 0, or -1 when out of memory. */
static int put_dict(FILE *f, json_t *obj, const char *prefix, bool *first)
{
	size_t n = json_object_size(obj), i = 0;
	const char **keys = calloc(n ? n : 1, sizeof *keys);
	const char *k;
	json_t *v;

	if (keys == NULL)
		return -1;
	json_object_foreach(obj, k, v)
		keys[i++] = k;
	qsort(keys, n, sizeof *keys, key_cmp);
	for (i = 0; i < n; i++) {
		v = json_object_get(obj, keys[i]);
		if (json_is_object(v)) {
			char sub[512];

			if (str_fmt(sub, sizeof sub, "%s%s.", prefix, keys[i]) < 0 ||
			    put_dict(f, v, sub, first) < 0)
				break;
			continue;
		}
		fprintf(f, "%s%s%s=", *first ? "" : ", ", prefix, keys[i]);
		*first = false;
		if (!json_is_null(v)) {
			fputc('\'', f);
			put_scalar(f, v);
			fputc('\'', f);
		}
	}
	free(keys);
	return i == n ? 0 : -1;
}

char *cli_fmt_dict(json_t *obj)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);
	bool first = true;

	if (f == NULL)
		return NULL;
	return memstream_done(f, &buf, put_dict(f, obj, "", &first) == 0);
}

char *cli_fmt_dict_list(json_t *arr)
{
	char *buf = NULL;
	size_t len, i;
	json_t *it;
	FILE *f = open_memstream(&buf, &len);
	bool ok = true;

	if (f == NULL)
		return NULL;
	json_array_foreach(arr, i, it) {
		bool first = true;

		fputs(i ? "; " : "", f);
		if (!json_is_object(it))
			put_scalar(f, it);
		else if (put_dict(f, it, "", &first) < 0)
			ok = false;
	}
	return memstream_done(f, &buf, ok);
}

const char *cli_name_of(json_t *names, const char *id)
{
	const char *nm = json_string_value(json_object_get(names, id));

	return nm != NULL ? nm : id;
}

json_t *cli_fmt_named(json_t *names, const char *id)
{
	const char *nm = json_string_value(json_object_get(names, id));

	if (nm == NULL)
		return json_string(id);
	return json_sprintf("%s (%s)", nm, id);
}
