/*
 * kumo-compute's client of kumo-netd (compute/net/netd.h): one connection
 * per call, one JSON request packet, one reply packet, every step bounded
 * by COMPUTE_NET_TIMEOUT_S. kumo-netd holds the capabilities; this side
 * holds none and only asks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "compute/compute.h"

#define NET_MAX_MSG 65536

static int net_connect(const struct kumo_conf *c, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = COMPUTE_NET_TIMEOUT_S };
	int fd;

	if (str_copy(sa.sun_path, c->net_helper_socket, sizeof sa.sun_path) < 0) {
		snprintf(err, errlen, "kumo-netd: helper_socket path too long");
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		snprintf(err, errlen, "kumo-netd at %s: %s", sa.sun_path,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Sends req (borrowed), returns kumo-netd's {"ok": true, ...} reply. */
static json_t *net_call(const struct kumo_conf *c, const json_t *req,
    char *err, size_t errlen)
{
	char *text = json_dumps(req, JSON_COMPACT), *buf = malloc(NET_MAX_MSG);
	json_t *reply = NULL;
	const char *why;
	ssize_t n;
	int fd = -1;

	if (text == NULL || buf == NULL) {
		snprintf(err, errlen, "kumo-netd: out of memory");
		goto fail;
	}
	if ((fd = net_connect(c, err, errlen)) < 0)
		goto fail;
	if (send(fd, text, strlen(text), MSG_NOSIGNAL) < 0 ||
	    (n = recv(fd, buf, NET_MAX_MSG, 0)) < 0) {
		snprintf(err, errlen, "kumo-netd: %s", errno == EAGAIN ?
		    "no reply in time" : strerror(errno));
		goto fail;
	}
	if ((reply = json_loadb(buf, (size_t)n, 0, NULL)) == NULL ||
	    !json_is_object(reply)) {
		snprintf(err, errlen, "kumo-netd: %s", n == 0 ? "closed the "
		    "connection" : "reply is not a JSON object");
		goto fail;
	}
	if (json_object_get(reply, "ok") != json_true()) {
		why = json_string_value(json_object_get(reply, "error"));
		snprintf(err, errlen, "kumo-netd: %.200s", why ? why : "refused");
		goto fail;
	}
	free(text);
	free(buf);
	close(fd);
	return reply;
fail:
	json_decref(reply);
	free(text);
	free(buf);
	if (fd >= 0)
		close(fd);
	return NULL;
}

/* net_call for the callers that need only success; steals req. */
static int net_do(const struct kumo_conf *c, json_t *req, char *err,
    size_t errlen)
{
	json_t *reply;

	if (req == NULL) {
		snprintf(err, errlen, "kumo-netd: cannot build the request");
		return -1;
	}
	reply = net_call(c, req, err, errlen);
	json_decref(req);
	json_decref(reply);
	return reply ? 0 : -1;
}

int compute_net_lease_add(const struct kumo_conf *c, const char *instance,
    const char *mac, const char *ip, const char *hostname, char *err,
    size_t errlen)
{
	return net_do(c, json_pack("{s:s, s:s, s:s, s:s, s:s}", "op",
	    "lease_add", "instance", instance, "mac", mac, "ip", ip,
	    "hostname", hostname), err, errlen);
}

int compute_net_lease_del_instance(const struct kumo_conf *c,
    const char *instance, char *err, size_t errlen)
{
	return net_do(c, json_pack("{s:s, s:s}", "op", "lease_del", "instance",
	    instance), err, errlen);
}

int compute_net_lease_del(const struct kumo_conf *c, const char *mac,
    char *err, size_t errlen)
{
	return net_do(c, json_pack("{s:s, s:s}", "op", "lease_del", "mac", mac),
	    err, errlen);
}

int compute_net_leases_sync(const struct kumo_conf *c, const json_t *leases,
    char *err, size_t errlen)
{
	return net_do(c, json_pack("{s:s, s:O}", "op", "leases_sync", "leases",
	    leases), err, errlen);
}

int compute_net_status(const struct kumo_conf *c, json_t **out, char *err,
    size_t errlen)
{
	json_t *req = json_pack("{s:s}", "op", "status");

	*out = req ? net_call(c, req, err, errlen) : NULL;
	json_decref(req);
	if (req == NULL)
		snprintf(err, errlen, "kumo-netd: cannot build the request");
	return *out ? 0 : -1;
}
