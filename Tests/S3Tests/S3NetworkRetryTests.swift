import EvidenceCore
import EvidenceOpenSSL
@testable import EvidenceS3
import Foundation
import PeerSupport
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Network failures between the client and a real SeaweedFS, made by a loopback relay that
/// resets chosen connections: every transport's failures are retried with backoff, a retried
/// part is the same region of the file, and a network that never recovers ends in a clear
/// error naming the attempts, with no object written.
@Suite("S3 retries on network errors, through a resetting relay to SeaweedFS")
struct S3NetworkRetryTests {
    func retention() -> RetentionPolicy { RetentionPolicy(mode: .compliance, retainUntil: Date().addingTimeInterval(3600)) }

    func transport(_ name: String) -> any S3HTTPTransport { name == "loopback" ? LoopbackHTTPTransport() : URLSessionS3Transport() }

    func store(bucket: String, relay: ResettingRelay, transport: any S3HTTPTransport, attempts: Int) async throws -> S3ObjectLockStore {
        var s = try await S3ObjectLockStore.open(
            try SeaweedPeer.configuration(bucket: bucket, endpoint: URL(string: "http://127.0.0.1:\(relay.port)")!,
                                          partSize: 5 << 20, concurrency: 2, attempts: attempts),
            transport: transport)
        s.maxObjectSize = 64 << 20
        return s
    }

    func pseudoRandom(_ count: Int, seed: UInt32) -> [UInt8] {
        var x = seed | 1
        return (0..<count).map { _ in x ^= x << 13; x ^= x >> 17; x ^= x << 5; return UInt8(truncatingIfNeeded: x) }
    }

    /// Over the loopback client (URLSession recovers from these too, but only after its own
    /// 60-second stall on a connection reset mid-body, too slow for this suite; its retries are
    /// covered by the next test).
    @Test("requests reset mid-body and answers lost after the server acted are retried; the upload and the put verify",
          arguments: ["loopback"])
    func resetsAreRetried(_ transportName: String) async throws {
        let bucket = try await SeaweedPeer.makeBucket()
        let relay = try ResettingRelay(upstreamPort: UInt16(SeaweedPeer.endpoint.port!))
        defer { relay.stop() }
        let store = try await store(bucket: bucket, relay: relay, transport: transport(transportName), attempts: 5)
        // Part 2 is cut after 1 MiB, twice; part 3 is stored but its answer lost; so is the
        // answer to CompleteMultipartUpload (the retry then finds no upload, and the object).
        relay.fail([("partNumber=2&", .reset(afterBodyBytes: 1 << 20)), ("partNumber=2&", .reset(afterBodyBytes: 3 << 20)),
                    ("partNumber=3&", .dropAnswer), ("POST /\(bucket)/rec/reset.cast?uploadId=", .dropAnswer)])
        let data = pseudoRandom((12 << 20) + 777, seed: 5)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("retry-\(UUID().uuidString).cast").path
        try Data(data).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let info: StoredObjectInfo
        do { info = try await store.uploadFile(at: path, key: "rec/reset.cast", retention: retention()) } catch {
            Issue.record("upload failed: \(error); the relay's failures: \(relay.failuresMade.map { $0.prefix(60) })")
            return
        }
        #expect(relay.failuresMade.count == 4, "the relay made its four failures: \(relay.failuresMade)")
        #expect(info.sha256 == OpenSSLSHA256().hash(bytes: data) && info.size == UInt64(data.count))
        try await store.verify(info)
        #expect(try await store.get("rec/reset.cast") == data)

        // A put cut mid-body, then one whose answer is lost after the object was stored: the
        // last retry meets If-None-Match and finds its own object.
        relay.fail([("PUT /\(bucket)/rec/small.bin", .reset(afterBodyBytes: 50_000)), ("PUT /\(bucket)/rec/small.bin", .dropAnswer)])
        let small = pseudoRandom(100_000, seed: 9)
        let put = try await store.put("rec/small.bin", bytes: small, retention: retention())
        #expect(relay.failuresMade.count == 6, "\(relay.failuresMade)")
        try await store.verify(put)
        #expect(try await store.get("rec/small.bin") == small)
    }

    @Test("a network that resets every connection ends in a clear error after the configured attempts, and no object",
          arguments: ["loopback", "urlsession"])
    func alwaysResetFails(_ transportName: String) async throws {
        let bucket = try await SeaweedPeer.makeBucket()
        let relay = try ResettingRelay(upstreamPort: UInt16(SeaweedPeer.endpoint.port!))
        defer { relay.stop() }
        let store = try await store(bucket: bucket, relay: relay, transport: transport(transportName), attempts: 3)
        relay.resetEveryConnection()
        let before = relay.connections
        await #expect {
            _ = try await store.put("rec/never.bin", bytes: pseudoRandom(10_000, seed: 3), retention: retention())
        } throws: {
            guard let e = $0 as? EvidenceError else { return false }
            return e.code == .io && e.message.contains("after 3 attempts") && e.message.contains("check that the S3 service is up")
        }
        #expect(relay.connections - before >= 3, "each attempt reached the relay: \(relay.connections - before)")
        let direct = try await SeaweedPeer.openStore(bucket: bucket)
        #expect(try await direct.head("rec/never.bin") == nil)
    }

    @Test("a refused connection is retried and then reported with the attempts")
    func refusedConnection() async throws {
        let bucket = try await SeaweedPeer.makeBucket()
        let relay = try ResettingRelay(upstreamPort: UInt16(SeaweedPeer.endpoint.port!))
        let port = relay.port
        relay.stop()   // nothing listens there any more
        let client = S3Client(configuration: try SeaweedPeer.configuration(bucket: bucket, endpoint: URL(string: "http://127.0.0.1:\(port)")!, attempts: 4),
                              transport: LoopbackHTTPTransport())
        await #expect {
            _ = try await client.send(method: "HEAD", objectKey: "x")
        } throws: {
            guard let e = $0 as? EvidenceError else { return false }
            return e.code == .io && e.message.contains("after 4 attempts") && e.message.contains("cannot connect to 127.0.0.1:\(port)")
        }
    }
}

/// A loopback TCP relay to SeaweedFS that forwards HTTP/1.1 requests (one after the other on
/// each connection, as the clients send them), except those a test planned to fail: a request
/// whose request line contains a rule's text is cut by a TCP reset after some of its bytes, or
/// forwarded and its answer replaced by a reset (the server acted on it, the client never
/// hears). Each rule applies once. `resetEveryConnection` resets connections as they come.
final class ResettingRelay: Sendable {
    enum Action: Sendable {
        /// Forward the request head and this many body bytes, then reset.
        case reset(afterBodyBytes: Int)
        /// Forward the request, then reset instead of returning the answer.
        case dropAnswer
    }

    struct State {
        var rules: [(String, Action)] = []
        var resetEveryConnection = false
        var connections = 0
        var failures: [String] = []
        var open: Set<Int32> = []
        var stopped = false
    }

    let port: UInt16
    private let listener: Int32
    private let upstreamPort: UInt16
    private let state = Mutex(State())

    var connections: Int { state.withLock { $0.connections } }
    /// The request lines (or "connection") of the failures made so far.
    var failuresMade: [String] { state.withLock { $0.failures } }

    init(upstreamPort: UInt16) throws {
        self.upstreamPort = upstreamPort
        let (fd, port) = try PeerProcess.listenOnLoopback()
        self.port = port
        listener = fd
        Thread { [self] in acceptLoop() }.start()
    }

    /// Adds rules: the first request whose request line contains the text gets the action.
    func fail(_ rules: [(String, Action)]) { state.withLock { $0.rules += rules } }

    /// From now on every new connection is reset at once, and open ones are cut.
    /// (Descriptors are shut down and closed only under the lock, so a number reused by another
    /// test's socket after a close is never touched.)
    func resetEveryConnection() {
        state.withLock { s in
            s.resetEveryConnection = true
            for fd in s.open { shutdown(fd, Int32(SHUT_RDWR)) }
        }
    }

    /// Stops accepting (the accept thread closes the listener as it leaves, so it never calls
    /// accept on a reused descriptor number) and cuts open connections.
    func stop() {
        state.withLock { s in
            s.stopped = true
            for fd in s.open { shutdown(fd, Int32(SHUT_RDWR)) }
        }
        shutdown(listener, Int32(SHUT_RDWR))
    }

    private func acceptLoop() {
        PeerProcess.acceptUntilShutdown(listener) { client in
            let resetNow = state.withLock { s -> Bool in
                s.connections += 1
                if s.resetEveryConnection { s.failures.append("connection") }
                return s.resetEveryConnection
            }
            if resetNow { Self.setLingerZero(client); close(client); return }
            Thread { [self] in forward(client) }.start()
        }
    }

    private func take(_ requestLine: String) -> Action? {
        state.withLock { s in
            guard let i = s.rules.firstIndex(where: { requestLine.contains($0.0) }) else { return nil }
            s.failures.append(requestLine)
            return s.rules.remove(at: i).1
        }
    }

    private func forward(_ client: Int32) {
        let upstream = PeerProcess.connectLoopback(upstreamPort)
        let admitted = upstream >= 0 && state.withLock { s -> Bool in
            guard !s.stopped else { return false }
            s.open.insert(client); s.open.insert(upstream); return true
        }
        guard admitted else { Self.setLingerZero(client); close(client); if upstream >= 0 { close(upstream) }; return }
        let dropNext = Mutex(false)
        /// Cuts both sides; the client gets a reset when its descriptor is closed below.
        let aborted = Mutex(false)
        let abort: @Sendable () -> Void = {
            aborted.withLock { $0 = true }
            Self.setLingerZero(client)
            shutdown(upstream, Int32(SHUT_RDWR))
            shutdown(client, Int32(SHUT_RD))
        }
        let answersDone = DispatchSemaphore(value: 0)
        Thread {
            var buf = [UInt8](repeating: 0, count: 256 << 10)
            while true {
                let n = read(upstream, &buf, buf.count)
                if n <= 0 { break }
                if dropNext.withLock({ $0 }) { abort(); break }
                if !Self.writeAll(client, buf[0..<n]) { break }
            }
            if !aborted.withLock({ $0 }) { shutdown(client, Int32(SHUT_WR)) }   // an abort ends in a reset only
            answersDone.signal()
        }.start()
        forwardRequests(client, upstream) { line in
            let action = take(line)
            if case .dropAnswer? = action { dropNext.withLock { $0 = true } }
            return action
        } abort: { abort() }
        shutdown(upstream, Int32(SHUT_WR))
        answersDone.wait()
        state.withLock { s in
            s.open.remove(client); s.open.remove(upstream)
            close(client); close(upstream)
        }
    }

    /// Forwards requests (head up to 64 KiB, then Content-Length body bytes) until the client
    /// ends; `decide` sees each request line first.
    private func forwardRequests(_ client: Int32, _ upstream: Int32, decide: (String) -> Action?, abort: () -> Void) {
        var pending: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 256 << 10)
        func more() -> Bool {
            let n = read(client, &buf, buf.count)
            if n <= 0 { return false }
            pending += buf[0..<n]
            return true
        }
        let blank: [UInt8] = [13, 10, 13, 10]
        while true {
            var headEnd: Int?
            while headEnd == nil {
                headEnd = pending.firstRange(of: blank)?.upperBound
                if headEnd == nil { guard pending.count < 64 << 10, more() else { return } }
            }
            let head = String(decoding: pending[..<headEnd!], as: UTF8.self)
            let line = head.components(separatedBy: "\r\n").first ?? ""
            let length = head.split(separator: "\r\n").compactMap { h -> Int? in
                let kv = h.split(separator: ":", maxSplits: 1)
                guard kv.count == 2, kv[0].lowercased() == "content-length" else { return nil }
                return Int(kv[1].trimmingCharacters(in: .whitespaces))
            }.first ?? 0
            let action = decide(line)
            var limit = length
            if case .reset(let k)? = action { limit = min(k, length) }
            while pending.count < headEnd! + limit { guard more() else { return } }
            guard Self.writeAll(upstream, pending[..<(headEnd! + limit)]) else { return }
            if case .reset? = action { abort(); return }
            pending.removeFirst(headEnd! + limit)
        }
    }

    private static func setLingerZero(_ fd: Int32) {
        var l = linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, socklen_t(MemoryLayout<linger>.size))
    }

    private static func writeAll(_ fd: Int32, _ bytes: ArraySlice<UInt8>) -> Bool {
        var off = bytes.startIndex
        while off < bytes.endIndex {
            let w = bytes[off...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if w <= 0 { return false }
            off += w
        }
        return true
    }
}
