/*
 * common/hash: the digests kumo needs, small enough to keep rather than
 * link a crypto library for them: SHA-256 (image os_hash_value), SHA-224
 * (Nova's hostId) and MD5 (Glance's image checksum). Streaming: init,
 * update any number of times, final. Not for secrets.
 */
#ifndef KUMO_HASH_H
#define KUMO_HASH_H

#include <stddef.h>
#include <stdint.h>

struct sha256_ctx {
	uint32_t h[8];
	uint64_t len;          /* bytes hashed so far */
	uint8_t buf[64];
	size_t n;              /* bytes in buf */
	int out_words;         /* 8 for SHA-256, 7 for SHA-224 */
};

void sha256_init(struct sha256_ctx *c);
void sha224_init(struct sha256_ctx *c);
void sha256_update(struct sha256_ctx *c, const void *data, size_t len);
/* Lower-case hex into out (65 bytes; 57 used by SHA-224). */
void sha256_final_hex(struct sha256_ctx *c, char out[65]);

struct md5_ctx {
	uint32_t h[4];
	uint64_t len;
	uint8_t buf[64];
	size_t n;
};

void md5_init(struct md5_ctx *c);
void md5_update(struct md5_ctx *c, const void *data, size_t len);
void md5_final_hex(struct md5_ctx *c, char out[33]);

/* One-shot helpers. */
void sha256_hex(const void *data, size_t len, char out[65]);
void md5_hex(const void *data, size_t len, char out[33]);

#endif
