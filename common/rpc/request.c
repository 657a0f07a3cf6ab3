/*
 * Requests written and read without a jansson tree: the path of every
 * cast and call. Building the tree cost more than anything else a caster
 * or a server does per message (perf, a flood of casts: jansson was 44%
 * of rpc-echo's CPU and 29% of the caster's, ~60 small allocations to
 * read one request).
 *
 * The writer puts out exactly the bytes that
 * rpc_envelope_encode(rpc_request_encode(...)) gives. The reader takes the
 * forms that kumo and oslo write and declines everything else, which then
 * goes the jansson way (rpc_envelope_decode, rpc_request_decode): what it
 * accepts gives the request that way would give, and it never accepts what
 * that way rejects (unit tests hold both to this).
 */
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/rpc/rpc_internal.h"

#define CTX "_context_"
#define MAX_KEYS 64 /* more keys than a request has: declined */
#define MAX_DEPTH 512

/* ---- the writer ---------------------------------------------------------- */

struct out {
	char *p;
	size_t len, cap;
	bool bad; /* out of memory, or a value that cannot be written */
};

static bool room(struct out *o, size_t n)
{
	size_t cap = o->cap ? o->cap : 1024;
	char *np;

	if (o->bad)
		return false;
	if (o->len + n <= o->cap)
		return true;
	while (cap < o->len + n)
		cap *= 2;
	if ((np = realloc(o->p, cap)) == NULL) {
		o->bad = true;
		return false;
	}
	o->p = np;
	o->cap = cap;
	return true;
}

static void put(struct out *o, const char *s, size_t n)
{
	if (room(o, n)) {
		memcpy(o->p + o->len, s, n);
		o->len += n;
	}
}

/* Inner-message text as it stands inside the envelope's string: a quote
 * of the message is \" there. Q("k") is the quoted key k. */
#define Q(k) "\\\"" k "\\\""
#define PUT(o, lit) put(o, lit, sizeof lit - 1)

/* s as a JSON string of the message, as it stands inside the envelope's
 * string: escaped as jansson escapes it, then escaped again. Invalid
 * UTF-8 makes the message unwritable, as json_string() refuses it. */
static void put_str(struct out *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	char *w;

	if (!room(o, 4 + 7 * n))
		return;
	w = o->p + o->len;
	*w++ = '\\';
	*w++ = '"';
	while (p < end) {
		unsigned c = *p;
		if (c >= 0x80) {
			size_t k = utf8_seq_len(p, (size_t)(end - p));
			if (k == 0) {
				o->bad = true;
				return;
			}
			memcpy(w, p, k);
			w += k;
			p += k;
			continue;
		}
		p++;
		if (c >= 0x20 && c != '"' && c != '\\') {
			*w++ = (char)c;
			continue;
		}
		*w++ = '\\'; /* the message's backslash, escaped */
		*w++ = '\\';
		switch (c) {
		case '"': *w++ = '\\'; *w++ = '"'; break;
		case '\\': *w++ = '\\'; *w++ = '\\'; break;
		case '\b': *w++ = 'b'; break;
		case '\f': *w++ = 'f'; break;
		case '\n': *w++ = 'n'; break;
		case '\r': *w++ = 'r'; break;
		case '\t': *w++ = 't'; break;
		default:
			memcpy(w, "u00", 3);
			w[3] = hex[c >> 4];
			w[4] = hex[c & 15];
			w += 5;
		}
	}
	*w++ = '\\';
	*w++ = '"';
	o->len = (size_t)(w - o->p);
}

static void put_cstr(struct out *o, const char *s)
{
	put_str(o, s, strlen(s));
}

/* A ctx string: "" is null. */
static void put_str_or_null(struct out *o, const char *s)
{
	if (s[0] == '\0')
		PUT(o, "null");
	else
		put_cstr(o, s);
}

/* Any JSON value, as jansson's compact dump writes it, escaped for the
 * envelope (a dump holds no control characters). */
static void put_json(struct out *o, const json_t *v)
{
	char *s, *w;
	size_t n = 0;

	if (json_is_object(v) && json_object_size(v) == 0) {
		PUT(o, "{}");
		return;
	}
	if (json_is_array(v) && json_array_size(v) == 0) {
		PUT(o, "[]");
		return;
	}
	if ((s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY)) == NULL) {
		o->bad = true;
		return;
	}
	for (const char *p = s; *p != '\0'; p++)
		n += *p == '"' || *p == '\\' ? 2 : 1;
	if (room(o, n)) {
		w = o->p + o->len;
		for (const char *p = s; *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				*w++ = '\\';
			*w++ = *p;
		}
		o->len += n;
	}
	free(s);
}

/* The keys rpc_ctx_encode writes, in its order: a value of the struct,
 * or for a key it does not model, extra's value or the default text. */
enum ctx_src { FROM_EXTRA, USER, PROJECT, ADMIN, REQUEST, ROLES, IDENTITY };
static const struct ctx_key {
	const char *name;
	enum ctx_src src;
	const char *dflt;
} ctx_keys[] = {
	{ "user", USER, NULL }, { "project_id", PROJECT, NULL },
	{ "system_scope", FROM_EXTRA, "null" }, { "project", PROJECT, NULL },
	{ "domain", FROM_EXTRA, "null" }, { "user_domain", FROM_EXTRA, "null" },
	{ "project_domain", FROM_EXTRA, "null" }, { "is_admin", ADMIN, NULL },
	{ "read_only", FROM_EXTRA, "false" }, { "show_deleted", FROM_EXTRA, "false" },
	{ "auth_token", FROM_EXTRA, "null" }, { "request_id", REQUEST, NULL },
	{ "global_request_id", FROM_EXTRA, "null" }, { "resource_uuid", FROM_EXTRA, "null" },
	{ "roles", ROLES, NULL }, { "user_identity", IDENTITY, NULL },
	{ "is_admin_project", FROM_EXTRA, "true" }, { "user_id", USER, NULL },
};
#define N_CTX_KEYS (sizeof ctx_keys / sizeof ctx_keys[0])

static bool written(const char *key)
{
	for (size_t i = 0; i < N_CTX_KEYS; i++)
		if (strcmp(key, ctx_keys[i].name) == 0)
			return true;
	return false;
}

/* ctx_keys, then extra's other keys in extra's order. */
static void put_ctx(struct out *o, const struct rpc_ctx *ctx)
{
	static const struct rpc_ctx empty;
	char identity[300], k[RPC_NAME_MAX];
	const char *key;
	json_t *v;

	if (ctx == NULL)
		ctx = &empty;
	snprintf(identity, sizeof identity, "%s %s - - -",
	    ctx->user_id[0] ? ctx->user_id : "-",
	    ctx->project_id[0] ? ctx->project_id : "-");
	for (size_t i = 0; i < N_CTX_KEYS; i++) {
		const struct ctx_key *ck = &ctx_keys[i];
		PUT(o, ",\\\"" CTX);
		put(o, ck->name, strlen(ck->name));
		PUT(o, "\\\":");
		switch (ck->src) {
		case FROM_EXTRA:
			v = ctx->extra != NULL ? json_object_get(ctx->extra, ck->name) : NULL;
			if (v != NULL)
				put_json(o, v);
			else
				put(o, ck->dflt, strlen(ck->dflt));
			break;
		case USER: put_str_or_null(o, ctx->user_id); break;
		case PROJECT: put_str_or_null(o, ctx->project_id); break;
		case REQUEST: put_str_or_null(o, ctx->request_id); break;
		case IDENTITY: put_cstr(o, identity); break;
		case ADMIN:
			if (ctx->is_admin)
				PUT(o, "true");
			else
				PUT(o, "false");
			break;
		case ROLES:
			if (ctx->roles != NULL)
				put_json(o, ctx->roles);
			else
				PUT(o, "[]");
			break;
		}
	}
	if (ctx->extra == NULL)
		return;
	json_object_foreach(ctx->extra, key, v) {
		if (written(key)) /* modelled keys never come from extra */
			continue;
		if (str_fmt(k, sizeof k, CTX "%s", key) == -1) {
			o->bad = true; /* rpc_ctx_encode refuses such a key too */
			return;
		}
		PUT(o, ",");
		put_cstr(o, k);
		PUT(o, ":");
		put_json(o, v);
	}
}

char *rpc_request_body(const struct rpc_target *target, const struct rpc_ctx *ctx,
    const char *method, json_t *args, const char *msg_id, const char *reply_q,
    const char *unique_id, size_t *len)
{
	struct out o = { 0 };

	PUT(&o, RPC_ENV_HEAD "{" Q("method") ":");
	put_cstr(&o, method);
	PUT(&o, "," Q("args") ":");
	if (args != NULL)
		put_json(&o, args);
	else
		PUT(&o, "{}");
	if (target->namespace != NULL) {
		PUT(&o, "," Q("namespace") ":");
		put_cstr(&o, target->namespace);
	}
	if (target->version != NULL) {
		PUT(&o, "," Q("version") ":");
		put_cstr(&o, target->version);
	}
	if (msg_id != NULL) {
		PUT(&o, "," Q("_msg_id") ":");
		put_cstr(&o, msg_id);
		PUT(&o, "," Q("_reply_q") ":");
		put_cstr(&o, reply_q);
		PUT(&o, "," Q("_timeout") ":null");
	}
	PUT(&o, "," Q("_unique_id") ":");
	put_cstr(&o, unique_id);
	put_ctx(&o, ctx);
	put(&o, "}\"}", 4); /* with the NUL */
	json_decref(args);
	if (o.bad) {
		free(o.p);
		return NULL;
	}
	*len = o.len - 1;
	return o.p;
}

/* ---- the reader ------------------------------------------------------------ */

/* The message text, unescaped from the envelope, read in place: strings
 * are unescaped where they stand (never longer than their escaped form)
 * and NUL-terminated over their closing quote. */
struct rd {
	char *p, *end;
};

static void ws(struct rd *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

static bool eat(struct rd *r, char c)
{
	ws(r);
	if (r->p == r->end || *r->p != c)
		return false;
	r->p++;
	return true;
}

static bool word(struct rd *r, const char *w, size_t n)
{
	if ((size_t)(r->end - r->p) < n || memcmp(r->p, w, n) != 0)
		return false;
	r->p += n;
	return true;
}
#define WORD(r, lit) word(r, lit, sizeof lit - 1)

/* The string at r->p (at its opening quote): its text, NUL-terminated,
 * length *n. NULL for anything but a JSON string without \u0000. */
static char *str(struct rd *r, size_t *n)
{
	char *s, *w;

	if (r->p == r->end || *r->p != '"')
		return NULL;
	s = w = ++r->p;
	while (r->p < r->end) {
		unsigned char c = (unsigned char)*r->p;
		if (c == '"') {
			*w = '\0';
			*n = (size_t)(w - s);
			r->p++;
			return s;
		}
		if (c < 0x20) {
			return NULL;
		} else if (c == '\\') {
			const char *q = r->p + 1;
			if (!rpc_json_unescape(&q, r->end, &w))
				return NULL;
			r->p = (char *)(uintptr_t)q;
		} else if (c < 0x80) {
			*w++ = (char)c;
			r->p++;
		} else {
			size_t k = utf8_seq_len((unsigned char *)r->p, (size_t)(r->end - r->p));
			if (k == 0)
				return NULL;
			memmove(w, r->p, k);
			w += k;
			r->p += k;
		}
	}
	return NULL;
}

/* The end of the object or array at p, by its brackets (strings skipped
 * whole): exact for valid JSON; jansson judges the text. NULL when the
 * brackets do not close. */
static char *span_end(char *p, const char *end)
{
	int depth = 0;

	while (p < end) {
		char c = *p++;
		if (c == '"') {
			while (p < end && *p != '"')
				p += *p == '\\' && p + 1 < end ? 2 : 1;
			if (p == end)
				return NULL;
			p++;
		} else if (c == '{' || c == '[') {
			if (++depth > MAX_DEPTH)
				return NULL; /* nearer jansson's own limit: declined */
		} else if ((c == '}' || c == ']') && --depth == 0) {
			return p;
		}
	}
	return NULL;
}

/* A value of any kind as jansson would read it (numbers declined). */
static json_t *value(struct rd *r)
{
	char *s, *e;
	size_t n;

	ws(r);
	if (r->p == r->end)
		return NULL;
	switch (*r->p) {
	case 'n':
		return WORD(r, "null") ? json_null() : NULL;
	case 't':
		return WORD(r, "true") ? json_true() : NULL;
	case 'f':
		return WORD(r, "false") ? json_false() : NULL;
	case '"':
		return (s = str(r, &n)) != NULL ? json_stringn_nocheck(s, n) : NULL;
	case '{':
	case '[':
		if ((e = span_end(r->p, r->end)) == NULL)
			return NULL;
		s = r->p;
		r->p = e;
		if (e - s == 2 && s[1] == (*s == '{' ? '}' : ']'))
			return *s == '{' ? json_object() : json_array();
		return json_loadb(s, (size_t)(e - s), JSON_ALLOW_NUL, NULL);
	}
	return NULL;
}

/* A string of 1..max-1 bytes, or null (*out NULL). */
static bool cstr(struct rd *r, size_t max, const char **out)
{
	size_t n;

	ws(r);
	if (WORD(r, "null")) {
		*out = NULL;
		return true;
	}
	*out = str(r, &n);
	return *out != NULL && n > 0 && n < max;
}

/* A context string into a buffer; null leaves it. */
static bool ctx_str(struct rd *r, char *dst, size_t size)
{
	const char *s;
	size_t n;

	ws(r);
	if (WORD(r, "null"))
		return true;
	if ((s = str(r, &n)) == NULL || n >= size)
		return false;
	memcpy(dst, s, n + 1);
	return true;
}

/* _timeout: null or a plain number of 0..86400 (what jansson reads as a
 * number; long ones are declined rather than judged). */
static bool timeout(struct rd *r, int *out)
{
	char tok[16], *p;
	size_t n = 0;
	double d;

	ws(r);
	if (WORD(r, "null"))
		return true;
	p = r->p;
	if (p < r->end && *p == '-')
		p++;
	if (p == r->end || *p < '0' || *p > '9' || (*p == '0' && p + 1 < r->end &&
	    p[1] >= '0' && p[1] <= '9'))
		return false;
	while (p < r->end && *p >= '0' && *p <= '9')
		p++;
	if (p < r->end && *p == '.') {
		if (++p == r->end || *p < '0' || *p > '9')
			return false;
		while (p < r->end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < r->end && (*p == 'e' || *p == 'E'))
		return false;
	n = (size_t)(p - r->p);
	if (n >= sizeof tok)
		return false;
	memcpy(tok, r->p, n);
	tok[n] = '\0';
	r->p = p;
	d = strtod(tok, NULL);
	if (d < 0 || d > 86400)
		return false;
	*out = (int)d;
	return true;
}

/* roles: null, or an array of strings. */
static bool roles(struct rd *r, struct rpc_ctx *ctx)
{
	size_t n;
	char *s;

	ws(r);
	if (WORD(r, "null"))
		return true;
	if (!eat(r, '[') || (ctx->roles = json_array()) == NULL)
		return false;
	if (eat(r, ']'))
		return true;
	do {
		ws(r);
		if ((s = str(r, &n)) == NULL ||
		    json_array_append_new(ctx->roles, json_stringn_nocheck(s, n)) == -1)
			return false;
	} while (eat(r, ','));
	return eat(r, ']');
}

/* One _context_ key (name after the prefix), as rpc_ctx_decode takes it. */
static bool ctx_field(struct rd *r, struct rpc_ctx *ctx, const char *name)
{
	json_t *v;

	if (strcmp(name, "request_id") == 0)
		return ctx_str(r, ctx->request_id, sizeof ctx->request_id);
	if (strcmp(name, "user_id") == 0 || (strcmp(name, "user") == 0 && !ctx->user_id[0]))
		return ctx_str(r, ctx->user_id, sizeof ctx->user_id);
	if (strcmp(name, "project_id") == 0 ||
	    (strcmp(name, "project") == 0 && !ctx->project_id[0]))
		return ctx_str(r, ctx->project_id, sizeof ctx->project_id);
	if (strcmp(name, "is_admin") == 0) {
		ws(r);
		ctx->is_admin = WORD(r, "true");
		return ctx->is_admin || WORD(r, "false") || WORD(r, "null");
	}
	if (strcmp(name, "roles") == 0)
		return roles(r, ctx);
	if (name[0] == '\0' || (v = value(r)) == NULL)
		return false;
	if (rpc_ctx_modelled(name)) { /* user_identity, or user after user_id */
		json_decref(v);
		return true;
	}
	if (ctx->extra == NULL && (ctx->extra = json_object()) == NULL) {
		json_decref(v);
		return false;
	}
	return json_object_set_new_nocheck(ctx->extra, name, v) == 0;
}

/* args: null ({}) or an object. */
static bool args(struct rd *r, struct rpc_request *req)
{
	ws(r);
	if (WORD(r, "null"))
		return (req->args = json_object()) != NULL;
	if (r->p == r->end || *r->p != '{')
		return false;
	return (req->args = value(r)) != NULL;
}

static bool field(struct rd *r, struct rpc_request *req, const char *key)
{
	if (strncmp(key, CTX, sizeof CTX - 1) == 0)
		return ctx_field(r, &req->ctx, key + sizeof CTX - 1);
	if (strcmp(key, "method") == 0)
		return cstr(r, RPC_NAME_MAX, &req->method);
	if (strcmp(key, "args") == 0)
		return args(r, req);
	if (strcmp(key, "_unique_id") == 0)
		return cstr(r, RPC_ID_MAX, &req->unique_id);
	if (strcmp(key, "_msg_id") == 0)
		return cstr(r, RPC_ID_MAX, &req->msg_id);
	if (strcmp(key, "_reply_q") == 0)
		return cstr(r, RPC_NAME_MAX, &req->reply_q);
	if (strcmp(key, "_timeout") == 0)
		return timeout(r, &req->monitor_s);
	if (strcmp(key, "namespace") == 0)
		return cstr(r, RPC_NAME_MAX, &req->namespace);
	if (strcmp(key, "version") == 0)
		return cstr(r, 32, &req->version);
	return false;
}

static uint32_t key_hash(const char *k)
{
	uint32_t h = 2166136261u;

	while (*k != '\0')
		h = (h ^ (unsigned char)*k++) * 16777619u;
	return h;
}

int rpc_request_fast(const void *body, size_t len, struct rpc_request *req)
{
	uint32_t seen[MAX_KEYS];
	size_t n, nseen = 0;
	struct rd r;
	char *text;

	memset(req, 0, sizeof *req);
	if (len > RPC_MAX_BODY || (text = rpc_envelope_text(body, len, &n)) == NULL)
		return -1;
	req->text = text;
	r.p = text;
	r.end = text + n;
	if (!eat(&r, '{'))
		goto decline;
	do {
		char *key;
		size_t kl;
		uint32_t h;
		ws(&r);
		if ((key = str(&r, &kl)) == NULL || nseen == MAX_KEYS || !eat(&r, ':'))
			goto decline;
		/* jansson keeps the last of two equal keys: declined. */
		h = key_hash(key);
		for (size_t i = 0; i < nseen; i++)
			if (seen[i] == h)
				goto decline;
		seen[nseen++] = h;
		if (!field(&r, req, key))
			goto decline;
	} while (eat(&r, ','));
	if (!eat(&r, '}'))
		goto decline;
	ws(&r);
	if (r.p != r.end || req->method == NULL || (req->msg_id != NULL && req->reply_q == NULL))
		goto decline;
	if (req->msg_id == NULL)
		req->reply_q = NULL; /* as rpc_request_decode: only read with an id */
	if (req->args == NULL && (req->args = json_object()) == NULL)
		goto decline;
	return 0;
decline:
	rpc_request_clear(req);
	return -1;
}
