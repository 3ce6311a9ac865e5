import EvidenceCore
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One HTTP request as the S3 client sends it. Header names are lower-case.
public struct S3HTTPRequest: Sendable {
    public var method: String
    public var url: URL
    public var headers: [String: String]
    /// `Data`, so a multipart part read from disk reaches the HTTP layer without a copy.
    public var body: Data

    public init(method: String, url: URL, headers: [String: String], body: Data) {
        self.method = method; self.url = url; self.headers = headers; self.body = body
    }
}

/// One HTTP answer: status, lower-case header names, the whole body.
public struct S3HTTPResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: [UInt8]

    public init(status: Int, headers: [String: String], body: [UInt8]) {
        self.status = status; self.headers = headers; self.body = body
    }

    public func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// The transport seam: sends one request, returns the response (any status), or throws for a
/// network failure (which the client retries). Injected so a deployment can add TLS pinning
/// or a proxy.
public protocol S3HTTPTransport: Sendable {
    func send(_ request: S3HTTPRequest, timeout: TimeInterval) async throws -> S3HTTPResponse
}

/// FoundationNetworking `URLSession` transport: no cache, no cookies, no redirects followed
/// (a redirect from S3 means a wrong region or endpoint and is reported as such).
public final class URLSessionS3Transport: S3HTTPTransport {
    private let session: URLSession
    /// Bounded response: a body above this size is refused (GETs of evidence objects are
    /// bounded by the caller's `maxObjectSize`).
    public let maxResponseBytes: Int

    public init(maxConnections: Int = 8, maxResponseBytes: Int = 1 << 30) {
        let c = URLSessionConfiguration.ephemeral
        c.urlCache = nil
        c.httpCookieStorage = nil
        c.httpShouldSetCookies = false
        c.requestCachePolicy = .reloadIgnoringLocalCacheData
        c.httpMaximumConnectionsPerHost = maxConnections
        session = URLSession(configuration: c)
        self.maxResponseBytes = maxResponseBytes
    }

    deinit { session.finishTasksAndInvalidate() }

    public func send(_ request: S3HTTPRequest, timeout: TimeInterval) async throws -> S3HTTPResponse {
        var r = URLRequest(url: request.url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        r.httpMethod = request.method
        for (k, v) in request.headers where k != "host" { r.setValue(v, forHTTPHeaderField: k) }
        if !request.body.isEmpty || request.method == "PUT" || request.method == "POST" {
            r.httpBody = request.body
            r.setValue(String(request.body.count), forHTTPHeaderField: "content-length")
            // libcurl would otherwise send `Expect: 100-continue` on large bodies and wait a round
            // trip (up to a second) before sending the part.
            r.setValue("", forHTTPHeaderField: "expect")
        }
        let (data, response) = try await session.data(for: r)
        guard let http = response as? HTTPURLResponse else {
            throw URLError(.badServerResponse)
        }
        guard data.count <= maxResponseBytes else {
            throw EvidenceError(.malformedInput, "S3 response body of \(data.count) bytes exceeds the \(maxResponseBytes)-byte bound")
        }
        var headers: [String: String] = [:]
        for (k, v) in http.allHeaderFields {
            if let k = k as? String, let v = v as? String { headers[k.lowercased()] = v }
        }
        return S3HTTPResponse(status: http.statusCode, headers: headers, body: [UInt8](data))
    }
}
