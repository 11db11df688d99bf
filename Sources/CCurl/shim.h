// CCurl: libcurl. curl_easy_setopt/getinfo are variadic, so each argument kind gets a typed shim
// (the swift-corelibs-foundation pattern). Remove a shim only if Swift learns to call C variadics.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <curl/curl.h>
#include <openssl/crypto.h>

static inline CURLcode ccurl_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode ccurl_setopt_ptr(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode ccurl_setopt_string(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode ccurl_setopt_off(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode ccurl_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode ccurl_setopt_write_cb(CURL *h, size_t (*cb)(char *, size_t, size_t, void *)) {
    return curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, cb);
}
static inline CURLcode ccurl_setopt_header_cb(CURL *h, size_t (*cb)(char *, size_t, size_t, void *)) {
    return curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, cb);
}
static inline CURLcode ccurl_setopt_read_cb(CURL *h, size_t (*cb)(char *, size_t, size_t, void *)) {
    return curl_easy_setopt(h, CURLOPT_READFUNCTION, cb);
}
static inline CURLcode ccurl_setopt_xferinfo_cb(CURL *h, int (*cb)(void *, curl_off_t, curl_off_t, curl_off_t, curl_off_t)) {
    return curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, cb);
}
static inline CURLcode ccurl_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode ccurl_getinfo_ptr(CURL *h, CURLINFO i, void **v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode ccurl_getinfo_string(CURL *h, CURLINFO i, char **v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode ccurl_getinfo_double(CURL *h, CURLINFO i, double *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLMcode ccurl_multi_setopt_long(CURLM *m, CURLMoption o, long v) { return curl_multi_setopt(m, o, v); }
static inline CURLSHcode ccurl_share_setopt_long(CURLSH *s, CURLSHoption o, long v) { return curl_share_setopt(s, o, v); }
static inline unsigned int ccurl_version_now(void) { return CURLVERSION_NOW; }
// libcurl's TLS backend is OpenSSL, which keeps per-thread state (random generators, error queue) that a thread's
// exit would free later: a thread that ends while the process exits would meet OpenSSL's exit handler. The curl loop
// thread frees it itself before it reports that it has stopped.
static inline void ccurl_release_tls_thread_state(void) { OPENSSL_thread_stop(); }

// Blob options (CURLOPT_CAINFO_BLOB, CURLOPT_SSLCERT_BLOB, CURLOPT_SSLKEY_BLOB) take a struct by pointer; the shim
// builds it with CURL_BLOB_COPY so libcurl owns a copy and the caller's buffer may go away after the call.
static inline CURLcode ccurl_setopt_blob(CURL *h, CURLoption o, const void *data, size_t len) {
    struct curl_blob b;
    b.data = (void *)data;
    b.len = len;
    b.flags = CURL_BLOB_COPY;
    return curl_easy_setopt(h, o, &b);
}
// Macros Swift cannot import (casts / bit-or expressions).
static inline size_t ccurl_writefunc_pause(void) { return CURL_WRITEFUNC_PAUSE; }
static inline long ccurl_global_default(void) { return CURL_GLOBAL_DEFAULT; }
static inline long ccurl_pause_cont(void) { return CURLPAUSE_CONT; }

/// Names the calling thread as /proc and debuggers show it (15 bytes kept). Foundation's Thread.name does not reach
/// the kernel on Linux.
static inline void ccurl_name_current_thread(const char *name) { prctl(PR_SET_NAME, name, 0, 0, 0); }
