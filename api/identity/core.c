/*
 * The identity service's state and the check of every caller's token.
 *
 * Keys: the repository ([fernet_tokens] key_repository) is read at start
 * and again when its directory changes (kumo-manage token_rotate renames
 * files into it), looked at most once a second; every key opens tokens,
 * the primary seals them, so a rotation logs no one out.
 *
 * A token is self-contained (common/token.c): opening it needs no database
 * read. What it names is then resolved as Keystone does at validation:
 * the user and the scope must still exist and be enabled, no revocation
 * event may match it, and the user must still hold a role on the scope.
 * The answer is cached per token until an identity write: one through this
 * kumo-api (a revocation, a disabled user, a removed role) takes effect at
 * the next request, one made by another process (kumo-manage) within a
 * second.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "api/identity/identity.h"

/* Failed logins: at most THROTTLE_USER per user and THROTTLE_ADDR per
 * client address within THROTTLE_WINDOW seconds; the count starts again
 * when the window has passed, so no one is locked out for longer. */
#define THROTTLE_SLOTS 1024
#define THROTTLE_WINDOW 300
#define THROTTLE_USER 10
#define THROTTLE_ADDR 50

struct throttle_slot {
	char key[160];
	int fails;
	int64_t since;
};

/* Validated tokens, so that a request costs no database read: an entry
 * holds while the identity generation it was made under holds. Writes
 * through this kumo-api bump it at once (identity_changed); the database's
 * generation (kumo-manage, another writer) is read at most once a second. */
#define CACHE_SLOTS 512

struct cache_slot {
	char token[TOKEN_MAX];
	uint64_t gen;
	struct token t;
	unsigned roles;
	char role_names[256];
};

struct identity {
	pthread_mutex_t lock;
	struct fernet_keys keys;
	struct timespec dir_mtime;
	uint64_t checked_ms;
	char dummy_hash[PASSWORD_HASH_MAX];
	struct throttle_slot throttle[THROTTLE_SLOTS];
	uint64_t local_gen;            /* identity writes by this process */
	int64_t db_gen;                /* the database's, as last read */
	uint64_t db_gen_checked_ms;
	struct cache_slot cache[CACHE_SLOTS];
};

static int keys_load(struct identity *id, const char *dir)
{
	char err[512];
	struct stat st;

	if (fernet_load(dir, &id->keys, err, sizeof err) < 0) {
		log_warnx("token keys: %s", err);
		return -1;
	}
	if (stat(dir, &st) == 0)
		id->dir_mtime = st.st_mtim;
	return 0;
}

int identity_start(struct api *api)
{
	struct identity *id;

	api->keystone = strcmp(api->conf->auth_strategy, "keystone") == 0;
	if (!api->keystone && !api->conf->identity_enabled)
		return 0;
	/* an external Keystone is the cloud's identity service (authtoken/) */
	if (api->keystone && api->conf->authtoken_auth_url[0] != '\0') {
		log_info("identity service off: [keystone_authtoken] auth_url "
		    "is set");
		return 0;
	}
	if ((id = calloc(1, sizeof *id)) == NULL)
		return -1;
	pthread_mutex_init(&id->lock, NULL);
	if (keys_load(id, api->conf->token_key_repository) < 0) {
		if (!api->keystone) {
			/* noauth2 needs no tokens: the service stays off */
			log_info("identity service off: no token keys");
			pthread_mutex_destroy(&id->lock);
			free(id);
			return 0;
		}
		log_warnx("no usable token keys in %s: run 'kumo-manage "
		    "token_setup' (or set [api] auth_strategy = noauth2)",
		    api->conf->token_key_repository);
		goto fail;
	}
	if (password_hash("kumo-identity-dummy", api->conf->password_hash_rounds,
	    id->dummy_hash) < 0) {
		log_warnx("cannot make a password hash (libxcrypt bcrypt)");
		goto fail;
	}
	api->identity = id;
	log_info("identity: %d token keys from %s", id->keys.n,
	    api->conf->token_key_repository);
	return 0;
fail:
	pthread_mutex_destroy(&id->lock);
	free(id);
	return -1;
}

void identity_stop(struct api *api)
{
	if (api->identity == NULL)
		return;
	explicit_bzero(&api->identity->keys, sizeof api->identity->keys);
	pthread_mutex_destroy(&api->identity->lock);
	free(api->identity);
	api->identity = NULL;
}

/* Re-reads the repository when its directory changed (checked at most
 * once a second). Called with the lock held. */
static void keys_refresh(struct api *api)
{
	struct identity *id = api->identity;
	const char *dir = api->conf->token_key_repository;
	uint64_t now = now_ms();
	struct stat st;

	if (now - id->checked_ms < 1000)
		return;
	id->checked_ms = now;
	if (stat(dir, &st) < 0 ||
	    (st.st_mtim.tv_sec == id->dir_mtime.tv_sec &&
	    st.st_mtim.tv_nsec == id->dir_mtime.tv_nsec))
		return;
	if (keys_load(id, dir) == 0)
		log_info("token keys reloaded: %d keys", id->keys.n);
}

int ks_token_open(struct api *api, const char *s, struct token *t)
{
	struct identity *id = api->identity;
	int rc;

	if (id == NULL || strlen(s) >= TOKEN_MAX)
		return -1;
	pthread_mutex_lock(&id->lock);
	keys_refresh(api);
	rc = token_open(&id->keys, s, t);
	pthread_mutex_unlock(&id->lock);
	return rc;
}

int ks_token_seal(struct api *api, const struct token *t, char out[TOKEN_MAX])
{
	struct identity *id = api->identity;
	int rc;

	if (id == NULL)
		return -1;
	pthread_mutex_lock(&id->lock);
	keys_refresh(api);
	rc = token_seal(&id->keys, t, out);
	pthread_mutex_unlock(&id->lock);
	if (rc < 0)
		log_warnx("cannot seal a token for user %s", t->user_id);
	return rc;
}

void ks_auth_clear(struct ks_auth *a)
{
	free(a->roles);
	memset(a, 0, sizeof *a);
}

unsigned api_role_bit(const char *name)
{
	static const struct {
		const char *name;
		unsigned bit;
	} bits[] = {
		{ "reader", API_ROLE_READER },
		{ "member", API_ROLE_MEMBER },
		{ "admin", API_ROLE_ADMIN },
		{ "service", API_ROLE_SERVICE },
	};

	for (size_t i = 0; i < sizeof bits / sizeof *bits; i++)
		if (strcmp(bits[i].name, name) == 0)
			return bits[i].bit;
	return 0;
}

unsigned ks_role_bits(const struct db_role *roles, size_t n)
{
	unsigned bits = 0;

	for (size_t i = 0; i < n; i++)
		bits |= api_role_bit(roles[i].name);
	return bits;
}

/* DB_NOTFOUND -> -1 (the token is not valid), other failures -> 500. */
static int resolved(struct api_req *r, int rc)
{
	if (rc == DB_OK)
		return 0;
	if (rc == DB_NOTFOUND)
		return -1;
	return api_error(r, ERR_INTERNAL);
}

/* The scope's project or domain, enabled, and the user's roles on it. */
static int resolve_scope(struct api_req *r, struct ks_auth *a)
{
	struct db *db = r->api->db;
	const struct token *t = &a->tok;
	enum db_assign_scope scope = DB_SCOPE_PROJECT;
	const char *target = t->scope_id;
	int rc;

	switch (t->scope) {
	case TOKEN_UNSCOPED:
		return 0;
	case TOKEN_PROJECT:
		if ((rc = resolved(r, db_project_get(db, t->scope_id,
		    &a->project))) != 0)
			return rc;
		if ((rc = resolved(r, db_domain_get(db, a->project.domain_id,
		    &a->scope_domain))) != 0)
			return rc;
		if (!a->project.enabled || !a->scope_domain.enabled)
			return -1;
		break;
	case TOKEN_DOMAIN:
		if ((rc = resolved(r, db_domain_get(db, t->scope_id,
		    &a->scope_domain))) != 0)
			return rc;
		if (!a->scope_domain.enabled)
			return -1;
		scope = DB_SCOPE_DOMAIN;
		break;
	case TOKEN_SYSTEM:
		scope = DB_SCOPE_SYSTEM;
		target = "all";
		break;
	}
	if (db_effective_roles(db, t->user_id, scope, target, &a->roles,
	    &a->n_roles) != DB_OK)
		return api_error(r, ERR_INTERNAL);
	return a->n_roles > 0 ? 0 : -1;
}

/* An application credential's token carries the credential's roles, as
 * far as the user still holds them. */
static int resolve_app_cred(struct api_req *r, struct ks_auth *a)
{
	size_t keep = 0;
	int rc;

	if (!(a->tok.methods & TOKEN_M_APPCRED))
		return 0;
	if ((rc = resolved(r, db_app_cred_get(r->api->db, a->tok.appcred_id,
	    &a->cred))) != 0)
		return rc;
	if (strcmp(a->cred.user_id, a->user.id) != 0 ||
	    (a->cred.expires_at != 0 && a->cred.expires_at <= time(NULL)))
		return -1;
	for (size_t i = 0; i < a->n_roles; i++) {
		const char *p = strstr(a->cred.roles, a->roles[i].id);
		size_t n = strlen(a->roles[i].id);

		if (p != NULL && (p == a->cred.roles || p[-1] == ',') &&
		    (p[n] == '\0' || p[n] == ','))
			a->roles[keep++] = a->roles[i];
	}
	a->n_roles = keep;
	return keep > 0 ? 0 : -1;
}

int ks_resolve(struct api_req *r, const struct token *t, struct ks_auth *a)
{
	struct db *db = r->api->db;
	const char *audit[3] = { t->audit_ids[0], NULL, NULL };
	bool revoked = false;
	int rc;

	memset(a, 0, sizeof *a);
	a->tok = *t;
	if (t->expires_at <= time(NULL))
		return -1;
	if (t->audit_ids[1][0] != '\0')
		audit[1] = t->audit_ids[1];
	if (db_token_revoked(db, t->user_id, t->issued_at, audit, &revoked) !=
	    DB_OK)
		return api_error(r, ERR_INTERNAL);
	if (revoked)
		return -1;
	if ((rc = resolved(r, db_user_get(db, t->user_id, &a->user))) != 0 ||
	    (rc = resolved(r, db_domain_get(db, a->user.domain_id,
	    &a->user_domain))) != 0)
		return rc;
	if (!a->user.enabled || !a->user_domain.enabled)
		return -1;
	if ((rc = resolve_scope(r, a)) != 0)
		return rc;
	return resolve_app_cred(r, a);
}

void identity_changed(struct api *api)
{
	if (api->identity != NULL)
		__atomic_add_fetch(&api->identity->local_gen, 1, __ATOMIC_SEQ_CST);
}

/* The generation a cached validation must match: this process's writes,
 * and the database's generation read at most once a second. */
static uint64_t generation(struct api *api)
{
	struct identity *id = api->identity;
	uint64_t now = now_ms(), local;
	int64_t dbg;

	pthread_mutex_lock(&id->lock);
	if (now - id->db_gen_checked_ms >= 1000) {
		id->db_gen_checked_ms = now;
		pthread_mutex_unlock(&id->lock);
		if (db_identity_generation(api->db, &dbg) != DB_OK)
			dbg = -1;   /* unknown: nothing cached matches */
		pthread_mutex_lock(&id->lock);
		id->db_gen = dbg;
	}
	dbg = id->db_gen;
	pthread_mutex_unlock(&id->lock);
	local = __atomic_load_n(&id->local_gen, __ATOMIC_SEQ_CST);
	return dbg < 0 ? 0 : ((uint64_t)dbg << 24) + local + 1;
}

static struct cache_slot *cache_slot(struct identity *id, const char *s)
{
	uint32_t h = 2166136261u;

	for (const char *p = s; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return &id->cache[h % CACHE_SLOTS];
}

static bool cache_get(struct api *api, const char *s, uint64_t gen,
    struct token *t, unsigned *roles, char names[256])
{
	struct identity *id = api->identity;
	struct cache_slot *c = cache_slot(id, s);
	bool hit;

	pthread_mutex_lock(&id->lock);
	hit = gen != 0 && c->gen == gen && strcmp(c->token, s) == 0 &&
	    c->t.expires_at > time(NULL);
	if (hit) {
		*t = c->t;
		*roles = c->roles;
		memcpy(names, c->role_names, sizeof c->role_names);
	}
	pthread_mutex_unlock(&id->lock);
	return hit;
}

static void cache_put(struct api *api, const char *s, uint64_t gen,
    const struct token *t, unsigned roles, const char names[256])
{
	struct identity *id = api->identity;
	struct cache_slot *c = cache_slot(id, s);

	if (gen == 0)
		return;
	pthread_mutex_lock(&id->lock);
	str_copy(c->token, s, sizeof c->token);
	c->gen = gen;
	c->t = *t;
	c->roles = roles;
	memcpy(c->role_names, names, sizeof c->role_names);
	pthread_mutex_unlock(&id->lock);
}

/* "reader,member": the names a policy's role: checks see (those that
 * fit; a role name may not hold a comma in kumo's checks). */
static void role_names(const struct ks_auth *a, char out[256])
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < a->n_roles; i++) {
		size_t n = strlen(a->roles[i].name);

		if (strchr(a->roles[i].name, ',') != NULL || used + n + 2 > 256)
			continue;
		if (used > 0)
			out[used++] = ',';
		memcpy(out + used, a->roles[i].name, n + 1);
		used += n;
	}
}

int identity_authenticate(struct api_req *r, const char *s)
{
	uint64_t gen;
	struct ks_auth a;
	struct token t;
	unsigned roles;
	char names[256];
	int rc;

	if (r->api->identity == NULL || strlen(s) >= TOKEN_MAX)
		return -1;
	gen = generation(r->api);
	if (!cache_get(r->api, s, gen, &t, &roles, names)) {
		if (ks_token_open(r->api, s, &t) < 0) {
			/* faultwrap logs the 401 once */
			log_debug("a token that is not ours");
			return -1;
		}
		rc = ks_resolve(r, &t, &a);
		roles = ks_role_bits(a.roles, a.n_roles);
		role_names(&a, names);
		ks_auth_clear(&a);
		if (rc != 0) {
			if (rc == -1)
				log_debug("token of user %s (audit %s) is no longer "
				    "valid", t.user_id, t.audit_ids[0]);
			return -1;
		}
		cache_put(r->api, s, gen, &t, roles, names);
	}
	r->token = t;
	r->roles = roles;
	memcpy(r->role_names, names, sizeof r->role_names);
	r->is_admin = (roles & API_ROLE_ADMIN) != 0;
	str_copy(r->user_id, t.user_id, sizeof r->user_id);
	if (t.scope == TOKEN_PROJECT)
		str_copy(r->project_id, t.scope_id, sizeof r->project_id);
	return 0;
}

bool ks_password_ok(struct api *api, const struct db_user *u, const char *pw)
{
	if (u == NULL || u->password_hash[0] == '\0') {
		(void)password_verify(pw, api->identity->dummy_hash);
		return false;
	}
	return password_verify(pw, u->password_hash);
}

/* ---- the token body ---- */

static json_t *roles_json(const struct ks_auth *a)
{
	json_t *list = json_array();

	for (size_t i = 0; i < a->n_roles; i++)
		json_array_append_new(list, json_pack("{s:s, s:s}",
		    "id", a->roles[i].id, "name", a->roles[i].name));
	return list;
}

static json_t *methods_json(unsigned m)
{
	json_t *list = json_array();

	/* Keystone lists the newest method first ("token", "password") */
	if (m & TOKEN_M_TOKEN)
		json_array_append_new(list, json_string("token"));
	if (m & TOKEN_M_PASSWORD)
		json_array_append_new(list, json_string("password"));
	if (m & TOKEN_M_APPCRED)
		json_array_append_new(list, json_string("application_credential"));
	return list;
}

static json_t *audit_json(const struct token *t)
{
	json_t *list = json_array();

	for (int i = 0; i < 2; i++)
		if (t->audit_ids[i][0] != '\0')
			json_array_append_new(list, json_string(t->audit_ids[i]));
	return list;
}

json_t *ks_token_body(struct api_req *r, const struct ks_auth *a, bool catalog)
{
	const struct token *t = &a->tok;
	json_t *tok = json_object(), *user, *cat;
	char ts[32];

	json_object_set_new(tok, "methods", methods_json(t->methods));
	user = json_pack("{s:o, s:s, s:o, s:n}", "domain",
	    ks_domain_ref(&a->user_domain), "id", a->user.id,
	    "name", view_str(a->user.name), "password_expires_at");
	json_object_set_new(tok, "user", user);
	json_object_set_new(tok, "audit_ids", audit_json(t));
	ks_time(t->expires_at, ts);
	json_object_set_new(tok, "expires_at", json_string(ts));
	ks_time(t->issued_at, ts);
	json_object_set_new(tok, "issued_at", json_string(ts));
	if (t->scope == TOKEN_UNSCOPED)
		return json_pack("{s:o}", "token", tok);
	if (t->scope == TOKEN_PROJECT) {
		json_object_set_new(tok, "project", json_pack("{s:o, s:s, s:o}",
		    "domain", ks_domain_ref(&a->scope_domain), "id",
		    a->project.id, "name", view_str(a->project.name)));
		json_object_set_new(tok, "is_domain", json_false());
	} else if (t->scope == TOKEN_DOMAIN) {
		json_object_set_new(tok, "domain", ks_domain_ref(&a->scope_domain));
	} else {
		json_object_set_new(tok, "system", json_pack("{s:b}", "all", 1));
	}
	json_object_set_new(tok, "roles", roles_json(a));
	if (t->methods & TOKEN_M_APPCRED)
		json_object_set_new(tok, "application_credential",
		    json_pack("{s:s, s:o, s:b}", "id", a->cred.id, "name",
		    view_str(a->cred.name), "restricted", !a->cred.unrestricted));
	if (catalog) {
		if ((cat = ks_catalog(r)) == NULL) {
			json_decref(tok);
			return NULL;
		}
		json_object_set_new(tok, "catalog", cat);
	}
	return json_pack("{s:o}", "token", tok);
}

/* ---- failed logins ---- */

static struct throttle_slot *throttle_slot(struct identity *id, const char *key)
{
	uint32_t h = 2166136261u;

	for (const char *p = key; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return &id->throttle[h % THROTTLE_SLOTS];
}

static int throttle_limit(const char *key)
{
	return strncmp(key, "addr:", 5) == 0 ? THROTTLE_ADDR : THROTTLE_USER;
}

int ks_throttle_check(struct api_req *r, const char *key)
{
	struct identity *id = r->api->identity;
	struct throttle_slot *s = throttle_slot(id, key);
	int64_t now = time(NULL), wait = 0;
	char secs[24];

	pthread_mutex_lock(&id->lock);
	if (strcmp(s->key, key) == 0 && now - s->since < THROTTLE_WINDOW &&
	    s->fails >= throttle_limit(key))
		wait = THROTTLE_WINDOW - (now - s->since);
	pthread_mutex_unlock(&id->lock);
	if (wait == 0)
		return 0;
	snprintf(secs, sizeof secs, "%lld", (long long)wait);
	api_header_add(r, "Retry-After", "%s", secs);
	return api_error(r, ERR_KS_THROTTLED, secs);
}

void ks_throttle_fail(struct api *api, const char *key)
{
	struct identity *id = api->identity;
	struct throttle_slot *s = throttle_slot(id, key);
	int64_t now = time(NULL);

	pthread_mutex_lock(&id->lock);
	if (strcmp(s->key, key) != 0 || now - s->since >= THROTTLE_WINDOW) {
		str_copy(s->key, key, sizeof s->key);
		s->fails = 0;
		s->since = now;
	}
	s->fails++;
	pthread_mutex_unlock(&id->lock);
}

void ks_throttle_clear(struct api *api, const char *key)
{
	struct identity *id = api->identity;
	struct throttle_slot *s = throttle_slot(id, key);

	pthread_mutex_lock(&id->lock);
	if (strcmp(s->key, key) == 0)
		memset(s, 0, sizeof *s);
	pthread_mutex_unlock(&id->lock);
}
