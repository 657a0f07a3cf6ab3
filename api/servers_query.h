/*
 * servers_query.c: the query of GET /v2.1/servers[/detail], for servers.c
 * only (not part of api.h: it needs db.h).
 */
#ifndef KUMO_API_SERVERS_QUERY_H
#define KUMO_API_SERVERS_QUERY_H

#include <stdbool.h>

#include "db/db.h"

/* ?name= is a regular expression of at most this many bytes. */
#define NAME_PATTERN_MAX 255

struct servers_query {
	struct db_instance_filter f;   /* what SQL filters, the order, the marker */
	struct api_regex *name_re;   /* NULL = any name */
	const char *status;    /* borrowed; NULL = any */
	char since[DB_TS];     /* changes-since in UTC, "" = none */
	int limit;             /* the page size: ?limit=, at most [api] max_limit */
};

/* Parses r's query: 0, or API_ERROR (nothing to free). */
int servers_query_parse(struct api_req *r, struct servers_query *q);
void servers_query_free(struct servers_query *q);
/* The page: up to q->limit servers after the marker, filtered and in
 * order, into *list (the caller frees it). 0, or API_ERROR (an unknown
 * marker is a 400). */
int servers_query_load(struct api_req *r, struct servers_query *q,
    struct db_instance **list, size_t *n);
/* The servers_links "next" href: the request's own query and marker. */
void servers_query_next_href(struct api_req *r, const char *marker,
    char *buf, size_t len);

#endif
