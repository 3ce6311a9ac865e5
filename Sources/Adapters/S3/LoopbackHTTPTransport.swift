import EvidenceCore
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A small HTTP/1.1 client for an S3 service on the loopback interface (`http://127.0.0.1:…`),
/// such as a SeaweedFS or MinIO next to the recorder. Anything else (https, another host) goes
/// to `fallback` (URLSession by default), so TLS is never handled here.
///
/// Why: on Linux URLSession runs through libcurl with a fixed cost per request and takes each
/// request body as `Data` in memory; here a file-region body (a multipart part) goes from the
/// page cache to the socket with `sendfile(2)` (no copy through this process, no buffer per
/// part; where `sendfile` is refused, `pread` and `send` through one 256 KiB buffer), an
/// in-memory body from its buffer with no copy, on keep-alive connections with TCP_NODELAY,
/// each exchange on its own thread so parts in flight never wait for the cooperative pool.
/// Memory per exchange is that thread's stack and the response; never the part.
///
/// Guarantees: bounded responses (status line and headers at most 64 KiB, 200 headers; a body
/// above `maxResponseBytes` is refused; chunked bodies bounded the same way); a connection is
/// reused only after a complete, well-framed exchange; a request on a reused connection that
/// the server had closed is sent again once on a new connection (no byte of a response had
/// arrived); a file region is sent from its own offset on every attempt, and a file that ends
/// before the region does is reported as truncated (`.io`, the connection is closed, never
/// reused). Socket failures (refused, reset, closed, timed out) are thrown as `S3NetworkError`,
/// which `S3Client` retries. Refuses: HTTP versions other than 1.0/1.1, malformed framing.
public final class LoopbackHTTPTransport: S3HTTPTransport {
    public let maxResponseBytes: Int
    private let fallback: any S3HTTPTransport
    private let idle = Mutex<[Int: [Int32]]>([:])
    private let maxIdlePerPort: Int

    public init(fallback: any S3HTTPTransport = URLSessionS3Transport(), maxResponseBytes: Int = 1 << 30, maxIdlePerPort: Int = 16) {
        self.fallback = fallback; self.maxResponseBytes = maxResponseBytes; self.maxIdlePerPort = maxIdlePerPort
    }

    deinit { idle.withLock { for fds in $0.values { fds.forEach { _ = Glibc.close($0) } } } }

    public func send(_ request: S3HTTPRequest, timeout: TimeInterval) async throws -> S3HTTPResponse {
        guard request.url.scheme?.lowercased() == "http", let host = request.url.host, host == "127.0.0.1",
              let port = request.url.port ?? 80 as Int?, (1...65535).contains(port) else {
            return try await fallback.send(request, timeout: timeout)
        }
        return try await withCheckedThrowingContinuation { (c: CheckedContinuation<S3HTTPResponse, any Error>) in
            let t = Thread {
                Self.blockSIGPIPE()
                c.resume(with: Result { try self.exchange(request, port: port, timeout: timeout) })
            }
            t.stackSize = 1 << 20
            t.start()
        }
    }

    // MARK: one exchange (blocking, on its own thread)

    private func exchange(_ request: S3HTTPRequest, port: Int, timeout: TimeInterval) throws -> S3HTTPResponse {
        let head = try Self.requestHead(request)
        for attempt in 0..<2 {
            let reused = attempt == 0 ? idle.withLock { $0[port]?.popLast() } : nil
            let fd = try reused ?? Self.connect(port: port, timeout: timeout)
            do {
                switch request.body {
                case .bytes(let body):
                    try Self.writeAll(fd, head)
                    try body.withUnsafeBytes { try Self.writeAll(fd, $0) }
                case .fileRegion(let region):
                    try head.withUnsafeBytes { try Self.writeAll(fd, $0, flags: MSG_MORE) }   // one segment with the body's start
                    try Self.sendRegion(fd, region)
                }
                var reader = ResponseReader(fd: fd, maxBody: maxResponseBytes)
                let (response, keepAlive) = try reader.read(isHead: request.method == "HEAD")
                if keepAlive { release(fd, port: port) } else { Glibc.close(fd) }
                return response
            } catch let e as ConnectionClosedEarly where reused != nil {
                _ = e; Glibc.close(fd)   // the server closed an idle connection: once more on a new one
            } catch is ConnectionClosedEarly {
                Glibc.close(fd)
                throw S3NetworkError("127.0.0.1:\(port) closed or reset the connection before answering \(request.method) (\(request.body.count)-byte body)")
            } catch {
                Glibc.close(fd)
                throw error
            }
        }
        throw S3NetworkError("127.0.0.1:\(port) closed the connection before answering \(request.method) twice")
    }

    /// `sendfile(2)` has no MSG_NOSIGNAL: a peer that resets the connection mid-part would
    /// raise SIGPIPE and end the process. Blocked on this exchange's own thread, the signal
    /// stays pending there (discarded when the thread ends) and `sendfile` fails with EPIPE,
    /// which is reported as a network failure and retried. The process's signal handling is
    /// left as it is.
    static func blockSIGPIPE() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    private func release(_ fd: Int32, port: Int) {
        let kept = idle.withLock { pool -> Bool in
            guard pool[port, default: []].count < maxIdlePerPort else { return false }
            pool[port, default: []].append(fd); return true
        }
        if !kept { Glibc.close(fd) }
    }

    static func requestHead(_ r: S3HTTPRequest) throws -> [UInt8] {
        // The URL was built from already-encoded parts: send its path and query as they are,
        // since they are what was signed.
        let s = r.url.absoluteString
        guard let schemeEnd = s.range(of: "://") else { throw EvidenceError(.malformedInput, "request URL \(s) has no scheme") }
        let afterAuthority = s[schemeEnd.upperBound...].drop { $0 != "/" && $0 != "?" }
        let target = afterAuthority.isEmpty ? "/" : (afterAuthority.first == "?" ? "/" + afterAuthority : String(afterAuthority))
        var h = "\(r.method) \(target) HTTP/1.1\r\n"
        var headers = r.headers
        if headers["host"] == nil { headers["host"] = r.url.host.map { h in r.url.port.map { "\(h):\($0)" } ?? h } }
        headers["expect"] = nil
        if r.body.count > 0 || r.method == "PUT" || r.method == "POST" { headers["content-length"] = String(r.body.count) }
        for (k, v) in headers where !v.isEmpty {
            guard !k.contains(where: { $0 == "\r" || $0 == "\n" || $0 == ":" }), !v.contains(where: { $0 == "\r" || $0 == "\n" }) else {
                throw EvidenceError(.malformedInput, "header '\(k.prefix(40))' contains a line break; refused")
            }
            h += "\(k): \(v)\r\n"
        }
        h += "\r\n"
        return Array(h.utf8)
    }

    static func connect(port: Int, timeout: TimeInterval) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw S3NetworkError("cannot create a socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(port).bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard rc == 0 else {
            let e = errno; Glibc.close(fd)
            throw S3NetworkError("cannot connect to 127.0.0.1:\(port): \(String(cString: strerror(e)))")
        }
        return fd
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try writeAll(fd, $0) } }

    static func writeAll(_ fd: Int32, _ p: UnsafeRawBufferPointer, flags: Int = 0) throws {
        var off = 0
        while off < p.count {
            let n = Glibc.send(fd, p.baseAddress! + off, p.count - off, Int32(MSG_NOSIGNAL) | Int32(flags))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                if errno == EPIPE || errno == ECONNRESET { throw ConnectionClosedEarly() }
                if errno == EAGAIN { throw S3NetworkError("sending to 127.0.0.1 timed out: the S3 service is not reading") }
                throw S3NetworkError("sending to 127.0.0.1 failed: \(String(cString: strerror(errno)))")
            }
            off += n
        }
    }
}

extension LoopbackHTTPTransport {
    /// Sends `region` of its file on socket `fd` with `sendfile(2)`, from the region's offset
    /// (so a retry sends the same bytes); falls back to `pread` + `send` through a 256 KiB
    /// buffer where the kernel refuses `sendfile` for this file (EINVAL, ENOSYS, EOPNOTSUPP).
    static func sendRegion(_ fd: Int32, _ region: S3FileRegion) throws {
        let file = region.file
        var offset = off_t(region.offset)
        let end = off_t(region.offset) + off_t(region.length)
        while offset < end {
            let n = Glibc.sendfile(fd, file.fd, &offset, Int(min(end - offset, 1 << 30)))
            if n > 0 { continue }   // sendfile moved `offset` past what it sent
            if n == 0 { throw file.truncated(at: UInt64(offset) + 1) }
            switch errno {
            case EINTR: continue
            case EINVAL, ENOSYS, EOPNOTSUPP:
                try copyRegion(fd, file: file, from: UInt64(offset), to: UInt64(end))
                return
            case EPIPE, ECONNRESET: throw ConnectionClosedEarly()
            case EAGAIN: throw S3NetworkError("sending a part of '\(file.path)' to 127.0.0.1 timed out: the S3 service is not reading")
            case let e: throw S3NetworkError("sending '\(file.path)' to 127.0.0.1 failed: \(String(cString: strerror(e)))")
            }
        }
    }

    /// The `sendfile` fallback: bytes [from, to) of `file` through one small buffer.
    static func copyRegion(_ fd: Int32, file: S3SourceFile, from: UInt64, to: UInt64) throws {
        let size = 256 << 10
        let buf = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
        defer { buf.deallocate() }
        var at = from
        while at < to {
            let n = Int(min(UInt64(size), to - at))
            try file.readFully(into: buf, count: n, offset: at)
            try writeAll(fd, UnsafeRawBufferPointer(start: buf, count: n))
            at += UInt64(n)
        }
    }
}

/// The peer closed the connection before any byte of the response arrived.
struct ConnectionClosedEarly: Error {}

/// Reads one HTTP/1.1 response from a socket under the bounds of `LoopbackHTTPTransport`.
struct ResponseReader {
    let fd: Int32
    let maxBody: Int
    /// Storage; the unread bytes are `buffer[start..<filled]`. Grown (zeroed) only when a read
    /// needs more room, so a large body is not re-zeroed on every `recv`.
    private var buffer: [UInt8] = []
    private var start = 0
    private var filled = 0
    private var received = 0

    init(fd: Int32, maxBody: Int) { self.fd = fd; self.maxBody = maxBody }

    /// The response and whether the connection may be reused.
    mutating func read(isHead: Bool) throws -> (S3HTTPResponse, Bool) {
        let statusLine = try line()
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0] == "HTTP/1.1" || parts[0] == "HTTP/1.0", let status = Int(parts[1]), (100...999).contains(status) else {
            throw EvidenceError(.malformedInput, "127.0.0.1 answered '\(statusLine.prefix(80))', not an HTTP/1.1 status line")
        }
        var headers: [String: String] = [:]
        var count = 0
        while true {
            let l = try line()
            if l.isEmpty { break }
            count += 1
            guard count <= 200, let colon = l.firstIndex(of: ":") else {
                throw EvidenceError(.malformedInput, "HTTP response header section is malformed or has more than 200 headers")
            }
            headers[l[..<colon].lowercased()] = l[l.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var keepAlive = parts[0] == "HTTP/1.1" && headers["connection"]?.lowercased() != "close"
        var body: [UInt8] = []
        if isHead || status == 204 || status == 304 || status < 200 {
        } else if headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
            while true {
                let sizeLine = try line()
                guard let size = Int(sizeLine.split(separator: ";").first.map(String.init)?.trimmingCharacters(in: .whitespaces) ?? "", radix: 16),
                      size >= 0, body.count + size <= maxBody else {
                    throw EvidenceError(.malformedInput, "HTTP chunk size '\(sizeLine.prefix(20))' is malformed or exceeds the \(maxBody)-byte bound")
                }
                if size == 0 { while try !line().isEmpty {}; break }
                body += try bytes(size)
                guard try line().isEmpty else { throw EvidenceError(.malformedInput, "HTTP chunk not followed by CRLF") }
            }
        } else if let lenText = headers["content-length"] {
            guard let len = Int(lenText), len >= 0, len <= maxBody else {
                throw EvidenceError(.malformedInput, "HTTP content-length '\(lenText.prefix(20))' is malformed or exceeds the \(maxBody)-byte bound")
            }
            body = try bytes(len)
        } else {
            keepAlive = false
            while let more = try fill(allowEOF: true), more { guard filled - start <= maxBody else { throw EvidenceError(.malformedInput, "HTTP body exceeds the \(maxBody)-byte bound") } }
            body = Array(buffer[start..<filled]); start = filled
        }
        if start != filled { keepAlive = false }   // bytes past the response: do not trust the connection
        return (S3HTTPResponse(status: status, headers: headers, body: body), keepAlive)
    }

    private mutating func line() throws -> String {
        while true {
            if let i = buffer[start..<filled].firstIndex(of: 0x0a) {
                var end = i
                if end > start && buffer[end - 1] == 0x0d { end -= 1 }
                let s = String(decoding: buffer[start..<end], as: UTF8.self)
                start = i + 1
                return s
            }
            guard filled - start < 64 << 10 else { throw EvidenceError(.malformedInput, "an HTTP response line is longer than 64 KiB") }
            _ = try fill(allowEOF: false)
        }
    }

    private mutating func bytes(_ n: Int) throws -> [UInt8] {
        while filled - start < n { _ = try fill(allowEOF: false, want: n - (filled - start)) }
        let from = start
        let out = [UInt8](unsafeUninitializedCapacity: n) { dst, count in
            buffer.withUnsafeBytes { src in if n > 0 { _ = memcpy(dst.baseAddress!, src.baseAddress! + from, n) } }
            count = n
        }
        start += n
        return out
    }

    /// Reads more bytes; false at EOF when `allowEOF`.
    @discardableResult
    private mutating func fill(allowEOF: Bool, want: Int = 0) throws -> Bool? {
        if start == filled { start = 0; filled = 0 }
        let chunk = max(64 << 10, min(want, 8 << 20))
        if buffer.count - filled < chunk {
            // Room for `chunk` more, the unread bytes moved to the front, growing at least
            // twofold (at most 8 MiB at a time) so a large body is copied O(1) times per byte.
            let unread = filled - start
            let size = max(unread + chunk, min(buffer.count * 2, unread + (8 << 20)))
            var grown = size > buffer.count ? [UInt8](repeating: 0, count: size) : buffer
            if unread > 0 {
                let from = start
                buffer.withUnsafeBytes { old in grown.withUnsafeMutableBytes { _ = memmove($0.baseAddress!, old.baseAddress! + from, unread) } }
            }
            buffer = grown; start = 0; filled = unread
        }
        let n = buffer.withUnsafeMutableBytes { Glibc.recv(fd, $0.baseAddress! + filled, chunk, 0) }
        if n > 0 { filled += n; received += n; return true }
        if n < 0 && errno == EINTR { return try fill(allowEOF: allowEOF, want: want) }
        if n == 0 && allowEOF { return false }
        let e = errno
        if n < 0 && (e == EAGAIN || e == EWOULDBLOCK) {
            throw S3NetworkError("127.0.0.1 sent no answer within the request timeout\(received == 0 ? "" : " (\(received) bytes of it had arrived)")")
        }
        if received == 0 { throw ConnectionClosedEarly() }
        throw S3NetworkError("127.0.0.1 \(n == 0 ? "closed the connection" : "failed: \(String(cString: strerror(e)))") in the middle of a response")
    }
}
