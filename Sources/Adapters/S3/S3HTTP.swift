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
    /// In-memory bytes, or a region of an open file (a multipart part), which a transport
    /// may send straight from the file without holding it in memory.
    public var body: S3HTTPBody

    public init(method: String, url: URL, headers: [String: String], body: S3HTTPBody) {
        self.method = method; self.url = url; self.headers = headers; self.body = body
    }

    public init(method: String, url: URL, headers: [String: String], body: Data) {
        self.init(method: method, url: url, headers: headers, body: .bytes(body))
    }
}

/// A request body: bytes in memory, or `length` bytes of an open file from `offset`.
public enum S3HTTPBody: Sendable {
    case bytes(Data)
    case fileRegion(S3FileRegion)

    /// The body's length in bytes (the Content-Length).
    public var count: Int {
        switch self {
        case .bytes(let d): d.count
        case .fileRegion(let r): r.length
        }
    }

    /// The whole body in memory: the bytes, or the file region read with `pread`. For a
    /// transport that cannot stream from a file; memory is then the region's length.
    /// Throws when the file no longer holds the region (truncated since the upload began).
    public func data() throws -> Data {
        switch self {
        case .bytes(let d): d
        case .fileRegion(let r): try r.file.readData(offset: r.offset, count: r.length)
        }
    }
}

/// `length` bytes of `file` from `offset`. The region holds the file open (the descriptor is
/// closed when the last `S3SourceFile` reference goes), so a retried request sends the same
/// bytes of the same file again.
public struct S3FileRegion: Sendable {
    public let file: S3SourceFile
    public let offset: UInt64
    public let length: Int

    /// Refuses a region that does not lie inside the file as it was when opened.
    public init(file: S3SourceFile, offset: UInt64, length: Int) throws {
        guard length >= 0, offset <= file.size, UInt64(length) <= file.size - offset else {
            throw EvidenceError(.malformedInput, "region of \(length) bytes at offset \(offset) lies outside '\(file.path)' (\(file.size) bytes)")
        }
        self.file = file; self.offset = offset; self.length = length
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

/// A network failure while sending a request or reading its answer: connection refused or
/// reset, a timeout, the peer closing before or in the middle of its answer. The request may
/// or may not have reached the server; `S3Client` sends it again with backoff and jitter (the
/// store's writes are idempotent: a part is the same bytes under the same number, a put is
/// `If-None-Match: *` and compared when it finds its own object).
public struct S3NetworkError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The transport seam: sends one request, returns the response (any status), or throws for a
/// network failure (which the client retries: an `S3NetworkError`, a `URLError`, any error that
/// is not an `EvidenceError`; an `EvidenceError` such as a truncated file or a malformed answer
/// is final). Injected so a deployment can add TLS pinning or a proxy.
public protocol S3HTTPTransport: Sendable {
    func send(_ request: S3HTTPRequest, timeout: TimeInterval) async throws -> S3HTTPResponse
}

/// FoundationNetworking `URLSession` transport: no cache, no cookies, no redirects followed
/// (a redirect from S3 means a wrong region or endpoint and is reported as such).
///
/// A file-region body (a multipart part) is read into memory before it is handed to
/// URLSession, which takes request bodies as `Data`: with this transport an upload holds
/// about `multipartPartSize` x `multipartConcurrency` bytes of parts (`LoopbackHTTPTransport`
/// sends parts straight from the file instead).
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
        if request.body.count > 0 || request.method == "PUT" || request.method == "POST" {
            let body = try request.body.data()
            r.httpBody = body
            r.setValue(String(body.count), forHTTPHeaderField: "content-length")
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
