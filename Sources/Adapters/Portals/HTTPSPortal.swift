import EvidenceCore
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One HTTP answer, with the body already bounded by the transport.
public struct PortalHTTPResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: [UInt8]
    public init(status: Int, headers: [String: String], body: [UInt8]) { self.status = status; self.headers = headers; self.body = body }
}

/// Sends one POST. Guarantees expected: never returns a body larger than `maxResponseBytes`
/// (it throws instead), and gives up after `timeout`.
public protocol PortalHTTPTransport: Sendable {
    func post(_ url: URL, headers: [String: String], body: [UInt8], timeout: Duration, maxResponseBytes: Int) async throws -> PortalHTTPResponse
}

/// How often and how patiently to retry a portal that is busy or down.
public struct PortalRetryPolicy: Hashable, Sendable {
    public var attempts: Int
    public var initialDelay: Duration
    public var maxDelay: Duration
    public var timeout: Duration
    public init(attempts: Int = 5, initialDelay: Duration = .milliseconds(500), maxDelay: Duration = .seconds(30), timeout: Duration = .seconds(30)) {
        self.attempts = max(1, attempts); self.initialDelay = initialDelay; self.maxDelay = maxDelay; self.timeout = timeout
    }
    /// Statuses that mean "try again later", not "your report is wrong".
    public static let retryable: Set<Int> = [408, 425, 429, 500, 502, 503, 504]
}

/// Submission by JSON POST to a national portal's API (or a gateway in front of it).
///
/// Request: `POST <url>`, `Content-Type` of the submission, `Idempotency-Key:
/// <tenant>/<incident>/<stage>/<payload sha256>` (the same on every retry, so a portal that
/// honours it files the report once), `X-Payload-SHA256`.
/// Receipt: a 2xx JSON object with `reference` (or `receipt`, `caseNumber`, `id`) and
/// optionally `receivedAt` (RFC 3339); a receipt that echoes `payloadSHA256` must match.
///
/// Guarantees: retries only transport errors and the statuses in `PortalRetryPolicy.retryable`,
/// with exponential backoff (honouring a `Retry-After` in seconds, capped by `maxDelay`);
/// any other 4xx is a refusal (`PortalError.refused`) with the portal's own message, never
/// retried; a 2xx without a usable reference is `badReceipt`, not a success; response bodies
/// are bounded (`maxResponseBytes`). Refuses URLs other than https, except http to 127.0.0.1
/// or localhost (for tests and local gateways).
public struct HTTPSPortal: RegulatorPortal {
    public let url: URL
    public var retry: PortalRetryPolicy
    public var transport: any PortalHTTPTransport
    public var clock: any WallClock
    public var sleep: @Sendable (Duration) async throws -> Void
    public var extraHeaders: [String: String] = [:]
    public static let maxResponseBytes = 64 << 10
    public var name: String { "https:" + url.absoluteString }

    public init(url: URL, retry: PortalRetryPolicy = .init(), transport: any PortalHTTPTransport = URLSessionPortalTransport(),
                clock: any WallClock = SystemWallClock(), sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }) throws {
        let local = url.host == "127.0.0.1" || url.host == "localhost"
        guard url.scheme == "https" || (url.scheme == "http" && local) else {
            throw PortalError(.badAddress, "portal URL \(url.absoluteString) must be https:// (plain http only to 127.0.0.1 or localhost)")
        }
        self.url = url; self.retry = retry; self.transport = transport; self.clock = clock; self.sleep = sleep
    }

    public func submit(_ s: RegulatorSubmission) async throws -> RegulatorReceipt {
        let digest = PortableSHA256().hash(bytes: s.payload)
        var headers = extraHeaders
        headers["Content-Type"] = s.contentType
        headers["Accept"] = "application/json"
        headers["Idempotency-Key"] = "\(s.tenant.rawValue)/\(s.incidentID)/\(s.stage)/\(digest.hex)"
        headers["X-Payload-SHA256"] = digest.hex
        var delay = retry.initialDelay
        var lastProblem = ""
        for attempt in 1...retry.attempts {
            let response: PortalHTTPResponse
            do {
                response = try await transport.post(url, headers: headers, body: s.payload, timeout: retry.timeout, maxResponseBytes: Self.maxResponseBytes)
            } catch let e as PortalError {
                throw e
            } catch {
                lastProblem = "transport error: \(error.localizedDescription)"
                if attempt < retry.attempts { try await sleep(delay); delay = min(delay * 2, retry.maxDelay) }
                continue
            }
            if (200..<300).contains(response.status) { return try receipt(response, digest: digest) }
            let message = Self.message(response.body)
            if PortalRetryPolicy.retryable.contains(response.status) {
                lastProblem = "HTTP \(response.status)" + (message.isEmpty ? "" : ": \(message)")
                if attempt < retry.attempts {
                    var wait = delay
                    if let ra = response.headers.first(where: { $0.key.lowercased() == "retry-after" })?.value, let secs = Int(ra.trimmingCharacters(in: .whitespaces)), secs >= 0 {
                        wait = min(.seconds(secs), retry.maxDelay)
                    }
                    try await sleep(wait)
                    delay = min(delay * 2, retry.maxDelay)
                }
                continue
            }
            throw PortalError(.refused, "\(url.absoluteString) refused the \(s.stage) report of \(s.incidentID) with HTTP \(response.status)"
                              + (message.isEmpty ? "" : ": \(message)") + "; correct the report and submit again (not retried)")
        }
        throw PortalError(.unavailable, "\(url.absoluteString) did not take the \(s.stage) report of \(s.incidentID) after \(retry.attempts) attempts (last: \(lastProblem)); try again later or use the file drop")
    }

    func receipt(_ r: PortalHTTPResponse, digest: Digest) throws -> RegulatorReceipt {
        guard case .object(let o)? = try? JSONParser.parse(r.body, limits: JSONLimits(maxBytes: Self.maxResponseBytes, maxDepth: 8)) else {
            throw PortalError(.badReceipt, "\(url.absoluteString) answered HTTP \(r.status) without a JSON receipt; check with the authority whether the report arrived before resubmitting")
        }
        guard let ref = ["reference", "receipt", "caseNumber", "id"].lazy.compactMap({ o[$0]?.stringValue }).first,
              !ref.isEmpty, ref.utf8.count <= 256, !ref.contains("\n") else {
            throw PortalError(.badReceipt, "\(url.absoluteString) answered HTTP \(r.status) but its receipt has no reference (expected 'reference', 'receipt', 'caseNumber' or 'id', 1-256 characters)")
        }
        if let echoed = o["payloadSHA256"]?.stringValue, echoed.lowercased() != digest.hex {
            throw PortalError(.badReceipt, "\(url.absoluteString) acknowledged payload \(echoed.prefix(64)), but we sent \(digest.hex): the portal received something else")
        }
        let at = o["receivedAt"]?.stringValue.flatMap { try? Timestamp.parse($0) } ?? clock.now()
        return RegulatorReceipt(portal: name, reference: ref, receivedAt: at, payloadSHA256: digest)
    }

    /// The portal's error text, shortened and on one line.
    static func message(_ body: [UInt8]) -> String {
        if case .object(let o)? = try? JSONParser.parse(body, limits: JSONLimits(maxBytes: maxResponseBytes, maxDepth: 8)),
           let m = ["message", "error", "detail"].lazy.compactMap({ o[$0]?.stringValue }).first {
            return String(m.prefix(300)).replacingOccurrences(of: "\n", with: " ")
        }
        return String(decoding: body.prefix(300), as: UTF8.self).replacingOccurrences(of: "\n", with: " ").trimmingCharacters(in: .whitespaces)
    }
}
