#ifndef COPENSSL_SHIM_H
#define COPENSSL_SHIM_H
/* The low-level SHA256_* calls are kept for per-record leaf hashing, where EVP's per-call
 * dispatch costs more than the 4 compression rounds of a 200-byte record. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/hmac.h>
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <openssl/ts.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
/* Function-like macros are not imported into Swift: wrap the ones needed. */
static inline long shim_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int v) { return SSL_CTX_set_min_proto_version(ctx, v); }
static inline long shim_SSL_set_tlsext_host_name(SSL *s, const char *name) { return SSL_set_tlsext_host_name(s, name); }
#endif
