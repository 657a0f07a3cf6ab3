/*
 * The oslo.messaging message formats (research/oslo-messaging-wire.md
 * sections 4, 5 and 7): the 2.0 envelope, requests, replies and the failure
 * string. Everything read from the wire is checked for shape and size here,
 * before any other file looks at it.
 */
#include <string.h>
#include <sys/random.h>

#include "common/common.h"
#include "common/rpc/rpc_internal.h"


/* Every message needs fresh ids, and libuuid spends ~5 system calls on
 * each (18 us on a small VM, more than the rest of the encoding): take
 * the random bytes 16 ids at a time from getrandom(2) instead. */
void rpc_id_new(char out[UUID_HEX_LEN])
{
	static const char hex[] = "0123456789abcdef";
	static __thread unsigned char pool[256];
	static __thread size_t used = sizeof pool;
	unsigned char *u;

	if (used == sizeof pool) {
		if (getrandom(pool, sizeof pool, 0) != (ssize_t)sizeof pool) {
			uuid_new_hex(out);
			return;
		}
		used = 0;
	}
	u = pool + used;
	used += 16;
	u[6] = (unsigned char)((u[6] & 0x0f) | 0x40); /* version 4 */
	u[8] = (unsigned char)((u[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	for (int i = 0; i < 16; i++) {
		out[2 * i] = hex[u[i] >> 4];
		out[2 * i + 1] = hex[u[i] & 15];
	}
	out[32] = '\0';
	memset(u, 0, 16);
}

/* jansson escapes and unescapes strings through its generic machinery,
 * at over 100 instructions a byte: for the envelope's one big string that
 * costs as much as the whole message, both ways (callgrind), on the
 * critical path of every call twice. The envelope is therefore written
 * here, byte for byte as jansson's compact dump would write it, and read
 * here when it has the exact form kumo or oslo writes (anything else goes
 * through jansson, which also parses the message inside either way). */
static const char ENV_HEAD[] = RPC_ENV_HEAD;

/* The JSON escape of c, a quote, a backslash or a control character
 * (json_dumps writes none of the latter, but the string must stay valid
 * JSON whatever it holds): its length, and the text in esc. */
static size_t escape(unsigned char c, char esc[6])
{
	static const char hex[] = "0123456789abcdef";

	if (c == '"' || c == '\\') {
		esc[0] = '\\';
		esc[1] = (char)c;
		return 2;
	}
	memcpy(esc, "\\u00", 4);
	esc[4] = hex[c >> 4];
	esc[5] = hex[c & 15];
	return 6;
}

static bool plain(unsigned char c)
{
	return c >= 0x20 && c != '"' && c != '\\';
}

char *rpc_envelope_encode(const json_t *msg, size_t *len)
{
	char *inner, *body, *o, esc[6];
	size_t n = sizeof ENV_HEAD - 1 + 2;

	inner = json_dumps(msg, JSON_COMPACT);
	if (inner == NULL)
		return NULL;
	for (const unsigned char *p = (unsigned char *)inner; *p != '\0'; p++)
		n += plain(*p) ? 1 : escape(*p, esc);
	body = malloc(n + 1);
	if (body != NULL) {
		o = mempcpy(body, ENV_HEAD, sizeof ENV_HEAD - 1);
		for (const unsigned char *p = (unsigned char *)inner; *p != '\0'; p++) {
			if (plain(*p)) {
				*o++ = (char)*p;
			} else {
				size_t k = escape(*p, esc);
				memcpy(o, esc, k);
				o += k;
			}
		}
		memcpy(o, "\"}", 3);
		*len = n;
	}
	free(inner);
	return body;
}


/* The envelope as oslo (json.dumps) writes it; kumo's is ENV_HEAD. */
static const char ENV_OSLO[] = "{\"oslo.version\": \"" RPC_ENVELOPE_VERSION "\", \"oslo.message\": \"";

static bool hex4(const char *s, const char *end, unsigned *v)
{
	*v = 0;
	if (end - s < 4)
		return false;
	for (int i = 0; i < 4; i++) {
		int c = (unsigned char)s[i], d = c >= '0' && c <= '9' ? c - '0' :
		    c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (d < 0)
			return false;
		*v = *v << 4 | (unsigned)d;
	}
	return true;
}

static char *utf8_put(char *o, unsigned cp)
{
	if (cp < 0x80) {
		*o++ = (char)cp;
	} else if (cp < 0x800) {
		*o++ = (char)(0xc0 | cp >> 6);
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*o++ = (char)(0xe0 | cp >> 12);
		*o++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*o++ = (char)(0xf0 | cp >> 18);
		*o++ = (char)(0x80 | (cp >> 12 & 0x3f));
		*o++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	}
	return o;
}

bool rpc_json_unescape(const char **sp, const char *end, char **op)
{
	const char *s = *sp;
	char *o = *op;
	unsigned cp = 0, lo;
	unsigned char c;

	if (s == end)
		return false;
	c = (unsigned char)*s++;
	if (c == '"' || c == '\\' || c == '/') {
		*o++ = (char)c;
	} else if (c == 'b' || c == 'f' || c == 'n' || c == 'r' || c == 't') {
		*o++ = c == 'b' ? '\b' : c == 'f' ? '\f' : c == 'n' ? '\n' : c == 'r' ? '\r' : '\t';
	} else if (c != 'u' || !hex4(s, end, &cp) || cp == 0) {
		return false;
	} else if (cp < 0xd800 || cp > 0xdfff) {
		s += 4;
		o = utf8_put(o, cp);
	} else if (cp <= 0xdbff && end - s >= 10 && s[4] == '\\' && s[5] == 'u' &&
	    hex4(s + 6, end, &lo) && lo >= 0xdc00 && lo <= 0xdfff) {
		s += 10;
		o = utf8_put(o, 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00));
	} else {
		return false;
	}
	*sp = s;
	*op = o;
	return true;
}

/* The JSON string that starts at s (after its opening quote), unescaped,
 * when its closing quote is followed by exactly "}" and the end: a
 * malloc'd copy (*n bytes, NUL-terminated; never longer than the escaped
 * text). NULL when the body has any other form, or an escape this does
 * not take (\u0000, a lone surrogate): jansson judges it then. Raw bytes
 * are copied as they are; the parse of the message checks their UTF-8. */
static char *envelope_inner(const char *s, const char *end, size_t *n)
{
	char *out = malloc((size_t)(end - s) + 1), *o = out;

	while (out != NULL && s < end) {
		unsigned char c = (unsigned char)*s++;
		if (c == '"') {
			if (end - s != 1 || *s != '}')
				break;
			*o = '\0';
			*n = (size_t)(o - out);
			return out;
		}
		if (c < 0x20)
			break;
		if (c != '\\')
			*o++ = (char)c;
		else if (!rpc_json_unescape(&s, end, &o))
			break;
	}
	free(out);
	return NULL;
}

char *rpc_envelope_text(const void *body, size_t len, size_t *n)
{
	for (size_t i = 0; i < 2; i++) {
		const char *form = i == 0 ? ENV_HEAD : ENV_OSLO, *b = body;
		size_t flen = i == 0 ? sizeof ENV_HEAD - 1 : sizeof ENV_OSLO - 1;
		if (len > flen && memcmp(b, form, flen) == 0)
			return envelope_inner(b + flen, b + len, n);
	}
	return NULL;
}

/* oslo's version_is_compatible("2.0", v): same major, minor <= 0. */
static bool envelope_version_ok(const json_t *v)
{
	const char *s = json_string_value(v), *dot;
	char major[8];
	int mj, mn = 0;

	if (s == NULL)
		return false;
	dot = strchr(s, '.');
	if (dot == NULL)
		dot = s + strlen(s);
	if ((size_t)(dot - s) >= sizeof major)
		return false;
	memcpy(major, s, (size_t)(dot - s));
	major[dot - s] = '\0';
	if (num_parse_int(major, 0, 1000, &mj) == -1)
		return false;
	if (*dot == '.') {
		char minor[8];
		size_t n = strcspn(dot + 1, ".");
		if (n >= sizeof minor)
			return false;
		memcpy(minor, dot + 1, n);
		minor[n] = '\0';
		if (num_parse_int(minor, 0, 1000, &mn) == -1)
			return false;
	}
	return mj == 2 && mn == 0;
}

/* The parsed oslo.message (NULL: jerr says why): it must be an object. */
static enum rpc_decode_status inner_result(json_t *msg, const json_error_t *jerr,
    json_t **out, char *err, size_t errlen)
{
	if (msg == NULL) {
		str_fmt(err, errlen, "oslo.message is not JSON: %s", jerr->text);
		return RPC_DEC_BAD_JSON;
	}
	if (!json_is_object(msg)) {
		json_decref(msg);
		str_fmt(err, errlen, "oslo.message is not a JSON object");
		return RPC_DEC_NOT_OBJECT;
	}
	*out = msg;
	return RPC_DEC_OK;
}

enum rpc_decode_status rpc_envelope_decode(const void *body, size_t len,
    json_t **out, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *outer, *ver, *inner, *msg;
	size_t n;
	char *s;

	*out = NULL;
	if (len > RPC_MAX_BODY) {
		str_fmt(err, errlen, "message of %zu bytes over the %u byte cap",
		    len, RPC_MAX_BODY);
		return RPC_DEC_TOO_BIG;
	}
	if ((s = rpc_envelope_text(body, len, &n)) != NULL) {
		msg = json_loadb(s, n, JSON_ALLOW_NUL, &jerr);
		free(s);
		return inner_result(msg, &jerr, out, err, errlen);
	}
	outer = json_loadb(body, len, JSON_ALLOW_NUL, &jerr);
	if (outer == NULL) {
		str_fmt(err, errlen, "body is not JSON: %s", jerr.text);
		return RPC_DEC_BAD_JSON;
	}
	ver = json_object_get(outer, "oslo.version");
	inner = json_object_get(outer, "oslo.message");
	if (ver == NULL || inner == NULL) {
		if (!json_is_object(outer)) {
			json_decref(outer);
			str_fmt(err, errlen, "message is not a JSON object");
			return RPC_DEC_NOT_OBJECT;
		}
		*out = outer; /* envelope-less "1.0" message, taken as is */
		return RPC_DEC_OK;
	}
	if (!envelope_version_ok(ver)) {
		str_fmt(err, errlen, "unsupported envelope version %.32s",
		    json_is_string(ver) ? json_string_value(ver) : "(not a string)");
		json_decref(outer);
		return RPC_DEC_BAD_VERSION;
	}
	if (!json_is_string(inner)) {
		json_decref(outer);
		str_fmt(err, errlen, "oslo.message is not a string");
		return RPC_DEC_BAD_JSON;
	}
	msg = json_loadb(json_string_value(inner), json_string_length(inner),
	    JSON_ALLOW_NUL, &jerr);
	json_decref(outer);
	return inner_result(msg, &jerr, out, err, errlen);
}

/* A C string field: absent/null gives NULL (ok when !required); else a
 * string without NUL bytes, 1..max-1 bytes long. */
static int get_cstr(json_t *msg, const char *key, size_t max, bool required,
    const char **out)
{
	json_t *v = json_object_get(msg, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return required ? -1 : 0;
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    json_string_length(v) >= max ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return -1;
	*out = json_string_value(v);
	return 0;
}

static int bad(struct rpc_error *err, const char *what)
{
	rpc_error_set(err, "ValueError", "builtins", "malformed RPC message: %s", what);
	err->kind = RPC_ERR_INVALID;
	return -1;
}

static int decode_fields(struct rpc_request *req, struct rpc_error *err)
{
	json_t *msg = req->msg, *v;
	char why[200];

	if (get_cstr(msg, "_msg_id", RPC_ID_MAX, false, &req->msg_id) == -1)
		return bad(err, "_msg_id");
	if (req->msg_id != NULL &&
	    get_cstr(msg, "_reply_q", RPC_NAME_MAX, true, &req->reply_q) == -1) {
		req->msg_id = NULL; /* nowhere to answer */
		return bad(err, "_reply_q");
	}
	if (get_cstr(msg, "_unique_id", RPC_ID_MAX, false, &req->unique_id) == -1)
		return bad(err, "_unique_id");
	v = json_object_get(msg, "_timeout");
	if (v != NULL && !json_is_null(v)) {
		double d = json_number_value(v);
		if (!json_is_number(v) || d < 0 || d > 86400)
			return bad(err, "_timeout");
		req->monitor_s = (int)d;
	}
	if (rpc_ctx_decode(msg, &req->ctx, why, sizeof why) == -1)
		return bad(err, why);
	if (get_cstr(msg, "method", RPC_NAME_MAX, true, &req->method) == -1)
		return bad(err, "method is not a string");
	if (get_cstr(msg, "namespace", RPC_NAME_MAX, false, &req->namespace) == -1)
		return bad(err, "namespace");
	if (get_cstr(msg, "version", 32, false, &req->version) == -1)
		return bad(err, "version");
	v = json_object_get(msg, "args");
	if (v == NULL || json_is_null(v))
		req->args = json_object();
	else if (json_is_object(v))
		req->args = json_incref(v);
	else
		return bad(err, "args is not an object");
	return req->args != NULL ? 0 : bad(err, "out of memory");
}

int rpc_request_decode(json_t *msg, struct rpc_request *req, struct rpc_error *err)
{
	memset(req, 0, sizeof *req);
	req->msg = msg;
	if (!json_is_object(msg))
		return bad(err, "not an object");
	return decode_fields(req, err);
}

void rpc_request_clear(struct rpc_request *req)
{
	if (req == NULL)
		return;
	rpc_ctx_clear(&req->ctx);
	json_decref(req->msg);
	json_decref(req->args);
	free(req->text);
	free(req->invalid);
	memset(req, 0, sizeof *req);
}

json_t *rpc_request_encode(const struct rpc_target *target,
    const struct rpc_ctx *ctx, const char *method, json_t *args,
    const char *msg_id, const char *reply_q, const char *unique_id)
{
	json_t *msg = json_object();
	int rc = 0;

	if (args == NULL)
		args = json_object();
	if (msg == NULL || args == NULL) {
		json_decref(args);
		goto fail;
	}
	rc |= json_object_set_new(msg, "method", json_string(method));
	rc |= json_object_set_new(msg, "args", args);
	if (target->namespace != NULL)
		rc |= json_object_set_new(msg, "namespace", json_string(target->namespace));
	if (target->version != NULL)
		rc |= json_object_set_new(msg, "version", json_string(target->version));
	if (msg_id != NULL) {
		rc |= json_object_set_new(msg, "_msg_id", json_string(msg_id));
		rc |= json_object_set_new(msg, "_reply_q", json_string(reply_q));
		rc |= json_object_set_new(msg, "_timeout", json_null());
	}
	rc |= json_object_set_new(msg, "_unique_id", json_string(unique_id));
	rc |= rpc_ctx_encode(ctx, msg);
	if (rc == 0)
		return msg;
fail:
	json_decref(msg);
	return NULL;
}

char *rpc_failure_encode(const struct rpc_error *e)
{
	char line[1400];
	json_t *f;
	char *s = NULL;
	int rc = 0;

	/* The last line of a Python traceback: what a Python caller prints. */
	snprintf(line, sizeof line, "%s: %s\n", e->cls, e->message);
	f = json_object();
	if (f == NULL)
		return NULL;
	rc |= json_object_set_new(f, "class", json_string(e->cls));
	rc |= json_object_set_new(f, "module", json_string(e->module));
	rc |= json_object_set_new(f, "message", json_string(e->message));
	rc |= json_object_set_new(f, "tb", json_pack("[s]", line));
	rc |= json_object_set_new(f, "args", json_pack("[s]", e->message));
	rc |= json_object_set_new(f, "kwargs", json_object());
	if (rc == 0)
		s = json_dumps(f, JSON_COMPACT);
	json_decref(f);
	return s;
}

/* oslo strips "_Remote" from re-raised remote errors. */
static void strip_remote(char *s)
{
	size_t n = strlen(s), k = sizeof "_Remote" - 1;

	if (n > k && strcmp(s + n - k, "_Remote") == 0)
		s[n - k] = '\0';
}

int rpc_failure_decode(const char *s, struct rpc_error *e)
{
	json_t *f, *cls, *mod, *msg;

	memset(e, 0, sizeof *e);
	e->kind = RPC_ERR_REMOTE;
	f = json_loads(s, 0, NULL);
	cls = json_object_get(f, "class");
	mod = json_object_get(f, "module");
	msg = json_object_get(f, "message");
	if (!json_is_object(f) || !json_is_string(cls) || !json_is_string(mod)) {
		json_decref(f);
		str_copy(e->cls, "RemoteError", sizeof e->cls);
		str_copy(e->module, "oslo_messaging.rpc.client", sizeof e->module);
		str_copy(e->message, "malformed failure in reply", sizeof e->message);
		return -1;
	}
	str_copy(e->cls, json_string_value(cls), sizeof e->cls);
	str_copy(e->module, json_string_value(mod), sizeof e->module);
	if (json_is_string(msg))
		str_copy(e->message, json_string_value(msg), sizeof e->message);
	strip_remote(e->cls);
	strip_remote(e->module);
	json_decref(f);
	return 0;
}

json_t *rpc_reply_encode(const char *msg_id, const char *unique_id,
    json_t *result, const struct rpc_error *failure, bool ending)
{
	json_t *msg = json_object(), *fj = json_null();
	int rc = 0;

	if (result == NULL)
		result = json_null();
	if (failure != NULL) {
		char *fs = rpc_failure_encode(failure);
		json_decref(result);
		result = json_null();
		fj = fs ? json_string(fs) : NULL;
		free(fs);
	}
	if (msg == NULL || fj == NULL) {
		json_decref(result);
		json_decref(fj);
		json_decref(msg);
		return NULL;
	}
	rc |= json_object_set_new(msg, "result", result);
	rc |= json_object_set_new(msg, "failure", fj);
	rc |= json_object_set_new(msg, "ending", json_boolean(ending));
	rc |= json_object_set_new(msg, "_msg_id", json_string(msg_id));
	rc |= json_object_set_new(msg, "_unique_id", json_string(unique_id));
	if (rc != 0) {
		json_decref(msg);
		return NULL;
	}
	return msg;
}

int rpc_reply_decode(json_t *msg, struct rpc_reply *r, char *why, size_t whylen)
{
	json_t *failure, *ending;

	memset(r, 0, sizeof *r);
	if (get_cstr(msg, "_msg_id", RPC_ID_MAX, true, &r->msg_id) == -1) {
		str_fmt(why, whylen, "reply without a valid _msg_id");
		return -1;
	}
	ending = json_object_get(msg, "ending");
	if (ending != NULL && !json_is_boolean(ending) && !json_is_null(ending)) {
		str_fmt(why, whylen, "reply 'ending' is not a boolean");
		return -1;
	}
	r->ending = json_is_true(ending);
	r->result = json_object_get(msg, "result");
	if (r->result == NULL)
		r->result = json_null();
	failure = json_object_get(msg, "failure");
	if (failure != NULL && !json_is_null(failure)) {
		if (!json_is_string(failure)) {
			str_fmt(why, whylen, "reply 'failure' is not a string");
			return -1;
		}
		r->failed = true;
		rpc_failure_decode(json_string_value(failure), &r->err);
	}
	r->heartbeat = !r->ending && !r->failed && json_is_null(r->result);
	return 0;
}
