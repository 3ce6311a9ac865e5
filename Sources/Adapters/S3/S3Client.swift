import EvidenceCore
import EvidenceOpenSSL
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A signed S3 request sender for one bucket: SigV4 with the body's SHA-256, path-style or
/// virtual-hosted URLs, retries with backoff and jitter, S3 error documents turned into
/// `EvidenceError`s that say what to do.
///
/// Guarantees: never sends `x-amz-bypass-governance-retention` (refused with `.unsupported`);
/// every request carries the SHA-256 of its exact body; only 5xx, 408/429, SlowDown,
/// RequestTimeout and network errors are retried, at most `retry.maxAttempts` times.
/// This is the layer tests use to send raw requests (for example a DELETE that the store
/// itself never sends).
public struct S3Client: Sendable {
    public let configuration: S3Configuration
    let transport: any S3HTTPTransport
    let clock: any WallClock
    private let signer: SigV4Signer

    public init(configuration: S3Configuration, transport: any S3HTTPTransport = URLSessionS3Transport(),
                clock: any WallClock = SystemWallClock()) {
        self.configuration = configuration
        self.transport = transport
        self.clock = clock
        self.signer = SigV4Signer(credentials: configuration.credentials, region: configuration.region)
    }

    /// Sends one signed request and returns the response whatever its status (after retries of
    /// retryable failures). `objectKey` is the full key in the bucket (prefix included), or nil
    /// for a bucket-level request.
    public func send(method: String, objectKey: String?, query: [(String, String)] = [],
                     headers: [String: String] = [:], body: [UInt8] = [],
                     payloadSHA256: Digest? = nil) async throws -> S3HTTPResponse {
        try await send(method: method, objectKey: objectKey, query: query, headers: headers, bodyData: Data(body), payloadSHA256: payloadSHA256)
    }

    /// As `send(method:objectKey:query:headers:body:payloadSHA256:)`, for a body already in `Data`.
    public func send(method: String, objectKey: String?, query: [(String, String)] = [],
                     headers: [String: String] = [:], bodyData body: Data,
                     payloadSHA256: Digest? = nil) async throws -> S3HTTPResponse {
        try await send(method: method, objectKey: objectKey, query: query, headers: headers, httpBody: .bytes(body), payloadSHA256: payloadSHA256)
    }

    /// As `send(method:objectKey:query:headers:body:payloadSHA256:)`, for in-memory bytes or a
    /// region of a file. A file region is hashed from the file when `payloadSHA256` is nil, and
    /// every attempt (a retry after a 5xx too) sends the same region again.
    public func send(method: String, objectKey: String?, query: [(String, String)] = [],
                     headers: [String: String] = [:], httpBody body: S3HTTPBody,
                     payloadSHA256: Digest? = nil) async throws -> S3HTTPResponse {
        var lowered: [String: String] = [:]
        for (k, v) in headers { lowered[k.lowercased()] = v }
        guard lowered["x-amz-bypass-governance-retention"] == nil else {
            throw EvidenceError(.unsupported, "this library never sends x-amz-bypass-governance-retention: retention is never bypassed")
        }
        let payloadHex: String
        switch (payloadSHA256, body) {
        case (let given?, _): payloadHex = given.hex
        case (nil, .bytes(let d)): payloadHex = OpenSSLSHA256().hash(bytes: d).hex
        case (nil, .fileRegion(let r)): payloadHex = try r.file.sha256(offset: r.offset, length: UInt64(r.length)).hex
        }
        let (url, host, path) = try location(objectKey: objectKey, query: query)
        var attempt = 0
        while true {
            var signed = lowered
            signer.sign(method: method, host: host, path: path, query: query, headers: &signed,
                        payloadSHA256: payloadHex, date: clock.now())
            let request = S3HTTPRequest(method: method, url: url, headers: signed, body: body)
            let outcome: Result<S3HTTPResponse, any Error>
            do { outcome = .success(try await transport.send(request, timeout: configuration.requestTimeout)) } catch { outcome = .failure(error) }
            attempt += 1
            let retryable: Bool
            switch outcome {
            case .success(let r): retryable = Self.isRetryable(r)
            case .failure(let e):
                // Every transport's network failure (S3NetworkError, URLError, ...) is retried;
                // an EvidenceError (a truncated file, a malformed answer) and cancellation are final.
                retryable = !(e is EvidenceError) && !(e is CancellationError) && (e as? URLError)?.code != .cancelled && !Task.isCancelled
            }
            if !retryable || attempt >= configuration.retry.maxAttempts {
                switch outcome {
                case .success(let r): return r
                case .failure(let e):
                    if let e = e as? EvidenceError { throw e }
                    if e is CancellationError { throw e }
                    let why = (e as? S3NetworkError)?.message ?? (e as? URLError).map { "\($0.localizedDescription) (URLError \($0.code.rawValue))" } ?? String(describing: e)
                    throw EvidenceError(.io, "S3 \(method) \(objectKey ?? configuration.bucket) at \(configuration.endpoint.absoluteString) failed after \(attempt) attempt\(attempt == 1 ? "" : "s") (network errors are retried with backoff up to retry.maxAttempts = \(configuration.retry.maxAttempts)); the last: \(why); check that the S3 service is up and reachable")
                }
            }
            let delay = configuration.retry.delay(afterAttempt: attempt - 1)
            try await Task.sleep(nanoseconds: UInt64(delay * 1e9))
        }
    }

    /// Sends and requires a 2xx status; otherwise throws the mapped S3 error.
    @discardableResult
    public func expectSuccess(method: String, objectKey: String?, query: [(String, String)] = [],
                              headers: [String: String] = [:], body: [UInt8] = [], payloadSHA256: Digest? = nil,
                              what: String) async throws -> S3HTTPResponse {
        try await expectSuccess(method: method, objectKey: objectKey, query: query, headers: headers, bodyData: Data(body),
                                payloadSHA256: payloadSHA256, what: what)
    }

    /// As `expectSuccess(method:objectKey:query:headers:body:payloadSHA256:what:)`, for a body in `Data`.
    @discardableResult
    public func expectSuccess(method: String, objectKey: String?, query: [(String, String)] = [],
                              headers: [String: String] = [:], bodyData: Data, payloadSHA256: Digest? = nil,
                              what: String) async throws -> S3HTTPResponse {
        try await expectSuccess(method: method, objectKey: objectKey, query: query, headers: headers, httpBody: .bytes(bodyData),
                                payloadSHA256: payloadSHA256, what: what)
    }

    /// As `expectSuccess(method:objectKey:query:headers:body:payloadSHA256:what:)`, for bytes or a file region.
    @discardableResult
    public func expectSuccess(method: String, objectKey: String?, query: [(String, String)] = [],
                              headers: [String: String] = [:], httpBody: S3HTTPBody, payloadSHA256: Digest? = nil,
                              what: String) async throws -> S3HTTPResponse {
        let r = try await send(method: method, objectKey: objectKey, query: query, headers: headers, httpBody: httpBody, payloadSHA256: payloadSHA256)
        guard (200..<300).contains(r.status) else { throw S3ErrorDocument.error(from: r, what: what, configuration: configuration) }
        return r
    }

    static func isRetryable(_ r: S3HTTPResponse) -> Bool {
        if r.status >= 500 || r.status == 408 || r.status == 429 { return true }
        if r.status == 400 || r.status == 503 {
            let code = S3ErrorDocument.code(r.body)
            return code == "SlowDown" || code == "RequestTimeout" || code == "Throttling"
        }
        return false
    }

    /// (URL, host header, canonical path) for a key or the bucket.
    func location(objectKey: String?, query: [(String, String)]) throws -> (URL, String, String) {
        let ep = configuration.endpoint
        guard let endpointHost = ep.host else { throw EvidenceError(.malformedInput, "S3 endpoint has no host") }
        let portSuffix = ep.port.map { ":\($0)" } ?? ""
        let basePath = ep.path.hasSuffix("/") ? String(ep.path.dropLast()) : ep.path
        let encodedKey = objectKey.map { "/" + SigV4Signer.uriEncode($0, keepSlash: true) } ?? ""
        let host: String, path: String
        switch configuration.addressing {
        case .pathStyle:
            host = endpointHost + portSuffix
            path = basePath + "/" + configuration.bucket + (objectKey == nil ? "" : encodedKey)
        case .virtualHosted:
            host = configuration.bucket + "." + endpointHost + portSuffix
            path = basePath + (objectKey == nil ? "/" : encodedKey)
        }
        let q = SigV4Signer.canonicalQuery(query)
        let scheme = ep.scheme ?? "https"
        guard let url = URL(string: "\(scheme)://\(host)\(path)\(q.isEmpty ? "" : "?" + q)") else {
            throw EvidenceError(.malformedInput, "cannot build an S3 URL for key '\(objectKey ?? "")'")
        }
        return (url, host, path)
    }
}

/// Turns an S3 error answer into the `EvidenceError` the store throws (public so a caller
/// with its own transport can report errors the same way).
public enum S3ErrorMapping {
    public static func error(status: Int, body: [UInt8], what: String, configuration: S3Configuration) -> EvidenceError {
        S3ErrorDocument.error(from: S3HTTPResponse(status: status, headers: [:], body: body), what: what, configuration: configuration)
    }
}

/// S3 error documents (`<Error><Code>...</Code><Message>...</Message></Error>`), mapped to
/// `EvidenceError` codes with a message that says what to do.
enum S3ErrorDocument {
    static func code(_ body: [UInt8]) -> String? {
        guard !body.isEmpty, let root = try? S3XML.parse(body, maxBytes: 64 << 10, maxElements: 100, what: "error") else { return nil }
        return root.value("Code")
    }

    static func error(from r: S3HTTPResponse, what: String, configuration c: S3Configuration) -> EvidenceError {
        let root = r.body.isEmpty ? nil : try? S3XML.parse(r.body, maxBytes: 64 << 10, maxElements: 100, what: "error")
        let code = root?.value("Code") ?? "HTTP \(r.status)"
        let message = root?.value("Message").map { ": \($0.prefix(300))" } ?? ""
        let at = "bucket '\(c.bucket)' at \(c.endpoint.absoluteString)"
        switch code {
        case "NoSuchBucket":
            return EvidenceError(.notFound, "\(what): bucket '\(c.bucket)' does not exist at \(c.endpoint.absoluteString); create it with Object Lock enabled, or fix the bucket name")
        case "InvalidAccessKeyId":
            return EvidenceError(.accessDenied, "\(what): the access key \(c.credentials.accessKeyID.prefix(4))… is not known to \(c.endpoint.absoluteString); check the configured credentials")
        case "SignatureDoesNotMatch":
            return EvidenceError(.accessDenied, "\(what): \(at) rejected the request signature; the secret access key is wrong (or a proxy altered the request)")
        case "AuthorizationHeaderMalformed", "PermanentRedirect", "IllegalLocationConstraintException":
            let expected = root?.value("Region").map { " (the bucket is in \($0))" } ?? ""
            return EvidenceError(.accessDenied, "\(what): \(at) refused region '\(c.region)'\(expected); configure the bucket's region\(message)")
        case "RequestTimeTooSkewed":
            return EvidenceError(.accessDenied, "\(what): the local clock differs from the S3 server's by more than 15 minutes; fix the clock (NTS)\(message)")
        case "AccessDenied", "ExpiredToken", "InvalidToken":
            return EvidenceError(.accessDenied, "\(what): \(at) denied access (\(code))\(message); check the credentials' permissions and session token")
        case "NoSuchKey", "NoSuchVersion", "NoSuchUpload":
            return EvidenceError(.notFound, "\(what): not found in \(at) (\(code))")
        case "BadDigest", "XAmzContentSHA256Mismatch", "InvalidDigest":
            return EvidenceError(.verificationFailed, "\(what): \(at) says the body did not match its checksum (\(code)); the bytes were altered in transit, retry")
        case "PreconditionFailed":
            return EvidenceError(.immutable, "\(what): an object already exists under this key in \(at); write-once keys are never overwritten")
        case "InvalidRequest", "InvalidArgument", "InvalidBucketState":
            return EvidenceError(.malformedInput, "\(what): \(at) refused the request (\(code))\(message)")
        default:
            return EvidenceError(r.status == 403 ? .accessDenied : r.status == 404 ? .notFound : .io,
                                 "\(what): \(at) answered HTTP \(r.status) (\(code))\(message)")
        }
    }
}
