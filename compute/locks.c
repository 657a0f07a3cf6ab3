/*
 * One operation at a time per instance: a terminate that arrives while
 * the same instance is still spawning waits for the spawn to end, then
 * destroys what it built (Nova's synchronized(instance.uuid)).
 */
#include <stdlib.h>
#include <string.h>

#include "compute/compute.h"

void compute_locks_init(struct compute_locks *l)
{
	memset(l, 0, sizeof *l);
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->cv, NULL);
}

void compute_locks_fini(struct compute_locks *l)
{
	pthread_cond_destroy(&l->cv);
	pthread_mutex_destroy(&l->mu);
	free(l->busy);
	l->busy = NULL;
	l->n = l->cap = 0;
}

static bool held(const struct compute_locks *l, const char *uuid)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->busy[i], uuid) == 0)
			return true;
	return false;
}

int compute_lock(struct compute_locks *l, const char *uuid)
{
	char (*busy)[UUID_STR_LEN];
	int rc = 0;

	pthread_mutex_lock(&l->mu);
	while (held(l, uuid))
		pthread_cond_wait(&l->cv, &l->mu);
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;

		if ((busy = realloc(l->busy, cap * sizeof *busy)) == NULL)
			rc = -1;
		else {
			l->busy = busy;
			l->cap = cap;
		}
	}
	if (rc == 0) {
		str_copy(l->busy[l->n++], uuid, UUID_STR_LEN);
		l->taken++;
	}
	pthread_mutex_unlock(&l->mu);
	return rc;
}

bool compute_lock_busy(struct compute_locks *l, const char *uuid)
{
	bool busy;

	pthread_mutex_lock(&l->mu);
	busy = held(l, uuid);
	pthread_mutex_unlock(&l->mu);
	return busy;
}

uint64_t compute_locks_taken(struct compute_locks *l)
{
	uint64_t taken;

	pthread_mutex_lock(&l->mu);
	taken = l->taken;
	pthread_mutex_unlock(&l->mu);
	return taken;
}

void compute_unlock(struct compute_locks *l, const char *uuid)
{
	pthread_mutex_lock(&l->mu);
	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->busy[i], uuid) == 0) {
			memcpy(l->busy[i], l->busy[--l->n], UUID_STR_LEN);
			break;
		}
	}
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
}
