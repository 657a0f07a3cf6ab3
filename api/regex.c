/*
 * Regular expressions with a bounded cost (PCRE2), the one file that
 * includes pcre2.h. A client's pattern (GET /v2.1/servers?name=) is capped
 * in length, in nesting and in compiled size, and each match in steps,
 * backtracking depth and heap, so that one match costs at most about a
 * millisecond and a megabyte, and a list a project's servers times that;
 * glibc's regcomp has no such bounds (a{1,100}{1,100}{1,100} took it 12 s
 * and 1.3 GB).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"

/* The bounds of one match: steps, backtracking depth, heap (KiB). */
#define MATCH_LIMIT 50000
#define DEPTH_LIMIT 2000
#define HEAP_LIMIT_KIB 1024
#define PARENS_LIMIT 32

struct api_regex {
	pcre2_code *code;
	pcre2_match_context *mctx;
};

void api_regex_free(struct api_regex *re)
{
	if (re == NULL)
		return;
	pcre2_code_free(re->code);
	pcre2_match_context_free(re->mctx);
	free(re);
}

struct api_regex *api_regex_new(const char *pattern, size_t max_len,
    char *why, size_t why_len)
{
	struct api_regex *re = calloc(1, sizeof *re);
	pcre2_compile_context *cctx = pcre2_compile_context_create(NULL);
	PCRE2_UCHAR msg[160];
	PCRE2_SIZE off = 0;
	int err = 0;

	if (why_len > 0)
		why[0] = '\0';
	if (re == NULL || cctx == NULL)
		goto fail;
	if (strlen(pattern) > max_len) {
		snprintf(why, why_len, "longer than %zu bytes", max_len);
		goto fail;
	}
	pcre2_set_max_pattern_length(cctx, max_len);
	pcre2_set_parens_nest_limit(cctx, PARENS_LIMIT);
	/* UTF: names are UTF-8 and a dot is one character, as in Python's re */
	re->code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
	    PCRE2_UTF | PCRE2_UCP, &err, &off, cctx);
	if (re->code == NULL) {
		pcre2_get_error_message(err, msg, sizeof msg);
		snprintf(why, why_len, "%s at offset %zu", (const char *)msg,
		    (size_t)off);
		goto fail;
	}
	if ((re->mctx = pcre2_match_context_create(NULL)) == NULL)
		goto fail;
	pcre2_set_match_limit(re->mctx, MATCH_LIMIT);
	pcre2_set_depth_limit(re->mctx, DEPTH_LIMIT);
	pcre2_set_heap_limit(re->mctx, HEAP_LIMIT_KIB);
	pcre2_compile_context_free(cctx);
	return re;
fail:
	if (why_len > 0 && why[0] == '\0')
		snprintf(why, why_len, "out of memory");
	pcre2_compile_context_free(cctx);
	api_regex_free(re);
	return NULL;
}

int api_regex_match(const struct api_regex *re, const char *subject)
{
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re->code,
	    NULL);
	int rc;

	if (md == NULL)
		return -1;
	rc = pcre2_match(re->code, (PCRE2_SPTR)subject, PCRE2_ZERO_TERMINATED,
	    0, 0, md, re->mctx);
	pcre2_match_data_free(md);
	if (rc >= 0)
		return 1;
	return rc == PCRE2_ERROR_NOMATCH ? 0 : -1;
}
