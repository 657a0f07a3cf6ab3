/*
 * libmicrohttpd glue. MHD calls the access handler several times per
 * request: the first call creates struct api_req (hung on *req_cls) and runs
 * the filters' request hooks; later calls stream the body in; the last one
 * (no upload data) runs the app and queues the reply. The reply is never
 * queued on the first call: libmicrohttpd 0.9.75 then drops keep-alive
 * (research/floors.md). The state is freed once, in the completion callback.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/api.h"

/* A body being dropped is read up to this many times the limit. */
#define DISCARD_FACTOR 16

const char *api_header_get(struct api_req *r, const char *name)
{
	if (r->conn == NULL)
		return NULL;
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *api_query_get(struct api_req *r, const char *name)
{
	if (r->conn == NULL)
		return NULL;
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

bool api_query_has(struct api_req *r, const char *name)
{
	return r->conn != NULL && MHD_lookup_connection_value_n(r->conn,
	    MHD_GET_ARGUMENT_KIND, name, strlen(name), NULL, NULL) == MHD_YES;
}

void api_header_add(struct api_req *r, const char *name, const char *fmt, ...)
{
	struct api_header *h;
	va_list ap;
	int n;

	if (r->n_headers >= API_MAX_HEADERS) {
		log_warnx("reply header %s dropped: too many headers", name);
		return;
	}
	h = &r->headers[r->n_headers];
	va_start(ap, fmt);
	n = vsnprintf(h->value, sizeof h->value, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof h->value) {
		log_warnx("reply header %s dropped: value too long", name);
		return;
	}
	h->name = name;
	r->n_headers++;
}

int api_reply(struct api_req *r, int status, json_t *body)
{
	if (r->fd_out >= 0)
		close(r->fd_out);
	r->fd_out = -1;
	json_decref(r->json_out);
	free(r->text_out);
	r->text_out = NULL;
	r->json_out = body;
	r->status = status;
	r->answered = true;
	return API_DONE;
}

int api_reply_text(struct api_req *r, int status, char *text, size_t len)
{
	if (text == NULL)
		return api_error(r, ERR_INTERNAL);
	api_reply(r, status, NULL);
	r->text_out = text;
	r->text_len = len;
	return API_DONE;
}

int api_reply_fd(struct api_req *r, int status, int fd, uint64_t len)
{
	api_reply(r, status, NULL);
	r->fd_out = fd;
	r->fd_len = len;
	return API_DONE;
}

/* Links use the Host the client called, as Nova's do; a Host of unusual
 * characters falls back to the listen address. */
static void set_base_url(struct api_req *r)
{
	const struct kumo_conf *conf = r->api->conf;
	const char *host = api_header_get(r, "Host");
	bool ok = host != NULL && *host != '\0' && strlen(host) < 128;

	for (const char *p = host; ok && *p; p++)
		ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr(".-:[]_", *p) != NULL;
	if (ok && str_fmt(r->base_url, sizeof r->base_url, "http://%s", host) == 0)
		return;
	if (str_fmt(r->base_url, sizeof r->base_url, "http://%s:%d",
	    conf->osapi_compute_listen, conf->osapi_compute_listen_port) < 0)
		str_copy(r->base_url, "http://127.0.0.1", sizeof r->base_url);
}

void api_client_addr(struct api_req *r, char *out, size_t len)
{
	const union MHD_ConnectionInfo *ci = r->conn == NULL ? NULL :
	    MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	out[0] = '\0';
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
		    out, (socklen_t)len);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr,
		    out, (socklen_t)len);
}

/*
 * What kumo keeps of a connection between its requests (MHD's socket
 * context): the request target as sent, of the request being read, and
 * whether it holds a NUL byte. libmicrohttpd 0.9.75 decodes the target in
 * place and hands out C strings, so a NUL, sent raw or as %00, would cut
 * the path or a query value short: "DELETE /v2/images/<id>%00/file" would
 * delete the image. Such a request is refused whole instead (400).
 */
struct api_conn {
	const char *target;        /* MHD's, as the URI callback saw it */
	size_t target_len;         /* its strlen then */
	bool nul;                  /* decoding met a %00 */
	char sent[1024];           /* the target as sent, cut to fit */
};

static struct api_conn *conn_state(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn,
	    MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci != NULL ? ci->socket_context : NULL;
}

static void on_connection(void *cls, struct MHD_Connection *conn,
    void **socket_context, enum MHD_ConnectionNotificationCode toe)
{
	(void)cls;
	(void)conn;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		*socket_context = calloc(1, sizeof(struct api_conn));
		return;
	}
	free(*socket_context);
	*socket_context = NULL;
}

/* Called once a request, on the target as sent, before any decoding. */
static void *on_target(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct api_conn *c = conn_state(conn);

	(void)cls;
	if (c != NULL) {
		c->target = uri;
		c->target_len = uri != NULL ? strlen(uri) : 0;
		c->nul = false;
		str_copy(c->sent, uri != NULL ? uri : "", sizeof c->sent);
	}
	return NULL;   /* *req_cls stays NULL until the access handler */
}

/* MHD's own %XX decoding (the path, each query key and value), noting a
 * decoded NUL. */
static size_t on_unescape(void *cls, struct MHD_Connection *conn, char *s)
{
	struct api_conn *c = conn_state(conn);
	size_t n = MHD_http_unescape(s);

	(void)cls;
	if (c != NULL && memchr(s, '\0', n) != NULL)
		c->nul = true;
	return n;
}

/*
 * Raw NULs. libmicrohttpd up to 0.9.77 parses the request in its read
 * buffer, in place: the request line becomes "METHOD\0URI\0VERSION", each
 * header line "Key\0value" with its CR LF (or bare LF) zeroed, and it hands
 * out C strings into it. A raw NUL thus shows as a string that ends before
 * its line does. The checks below rely on that layout, and check it first.
 */
#define PARSED_IN_PLACE (MHD_VERSION <= 0x00097700)

/* The target: the URI callback's strlen stops short of the space before
 * the version (url is the target that callback saw; version follows it). */
static bool target_has_raw_nul(const struct api_conn *c, const char *url,
    const char *version)
{
	if (!PARSED_IN_PLACE || c->target == NULL || url != c->target ||
	    version == NULL || *version == '\0' || version <= url ||
	    version - url > 65536)
		return false;
	return (size_t)(version - url) - 1 != c->target_len;
}

struct header_scan {
	const char *prev_end;      /* the previous value's terminator */
	bool nul;
};

/* After a value's terminator comes its zeroed LF, or (bare LF) the next
 * line: the next header's key, or the zeroed empty line. Anything else is
 * the rest of a value cut by a raw NUL. */
static enum MHD_Result header_scan(void *cls, enum MHD_ValueKind kind,
    const char *key, size_t key_size, const char *value, size_t value_size)
{
	struct header_scan *s = cls;

	(void)kind;
	(void)key_size;
	if (s->prev_end != NULL && s->prev_end[1] != '\0' &&
	    s->prev_end + 1 != key)
		s->nul = true;
	s->prev_end = value != NULL ? value + value_size : NULL;
	return s->nul ? MHD_NO : MHD_YES;
}

static bool headers_have_raw_nul(struct MHD_Connection *conn)
{
	struct header_scan s = { NULL, false };

	if (!PARSED_IN_PLACE)
		return false;
	MHD_get_connection_values_n(conn, MHD_HEADER_KIND, header_scan, &s);
	if (!s.nul && s.prev_end != NULL && s.prev_end[1] != '\0')
		s.nul = true;
	return s.nul;
}

/* The request is refused whole (400), and logged with its target as sent. */
static void target_refuse(struct api_req *r, const struct api_conn *c,
    const char *why, const char *note)
{
	/* cut to fit, the note included */
	str_copy(r->path_sent, c->sent, sizeof r->path_sent - 32);
	strcat(r->path_sent, note);
	r->path = r->path_sent;
	r->route = NULL;
	r->malformed = why;
}

static struct api_req *req_new(struct api *api, struct MHD_Connection *conn,
    const char *url, const char *method, const char *version)
{
	const struct api_conn *c = conn_state(conn);
	struct api_req *r;

	/* no state for the connection: its target cannot be checked */
	if (c == NULL || (r = calloc(1, sizeof *r)) == NULL)
		return NULL;
	r->api = api;
	r->conn = conn;
	r->method = method;
	r->path = url;
	r->start_us = now_us();
	r->mv = API_MV_MIN;
	r->body_limit = api->conf->max_request_body_size;
	r->fd_out = -1;
	set_base_url(r);
	api_route_request(r);
	if (c->nul)
		target_refuse(r, c, "Malformed request URL: a NUL byte in the path "
		    "or query", "");
	else if (target_has_raw_nul(c, url, version))
		target_refuse(r, c, "Malformed request URL: a NUL byte in the path "
		    "or query", " (cut at a raw NUL byte)");
	else if (headers_have_raw_nul(conn))
		target_refuse(r, c, "Malformed request: a NUL byte in a header",
		    "");
	__atomic_add_fetch(&api->in_flight, 1, __ATOMIC_SEQ_CST);
	return r;
}

static void req_free(struct api_req *r)
{
	if (r == NULL)
		return;
	if (r->fd_out >= 0)
		close(r->fd_out);
	free(r->body);
	json_decref(r->json_in);
	json_decref(r->json_out);
	free(r->text_out);
	if (r->defer_free != NULL)
		r->defer_free(r->defer_state);
	free(r);
}

/* The request hooks, in pipeline order, until one answers or fails. */
static void run_request_hooks(struct api_req *r)
{
	const struct api_pipeline *p = &r->api->pipeline;

	for (size_t i = 0; i < p->n && !r->answered; i++) {
		const struct api_filter *f = p->filters[i];
		enum api_rc rc = API_NEXT;

		r->n_ran = i + 1;
		if (f->request != NULL)
			rc = f->request(r);
		if (rc == API_ERROR && r->err == ERR_NONE)
			api_error(r, ERR_INTERNAL);
		if (rc != API_NEXT)
			r->answered = true;
	}
}

/* Streams body bytes in: all count against the limit, only routes that
 * take a body keep them. Past the limit: 413, and nothing more is kept. */
static void body_append(struct api_req *r, const char *data, size_t len)
{
	size_t want = r->body_len + len;

	if (r->answered) {
		r->body_len = want;  /* counted, dropped */
		return;
	}
	if ((int64_t)want > r->body_limit) {
		log_warnx("%s %s: body over %lld bytes", r->method, r->path,
		    (long long)r->body_limit);
		api_error(r, ERR_TOO_LARGE);
		r->answered = true;
		return;
	}
	if (r->route == NULL || !(r->route->flags & ROUTE_BODY)) {
		r->body_len = want;  /* counted, not kept: bodies on GET are ignored */
		return;
	}
	if (want + 1 > r->body_cap) {
		size_t cap = r->body_cap ? r->body_cap : 1024;
		char *nb;

		while (cap < want + 1)
			cap *= 2;
		if ((int64_t)cap > r->body_limit + 1)
			cap = (size_t)r->body_limit + 1;
		if ((nb = realloc(r->body, cap)) == NULL) {
			api_error(r, ERR_INTERNAL);
			r->answered = true;
			return;
		}
		r->body = nb;
		r->body_cap = cap;
	}
	memcpy(r->body + r->body_len, data, len);
	r->body_len = want;
	r->body[r->body_len] = '\0';
}

/* A refused stream drops its body as any refused body: bounded by the
 * JSON limit, not the stream's, counted from the refusal on (what was
 * streamed before it is not the client's to resend). */
static void stream_refused(struct api_req *r)
{
	r->answered = true;
	r->body_limit = r->api->conf->max_request_body_size;
	r->body_len = 0;
}

/* Once the headers are in: a route with a stream begins it. True when it
 * was refused and its declared body is longer than a refused body is read
 * for: that one is answered before reading it, as a declared body over
 * the limit is (else the client would see the connection closed). */
static bool stream_begin(struct api_req *r)
{
	const char *cl = api_header_get(r, "Content-Length");
	int64_t len;

	if (api_route_stream(r->route) == NULL)
		return false;
	if (r->answered || api_router_stream_begin(r) != 0) {
		stream_refused(r);
		return cl != NULL && num_parse_i64(cl, 0, INT64_MAX, &len) == 0 &&
		    len / DISCARD_FACTOR > r->body_limit;
	}
	r->streaming = true;
	return false;
}

/* A chunk of a streamed body, counted against the stream's bound. */
static void stream_feed(struct api_req *r, const char *data, size_t len)
{
	r->body_len += len;
	if ((int64_t)r->body_len > r->body_limit) {
		log_warnx("%s %s: body over %lld bytes", r->method, r->path,
		    (long long)r->body_limit);
		api_error(r, ERR_TOO_LARGE);
		stream_refused(r);
		return;
	}
	if (api_route_stream(r->route)->data(r, data, len) != 0) {
		if (r->err == ERR_NONE)
			api_error(r, ERR_INTERNAL);
		stream_refused(r);
	}
}

static void add_reply_headers(struct api_req *r, struct MHD_Response *resp)
{
	const char *ct = r->content_type ? r->content_type : "application/json";

	MHD_add_response_header(resp, "Content-Type", ct);
	for (size_t i = 0; i < r->n_headers; i++)
		MHD_add_response_header(resp, r->headers[i].name, r->headers[i].value);
}

/* Response hooks in reverse order, then the reply itself. */
static enum MHD_Result send_reply(struct api_req *r)
{
	const struct api_pipeline *p = &r->api->pipeline;
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char *text = NULL;
	size_t len = 0;

	for (size_t i = r->n_ran; i > 0; i--)
		if (p->filters[i - 1]->response != NULL)
			p->filters[i - 1]->response(r);
	if (r->status == 0)
		r->status = r->err != ERR_NONE ? api_err_status(r->err) : 500;
	if (r->json_out != NULL) {
		text = json_dumps(r->json_out, JSON_ENCODE_ANY);
		if (text == NULL)
			return MHD_NO;
		len = strlen(text);
	} else if (r->text_out != NULL) {
		text = r->text_out;
		len = r->text_len;
		r->text_out = NULL;
	}
	if (r->fd_out >= 0) {
		resp = MHD_create_response_from_fd64(r->fd_len, r->fd_out);
		if (resp != NULL)
			r->fd_out = -1;  /* MHD's now */
		len = (size_t)r->fd_len;
	} else {
		resp = MHD_create_response_from_buffer(len, text,
		    MHD_RESPMEM_MUST_FREE);
	}
	if (resp == NULL) {
		free(text);
		return MHD_NO;
	}
	add_reply_headers(r, resp);
	r->reply_bytes = len;
	ret = MHD_queue_response(r->conn, (unsigned int)r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn,
    const char *url, const char *method, const char *version,
    const char *upload_data, size_t *upload_data_size, void **req_cls)
{
	struct api_req *r = *req_cls;

	if (r == NULL) {
		log_set_reqid(NULL);
		if ((r = req_new(cls, conn, url, method, version)) == NULL)
			return MHD_NO;
		*req_cls = r;
		run_request_hooks(r);
		/* A declared body over the limit: answer before reading it. This
		 * is the one reply made on the first call (MHD then closes). */
		if (r->err == ERR_TOO_LARGE || stream_begin(r))
			return send_reply(r);
		return MHD_YES;
	}
	log_set_reqid(r->reqid[0] ? r->reqid : NULL);
	if (*upload_data_size > 0) {
		if (r->streaming && !r->answered)
			stream_feed(r, upload_data, *upload_data_size);
		else
			body_append(r, upload_data, *upload_data_size);
		*upload_data_size = 0;
		/* MHD 0.9.75 cannot reply in mid-body: a streamed body over the
		 * limit is read and dropped, up to a bound, then answered 413. */
		if (r->body_len / DISCARD_FACTOR > (size_t)r->body_limit)
			return MHD_NO;
		return MHD_YES;
	}
	if (r->defer_finish != NULL && r->defer_work == NULL) {
		/* resumed: the deferred work is done */
		enum api_rc (*finish)(struct api_req *) = r->defer_finish;

		r->defer_finish = NULL;
		if (r->defer_cancelled)
			api_error(r, ERR_SHUTTING_DOWN);
		else if (finish(r) != API_DONE && r->err == ERR_NONE)
			api_error(r, ERR_INTERNAL);
		return send_reply(r);
	}
	if (!r->answered) {
		enum api_rc rc = r->api->pipeline.app(r);

		if (rc == API_SUSPEND) {
			MHD_suspend_connection(conn);
			api_pool_submit(r);
			return MHD_YES;
		}
		if (rc != API_DONE && r->err == ERR_NONE)
			api_error(r, ERR_INTERNAL);
	}
	return send_reply(r);
}

static void on_complete(void *cls, struct MHD_Connection *conn, void **req_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct api *api = cls;
	struct api_req *r = *req_cls;

	(void)conn;
	(void)toe;
	if (r == NULL)
		return;
	log_set_reqid(r->reqid[0] ? r->reqid : NULL);
	for (size_t i = r->n_ran; i > 0; i--)
		if (api->pipeline.filters[i - 1]->complete != NULL)
			api->pipeline.filters[i - 1]->complete(r);
	if (r->streaming)
		api_route_stream(r->route)->end(r);
	req_free(r);
	*req_cls = NULL;
	log_set_reqid(NULL);
	__atomic_add_fetch(&api->completed, 1, __ATOMIC_RELAXED);
	__atomic_sub_fetch(&api->in_flight, 1, __ATOMIC_SEQ_CST);
}

static int listen_addr(const struct kumo_conf *conf, struct sockaddr_storage *ss,
    unsigned int *flags)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	uint16_t port = htons((uint16_t)conf->osapi_compute_listen_port);

	memset(ss, 0, sizeof *ss);
	if (inet_pton(AF_INET, conf->osapi_compute_listen, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = port;
		return 0;
	}
	if (inet_pton(AF_INET6, conf->osapi_compute_listen, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = port;
		*flags |= MHD_USE_IPv6;
		return 0;
	}
	log_warnx("osapi_compute_listen %s is not an IP address",
	    conf->osapi_compute_listen);
	return -1;
}

/* Descriptors the process holds apart from its connections: the
 * database pool (a file, its -wal and -shm each), the bus (publish pool,
 * replies, casts), the log, the listen socket, each worker's wake-up
 * channel, an external Keystone's client, and some slack. */
#define FDS_RESERVED(workers) (128 + 2 * (workers))
#define CONN_MIN 16

/*
 * How many connections libmicrohttpd takes at once: what the process's
 * file limit (systemd's LimitNOFILE=, read at start) leaves after the
 * reserve, halved because a connection may hold a file too (an image
 * being sent or received). Past it, new connections wait in the listen
 * backlog; with libmicrohttpd's own default (1020) and systemd's 1024,
 * accept() would fail instead, with the daemon's own files failing next.
 */
static unsigned int conn_limit(const struct kumo_conf *conf)
{
	struct rlimit rl;
	rlim_t fds = 1024, reserved = FDS_RESERVED(conf->api_workers);

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		fds = rl.rlim_cur == RLIM_INFINITY ? 65536 : rl.rlim_cur;
	if (fds < reserved + 2 * CONN_MIN) {
		log_warnx("the file limit (%llu) leaves room for only %d "
		    "connections; raise LimitNOFILE=", (unsigned long long)fds,
		    CONN_MIN);
		return CONN_MIN;
	}
	return (unsigned int)((fds - reserved) / 2);
}

int api_server_start(struct api *api)
{
	/* poll, not epoll: libmicrohttpd 0.9.75's edge-triggered epoll misses
	 * a client's EOF in mid-body, so an aborted upload would hang until
	 * the connection timeout instead of being cleaned up at once. */
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
	    MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME;
	const struct kumo_conf *conf = api->conf;
	unsigned int limit = conn_limit(conf);
	struct sockaddr_storage ss;

	if (listen_addr(conf, &ss, &flags) < 0)
		return -1;
	/* a worker's share of the limit is limit / workers */
	if (limit < (unsigned int)conf->api_workers)
		limit = (unsigned int)conf->api_workers;
	api->mhd = MHD_start_daemon(flags,
	    (uint16_t)conf->osapi_compute_listen_port, NULL, NULL,
	    on_access, api,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)conf->api_workers,
	    MHD_OPTION_NOTIFY_COMPLETED, on_complete, api,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, api,
	    MHD_OPTION_URI_LOG_CALLBACK, on_target, api,
	    MHD_OPTION_UNESCAPE_CALLBACK, on_unescape, api,
	    /* idle: slowloris clients that send a byte every few seconds are
	     * bounded by the per-address limit, not by this */
	    MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned int)conf->client_socket_timeout,
	    MHD_OPTION_CONNECTION_LIMIT, limit,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    (unsigned int)conf->max_connections_per_ip,
	    MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)512,
	    MHD_OPTION_END);
	if (api->mhd == NULL) {
		log_warn("cannot listen on %s:%d", api->conf->osapi_compute_listen,
		    api->conf->osapi_compute_listen_port);
		return -1;
	}
	log_info("at most %u connections at once, %d per client address, "
	    "closed after %d s idle", limit, conf->max_connections_per_ip,
	    conf->client_socket_timeout);
	if (api_pool_start(api) < 0) {
		MHD_stop_daemon(api->mhd);
		api->mhd = NULL;
		return -1;
	}
	return 0;
}

void api_server_stop(struct api *api, int grace_ms)
{
	MHD_socket fd;
	uint64_t until = now_ms() + (uint64_t)grace_ms;

	if (api->mhd == NULL)
		return;
	fd = MHD_quiesce_daemon(api->mhd);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	while (__atomic_load_n(&api->in_flight, __ATOMIC_SEQ_CST) > 0 &&
	    now_ms() < until)
		usleep(20 * 1000);
	if (__atomic_load_n(&api->in_flight, __ATOMIC_SEQ_CST) > 0)
		log_warnx("stopping with %d requests still in flight",
		    __atomic_load_n(&api->in_flight, __ATOMIC_SEQ_CST));
	/* deferred work finishes and resumes its connections first */
	api_pool_stop(api);
	MHD_stop_daemon(api->mhd);
	api->mhd = NULL;
}
