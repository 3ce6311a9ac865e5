import EvidenceCore
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One HTTP exchange with the provider. Header names are lower-case.
public struct OIDCHTTPResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: [UInt8]
    public init(status: Int, headers: [String: String], body: [UInt8]) { self.status = status; self.headers = headers; self.body = body }
}

/// The transport seam: a GET or a form POST, any status returned, redirects never followed.
public protocol OIDCTransport: Sendable {
    func get(_ url: URL, headers: [String: String]) async throws -> OIDCHTTPResponse
    func postForm(_ url: URL, fields: [(String, String)], headers: [String: String]) async throws -> OIDCHTTPResponse
}

/// FoundationNetworking `URLSession`: no cookies, no cache, no redirects, bounded bodies,
/// a per-request timeout.
public final class URLSessionOIDCTransport: OIDCTransport {
    private final class NoRedirects: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
        // @unchecked: no stored state at all.
        func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                        newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) { completionHandler(nil) }
    }
    private let session: URLSession
    public let maxResponseBytes: Int
    public let timeout: TimeInterval

    public init(maxResponseBytes: Int = 1 << 20, timeout: TimeInterval = 10) {
        let c = URLSessionConfiguration.ephemeral
        c.urlCache = nil; c.httpCookieStorage = nil; c.httpShouldSetCookies = false
        c.requestCachePolicy = .reloadIgnoringLocalCacheData
        session = URLSession(configuration: c, delegate: NoRedirects(), delegateQueue: nil)
        self.maxResponseBytes = maxResponseBytes; self.timeout = timeout
    }

    deinit { session.finishTasksAndInvalidate() }

    public func get(_ url: URL, headers: [String: String]) async throws -> OIDCHTTPResponse {
        var r = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        for (k, v) in headers { r.setValue(v, forHTTPHeaderField: k) }
        return try await send(r)
    }

    public func postForm(_ url: URL, fields: [(String, String)], headers: [String: String]) async throws -> OIDCHTTPResponse {
        var r = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        r.httpMethod = "POST"
        r.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "content-type")
        for (k, v) in headers { r.setValue(v, forHTTPHeaderField: k) }
        r.httpBody = Data(FormEncoding.encode(fields).utf8)
        return try await send(r)
    }

    private func send(_ r: URLRequest) async throws -> OIDCHTTPResponse {
        let data: Data, response: URLResponse
        do { (data, response) = try await session.data(for: r) } catch {
            throw OIDCError(.transport, "\(r.httpMethod ?? "GET") \(r.url?.absoluteString ?? "") failed: \(error.localizedDescription)")
        }
        guard let http = response as? HTTPURLResponse else { throw OIDCError(.transport, "not an HTTP response from \(r.url?.absoluteString ?? "")") }
        guard data.count <= maxResponseBytes else { throw OIDCError(.providerError, "response of \(data.count) bytes exceeds the \(maxResponseBytes)-byte bound") }
        var headers: [String: String] = [:]
        for (k, v) in http.allHeaderFields { if let k = k as? String, let v = v as? String { headers[k.lowercased()] = v } }
        return OIDCHTTPResponse(status: http.statusCode, headers: headers, body: [UInt8](data))
    }
}

/// `application/x-www-form-urlencoded` as HTML forms and OAuth token requests use it.
public enum FormEncoding {
    static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
    public static func escape(_ s: String) -> String { s.addingPercentEncoding(withAllowedCharacters: unreserved) ?? "" }
    public static func encode(_ fields: [(String, String)]) -> String { fields.map { escape($0.0) + "=" + escape($0.1) }.joined(separator: "&") }
}

/// The provider's JWKS behind its `jwks_uri`, cached. A token with an unknown `kid` triggers one
/// refetch, at most once per `minRefetchInterval`, so a stream of forged kids cannot turn
/// the relying party into a load generator against the provider.
public actor CachedKeySource: JSONWebKeySource {
    public let jwksURI: URL
    private let transport: any OIDCTransport
    private let clock: any WallClock
    public let minRefetchInterval: TimeInterval
    private var current: JSONWebKeySet?
    private var fetchedAt: Date?
    /// When an unknown kid last caused a refetch: at most one such refetch per interval.
    private var lastKidRefetch: Date?
    /// How many times the key set was fetched (for operators and tests).
    public private(set) var fetchCount = 0

    public init(jwksURI: URL, transport: any OIDCTransport, clock: any WallClock, minRefetchInterval: TimeInterval = 60) {
        self.jwksURI = jwksURI; self.transport = transport; self.clock = clock; self.minRefetchInterval = minRefetchInterval
    }

    public func candidates(kid: String?, alg: JWSAlgorithm) async throws -> [JSONWebKey] {
        if current == nil { try await refresh() }
        let found = current?.candidates(kid: kid, alg: alg) ?? []
        guard found.isEmpty, kid != nil else { return found }
        if let at = lastKidRefetch, clock.now().timeIntervalSince(at) < minRefetchInterval { return [] }
        lastKidRefetch = clock.now()
        try await refresh()
        return current?.candidates(kid: kid, alg: alg) ?? []
    }

    public func refresh() async throws {
        let r = try await transport.get(jwksURI, headers: ["accept": "application/json"])
        guard r.status == 200 else { throw OIDCError(.providerError, "JWKS \(jwksURI) answered HTTP \(r.status)") }
        current = try JSONWebKeySet(json: r.body)
        fetchedAt = clock.now()
        fetchCount += 1
    }
}
