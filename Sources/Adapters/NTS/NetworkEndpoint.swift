#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A host and port, as written on a command line: `time.example.eu`, `time.example.eu:4460`,
/// `127.0.0.1:14460`, `[::1]:14460`.
public struct NetworkEndpoint: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: UInt16

    public init(host: String, port: UInt16) { self.host = host; self.port = port }

    /// Parses `HOST[:PORT]` (IPv6 literals in brackets); `defaultPort` when no port is given.
    public init(parsing text: String, defaultPort: UInt16) throws {
        var host = Substring(text)
        var port = defaultPort
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { throw NTSError(.malformed, "'\(text)' opens '[' without closing ']'; write IPv6 as [::1]:4460") }
            let rest = host[host.index(after: close)...]
            host = host[host.index(after: host.startIndex)..<close]
            if !rest.isEmpty {
                guard rest.hasPrefix(":"), let p = UInt16(rest.dropFirst()), p != 0 else { throw NTSError(.malformed, "'\(text)': port must be 1-65535") }
                port = p
            }
        } else if let colon = host.lastIndex(of: ":"), host.firstIndex(of: ":") == colon {
            guard let p = UInt16(host[host.index(after: colon)...]), p != 0 else { throw NTSError(.malformed, "'\(text)': port must be 1-65535") }
            port = p
            host = host[..<colon]
        }
        guard !host.isEmpty, host.utf8.count <= 253 else { throw NTSError(.malformed, "'\(text)' names no host (or a name over 253 bytes)") }
        self.host = String(host); self.port = port
    }

    /// True for an IPv4 or IPv6 literal (certificate checks then match an IP SAN, not a DNS name).
    public var isIPLiteral: Bool {
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// A socket file descriptor that closes itself.
final class SocketHandle: Sendable {
    let fd: Int32
    init(_ fd: Int32) { self.fd = fd }
    deinit { close(fd) }
}

enum Sockets {
    /// Resolves and connects (TCP or UDP) with send/receive timeouts; tries every address.
    static func open(_ endpoint: NetworkEndpoint, datagram: Bool, timeoutSeconds: Double, what: String) throws -> SocketHandle {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(datagram ? SOCK_DGRAM.rawValue : SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = datagram ? SOCK_DGRAM : SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(endpoint.host, String(endpoint.port), &hints, &list)
        guard rc == 0, let first = list else {
            throw NTSError(.network, "\(what): cannot resolve \(endpoint.host): \(String(cString: gai_strerror(rc))); check the name and DNS")
        }
        defer { freeaddrinfo(list) }
        var lastErrno: Int32 = 0
        var p: UnsafeMutablePointer<addrinfo>? = first
        while let ai = p {
            p = ai.pointee.ai_next
            let fd = socket(ai.pointee.ai_family, ai.pointee.ai_socktype, ai.pointee.ai_protocol)
            if fd < 0 { lastErrno = errno; continue }
            let h = SocketHandle(fd)
            setTimeouts(fd, timeoutSeconds)
            if !datagram {  // small TLS records each way: without this, Nagle + delayed ACK add ~40 ms
                var one: Int32 = 1
                setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            }
            if connect(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0 { return h }
            lastErrno = errno
        }
        let reason = String(cString: strerror(lastErrno))
        if lastErrno == EINPROGRESS || lastErrno == EAGAIN || lastErrno == ETIMEDOUT {
            throw NTSError(.timedOut, "\(what): no connection to \(endpoint) within \(timeoutSeconds) s")
        }
        throw NTSError(.network, "\(what): cannot connect to \(endpoint): \(reason); check host, port and firewall")
    }

    static func setTimeouts(_ fd: Int32, _ seconds: Double) {
        let whole = Int(seconds)
        var tv = timeval(tv_sec: whole, tv_usec: Int(((seconds - Double(whole)) * 1e6).rounded()))
        if tv.tv_sec == 0 && tv.tv_usec == 0 { tv.tv_usec = 1000 }
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }
}

/// Monotonic seconds (CLOCK_MONOTONIC): immune to steps of the wall clock, used for delays.
enum Monotonic {
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }
}
