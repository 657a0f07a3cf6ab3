/*
 * Request context and errors: struct rpc_ctx to and from the `_context_*`
 * keys of a message, as oslo_context.RequestContext.to_dict() sends them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/common.h"
#include "common/rpc/rpc_internal.h"

#define CTX_PREFIX "_context_"

void rpc_ctx_init(struct rpc_ctx *ctx, const char *request_id,
    const char *user_id, const char *project_id, bool is_admin)
{
	memset(ctx, 0, sizeof *ctx);
	if (request_id != NULL)
		str_copy(ctx->request_id, request_id, sizeof ctx->request_id);
	if (user_id != NULL)
		str_copy(ctx->user_id, user_id, sizeof ctx->user_id);
	if (project_id != NULL)
		str_copy(ctx->project_id, project_id, sizeof ctx->project_id);
	ctx->is_admin = is_admin;
}

void rpc_ctx_clear(struct rpc_ctx *ctx)
{
	if (ctx == NULL)
		return;
	json_decref(ctx->roles);
	json_decref(ctx->extra);
	ctx->roles = NULL;
	ctx->extra = NULL;
}

void rpc_ctx_init_service(struct rpc_ctx *ctx)
{
	char u[UUID_STR_LEN], rid[64];

	uuid_new_str(u);
	str_fmt(rid, sizeof rid, "req-%s", u);
	rpc_ctx_init(ctx, rid, NULL, NULL, true);
}

void rpc_error_set(struct rpc_error *err, const char *cls, const char *module,
    const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	err->kind = RPC_ERR_REMOTE;
	str_copy(err->cls, cls ? cls : "Exception", sizeof err->cls);
	str_copy(err->module, module ? module : "kumo", sizeof err->module);
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof err->message, fmt, ap); /* truncation is fine */
	va_end(ap);
}

static json_t *str_or_null(const char *s)
{
	return s[0] != '\0' ? json_string(s) : json_null();
}

/* Keys the struct models; never kept in extra (user_identity is derived). */
static const char *const modelled[] = {
	"request_id", "user_id", "user", "project_id", "project", "is_admin",
	"roles", "user_identity",
};

bool rpc_ctx_modelled(const char *key)
{
	for (size_t i = 0; i < sizeof modelled / sizeof modelled[0]; i++)
		if (strcmp(key, modelled[i]) == 0)
			return true;
	return false;
}

static int put(json_t *msg, const char *key, json_t *v)
{
	char k[RPC_NAME_MAX];

	if (v == NULL || str_fmt(k, sizeof k, CTX_PREFIX "%s", key) == -1) {
		json_decref(v);
		return -1;
	}
	return json_object_set_new(msg, k, v);
}

int rpc_ctx_encode(const struct rpc_ctx *ctx, json_t *msg)
{
	static const struct rpc_ctx empty;
	char identity[300];
	const char *key;
	json_t *v;
	int rc = 0;

	if (ctx == NULL)
		ctx = &empty;
	/* oslo_context's to_dict() keys, in its order; nova adds user_id. */
	snprintf(identity, sizeof identity, "%s %s - - -",
	    ctx->user_id[0] ? ctx->user_id : "-",
	    ctx->project_id[0] ? ctx->project_id : "-");
	rc |= put(msg, "user", str_or_null(ctx->user_id));
	rc |= put(msg, "project_id", str_or_null(ctx->project_id));
	rc |= put(msg, "system_scope", json_null());
	rc |= put(msg, "project", str_or_null(ctx->project_id));
	rc |= put(msg, "domain", json_null());
	rc |= put(msg, "user_domain", json_null());
	rc |= put(msg, "project_domain", json_null());
	rc |= put(msg, "is_admin", json_boolean(ctx->is_admin));
	rc |= put(msg, "read_only", json_false());
	rc |= put(msg, "show_deleted", json_false());
	rc |= put(msg, "auth_token", json_null());
	rc |= put(msg, "request_id", str_or_null(ctx->request_id));
	rc |= put(msg, "global_request_id", json_null());
	rc |= put(msg, "resource_uuid", json_null());
	rc |= put(msg, "roles", ctx->roles ? json_deep_copy(ctx->roles) : json_array());
	rc |= put(msg, "user_identity", json_string(identity));
	rc |= put(msg, "is_admin_project", json_true());
	rc |= put(msg, "user_id", str_or_null(ctx->user_id));
	if (ctx->extra != NULL) {
		json_object_foreach(ctx->extra, key, v) {
			if (!rpc_ctx_modelled(key))
				rc |= put(msg, key, json_deep_copy(v));
		}
	}
	return rc ? -1 : 0;
}

/* A string-or-null context value into a fixed buffer. */
static int take_str(json_t *v, char *dst, size_t size, const char *key,
    char *err, size_t errlen)
{
	if (json_is_null(v))
		return 0;
	if (!json_is_string(v) || json_string_length(v) >= size ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		str_fmt(err, errlen, "context %s: not a string of < %zu bytes", key, size);
		return -1;
	}
	memcpy(dst, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

static int take_roles(json_t *v, struct rpc_ctx *ctx, char *err, size_t errlen)
{
	size_t i;
	json_t *r;

	if (json_is_null(v))
		return 0;
	if (!json_is_array(v))
		goto fail;
	json_array_foreach(v, i, r) {
		if (!json_is_string(r))
			goto fail;
	}
	ctx->roles = json_incref(v);
	return 0;
fail:
	str_fmt(err, errlen, "context roles: not a list of strings");
	return -1;
}

static int take(struct rpc_ctx *ctx, const char *key, json_t *v, char *err,
    size_t errlen)
{
	if (strcmp(key, "request_id") == 0)
		return take_str(v, ctx->request_id, sizeof ctx->request_id, key, err, errlen);
	if (strcmp(key, "user_id") == 0 || (strcmp(key, "user") == 0 && !ctx->user_id[0]))
		return take_str(v, ctx->user_id, sizeof ctx->user_id, key, err, errlen);
	if (strcmp(key, "project_id") == 0 || (strcmp(key, "project") == 0 && !ctx->project_id[0]))
		return take_str(v, ctx->project_id, sizeof ctx->project_id, key, err, errlen);
	if (strcmp(key, "is_admin") == 0) {
		if (!json_is_boolean(v) && !json_is_null(v)) {
			str_fmt(err, errlen, "context is_admin: not a boolean");
			return -1;
		}
		ctx->is_admin = json_is_true(v);
		return 0;
	}
	if (strcmp(key, "roles") == 0)
		return take_roles(v, ctx, err, errlen);
	if (rpc_ctx_modelled(key))
		return 0;
	if (ctx->extra == NULL && (ctx->extra = json_object()) == NULL)
		return -1;
	return json_object_set(ctx->extra, key, v);
}

int rpc_ctx_decode(json_t *msg, struct rpc_ctx *ctx, char *err, size_t errlen)
{
	const size_t plen = sizeof CTX_PREFIX - 1;
	const char *key;
	json_t *v;
	void *tmp;
	int rc = 0;

	rpc_ctx_init(ctx, NULL, NULL, NULL, false);
	json_object_foreach_safe(msg, tmp, key, v) {
		if (strncmp(key, CTX_PREFIX, plen) != 0)
			continue;
		if (rc == 0 && key[plen] != '\0' &&
		    take(ctx, key + plen, v, err, errlen) == -1)
			rc = -1;
		json_object_del(msg, key);
	}
	if (rc == -1)
		rpc_ctx_clear(ctx);
	return rc;
}
