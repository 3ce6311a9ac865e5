import COpenSSL
import EvidenceCore

/// MD5 (RFC 1321), for one purpose only: the `Content-MD5` header that S3 requires on
/// Object Lock writes, which guards the bytes in transit. MD5 is broken for collisions: it is
/// never used as an evidence hash (that is SHA-256, everywhere).
public enum ContentMD5 {
    /// The 16-byte MD5 of the bytes.
    public static func digest(_ data: UnsafeRawBufferPointer) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 16)
        var len = 0
        let ok = EVP_Q_digest(nil, "MD5", nil, data.baseAddress, data.count, &out, &len)
        precondition(ok == 1 && len == 16, "libcrypto MD5 unavailable: \(OpenSSLError("EVP_Q_digest(MD5)"))")
        return out
    }

    public static func digest(_ data: [UInt8]) -> [UInt8] { data.withUnsafeBytes { digest($0) } }

    /// The base64 header value.
    public static func headerValue(_ data: UnsafeRawBufferPointer) -> String { Base64.encode(digest(data)) }
}

extension ContentMD5 {
    /// A running MD5 over a stream of chunks (a multipart part read in pieces). Not shared
    /// across threads; the libcrypto context is freed with the value.
    public final class Hasher {
        private let ctx: OpaquePointer

        public init() {
            guard let c = EVP_MD_CTX_new(), EVP_DigestInit_ex(c, EVP_md5(), nil) == 1 else {
                preconditionFailure("libcrypto MD5 unavailable: \(OpenSSLError("EVP_DigestInit_ex(MD5)"))")
            }
            ctx = c
        }

        deinit { EVP_MD_CTX_free(ctx) }

        public func update(_ data: UnsafeRawBufferPointer) {
            guard data.count > 0 else { return }
            let ok = EVP_DigestUpdate(ctx, data.baseAddress, data.count)
            precondition(ok == 1, "libcrypto MD5 update failed: \(OpenSSLError("EVP_DigestUpdate"))")
        }

        /// The 16-byte digest; the hasher then starts over for the next stream.
        public func finalize() -> [UInt8] {
            var out = [UInt8](repeating: 0, count: 16)
            var len: UInt32 = 0
            let ok = EVP_DigestFinal_ex(ctx, &out, &len) == 1 && len == 16 && EVP_DigestInit_ex(ctx, EVP_md5(), nil) == 1
            precondition(ok, "libcrypto MD5 final failed: \(OpenSSLError("EVP_DigestFinal_ex"))")
            return out
        }
    }
}
