/*
 * Table and JSON output. Text from the cloud (names, fault messages) may
 * be another user's: it never reaches the terminal raw. Controls, format
 * and separator characters are shown escaped (\x1b, \u202e), and JSON
 * output is ASCII with \u escapes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/common.h"

char *cli_escape(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), len, o = 0;
	char *out = malloc(n * 4 + 1);  /* an escape: at most 4 chars a byte */
	uint32_t cp;

	if (out == NULL)
		return NULL;
	while (n > 0) {
		len = utf8_decode(p, n, &cp);
		if (len > 0 && unicode_printable(cp)) {
			memcpy(out + o, p, len);
			o += len;
		} else if (len == 0 || cp < 0x80) {
			len = 1;  /* a stray byte, or an ASCII control */
			o += (size_t)sprintf(out + o, "\\x%02x", *p);
		} else {
			/* 2 bytes and more: \u and 4 or 5 hex digits fit 3 per byte */
			o += (size_t)sprintf(out + o, "\\u%04x", (unsigned)cp);
		}
		p += len;
		n -= len;
	}
	out[o] = '\0';
	return out;
}

/* The value at a dotted path, as text (caller frees). */
static char *cell(json_t *row, const char *path)
{
	char key[128];
	const char *p = path, *dot;
	json_t *v = row;

	while (v != NULL && (dot = strchr(p, '.')) != NULL) {
		size_t n = (size_t)(dot - p) < sizeof key - 1 ? (size_t)(dot - p) : sizeof key - 1;
		memcpy(key, p, n);
		key[n] = '\0';
		v = json_object_get(v, key);
		p = dot + 1;
	}
	v = v ? json_object_get(v, p) : NULL;
	if (v == NULL || json_is_null(v))
		return strdup("");
	if (json_is_string(v))
		return cli_escape(json_string_value(v));
	return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
}

static void rule(const size_t *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		putchar('+');
		for (size_t j = 0; j < w[i] + 2; j++)
			putchar('-');
	}
	puts("+");
}

static void line(char **cells, const size_t *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("| %-*s ", (int)w[i], cells[i]);
	puts("|");
}

void cli_print_rows(const struct cli *c, json_t *rows,
    const struct cli_col *cols, size_t ncols)
{
	size_t nrows = json_array_size(rows), w[16] = { 0 };
	char **cells;

	if (c->fmt == FMT_JSON || ncols > 16) {
		json_dumpf(rows, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII);
		putchar('\n');
		return;
	}
	cells = calloc((nrows + 1) * ncols, sizeof *cells);
	if (cells == NULL)
		return;
	for (size_t j = 0; j < ncols; j++) {
		cells[j] = strdup(cols[j].title);
		w[j] = strlen(cols[j].title);
	}
	for (size_t i = 0; i < nrows; i++)
		for (size_t j = 0; j < ncols; j++) {
			char *s = cell(json_array_get(rows, i), cols[j].path);
			cells[(i + 1) * ncols + j] = s;
			if (s && strlen(s) > w[j])
				w[j] = strlen(s);
		}
	rule(w, ncols);
	line(cells, w, ncols);
	rule(w, ncols);
	for (size_t i = 0; i < nrows; i++)
		line(cells + (i + 1) * ncols, w, ncols);
	rule(w, ncols);
	for (size_t i = 0; i < (nrows + 1) * ncols; i++)
		free(cells[i]);
	free(cells);
}

void cli_print_object(const struct cli *c, json_t *obj)
{
	json_t *rows;
	const char *k;
	json_t *v;
	static const struct cli_col cols[] = { { "Field", "k" }, { "Value", "v" } };

	if (c->fmt == FMT_JSON) {
		json_dumpf(obj, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII);
		putchar('\n');
		return;
	}
	rows = json_array();
	json_object_foreach(obj, k, v)
		json_array_append_new(rows, json_pack("{s:s, s:O}", "k", k, "v", v));
	cli_print_rows(c, rows, cols, 2);
	json_decref(rows);
}
