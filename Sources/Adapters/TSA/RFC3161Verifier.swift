import COpenSSL
import EvidenceCore
import Foundation

/// The certificates a time-stamp signer must chain to (a TSA's root, or the EU trusted list
/// entry of a qualified TSP), held as DER so the value is `Sendable` and file-independent.
public struct TSATrustAnchors: Sendable, Hashable {
    public var certificatesDER: [[UInt8]]
    /// Where they came from, for error messages.
    public var origin: String

    /// Reads every certificate of a PEM file; refuses a file without one.
    public init(pemFile path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TSAError(.configuration, "RFC 3161: cannot read trust anchor file \(path); give a readable PEM file with the TSA's root CA")
        }
        try self.init(pem: [UInt8](data), origin: path)
    }

    public init(pem: [UInt8], origin: String) throws {
        guard pem.count <= 4 << 20 else { throw TSAError(.configuration, "RFC 3161: trust anchor file \(origin) is over 4 MiB") }
        // The memory BIO reads `pem` in place: every read happens inside withUnsafeBytes, so
        // the bytes stay alive for as long as OpenSSL looks at them (an optimised build
        // would otherwise free the array after its last use).
        let ders: [[UInt8]] = try pem.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { throw TSAError(.configuration, "out of memory") }
            defer { BIO_free(bio) }
            var found: [[UInt8]] = []
            while found.count < 1000, let x = PEM_read_bio_X509(bio, nil, nil, nil) {
                defer { X509_free(x) }
                let n = i2d_X509(x, nil)
                guard n > 0 else { continue }
                var out = [UInt8](repeating: 0, count: Int(n))
                out.withUnsafeMutableBufferPointer { b in var p = b.baseAddress; _ = i2d_X509(x, &p) }
                found.append(out)
            }
            return found
        }
        ERR_clear_error()
        guard !ders.isEmpty else { throw TSAError(.configuration, "RFC 3161: no PEM certificate in \(origin); give the TSA's root CA certificate") }
        certificatesDER = ders; self.origin = origin
    }

    /// A fresh X509_STORE checking chains as of `time` (the token's genTime).
    func makeStore(at time: Date) throws -> OpaquePointer {
        guard let store = X509_STORE_new() else { throw TSAError(.configuration, "out of memory") }
        for der in certificatesDER {
            let x: OpaquePointer? = der.withUnsafeBufferPointer { b in var p: UnsafePointer<UInt8>? = b.baseAddress; return d2i_X509(nil, &p, b.count) }
            guard let x else { continue }
            X509_STORE_add_cert(store, x)
            X509_free(x)
        }
        if let param = X509_STORE_get0_param(store) { X509_VERIFY_PARAM_set_time(param, time_t(time.timeIntervalSince1970)) }
        return store
    }
}

/// Offline verification of RFC 3161 tokens (the bare DER ContentInfo).
///
/// Guarantees: `verify` succeeds only when the token's CMS signature is valid, the signer's
/// certificate (taken from the token) chains to the trust anchors as of the token's genTime
/// with the critical timeStamping extended key usage, the signed attributes carry an ESS
/// signing-certificate-v2 that names that certificate (RFC 5816), and the imprint is SHA-256
/// of exactly the digest given. Uses libcrypto's `TS_RESP_verify_token`; the same checks as
/// `openssl ts -verify -token_in -digest HEX -CAfile ANCHORS`.
///
/// Refuses: other imprint algorithms, tokens without signing-certificate-v2, signers outside
/// the anchors, and anything above `TimeStampLimits.maxDERBytes`.
public struct RFC3161Verifier: Sendable {
    public static let sha256OID = "2.16.840.1.101.3.4.2.1"
    public var anchors: TSATrustAnchors

    public init(anchors: TSATrustAnchors) { self.anchors = anchors }

    /// Verifies a stored token against the digest it claims; returns its summary.
    @discardableResult
    public func verify(tokenDER: [UInt8], for digest: Digest) throws -> TSTInfoSummary {
        let parsed = try TimeStampResponse(tokenDER: tokenDER)
        guard let info = parsed.info else { throw TSAError(.malformed, "RFC 3161: the token has no readable TSTInfo") }
        guard info.imprintAlgorithm == Self.sha256OID else {
            throw TSAError(.verificationFailed, "RFC 3161: the token's imprint uses \(info.imprintAlgorithm), not SHA-256; it does not cover our digest")
        }
        guard info.imprint == digest.bytes else {
            throw TSAError(.verificationFailed, "RFC 3161: the token is for digest \(Hex.encode(info.imprint)), not \(digest.hex) (message imprint mismatch)")
        }
        let p7 = try DER.decodePKCS7(tokenDER)
        defer { PKCS7_free(p7) }
        try Self.requireSigningCertificateV2(p7)
        guard let ctx = TS_VERIFY_CTX_new() else { throw TSAError(.configuration, "out of memory") }
        defer { TS_VERIFY_CTX_free(ctx) }
        TS_VERIFY_CTX_set_flags(ctx, Int32(TS_VFY_VERSION | TS_VFY_SIGNATURE | TS_VFY_IMPRINT))
        guard let buf = CRYPTO_malloc(32, nil, 0)?.assumingMemoryBound(to: UInt8.self) else { throw TSAError(.configuration, "out of memory") }
        digest.store(to: UnsafeMutableRawPointer(buf))
        TS_VERIFY_CTX_set_imprint(ctx, buf, 32)  // the context owns and frees it
        TS_VERIFY_CTX_set_store(ctx, try anchors.makeStore(at: info.genTime))  // and the store
        guard TS_RESP_verify_token(ctx, p7) == 1 else {
            throw TSAError(.verificationFailed, "RFC 3161: token does not verify against \(anchors.origin): \(Self.reason()); check the TSA's trust anchor")
        }
        return info
    }

    /// Verifies a fresh response to `requestDER` (status, nonce, imprint, signature, chain);
    /// returns the token and its summary.
    public func verify(responseDER: [UInt8], requestDER: [UInt8], authority: String) throws -> (token: [UInt8], info: TSTInfoSummary) {
        let parsed = try TimeStampResponse(der: responseDER)
        guard parsed.status == 0 || parsed.status == 1 else {
            let names = [2: "rejection", 3: "waiting", 4: "revocationWarning", 5: "revocationNotification"]
            throw TSAError(.rejected, "RFC 3161: \(authority) refused the request (status \(parsed.status) \(names[parsed.status] ?? "unknown")); check that it accepts SHA-256 imprints and your account")
        }
        guard let token = parsed.tokenDER, let info = parsed.info else {
            throw TSAError(.malformed, "RFC 3161: \(authority) granted the request but sent no token")
        }
        let req: OpaquePointer? = requestDER.withUnsafeBufferPointer { b in var p: UnsafePointer<UInt8>? = b.baseAddress; return d2i_TS_REQ(nil, &p, b.count) }
        guard let req else { throw TSAError(.malformed, "RFC 3161: cannot re-read our own request") }
        defer { TS_REQ_free(req) }
        let resp: OpaquePointer? = responseDER.withUnsafeBufferPointer { b in var p: UnsafePointer<UInt8>? = b.baseAddress; return d2i_TS_RESP(nil, &p, b.count) }
        guard let resp else { throw TSAError(.malformed, "RFC 3161: cannot re-read the response") }
        defer { TS_RESP_free(resp) }
        guard let ctx = TS_REQ_to_TS_VERIFY_CTX(req, nil) else { throw TSAError(.configuration, "out of memory") }
        defer { TS_VERIFY_CTX_free(ctx) }
        TS_VERIFY_CTX_add_flags(ctx, Int32(TS_VFY_SIGNATURE))
        TS_VERIFY_CTX_set_store(ctx, try anchors.makeStore(at: info.genTime))
        guard TS_RESP_verify_response(ctx, resp) == 1 else {
            let why = Self.reason()
            if why.contains("nonce") {
                throw TSAError(.verificationFailed, "RFC 3161: the response from \(authority) does not carry our nonce (\(why)): replayed or for another request")
            }
            throw TSAError(.verificationFailed, "RFC 3161: the response from \(authority) does not verify against \(anchors.origin): \(why)")
        }
        let p7 = try DER.decodePKCS7(token)
        defer { PKCS7_free(p7) }
        try Self.requireSigningCertificateV2(p7)
        return (token, info)
    }

    /// RFC 5816: the signer names its certificate with ESSCertIDv2 (SHA-256), not SHA-1 alone.
    static func requireSigningCertificateV2(_ p7: UnsafeMutablePointer<PKCS7>) throws {
        guard let infos = PKCS7_get_signer_info(p7), OPENSSL_sk_num(infos) == 1,
              let si = OPENSSL_sk_value(infos, 0) else {
            throw TSAError(.verificationFailed, "RFC 3161: a time-stamp token must have exactly one signer")
        }
        guard PKCS7_get_signed_attribute(si.assumingMemoryBound(to: PKCS7_SIGNER_INFO.self), NID_id_smime_aa_signingCertificateV2) != nil else {
            throw TSAError(.verificationFailed, "RFC 3161: the token has no ESS signing-certificate-v2 attribute; configure the TSA to use ESSCertIDv2 (e.g. ess_cert_id_alg = sha256)")
        }
    }

    static func reason() -> String {
        var reasons: [String] = []
        while reasons.count < 8 {
            let e = ERR_get_error()
            if e == 0 { break }
            var buf = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(e, &buf, buf.count)
            let s = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            reasons.append(String(s.split(separator: ":", maxSplits: 4).last ?? Substring(s)))
        }
        ERR_clear_error()
        return reasons.isEmpty ? "unknown reason" : reasons.joined(separator: "; ")
    }
}
