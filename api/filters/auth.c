/*
 * auth: who is calling. Version documents and POST /identity/v3/auth/tokens
 * need no token.
 *
 * keystone (the default): X-Auth-Token must be a valid, unexpired,
 * unrevoked token of kumo's identity service (identity/auth.c opens it and
 * reads the user's roles on the token's scope); anything else is 401 with
 * Keystone's body, as keystonemiddleware answers in front of Nova.
 *
 * keystone with [keystone_authtoken] auth_url: the token is checked by
 * that Keystone (authtoken/, as keystonemiddleware does); kumo's own
 * /identity routes are not the cloud's identity service then, and pass
 * unauthenticated to the router, which answers 404.
 *
 * noauth2 (tests, benchmarks): "X-Auth-Token: user:project"; the user
 * "admin" is an admin. Unlike Nova's noauth2 there is no login emulation:
 * no token is 401, and so is a malformed one.
 *
 * Policy (admin-only routes, readers' writes) is checked by the router.
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

static enum api_rc noauth2(struct api_req *r, const char *tok)
{
	if (tok == NULL)
		return api_error(r, ERR_UNAUTHORIZED);
	if (auth_parse_token(tok, r->user_id, sizeof r->user_id, r->project_id,
	    sizeof r->project_id) < 0)
		return api_error(r, ERR_BAD_TOKEN);
	r->authed = true;
	r->is_admin = strcmp(r->user_id, "admin") == 0;
	r->roles = API_ROLE_READER | API_ROLE_MEMBER |
	    (r->is_admin ? API_ROLE_ADMIN : 0);
	str_copy(r->role_names, r->is_admin ? "admin,member,reader" :
	    "member,reader", sizeof r->role_names);
	return API_NEXT;
}

static enum api_rc external(struct api_req *r, const char *tok)
{
	if (r->route != NULL && (r->route->flags & ROUTE_IDENTITY))
		return API_NEXT;
	if (tok == NULL)
		return api_error(r, ERR_KS_AUTH);
	if (authtoken_authenticate(r, tok) != 0)
		return API_ERROR;
	r->authed = true;
	return API_NEXT;
}

static enum api_rc auth_request(struct api_req *r)
{
	const char *tok = api_header_get(r, "X-Auth-Token");

	if (r->route != NULL && (r->route->flags & ROUTE_NOAUTH))
		return API_NEXT;
	if (r->api->authtoken != NULL)
		return external(r, tok);
	/* identity calls take Keystone tokens whatever the strategy */
	if (!r->api->keystone && (r->route == NULL ||
	    !(r->route->flags & ROUTE_IDENTITY)))
		return noauth2(r, tok);
	if (tok == NULL || identity_authenticate(r, tok) < 0)
		return api_error(r, ERR_KS_AUTH);
	r->authed = true;
	return API_NEXT;
}

const struct api_filter filter_auth = {
	.name = "auth",
	.request = auth_request,
};
