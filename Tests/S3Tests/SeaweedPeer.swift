import EvidenceCore
import EvidenceS3
import Foundation
import PeerSupport
#if canImport(Glibc)
import Glibc
#endif

/// The real SeaweedFS S3 server these tests run against: one per test process, started on
/// first use by scripts/peers/seaweedfs.sh (authentication on, loopback only), stopped at exit.
/// A missing or broken peer makes every test that needs it fail; nothing is skipped.
enum SeaweedPeer {
    static let accessKey = "AKIATESTKEY000000001"
    static let secretKey = "testsecret/ABCDEFGHIJKLMNOPQRSTUVWXYZ01"
    static let portBase = 19_000 + Int(getpid() % 300) * 12
    static let directory = "/tmp/s3tests-\(getpid())"
    static let endpoint = URL(string: "http://127.0.0.1:\(portBase + 6)")!

    static let repositoryRoot = PeerProcess.repoRoot

    private static let started: Task<Void, any Error> = Task {
        let script = repositoryRoot + "/scripts/peers/seaweedfs.sh"
        let status = try spawnAndWait(["/bin/bash", script, "start", directory],
                                      environment: ["WEED_PORT_BASE=\(portBase)", "READY_TIMEOUT=30"],
                                      log: directory + "-start.log")
        guard status == 0 else {
            let log = (try? String(contentsOfFile: directory + "-start.log", encoding: .utf8)) ?? ""
            throw EvidenceError(.io, "SeaweedFS did not start (exit \(status)); the S3 tests need it: \(log.suffix(800))")
        }
        atexit {
            _ = try? SeaweedPeer.spawnAndWait(["/bin/bash", SeaweedPeer.repositoryRoot + "/scripts/peers/seaweedfs.sh", "stop", SeaweedPeer.directory],
                                              environment: [], log: "/dev/null")
            _ = try? FileManager.default.removeItem(atPath: SeaweedPeer.directory)
            _ = try? FileManager.default.removeItem(atPath: SeaweedPeer.directory + "-start.log")
        }
    }

    /// Waits until the server is up; throws when it could not be started.
    static func ready() async throws { try await started.value }

    static func credentials(secret: String = secretKey, key: String = accessKey) throws -> S3Credentials {
        try S3Credentials(accessKeyID: key, secretAccessKey: secret)
    }

    static func configuration(bucket: String, prefix: String = "", region: String = "us-east-1", secret: String = secretKey,
                              key: String = accessKey, endpoint: URL = endpoint,
                              lock: S3Configuration.LockRequirement = .requireObjectLock,
                              partSize: Int = 5 << 20, concurrency: Int = 3, attempts: Int = 3) throws -> S3Configuration {
        try S3Configuration(endpoint: endpoint, bucket: bucket, prefix: prefix, region: region,
                            credentials: credentials(secret: secret, key: key), lockRequirement: lock,
                            retry: S3RetryPolicy(maxAttempts: attempts, baseDelay: 0.02, maxDelay: 0.2),
                            requestTimeout: 15, multipartPartSize: partSize, multipartConcurrency: concurrency)
    }

    /// Creates a fresh bucket (Object Lock on or off) and returns its name.
    static func makeBucket(objectLock: Bool = true) async throws -> String {
        try await ready()
        let name = "t-\(UUID().uuidString.lowercased().prefix(18))"
        let client = S3Client(configuration: try configuration(bucket: name))
        try await client.expectSuccess(method: "PUT", objectKey: nil,
                                       headers: objectLock ? ["x-amz-bucket-object-lock-enabled": "true"] : [:],
                                       what: "creating test bucket \(name)")
        return name
    }

    static func openStore(bucket: String, prefix: String = "", transport: (any S3HTTPTransport)? = nil,
                          partSize: Int = 5 << 20, concurrency: Int = 3) async throws -> S3ObjectLockStore {
        try await S3ObjectLockStore.open(try configuration(bucket: bucket, prefix: prefix, partSize: partSize, concurrency: concurrency),
                                         transport: transport ?? URLSessionS3Transport())
    }

    /// Runs a peer script to completion (bounded to two minutes) with an empty signal mask and
    /// default signal actions, so the server it starts can be stopped with SIGTERM; its exit
    /// status, -1 if it was killed.
    static func spawnAndWait(_ argv: [String], environment: [String], log: String) throws -> Int32 {
        var env: [String: String] = [:]
        for kv in environment { if let eq = kv.firstIndex(of: "=") { env[String(kv[..<eq])] = String(kv[kv.index(after: eq)...]) } }
        let pid = try PeerProcess.spawn(argv, env: env, log: log, truncateLog: true)
        return PeerProcess.waitFor(pid, timeoutSeconds: 120)
    }
}

/// Loopback TCP relay between the client and SeaweedFS that flips one bit in every
/// occurrence of `marker` in the server-to-client stream: a body corrupted
/// in transit, below TLS-less HTTP, exactly what a checksum check must catch.
final class CorruptingRelay: Sendable {
    let port: UInt16
    private let listener: Int32
    private let upstreamPort: UInt16
    private let marker: [UInt8]

    init(upstreamPort: UInt16, marker: [UInt8]) throws {
        self.upstreamPort = upstreamPort
        self.marker = marker
        let (fd, port) = try PeerProcess.listenOnLoopback(backlog: 16)
        self.port = port
        listener = fd
        let t = Thread { [self] in self.acceptLoop() }
        t.start()
    }

    /// Stops accepting; the accept thread closes the listener as it leaves, so it never calls
    /// accept on a descriptor number reused by another test's socket.
    func stop() { shutdown(listener, Int32(SHUT_RDWR)) }

    private func acceptLoop() {
        PeerProcess.acceptUntilShutdown(listener) { client in
            let upstream = PeerProcess.connectLoopback(upstreamPort)
            guard upstream >= 0 else { close(client); return }
            let m = marker
            Thread { Self.pump(from: client, to: upstream, marker: nil) }.start()
            Thread { Self.pump(from: upstream, to: client, marker: m) }.start()
        }
    }

    /// Copies bytes until EOF, flipping one bit inside every occurrence of `marker` that
    /// arrives within one read (test bodies are small, so they arrive whole).
    private static func pump(from: Int32, to: Int32, marker: [UInt8]?) {
        var buf = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let n = read(from, &buf, buf.count)
            if n <= 0 { break }
            var chunk = Array(buf[0..<n])
            if let m = marker {
                var searchFrom = chunk.startIndex
                while let r = chunk[searchFrom...].firstRange(of: m) {
                    chunk[r.lowerBound + m.count / 2] ^= 0x01
                    searchFrom = r.upperBound
                }
            }
            var off = 0
            while off < chunk.count {
                let w = chunk[off...].withUnsafeBytes { write(to, $0.baseAddress, $0.count) }
                if w <= 0 { break }
                off += w
            }
            if off < chunk.count { break }
        }
        shutdown(to, Int32(SHUT_WR))
        shutdown(from, Int32(SHUT_RD))
    }
}

/// A transport that forwards to URLSession but lets a test inject failures around the real
/// server (a lost connection mid-upload, a throttling answer) and count what was sent.
final class FaultInjectingTransport: S3HTTPTransport {
    let inner = URLSessionS3Transport()
    private let state = Counters()
    /// Decides, per request (method, URL, count so far), whether to fail it instead of sending it.
    let fault: @Sendable (S3HTTPRequest, Int) -> S3HTTPResponse?

    init(fault: @escaping @Sendable (S3HTTPRequest, Int) -> S3HTTPResponse?) { self.fault = fault }

    func send(_ request: S3HTTPRequest, timeout: TimeInterval) async throws -> S3HTTPResponse {
        let n = await state.next(request)
        if let injected = fault(request, n) {
            if injected.status == 0 { throw EvidenceError(.io, "injected crash before request \(n)") }
            return injected
        }
        return try await inner.send(request, timeout: timeout)
    }

    func sent() async -> [String] { await state.log }

    actor Counters {
        var count = 0
        var log: [String] = []
        func next(_ r: S3HTTPRequest) -> Int {
            count += 1
            log.append("\(r.method) \(r.url.query ?? "")")
            return count
        }
    }
}
