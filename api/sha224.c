/* SHA-224 for Nova's hostId = sha224(project_id + host) (common/hash.c). */
#include <string.h>

#include "api/api.h"
#include "common/hash.h"

void sha224_hex(const void *data, size_t len, char out[57])
{
	struct sha256_ctx c;
	char hex[65];

	sha224_init(&c);
	sha256_update(&c, data, len);
	sha256_final_hex(&c, hex);
	memcpy(out, hex, 57);
}
