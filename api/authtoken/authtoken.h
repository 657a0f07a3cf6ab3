/*
 * api/authtoken/: kumo-api in a cloud that already has Keystone. With
 * [keystone_authtoken] auth_url set, a caller's token is checked as
 * keystonemiddleware checks it in front of Nova
 * (research/keystone-anchor.md, section 6):
 *
 *   service.c   kumo-api's own (service) token: a password login by names,
 *               project-scoped, with the catalog; reused until a minute
 *               before it expires; the validation URL from its catalog
 *   validate.c  a user token: the cache, else GET /v3/auth/tokens with
 *               X-Subject-Token; the answer into the request's identity
 *   cache.c     validations by SHA-256 of the token, bounded, the oldest
 *               evicted
 *
 * Neither the password nor a token is ever logged.
 */
#ifndef KUMO_API_AUTHTOKEN_H
#define KUMO_API_AUTHTOKEN_H

#include <pthread.h>

#include "api/api.h"
#include "common/http.h"

#define AT_TOKEN_MAX HTTP_TOKEN_MAX
#define AT_URL_MAX 1024
#define AT_CACHE_SLOTS 1024
#define AT_KEY_LEN 65       /* SHA-256 in hex, and the NUL */

/* What Keystone said about a token, as the request and the cache keep it. */
struct at_ident {
	char user_id[TOKEN_ID_LEN];
	char project_id[TOKEN_ID_LEN];  /* "" unless project-scoped */
	char role_names[256];           /* "reader,member" */
	unsigned roles;                 /* API_ROLE_* */
	int64_t expires_at;             /* the token's, unix seconds */
};

struct at_slot {
	char key[AT_KEY_LEN];           /* "" = free */
	int64_t until;                  /* the entry's end (token_cache_time) */
	uint64_t stamp;                 /* insertion order: the oldest goes */
	struct at_ident ident;
};

struct at_cache {
	pthread_mutex_t mu;
	uint64_t next_stamp;
	struct at_slot slots[AT_CACHE_SLOTS];
};

struct at_service {
	pthread_mutex_t mu;
	char token[AT_TOKEN_MAX];       /* "" = none */
	int64_t expires;
	char validate_url[AT_URL_MAX];  /* <identity endpoint>/auth/tokens */
	long failed;                    /* the last failed login (logged once) */
};

struct authtoken {
	const struct kumo_conf *conf;
	char auth_url[AT_URL_MAX];      /* auth_url ending in /v3 */
	char login_uri[AT_URL_MAX];     /* WWW-Authenticate's */
	struct at_service service;
	struct at_cache cache;
	unsigned long validations;      /* calls to Keystone (debug log) */
};

/* ---- service.c ---- */
int at_service_init(struct authtoken *at);
void at_service_fini(struct authtoken *at);
/* The service token and the validation URL (logging in when there is no
 * token or it expires within a minute): 0, or -1 (logged once). */
int at_service_token(struct authtoken *at, char tok[AT_TOKEN_MAX],
    char url[AT_URL_MAX]);
/* Keystone refused tok: it is forgotten (the next call logs in anew). */
void at_service_refused(struct authtoken *at, const char *tok);
/* url ("http://h:5000/", "http://h/identity/v3") as a v3 root without a
 * final '/' into out: 0, or -1 when it is not http(s) or too long. */
int at_v3_url(const char *url, char *out, size_t len);

/* ---- cache.c ---- */
void at_cache_init(struct at_cache *c);
void at_cache_fini(struct at_cache *c);
/* The validation cached under key, if its entry and its token are both
 * still valid at now. */
bool at_cache_get(struct at_cache *c, const char *key, int64_t now,
    struct at_ident *out);
/* Keeps id under key until `until`, evicting the oldest entry when full. */
void at_cache_put(struct at_cache *c, const char *key, int64_t until,
    const struct at_ident *id);

#endif
