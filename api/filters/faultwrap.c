/*
 * faultwrap: the only place an error becomes an HTTP body, in the Compute
 * API's shape {"itemNotFound": {"code": 404, "message": "..."}} with
 * Content-Type "application/json; charset=UTF-8" (as Nova's). Each
 * rejection is logged here, once.
 */
#include "api/api.h"

static enum api_rc faultwrap_request(struct api_req *r)
{
	(void)r;
	return API_NEXT;
}

static void faultwrap_response(struct api_req *r)
{
	int status;

	if (r->err == ERR_NONE)
		return;
	status = api_err_status(r->err);
	if (status >= 500)
		log_warnx("%s %s: %d %s", r->method, r->path, status, r->err_msg);
	else
		log_info("%s %s rejected: %d %s", r->method, r->path, status,
		    r->err_msg);
	api_reply(r, status, api_error_body(status, r->err_msg));
	r->content_type = "application/json; charset=UTF-8";
}

const struct api_filter filter_faultwrap = {
	.name = "faultwrap",
	.request = faultwrap_request,
	.response = faultwrap_response,
};
