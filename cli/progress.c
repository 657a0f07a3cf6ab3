/*
 * A transfer's progress on stderr: on a terminal, one line redrawn at most
 * ten times a second (bar, percent, bytes, rate); otherwise nothing until
 * the end, then one summary line.
 */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"

#define BAR_WIDTH 30

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* n bytes as "512 B", "3.2 KiB", "5.0 MiB", ... into buf. */
static const char *human(double n, char *buf, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	size_t u = 0;

	while (n >= 1024 && u < sizeof unit / sizeof unit[0] - 1) {
		n /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", n, unit[u]);
	return buf;
}

void cli_progress_start(struct cli_progress *p, const char *what)
{
	p->what = what;
	p->start = now();
	p->last = 0;
	p->shown = 0;
	p->tty = isatty(2);
}

void cli_progress_update(struct cli_progress *p, uint64_t done, uint64_t total)
{
	char bar[BAR_WIDTH + 1], a[32], b[32], r[32];
	double t = now(), el = t - p->start;
	int fill;

	if (!p->tty || total == 0 || (p->last > 0 && done == p->shown) ||
	    (t - p->last < 0.1 && done < total))
		return;
	p->last = t;
	p->shown = done;
	fill = (int)((double)done * BAR_WIDTH / (double)total);
	for (int i = 0; i < BAR_WIDTH; i++)
		bar[i] = i < fill ? '#' : ' ';
	bar[BAR_WIDTH] = '\0';
	fprintf(stderr, "\r%s [%s] %3d%%  %s / %s  %s/s   ", p->what, bar,
	    (int)((double)done * 100 / (double)total), human((double)done, a, sizeof a),
	    human((double)total, b, sizeof b),
	    human(el > 0 ? (double)done / el : 0, r, sizeof r));
}

void cli_progress_end(struct cli_progress *p, uint64_t done, bool ok)
{
	char a[32], r[32];
	double el = now() - p->start;

	if (p->tty && p->last > 0)
		fputc('\n', stderr);
	fprintf(stderr, "%s: %s %s in %.1f s (%s/s)\n", p->what,
	    ok ? "uploaded" : "upload failed after", human((double)done, a, sizeof a),
	    el, human(el > 0 ? (double)done / el : 0, r, sizeof r));
}
