/*
 * kumo-netd's socket: unix SOCK_SEQPACKET at [network] helper_socket, so a
 * request is one packet and cannot be cut or joined. The directory (made
 * 0750 when absent) and the socket (0660) belong to helper_user's group;
 * a peer is served only when SO_PEERCRED says it is root or helper_user,
 * else its first packet gets an error reply and it is closed (logged once
 * per uid; closing before reading its packet would reset the connection
 * and lose the reply). The
 * daemon is single-threaded: poll(2) over the listener and up to
 * MAX_CLIENTS connections, one request answered at a time.
 */
#include <errno.h>
#include <libgen.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "compute/net/netd.h"

#define MAX_CLIENTS 16
#define MAX_REFUSED 32     /* uids already logged as refused */

struct netd_server {
	int lfd;
	int cfd[MAX_CLIENTS];      /* -1 = free */
	bool denied[MAX_CLIENTS];  /* SO_PEERCRED said no */
	uid_t uid;                 /* helper_user's */
	uid_t refused[MAX_REFUSED];
	size_t n_refused;
	char buf[NETD_MAX_MSG];
};

int netd_helper_ids(const struct kumo_conf *c, uid_t *uid, gid_t *gid,
    char *err, size_t errlen)
{
	struct passwd *pw = getpwnam(c->net_helper_user);

	if (pw == NULL) {
		snprintf(err, errlen, "[network] helper_user '%.64s' is not a user "
		    "of this host", c->net_helper_user);
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

static int make_dir(const char *path, gid_t gid, char *err, size_t errlen)
{
	char copy[sizeof ((struct sockaddr_un *)0)->sun_path];
	const char *dir;

	str_copy(copy, path, sizeof copy);
	dir = dirname(copy);
	if (mkdir(dir, 0750) < 0) {
		if (errno == EEXIST)
			return 0;
		snprintf(err, errlen, "mkdir %s: %s", dir, strerror(errno));
		return -1;
	}
	if (chown(dir, (uid_t)-1, gid) < 0 || chmod(dir, 0750) < 0) {
		snprintf(err, errlen, "%s: group %d: %s", dir, (int)gid,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* A socket file an earlier run left is replaced; anything else is not. */
static int bind_socket(int fd, const char *path, gid_t gid, char *err,
    size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old;
	int rc;

	str_copy(sa.sun_path, path, sizeof sa.sun_path);
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	old = umask(0117);
	rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
	umask(old);
	if (rc < 0 || chmod(path, 0660) < 0 ||
	    (getegid() != gid && chown(path, (uid_t)-1, gid) < 0) ||
	    listen(fd, MAX_CLIENTS) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

struct netd_server *netd_server_new(const struct kumo_conf *c, char *err,
    size_t errlen)
{
	struct netd_server *s = calloc(1, sizeof *s);
	const char *path = c->net_helper_socket;
	gid_t gid;

	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->lfd = -1;
	for (int i = 0; i < MAX_CLIENTS; i++)
		s->cfd[i] = -1;
	if (path[0] != '/' || strlen(path) >= sizeof ((struct sockaddr_un *)0)->sun_path) {
		snprintf(err, errlen, "[network] helper_socket must be an absolute "
		    "path of at most 107 bytes");
		goto fail;
	}
	if (netd_helper_ids(c, &s->uid, &gid, err, errlen) < 0 ||
	    make_dir(path, gid, err, errlen) < 0)
		goto fail;
	if ((s->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		goto fail;
	}
	if (bind_socket(s->lfd, path, gid, err, errlen) < 0)
		goto fail;
	return s;
fail:
	netd_server_free(s);
	return NULL;
}

void netd_server_free(struct netd_server *s)
{
	if (s == NULL)
		return;
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (s->cfd[i] >= 0)
			close(s->cfd[i]);
	if (s->lfd >= 0)
		close(s->lfd);
	free(s);
}

static void reply(int fd, const char *text)
{
	if (text != NULL)
		send(fd, text, strlen(text), MSG_NOSIGNAL | MSG_DONTWAIT);
}

static bool peer_allowed(struct netd_server *s, int fd)
{
	struct ucred cred;
	socklen_t len = sizeof cred;
	size_t i;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		log_warn("SO_PEERCRED");
		return false;
	}
	if (cred.uid == 0 || cred.uid == s->uid)
		return true;
	for (i = 0; i < s->n_refused; i++)
		if (s->refused[i] == cred.uid)
			return false;
	log_warnx("refused a client of uid %d (pid %d): only root and "
	    "[network] helper_user may call", (int)cred.uid, (int)cred.pid);
	if (s->n_refused < MAX_REFUSED)
		s->refused[s->n_refused++] = cred.uid;
	return false;
}

static void accept_one(struct netd_server *s)
{
	int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK), i;

	if (fd < 0)
		return;
	for (i = 0; i < MAX_CLIENTS && s->cfd[i] >= 0; i++)
		;
	if (i == MAX_CLIENTS) {
		log_warnx("more than %d clients at once: one refused", MAX_CLIENTS);
		reply(fd, "{\"error\":\"too many clients\"}");
		close(fd);
		return;
	}
	s->cfd[i] = fd;
	s->denied[i] = !peer_allowed(s, fd);
}

/* One packet, one reply; 0 keeps the connection, -1 closes it. */
static int serve_one(struct netd_server *s, struct netd *d, int i)
{
	int fd = s->cfd[i];
	ssize_t n = recv(fd, s->buf, sizeof s->buf, MSG_TRUNC | MSG_DONTWAIT);
	char *out;

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if (n == 0)
		return -1;
	if (s->denied[i]) {
		reply(fd, "{\"error\":\"permission denied\"}");
		return -1;
	}
	if ((size_t)n > sizeof s->buf) {
		log_warnx("a request of %zd bytes refused (at most %d)", n,
		    NETD_MAX_MSG);
		reply(fd, "{\"error\":\"request too large\"}");
		return 0;
	}
	if ((out = netd_handle(d, s->buf, (size_t)n)) == NULL) {
		reply(fd, "{\"error\":\"out of memory\"}");
		return 0;
	}
	reply(fd, out);
	free(out);
	return 0;
}

void netd_server_poll(struct netd_server *s, struct netd *d, int timeout_ms)
{
	struct pollfd p[MAX_CLIENTS + 1];
	int slot[MAX_CLIENTS + 1], n = 1;

	p[0] = (struct pollfd){ .fd = s->lfd, .events = POLLIN };
	for (int i = 0; i < MAX_CLIENTS; i++) {
		if (s->cfd[i] < 0)
			continue;
		slot[n] = i;
		p[n++] = (struct pollfd){ .fd = s->cfd[i], .events = POLLIN };
	}
	if (poll(p, (nfds_t)n, timeout_ms) <= 0)
		return;
	for (int k = 1; k < n; k++) {
		if (p[k].revents == 0)
			continue;
		if ((p[k].revents & POLLIN) == 0 || serve_one(s, d, slot[k]) < 0) {
			close(p[k].fd);
			s->cfd[slot[k]] = -1;
		}
	}
	if (p[0].revents & POLLIN)
		accept_one(s);
}
