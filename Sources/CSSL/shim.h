// The few libssl entry points inference-server's TLS uses; OpenSSL spells some of them as macros, which Swift
// cannot call, so they are wrapped here.
#ifndef INFERENCE_CSSL_SHIM_H
#define INFERENCE_CSSL_SHIM_H

#include <openssl/ssl.h>
#include <openssl/err.h>

/// A server context that speaks TLS 1.2 and later only, with the certificate chain and key from PEM files.
/// Returns NULL on failure, with the reason in `error` (at most `length` bytes).
static inline SSL_CTX *inference_tls_server_context(const char *certificate, const char *key, char *error, size_t length) {
    SSL_CTX *context = SSL_CTX_new(TLS_server_method());
    if (context == NULL) { snprintf(error, length, "cannot create a TLS context"); return NULL; }
    SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
    SSL_CTX_set_options(context, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (SSL_CTX_use_certificate_chain_file(context, certificate) != 1) {
        ERR_error_string_n(ERR_get_error(), error, length);
        SSL_CTX_free(context);
        return NULL;
    }
    if (SSL_CTX_use_PrivateKey_file(context, key, SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(context) != 1) {
        ERR_error_string_n(ERR_get_error(), error, length);
        SSL_CTX_free(context);
        return NULL;
    }
    return context;
}

#endif
