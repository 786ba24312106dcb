// Typed wrappers for libcurl's variadic curl_easy_setopt / curl_easy_getinfo,
// which Swift cannot call directly.
#ifndef DEPLOY_CCURL_SHIM_H
#define DEPLOY_CCURL_SHIM_H

#include <curl/curl.h>

typedef size_t (*deploy_curl_data_callback)(char *data, size_t size, size_t count, void *userdata);
typedef int (*deploy_curl_progress_callback)(void *userdata, curl_off_t dltotal, curl_off_t dlnow,
                                             curl_off_t ultotal, curl_off_t ulnow);
typedef int (*deploy_curl_seek_callback)(void *userdata, curl_off_t offset, int origin);

static inline CURLcode deploy_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode deploy_curl_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode deploy_curl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode deploy_curl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode deploy_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode deploy_curl_setopt_data_callback(CURL *handle, CURLoption option,
                                                        deploy_curl_data_callback callback) {
    return curl_easy_setopt(handle, option, callback);
}

static inline CURLcode deploy_curl_setopt_progress_callback(CURL *handle, CURLoption option,
                                                            deploy_curl_progress_callback callback) {
    return curl_easy_setopt(handle, option, callback);
}

static inline CURLcode deploy_curl_setopt_seek_callback(CURL *handle, deploy_curl_seek_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_SEEKFUNCTION, callback);
}

static inline CURLcode deploy_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode deploy_curl_getinfo_off_t(CURL *handle, CURLINFO info, curl_off_t *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode deploy_curl_getinfo_string(CURL *handle, CURLINFO info, char **value) {
    return curl_easy_getinfo(handle, info, value);
}

#endif
