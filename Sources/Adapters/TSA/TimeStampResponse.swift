import COpenSSL
import EvidenceCore
import Foundation

/// Bounds for time-stamp bytes from the network or from storage.
public enum TimeStampLimits {
    /// Largest response or token accepted (a token with a 3-certificate chain is ~5 KiB).
    public static let maxDERBytes = 256 * 1024
}

/// The parsed, *unverified* content of an RFC 3161 `TimeStampResp` (or of a bare token).
///
/// Guarantees: parsing is bounded (`TimeStampLimits.maxDERBytes`) and never trusts the
/// contents; use `RFC3161Verifier` before believing any field.
public struct TimeStampResponse: Sendable, Hashable {
    /// PKIStatus: 0 granted, 1 grantedWithMods, 2 rejection, 3 waiting, 4 revocationWarning, 5 revocationNotification.
    public var status: Int
    /// The bare token (ContentInfo, pkcs7-signedData) when the status grants one.
    public var tokenDER: [UInt8]?
    public var info: TSTInfoSummary?

    /// Parses DER `TimeStampResp`.
    public init(der: [UInt8]) throws {
        guard !der.isEmpty, der.count <= TimeStampLimits.maxDERBytes else {
            throw TSAError(.malformed, "RFC 3161: response of \(der.count) bytes is empty or above \(TimeStampLimits.maxDERBytes) bytes")
        }
        let resp: OpaquePointer? = der.withUnsafeBufferPointer { buf in
            var p: UnsafePointer<UInt8>? = buf.baseAddress
            return d2i_TS_RESP(nil, &p, buf.count)
        }
        guard let resp else { ERR_clear_error(); throw TSAError(.malformed, "RFC 3161: the response is not DER TimeStampResp; is the URL a time-stamp service?") }
        defer { TS_RESP_free(resp) }
        guard let si = TS_RESP_get_status_info(resp), let st = TS_STATUS_INFO_get0_status(si) else {
            throw TSAError(.malformed, "RFC 3161: the response has no status")
        }
        status = ASN1_INTEGER_get(st)
        if let p7 = TS_RESP_get_token(resp) {
            tokenDER = try DER.encodePKCS7(p7)
            info = TS_RESP_get_tst_info(resp).map { TSTInfoSummary($0) } ?? nil
        }
    }

    /// Parses a bare token (ContentInfo) as stored in evidence; `status` is 0.
    public init(tokenDER der: [UInt8]) throws {
        let p7 = try DER.decodePKCS7(der)
        defer { PKCS7_free(p7) }
        guard let tst = PKCS7_to_TS_TST_INFO(p7) else {
            ERR_clear_error()
            throw TSAError(.malformed, "RFC 3161: the token does not hold a TSTInfo; it is not a time-stamp token")
        }
        defer { TS_TST_INFO_free(tst) }
        status = 0; tokenDER = der; info = TSTInfoSummary(tst)
    }
}

/// The fields of a TSTInfo that evidence records keep.
public struct TSTInfoSummary: Sendable, Hashable {
    public var genTime: Date
    /// OID of the imprint's hash algorithm, e.g. `2.16.840.1.101.3.4.2.1` for SHA-256.
    public var imprintAlgorithm: String
    public var imprint: [UInt8]
    public var nonce: [UInt8]?
    public var serialNumber: [UInt8]
    public var policy: String
    /// The TSA's name as it printed itself (`DirName:/CN=...`), if it put one in.
    public var tsaName: String?

    init?(_ tst: OpaquePointer) {
        guard let t = TS_TST_INFO_get_time(tst), let date = GeneralizedTime.parse(DER.stringBytes(t)),
              let mi = TS_TST_INFO_get_msg_imprint(tst), let alg = TS_MSG_IMPRINT_get_algo(mi),
              let msg = TS_MSG_IMPRINT_get_msg(mi) else { return nil }
        var obj: OpaquePointer?
        X509_ALGOR_get0(&obj, nil, nil, alg)
        genTime = date
        imprintAlgorithm = obj.map(DER.oidText) ?? "?"
        imprint = DER.stringBytes(msg)
        nonce = TS_TST_INFO_get_nonce(tst).map(DER.integerBytes)
        serialNumber = TS_TST_INFO_get_serial(tst).map(DER.integerBytes) ?? []
        policy = TS_TST_INFO_get_policy_id(tst).map { DER.oidText($0) } ?? "?"
        tsaName = TS_TST_INFO_get_tsa(tst).flatMap(DER.generalName)
    }
}

/// Small DER and ASN.1 conversions over libcrypto.
enum DER {
    static func encodePKCS7(_ p7: UnsafeMutablePointer<PKCS7>) throws -> [UInt8] {
        let n = i2d_PKCS7(p7, nil)
        guard n > 0, n <= TimeStampLimits.maxDERBytes else { throw TSAError(.malformed, "RFC 3161: cannot encode the token") }
        var out = [UInt8](repeating: 0, count: Int(n))
        out.withUnsafeMutableBufferPointer { buf in var p = buf.baseAddress; _ = i2d_PKCS7(p7, &p) }
        return out
    }

    static func decodePKCS7(_ der: [UInt8]) throws -> UnsafeMutablePointer<PKCS7> {
        guard !der.isEmpty, der.count <= TimeStampLimits.maxDERBytes else {
            throw TSAError(.malformed, "RFC 3161: token of \(der.count) bytes is empty or above \(TimeStampLimits.maxDERBytes) bytes")
        }
        let p7: UnsafeMutablePointer<PKCS7>? = der.withUnsafeBufferPointer { buf in
            var p: UnsafePointer<UInt8>? = buf.baseAddress
            return d2i_PKCS7(nil, &p, buf.count)
        }
        guard let p7 else { ERR_clear_error(); throw TSAError(.malformed, "RFC 3161: the token is not a DER ContentInfo (pkcs7-signedData)") }
        return p7
    }

    static func stringBytes(_ s: UnsafePointer<ASN1_STRING>) -> [UInt8] {
        let n = Int(ASN1_STRING_length(s))
        guard n > 0, let d = ASN1_STRING_get0_data(s) else { return [] }
        return Array(UnsafeBufferPointer(start: d, count: n))
    }
    static func stringBytes(_ s: UnsafeMutablePointer<ASN1_STRING>) -> [UInt8] { stringBytes(UnsafePointer(s)) }

    static func integerBytes(_ i: UnsafePointer<ASN1_INTEGER>) -> [UInt8] { stringBytes(i) }
    static func integerBytes(_ i: UnsafeMutablePointer<ASN1_INTEGER>) -> [UInt8] { stringBytes(UnsafePointer(i)) }

    static func oidText(_ o: OpaquePointer) -> String {
        var buf = [CChar](repeating: 0, count: 128)
        let n = OBJ_obj2txt(&buf, Int32(buf.count), o, 1)
        guard n > 0 else { return "?" }
        return String(decoding: buf.prefix(min(Int(n), 127)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func generalName(_ g: UnsafeMutablePointer<GENERAL_NAME>) -> String? {
        guard let bio = BIO_new(BIO_s_mem()) else { return nil }
        defer { BIO_free(bio) }
        guard GENERAL_NAME_print(bio, g) == 1 else { return nil }
        var buf = [UInt8](repeating: 0, count: 1024)
        let n = BIO_read(bio, &buf, Int32(buf.count))
        return n > 0 ? String(decoding: buf[0..<Int(n)], as: UTF8.self) : nil
    }
}

/// ASN.1 GeneralizedTime as RFC 3161 uses it: `YYYYMMDDhhmmss[.f...]Z`.
enum GeneralizedTime {
    static func parse(_ bytes: [UInt8]) -> Date? {
        guard bytes.count >= 15, bytes.count <= 40, bytes.last == UInt8(ascii: "Z") else { return nil }
        func num(_ a: Int, _ n: Int) -> Int? {
            var v = 0
            for c in bytes[a..<a + n] { guard (0x30...0x39).contains(c) else { return nil }; v = v * 10 + Int(c - 0x30) }
            return v
        }
        guard let y = num(0, 4), let mo = num(4, 2), let d = num(6, 2), let h = num(8, 2), let mi = num(10, 2), let s = num(12, 2),
              (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, s < 61 else { return nil }
        var frac = 0.0
        if bytes.count > 15 {
            guard bytes[14] == UInt8(ascii: "."), bytes.count > 16 else { return nil }
            var scale = 0.1
            for c in bytes[15..<(bytes.count - 1)] {
                guard (0x30...0x39).contains(c) else { return nil }
                frac += Double(c - 0x30) * scale; scale /= 10
            }
        }
        // Days from civil (proleptic Gregorian), no calendar object needed.
        let yy = mo <= 2 ? y - 1 : y
        let era = (yy >= 0 ? yy : yy - 399) / 400
        let yoe = yy - era * 400
        let doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return Date(timeIntervalSince1970: Double(days * 86_400 + h * 3600 + mi * 60 + s) + frac)
    }
}
