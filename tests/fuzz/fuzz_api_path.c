/*
 * The HTTP request target and the header values kumo parses itself: the
 * target is split and %XX-decoded as libmicrohttpd does (MHD_http_unescape,
 * the decoder kumo-api's unescape callback runs), then routed
 * (api_route_match); the same bytes are read as an
 * X-OpenStack-Nova-API-Version / OpenStack-API-Version value, an
 * X-Openstack-Request-Id and a noauth2 token.
 */
#include <microhttpd.h>

#include "api/api.h"
#include "tests/fuzz/fuzz.h"

static const char *const methods[] = { "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD" };

static void route(const char *method, char *target)
{
	char allow[128], id[API_ID_LEN], *query = strchr(target, '?');
	int status;
	const struct api_route *rt;

	if (query != NULL)
		*query++ = '\0';
	MHD_http_unescape(target);
	rt = api_route_match(method, target, &status, allow, sizeof allow, id, sizeof id);
	if ((rt != NULL) != (status == 0) || (status == 405 && allow[0] == '\0'))
		abort();
	for (char *kv = query ? strtok(query, "&") : NULL; kv; kv = strtok(NULL, "&")) {
		char *v = strchr(kv, '=');

		if (v != NULL)
			MHD_http_unescape(++v);
		MHD_http_unescape(kv);
	}
}

static void headers(const char *v)
{
	char buf[64], user[256], project[256];
	const char *mv_s;
	int mv;

	if (mv_parse(v, &mv) == 0 && (mv < 0 || mv > API_MV(100000, 0)))
		abort();
	if ((mv_s = mv_from_openstack_header(v, buf, sizeof buf)) != NULL)
		(void)mv_parse(mv_s, &mv);
	(void)reqid_acceptable(v);
	(void)auth_parse_token(v, user, sizeof user, project, sizeof project);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size < 1)
		return 0;
	s = fuzz_cstr(data + 1, size - 1);
	headers(s);
	route(methods[data[0] % (sizeof methods / sizeof *methods)], s);
	free(s);
	return 0;
}
