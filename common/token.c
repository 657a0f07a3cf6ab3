/*
 * kumo's token payload (crypto.h), sealed in a Fernet token. Not
 * Keystone's msgpack: only kumo reads it. Version 1, in order:
 *
 *   version      1 byte (1)
 *   methods      1 byte, TOKEN_M_* bits
 *   scope        1 byte, enum token_scope
 *   user_id      an id (below)
 *   scope_id     an id, for TOKEN_PROJECT and TOKEN_DOMAIN only
 *   appcred_id   an id, with TOKEN_M_APPCRED only
 *   expires_at   8 bytes, big-endian two's complement
 *   audit ids    1 byte count (1 or 2), then 16 raw bytes each
 *
 * An id is a byte 0x80 and 16 bytes for 32 lower-case hex characters (a
 * uuid4 hex, what Keystone's ids are), or its length (1-64) and its bytes
 * (printable ASCII, 0x21-0x7e). Every field has one encoding, so a
 * payload that parses is the one token_seal writes for what it holds.
 * issued_at is the Fernet timestamp. Two hex ids, an application
 * credential and two audit ids make 95 bytes: a 204-character token.
 */
#include <string.h>

#include "common/common.h"
#include "common/crypto.h"

#define PAYLOAD_VERSION 1
#define PAYLOAD_MAX 256
#define ID_HEX 0x80
#define ID_MAX (TOKEN_ID_LEN - 1)
#define AUDIT_BYTES 16
#define METHODS_ALL (TOKEN_M_PASSWORD | TOKEN_M_TOKEN | TOKEN_M_APPCRED)

struct buf {
	unsigned char *p;   /* NULL when reading */
	const unsigned char *in;
	size_t len, off;
	bool bad;
};

void token_audit_id(char out[TOKEN_AUDIT_LEN])
{
	unsigned char b[AUDIT_BYTES];

	if (crypto_random(b, sizeof b) < 0)
		fatalx("no random bytes for an audit id");
	b64url_encode(b, sizeof b, false, out, TOKEN_AUDIT_LEN);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static bool is_hex32(const char *s, size_t len)
{
	if (len != 32)
		return false;
	for (size_t i = 0; i < len; i++)
		if (hexval((unsigned char)s[i]) < 0)
			return false;
	return true;
}

static bool id_ok(const char *s, size_t len)
{
	if (len == 0 || len > ID_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

/* ---- writing ------------------------------------------------------------- */

static void put(struct buf *b, const void *data, size_t n)
{
	if (b->bad || n > b->len - b->off) {
		b->bad = true;
		return;
	}
	memcpy(b->p + b->off, data, n);
	b->off += n;
}

static void put_byte(struct buf *b, unsigned v)
{
	unsigned char c = (unsigned char)v;

	put(b, &c, 1);
}

static void put_id(struct buf *b, const char *id)
{
	size_t len = strnlen(id, TOKEN_ID_LEN);
	unsigned char raw[16];

	if (!id_ok(id, len)) {
		b->bad = true;
		return;
	}
	if (!is_hex32(id, len)) {
		put_byte(b, (unsigned)len);
		put(b, id, len);
		return;
	}
	for (int i = 0; i < 16; i++)
		raw[i] = (unsigned char)(hexval(id[2 * i]) << 4 |
		    hexval(id[2 * i + 1]));
	put_byte(b, ID_HEX);
	put(b, raw, sizeof raw);
}

static void put_audit(struct buf *b, const char *s)
{
	unsigned char raw[AUDIT_BYTES];
	size_t len = strnlen(s, TOKEN_AUDIT_LEN);

	if (len != TOKEN_AUDIT_LEN - 1 ||
	    b64url_decode(s, len, raw, sizeof raw) != AUDIT_BYTES) {
		b->bad = true;
		return;
	}
	put(b, raw, sizeof raw);
}

/* The scope's id as the payload holds it: "all" for the system scope is
 * implied, an unscoped token has none. */
static bool scope_ok(const struct token *t)
{
	switch (t->scope) {
	case TOKEN_UNSCOPED: return t->scope_id[0] == '\0';
	case TOKEN_SYSTEM: return strcmp(t->scope_id, "all") == 0;
	case TOKEN_PROJECT:
	case TOKEN_DOMAIN: return true;
	}
	return false;
}

int token_seal(const struct fernet_keys *k, const struct token *t,
    char out[TOKEN_MAX])
{
	unsigned char payload[PAYLOAD_MAX];
	struct buf b = { .p = payload, .len = sizeof payload };
	bool appcred = (t->methods & TOKEN_M_APPCRED) != 0;
	uint64_t exp = (uint64_t)t->expires_at;

	if (t->methods == 0 || (t->methods & ~(unsigned)METHODS_ALL) != 0 ||
	    !scope_ok(t) || appcred != (t->appcred_id[0] != '\0') ||
	    t->issued_at < 0)
		return -1;
	put_byte(&b, PAYLOAD_VERSION);
	put_byte(&b, t->methods);
	put_byte(&b, (unsigned)t->scope);
	put_id(&b, t->user_id);
	if (t->scope == TOKEN_PROJECT || t->scope == TOKEN_DOMAIN)
		put_id(&b, t->scope_id);
	if (appcred)
		put_id(&b, t->appcred_id);
	for (int i = 0; i < 8; i++)
		put_byte(&b, (unsigned)(exp >> (56 - 8 * i)) & 0xff);
	put_byte(&b, t->audit_ids[1][0] != '\0' ? 2 : 1);
	put_audit(&b, t->audit_ids[0]);
	if (t->audit_ids[1][0] != '\0')
		put_audit(&b, t->audit_ids[1]);
	if (b.bad)
		return -1;
	return fernet_seal(k, payload, b.off, (uint64_t)t->issued_at, out,
	    TOKEN_MAX);
}

/* ---- reading ------------------------------------------------------------- */

static const unsigned char *get(struct buf *b, size_t n)
{
	const unsigned char *p;

	if (b->bad || n > b->len - b->off) {
		b->bad = true;
		return NULL;
	}
	p = b->in + b->off;
	b->off += n;
	return p;
}

static unsigned get_byte(struct buf *b)
{
	const unsigned char *p = get(b, 1);

	return p != NULL ? *p : 0;
}

static void get_id(struct buf *b, char out[TOKEN_ID_LEN])
{
	static const char digits[] = "0123456789abcdef";
	unsigned len = get_byte(b);
	const unsigned char *p;

	out[0] = '\0';
	if (len == ID_HEX) {
		if ((p = get(b, 16)) == NULL)
			return;
		for (int i = 0; i < 16; i++) {
			out[2 * i] = digits[p[i] >> 4];
			out[2 * i + 1] = digits[p[i] & 15];
		}
		out[32] = '\0';
		return;
	}
	/* A hex id written out would have been packed: not canonical. */
	if ((p = get(b, len)) == NULL || !id_ok((const char *)p, len) ||
	    is_hex32((const char *)p, len)) {
		b->bad = true;
		return;
	}
	memcpy(out, p, len);
	out[len] = '\0';
}

static void get_audit(struct buf *b, char out[TOKEN_AUDIT_LEN])
{
	const unsigned char *p = get(b, AUDIT_BYTES);

	out[0] = '\0';
	if (p != NULL)
		b64url_encode(p, AUDIT_BYTES, false, out, TOKEN_AUDIT_LEN);
}

static int parse(const unsigned char *in, size_t len, struct token *t)
{
	struct buf b = { .in = in, .len = len };
	uint64_t exp = 0;
	unsigned naudit;

	memset(t, 0, sizeof *t);
	if (get_byte(&b) != PAYLOAD_VERSION)
		return -1;
	t->methods = get_byte(&b);
	t->scope = (enum token_scope)get_byte(&b);
	if (t->methods == 0 || (t->methods & ~(unsigned)METHODS_ALL) != 0 ||
	    (unsigned)t->scope > TOKEN_SYSTEM)
		return -1;
	get_id(&b, t->user_id);
	if (t->scope == TOKEN_PROJECT || t->scope == TOKEN_DOMAIN)
		get_id(&b, t->scope_id);
	else if (t->scope == TOKEN_SYSTEM)
		str_copy(t->scope_id, "all", sizeof t->scope_id);
	if (t->methods & TOKEN_M_APPCRED)
		get_id(&b, t->appcred_id);
	for (int i = 0; i < 8; i++)
		exp = exp << 8 | get_byte(&b);
	t->expires_at = (int64_t)exp;
	naudit = get_byte(&b);
	if (naudit != 1 && naudit != 2)
		return -1;
	for (unsigned i = 0; i < naudit; i++)
		get_audit(&b, t->audit_ids[i]);
	return b.bad || b.off != len ? -1 : 0;
}

int token_open(const struct fernet_keys *k, const char *s, struct token *t)
{
	unsigned char payload[PAYLOAD_MAX];
	uint64_t ts;
	size_t len;

	memset(t, 0, sizeof *t);
	if (fernet_open(k, s, payload, sizeof payload, &len, &ts) < 0 ||
	    ts > INT64_MAX || parse(payload, len, t) < 0) {
		memset(t, 0, sizeof *t);
		return -1;
	}
	t->issued_at = (int64_t)ts;
	return 0;
}
