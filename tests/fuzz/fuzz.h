/*
 * tests/fuzz/: libFuzzer harnesses, one per parser at a trust boundary
 * (README "Fuzzing"; `make fuzz`). Each file defines LLVMFuzzerTestOneInput
 * and calls kumo's own parser; helpers shared by several live here.
 */
#ifndef KUMO_FUZZ_H
#define KUMO_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* data as a C string (malloc'd; an embedded NUL ends it early). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* For readers that take a path: data in an in-memory file, *fd its
 * descriptor (close it after), path set to /proc/self/fd/N. */
static inline int fuzz_memfile(const uint8_t *data, size_t size, char *path,
    size_t pathlen, int *fd)
{
	*fd = memfd_create("fuzz", 0);
	if (*fd < 0)
		abort();
	if (size > 0 && write(*fd, data, size) != (ssize_t)size)
		abort();
	snprintf(path, pathlen, "/proc/self/fd/%d", *fd);
	return 0;
}

#endif
