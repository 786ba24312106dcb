// The few libcrypto entry points deploy uses, with fixed-size outputs so that
// Swift callers never handle OpenSSL's out-parameters.
#ifndef DEPLOY_CCRYPTO_SHIM_H
#define DEPLOY_CCRYPTO_SHIM_H

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <limits.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <stdint.h>
#include <string.h>

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

/// A new Ed25519 key pair, or NULL. Free it with EVP_PKEY_free.
static inline EVP_PKEY *deploy_ed25519_generate(void) {
    EVP_PKEY *key = NULL;
    EVP_PKEY_CTX *context = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
    if (context == NULL) return NULL;
    if (EVP_PKEY_keygen_init(context) <= 0 || EVP_PKEY_keygen(context, &key) <= 0) key = NULL;
    EVP_PKEY_CTX_free(context);
    return key;
}

/// The key as PEM (PKCS#8 private key when `private_part`, SubjectPublicKeyInfo otherwise) into `out`; returns its
/// length, or -1 when it does not fit in `capacity` or cannot be written.
static inline int deploy_pem_write(EVP_PKEY *key, int private_part, char *out, size_t capacity) {
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio == NULL) return -1;
    int ok = private_part ? PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) : PEM_write_bio_PUBKEY(bio, key);
    char *data = NULL;
    long length = ok ? BIO_get_mem_data(bio, &data) : -1;
    int result = -1;
    if (length >= 0 && (size_t)length <= capacity) {
        memcpy(out, data, (size_t)length);
        result = (int)length;
    }
    BIO_free(bio);
    return result;
}

/// An Ed25519 key read from PEM (a private key when `private_part`, a public key otherwise), or NULL when the text
/// is not such a key.
static inline EVP_PKEY *deploy_ed25519_pem_read(const char *pem, size_t length, int private_part) {
    BIO *bio = BIO_new_mem_buf(pem, (int)length);
    if (bio == NULL) return NULL;
    EVP_PKEY *key = private_part ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (key != NULL && EVP_PKEY_id(key) != EVP_PKEY_ED25519) {
        EVP_PKEY_free(key);
        return NULL;
    }
    return key;
}

/// The 32 raw bytes of an Ed25519 public key into `out`. Returns 1 on success.
static inline int deploy_ed25519_raw_public(EVP_PKEY *key, uint8_t *out) {
    size_t length = 32;
    return EVP_PKEY_get_raw_public_key(key, out, &length) == 1 && length == 32;
}

/// The 64-byte Ed25519 signature of `length` bytes into `signature`. Returns 1 on success.
static inline int deploy_ed25519_sign(EVP_PKEY *key, const void *data, size_t length, uint8_t *signature) {
    EVP_MD_CTX *context = EVP_MD_CTX_new();
    size_t size = 64;
    int ok = context != NULL && EVP_DigestSignInit(context, NULL, NULL, NULL, key) == 1
        && EVP_DigestSign(context, signature, &size, data, length) == 1 && size == 64;
    EVP_MD_CTX_free(context);
    return ok;
}

/// Whether `signature` (64 bytes) is `key`'s signature of the `length` bytes at `data`.
static inline int deploy_ed25519_verify(EVP_PKEY *key, const void *data, size_t length, const uint8_t *signature) {
    EVP_MD_CTX *context = EVP_MD_CTX_new();
    int ok = context != NULL && EVP_DigestVerifyInit(context, NULL, NULL, NULL, key) == 1
        && EVP_DigestVerify(context, signature, 64, data, length) == 1;
    EVP_MD_CTX_free(context);
    return ok;
}

/// AES-256-GCM with a 12-byte nonce and a 16-byte tag: `length` bytes of `input` into `output` (the same length),
/// authenticating `aad` too; the tag is written (`seal`) or checked (`open`) at `tag`. Returns 1 on success, 0 when
/// the tag does not match or anything fails (then `output` is to be thrown away).
static inline int deploy_aes256gcm(int seal, const uint8_t *key, const uint8_t *nonce, const void *aad, size_t aad_length,
                                   const void *input, size_t length, uint8_t *output, uint8_t *tag) {
    if (length > INT_MAX || aad_length > INT_MAX) return 0;
    EVP_CIPHER_CTX *context = EVP_CIPHER_CTX_new();
    if (context == NULL) return 0;
    int written = 0, ok = EVP_CipherInit_ex(context, EVP_aes_256_gcm(), NULL, NULL, NULL, seal) == 1
        && EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) == 1
        && EVP_CipherInit_ex(context, NULL, NULL, key, nonce, seal) == 1
        && (aad_length == 0 || EVP_CipherUpdate(context, NULL, &written, aad, (int)aad_length) == 1)
        && (length == 0 || EVP_CipherUpdate(context, output, &written, input, (int)length) == 1)
        && (seal || EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, 16, tag) == 1)
        && EVP_CipherFinal_ex(context, output + (length == 0 ? 0 : written), &written) == 1
        && (!seal || EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1);
    EVP_CIPHER_CTX_free(context);
    return ok;
}

#endif
