/*
 * request_id: every request gets an id "req-<uuid>", sent back as
 * x-openstack-request-id and x-compute-request-id and printed on every log
 * line of this request (and carried in RPC contexts). A client's
 * X-OpenStack-Request-ID is taken only when it has exactly that form.
 */
#include <string.h>

#include "api/api.h"

bool reqid_acceptable(const char *v)
{
	return v != NULL && strncmp(v, "req-", 4) == 0 && uuid_valid(v + 4);
}

static enum api_rc request_id_request(struct api_req *r)
{
	const char *v = api_header_get(r, "X-OpenStack-Request-ID");
	char u[UUID_STR_LEN];

	if (reqid_acceptable(v)) {
		str_copy(r->reqid, v, sizeof r->reqid);
	} else {
		uuid_new_str(u);
		str_fmt(r->reqid, sizeof r->reqid, "req-%s", u);
	}
	log_set_reqid(r->reqid);
	if (v != NULL && strcmp(v, r->reqid) != 0)
		log_debug("client request id ignored: not req-<uuid>");
	return API_NEXT;
}

static void request_id_response(struct api_req *r)
{
	api_header_add(r, "x-openstack-request-id", "%s", r->reqid);
	api_header_add(r, "x-compute-request-id", "%s", r->reqid);
}

const struct api_filter filter_request_id = {
	.name = "request_id",
	.request = request_id_request,
	.response = request_id_response,
};
