/*
 * The libvirt driver: every instance is a persistent libvirt domain named
 * "kumo-<uuid>" whose <uuid> is the instance's, with its files in
 * state_path/instances/<uuid>/: "disk" (a qcow2 overlay on the cached
 * base image, grown to the flavor's root_gb) and "console.log" (the serial
 * console). libvirt types never leave this file (STYLE 8).
 *
 * One connection serves every thread (libvirt connections are thread-safe);
 * each op takes a reference under the lock, and a dead connection is
 * reopened by the next op. libvirt's errors go to log_warnx once, through
 * the handler below, not to stderr; the ops only turn them into reasons.
 *
 * kumo-compute does not link libvirt: every call goes through vir, the
 * table libvirt_load() fills from libvirt.so.0 when the first driver is
 * made (libvirt_load.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/states.h"
#include "compute/compute.h"
#include "compute/virt/libvirt_load.h"
#include "compute/virt/virt.h"

#define SHUTDOWN_TIMEOUT_S 60     /* ACPI power-off, then a hard stop */
#define SHUTDOWN_RETRY_S 10       /* a press early in a boot is lost: again */
#define POLL_MS 100
#define CONSOLE_MAX (1024 * 1024) /* get_console_output: the log's tail */
#define QEMU_IMG "/usr/bin/qemu-img"
#define GIB (1024ULL * 1024 * 1024)

extern char **environ;

/* libvirt's functions: filled once under vir_lock, read-only after; like
 * the dynamic linker's own table, one per process. */
static struct libvirt_api vir;
static pthread_mutex_t vir_lock = PTHREAD_MUTEX_INITIALIZER;
static bool vir_loaded;

struct lv {
	pthread_mutex_t lock;       /* over conn */
	virConnectPtr conn;
	char uri[CONF_STR];
	char virt_type[8];          /* "kvm" or "qemu" */
	char network[65];           /* [libvirt] network (vif_type network) */
	char vif_type[16];          /* [libvirt] vif_type */
	char bridge[16];            /* [network] bridge */
	char cd_format[16];         /* [DEFAULT] config_drive_format */
	char state_path[CONF_STR];
	char instances[PATH_MAX];   /* state_path/instances */
};

/* The one place libvirt errors are logged. A lookup of an absent domain is
 * how NOTFOUND is learnt, not a failure. */
static void lv_error(void *opaque, virErrorPtr e)
{
	(void)opaque;
	if (e == NULL)
		return;
	if (e->code == VIR_ERR_NO_DOMAIN)
		log_debug("libvirt: %s", e->message ? e->message : "no domain");
	else
		log_warnx("libvirt: %s", e->message ? e->message : "error");
}

/* "what: libvirt's last message" into reason. */
static void lv_reason(const char *what, char *reason, size_t len)
{
	virErrorPtr e = vir.GetLastError();

	snprintf(reason, len, "%s: %s", what,
	    e != NULL && e->message != NULL ? e->message : "libvirt error");
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* A reference to the shared connection, reopened when it died; the caller
 * drops it with virConnectClose. NULL when libvirt cannot be reached. */
static virConnectPtr lv_conn(struct lv *lv)
{
	virConnectPtr c;

	pthread_mutex_lock(&lv->lock);
	if (lv->conn != NULL && vir.ConnectIsAlive(lv->conn) != 1) {
		log_warnx("libvirt: connection to %s lost; reconnecting", lv->uri);
		vir.ConnectClose(lv->conn);
		lv->conn = NULL;
	}
	if (lv->conn == NULL)
		lv->conn = vir.ConnectOpen(lv->uri);
	if ((c = lv->conn) != NULL)
		vir.ConnectRef(c);
	pthread_mutex_unlock(&lv->lock);
	return c;
}

/* The domain of uuid: VIRT_OK and *dom, VIRT_NOTFOUND or VIRT_ERROR. */
static int lv_lookup(virConnectPtr c, const char *uuid, virDomainPtr *dom)
{
	virErrorPtr e;

	if ((*dom = vir.DomainLookupByUUIDString(c, uuid)) != NULL)
		return VIRT_OK;
	e = vir.GetLastError();
	return e != NULL && e->code == VIR_ERR_NO_DOMAIN ? VIRT_NOTFOUND :
	    VIRT_ERROR;
}

static int inst_path(const struct lv *lv, const char *uuid, const char *file,
    char *out, size_t len)
{
	char name[VIRT_DOMAIN_NAME];

	if (virt_domain_name(uuid, name, sizeof name) < 0)
		return -1;
	return str_fmt(out, len, "%s/%s%s%s", lv->instances,
	    name + strlen(VIRT_DOMAIN_PREFIX), file[0] ? "/" : "", file);
}

/* Removes the instance's directory and the files in it. 1 when it was
 * there, 0 when not, -1 on error. */
static int rm_instance_dir(const struct lv *lv, const char *uuid)
{
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *dp;
	int rc = 1;

	if (inst_path(lv, uuid, "", dir, sizeof dir) < 0)
		return -1;
	if ((dp = opendir(dir)) == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(dp)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(dirfd(dp), de->d_name, 0) < 0) {
			log_warn("%s/%s", dir, de->d_name);
			rc = -1;
		}
	}
	closedir(dp);
	if (rmdir(dir) < 0) {
		log_warn("%s", dir);
		rc = -1;
	}
	return rc;
}

/* Runs argv (an absolute path, no shell); 0 when it exits 0, else -1 with
 * its first line of output in reason. */
static int run_cmd(char *const argv[], char *reason, size_t len)
{
	posix_spawn_file_actions_t fa;
	char out[512] = "", junk[512];
	size_t got = 0;
	ssize_t n;
	int p[2], status = -1, err;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0) {
		snprintf(reason, len, "pipe: %s", strerror(errno));
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_adddup2(&fa, p[1], 2);
	err = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	while (err == 0) {  /* the first 511 bytes make the reason */
		bool keep = got < sizeof out - 1;
		char *b = keep ? out + got : junk;

		n = read(p[0], b, keep ? sizeof out - 1 - got : sizeof junk);
		if (n == 0 || (n < 0 && errno != EINTR))
			break;
		if (n > 0 && keep)
			got += (size_t)n;
	}
	close(p[0]);
	if (err != 0) {
		snprintf(reason, len, "%s: %s", argv[0], strerror(err));
		return -1;
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	out[got] = '\0';
	out[strcspn(out, "\n")] = '\0';
	snprintf(reason, len, "%s failed: %s", argv[0], out);
	return -1;
}

static uint64_t be64(const unsigned char *b)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | b[i];
	return v;
}

/* The virtual size of a base image. A qcow2 base must stand alone: a
 * backing file or an external data file named inside a user's image
 * would let its guest read any host file. */
static int image_size(const char *path, const char *fmt, uint64_t *size,
    char *reason, size_t len)
{
	unsigned char h[80];
	struct stat st;
	int fd;
	ssize_t n;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0) {
		snprintf(reason, len, "image %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	n = pread(fd, h, sizeof h, 0);
	close(fd);
	*size = (uint64_t)st.st_size;
	if (strcmp(fmt, "raw") == 0)
		return 0;
	if (n < 72 || be64(h) >> 32 != 0x514649fb ||
	    (be64(h) & 0xffffffff) < 2) {
		snprintf(reason, len, "image %s is not a qcow2 image", path);
		return -1;
	}
	if (be64(h + 8) != 0 || ((be64(h) & 0xffffffff) >= 3 &&
	    (n < 80 || (be64(h + 72) & 0x4) != 0))) {
		snprintf(reason, len, "image %s refers to other files", path);
		return -1;
	}
	*size = be64(h + 24);
	return 0;
}

/* disk := a qcow2 overlay on the base image, as large as the flavor says
 * (or the image, with root_gb 0). */
static int make_disk(const struct virt_instance *inst, const char *disk,
    char *reason, size_t len)
{
	char fmt[16], size[32];
	uint64_t base;
	char *argv[] = { QEMU_IMG, "create", "-q", "-f", "qcow2", "-F", fmt,
	    "-b", (char *)inst->disk_path, (char *)disk, size, NULL };

	if (image_size(inst->disk_path, inst->disk_format, &base, reason,
	    len) < 0)
		return -1;
	if (inst->root_gb > 0 && (uint64_t)inst->root_gb * GIB < base) {
		snprintf(reason, len, "flavor's root disk (%d GB) is smaller "
		    "than the image (%llu bytes)", inst->root_gb,
		    (unsigned long long)base);
		return -1;
	}
	str_copy(fmt, inst->disk_format, sizeof fmt);
	snprintf(size, sizeof size, "%lluG", (unsigned long long)inst->root_gb);
	if (inst->root_gb == 0)
		argv[10] = NULL;
	return run_cmd(argv, reason, len);
}

/* A directory qemu (another user: libvirt-qemu) can pass through to the
 * files it is given, whatever the umask (kumo-compute.service: 0027).
 * 1 when made, 0 when it was there, -1 on error. */
static int make_dir(const char *path)
{
	if (mkdir(path, 0751) == 0)
		return chmod(path, 0751) == 0 ? 1 : -1;
	return errno == EEXIST ? 0 : -1;
}

/* The instance's directory, empty (a leftover of an earlier spawn that
 * left no domain is cleared first), and its console log: made here, so
 * that it is ours to read; virtlogd (root) appends to it, keeping its
 * owner, until it rotates it. */
static int make_instance_dir(const struct lv *lv, const char *uuid,
    char *reason, size_t len)
{
	char dir[PATH_MAX], log[PATH_MAX];
	int rc, fd;

	if (inst_path(lv, uuid, "", dir, sizeof dir) < 0 ||
	    inst_path(lv, uuid, "console.log", log, sizeof log) < 0)
		goto fail;
	if ((rc = make_dir(dir)) == 0 && rm_instance_dir(lv, uuid) >= 0)
		rc = make_dir(dir);
	if (rc == 1 && (fd = open(log, O_WRONLY | O_CREAT | O_CLOEXEC,
	    0600)) >= 0) {
		close(fd);
		return 0;
	}
fail:
	snprintf(reason, len, "instance directory under %s: %s", lv->instances,
	    strerror(errno));
	return -1;
}

/* Defines and starts the domain; nothing stays defined on failure. */
static int define_and_start(virConnectPtr c, const char *xml, char *reason,
    size_t len)
{
	virDomainPtr dom;
	int rc = VIRT_OK;

	if ((dom = vir.DomainDefineXML(c, xml)) == NULL) {
		lv_reason("define", reason, len);
		return VIRT_ERROR;
	}
	if (vir.DomainCreate(dom) < 0) {
		lv_reason("start", reason, len);
		vir.DomainUndefine(dom);
		rc = VIRT_ERROR;
	}
	vir.DomainFree(dom);
	return rc;
}

/* Files, then the domain. Called with no domain of this uuid defined. */
static int spawn_new(struct lv *lv, virConnectPtr c,
    const struct virt_instance *inst, char *reason, size_t len)
{
	char disk[PATH_MAX], console[PATH_MAX], cd[PATH_MAX], *xml;
	struct virt_domain_spec spec = { inst, lv->virt_type, "", console,
		lv->network, lv->vif_type, lv->bridge, "", lv->cd_format };
	int rc = VIRT_ERROR;

	if (inst_path(lv, inst->uuid, "disk", disk, sizeof disk) < 0 ||
	    inst_path(lv, inst->uuid, "disk.config", cd, sizeof cd) < 0 ||
	    inst_path(lv, inst->uuid, "console.log", console,
	    sizeof console) < 0) {
		snprintf(reason, len, "state_path too long");
		return VIRT_ERROR;
	}
	if (make_instance_dir(lv, inst->uuid, reason, len) < 0)
		return VIRT_ERROR;
	if (inst->disk_path[0] != '\0') {
		if (make_disk(inst, disk, reason, len) < 0)
			goto fail;
		spec.disk_path = disk;
	}
	if (inst->config_drive != NULL) {
		if (configdrive_write(inst->config_drive, lv->cd_format, cd, reason,
		    len) < 0)
			goto fail;
		spec.config_drive_path = cd;
	}
	if ((xml = virt_domain_xml(&spec, reason, len)) == NULL)
		goto fail;
	rc = define_and_start(c, xml, reason, len);
	free(xml);
	if (rc == VIRT_OK)
		return VIRT_OK;
fail:
	rm_instance_dir(lv, inst->uuid);
	return VIRT_ERROR;
}

static int lv_spawn(struct virt_driver *d, const struct virt_instance *inst,
    char *reason, size_t len)
{
	struct lv *lv = d->impl;
	virConnectPtr c;
	virDomainPtr dom;
	int rc;

	if (virt_instance_check(inst, reason, len) < 0)
		return VIRT_ERROR;
	if ((c = lv_conn(lv)) == NULL) {
		lv_reason(lv->uri, reason, len);
		return VIRT_ERROR;
	}
	rc = lv_lookup(c, inst->uuid, &dom);
	if (rc == VIRT_OK) {
		vir.DomainFree(dom);
		snprintf(reason, len, "instance %s already exists", inst->uuid);
		rc = VIRT_EXISTS;
	} else if (rc == VIRT_NOTFOUND) {
		rc = spawn_new(lv, c, inst, reason, len);
	} else {
		lv_reason("lookup", reason, len);
	}
	vir.ConnectClose(c);
	return rc;
}

/* Runs fn on the domain of uuid: the preamble every op but spawn shares. */
typedef int (*dom_fn)(struct lv *lv, virDomainPtr dom, void *arg);

static int with_domain(struct virt_driver *d, const char *uuid, dom_fn fn,
    void *arg)
{
	struct lv *lv = d->impl;
	virConnectPtr c;
	virDomainPtr dom;
	int rc;

	if (!uuid_valid(uuid))
		return VIRT_NOTFOUND;
	if ((c = lv_conn(lv)) == NULL)
		return VIRT_ERROR;
	if ((rc = lv_lookup(c, uuid, &dom)) == VIRT_OK) {
		rc = fn(lv, dom, arg);
		vir.DomainFree(dom);
	}
	vir.ConnectClose(c);
	return rc;
}

/* Presses the ACPI power button (again every SHUTDOWN_RETRY_S) until the
 * domain is off; false when it still runs after timeout_s. */
static bool shutdown_clean(virDomainPtr dom, int timeout_s)
{
	uint64_t start = now_ms(), pressed = 0;

	while (vir.DomainIsActive(dom) == 1) {
		uint64_t t = now_ms();

		if (t - start >= (uint64_t)timeout_s * 1000)
			return false;
		if (pressed == 0 || t - pressed >= SHUTDOWN_RETRY_S * 1000) {
			vir.DomainShutdown(dom);
			pressed = t;
		}
		sleep_ms(POLL_MS);
	}
	return true;
}

/* Stops a running domain: cleanly first unless hard, then by force. */
static int stop(virDomainPtr dom, bool hard)
{
	if (vir.DomainIsActive(dom) != 1)
		return VIRT_OK;
	if (!hard && shutdown_clean(dom, SHUTDOWN_TIMEOUT_S))
		return VIRT_OK;
	if (!hard)
		log_warnx("domain %s did not power off within %d s; forcing",
		    vir.DomainGetName(dom), SHUTDOWN_TIMEOUT_S);
	if (vir.DomainDestroy(dom) < 0 && vir.DomainIsActive(dom) == 1)
		return VIRT_ERROR;
	return VIRT_OK;
}

static int start(virDomainPtr dom)
{
	if (vir.DomainIsActive(dom) == 1)
		return VIRT_OK;
	return vir.DomainCreate(dom) < 0 ? VIRT_ERROR : VIRT_OK;
}

/* Also drops what libvirt may keep beside the definition (a managed save
 * image, snapshot metadata); kumo makes no UEFI guests, so no NVRAM. */
static int do_destroy(struct lv *lv, virDomainPtr dom, void *arg)
{
	const char *uuid = arg;

	if (stop(dom, true) != VIRT_OK)
		return VIRT_ERROR;
	if (vir.DomainUndefineFlags(dom, VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
	    VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA) < 0)
		return VIRT_ERROR;
	return rm_instance_dir(lv, uuid) < 0 ? VIRT_ERROR : VIRT_OK;
}

static int lv_destroy(struct virt_driver *d, const char *uuid)
{
	int rc = with_domain(d, uuid, do_destroy, (void *)uuid);

	/* No domain, but maybe the files of a spawn that died half-way. */
	if (rc == VIRT_NOTFOUND && uuid_valid(uuid) &&
	    rm_instance_dir(d->impl, uuid) < 0)
		return VIRT_ERROR;
	return rc;
}

/* Soft: ACPI power-off (hard after the timeout), then start; hard: a forced
 * stop and start. A domain that is off is just started (as Nova does). */
static int do_reboot(struct lv *lv, virDomainPtr dom, void *arg)
{
	(void)lv;
	if (stop(dom, *(bool *)arg) != VIRT_OK)
		return VIRT_ERROR;
	return start(dom);
}

static int lv_reboot(struct virt_driver *d, const char *uuid, bool hard)
{
	return with_domain(d, uuid, do_reboot, &hard);
}

static int do_power_on(struct lv *lv, virDomainPtr dom, void *arg)
{
	(void)lv;
	(void)arg;
	return start(dom);
}

static int lv_power_on(struct virt_driver *d, const char *uuid)
{
	return with_domain(d, uuid, do_power_on, NULL);
}

static int do_power_off(struct lv *lv, virDomainPtr dom, void *arg)
{
	(void)lv;
	(void)arg;
	return stop(dom, false);
}

static int lv_power_off(struct virt_driver *d, const char *uuid)
{
	return with_domain(d, uuid, do_power_off, NULL);
}

static const int power_states[] = {
	[VIR_DOMAIN_NOSTATE] = POWER_NOSTATE,
	[VIR_DOMAIN_RUNNING] = POWER_RUNNING,
	[VIR_DOMAIN_BLOCKED] = POWER_RUNNING,   /* running, waiting for I/O */
	[VIR_DOMAIN_PAUSED] = POWER_PAUSED,
	[VIR_DOMAIN_SHUTDOWN] = POWER_SHUTDOWN, /* shutting down */
	[VIR_DOMAIN_SHUTOFF] = POWER_SHUTDOWN,
	[VIR_DOMAIN_CRASHED] = POWER_CRASHED,
	[VIR_DOMAIN_PMSUSPENDED] = POWER_SUSPENDED,
};

static int do_get_info(struct lv *lv, virDomainPtr dom, void *arg)
{
	struct virt_info *out = arg;
	virDomainInfo info;

	(void)lv;
	if (vir.DomainGetInfo(dom, &info) < 0)
		return VIRT_ERROR;
	out->power_state = info.state < sizeof power_states /
	    sizeof *power_states ? power_states[info.state] : POWER_NOSTATE;
	out->vcpus = info.nrVirtCpu;
	out->memory_mb = (int)(info.maxMem / 1024);
	return VIRT_OK;
}

static int lv_get_info(struct virt_driver *d, const char *uuid,
    struct virt_info *out)
{
	return with_domain(d, uuid, do_get_info, out);
}

/* Length of the valid UTF-8 sequence at s[0..n), or 0 (also for NUL,
 * overlong forms, surrogates and code points past U+10FFFF). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len = s[0] < 0x80 ? 1 : (s[0] >> 5) == 6 ? 2 :
	    (s[0] >> 4) == 14 ? 3 : (s[0] >> 3) == 30 ? 4 : 0;
	static const uint32_t min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	uint32_t cp;

	if (len == 0 || len > n || s[0] == 0)
		return 0;
	cp = len == 1 ? s[0] : s[0] & (0x7f >> len);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* What a guest wrote is made fit for a JSON string: '?' for each byte
 * that is not part of valid UTF-8. */
static void utf8_clean(char *s, size_t n)
{
	size_t i = 0, k;

	while (i < n) {
		if ((k = utf8_len((unsigned char *)s + i, n - i)) == 0) {
			s[i] = '?';
			k = 1;
		}
		i += k;
	}
}

/* The last CONSOLE_MAX bytes of path, from a line start; "" when absent. */
static int read_tail(const char *path, char **out)
{
	struct stat st;
	size_t want, got = 0;
	ssize_t n;
	off_t off;
	char *buf = NULL, *nl;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		*out = errno == ENOENT ? strdup("") : NULL;
		return *out != NULL ? VIRT_OK : VIRT_ERROR;
	}
	if (fstat(fd, &st) < 0)
		goto fail;
	want = st.st_size > CONSOLE_MAX ? CONSOLE_MAX : (size_t)st.st_size;
	off = st.st_size - (off_t)want;
	if ((buf = malloc(want + 1)) == NULL)
		goto fail;
	while (got < want && (n = pread(fd, buf + got, want - got,
	    off + (off_t)got)) != 0) {
		if (n < 0 && errno != EINTR)
			goto fail;
		got += n > 0 ? (size_t)n : 0;
	}
	close(fd);
	buf[got] = '\0';
	if (off > 0 && (nl = memchr(buf, '\n', got)) != NULL) {
		got -= (size_t)(nl + 1 - buf);
		memmove(buf, nl + 1, got + 1);
	}
	utf8_clean(buf, got);
	*out = buf;
	return VIRT_OK;
fail:
	log_warn("%s", path);
	close(fd);
	free(buf);
	return VIRT_ERROR;
}

static int do_console(struct lv *lv, virDomainPtr dom, void *arg)
{
	char uuid[VIR_UUID_STRING_BUFLEN], path[PATH_MAX];

	if (vir.DomainGetUUIDString(dom, uuid) < 0 ||
	    inst_path(lv, uuid, "console.log", path, sizeof path) < 0)
		return VIRT_ERROR;
	return read_tail(path, arg);
}

static int lv_get_console_output(struct virt_driver *d, const char *uuid,
    char **out)
{
	*out = NULL;
	return with_domain(d, uuid, do_console, out);
}

static int host_info(struct lv *lv, virConnectPtr c,
    struct virt_host_resources *out)
{
	virNodeInfo node;
	struct statvfs vfs;
	unsigned long ver = 0;
	char *host;

	if (vir.NodeGetInfo(c, &node) < 0 || vir.ConnectGetVersion(c, &ver) < 0 ||
	    (host = vir.ConnectGetHostname(c)) == NULL)
		return VIRT_ERROR;
	if (statvfs(lv->state_path, &vfs) < 0) {
		log_warn("%s", lv->state_path);
		free(host);
		return VIRT_ERROR;
	}
	memset(out, 0, sizeof *out);
	out->vcpus = (int)node.cpus;
	out->memory_mb = (int)(node.memory / 1024);
	out->local_gb = (int)((uint64_t)vfs.f_blocks * vfs.f_frsize / GIB);
	str_copy(out->hypervisor_type, "QEMU", sizeof out->hypervisor_type);
	out->hypervisor_version = (int)ver;
	str_copy(out->hypervisor_hostname, host, sizeof out->hypervisor_hostname);
	free(host);
	return VIRT_OK;
}

static int lv_host_resources(struct virt_driver *d,
    struct virt_host_resources *out)
{
	struct lv *lv = d->impl;
	virConnectPtr c;
	int rc;

	if ((c = lv_conn(lv)) == NULL)
		return VIRT_ERROR;
	rc = host_info(lv, c, out);
	vir.ConnectClose(c);
	return rc;
}

/* Ours: named prefix + its own uuid. Copies the uuid into out. */
static bool ours(virDomainPtr dom, char out[UUID_STR_LEN])
{
	char name[VIRT_DOMAIN_NAME];
	const char *have = vir.DomainGetName(dom);

	return vir.DomainGetUUIDString(dom, out) == 0 &&
	    virt_domain_name(out, name, sizeof name) == 0 &&
	    have != NULL && strcmp(have, name) == 0;
}

static int lv_list_instances(struct virt_driver *d,
    char (**uuids)[UUID_STR_LEN], size_t *n)
{
	virConnectPtr c;
	virDomainPtr *doms = NULL;
	int nd = -1;

	*uuids = NULL;
	*n = 0;
	if ((c = lv_conn(d->impl)) == NULL)
		return VIRT_ERROR;
	if ((nd = vir.ConnectListAllDomains(c, &doms, 0)) >= 0 &&
	    (*uuids = calloc(nd > 0 ? (size_t)nd : 1, sizeof **uuids)) != NULL) {
		for (int i = 0; i < nd; i++)
			if (ours(doms[i], (*uuids)[*n]))
				(*n)++;
	}
	for (int i = 0; i < nd; i++)
		vir.DomainFree(doms[i]);
	free(doms);
	vir.ConnectClose(c);
	if (*uuids == NULL)
		*n = 0;
	return *uuids != NULL ? VIRT_OK : VIRT_ERROR;
}

static void lv_free(struct virt_driver *d)
{
	struct lv *lv = d->impl;

	if (lv->conn != NULL)
		vir.ConnectClose(lv->conn);
	pthread_mutex_destroy(&lv->lock);
	free(lv);
	free(d);
}

static const struct virt_ops libvirt_ops = {
	.name = "libvirt",
	.spawn = lv_spawn,
	.destroy = lv_destroy,
	.reboot = lv_reboot,
	.power_on = lv_power_on,
	.power_off = lv_power_off,
	.get_info = lv_get_info,
	.get_console_output = lv_get_console_output,
	.host_resources = lv_host_resources,
	.list_instances = lv_list_instances,
	.free = lv_free,
};

bool virt_kvm_usable(const char *dev, const char *uri, char *why, size_t whylen)
{
	struct group gr, *g = NULL;
	char buf[1024];
	struct stat st;
	int fd;

	if ((fd = open(dev, O_RDWR | O_CLOEXEC)) < 0) {
		snprintf(why, whylen, "%s: %s", dev, strerror(errno));
		return false;
	}
	close(fd);
	if (strncmp(uri, "qemu:///system", 14) != 0)
		return true; /* QEMU runs as this process */
	if (stat(dev, &st) != 0) {
		snprintf(why, whylen, "%s: %s", dev, strerror(errno));
		return false;
	}
	if ((st.st_mode & (S_IROTH | S_IWOTH)) == (S_IROTH | S_IWOTH))
		return true;
	if (getgrnam_r("kvm", &gr, buf, sizeof buf, &g) == 0 && g != NULL &&
	    st.st_gid == g->gr_gid && (st.st_mode & (S_IRGRP | S_IWGRP)) == (S_IRGRP | S_IWGRP))
		return true;
	snprintf(why, whylen, "%s is mode %04o, group %u: QEMU (libvirt's qemu user, group "
	    "kvm) cannot open it; make it group kvm, mode 0660, as udev does, to use KVM",
	    dev, (unsigned)(st.st_mode & 07777), (unsigned)st.st_gid);
	return false;
}

/* [libvirt] virt_type: auto is kvm when QEMU can use /dev/kvm. */
static int pick_virt_type(const char *conf, const char *uri, char *out, size_t len)
{
	char why[300];

	if (strcmp(conf, "kvm") == 0 || strcmp(conf, "qemu") == 0)
		return str_copy(out, conf, len);
	if (strcmp(conf, "auto") != 0)
		return -1;
	if (virt_kvm_usable("/dev/kvm", uri, why, sizeof why))
		return str_copy(out, "kvm", len);
	if (access("/dev/kvm", F_OK) == 0)
		log_warnx("libvirt: guests run under TCG: %s", why);
	return str_copy(out, "qemu", len);
}

static int lv_init(struct lv *lv, const struct kumo_conf *conf, char *err,
    size_t errlen)
{
	if (pick_virt_type(conf->libvirt_virt_type, conf->libvirt_connection_uri,
	    lv->virt_type, sizeof lv->virt_type) < 0) {
		snprintf(err, errlen, "[libvirt] virt_type = %s: not auto, kvm "
		    "or qemu", conf->libvirt_virt_type);
		return -1;
	}
	if (conf->libvirt_network[0] != '\0' &&
	    !virt_network_name_ok(conf->libvirt_network)) {
		snprintf(err, errlen, "[libvirt] network = %s: not a network name "
		    "(1-64 of A-Z a-z 0-9 _ . -)", conf->libvirt_network);
		return -1;
	}
	str_copy(lv->network, conf->libvirt_network, sizeof lv->network);
	str_copy(lv->vif_type, conf->libvirt_vif_type, sizeof lv->vif_type);
	str_copy(lv->bridge, conf->net_bridge, sizeof lv->bridge);
	str_copy(lv->cd_format, conf->config_drive_format, sizeof lv->cd_format);
	if (strcmp(lv->vif_type, "network") == 0 && lv->network[0] == '\0') {
		snprintf(err, errlen, "[libvirt] vif_type = network needs "
		    "[libvirt] network");
		return -1;
	}
	if (strcmp(lv->vif_type, "user") == 0)
		log_warnx("[libvirt] vif_type = user: QEMU's user-mode NIC maps "
		    "the guests' gateway to this host's 127.0.0.1: every guest "
		    "can reach the services listening on the host's loopback "
		    "(kumo-api, RabbitMQ). Use vif_type = bridge");
	if (str_copy(lv->uri, conf->libvirt_connection_uri, sizeof lv->uri) < 0 ||
	    str_copy(lv->state_path, conf->state_path, sizeof lv->state_path) < 0 ||
	    str_fmt(lv->instances, sizeof lv->instances, "%s/instances",
	    conf->state_path) < 0) {
		snprintf(err, errlen, "[libvirt] paths too long");
		return -1;
	}
	if (vir.Initialize() < 0 ||
	    (lv->conn = vir.ConnectOpen(lv->uri)) == NULL) {
		lv_reason(lv->uri, err, errlen);
		return -1;
	}
	if (make_dir(lv->state_path) < 0 || make_dir(lv->instances) < 0) {
		snprintf(err, errlen, "%s: %s", lv->instances, strerror(errno));
		return -1;
	}
	return 0;
}

/* Loads libvirt at the first call; -1 with a reason while it cannot. */
static int vir_load(char *err, size_t errlen)
{
	int rc = 0;

	pthread_mutex_lock(&vir_lock);
	if (!vir_loaded && (rc = libvirt_load(LIBVIRT_SONAME, &vir, err,
	    errlen)) == 0)
		vir_loaded = true;
	pthread_mutex_unlock(&vir_lock);
	return rc;
}

struct virt_driver *virt_libvirt_new(const struct kumo_conf *conf, char *err,
    size_t errlen)
{
	struct virt_driver *d;
	struct lv *lv;

	if (vir_load(err, errlen) < 0)
		return NULL;
	d = calloc(1, sizeof *d);
	lv = calloc(1, sizeof *lv);
	if (d == NULL || lv == NULL) {
		snprintf(err, errlen, "libvirt driver: out of memory");
		goto fail;
	}
	vir.SetErrorFunc(NULL, lv_error);
	pthread_mutex_init(&lv->lock, NULL);
	d->ops = &libvirt_ops;
	d->impl = lv;
	if (lv_init(lv, conf, err, errlen) < 0) {
		lv_free(d);
		return NULL;
	}
	log_info("libvirt driver: %s, virt_type %s, instances in %s", lv->uri,
	    lv->virt_type, lv->instances);
	return d;
fail:
	free(d);
	free(lv);
	return NULL;
}
