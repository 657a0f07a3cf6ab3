/*
 * Logging to stderr: "<time> <prog>[pid] LEVEL [req-id] message". Under
 * systemd, journald adds the rest. One write(2) per line so lines from
 * threads never interleave.
 *
 * Messages quote what clients send (paths, JSON strings, names), so the
 * message and the request id are escaped here, where no caller can forget:
 * one log line is one line, whatever a client writes. \n \r \t stay
 * readable, other C0 controls, DEL and bytes that are not UTF-8 become
 * \xNN, C1 controls and the bidirectional overrides (which reorder what a
 * terminal shows) \uNNNN; other UTF-8 passes as is.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

static char log_prog[64] = "kumo";
static volatile enum log_level log_level_cur = LOG_LVL_INFO;
static __thread char log_reqid[64];

static const char *const level_names[] = { "ERROR", "WARNING", "INFO", "DEBUG" };

void log_init(const char *progname, enum log_level level)
{
	str_copy(log_prog, progname, sizeof log_prog);
	log_level_cur = level;
}

void log_set_level(enum log_level level) { log_level_cur = level; }
enum log_level log_get_level(void) { return log_level_cur; }

int log_level_parse(const char *s, enum log_level *out)
{
	static const struct { const char *name; enum log_level lvl; } map[] = {
		{ "error", LOG_LVL_ERROR }, { "warning", LOG_LVL_WARN },
		{ "warn", LOG_LVL_WARN }, { "info", LOG_LVL_INFO },
		{ "debug", LOG_LVL_DEBUG },
	};
	for (size_t i = 0; i < sizeof map / sizeof *map; i++)
		if (strcasecmp(s, map[i].name) == 0) {
			*out = map[i].lvl;
			return 0;
		}
	return -1;
}

void log_set_reqid(const char *reqid)
{
	if (reqid == NULL)
		log_reqid[0] = '\0';
	else
		str_copy(log_reqid, reqid, sizeof log_reqid);
}

const char *log_get_reqid(void) { return log_reqid; }

/* Appends to line at *off, never past cap-2 (room for the newline). */
static void append(char *line, size_t cap, size_t *off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void append(char *line, size_t cap, size_t *off, const char *fmt, ...)
{
	size_t room = cap - 1 - *off;
	va_list ap;
	int n;

	if (room <= 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line + *off, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		*off += (size_t)n < room ? (size_t)n : room - 1;
}

/* The length of the well-formed UTF-8 sequence at s (RFC 3629: no
 * overlongs, no surrogates, nothing past U+10FFFF), 0 if there is none. */
static size_t utf8_len(const unsigned char *s, uint32_t *cp)
{
	size_t n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2;
	uint32_t c = s[0] & (0x7f >> n);

	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

static bool log_visible(uint32_t cp)
{
	return !(cp >= 0x80 && cp <= 0x9f) && !(cp >= 0x202a && cp <= 0x202e) &&
	    !(cp >= 0x2066 && cp <= 0x2069);
}

/* Appends s escaped (see the top of this file), whole escapes only. */
static void append_escaped(char *line, size_t cap, size_t *off, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char esc[8];

	while (*p) {
		size_t n = 1, e = 0;
		uint32_t cp = *p;

		if (*p >= 0x80 && (n = utf8_len(p, &cp)) == 0) {
			n = 1;
			e = (size_t)snprintf(esc, sizeof esc, "\\x%02x", *p);
		} else if (*p >= 0x80 && !log_visible(cp)) {
			e = (size_t)snprintf(esc, sizeof esc, "\\u%04x", (unsigned)cp);
		} else if (*p == '\n' || *p == '\r' || *p == '\t') {
			e = (size_t)snprintf(esc, sizeof esc, "\\%c",
			    *p == '\n' ? 'n' : *p == '\r' ? 'r' : 't');
		} else if (*p < 0x20 || *p == 0x7f) {
			e = (size_t)snprintf(esc, sizeof esc, "\\x%02x", *p);
		}
		if (*off + (e ? e : n) + 2 > cap)
			return;
		memcpy(line + *off, e ? esc : (const char *)p, e ? e : n);
		*off += e ? e : n;
		p += n;
	}
	line[*off] = '\0';
}

static void log_emit(enum log_level lvl, const char *suffix, const char *fmt,
    va_list ap)
{
	char line[4096], msg[3072];
	struct timeval tv;
	struct tm tm;
	size_t off;

	if (lvl > log_level_cur)
		return;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	off = strftime(line, sizeof line, "%Y-%m-%d %H:%M:%S", &tm);
	vsnprintf(msg, sizeof msg, fmt, ap);
	append(line, sizeof line, &off, ".%03ld %s[%d] %s [",
	    (long)(tv.tv_usec / 1000), log_prog, (int)getpid(), level_names[lvl]);
	append_escaped(line, sizeof line, &off, log_reqid[0] ? log_reqid : "-");
	append(line, sizeof line, &off, "] ");
	append_escaped(line, sizeof line, &off, msg);
	if (suffix != NULL) {
		append(line, sizeof line, &off, ": ");
		append_escaped(line, sizeof line, &off, suffix);
	}
	line[off++] = '\n';
	/* stderr is the log; a failed write has nowhere better to go. */
	if (write(STDERR_FILENO, line, off) < 0)
		return;
}

#define LOG_FN(name, lvl, with_errno)                                   \
	void name(const char *fmt, ...)                                 \
	{                                                               \
		int saved = errno;                                      \
		va_list ap;                                             \
		va_start(ap, fmt);                                      \
		log_emit(lvl, with_errno ? strerror(saved) : NULL, fmt, ap); \
		va_end(ap);                                             \
		errno = saved;                                          \
	}

LOG_FN(log_warn, LOG_LVL_WARN, 1)
LOG_FN(log_warnx, LOG_LVL_WARN, 0)
LOG_FN(log_info, LOG_LVL_INFO, 0)
LOG_FN(log_debug, LOG_LVL_DEBUG, 0)

void fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	va_start(ap, fmt);
	log_emit(LOG_LVL_ERROR, strerror(saved), fmt, ap);
	va_end(ap);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_emit(LOG_LVL_ERROR, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}
