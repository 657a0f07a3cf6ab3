/* Unit tests of the compute's console text helpers (tail, cleaning). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "compute/compute.h"

static const char *tail(const char *s, int lines)
{
	return compute_console_tail(s, strlen(s), lines);
}

static void test_tail(void **state)
{
	(void)state;
	assert_string_equal(tail("a\nb\nc", 1), "c");
	assert_string_equal(tail("a\nb\nc\n", 1), "c\n");
	assert_string_equal(tail("a\nb\nc\n", 2), "b\nc\n");
	assert_string_equal(tail("a\nb\nc", 3), "a\nb\nc");
	assert_string_equal(tail("a\nb\nc", 99), "a\nb\nc");
	assert_string_equal(tail("a\nb\nc", -1), "a\nb\nc");
	assert_string_equal(tail("a\nb\nc", 0), "");
	assert_string_equal(tail("", 5), "");
	assert_string_equal(tail("\n\n", 1), "\n");
}

static void test_clean(void **state)
{
	char s[64];
	size_t n;

	(void)state;
	strcpy(s, "ok\ttab\r\nline\x1b[0m\x01");
	n = compute_console_clean(s, strlen(s));
	assert_int_equal(n, strlen("ok\ttab\nline[0m"));
	assert_memory_equal(s, "ok\ttab\nline[0m", n);
	strcpy(s, "caf\xc3\xa9 \xff \xe2\x82 \xf0\x9f\x98\x80 \xed\xa0\x80");
	n = compute_console_clean(s, strlen(s));
	s[n] = '\0';
	assert_string_equal(s, "caf\xc3\xa9 ? ?? \xf0\x9f\x98\x80 ???");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tail),
		cmocka_unit_test(test_clean),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
