import EvidenceCore
import EvidenceOpenSSL
import EvidenceS3
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A local evidence store with sealed segments, checkpoints and content-addressed objects,
/// made with `nis2ctl init` / `tenant add` and filled through the library, and the
/// `nis2ctl` binary to replicate and verify it against the SeaweedFS peer.
struct ReplicationFixture {
    let root: String
    let tenant = try! TenantID("acme")
    let bucket: String

    /// `segments` sealed segments of ~9 MiB (so the CLI's 8 MiB parts make each a multipart
    /// upload), a checkpoint every 40 records, and `objects` content-addressed objects.
    static func make(segments: Int = 3, objects: Int = 12) async throws -> ReplicationFixture {
        let bucket = try await SeaweedPeer.makeBucket()
        let root = "/tmp/s3repl-\(getpid())-\(UUID().uuidString.prefix(8))"
        let f = ReplicationFixture(root: root, bucket: bucket)
        try f.expectSuccess(f.nis2ctl(["init", "--store", root, "--origin", "example.org/evidence"]))
        try f.expectSuccess(f.nis2ctl(["tenant", "add", "--store", root, "--tenant", "acme"]))
        let probe = try EvidenceStore(at: root, backend: OpenSSLSHA256(), signer: nil, clock: SystemWallClock())
        let (name, seed, _) = try NoteKey.parsePrivateKey(try String(contentsOfFile: probe.privateKeyPath, encoding: .utf8))
        var policy = GroupCommitPolicy()
        policy.segmentBytes = 9 << 20
        let store = try EvidenceStore(at: root, backend: OpenSSLSHA256(), signer: try Ed25519Signer(keyName: name, seed: seed),
                                      clock: SystemWallClock(), policy: policy)
        let writer = try store.writer(for: f.tenant)
        let filler = String(repeating: "x", count: 64 << 10)
        var n = 0
        while try store.logDirectory(f.tenant).segments().count <= segments {
            let rec = EvidenceRecord(kind: "session.chunk", tenant: f.tenant, time: Date(), body: .object(["n": .number(Double(n)), "data": .string(filler)]))
            try writer.append(rec.canonicalBytes())
            n += 1
            if n % 40 == 0 { _ = try writer.checkpoint() }
        }
        _ = try writer.checkpoint()
        let objectStore = try store.objects(for: f.tenant)
        for i in 0..<objects {
            let bytes = (0..<(1000 + i * 997)).map { UInt8(truncatingIfNeeded: $0 &* (i + 3)) }
            _ = try await objectStore.putContentAddressed(bytes, retention: RetentionPolicy(retainUntil: Date().addingTimeInterval(86_400)), backend: OpenSSLSHA256())
        }
        try store.close()
        return f
    }

    var destination: String { "s3://\(bucket)" }
    var s3Arguments: [String] { ["--s3", destination, "--endpoint", SeaweedPeer.endpoint.absoluteString] }
    var verifyArguments: [String] {
        ["log", "verify", "--store", destination, "--endpoint", SeaweedPeer.endpoint.absoluteString, "--tenant", "acme", "--key", root + "/keys/checkpoint.pub"]
    }

    func openStore(signing: Bool = false) throws -> EvidenceStore {
        try EvidenceStore(at: root, backend: OpenSSLSHA256(), signer: nil, clock: SystemWallClock())
    }

    func bucketStore() async throws -> S3ObjectLockStore { try await SeaweedPeer.openStore(bucket: bucket) }

    func remove() { try? FileManager.default.removeItem(atPath: root) }

    // MARK: running nis2ctl

    static let executable: String = {
        if let p = ProcessInfo.processInfo.environment["NIS2CTL_PATH"] { return p }
        let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for c in [dir, dir.deletingLastPathComponent()].map({ $0.appendingPathComponent("nis2ctl").path }) where FileManager.default.isExecutableFile(atPath: c) {
            return c
        }
        return "nis2ctl-not-built"
    }()

    struct Run { var status: Int32; var output: String }

    /// Starts nis2ctl with the peer's credentials, stdout and stderr into `log`.
    func start(_ args: [String], log: String, failpoints: String? = nil) throws -> Process {
        guard FileManager.default.isExecutableFile(atPath: Self.executable) else {
            throw EvidenceError(.notFound, "nis2ctl not found next to the test bundle; build it (swift build --product nis2ctl) or set NIS2CTL_PATH")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.executable)
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        env["AWS_ACCESS_KEY_ID"] = SeaweedPeer.accessKey
        env["AWS_SECRET_ACCESS_KEY"] = SeaweedPeer.secretKey
        if let failpoints { env["NIS2_FAILPOINTS"] = failpoints }
        p.environment = env
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        p.standardOutput = h
        p.standardError = h
        p.standardInput = FileHandle.nullDevice
        try p.run()
        return p
    }

    func nis2ctl(_ args: [String]) throws -> Run {
        let log = root + "-run-\(UUID().uuidString.prefix(6)).log"
        defer { unlink(log) }
        let p = try start(args, log: log)
        p.waitUntilExit()
        return Run(status: p.terminationStatus, output: (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }

    func expectSuccess(_ r: Run, _ what: String = "") throws {
        guard r.status == 0 else { throw EvidenceError(.io, "nis2ctl \(what) failed (\(r.status)): \(r.output.suffix(1500))") }
    }

    // MARK: what the log and the bucket hold

    /// The `replication.uploaded` receipts in the tenant's log, in order.
    func receipts() async throws -> [ReplicationReceipt] {
        let store = try openStore()
        return try await store.records(tenant: tenant, from: 0).compactMap { try ReplicationReceipt(record: $0) }
    }

    /// The keys a complete replication must hold: every sealed segment, every checkpoint
    /// (and its block hashes) within them, every object, and the three store files.
    func expectedKeys() async throws -> Set<String> {
        let store = try openStore()
        let layout = ReplicaLayout(tenant: tenant)
        let dir = store.logDirectory(tenant)
        let segs = try dir.segments()
        var keys: Set<String> = [layout.storeMarker, layout.verifierKey, layout.registration]
        for s in segs.dropLast() { keys.insert(layout.segment(s.name)) }
        let sealedEnd = segs.last?.firstIndex ?? 0
        for note in try dir.checkpoints().notes {
            let cp = try Checkpoint(body: note.text)
            if cp.size <= sealedEnd { keys.insert(layout.checkpoint(size: cp.size)); keys.insert(layout.blocks(size: cp.size)) }
        }
        for k in try await store.objects(for: tenant).list(prefix: "") { keys.insert(layout.object(k)) }
        return keys
    }
}
