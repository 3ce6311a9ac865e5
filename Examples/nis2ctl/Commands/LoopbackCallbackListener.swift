import EvidenceOIDC
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A one-shot HTTP/1.1 listener on 127.0.0.1 that receives the identity provider's redirect
/// back to `nis2ctl login oidc` (RFC 8252 loopback redirect).
///
/// Guarantees: binds 127.0.0.1 only (never a wildcard address); reads at most
/// `maxRequestBytes` of request line and headers per connection, with a per-connection read
/// timeout, and never reads a body; answers anything but `GET /callback` with a short error
/// page and keeps waiting; waits no longer than the caller's deadline. Every failure is an
/// `OIDCError` with code `.transport`.
final class LoopbackCallbackListener: Sendable {
    /// Upper bound on request line plus headers; a longer request is answered 431 and dropped.
    static let maxRequestBytes = 16 << 10
    /// How long one connection may take to send its request line and headers.
    static let perConnectionTimeout: TimeInterval = 5
    static let callbackPath = "/callback"

    let port: UInt16
    private let fd: Int32

    /// The redirect URI the provider must have registered for this client.
    var redirectURI: String { "http://127.0.0.1:\(port)\(Self.callbackPath)" }

    /// Binds and listens on 127.0.0.1:`port`.
    init(port: UInt16) throws {
        self.port = port
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw OIDCError(.transport, "cannot create a socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET); a.sin_port = port.bigEndian; a.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(fd, 8) == 0 else {
            let reason = String(cString: strerror(errno))
            Glibc.close(fd)
            throw OIDCError(.transport, "cannot listen on 127.0.0.1:\(port) (\(reason)); is another login or program using it? Free the port or pick another with --port (and register its redirect URI at the provider)")
        }
    }

    /// Stops listening.
    func close() { Glibc.close(fd) }

    /// Waits until `deadline` for `GET /callback`. Returns the open connection (to answer with
    /// `respond`) and the raw query string. Other requests are answered with an error page.
    func waitForCallback(until deadline: Date) throws -> (connection: Int32, query: String) {
        while true {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else {
                throw OIDCError(.transport, "no callback arrived on \(redirectURI) before the timeout; finish the login in the browser sooner or raise --timeout")
            }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let n = poll(&p, 1, Int32(min(remaining * 1000, 60_000).rounded(.up)))
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw OIDCError(.transport, "waiting for the callback failed: \(String(cString: strerror(errno)))") }
            if n == 0 { continue }
            let c = accept(fd, nil, nil)
            guard c >= 0 else { continue }
            _ = fcntl(c, F_SETFD, FD_CLOEXEC)
            var tv = timeval(tv_sec: Int(Self.perConnectionTimeout), tv_usec: 0)
            setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            switch Self.readRequestHead(c) {
            case .failure(let status):
                respond(c, status: status.code, title: "Bad request", message: "This address only receives the login callback of nis2ctl.")
            case .success(let (method, target)):
                let path = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
                if path[0] != Self.callbackPath {
                    respond(c, status: 404, title: "Not found", message: "This address only receives the login callback of nis2ctl.")
                } else if method != "GET" {
                    respond(c, status: 405, title: "Method not allowed", message: "The login callback is a GET request.")
                } else {
                    return (c, path.count == 2 ? String(path[1]) : "")
                }
            }
        }
    }

    /// Reads the request line and headers (bounded) and returns the method and target, or the
    /// HTTP status to refuse the request with.
    static func readRequestHead(_ c: Int32) -> Result<(String, String), RefusalStatus> {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 2048)
        let end: [UInt8] = Array("\r\n\r\n".utf8)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(c, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return .failure(RefusalStatus(408)) }
            buffer.append(contentsOf: chunk[0..<n])
            let searchFrom = max(0, buffer.count - n - 3)
            if buffer.count >= 4, (searchFrom...(buffer.count - 4)).contains(where: { Array(buffer[$0..<($0 + 4)]) == end }) { break }
            guard buffer.count <= maxRequestBytes else { return .failure(RefusalStatus(431)) }
        }
        guard let lineEnd = buffer.firstIndex(of: UInt8(ascii: "\r")), lineEnd <= maxRequestBytes else { return .failure(RefusalStatus(431)) }
        let parts = String(decoding: buffer[..<lineEnd], as: UTF8.self).split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[2] == "HTTP/1.1" || parts[2] == "HTTP/1.0", parts[1].hasPrefix("/") else { return .failure(RefusalStatus(400)) }
        return .success((String(parts[0]), String(parts[1])))
    }

    /// An HTTP status to refuse a request with.
    struct RefusalStatus: Error { let code: Int; init(_ c: Int) { code = c } }

    /// Answers a short HTML page and closes the connection. The page is never cached and never
    /// sends a Referer (the callback URL carries the authorization code).
    func respond(_ c: Int32, status: Int, title: String, message: String) {
        let reasons = [200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 408: "Request Timeout", 431: "Request Header Fields Too Large"]
        let body = """
        <!doctype html><html><head><meta charset="utf-8"><title>nis2ctl: \(Self.escapeHTML(title))</title></head>\
        <body><h1>\(Self.escapeHTML(title))</h1><p>\(Self.escapeHTML(message))</p></body></html>
        """
        var head = "HTTP/1.1 \(status) \(reasons[status] ?? "Error")\r\nContent-Type: text/html; charset=utf-8\r\n"
        head += "Content-Length: \(body.utf8.count)\r\nCache-Control: no-store\r\nReferrer-Policy: no-referrer\r\nConnection: close\r\n"
        if status == 405 { head += "Allow: GET\r\n" }
        let bytes = Array((head + "\r\n" + body).utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(c, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            sent += n
        }
        shutdown(c, Int32(SHUT_WR))
        // Drain what the client still sends (a refused request's body), bounded in bytes and
        // time, so closing does not reset the connection before the client read the answer.
        var tv = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var sink = [UInt8](repeating: 0, count: 4096), drained = 0
        while drained < 64 << 10 {
            let n = sink.withUnsafeMutableBytes { recv(c, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { break }
            drained += n
        }
        Glibc.close(c)
    }

    static func escapeHTML(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(ch)
            }
        }
        return out
    }
}
