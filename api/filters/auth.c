/*
 * auth (noauth2): "X-Auth-Token: user:project"; the user "admin" is an
 * admin. Unlike Nova's noauth2 there is no login emulation: no token is
 * 401, and so is a malformed one. Version documents need no token.
 * Policy (admin-only routes) is checked by the router.
 */
#include <string.h>

#include "api/api.h"

/* One part of a token: 1..len-1 printable ASCII characters, no spaces. */
static int token_part(const char *s, size_t n, char *out, size_t len)
{
	if (n == 0 || n >= len)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] > '~' || s[i] == ':')
			return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

int auth_parse_token(const char *tok, char *user, size_t ulen,
    char *project, size_t plen)
{
	const char *colon;

	if (tok == NULL || (colon = strchr(tok, ':')) == NULL)
		return -1;
	if (token_part(tok, (size_t)(colon - tok), user, ulen) < 0)
		return -1;
	return token_part(colon + 1, strlen(colon + 1), project, plen);
}

static enum api_rc auth_request(struct api_req *r)
{
	const char *tok;

	if (r->route != NULL && (r->route->flags & ROUTE_NOAUTH))
		return API_NEXT;
	if ((tok = api_header_get(r, "X-Auth-Token")) == NULL)
		return api_error(r, ERR_UNAUTHORIZED);
	if (auth_parse_token(tok, r->user_id, sizeof r->user_id, r->project_id,
	    sizeof r->project_id) < 0)
		return api_error(r, ERR_BAD_TOKEN);
	r->authed = true;
	r->is_admin = strcmp(r->user_id, "admin") == 0;
	return API_NEXT;
}

const struct api_filter filter_auth = {
	.name = "auth",
	.request = auth_request,
};
