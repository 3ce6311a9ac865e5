import COpenSSL
import EvidenceCore

/// Errors from libcrypto/libssl, with OpenSSL's own reason text attached.
public struct OpenSSLError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ what: String) {
        var reasons: [String] = []
        while true {
            let e = ERR_get_error()
            if e == 0 { break }
            var buf = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(e, &buf, buf.count)
            reasons.append(String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        message = reasons.isEmpty ? what : "\(what) (\(reasons.joined(separator: "; ")))"
    }
    public var description: String { message }
}
