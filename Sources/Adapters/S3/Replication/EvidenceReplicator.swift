import EvidenceCore
import EvidenceOpenSSL
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Copies one tenant of a local `EvidenceStore` to an S3 Object Lock bucket, in the layout of
/// `ReplicaLayout`, and records every copied object in the tenant's own log as a
/// `replication.uploaded` record (destination, key, versionId, SHA-256, size).
///
/// Guarantees:
/// - Only immutable things are copied: sealed (read-only) segments in index order, stopping at
///   the first one still open; a checkpoint only once every segment it covers is in the
///   bucket, preceded by the block-hash file as it was at that checkpoint; content-addressed
///   objects; the store marker, verifier key and tenant registration.
/// - Crash-safe without gaps or duplicates: a pass starts from the receipts already in the
///   log (cached in a local progress file written after each record); a key that is in the
///   bucket but not yet recorded (a crash between upload and record) is checked by SHA-256
///   and recorded with the version the bucket holds, never uploaded again; a multipart
///   upload cut by a crash resumes with the same UploadId. Every key is recorded exactly once.
/// - Bounded memory: large files are hashed through a 2 MiB ring and their parts streamed
///   from the file (with `LoopbackHTTPTransport`; through URLSession one part per upload
///   slot, `multipartPartSize` x `multipartConcurrency`), objects under one part in one
///   buffer, and one receipt per replicated key.
/// Refuses: a key the bucket holds with bytes other than the local ones (`.immutable`, naming
/// the key: something else wrote into the replica), a tenant that is not registered.
/// The store's log must be writable by this process (one writer per tenant).
public actor EvidenceReplicator {
    /// What one pass did.
    public struct Pass: Sendable {
        /// Objects uploaded (or found uploaded after a crash) and recorded in this pass.
        public var recorded: [ReplicationReceipt] = []
        /// Keys already recorded by earlier passes.
        public var alreadyRecorded = 0
        /// Things left for a later pass, and why.
        public var pending: [String] = []
    }

    nonisolated public let tenant: TenantID
    nonisolated public let layout: ReplicaLayout
    /// `s3://bucket` or `s3://bucket/prefix`, as written in each receipt.
    nonisolated public let destination: String
    private let store: EvidenceStore
    private let bucket: S3ObjectLockStore
    private let retention: @Sendable (Date) -> RetentionPolicy
    private let onRecorded: @Sendable (ReplicationReceipt) -> Void
    private var progress: ReplicationProgress?
    private let stateFolder: String

    /// - Parameters:
    ///   - retention: the Object Lock policy for an object copied at the given time. An object
    ///     of the tenant's object store keeps at least its local retention in the bucket: the
    ///     later retain-until of the two, and its legal hold.
    ///   - onRecorded: called after each receipt is durable in the log (progress reporting).
    public init(store: EvidenceStore, tenant: TenantID, bucket: S3ObjectLockStore,
                retention: @escaping @Sendable (Date) -> RetentionPolicy,
                onRecorded: @escaping @Sendable (ReplicationReceipt) -> Void = { _ in }) throws {
        try store.requireTenant(tenant)
        let c = bucket.client.configuration
        self.store = store; self.tenant = tenant; self.bucket = bucket
        self.retention = retention; self.onRecorded = onRecorded
        self.layout = ReplicaLayout(tenant: tenant)
        self.destination = "s3://" + c.bucket + (c.prefix.isEmpty ? "" : "/" + c.prefix)
        let id = OpenSSLSHA256().hash(bytes: Array((c.endpoint.absoluteString + "|" + destination).utf8)).hex.prefix(16)
        self.stateFolder = store.tenantPath(tenant) + "/replication/" + id
    }

    /// Passes until the task is cancelled, `interval` apart.
    public func run(every interval: Duration) async throws {
        while !Task.isCancelled {
            _ = try await replicateOnce()
            try await Task.sleep(for: interval)
        }
    }

    /// One pass over everything the tenant holds now.
    public func replicateOnce() async throws -> Pass {
        var pass = Pass()
        try await loadProgress()
        let tenantRoot = store.tenantPath(tenant)
        try await copy(file: store.root + "/" + EvidenceStore.markerName, to: layout.storeMarker, &pass)
        try await copy(file: store.verifierKeyPath, to: layout.verifierKey, &pass)
        try await copy(file: tenantRoot + "/tenant.json", to: layout.registration, &pass)

        let objects = try store.objects(for: tenant)
        for key in try await objects.list(prefix: "") {
            // The bucket copy is held at least as long as the local object, and under its legal hold.
            let local = try await objects.head(key)?.retention
            try await copy(file: objects.root + "/data/" + key, to: layout.object(key), &pass, local: local)
        }

        let dir = store.logDirectory(tenant)
        let segments = try dir.segments()
        var sealedEnd: UInt64 = 0
        for (i, seg) in segments.enumerated() {
            let path = dir.path + "/" + seg.name
            guard i < segments.count - 1, Self.isSealed(path) else {
                pass.pending.append("segment \(seg.name) is still open (it is copied once sealed)")
                break
            }
            try await copy(file: path, to: layout.segment(seg.name), &pass)
            sealedEnd = segments[i + 1].firstIndex
        }

        let (notes, raws, _) = try dir.checkpoints()
        var seenSizes = Set<UInt64>()
        for (note, raw) in zip(notes, raws) {
            guard let cp = try? Checkpoint(body: note.text), seenSizes.insert(cp.size).inserted else { continue }
            guard cp.size <= sealedEnd else {
                pass.pending.append("checkpoint of size \(cp.size) waits for the segments up to record \(cp.size) to be sealed")
                continue
            }
            let blockBytes = Int(cp.size / StoredTree.blockLeaves) * 32
            let blocks = try Self.readPrefix(dir.blocksPath, count: blockBytes)
            guard blocks.count == blockBytes else {
                pass.pending.append("checkpoint of size \(cp.size): blocks.hashes holds \(blocks.count / 32) of \(blockBytes / 32) entries yet")
                continue
            }
            try await copy(bytes: blocks, to: layout.blocks(size: cp.size), &pass)
            try await copy(bytes: raw, to: layout.checkpoint(size: cp.size), &pass)
        }
        return pass
    }

    // MARK: steps

    private func loadProgress() async throws {
        guard progress == nil else { return }
        var p = try ReplicationProgress(path: stateFolder + "/progress.jsonl", destination: destination)
        let dir = store.logDirectory(tenant)
        let end = try LogVerifier.recordCount(dir)
        if p.scannedTo < end {
            let marker = Array(ReplicationReceipt.recordKind.utf8)
            var found: [(ReplicationReceipt, UInt64)] = []
            try dir.forEachRecord(in: p.scannedTo..<end) { i, rec, _ in
                guard rec.firstRange(of: marker) != nil else { return }
                let record = try EvidenceRecord(canonicalBytes: Array(rec))
                if let r = try ReplicationReceipt(record: record), r.destination == destination { found.append((r, i)) }
            }
            for (r, i) in found where p.recorded[r.key] == nil { try p.adopt(r, index: i) }
            try p.markScanned(to: end)
        }
        progress = p
    }

    /// The policy of a bucket copy made at `now`: the configured one, with the later of its and
    /// the local object's retain-until, the local legal hold, and COMPLIANCE if either says so.
    static func policy(_ configured: RetentionPolicy, carrying local: RetentionPolicy?) -> RetentionPolicy {
        guard let local else { return configured }
        return RetentionPolicy(mode: configured.mode == .compliance || local.mode == .compliance ? .compliance : .governance,
                               retainUntil: max(configured.retainUntil, local.retainUntil),
                               legalHold: configured.legalHold || local.legalHold)
    }

    private func copy(file path: String, to key: String, _ pass: inout Pass, local: RetentionPolicy? = nil) async throws {
        if progress!.recorded[key] != nil { pass.alreadyRecorded += 1; return }
        let info: StoredObjectInfo
        if let existing = try await bucket.head(key) {
            let file = try S3SourceFile(path: path)
            info = try adopt(existing, localSHA: try file.sha256(), localSize: file.size, path: path)
        } else {
            try FileManager.default.createDirectory(atPath: stateFolder, withIntermediateDirectories: true)
            let stateFile = stateFolder + "/upload-" + OpenSSLSHA256().hash(bytes: Array(key.utf8)).hex.prefix(24) + ".json"
            info = try await bucket.uploadFile(at: path, key: key, retention: Self.policy(retention(store.clock.now()), carrying: local),
                                               stateFile: stateFile)
        }
        try await record(info, &pass)
    }

    private func copy(bytes: [UInt8], to key: String, _ pass: inout Pass) async throws {
        if progress!.recorded[key] != nil { pass.alreadyRecorded += 1; return }
        let info: StoredObjectInfo
        if let existing = try await bucket.head(key) {
            info = try adopt(existing, localSHA: OpenSSLSHA256().hash(bytes: bytes), localSize: UInt64(bytes.count), path: key)
        } else {
            info = try await bucket.put(key, bytes: bytes, retention: retention(store.clock.now()))
        }
        try await record(info, &pass)
    }

    /// An object found in the bucket before it was recorded: ours only if it has our bytes.
    private func adopt(_ existing: StoredObjectInfo, localSHA: Digest, localSize: UInt64, path: String) throws -> StoredObjectInfo {
        guard existing.sha256 == localSHA, existing.size == localSize else {
            throw EvidenceError(.immutable, "bucket key '\(existing.key)' (version \(existing.versionID ?? "-")) holds SHA-256 \(existing.sha256.hex), \(existing.size) bytes, but the local '\(path)' has \(localSHA.hex), \(localSize) bytes; something other than this replicator wrote into the replica: investigate before replicating again")
        }
        return existing
    }

    private func record(_ info: StoredObjectInfo, _ pass: inout Pass) async throws {
        let receipt = ReplicationReceipt(destination: destination, key: info.key, versionID: info.versionID, sha256: info.sha256, size: info.size)
        let index = try await store.append(EvidenceRecord(kind: ReplicationReceipt.recordKind, tenant: tenant, time: store.clock.now(), body: receipt.body))
        try progress!.add(receipt, index: index)
        pass.recorded.append(receipt)
        onRecorded(receipt)
        Failpoint.reach("replicate.recorded")
    }

    // MARK: files

    static func isSealed(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & 0o222) == 0
    }

    static func readPrefix(_ path: String, count: Int) throws -> [UInt8] {
        guard count > 0 else { return [] }
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        let file = try S3SourceFile(path: path)
        return try file.read(offset: 0, count: Int(min(UInt64(count), file.size)))
    }
}
