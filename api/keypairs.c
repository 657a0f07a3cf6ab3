/*
 * /v2.1/os-keypairs: list, show, create, delete. A keypair belongs to a
 * user; admins name another user with user_id from 2.10. Create imports the
 * public_key given, or, without one, generates an RSA key pair and answers
 * its private key once (keygen.c), as Nova does below 2.92. Shapes per
 * microversion: type from 2.2 (and 201/204 instead of 200/202), pagination
 * from 2.35, stricter names and a required public_key from 2.92 (Nova no
 * longer generates).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "db/db.h"

#define P_KP "os_compute_api:os-keypairs:"

static json_t *keypair_view(const struct api_req *r, const struct db_keypair *k,
    bool full)
{
	json_t *v = json_object();

	json_object_set_new(v, "name", view_str(k->name));
	json_object_set_new(v, "public_key", view_str(k->public_key));
	json_object_set_new(v, "fingerprint", view_str(k->fingerprint));
	if (full)
		json_object_set_new(v, "user_id", view_str(k->user_id));
	if (r->mv >= API_MV(2, 2))
		json_object_set_new(v, "type", view_str(k->type));
	return v;
}

/* The user whose keypairs a request means: ?user_id= (2.10, admins only)
 * or the caller. NULL after api_error. */
static const char *target_user(struct api_req *r, const char *given,
    const char *action)
{
	char policy[96];

	if (given == NULL || r->mv < API_MV(2, 10) || strcmp(given, r->user_id) == 0)
		return r->user_id;
	if (!r->is_admin) {
		snprintf(policy, sizeof policy, P_KP "%s", action);
		api_error(r, ERR_POLICY, policy);
		return NULL;
	}
	if (strlen(given) >= DB_NAME) {
		api_error(r, ERR_BAD_REQUEST, "Invalid user_id");
		return NULL;
	}
	return given;
}

/* 2.35: ?limit= and ?marker= (a name) over the list sorted by name. */
static int page_bounds(struct api_req *r, const struct db_keypair *list,
    size_t n, size_t *from, size_t *to)
{
	const char *limit = api_query_get(r, "limit");
	const char *marker = api_query_get(r, "marker");
	int lim = (int)n;
	char msg[320];

	*from = 0;
	if (r->mv >= API_MV(2, 35) && limit != NULL &&
	    num_parse_int(limit, 0, 1 << 30, &lim) < 0)
		return api_error(r, ERR_BAD_REQUEST, "limit param must be an integer");
	if (r->mv >= API_MV(2, 35) && marker != NULL) {
		while (*from < n && strcmp(list[*from].name, marker) != 0)
			(*from)++;
		if (*from == n) {
			snprintf(msg, sizeof msg, "Marker %.255s could not be found.", marker);
			return api_error(r, ERR_BAD_REQUEST, msg);
		}
		(*from)++;
	}
	*to = n - *from < (size_t)lim ? n : *from + (size_t)lim;
	return 0;
}

static void add_next_link(struct api_req *r, json_t *body, const char *last)
{
	json_t *links = json_array(), *l = json_object();
	char href[600];

	snprintf(href, sizeof href, "%s/v2.1/os-keypairs?limit=%s&marker=%s",
	    r->base_url, api_query_get(r, "limit"), last);
	json_object_set_new(l, "rel", json_string("next"));
	json_object_set_new(l, "href", view_str(href));
	json_array_append_new(links, l);
	json_object_set_new(body, "keypairs_links", links);
}

enum api_rc keypairs_list(struct api_req *r)
{
	const char *user = target_user(r, api_query_get(r, "user_id"), "index");
	struct db_keypair *list = NULL;
	json_t *arr, *body, *item;
	size_t n = 0, from, to;

	if (user == NULL)
		return API_ERROR;
	if (db_keypair_list(r->api->db, user, &list, &n) != DB_OK)
		return api_error(r, ERR_INTERNAL);
	if (page_bounds(r, list, n, &from, &to) != 0) {
		free(list);
		return API_ERROR;
	}
	arr = json_array();
	for (size_t i = from; i < to; i++) {
		item = json_object();
		json_object_set_new(item, "keypair", keypair_view(r, &list[i], false));
		json_array_append_new(arr, item);
	}
	body = json_object();
	json_object_set_new(body, "keypairs", arr);
	if (api_query_get(r, "limit") && r->mv >= API_MV(2, 35) && to > from &&
	    to < n)
		add_next_link(r, body, list[to - 1].name);
	free(list);
	return api_reply(r, 200, body);
}

/* The keypair r->id of the target user, or API_ERROR. */
static int keypair_get(struct api_req *r, const char *action,
    struct db_keypair *k)
{
	const char *user = target_user(r, api_query_get(r, "user_id"), action);
	int rc;

	if (user == NULL)
		return API_ERROR;
	rc = db_keypair_get(r->api->db, user, r->id, k);
	if (rc == DB_NOTFOUND)
		return api_error(r, ERR_KEYPAIR_NOT_FOUND, r->id, user);
	return rc == DB_OK ? 0 : api_error(r, ERR_INTERNAL);
}

enum api_rc keypairs_show(struct api_req *r)
{
	struct db_keypair k;
	json_t *v, *body;

	if (keypair_get(r, "show", &k) != 0)
		return API_ERROR;
	v = keypair_view(r, &k, true);
	json_object_set_new(v, "id", json_integer(k.id));
	json_object_set_new(v, "created_at", view_time_usec(k.created_at));
	json_object_set_new(v, "updated_at", json_null());
	json_object_set_new(v, "deleted", json_false());
	json_object_set_new(v, "deleted_at", json_null());
	body = json_object();
	json_object_set_new(body, "keypair", v);
	return api_reply(r, 200, body);
}

enum api_rc keypairs_delete(struct api_req *r)
{
	struct db_keypair k;

	if (keypair_get(r, "delete", &k) != 0)
		return API_ERROR;
	if (db_keypair_delete(r->api->db, k.user_id, k.name) != DB_OK)
		return api_error(r, ERR_INTERNAL);
	log_info("keypair %s of user %s deleted", k.name, k.user_id);
	return api_reply(r, r->mv >= API_MV(2, 2) ? 204 : 202, NULL);
}

/* ---- create ---- */

static bool name_char_ok(char c, const char *extra)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || strchr(extra, c) != NULL;
}

/* Nova's schema, then KeypairAPI's own name check. Fills k (name, type,
 * public_key, user_id); *import is false when the body has no public_key
 * (generate one). An empty public_key is an import, and a bad one. */
int keypairs_validate_create(struct api_req *r, const json_t *body,
    struct db_keypair *k, bool *import)
{
	static const char *const top[] = { "keypair", NULL };
	/* Nova's schema per microversion: type from 2.2, user_id from 2.10. */
	static const char *const keys_21[] = { "name", "public_key", NULL };
	static const char *const keys_22[] = { "name", "public_key", "type",
		NULL };
	static const char *const keys_210[] = { "name", "public_key", "type",
		"user_id", NULL };
	const char *const *keys = r->mv >= API_MV(2, 10) ? keys_210 :
	    r->mv >= API_MV(2, 2) ? keys_22 : keys_21;
	const json_t *kp = json_object_get(body, "keypair"), *v;
	const char *safe = r->mv >= API_MV(2, 92) ? "_- .@" : "_- ";
	char user[DB_NAME] = "";

	memset(k, 0, sizeof *k);
	str_copy(k->type, "ssh", sizeof k->type);
	if (v_required(r, NULL, body, "keypair") || v_no_extra(r, NULL, body, top) ||
	    v_object(r, "keypair", kp) || v_required(r, "keypair", kp, "name"))
		return API_ERROR;
	/* up to 2.91 the schema's name is Nova's 'name' format */
	v = json_object_get(kp, "name");
	if (r->mv < API_MV(2, 92) ? v_name(r, "name", v, k->name, sizeof k->name) :
	    v_string(r, "name", v, 1, 255, k->name, sizeof k->name))
		return API_ERROR;
	*import = (v = json_object_get(kp, "public_key")) != NULL;
	if (*import && v_string(r, "public_key", v, 0, sizeof k->public_key - 1,
	    k->public_key, sizeof k->public_key))
		return API_ERROR;
	if (r->mv >= API_MV(2, 2) && (v = json_object_get(kp, "type")) &&
	    v_string(r, "type", v, 1, 15, k->type, sizeof k->type))
		return API_ERROR;
	if (r->mv >= API_MV(2, 10) && (v = json_object_get(kp, "user_id")) &&
	    v_string(r, "user_id", v, 1, 255, user, sizeof user))
		return API_ERROR;
	if ((r->mv >= API_MV(2, 92) && v_required(r, "keypair", kp, "public_key")) ||
	    v_no_extra(r, "keypair", kp, keys))
		return API_ERROR;
	if (strcmp(k->type, "ssh") != 0 && strcmp(k->type, "x509") != 0)
		return api_invalid(r, "type", json_object_get(kp, "type"),
		    "'%s' is not one of ['ssh', 'x509']", k->type);
	for (const char *p = k->name; *p; p++)
		if (!name_char_ok(*p, safe))
			return api_error(r, ERR_KEYPAIR_INVALID,
			    "Keypair name contains unsafe characters");
	str_copy(k->user_id, user[0] ? user : r->user_id, sizeof k->user_id);
	return 0;
}

/* The imported public key's check and fingerprint. */
static int key_material(struct api_req *r, struct db_keypair *k)
{
	if (strcmp(k->type, "x509") == 0) {
		if (keygen_x509_fingerprint(k->public_key, k->fingerprint) != 0)
			return api_error(r, ERR_KEYPAIR_INVALID, "failed to "
			    "generate X509 fingerprint. Error message: not a PEM "
			    "certificate");
		return 0;
	}
	if (sshkey_fingerprint(k->public_key, k->fingerprint) != 0)
		return api_error(r, ERR_KEYPAIR_INVALID, "failed to generate fingerprint");
	return 0;
}

/* A new key pair of k->type into k (public_key, fingerprint) and
 * *private_key, on one of the bounded generation slots (keygen.c). A name
 * already taken is a 409 before any CPU is spent; the insert still decides
 * a race. */
static int key_generate(struct api_req *r, struct db_keypair *k,
    char **private_key)
{
	struct db_keypair old;
	bool x509;
	int rc;

	x509 = strcmp(k->type, "x509") == 0;
	/* The user id is the certificate's common name: at most 64. */
	if (x509 && strlen(k->user_id) > 64)
		return api_error(r, ERR_KEYPAIR_INVALID, "an x509 certificate "
		    "needs a user_id of at most 64 bytes (its common name)");
	rc = db_keypair_get(r->api->db, k->user_id, k->name, &old);
	if (rc == DB_OK)
		return api_error(r, ERR_KEYPAIR_EXISTS, k->name);
	if (rc != DB_NOTFOUND)
		return api_error(r, ERR_INTERNAL);
	if (!keygen_slot_take(r->api)) {
		log_warnx("keypair %s of user %s: all %d key generation slots "
		    "busy, refused", k->name, k->user_id, keygen_slots(r->api));
		api_header_add(r, "Retry-After", "1");
		return api_error(r, ERR_KEYGEN_BUSY);
	}
	if (x509)
		rc = keygen_x509(k->user_id, k->public_key, sizeof k->public_key,
		    k->fingerprint, private_key);
	else if ((rc = keygen_rsa(k->public_key, sizeof k->public_key,
	    private_key)) == 0)
		rc = sshkey_fingerprint(k->public_key, k->fingerprint);
	keygen_slot_put(r->api);
	if (rc == 0)
		return 0;
	keygen_secret_free(*private_key);
	*private_key = NULL;
	return api_error(r, ERR_INTERNAL);
}

/* The key_pairs quota of the caller's project against the user's count. */
static int keypair_quota(struct api_req *r, const char *user)
{
	struct db_keypair *list = NULL;
	int64_t limit;
	size_t n = 0;

	if (api_quota_limit(r, r->project_id, "key_pairs", &limit) != 0)
		return API_ERROR;
	if (db_keypair_list(r->api->db, user, &list, &n) != DB_OK)
		return api_error(r, ERR_INTERNAL);
	free(list);
	if (limit >= 0 && (int64_t)n >= limit)
		return api_error(r, ERR_KEYPAIR_QUOTA);
	return 0;
}

enum api_rc keypairs_create(struct api_req *r)
{
	struct db_keypair k;
	char *private_key = NULL;
	json_t *v, *body;
	bool import;
	int rc;

	if (keypairs_validate_create(r, r->json_in, &k, &import) != 0 ||
	    target_user(r, k.user_id, "create") == NULL ||
	    keypair_quota(r, k.user_id) != 0 ||
	    (import ? key_material(r, &k) : key_generate(r, &k, &private_key)) != 0)
		return API_ERROR;
	rc = db_keypair_create(r->api->db, &k);
	if (rc != DB_OK) {
		keygen_secret_free(private_key);
		return api_error(r, rc == DB_CONFLICT ? ERR_KEYPAIR_EXISTS :
		    ERR_INTERNAL, k.name);
	}
	log_info("keypair %s of user %s %s", k.name, k.user_id,
	    import ? "imported" : "generated");
	v = keypair_view(r, &k, true);
	if (private_key != NULL)
		json_object_set_new(v, "private_key", json_string(private_key));
	keygen_secret_free(private_key);
	body = json_object();
	json_object_set_new(body, "keypair", v);
	return api_reply(r, r->mv >= API_MV(2, 2) ? 201 : 200, body);
}
