// The few libcrypto entry points deploy uses, with fixed-size outputs so that
// Swift callers never handle OpenSSL's out-parameters.
#ifndef DEPLOY_CCRYPTO_SHIM_H
#define DEPLOY_CCRYPTO_SHIM_H

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdint.h>

/// SHA-256 of `length` bytes at `data` into `digest` (32 bytes). Returns 1 on success.
static inline int deploy_sha256(const void *data, size_t length, uint8_t *digest) {
    unsigned int size = 0;
    return EVP_Digest(data, length, digest, &size, EVP_sha256(), NULL);
}

/// HMAC-SHA-256 into `mac` (32 bytes). Returns 1 on success.
static inline int deploy_hmac_sha256(const void *key, size_t key_length, const void *data, size_t length,
                                     uint8_t *mac) {
    unsigned int size = 0;
    return HMAC(EVP_sha256(), key, (int)key_length, data, length, mac, &size) != NULL;
}

#endif
