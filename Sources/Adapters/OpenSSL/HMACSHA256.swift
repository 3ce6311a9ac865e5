import COpenSSL
import EvidenceCore

/// HMAC-SHA256 (RFC 2104 / FIPS 198-1) with libcrypto: one-shot, or incremental for streams.
///
/// Guarantees: the 32-byte tag equals RFC 4231's for its vectors; keys of any length are
/// accepted (longer than 64 bytes are hashed first, as the RFC says). Use `isValid` to
/// compare tags in constant time. An incremental value is not shared across tasks.
/// Refuses: `update`/`finalize` after `finalize` (a precondition).
public struct HMACSHA256 {
    /// HMAC-SHA256(key, message).
    public static func authenticationCode(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var mac = HMACSHA256(key: key)
        mac.update(message)
        return mac.finalize()
    }

    /// Constant-time check of `tag` against HMAC-SHA256(key, message).
    public static func isValid(_ tag: [UInt8], key: [UInt8], message: [UInt8]) -> Bool {
        let expected = authenticationCode(key: key, message: message)
        guard tag.count == expected.count else { return false }
        return CRYPTO_memcmp(tag, expected, expected.count) == 0
    }

    private let state: MACContext
    private var finished = false

    /// Starts an incremental HMAC under `key`.
    public init(key: [UInt8]) { state = MACContext(key: key) }

    public mutating func update(_ data: [UInt8]) { data.withUnsafeBytes { update($0) } }

    public mutating func update(_ data: UnsafeRawBufferPointer) {
        precondition(!finished, "HMACSHA256.update after finalize")
        guard data.count > 0 else { return }
        precondition(EVP_MAC_update(state.ctx, data.baseAddress!.assumingMemoryBound(to: UInt8.self), data.count) == 1,
                     "EVP_MAC_update failed")
    }

    /// The 32-byte tag. The value cannot be used afterwards.
    public mutating func finalize() -> [UInt8] {
        precondition(!finished, "HMACSHA256.finalize called twice")
        finished = true
        var out = [UInt8](repeating: 0, count: 32)
        var len = 0
        precondition(EVP_MAC_final(state.ctx, &out, &len, 32) == 1 && len == 32, "EVP_MAC_final failed")
        return out
    }
}

/// Owns one EVP_MAC_CTX. A class so that the context is freed exactly once; the struct
/// above never copies it into a second live hasher (it has no copy-on-write).
final class MACContext {
    let ctx: OpaquePointer

    init(key: [UInt8]) {
        guard let mac = EVP_MAC_fetch(nil, "HMAC", nil) else { preconditionFailure("libcrypto has no HMAC: \(OpenSSLError("EVP_MAC_fetch"))") }
        defer { EVP_MAC_free(mac) }
        guard let c = EVP_MAC_CTX_new(mac) else { preconditionFailure("out of memory") }
        ctx = c
        let ok = OSSL_MAC_PARAM_DIGEST.withCString { digestKey in
            "SHA256".withCString { digestName in
                var params = [OSSL_PARAM_construct_utf8_string(digestKey, UnsafeMutablePointer(mutating: digestName), 0),
                              OSSL_PARAM_construct_end()]
                // An empty key is legal for HMAC; give OpenSSL a valid pointer anyway.
                let k = key.isEmpty ? [UInt8(0)] : key
                return EVP_MAC_init(c, k, key.count, &params)
            }
        }
        precondition(ok == 1, "EVP_MAC_init(HMAC-SHA256) failed")
    }

    deinit { EVP_MAC_CTX_free(ctx) }
}
