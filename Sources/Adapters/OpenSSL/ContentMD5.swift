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
