/*
 * Python's repr() of JSON values, because Nova's schema errors quote the
 * offending value that way: "Invalid input for field/attribute server.
 * Value: {'name': 'x'}. 'flavorRef' is a required property".
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"

struct out {
	char *buf;
	size_t len, pos;
	bool full;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->full)
		return;
	if (o->pos + n + 4 > o->len) {  /* room for "..." and the NUL */
		o->full = true;
		memcpy(o->buf + o->pos, "...", 4);
		return;
	}
	memcpy(o->buf + o->pos, s, n);
	o->pos += n;
	o->buf[o->pos] = '\0';
}

static void puts_(struct out *o, const char *s) { put(o, s, strlen(s)); }

static void repr_string(struct out *o, const char *s, size_t n)
{
	char q = memchr(s, '\'', n) && !memchr(s, '"', n) ? '"' : '\'';
	char esc[8];

	put(o, &q, 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\\' || c == (unsigned char)q) {
			esc[0] = '\\';
			esc[1] = (char)c;
			put(o, esc, 2);
		} else if (c == '\n') {
			puts_(o, "\\n");
		} else if (c == '\r') {
			puts_(o, "\\r");
		} else if (c == '\t') {
			puts_(o, "\\t");
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof esc, "\\x%02x", c);
			puts_(o, esc);
		} else {
			put(o, (const char *)&c, 1);
		}
	}
	put(o, &q, 1);
}

/* The shortest %g that reads back as the same double, as Python prints. */
static void repr_real(struct out *o, double d)
{
	char b[40];

	for (int prec = 1; prec <= 17; prec++) {
		snprintf(b, sizeof b, "%.*g", prec, d);
		if (strtod(b, NULL) == d)
			break;
	}
	if (strpbrk(b, ".eninf") == NULL)
		strcat(b, ".0");
	puts_(o, b);
}

static void repr_value(struct out *o, const json_t *v)
{
	char b[32];
	const char *key;
	json_t *item;
	size_t i;
	bool first = true;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		puts_(o, "{");
		json_object_foreach((json_t *)v, key, item) {
			puts_(o, first ? "" : ", ");
			first = false;
			repr_string(o, key, strlen(key));
			puts_(o, ": ");
			repr_value(o, item);
		}
		puts_(o, "}");
		break;
	case JSON_ARRAY:
		puts_(o, "[");
		json_array_foreach(v, i, item) {
			puts_(o, i ? ", " : "");
			repr_value(o, item);
		}
		puts_(o, "]");
		break;
	case JSON_STRING:
		repr_string(o, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		snprintf(b, sizeof b, "%lld", (long long)json_integer_value(v));
		puts_(o, b);
		break;
	case JSON_REAL:
		repr_real(o, json_real_value(v));
		break;
	case JSON_TRUE: puts_(o, "True"); break;
	case JSON_FALSE: puts_(o, "False"); break;
	default: puts_(o, "None"); break;
	}
}

void api_pyrepr(const json_t *v, char *buf, size_t len)
{
	struct out o = { buf, len, 0, false };

	if (len < 8) {
		if (len > 0)
			buf[0] = '\0';
		return;
	}
	buf[0] = '\0';
	if (v == NULL)
		puts_(&o, "None");
	else
		repr_value(&o, v);
}

int api_invalid(struct api_req *r, const char *field, const json_t *value,
    const char *fmt, ...)
{
	char repr[400], why[400], msg[1024];
	va_list ap;

	api_pyrepr(value, repr, sizeof repr);
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	snprintf(msg, sizeof msg, "Invalid input for field/attribute %s. "
	    "Value: %s. %s", field, repr, why);
	return api_error(r, ERR_INVALID_INPUT, msg);
}

int api_invalid_top(struct api_req *r, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return api_error(r, ERR_INVALID_INPUT, msg);
}
