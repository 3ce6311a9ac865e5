import COpenSSL
import EvidenceCore
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Carries a DER time-stamp query to a TSA and returns its DER reply. Supplied by the
/// caller so deployments can add authentication, proxies or a different HTTP stack.
public protocol TimeStampTransport: Sendable {
    func post(query: [UInt8], to url: URL) async throws -> [UInt8]
}

/// RFC 3161 §3.4 over HTTP(S) with `URLSession`: POST `application/timestamp-query`,
/// expect 200 `application/timestamp-reply`.
///
/// Refuses: other status codes, other content types, bodies above `TimeStampLimits.maxDERBytes`.
public struct URLSessionTimeStampTransport: TimeStampTransport {
    public var timeoutSeconds: Double
    /// Extra headers, e.g. `Authorization` for a commercial or qualified TSP account.
    public var headers: [String: String]

    public init(timeoutSeconds: Double = 15, headers: [String: String] = [:]) {
        self.timeoutSeconds = timeoutSeconds; self.headers = headers
    }

    public func post(query: [UInt8], to url: URL) async throws -> [UInt8] {
        var request = URLRequest(url: url, timeoutInterval: timeoutSeconds)
        request.httpMethod = "POST"
        request.setValue("application/timestamp-query", forHTTPHeaderField: "Content-Type")
        request.setValue("application/timestamp-reply", forHTTPHeaderField: "Accept")
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        request.httpBody = Data(query)
        let session = URLSession(configuration: .ephemeral)
        defer { session.finishTasksAndInvalidate() }
        let data: Data, response: URLResponse
        do {
            (data, response) = try await session.data(for: request)
        } catch {
            throw TSAError(.transport, "RFC 3161: no answer from \(url.absoluteString): \(error.localizedDescription); check the URL and network")
        }
        guard let http = response as? HTTPURLResponse else { throw TSAError(.transport, "RFC 3161: \(url.absoluteString) is not an HTTP endpoint") }
        guard http.statusCode == 200 else {
            throw TSAError(.transport, "RFC 3161: \(url.absoluteString) answered HTTP \(http.statusCode); check the TSA URL and credentials")
        }
        let type = http.value(forHTTPHeaderField: "Content-Type") ?? ""
        guard type.lowercased().hasPrefix("application/timestamp-reply") else {
            throw TSAError(.transport, "RFC 3161: \(url.absoluteString) answered with content type '\(type)', not application/timestamp-reply")
        }
        guard data.count <= TimeStampLimits.maxDERBytes else {
            throw TSAError(.transport, "RFC 3161: reply of \(data.count) bytes from \(url.absoluteString) exceeds \(TimeStampLimits.maxDERBytes) bytes")
        }
        return [UInt8](data)
    }
}

/// An RFC 3161 time-stamping authority reached over HTTP(S): a `TimestampAuthority`.
///
/// Guarantees: `timestamp` sends a version-1 request with a SHA-256 imprint, a fresh 64-bit
/// random nonce and certReq = true, and returns a token only after `RFC3161Verifier` has
/// checked status, nonce, imprint, signature, the signer chain to `anchors` and ESS
/// signing-certificate-v2. The token is the bare DER ContentInfo, verifiable later with
/// `openssl ts -verify -token_in`. `verify` re-checks a stored token offline.
///
/// Refuses: anything the verifier refuses; a response with the wrong nonce is treated as
/// replayed and rejected.
public struct RFC3161TimestampAuthority: TimestampAuthority {
    public var url: URL
    public var anchors: TSATrustAnchors
    public var transport: any TimeStampTransport

    public init(url: URL, anchors: TSATrustAnchors, transport: any TimeStampTransport = URLSessionTimeStampTransport()) {
        self.url = url; self.anchors = anchors; self.transport = transport
    }

    public func timestamp(_ digest: Digest) async throws -> TimestampToken {
        let request = try Self.makeRequest(digest: digest)
        let reply = try await transport.post(query: request.der, to: url)
        let (token, info) = try RFC3161Verifier(anchors: anchors).verify(responseDER: reply, requestDER: request.der, authority: url.absoluteString)
        return TimestampToken(format: "rfc3161", token: token, imprint: digest, genTime: info.genTime,
                              authority: info.tsaName ?? url.host ?? url.absoluteString)
    }

    public func verify(_ token: TimestampToken, for digest: Digest) throws {
        guard token.format == "rfc3161" else {
            throw TSAError(.verificationFailed, "RFC 3161: token format '\(token.format)' is not rfc3161")
        }
        guard token.imprint == digest else {
            throw TSAError(.verificationFailed, "RFC 3161: the token record claims digest \(token.imprint.hex), not \(digest.hex)")
        }
        let info = try RFC3161Verifier(anchors: anchors).verify(tokenDER: token.token, for: digest)
        guard abs(info.genTime.timeIntervalSince(token.genTime)) < 0.001 else {
            throw TSAError(.verificationFailed, "RFC 3161: the token says genTime \(Timestamp.format(info.genTime)), the record says \(Timestamp.format(token.genTime))")
        }
    }

    /// A DER `TimeStampReq` for `digest` and the nonce it carries.
    public static func makeRequest(digest: Digest, nonce: [UInt8]? = nil) throws -> (der: [UInt8], nonce: [UInt8]) {
        var n = nonce ?? [UInt8](repeating: 0, count: 8)
        if nonce == nil { guard RAND_bytes(&n, 8) == 1 else { throw TSAError(.configuration, "RFC 3161: the random source failed") } }
        n[0] &= 0x7f  // keep the INTEGER positive without a leading zero byte
        if n[0] == 0 { n[0] = 1 }
        guard let req = TS_REQ_new(), let imprint = TS_MSG_IMPRINT_new(), let algo = X509_ALGOR_new(),
              let bn = BN_bin2bn(n, Int32(n.count), nil) else { throw TSAError(.configuration, "out of memory") }
        defer { TS_REQ_free(req); TS_MSG_IMPRINT_free(imprint); X509_ALGOR_free(algo); BN_free(bn) }
        X509_ALGOR_set0(algo, OBJ_nid2obj(NID_sha256), V_ASN1_NULL, nil)
        var bytes = digest.bytes
        guard let asnNonce = BN_to_ASN1_INTEGER(bn, nil) else { throw TSAError(.configuration, "out of memory") }
        defer { ASN1_INTEGER_free(asnNonce) }
        guard TS_REQ_set_version(req, 1) == 1, TS_MSG_IMPRINT_set_algo(imprint, algo) == 1,
              TS_MSG_IMPRINT_set_msg(imprint, &bytes, Int32(bytes.count)) == 1,
              TS_REQ_set_msg_imprint(req, imprint) == 1, TS_REQ_set_nonce(req, asnNonce) == 1,
              TS_REQ_set_cert_req(req, 1) == 1 else { throw TSAError(.configuration, "RFC 3161: cannot build the request") }
        let len = i2d_TS_REQ(req, nil)
        guard len > 0 else { throw TSAError(.configuration, "RFC 3161: cannot encode the request") }
        var der = [UInt8](repeating: 0, count: Int(len))
        der.withUnsafeMutableBufferPointer { b in var p = b.baseAddress; _ = i2d_TS_REQ(req, &p) }
        return (der, n)
    }
}
