/*
 * Reading a Keystone v3 token body (research/keystone-anchor.md §3.3):
 *   {"token": {"expires_at": "...Z", "user": {"id"}, "project": {"id"},
 *    "catalog": [{"type": "compute", "endpoints": [{"interface", "region",
 *    "region_id", "url"}, ...]}, ...]}}
 * The compute endpoint is the API root with its version (/v2.1): the CLI's
 * paths carry the version, so it is cut off; the image endpoint is Glance's
 * root already.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "common/common.h"

/* "public" and keystoneauth's older "publicURL" name the same interface. */
static bool interface_is(const char *have, const char *want)
{
	size_t n = strlen(have);

	if (strncmp(have, want, n) != 0)
		return false;
	return want[n] == '\0' || strcmp(want + n, "URL") == 0;
}

int cli_catalog_endpoint(json_t *catalog, const char *type,
    const char *interface, const char *region, char *url, size_t len)
{
	json_t *svc, *ep;
	size_t i, j;

	json_array_foreach(catalog, i, svc) {
		const char *t = json_string_value(json_object_get(svc, "type"));

		if (t == NULL || strcmp(t, type) != 0)
			continue;
		json_array_foreach(json_object_get(svc, "endpoints"), j, ep) {
			const char *in = json_string_value(json_object_get(ep, "interface"));
			const char *rg = json_string_value(json_object_get(ep, "region_id"));
			const char *u = json_string_value(json_object_get(ep, "url"));

			if (rg == NULL)
				rg = json_string_value(json_object_get(ep, "region"));
			if (in == NULL || u == NULL || *u == '\0' || !interface_is(in, interface))
				continue;
			if (region != NULL && *region != '\0' && (rg == NULL || strcmp(rg, region) != 0))
				continue;
			return str_copy(url, u, len);
		}
	}
	return -1;
}

/* Cuts trailing slashes, then suffix when the url ends with it. */
static void strip_suffix(char *url, const char *suffix)
{
	size_t n = strlen(url), k = strlen(suffix);

	while (n > 0 && url[n - 1] == '/')
		url[--n] = '\0';
	if (k > 0 && n > k && strcmp(url + n - k, suffix) == 0)
		url[n - k] = '\0';
	n = strlen(url);
	while (n > 0 && url[n - 1] == '/')
		url[--n] = '\0';
}

int cli_time_parse(const char *iso, time_t *out)
{
	struct tm tm;
	const char *rest;

	memset(&tm, 0, sizeof tm);
	if (iso == NULL || (rest = strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return -1;
	if (*rest == '.') {
		rest++;
		if (*rest < '0' || *rest > '9')
			return -1;
		while (*rest >= '0' && *rest <= '9')
			rest++;
	}
	if (strcmp(rest, "Z") != 0 && strcmp(rest, "+00:00") != 0 && strcmp(rest, "") != 0)
		return -1;
	*out = timegm(&tm);
	return *out == (time_t)-1 ? -1 : 0;
}

/* token.<a>.<b> as a string into dst. */
static int take_id(json_t *tok, const char *a, char *dst, size_t len)
{
	const char *v = json_string_value(json_object_get(json_object_get(tok, a), "id"));

	return v != NULL && *v != '\0' ? str_copy(dst, v, len) : -1;
}

int cli_token_parse(json_t *body, const char *interface, const char *region,
    struct cli_session *s, char *err, size_t errlen)
{
	json_t *tok = json_object_get(body, "token"), *catalog;
	const char *exp = json_string_value(json_object_get(tok, "expires_at"));

	if (exp == NULL || str_copy(s->expires_at, exp, sizeof s->expires_at) < 0 ||
	    cli_time_parse(exp, &s->expires) < 0) {
		snprintf(err, errlen, "the token has no valid expires_at");
		return -1;
	}
	if (take_id(tok, "user", s->user_id, sizeof s->user_id) < 0 ||
	    take_id(tok, "project", s->project_id, sizeof s->project_id) < 0) {
		snprintf(err, errlen, "the token has no user or project id");
		return -1;
	}
	catalog = json_object_get(tok, "catalog");
	if (cli_catalog_endpoint(catalog, "compute", interface, region,
	    s->compute_url, sizeof s->compute_url) < 0) {
		snprintf(err, errlen, "no %s endpoint of type compute%s%s in the catalog",
		    interface, region && *region ? " in region " : "", region ? region : "");
		return -1;
	}
	strip_suffix(s->compute_url, "/v2.1");
	if (cli_catalog_endpoint(catalog, "image", interface, region,
	    s->image_url, sizeof s->image_url) < 0)
		s->image_url[0] = '\0';
	strip_suffix(s->image_url, "/v2");
	return 0;
}
