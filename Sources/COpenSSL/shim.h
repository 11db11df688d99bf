// COpenSSL: OpenSSL 3 (EVP, KDF, MAC) for the Kopia codecs.
// Shims exist for macros Swift cannot import; remove one when Swift can import its macro.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/err.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/md5.h>
#include <openssl/sha.h>

/// EVP_CIPHER_CTX_ctrl with GCM/AEAD tag ops, typed (the ctrl codes are plain ints, but keep call sites readable).
static inline int copenssl_aead_set_ivlen(EVP_CIPHER_CTX *ctx, int len) {
    return EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, len, NULL);
}
static inline int copenssl_aead_get_tag(EVP_CIPHER_CTX *ctx, int len, void *tag) {
    return EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, len, tag);
}
static inline int copenssl_aead_set_tag(EVP_CIPHER_CTX *ctx, int len, void *tag) {
    return EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, len, tag);
}

/// OSSL_PARAM constructors keyed by the *_PARAM_* string macros, which Swift imports only as Swift strings
/// (it needs stable C strings). Remove when the call sites build the key strings themselves.
static inline OSSL_PARAM copenssl_param_mac_size(size_t *value) {
    return OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, value);
}
static inline OSSL_PARAM copenssl_param_mac_digest(const char *name) {
    return OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)name, 0);
}
static inline OSSL_PARAM copenssl_param_end(void) { return OSSL_PARAM_construct_end(); }

// PEM/BIO (service-account private keys for GCS's RS256 JWTs). Plain functions; no shim needed.
#include <openssl/bio.h>
#include <openssl/pem.h>
