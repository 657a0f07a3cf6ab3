/*
 * servers_query.c: the query of GET /v2.1/servers[/detail], for servers.c
 * only (not part of api.h: it needs db.h).
 */
#ifndef KUMO_API_SERVERS_QUERY_H
#define KUMO_API_SERVERS_QUERY_H

#include <stdbool.h>

#include "db/db.h"

#define LIST_MAX 1000  /* Nova's osapi_max_limit */
/* ?name= is a regular expression of at most this many bytes. */
#define NAME_PATTERN_MAX 255

struct servers_query {
	struct db_instance_filter f;   /* project, host, marker, deleted */
	struct api_regex *name_re;   /* NULL = any name */
	const char *status, *flavor, *image;   /* borrowed; NULL = any */
	char since[DB_TS];     /* changes-since in UTC, "" = none */
	int sort;              /* index of the sort key, -1 = newest first */
	bool sort_asc;
	bool in_memory;        /* filter, sort and page here, not in SQL */
	int limit;             /* the page size asked for (capped) */
	bool limited;          /* ?limit= was given */
};

/* Parses r's query: 0, or API_ERROR (nothing to free). */
int servers_query_parse(struct api_req *r, struct servers_query *q);
void servers_query_free(struct servers_query *q);
/* The servers after the marker, filtered and in order: rows [*from, *n)
 * of *list (the caller frees it); the page is the first q->limit of them.
 * 0, or API_ERROR (an unknown marker is a 400). */
int servers_query_load(struct api_req *r, struct servers_query *q,
    struct db_instance **list, size_t *n, size_t *from);
/* The servers_links "next" href: the request's own query and marker. */
void servers_query_next_href(struct api_req *r, const char *marker,
    char *buf, size_t len);

#endif
