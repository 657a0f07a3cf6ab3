/*
 * Unit tests of common/crypto.h: digests and HMAC against published
 * vectors, base64url, Fernet (the spec's vector, tampering, the key
 * repository), the token payload (every combination, 200,000 mutated
 * payloads), bcrypt, and Fernet against Python's cryptography when
 * /usr/bin/python3 has it.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/common.h"
#include "common/crypto.h"

/* ---- helpers ------------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void one_key(const char *b64, struct fernet_keys *k)
{
	memset(k, 0, sizeof *k);
	assert_int_equal(fernet_key_decode(b64, strlen(b64), k->key[0]), 0);
	k->n = 1;
}

static void random_keys(struct fernet_keys *k, int n)
{
	memset(k, 0, sizeof *k);
	assert_int_equal(crypto_random(k->key, sizeof k->key[0] * (size_t)n), 0);
	k->n = n;
}

static void rm_rf(const char *dir)
{
	char path[512];
	struct dirent *e;
	DIR *d = opendir(dir);

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* ---- digests ------------------------------------------------------------- */

static void test_digests(void **state)
{
	char hex[65], one[65];
	unsigned char buf[1000], mac[32];
	struct hash_ctx c = { 0 };
	static const unsigned char rfc4231_6[32] = {
		0x60, 0xe4, 0x31, 0x59, 0x1e, 0xe0, 0xb6, 0x7f, 0x0d, 0x8a, 0x26,
		0xaa, 0xcb, 0xf5, 0xb7, 0x7f, 0x8e, 0x0b, 0xc6, 0x21, 0x37, 0x28,
		0xc5, 0x14, 0x05, 0x46, 0x04, 0x0f, 0x0e, 0xe3, 0x7f, 0x54,
	};
	static const unsigned char empty[32] = {
		0xb6, 0x13, 0x67, 0x9a, 0x08, 0x14, 0xd9, 0xec, 0x77, 0x2f, 0x95,
		0xd7, 0x78, 0xc3, 0x5f, 0xc5, 0xff, 0x16, 0x97, 0xc4, 0x93, 0x71,
		0x56, 0x53, 0xc6, 0xc7, 0x12, 0x14, 0x42, 0x92, 0xc5, 0xad,
	};
	unsigned char longkey[131];
	static const unsigned char rfc4231_2[32] = {
		0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24,
		0x26, 0x08, 0x95, 0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27,
		0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43,
	};

	(void)state;
	sha256_hex("", 0, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sha256_hex("abc", 3, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	sha224_hex("", 0, hex);
	assert_string_equal(hex, "d14a028c2a3a2bc9476102bb288234c415a2b01f828ea62ac5b3e42f");
	sha224_hex("abc", 3, hex);
	assert_string_equal(hex, "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7");
	md5_hex("", 0, hex);
	assert_string_equal(hex, "d41d8cd98f00b204e9800998ecf8427e");
	md5_hex("abc", 3, hex);
	assert_string_equal(hex, "900150983cd24fb0d6963f7d28e17f72");

	/* Incremental in uneven pieces = one shot, for each digest. */
	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (unsigned char)(i * 7 + 3);
	int (*inits[])(struct hash_ctx *) = { sha256_init, sha224_init, md5_init };
	void (*shots[])(const void *, size_t, char *) = { sha256_hex, sha224_hex,
		md5_hex };
	for (int d = 0; d < 3; d++) {
		size_t off = 0, step = 1;

		assert_int_equal(inits[d](&c), 0);
		while (off < sizeof buf) {
			size_t n = step < sizeof buf - off ? step : sizeof buf - off;

			hash_update(&c, buf + off, n);
			off += n;
			step = step * 3 % 97 + 1;
		}
		hash_final_hex(&c, hex);
		shots[d](buf, sizeof buf, one);
		assert_string_equal(hex, one);
		hash_abort(&c);    /* finished: nothing to do */
	}
	/* An abandoned digest is released by hash_abort (LeakSanitizer). */
	assert_int_equal(sha256_init(&c), 0);
	hash_update(&c, "abc", 3);
	hash_abort(&c);
	hash_abort(&c);

	/* RFC 4231, test case 2. */
	hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, mac);
	assert_memory_equal(mac, rfc4231_2, 32);
	/* RFC 4231, test case 6: a key longer than the block is hashed first. */
	memset(longkey, 0xaa, sizeof longkey);
	hmac_sha256(longkey, sizeof longkey, "Test Using Larger Than Block-Size "
	    "Key - Hash Key First", 54, mac);
	assert_memory_equal(mac, rfc4231_6, 32);
	/* Empty key and message (Python's hmac agrees). */
	hmac_sha256("", 0, "", 0, mac);
	assert_memory_equal(mac, empty, 32);
}

static void test_b64url(void **state)
{
	static const struct {
		const char *in, *plain, *padded;
	} v[] = {
		{ "", "", "" }, { "f", "Zg", "Zg==" }, { "fo", "Zm8", "Zm8=" },
		{ "foo", "Zm9v", "Zm9v" }, { "foob", "Zm9vYg", "Zm9vYg==" },
		{ "\xfb\xff", "-_8", "-_8=" },
	};
	static const char *const bad[] = { "Z", "Zh", "Zg=", "Zg===", "Z===",
		"Zm9v=", "Zm+v", "Zm/v", "Zm9v\n", "Zg=a", "=Zg=" };
	unsigned char out[16];
	char enc[16];

	(void)state;
	for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
		size_t n = strlen(v[i].in);

		assert_int_equal(b64url_encode(v[i].in, n, false, enc, sizeof enc),
		    (int)strlen(v[i].plain));
		assert_string_equal(enc, v[i].plain);
		assert_int_equal(b64url_encode(v[i].in, n, true, enc, sizeof enc),
		    (int)strlen(v[i].padded));
		assert_string_equal(enc, v[i].padded);
		assert_int_equal(b64url_decode(v[i].plain, strlen(v[i].plain), out,
		    sizeof out), (long)n);
		assert_memory_equal(out, v[i].in, n);
		assert_int_equal(b64url_decode(v[i].padded, strlen(v[i].padded),
		    out, sizeof out), (long)n);
	}
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_int_equal(b64url_decode(bad[i], strlen(bad[i]), out,
		    sizeof out), -1);
	assert_int_equal(b64url_decode("Zm9v", 4, out, 2), -1);
	assert_int_equal(b64url_encode("foo", 3, false, enc, 4), -1);
}

/* ---- Fernet -------------------------------------------------------------- */

/* github.com/fernet/spec, generate.json and verify.json. */
#define SPEC_SECRET "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4="
#define SPEC_TOKEN "gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_" \
	"5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4IwqDA=="
#define SPEC_TS 499162800

static void test_fernet_spec(void **state)
{
	static const unsigned char iv[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
		11, 12, 13, 14, 15 };
	struct fernet_keys k;
	char msg[64], tok[256];
	uint64_t ts = 0;
	size_t len = 0;

	(void)state;
	one_key(SPEC_SECRET, &k);
	assert_int_equal(fernet_open(&k, SPEC_TOKEN, msg, sizeof msg, &len,
	    &ts), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(msg, "hello", 5);
	assert_int_equal(ts, SPEC_TS);
	/* Without its padding, as Keystone writes tokens. */
	str_copy(tok, SPEC_TOKEN, sizeof tok);
	tok[strlen(tok) - 2] = '\0';
	assert_int_equal(fernet_open(&k, tok, msg, sizeof msg, &len, &ts), 0);
	/* Sealing gives the same token, unpadded. */
	assert_int_equal(fernet_seal_iv(&k, "hello", 5, SPEC_TS, iv, msg,
	    sizeof msg), -1);  /* too small */
	assert_int_equal(fernet_seal_iv(&k, "hello", 5, SPEC_TS, iv, tok + 128,
	    128), 0);
	assert_string_equal(tok + 128, tok);
	/* Too small a buffer for the message. */
	assert_int_equal(fernet_open(&k, SPEC_TOKEN, msg, 4, &len, &ts), -1);
}

/* Every length around the block size comes back whole: PKCS#7 adds a
 * full block to a multiple of 16, 1-16 bytes otherwise. */
static void test_fernet_lengths(void **state)
{
	struct fernet_keys k;
	char tok[256], in[50], msg[64];
	size_t len;
	uint64_t ts;

	(void)state;
	random_keys(&k, 1);
	for (size_t i = 0; i < sizeof in; i++)
		in[i] = (char)('a' + i % 26);
	for (size_t n = 0; n <= sizeof in; n++) {
		assert_int_equal(fernet_seal(&k, in, n, 1700000000 + n, tok,
		    sizeof tok), 0);
		/* 0x80, time, IV, n / 16 + 1 blocks, HMAC; base64 unpadded. */
		assert_int_equal(strlen(tok),
		    ((25 + (n / 16 + 1) * 16 + 32) * 4 + 2) / 3);
		assert_int_equal(fernet_open(&k, tok, msg, sizeof msg, &len, &ts),
		    0);
		assert_int_equal(len, n);
		assert_int_equal(ts, 1700000000 + n);
		assert_memory_equal(msg, in, n);
	}
}

static void test_fernet_tamper(void **state)
{
	struct fernet_keys k, other;
	char tok[256], bad[256], msg[64];
	size_t n, len;
	uint64_t ts;

	(void)state;
	random_keys(&k, 1);
	random_keys(&other, 1);
	assert_int_equal(fernet_seal(&k, "a message of 33 bytes, 3 blocks.", 33,
	    1700000000, tok, sizeof tok), 0);
	n = strlen(tok);
	assert_null(strchr(tok, '='));
	assert_int_equal(fernet_open(&k, tok, msg, sizeof msg, &len, &ts), 0);
	assert_int_equal(len, 33);
	assert_int_equal(ts, 1700000000);
	assert_int_equal(fernet_open(&other, tok, msg, sizeof msg, &len, &ts), -1);
	/* Another key of the set opens it. */
	memcpy(other.key[1], k.key[0], FERNET_KEY_LEN);
	other.n = 2;
	assert_int_equal(fernet_open(&other, tok, msg, sizeof msg, &len, &ts), 0);
	for (size_t i = 0; i < n; i++)
		for (int b = 0; b < 8; b++) {
			memcpy(bad, tok, n + 1);
			bad[i] ^= (char)(1 << b);
			assert_int_equal(fernet_open(&k, bad, msg, sizeof msg, &len,
			    &ts), -1);
		}
	for (size_t i = 0; i < n; i++) {
		memcpy(bad, tok, i);
		bad[i] = '\0';
		assert_int_equal(fernet_open(&k, bad, msg, sizeof msg, &len, &ts),
		    -1);
	}
	snprintf(bad, sizeof bad, "%sAAAA", tok);
	assert_int_equal(fernet_open(&k, bad, msg, sizeof msg, &len, &ts), -1);
	assert_int_equal(fernet_seal(&k, "x", 1, 1, tok, 20), -1);
}

static void test_fernet_repo(void **state)
{
	char base[] = "/tmp/kumo-fernet-XXXXXX", dir[64], path[80], err[256];
	char tok1[256], tok2[256], msg[16], key1[64];
	struct fernet_keys k, k2, staged;
	int ids[FERNET_MAX_KEYS];
	struct stat st;
	size_t len;
	uint64_t ts;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(base));
	snprintf(dir, sizeof dir, "%s/keys", base);
	assert_int_equal(fernet_rotate(dir, 3, err, sizeof err), -1);
	assert_int_equal(fernet_setup(dir, err, sizeof err), 0);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(fernet_list(dir, ids, err, sizeof err), 2);
	assert_int_equal(ids[0], 0);
	assert_int_equal(ids[1], 1);
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof path, "%s/%d", dir, i);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0600);
		assert_int_equal(st.st_size, 44);
	}
	snprintf(path, sizeof path, "%s/1", dir);
	assert_non_null(f = fopen(path, "r"));
	assert_non_null(fgets(key1, sizeof key1, f));
	fclose(f);
	/* Set up again: left as it is. */
	assert_int_equal(fernet_setup(dir, err, sizeof err), 0);
	assert_non_null(f = fopen(path, "r"));
	assert_non_null(fgets(msg, sizeof msg, f));
	fclose(f);
	assert_memory_equal(msg, key1, sizeof msg - 1);

	assert_int_equal(fernet_load(dir, &k, err, sizeof err), 0);
	assert_int_equal(k.n, 2);
	assert_int_equal(fernet_seal(&k, "one", 3, 10, tok1, sizeof tok1), 0);
	/* A node that rotated first seals with the staged key: opens here. */
	memset(&staged, 0, sizeof staged);
	memcpy(staged.key[0], k.key[1], FERNET_KEY_LEN);
	staged.n = 1;
	assert_int_equal(fernet_seal(&staged, "st", 2, 10, tok2, sizeof tok2), 0);
	assert_int_equal(fernet_open(&k, tok2, msg, sizeof msg, &len, &ts), 0);

	/* Rotate: 0 -> 2 (primary), a new 0; tokens of 1 still open. */
	assert_int_equal(fernet_rotate(dir, 3, err, sizeof err), 0);
	assert_int_equal(fernet_list(dir, ids, err, sizeof err), 3);
	assert_int_equal(ids[2], 2);
	assert_int_equal(fernet_load(dir, &k2, err, sizeof err), 0);
	assert_int_equal(k2.n, 3);
	assert_memory_equal(k2.key[0], k.key[1], FERNET_KEY_LEN);
	assert_int_equal(fernet_open(&k2, tok1, msg, sizeof msg, &len, &ts), 0);
	assert_int_equal(fernet_seal(&k2, "two", 3, 11, tok2, sizeof tok2), 0);
	snprintf(path, sizeof path, "%s/0", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);

	/* Past max_active: 1, the oldest secondary, goes. */
	assert_int_equal(fernet_rotate(dir, 3, err, sizeof err), 0);
	assert_int_equal(fernet_list(dir, ids, err, sizeof err), 3);
	assert_int_equal(ids[0], 0);
	assert_int_equal(ids[1], 2);
	assert_int_equal(ids[2], 3);
	assert_int_equal(fernet_load(dir, &k2, err, sizeof err), 0);
	assert_int_equal(fernet_open(&k2, tok1, msg, sizeof msg, &len, &ts), -1);
	assert_int_equal(fernet_open(&k2, tok2, msg, sizeof msg, &len, &ts), 0);
	assert_int_equal(fernet_rotate(dir, 1, err, sizeof err), -1);

	/* Open to others: refused, naming what. */
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(fernet_load(dir, &k2, err, sizeof err), -1);
	assert_non_null(strstr(err, dir));
	assert_int_equal(chmod(dir, 0700), 0);
	snprintf(path, sizeof path, "%s/3", dir);
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(fernet_load(dir, &k2, err, sizeof err), -1);
	assert_non_null(strstr(err, path));
	/* A final newline is fine; anything else wrong names the file. */
	write_file(path, SPEC_SECRET "\n", 0600);
	assert_int_equal(fernet_load(dir, &k2, err, sizeof err), 0);
	assert_memory_equal(k2.key[0], (one_key(SPEC_SECRET, &k), k.key[0]),
	    FERNET_KEY_LEN);
	write_file(path, SPEC_SECRET "\n\n", 0600);
	assert_int_equal(fernet_load(dir, &k2, err, sizeof err), -1);
	assert_non_null(strstr(err, path));
	write_file(path, "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4", 0600);
	assert_int_equal(fernet_load(dir, &k2, err, sizeof err), -1);
	/* A file that is not a key number is not a key. */
	write_file(path, SPEC_SECRET, 0600);
	snprintf(path, sizeof path, "%s/.3.tmp", dir);
	write_file(path, "junk", 0644);
	snprintf(path, sizeof path, "%s/03", dir);
	write_file(path, "junk", 0644);
	assert_int_equal(fernet_load(dir, &k2, err, sizeof err), 0);
	assert_int_equal(k2.n, 3);
	rm_rf(dir);
	assert_int_equal(fernet_load(dir, &k2, err, sizeof err), -1);
	rmdir(base);
}

/* ---- token payload ------------------------------------------------------- */

static const char hex_a[] = "0123456789abcdef0123456789abcdef";
static const char hex_b[] = "fedcba9876543210fedcba9876543210";
static const char hex_c[] = "00000000000000000000000000000000";

static void token_fill(struct token *t, unsigned methods,
    enum token_scope scope, int naudit)
{
	memset(t, 0, sizeof *t);
	t->methods = methods;
	str_copy(t->user_id, hex_a, sizeof t->user_id);
	t->scope = scope;
	if (scope == TOKEN_PROJECT)
		str_copy(t->scope_id, hex_b, sizeof t->scope_id);
	else if (scope == TOKEN_DOMAIN)
		str_copy(t->scope_id, "default", sizeof t->scope_id);
	else if (scope == TOKEN_SYSTEM)
		str_copy(t->scope_id, "all", sizeof t->scope_id);
	if (methods & TOKEN_M_APPCRED)
		str_copy(t->appcred_id, hex_c, sizeof t->appcred_id);
	t->issued_at = 1764078551;
	t->expires_at = 1764082151;
	token_audit_id(t->audit_ids[0]);
	if (naudit == 2)
		token_audit_id(t->audit_ids[1]);
}

static void token_equal(const struct token *a, const struct token *b)
{
	assert_int_equal(a->methods, b->methods);
	assert_string_equal(a->user_id, b->user_id);
	assert_int_equal(a->scope, b->scope);
	assert_string_equal(a->scope_id, b->scope_id);
	assert_string_equal(a->appcred_id, b->appcred_id);
	assert_int_equal(a->issued_at, b->issued_at);
	assert_int_equal(a->expires_at, b->expires_at);
	assert_string_equal(a->audit_ids[0], b->audit_ids[0]);
	assert_string_equal(a->audit_ids[1], b->audit_ids[1]);
}

static void test_token_roundtrip(void **state)
{
	static const unsigned methods[] = { TOKEN_M_PASSWORD, TOKEN_M_TOKEN,
		TOKEN_M_APPCRED, TOKEN_M_PASSWORD | TOKEN_M_TOKEN,
		TOKEN_M_PASSWORD | TOKEN_M_APPCRED, TOKEN_M_TOKEN | TOKEN_M_APPCRED,
		TOKEN_M_PASSWORD | TOKEN_M_TOKEN | TOKEN_M_APPCRED };
	struct fernet_keys k, other;
	struct token t, u;
	char tok[TOKEN_MAX];

	(void)state;
	random_keys(&k, 2);
	random_keys(&other, 1);
	for (size_t m = 0; m < sizeof methods / sizeof *methods; m++)
		for (int s = TOKEN_UNSCOPED; s <= TOKEN_SYSTEM; s++)
			for (int a = 1; a <= 2; a++) {
				token_fill(&t, methods[m], (enum token_scope)s, a);
				assert_int_equal(token_seal(&k, &t, tok), 0);
				assert_true(strlen(tok) <= 255);
				assert_int_equal(token_open(&k, tok, &u), 0);
				token_equal(&t, &u);
				assert_int_equal(token_open(&other, tok, &u), -1);
			}
	/* The common case with every field at its longest stays short. */
	token_fill(&t, TOKEN_M_PASSWORD | TOKEN_M_TOKEN | TOKEN_M_APPCRED,
	    TOKEN_PROJECT, 2);
	t.expires_at = INT64_MIN;
	assert_int_equal(token_seal(&k, &t, tok), 0);
	assert_true(strlen(tok) <= 204);
	assert_int_equal(token_open(&k, tok, &u), 0);
	token_equal(&t, &u);
	/* Ids that are not lower-case hex, up to the limit of 64. */
	str_copy(t.appcred_id, "!~", sizeof t.appcred_id);
	str_copy(t.user_id, "0123456789ABCDEF0123456789ABCDEF", sizeof t.user_id);
	assert_int_equal(token_seal(&k, &t, tok), 0);
	assert_int_equal(token_open(&k, tok, &u), 0);
	token_equal(&t, &u);
	token_fill(&t, TOKEN_M_PASSWORD, TOKEN_PROJECT, 1);
	memset(t.scope_id, 'p', 64);
	t.scope_id[64] = '\0';
	assert_int_equal(token_seal(&k, &t, tok), 0);
	assert_true(strlen(tok) <= 255);
	assert_int_equal(token_open(&k, tok, &u), 0);
	token_equal(&t, &u);
	/* What does not fit or is not well formed is refused. */
	t.scope_id[64] = 'p';
	assert_int_equal(token_seal(&k, &t, tok), -1);  /* 65 */
	t.scope_id[64] = '\0';
	memset(t.user_id, 'u', 64);
	assert_int_equal(token_seal(&k, &t, tok), -1);  /* > 255 characters */
	token_fill(&t, TOKEN_M_PASSWORD, TOKEN_PROJECT, 1);
	str_copy(t.user_id, "has space", sizeof t.user_id);
	assert_int_equal(token_seal(&k, &t, tok), -1);
	token_fill(&t, TOKEN_M_PASSWORD, TOKEN_PROJECT, 1);
	t.scope_id[0] = '\0';
	assert_int_equal(token_seal(&k, &t, tok), -1);
	token_fill(&t, TOKEN_M_PASSWORD, TOKEN_SYSTEM, 1);
	t.scope_id[0] = '\0';
	assert_int_equal(token_seal(&k, &t, tok), -1);
	token_fill(&t, TOKEN_M_PASSWORD, TOKEN_UNSCOPED, 1);
	str_copy(t.appcred_id, hex_c, sizeof t.appcred_id);
	assert_int_equal(token_seal(&k, &t, tok), -1);
	token_fill(&t, 8, TOKEN_UNSCOPED, 1);
	assert_int_equal(token_seal(&k, &t, tok), -1);
	token_fill(&t, TOKEN_M_PASSWORD, TOKEN_UNSCOPED, 1);
	t.audit_ids[0][21] = 'B';  /* left-over bits set: not 16 bytes */
	assert_int_equal(token_seal(&k, &t, tok), -1);
	token_fill(&t, TOKEN_M_PASSWORD, TOKEN_UNSCOPED, 1);
	t.issued_at = -1;
	assert_int_equal(token_seal(&k, &t, tok), -1);
	assert_int_equal(token_open(&k, "", &u), -1);
	assert_int_equal(token_open(&k, "gAAAA", &u), -1);
}

/* The payload of a token sealed under k. */
static size_t payload_of(const struct fernet_keys *k, const char *tok,
    unsigned char *p, size_t cap)
{
	uint64_t ts;
	size_t len = 0;

	assert_int_equal(fernet_open(k, tok, p, cap, &len, &ts), 0);
	return len;
}

static size_t mutate(unsigned char *p, size_t len, size_t cap)
{
	static const unsigned char special[] = { 0, 1, 2, 3, 4, 16, 32, 33, 34,
		0x20, 0x21, 0x40, 0x41, 0x7e, 0x7f, 0x80, 0x81, 0xff };
	int rounds = 1 + (int)(rnd() % 3);

	for (int r = 0; r < rounds; r++) {
		size_t at = len > 0 ? rnd() % len : 0;

		switch (rnd() % 6) {
		case 0:
			if (len > 0)
				p[at] ^= (unsigned char)(1 << rnd() % 8);
			break;
		case 1:
			if (len > 0)
				p[at] = special[rnd() % sizeof special];
			break;
		case 2:
			if (len > 0)
				p[at] = (unsigned char)rnd();
			break;
		case 3:
			len = len > 0 ? rnd() % len : 0;
			break;
		case 4:
			if (len < cap) {
				memmove(p + at + 1, p + at, len - at);
				p[at] = special[rnd() % sizeof special];
				len++;
			}
			break;
		default:
			if (len > 0) {
				memmove(p + at, p + at + 1, len - at - 1);
				len--;
			}
		}
	}
	return len;
}

static void test_token_mutations(void **state)
{
	struct fernet_keys k;
	struct token base[6], t;
	unsigned char orig[6][256], p[256], again[256];
	size_t olen[6], len, alen;
	char tok[512];
	int opened = 0;

	(void)state;
	random_keys(&k, 1);
	token_fill(&base[0], TOKEN_M_PASSWORD, TOKEN_UNSCOPED, 1);
	token_fill(&base[1], TOKEN_M_PASSWORD | TOKEN_M_TOKEN, TOKEN_PROJECT, 2);
	token_fill(&base[2], TOKEN_M_APPCRED, TOKEN_PROJECT, 1);
	token_fill(&base[3], TOKEN_M_TOKEN, TOKEN_DOMAIN, 2);
	token_fill(&base[4], TOKEN_M_PASSWORD, TOKEN_SYSTEM, 1);
	token_fill(&base[5], TOKEN_M_PASSWORD | TOKEN_M_APPCRED, TOKEN_DOMAIN, 2);
	str_copy(base[5].user_id, "admin", sizeof base[5].user_id);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(token_seal(&k, &base[i], tok), 0);
		olen[i] = payload_of(&k, tok, orig[i], sizeof orig[i]);
	}
	for (int n = 0; n < 200000; n++) {
		int b = (int)(rnd() % 6);

		memcpy(p, orig[b], olen[b]);
		len = mutate(p, olen[b], 240);
		assert_int_equal(fernet_seal(&k, p, len, (uint64_t)base[b].issued_at,
		    tok, sizeof tok), 0);
		if (token_open(&k, tok, &t) < 0)
			continue;
		opened++;
		if (len == olen[b] && memcmp(p, orig[b], len) == 0) {
			token_equal(&t, &base[b]);
			continue;
		}
		/* Changed yet valid: it must be exactly what token_seal writes
		 * for what it holds, so it cannot be the original. */
		if (token_seal(&k, &t, tok) < 0)
			fail_msg("payload opened but cannot be sealed (round %d)", n);
		alen = payload_of(&k, tok, again, sizeof again);
		assert_int_equal(alen, len);
		assert_memory_equal(again, p, len);
	}
	assert_true(opened > 0);
}

/* ---- passwords and secrets ----------------------------------------------- */

static void test_password(void **state)
{
	char h1[PASSWORD_HASH_MAX], h2[PASSWORD_HASH_MAX], secret[100];
	char long1[80], long2[80];
	unsigned char raw[16];

	(void)state;
	assert_int_equal(password_hash("s3cret", 4, h1), 0);
	assert_int_equal(strncmp(h1, "$2b$04$", 7), 0);
	assert_int_equal(strlen(h1), 60);
	assert_true(password_verify("s3cret", h1));
	assert_false(password_verify("s3creT", h1));
	assert_false(password_verify("", h1));
	assert_int_equal(password_hash("s3cret", 4, h2), 0);
	assert_string_not_equal(h1, h2);
	assert_true(password_verify("s3cret", h2));
	assert_false(password_verify("s3cret", ""));
	assert_false(password_verify("s3cret", "*0"));
	assert_false(password_verify("s3cret", "$1$abc$def"));
	assert_false(password_verify("s3cret", "$2b$04$short"));
	h2[strlen(h2) - 1] = h2[strlen(h2) - 1] == 'a' ? 'b' : 'a';
	assert_false(password_verify("s3cret", h2));
	assert_int_equal(password_hash("x", 3, h2), -1);
	assert_int_equal(password_hash("x", 32, h2), -1);
	/* bcrypt reads 72 bytes: a 73rd does not count. */
	memset(long1, 'p', 72);
	long1[72] = '\0';
	memcpy(long2, long1, 72);
	memcpy(long2 + 72, "X", 2);
	assert_int_equal(password_hash(long1, 4, h1), 0);
	assert_true(password_verify(long2, h1));
	long1[71] = 'q';
	assert_false(password_verify(long1, h1));

	assert_true(crypto_equal("abc", "abc", 3));
	assert_false(crypto_equal("abc", "abd", 3));
	assert_int_equal(crypto_secret(64, secret, sizeof secret), 0);
	assert_int_equal(strlen(secret), 86);
	assert_int_equal(strspn(secret, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
	    "qrstuvwxyz0123456789-_"), 86);
	assert_int_equal(crypto_secret(64, secret, 86), -1);
	token_audit_id(secret);
	assert_int_equal(strlen(secret), 22);
	assert_int_equal(b64url_decode(secret, 22, raw, sizeof raw), 16);
}

/* ---- Python's cryptography ------------------------------------------------ */

static void run_python(const char *script, const char *a, const char *b,
    char *out, size_t outlen)
{
	char cmd[2048];
	FILE *p;

	snprintf(cmd, sizeof cmd, "/usr/bin/python3 -c '%s' '%s' '%s'", script,
	    a, b);
	assert_non_null(p = popen(cmd, "r"));
	out[0] = '\0';
	assert_non_null(fgets(out, (int)outlen, p));
	assert_int_equal(pclose(p), 0);
	out[strcspn(out, "\n")] = '\0';
}

static void test_python_fernet(void **state)
{
	static const char decrypt[] =
	    "import sys\nfrom cryptography.fernet import Fernet\n"
	    "t = sys.argv[2] + \"=\" * (-len(sys.argv[2]) % 4)\n"
	    "print(Fernet(sys.argv[1].encode()).decrypt(t.encode()).decode())";
	static const char encrypt[] =
	    "import sys\nfrom cryptography.fernet import Fernet\n"
	    "k = Fernet.generate_key()\n"
	    "print(k.decode(), Fernet(k).encrypt(sys.argv[1].encode()).decode())";
	struct fernet_keys k;
	char key[64], tok[256], out[512], msg[64], *sp;
	size_t len;
	uint64_t ts;

	(void)state;
	if (system("/usr/bin/python3 -c 'import cryptography.fernet' "
	    ">/dev/null 2>&1") != 0) {
		print_message("python3-cryptography not installed: skipped\n");
		skip();
	}
	random_keys(&k, 1);
	assert_int_equal(b64url_encode(k.key[0], FERNET_KEY_LEN, true, key,
	    sizeof key), 44);
	assert_int_equal(fernet_seal(&k, "kumo to python", 14, 1764078551, tok,
	    sizeof tok), 0);
	run_python(decrypt, key, tok, out, sizeof out);
	assert_string_equal(out, "kumo to python");

	run_python(encrypt, "python to kumo", "", out, sizeof out);
	assert_non_null(sp = strchr(out, ' '));
	*sp = '\0';
	one_key(out, &k);
	assert_int_equal(fernet_open(&k, sp + 1, msg, sizeof msg, &len, &ts), 0);
	assert_int_equal(len, 14);
	assert_memory_equal(msg, "python to kumo", 14);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digests),
		cmocka_unit_test(test_b64url),
		cmocka_unit_test(test_fernet_spec),
		cmocka_unit_test(test_fernet_lengths),
		cmocka_unit_test(test_fernet_tamper),
		cmocka_unit_test(test_fernet_repo),
		cmocka_unit_test(test_token_roundtrip),
		cmocka_unit_test(test_token_mutations),
		cmocka_unit_test(test_password),
		cmocka_unit_test(test_python_fernet),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
