import EvidenceCore
import EvidenceOpenSSL
import Foundation

/// AWS Signature Version 4 for S3, header form (`Authorization: AWS4-HMAC-SHA256 ...`).
///
/// Guarantees: the payload is always signed by its SHA-256 (`x-amz-content-sha256` is the hex
/// digest of the exact body sent; `UNSIGNED-PAYLOAD` and streaming chunk signatures are never
/// produced); every `x-amz-*` header, `content-md5`, `content-type` and `host` are signed; the
/// secret never leaves this value. Refuses (precondition): the header
/// `x-amz-bypass-governance-retention`, which this library never sends.
struct SigV4Signer: Sendable {
    let credentials: S3Credentials
    let region: String
    let service = "s3"

    /// Adds `x-amz-date`, `x-amz-content-sha256`, `x-amz-security-token` (if any) and
    /// `authorization` to `headers` (lower-case names).
    func sign(method: String, host: String, path: String, query: [(String, String)],
              headers: inout [String: String], payloadSHA256 payloadHex: String, date: Date) {
        precondition(headers["x-amz-bypass-governance-retention"] == nil,
                     "x-amz-bypass-governance-retention must never be sent")
        let (amzDate, day) = Self.timestamps(date)
        headers["host"] = host
        headers["x-amz-date"] = amzDate
        headers["x-amz-content-sha256"] = payloadHex
        if let token = credentials.sessionToken { headers["x-amz-security-token"] = token }

        let signedNames = headers.keys.filter { $0 == "host" || $0.hasPrefix("x-amz-") || $0 == "content-md5" || $0 == "content-type" }.sorted()
        let canonicalHeaders = signedNames.map { "\($0):\(Self.trimmed(headers[$0]!))\n" }.joined()
        let signedHeaders = signedNames.joined(separator: ";")
        let canonicalRequest = [method, path, Self.canonicalQuery(query), canonicalHeaders, signedHeaders, payloadHex]
            .joined(separator: "\n")
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope,
                            OpenSSLSHA256().hash(canonicalRequest).hex].joined(separator: "\n")
        var key = HMACSHA256.authenticationCode(key: Array("AWS4\(credentials.secretAccessKey)".utf8), message: Array(day.utf8))
        for part in [region, service, "aws4_request"] {
            key = HMACSHA256.authenticationCode(key: key, message: Array(part.utf8))
        }
        let signature = Hex.encode(HMACSHA256.authenticationCode(key: key, message: Array(stringToSign.utf8)))
        headers["authorization"] = "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
    }

    static func canonicalQuery(_ query: [(String, String)]) -> String {
        let encoded: [(String, String)] = query.map { (uriEncode($0.0, keepSlash: false), uriEncode($0.1, keepSlash: false)) }
        let sorted = encoded.sorted { (a: (String, String), b: (String, String)) -> Bool in a.0 == b.0 ? a.1 < b.1 : a.0 < b.0 }
        return sorted.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// RFC 3986 percent-encoding as SigV4 wants it: unreserved characters stay, everything
    /// else is %XX with upper-case hex; '/' stays only in paths.
    static func uriEncode(_ s: String, keepSlash: Bool) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case 0x41...0x5a, 0x61...0x7a, 0x30...0x39, 0x2d, 0x2e, 0x5f, 0x7e: out.unicodeScalars.append(UnicodeScalar(b))
            case 0x2f where keepSlash: out.append("/")
            default: out += String(format: "%%%02X", b)
            }
        }
        return out
    }

    private static func trimmed(_ v: String) -> String {
        v.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    }

    /// ("20261204T161500Z", "20261204") in UTC.
    static func timestamps(_ date: Date) -> (String, String) {
        let c = UTCCalendar.components(date)
        let day = String(format: "%04d%02d%02d", c.year, c.month, c.day)
        return (day + String(format: "T%02d%02d%02dZ", c.hour, c.minute, c.second), day)
    }
}

/// UTC date arithmetic without a shared formatter (formatters are not Sendable everywhere).
enum UTCCalendar {
    struct Parts { var year, month, day, hour, minute, second: Int }

    static func components(_ date: Date) -> Parts {
        var t = time_t(date.timeIntervalSince1970.rounded(.down))
        var tmv = tm()
        gmtime_r(&t, &tmv)
        return Parts(year: Int(tmv.tm_year) + 1900, month: Int(tmv.tm_mon) + 1, day: Int(tmv.tm_mday),
                     hour: Int(tmv.tm_hour), minute: Int(tmv.tm_min), second: Int(tmv.tm_sec))
    }

    /// "2026-12-04T16:15:00Z" (whole seconds, rounded up so a retain-until never shrinks).
    static func iso8601(_ date: Date) -> String {
        let c = components(Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.up)))
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02dZ", c.year, c.month, c.day, c.hour, c.minute, c.second)
    }

    /// Parses "YYYY-MM-DDTHH:MM:SS[.fff]Z" (what S3 returns); nil for anything else.
    static func parseISO8601(_ s: String) -> Date? {
        let u = Array(s.utf8)
        guard u.count >= 20, u.count <= 40, u.last == UInt8(ascii: "Z") else { return nil }
        func num(_ from: Int, _ len: Int) -> Int? {
            var v = 0
            for i in from..<(from + len) {
                guard (0x30...0x39).contains(u[i]) else { return nil }
                v = v * 10 + Int(u[i] - 0x30)
            }
            return v
        }
        guard u[4] == 0x2d, u[7] == 0x2d, u[10] == 0x54, u[13] == 0x3a, u[16] == 0x3a,
              let y = num(0, 4), let mo = num(5, 2), let d = num(8, 2), let h = num(11, 2), let mi = num(14, 2), let sec = num(17, 2),
              (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, sec < 61 else { return nil }
        var fraction = 0.0
        if u[19] == 0x2e {
            var scale = 0.1
            for i in 20..<(u.count - 1) {
                guard (0x30...0x39).contains(u[i]) else { return nil }
                fraction += Double(u[i] - 0x30) * scale; scale /= 10
            }
        } else if u.count != 20 { return nil }
        var tmv = tm()
        tmv.tm_year = Int32(y - 1900); tmv.tm_mon = Int32(mo - 1); tmv.tm_mday = Int32(d)
        tmv.tm_hour = Int32(h); tmv.tm_min = Int32(mi); tmv.tm_sec = Int32(sec)
        return Date(timeIntervalSince1970: TimeInterval(timegm(&tmv)) + fraction)
    }

    /// RFC 7231 HTTP date ("Fri, 04 Dec 2026 16:15:00 GMT"), as in Last-Modified.
    static func parseHTTPDate(_ s: String) -> Date? {
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let parts = s.split(separator: " ")
        guard parts.count == 6, let day = Int(parts[1]), let mon = months.firstIndex(of: String(parts[2])),
              let year = Int(parts[3]) else { return nil }
        let hms = parts[4].split(separator: ":").compactMap { Int($0) }
        guard hms.count == 3 else { return nil }
        var tmv = tm()
        tmv.tm_year = Int32(year - 1900); tmv.tm_mon = Int32(mon); tmv.tm_mday = Int32(day)
        tmv.tm_hour = Int32(hms[0]); tmv.tm_min = Int32(hms[1]); tmv.tm_sec = Int32(hms[2])
        return Date(timeIntervalSince1970: TimeInterval(timegm(&tmv)))
    }
}
