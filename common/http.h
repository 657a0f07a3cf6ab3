/*
 * common/http.h: the libcurl set-up kumo's HTTP clients share (http.c).
 * Only the programs that call it link libcurl.
 */
#ifndef KUMO_COMMON_HTTP_H
#define KUMO_COMMON_HTTP_H

#include <curl/curl.h>

/* A curl handle for url with hdrs (borrowed until the transfer is done):
 * http and https only, no signals, a 10 s connect timeout, an abort when
 * under 1 KiB/s for 60 s. NULL when curl cannot make one. */
CURL *http_new(const char *url, struct curl_slist *hdrs);

#endif
