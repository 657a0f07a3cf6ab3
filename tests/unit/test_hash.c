/* Unit tests of common/hash.c: known vectors, streaming in odd pieces. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/crypto.h"

static const struct {
	const char *in, *sha256, *md5;
} vectors[] = {
	{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	  "d41d8cd98f00b204e9800998ecf8427e" },
	{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	  "900150983cd24fb0d6963f7d28e17f72" },
	{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
	  "8215ef0796a20bcaaae116d3876c664a" },
	{ "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
	  "f371bc4a311f2b009eef952dd83ca80e2b60026c8e935592d0f9c308453c813e",
	  "57edf4a22be3c955ac49da2e2107b67a" },
	{ "The quick brown fox jumps over the lazy dog",
	  "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592",
	  "9e107d9d372bb6826bd81d3542a419d6" },
};

static void test_vectors(void **state)
{
	char s[65], m[33];

	(void)state;
	for (size_t i = 0; i < sizeof vectors / sizeof *vectors; i++) {
		sha256_hex(vectors[i].in, strlen(vectors[i].in), s);
		md5_hex(vectors[i].in, strlen(vectors[i].in), m);
		assert_string_equal(s, vectors[i].sha256);
		assert_string_equal(m, vectors[i].md5);
	}
}

static void test_sha224(void **state)
{
	struct hash_ctx c;
	char out[57];

	(void)state;
	assert_int_equal(sha224_init(&c), 0);
	hash_update(&c, "abc", 3);
	hash_final_hex(&c, out);
	assert_string_equal(out,
	    "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7");
}

/* A million 'a's fed in pieces of every size from 1 to 200 bytes. */
static void test_million_a_streamed(void **state)
{
	struct hash_ctx s, m;
	char *buf = malloc(1000000), so[65], mo[33];
	size_t off = 0, step = 1;

	(void)state;
	assert_non_null(buf);
	memset(buf, 'a', 1000000);
	assert_int_equal(sha256_init(&s), 0);
	assert_int_equal(md5_init(&m), 0);
	while (off < 1000000) {
		size_t n = step < 1000000 - off ? step : 1000000 - off;

		hash_update(&s, buf + off, n);
		hash_update(&m, buf + off, n);
		off += n;
		step = step % 200 + 1;
	}
	hash_final_hex(&s, so);
	hash_final_hex(&m, mo);
	assert_string_equal(so,
	    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	assert_string_equal(mo, "7707d6ae4e027c70eea2a935c2296f21");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_sha224),
		cmocka_unit_test(test_million_a_streamed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
