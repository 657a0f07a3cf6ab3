/*
 * The curl set-up every HTTP call of kumo shares (kumo-compute's image
 * downloads and service login, kumo-api's calls to an external Keystone):
 * libcurl initialised once, http and https only, no signals (worker
 * threads), a connect timeout, and an abort when the transfer stalls.
 */
#include <curl/curl.h>
#include <pthread.h>

#include "common/common.h"
#include "common/http.h"

#define CONNECT_TIMEOUT_S 10L
#define LOW_SPEED_S 60L   /* abort when under 1 KiB/s for this long */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		fatalx("curl_global_init failed");
}

CURL *http_new(const char *url, struct curl_slist *hdrs)
{
	CURL *h;

	pthread_once(&curl_once, curl_init);
	if ((h = curl_easy_init()) == NULL)
		return NULL;
	if (curl_easy_setopt(h, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK) {
		curl_easy_cleanup(h);
		return NULL;
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1024L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, LOW_SPEED_S);
	return h;
}
