import Foundation
import PeerSupport
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Real loopback peers for the time tests: chrony as NTS server, `openssl ts` behind the
/// HTTP shim, `openssl s_server` without ALPN, and a UDP relay that tampers with replies.
/// Processes are started and stopped with `PeerProcess` (PeerSupport).
enum Peers {
    /// Port pairs from the ranges reserved for these tests, distinct per test in one run.
    private static let counter = Atomic<Int>(0)
    static func nextSlot() -> Int { counter.add(1, ordering: .relaxed).newValue % 28 }
    private static let tsaCounter = Atomic<Int>(0)
    /// HTTP ports 18318-18329, one per TSA peer in a run.
    static func nextTSAPort() -> UInt16 { UInt16(18318 + tsaCounter.add(1, ordering: .relaxed).newValue % 12) }
}

/// chrony 4.3 as NTS server on loopback, started with scripts/peers/nts-server.sh (`chronyd -x`).
/// A missing chronyd makes the start fail, so the tests fail rather than skip.
final class ChronyNTSServer: Sendable {
    let dir: String
    let ntpPort: UInt16
    let kePort: UInt16
    var caFile: String { dir + "/ca.crt" }

    init(certificateNames: String? = nil) throws {
        let slot = Peers.nextSlot()
        ntpPort = UInt16(11100 + slot); kePort = UInt16(14400 + slot)
        dir = PeerProcess.scratch("chrony\(slot)")
        var env = ["NTP_PORT": "\(ntpPort)", "NTSKE_PORT": "\(kePort)"]
        if let certificateNames { env["CERT_SAN"] = certificateNames }
        let r = PeerProcess.run([PeerProcess.scripts + "/nts-server.sh", "start", dir], env: env, timeoutSeconds: 20)
        guard r.status == 0 else { throw PeerError("chrony NTS server did not start (is chrony installed? apt-get install -y chrony): \(r.output)") }
    }

    func stop() { _ = PeerProcess.run([PeerProcess.scripts + "/nts-server.sh", "stop", dir], timeoutSeconds: 10) }
    deinit { stop(); try? FileManager.default.removeItem(atPath: dir) }
}

/// A UDP relay between the NTS client and chrony that can alter replies in flight.
final class UDPRelay: Sendable {
    enum Mode: Sendable { case pass, flipByte(at: Int), truncateToHeader, replayFirst, drop, flipRequestOnce(at: Int) }
    let port: UInt16
    private final class State: Sendable {
        let running = Atomic<Bool>(true)
        let mode: Mutex<Mode>
        init(_ m: Mode) { mode = Mutex(m) }
    }
    private let state: State

    init(port: UInt16, upstream: UInt16, mode: Mode) throws {
        self.port = port
        let state = State(mode)
        self.state = state
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET); addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard ok == 0 else { close(fd); throw PeerError("relay cannot bind 127.0.0.1:\(port)") }
        var tv = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        Thread.detachNewThread {
            defer { close(fd) }
            let up = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            defer { close(up) }
            var upAddr = sockaddr_in()
            upAddr.sin_family = sa_family_t(AF_INET); upAddr.sin_port = upstream.bigEndian
            upAddr.sin_addr.s_addr = inet_addr("127.0.0.1")
            _ = withUnsafePointer(to: &upAddr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(up, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            var tv2 = timeval(tv_sec: 1, tv_usec: 0)
            setsockopt(up, SOL_SOCKET, SO_RCVTIMEO, &tv2, socklen_t(MemoryLayout<timeval>.size))
            var firstReply: [UInt8]?
            var buf = [UInt8](repeating: 0, count: 4096)
            while state.running.load(ordering: .relaxed) {
                var from = sockaddr_storage()
                var fromLen = socklen_t(MemoryLayout<sockaddr_storage>.size)
                let n = withUnsafeMutablePointer(to: &from) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, &buf, buf.count, 0, $0, &fromLen) } }
                guard n > 0 else { continue }
                if case .flipRequestOnce(let i) = state.mode.withLock({ $0 }), i < n {
                    buf[i] ^= 0x01
                    state.mode.withLock { $0 = .pass }
                }
                _ = send(up, buf, n, 0)
                let m = recv(up, &buf, buf.count, 0)
                guard m > 0 else { continue }
                var reply = Array(buf[0..<m])
                switch state.mode.withLock({ $0 }) {
                case .pass, .flipRequestOnce: break
                case .flipByte(let i): if i < reply.count { reply[i] ^= 0x01 }
                case .truncateToHeader: reply = Array(reply.prefix(48))
                case .replayFirst: if let f = firstReply { reply = f }
                case .drop: continue
                }
                if firstReply == nil { firstReply = reply }
                _ = withUnsafePointer(to: &from) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, reply, reply.count, 0, $0, fromLen) } }
            }
        }
    }

    func setMode(_ m: Mode) { state.mode.withLock { $0 = m } }
    /// Stops the relay thread; it closes its socket within 100 ms.
    func stop() { state.running.store(false, ordering: .relaxed) }
    deinit { stop() }
}

/// `openssl ts -reply` behind scripts/peers/tsa_http.py on 127.0.0.1.
final class TSAPeer: Sendable {
    let dir: String
    let port: UInt16
    let pid: pid_t
    var url: URL { URL(string: "http://127.0.0.1:\(port)/tsa")! }
    var anchorFile: String { dir + "/tsa-ca.crt" }

    init(port: UInt16) throws {
        self.port = port
        dir = PeerProcess.scratch("tsa\(port)")
        let made = PeerProcess.run([PeerProcess.scripts + "/tsa-certs.sh", dir])
        guard made.status == 0 else { throw PeerError("cannot make TSA certificates: \(made.output)") }
        pid = try PeerProcess.spawn(["/bin/sh", "-c", "cd '\(dir)' && exec python3 '\(PeerProcess.scripts)/tsa_http.py' \(port) tsa.cnf"], log: dir + "/http.log")
        // Ready when the port accepts a connection.
        for _ in 0..<100 {
            let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var a = sockaddr_in(); a.sin_family = sa_family_t(AF_INET); a.sin_port = port.bigEndian; a.sin_addr.s_addr = inet_addr("127.0.0.1")
            let r = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            close(s)
            if r == 0 { return }
            usleep(50_000)
        }
        PeerProcess.stop(pid)
        throw PeerError("TSA HTTP shim did not listen on \(port): " + ((try? String(contentsOfFile: dir + "/http.log", encoding: .utf8)) ?? ""))
    }

    deinit { PeerProcess.stop(pid); try? FileManager.default.removeItem(atPath: dir) }
}
