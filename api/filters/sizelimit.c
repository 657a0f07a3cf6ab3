/*
 * sizelimit: request bodies are bounded by [api] max_request_body_size. A
 * declared Content-Length over it is refused before any byte is read; a
 * body without one (chunked) is counted as it streams in by server.c, which
 * keeps at most r->body_limit bytes. Routes with a stream (image data)
 * are bounded by API_STREAM_MAX instead.
 */
#include <stdint.h>

#include "api/api.h"

static enum api_rc sizelimit_request(struct api_req *r)
{
	const char *cl = api_header_get(r, "Content-Length");
	int64_t len;

	/* A streamed body (image data) is not held in memory: its own bound. */
	r->body_limit = api_route_stream(r->route) != NULL ?
	    API_STREAM_MAX : r->api->conf->max_request_body_size;
	if (cl == NULL || num_parse_i64(cl, 0, INT64_MAX, &len) < 0)
		return API_NEXT;
	if (len > r->body_limit)
		return api_error(r, ERR_TOO_LARGE);
	return API_NEXT;
}

const struct api_filter filter_sizelimit = {
	.name = "sizelimit",
	.request = sizelimit_request,
};
