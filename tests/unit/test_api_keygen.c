/* Unit tests of kumo-api's key pair generation (api/keygen.c): the keys'
 * and certificates' shapes, and the bound on generations at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/api.h"

static void test_rsa_pair(void **state)
{
	char pub[1024], pub2[1024], fp[48];
	char *priv = NULL, *priv2 = NULL;

	(void)state;
	assert_int_equal(keygen_rsa(pub, sizeof pub, &priv), 0);
	assert_non_null(priv);
	assert_true(strncmp(priv, "-----BEGIN RSA PRIVATE KEY-----\n", 32) == 0);
	assert_non_null(strstr(priv, "-----END RSA PRIVATE KEY-----\n"));
	/* e = 65537, then a 2048-bit n with its sign byte: "ssh-rsa" and the
	 * start of the blob are always the same */
	assert_true(strncmp(pub, "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ", 38) == 0);
	assert_true(strlen(pub) > 18);
	assert_string_equal(pub + strlen(pub) - 18, " Generated-by-Nova");
	assert_int_equal(sshkey_fingerprint(pub, fp), 0);
	assert_int_equal(strlen(fp), 47);

	assert_int_equal(keygen_rsa(pub2, sizeof pub2, &priv2), 0);
	assert_string_not_equal(pub, pub2);
	keygen_secret_free(priv);
	keygen_secret_free(priv2);
	keygen_secret_free(NULL);
	/* a buffer too small for the public line is a failure, not a cut line */
	assert_int_equal(keygen_rsa(pub, 100, &priv), -1);
	assert_null(priv);
}

static void test_x509(void **state)
{
	char cert[8192], fp[60], fp2[60];
	char *p12 = NULL;

	(void)state;
	assert_int_equal(keygen_x509("user1", cert, sizeof cert, fp, &p12), 0);
	assert_non_null(p12);
	assert_true(strncmp(cert, "-----BEGIN CERTIFICATE-----\n", 28) == 0);
	assert_int_equal(strlen(fp), 59);
	assert_int_equal(keygen_x509_fingerprint(cert, fp2), 0);
	assert_string_equal(fp, fp2);
	assert_true(strlen(p12) > 1000 && strlen(p12) % 4 == 0);
	keygen_secret_free(p12);
	assert_int_equal(keygen_x509_fingerprint("-----BEGIN CERTIFICATE-----\n"
	    "AAAA\n-----END CERTIFICATE-----\n", fp2), -1);
	assert_int_equal(keygen_x509_fingerprint("", fp2), -1);
	/* a common name holds at most 64 characters */
	assert_int_equal(keygen_x509("0123456789012345678901234567890123456789"
	    "01234567890123456789012345", cert, sizeof cert, fp, &p12), -1);
	assert_null(p12);
	/* a buffer too small for the certificate */
	assert_int_equal(keygen_x509("user1", cert, 100, fp, &p12), -1);
	assert_null(p12);
}

static void test_slots(void **state)
{
	struct kumo_conf conf = { .api_workers = 4 };
	struct api api = { .conf = &conf };

	(void)state;
	assert_int_equal(keygen_slots(&api), 2);
	assert_true(keygen_slot_take(&api));
	assert_true(keygen_slot_take(&api));
	assert_false(keygen_slot_take(&api));
	assert_false(keygen_slot_take(&api));
	keygen_slot_put(&api);
	assert_true(keygen_slot_take(&api));
	keygen_slot_put(&api);
	keygen_slot_put(&api);
	assert_int_equal(api.keygen_busy, 0);
	conf.api_workers = 1;       /* one worker still generates */
	assert_int_equal(keygen_slots(&api), 1);
	assert_true(keygen_slot_take(&api));
	assert_false(keygen_slot_take(&api));
	keygen_slot_put(&api);
	assert_int_equal(api.keygen_busy, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rsa_pair),
		cmocka_unit_test(test_x509),
		cmocka_unit_test(test_slots),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
