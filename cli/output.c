/* Table and JSON output. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

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
		return strdup(json_string_value(v));
	return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
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
		json_dumpf(rows, stdout, JSON_INDENT(2));
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
		json_dumpf(obj, stdout, JSON_INDENT(2));
		putchar('\n');
		return;
	}
	rows = json_array();
	json_object_foreach(obj, k, v)
		json_array_append_new(rows, json_pack("{s:s, s:O}", "k", k, "v", v));
	cli_print_rows(c, rows, cols, 2);
	json_decref(rows);
}
