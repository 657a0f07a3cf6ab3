/*
 * The one error catalogue: every client-visible failure of kumo-api is a
 * code here, with its HTTP status and its message (Nova's wording). Only
 * the faultwrap filter turns a recorded error into a body.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "db/db.h"

#define KS_TAIL " The server could not comply with the request since it is " \
	"either malformed or otherwise incorrect. The client is assumed to be " \
	"in error."

static const struct {
	int status;
	const char *format;   /* only %s conversions */
} catalogue[ERR__COUNT] = {
	[ERR_NONE] = { 500, "Unexpected API Error." },
	[ERR_BAD_REQUEST] = { 400, "%s" },
	[ERR_MALFORMED_BODY] = { 400, "Malformed request body" },
	[ERR_INVALID_INPUT] = { 400, "%s" },
	[ERR_FLAVOR_REF] = { 400, "Flavor %s could not be found." },
	/* Nova's words when Glance does not know the image (transcript 31). */
	[ERR_IMAGE_REF] = { 400, "Can not find requested image" },
	[ERR_IMAGE_NOT_ACTIVE] = { 400, "Image %s is not active." },
	[ERR_NO_SUCH_ACTION] = { 400, "There is no such action: %s" },
	[ERR_KEYPAIR_INVALID] = { 400, "Keypair data is invalid: %s" },
	[ERR_MV_MALFORMED] = { 400, "API Version String %s is of invalid format. "
	    "Must be of format MajorNum.MinorNum." },
	[ERR_UNAUTHORIZED] = { 401, "Authentication required" },
	[ERR_BAD_TOKEN] = { 401, "Malformed X-Auth-Token: expected user:project" },
	[ERR_POLICY] = { 403, "Policy doesn't allow %s to be performed." },
	[ERR_FORBIDDEN] = { 403, "%s" },
	/* nova/exception.py TooManyInstances: overs, req, used, allowed, overs */
	[ERR_QUOTA_EXCEEDED] = { 403, "Quota exceeded for %s: Requested %s, but "
	    "already used %s of %s %s" },
	[ERR_KEYPAIR_QUOTA] = { 403, "Quota exceeded, too many key pairs." },
	[ERR_IMAGE_READONLY] = { 403, "Attribute '%s' is read-only." },
	[ERR_IMAGE_PROTECTED] = { 403, "Image %s is protected and cannot be deleted." },
	[ERR_NOT_FOUND] = { 404, "The resource could not be found." },
	[ERR_INSTANCE_NOT_FOUND] = { 404, "Instance %s could not be found." },
	[ERR_NETWORK_NOT_FOUND] = { 404, "Network %s could not be found." },
	[ERR_NOT_IN_NETWORK] = { 404, "Instance is not a member of specified "
	    "network" },
	[ERR_FLAVOR_NOT_FOUND] = { 404, "Flavor %s could not be found." },
	[ERR_IMAGE_NOT_FOUND] = { 404, "Image %s could not be found." },
	[ERR_HYPERVISOR_NOT_FOUND] = { 404, "Hypervisor %s could not be found." },
	[ERR_HOST_NOT_FOUND] = { 404, "Host %s could not be found." },
	[ERR_HYPERVISOR_NO_MATCH] = { 404, "No hypervisor matching '%s' could be found." },
	[ERR_COMPUTE_HOST_NOT_FOUND] = { 404, "Compute host %s could not be found." },
	[ERR_CONSOLE_NOT_AVAILABLE] = { 404, "Guest does not have a console available." },
	[ERR_KEYPAIR_NOT_FOUND] = { 404, "Keypair %s not found for user %s" },
	[ERR_ACTION_NOT_FOUND] = { 404, "Action for request_id %s on instance %s "
	    "not found" },
	/* nova/exception.py FlavorAccessNotFound, and flavor_access.py's words */
	[ERR_FLAVOR_ACCESS_NOT_FOUND] = { 404, "Flavor access not found for %s / "
	    "%s combination." },
	[ERR_FLAVOR_ACCESS_PUBLIC] = { 404, "Access list not available for "
	    "public flavors." },
	[ERR_METHOD] = { 405, "The method %s is not allowed for this resource." },
	[ERR_MV_UNSUPPORTED] = { 406, "Version %s is not supported by the API. "
	    "Minimum is 2.1 and maximum is " API_MV_MAX_STR "." },
	[ERR_FLAVOR_NAME_EXISTS] = { 409, "Flavor with name %s already exists." },
	[ERR_FLAVOR_ID_EXISTS] = { 409, "Flavor with ID %s already exists." },
	[ERR_FLAVOR_ACCESS_EXISTS] = { 409, "Flavor access already exists for "
	    "flavor %s and project %s combination." },
	[ERR_FLAVOR_IS_PUBLIC] = { 409, "Can not add access to a public flavor." },
	[ERR_IMAGE_IN_USE] = { 409, "Image %s is in use by a server." },
	[ERR_IMAGE_EXISTS] = { 409, "Image with identifier %s already exists!" },
	[ERR_KEYPAIR_EXISTS] = { 409, "Key pair '%s' already exists." },
	[ERR_IMAGE_STATUS] = { 409, "Image status transition from %s to saving "
	    "is not allowed" },
	/* nova/api/openstack/common.py raise_http_conflict_for_instance_invalid_state */
	[ERR_INSTANCE_STATE] = { 409, "Cannot '%s' instance %s while it is in %s %s" },
	[ERR_INSTANCE_NOT_READY] = { 409, "Instance %s is not ready." },
	[ERR_TOO_LARGE] = { 413, "Request is too large." },
	[ERR_IMAGE_FULL] = { 413, "Image storage media is full: %s" },
	/* glance/api/v2/image_data.py's words */
	[ERR_IMAGE_TOO_LARGE] = { 413, "The incoming image is too large: %s" },
	[ERR_IMAGE_QUOTA] = { 413, "%s" },
	[ERR_MEDIA_TYPE] = { 415, "Unsupported Content-Type" },
	[ERR_KEYGEN_BUSY] = { 429, "Too many key pairs are being generated at "
	    "once; retry shortly, or import a public key." },
	[ERR_BUSY] = { 429, "Too many requests are waiting for slow work "
	    "(password checks); retry shortly." },
	[ERR_CALLS_BUSY] = { 429, "Too many requests of this project are "
	    "waiting on compute hosts; retry shortly." },
	[ERR_INTERNAL] = { 500, "Unexpected API Error. Please report this at "
	    "the kumo tracker and attach the kumo-api log if possible." },
	[ERR_RPC] = { 500, "Unexpected API Error: the message bus refused the "
	    "request (%s)." },
	[ERR_RPC_TIMEOUT] = { 500, "Unexpected API Error: compute host %s did "
	    "not answer in time." },
	[ERR_NOT_IMPLEMENTED] = { 501, "%s" },
	/* keystonemiddleware's words when Keystone cannot check a token */
	[ERR_KS_UNAVAILABLE] = { 503, "The Keystone service is temporarily unavailable." },
	[ERR_HOST_BUSY] = { 503, "Compute host %s is not answering; too many "
	    "requests are waiting on it. Retry later." },
	[ERR_CALLS_FULL] = { 503, "Too many requests are waiting on compute "
	    "hosts; retry shortly." },
	[ERR_SHUTTING_DOWN] = { 503, "The API service is stopping; retry shortly." },
	[ERR_DB_FULL] = { 503, "The database cannot record the request: its "
	    "disk is full. Nothing was changed; retry later." },
	/* Keystone's words (research/keystone-anchor.md 3.4-3.8) */
	[ERR_KS_AUTH] = { 401, "The request you have made requires authentication." },
	[ERR_KS_METHOD] = { 401, "Attempted to authenticate with an unsupported method." },
	[ERR_KS_EXPECTING] = { 400, "Expecting to find %s in %s." KS_TAIL },
	[ERR_KS_BAD_JSON] = { 400, "Expecting to find valid JSON in request body." KS_TAIL },
	[ERR_KS_CONTENT_TYPE] = { 400, "Expecting to find application/json in "
	    "Content-Type header." KS_TAIL },
	[ERR_KS_INVALID] = { 400, "%s" },
	[ERR_KS_POLICY] = { 403, "You are not authorized to perform the requested "
	    "action: %s." },
	[ERR_KS_FORBIDDEN] = { 403, "%s" },
	[ERR_KS_NOT_FOUND] = { 404, "Could not find %s: %s." },
	[ERR_KS_NO_TOKEN] = { 404, "No token in the request" },
	[ERR_KS_TOKEN_UNKNOWN] = { 404, "Could not recognize Fernet token" },
	[ERR_KS_TOKEN_INVALID] = { 404, "Failed to validate token" },
	[ERR_KS_CONFLICT] = { 409, "Conflict occurred attempting to store %s - "
	    "Duplicate entry found with name %s." },
	[ERR_KS_THROTTLED] = { 429, "Too many failed authentication attempts: "
	    "retry in %s seconds." },
};

/* nova/api/openstack/wsgi.py Fault._fault_names; the rest are computeFault. */
static const struct {
	int status;
	const char *name;
} fault_names[] = {
	{ 400, "badRequest" }, { 401, "unauthorized" }, { 403, "forbidden" },
	{ 404, "itemNotFound" }, { 405, "badMethod" },
	{ 409, "conflictingRequest" }, { 413, "overLimit" },
	{ 415, "badMediaType" }, { 429, "overLimit" },
	{ 501, "notImplemented" }, { 503, "serviceUnavailable" },
};

int api_err_status(enum api_err e)
{
	if ((int)e < 0 || e >= ERR__COUNT)
		return 500;
	return catalogue[e].status;
}

const char *api_fault_name(int status)
{
	for (size_t i = 0; i < sizeof fault_names / sizeof *fault_names; i++)
		if (fault_names[i].status == status)
			return fault_names[i].name;
	return "computeFault";
}

int api_error(struct api_req *r, enum api_err e, ...)
{
	va_list ap;

	if (r->err != ERR_NONE)
		return API_ERROR;
	if ((int)e <= 0 || e >= ERR__COUNT)
		e = ERR_INTERNAL;
	r->err = e;
	va_start(ap, e);
	if (vsnprintf(r->err_msg, sizeof r->err_msg, catalogue[e].format, ap) < 0)
		r->err_msg[0] = '\0';
	va_end(ap);
	return API_ERROR;
}

int api_db_error(struct api_req *r, int rc)
{
	return api_error(r, rc == DB_FULL ? ERR_DB_FULL : ERR_INTERNAL);
}

json_t *api_error_body(int status, const char *msg)
{
	json_t *inner = json_object(), *outer = json_object();

	json_object_set_new(inner, "code", json_integer(status));
	json_object_set_new(inner, "message", view_str(msg));
	json_object_set_new(outer, api_fault_name(status), inner);
	return outer;
}

const char *api_status_title(int status)
{
	static const struct {
		int status;
		const char *title;
	} titles[] = {
		{ 400, "Bad Request" }, { 401, "Unauthorized" },
		{ 403, "Forbidden" }, { 404, "Not Found" },
		{ 405, "Method Not Allowed" }, { 406, "Not Acceptable" },
		{ 409, "Conflict" }, { 413, "Request Entity Too Large" },
		{ 415, "Unsupported Media Type" }, { 429, "Too Many Requests" },
		{ 501, "Not Implemented" }, { 503, "Service Unavailable" },
	};

	for (size_t i = 0; i < sizeof titles / sizeof *titles; i++)
		if (titles[i].status == status)
			return titles[i].title;
	return "Internal Server Error";
}

int api_action_pick(struct api_req *r, const void *table, size_t n,
    size_t stride, json_t **v)
{
	const char *key = NULL, *k;

	*v = NULL;
	if (json_object_size(r->json_in) != 1)
		return api_error(r, ERR_MALFORMED_BODY), -1;
	json_object_foreach(r->json_in, key, *v)
		break;
	for (size_t i = 0; i < n; i++) {
		memcpy(&k, (const char *)table + i * stride, sizeof k);
		if (strcmp(k, key) == 0)
			return (int)i;
	}
	return api_error(r, ERR_NO_SUCH_ACTION, key), -1;
}
