/*
 * The curl set-up every HTTP call of kumo shares (kumo-compute's image
 * downloads and service login, kumo-api's calls to an external Keystone):
 * libcurl loaded and initialised once, http and https only, no signals
 * (worker threads), a connect timeout, and an abort when the transfer
 * stalls.
 *
 * libcurl is loaded at run time, as the libvirt driver loads libvirt: with
 * it come Kerberos, LDAP, libssh2, nghttp2 and OpenSSL's TLS, about 1.5 MB
 * resident that a kumo-api serving its own identity service never uses.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "common/common.h"
#include "common/http.h"

#define CURL_SONAME "libcurl.so.4"
#define CONNECT_TIMEOUT_S 10L
#define LOW_SPEED_S 60L   /* abort when under 1 KiB/s for this long */

static const struct dl_symbol symbols[] = {
#define HTTP_SYMBOL(f) { "curl_" #f, offsetof(struct http_lib, f) },
	HTTP_CURL_FUNCS(HTTP_SYMBOL)
#undef HTTP_SYMBOL
};

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static struct http_lib lib;
static bool loaded;
static char load_err[256];

static void load(void)
{
	if (dl_load_table(CURL_SONAME, symbols, sizeof symbols / sizeof *symbols,
	    &lib, "HTTP calls need " CURL_SONAME " (Debian package libcurl4)",
	    load_err, sizeof load_err) < 0)
		return;
	if (lib.global_init(CURL_GLOBAL_DEFAULT) != 0) {
		snprintf(load_err, sizeof load_err, "curl_global_init failed");
		return;
	}
	loaded = true;
}

int http_load(char *err, size_t errlen)
{
	pthread_once(&load_once, load);
	if (!loaded)
		snprintf(err, errlen, "%s", load_err);
	return loaded ? 0 : -1;
}

const struct http_lib *http_lib(void)
{
	static bool said;
	char err[256];

	if (http_load(err, sizeof err) == 0)
		return &lib;
	if (!__atomic_exchange_n(&said, true, __ATOMIC_RELAXED))
		log_warnx("%s", err);
	return NULL;
}

CURL *http_new(const char *url, struct curl_slist *hdrs)
{
	const struct http_lib *cu = http_lib();
	CURL *h;

	if (cu == NULL || (h = cu->easy_init()) == NULL)
		return NULL;
	if (cu->easy_setopt(h, CURLOPT_URL, url) != CURLE_OK ||
	    cu->easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK) {
		cu->easy_cleanup(h);
		return NULL;
	}
	cu->easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	cu->easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	cu->easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
	cu->easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1024L);
	cu->easy_setopt(h, CURLOPT_LOW_SPEED_TIME, LOW_SPEED_S);
	return h;
}
