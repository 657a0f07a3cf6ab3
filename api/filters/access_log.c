/*
 * access_log: one line per request once its reply is sent: method, path,
 * status, body bytes and the time from the first byte to the last.
 */
#include "api/api.h"

static enum api_rc access_log_request(struct api_req *r)
{
	(void)r;
	return API_NEXT;
}

static void access_log_complete(struct api_req *r)
{
	uint64_t us = now_us() - r->start_us;

	log_info("%s %s status %d len %zu time %llu.%03llu ms", r->method,
	    r->path, r->status, r->reply_bytes, (unsigned long long)(us / 1000),
	    (unsigned long long)(us % 1000));
}

const struct api_filter filter_access_log = {
	.name = "access_log",
	.request = access_log_request,
	.complete = access_log_complete,
};
