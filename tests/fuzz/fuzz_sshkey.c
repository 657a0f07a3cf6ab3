/*
 * Public keys as a client uploads them (os-keypairs import): OpenSSH keys
 * (sshkey_fingerprint checks the type, the base64 and the blob's fields)
 * and, for type x509, PEM certificates (keygen_x509_fingerprint, libcrypto).
 */
#include "api/api.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *key = fuzz_cstr(data, size), fp[48], xfp[60];

	memset(fp, 'x', sizeof fp);
	/* an accepted key's fingerprint is "aa:bb:..." (16 bytes, hex pairs) */
	if (sshkey_fingerprint(key, fp) == 0 && strnlen(fp, sizeof fp) != 47)
		abort();
	(void)keygen_x509_fingerprint(key, xfp);
	free(key);
	return 0;
}
