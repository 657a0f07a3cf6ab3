/*
 * Validations by SHA-256 of the token (as keystonemiddleware keys its
 * cache), so that a token costs Keystone one call per token_cache_time.
 * Only valid tokens are kept: a refused token is asked about every time.
 * A lookup scans the slots under the lock: 1024 short compares cost far
 * less than the HTTP call a miss makes.
 */
#include <string.h>

#include "api/authtoken/authtoken.h"

void at_cache_init(struct at_cache *c)
{
	memset(c, 0, sizeof *c);
	pthread_mutex_init(&c->mu, NULL);
}

void at_cache_fini(struct at_cache *c)
{
	pthread_mutex_destroy(&c->mu);
	explicit_bzero(c->slots, sizeof c->slots);
}

static struct at_slot *find(struct at_cache *c, const char *key)
{
	for (size_t i = 0; i < AT_CACHE_SLOTS; i++)
		if (c->slots[i].key[0] != '\0' &&
		    memcmp(c->slots[i].key, key, AT_KEY_LEN) == 0)
			return &c->slots[i];
	return NULL;
}

bool at_cache_get(struct at_cache *c, const char *key, int64_t now,
    struct at_ident *out)
{
	struct at_slot *s;
	bool hit = false;

	pthread_mutex_lock(&c->mu);
	if ((s = find(c, key)) != NULL) {
		hit = now < s->until && now < s->ident.expires_at;
		if (hit)
			*out = s->ident;
		else
			memset(s, 0, sizeof *s);
	}
	pthread_mutex_unlock(&c->mu);
	return hit;
}

/* A free slot, else the oldest. Called with the lock held. */
static struct at_slot *victim(struct at_cache *c)
{
	struct at_slot *old = &c->slots[0];

	for (size_t i = 0; i < AT_CACHE_SLOTS; i++) {
		if (c->slots[i].key[0] == '\0')
			return &c->slots[i];
		if (c->slots[i].stamp < old->stamp)
			old = &c->slots[i];
	}
	return old;
}

void at_cache_put(struct at_cache *c, const char *key, int64_t until,
    const struct at_ident *id)
{
	struct at_slot *s;

	pthread_mutex_lock(&c->mu);
	if ((s = find(c, key)) == NULL)
		s = victim(c);
	memcpy(s->key, key, AT_KEY_LEN);
	s->until = until;
	s->stamp = ++c->next_stamp;
	s->ident = *id;
	pthread_mutex_unlock(&c->mu);
}
