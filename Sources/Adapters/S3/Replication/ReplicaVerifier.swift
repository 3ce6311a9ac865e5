import EvidenceCore
import EvidenceOpenSSL
import Foundation

/// The outcome of verifying one tenant from its replica in a bucket.
public struct ReplicaVerification: Sendable {
    public var tenant: String
    /// `LogVerifier`'s result on the log rebuilt from the bucket (nil if it could not be rebuilt).
    public var log: LogVerification?
    /// Keys whose version and SHA-256 were checked against their `replication.uploaded` record.
    public var keysMatchingReceipts = 0
    /// Objects read back in full and hashed.
    public var objectsRead = 0
    /// Replica-level failures: extra or missing versions, delete markers, checksum mismatches.
    public var failures: [String] = []
    public var notes: [String] = []
    public var ok: Bool { failures.isEmpty && (log?.ok ?? false) }
}

/// Verifies a tenant from the bucket alone: lists every version under the tenant's prefix,
/// reads back the sealed segments, checkpoints and block hashes (each exact version, hashed,
/// with bounded memory) into a scratch `LogDirectory`, runs `LogVerifier` on it unchanged,
/// then checks every `replication.uploaded` record of that log against the bucket.
///
/// Fails (never throws for these; they are listed in `failures`): a key with more than one
/// version (an overwrite, even when the original is still there) or a delete marker; a key
/// whose only version is not the one recorded; a recorded key missing from the bucket; any
/// body that does not hash to its recorded SHA-256; a content-addressed object whose bytes
/// are not its name; a key this layout never writes.
/// Trusts only the verifier key it is given; without one it uses the key in the bucket and
/// says so in `notes`.
public struct ReplicaVerifier: Sendable {
    public let bucket: S3ObjectLockStore
    let backend = OpenSSLSHA256()

    public init(bucket: S3ObjectLockStore) { self.bucket = bucket }

    var destination: String {
        let c = bucket.client.configuration
        return "s3://" + c.bucket + (c.prefix.isEmpty ? "" : "/" + c.prefix)
    }

    /// Tenants with a registration in the bucket.
    public func tenants() async throws -> [TenantID] {
        try await bucket.list(prefix: "tenants/").compactMap { key in
            let parts = key.split(separator: "/")
            guard parts.count == 3, parts[2] == "tenant.json" else { return nil }
            return try? TenantID(String(parts[1]))
        }
    }

    /// Verifies one tenant, using `scratch` (a new folder, removed afterwards) for the copy.
    public func verify(tenant: TenantID, verifierKey: (any SignatureVerifier)?, scratch: String) async throws -> ReplicaVerification {
        var v = ReplicaVerification(tenant: tenant.rawValue)
        let layout = ReplicaLayout(tenant: tenant)
        let logPath = scratch + "/log"
        try FileManager.default.createDirectory(atPath: logPath, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }

        // 1. Versions: exactly one per key, no delete markers, only keys of the layout.
        var chosen: [String: S3ObjectVersion] = [:]
        var byKey: [String: [S3ObjectVersion]] = [:]
        for e in try await bucket.listVersions(prefix: layout.root + "/") { byKey[e.key, default: []].append(e) }
        for (key, all) in byKey.sorted(by: { $0.key < $1.key }) {
            if layout.classify(key) == nil { v.failures.append("key '\(key)' is not part of the replica layout (written by something else)") }
            for m in all where m.isDeleteMarker {
                v.failures.append("key '\(key)' has a delete marker (version \(m.versionID)); the replica is never deleted from")
            }
            let stored = all.filter { !$0.isDeleteMarker }.sorted { $0.lastModified < $1.lastModified }
            if stored.count > 1 {
                let list = stored.map { "\($0.versionID)\($0.isLatest ? " (current)" : "")" }.joined(separator: ", ")
                v.failures.append("key '\(key)' has \(stored.count) versions (\(list)): it was overwritten after replication")
            }
            if let first = stored.first { chosen[key] = first }
        }
        guard chosen[layout.registration] != nil else {
            v.failures.append("tenant \(tenant) has no registration '\(layout.registration)' in \(destination)")
            return v
        }

        // 2. Store marker and verifier key.
        var fetched: [String: StoredObjectInfo] = [:]
        func small(_ key: String) async throws -> [UInt8]? {
            guard let version = chosen[key] else { v.failures.append("'\(key)' is missing from \(destination)"); return nil }
            let (bytes, info) = try await bucket.read(key, versionID: version.versionID, expected: nil)
            fetched[key] = info
            return bytes
        }
        guard let markerBytes = try await small(layout.storeMarker),
              let manifest = try? JSONDecoder().decode(EvidenceStore.Manifest.self, from: Data(markerBytes)) else {
            v.failures.append("the store marker '\(layout.storeMarker)' is missing or unreadable; the tenant's log origin is unknown")
            return v
        }
        let trusted: any SignatureVerifier
        if let verifierKey { trusted = verifierKey } else {
            guard let keyBytes = try await small(layout.verifierKey) else { return v }
            let (name, pub) = try NoteKey.parseVerifierKey(String(decoding: keyBytes, as: UTF8.self))
            trusted = try Ed25519Verifier(keyName: name, publicKey: pub)
            v.notes.append("checkpoints checked with the verifier key stored in the bucket; pass an independently kept key to detect a replaced key")
        }

        // 3. Rebuild the log: segments, checkpoints (in size order), the latest block hashes.
        var checkpoints: [(UInt64, [UInt8])] = []
        var blockSizes: [UInt64] = []
        for (key, version) in chosen.sorted(by: { $0.key < $1.key }) {
            switch layout.classify(key) {
            case .segment:
                let name = String(key.dropFirst(layout.logPrefix.count))
                fetched[key] = try await fetch(key, version, to: logPath + "/" + name, &v)
            case .checkpoint(let size):
                if let bytes = try await small(key) { checkpoints.append((size, bytes)) }
            case .blocks(let size): blockSizes.append(size)
            default: break
            }
        }
        var cpFile = SegmentFormat.header(firstIndex: 0)
        for (_, note) in checkpoints.sorted(by: { $0.0 < $1.0 }) {
            withUnsafeBytes(of: UInt32(note.count).bigEndian) { cpFile.append(contentsOf: $0) }
            cpFile.append(contentsOf: note)
            withUnsafeBytes(of: backend.leafHash(note).w0.bigEndian) { cpFile.append(contentsOf: $0) }
        }
        if !checkpoints.isEmpty { try Data(cpFile).write(to: URL(fileURLWithPath: logPath + "/checkpoints.log")) }
        if let latest = checkpoints.map(\.0).max() {
            let key = layout.blocks(size: latest)
            if let version = chosen[key] {
                fetched[key] = try await fetch(key, version, to: logPath + "/blocks.hashes", &v)
            } else {
                v.failures.append("the block hashes for checkpoint size \(latest) ('\(key)') are missing")
            }
        }
        let dir = LogDirectory(path: logPath, backend: backend)
        let log = try LogVerifier(backend: backend, verifier: trusted, origin: manifest.origin + "/" + tenant.rawValue)
            .verify(dir, tenant: tenant.rawValue)
        v.log = log

        // 4. Every receipt in the replicated log against the bucket.
        var receipts: [String: ReplicationReceipt] = [:]
        if log.records > 0 {
            let marker = Array(ReplicationReceipt.recordKind.utf8)
            try dir.forEachRecord(in: 0..<log.records) { i, rec, _ in
                guard rec.firstRange(of: marker) != nil,
                      let r = try ReplicationReceipt(record: EvidenceRecord(canonicalBytes: Array(rec))), r.destination == destination else { return }
                if receipts[r.key] != nil { v.failures.append("record \(i) records '\(r.key)' a second time: an object is recorded once") }
                receipts[r.key] = r
            }
        }
        for (key, r) in receipts.sorted(by: { $0.key < $1.key }) {
            guard let all = byKey[key]?.filter({ !$0.isDeleteMarker }), !all.isEmpty else {
                v.failures.append("'\(key)' is recorded as version \(r.versionID ?? "-") but is missing from \(destination)"); continue
            }
            if let want = r.versionID, let wrong = all.first(where: { $0.versionID != want }) {
                v.failures.append("'\(key)': the bucket holds version \(wrong.versionID)\(wrong.isLatest ? " (current)" : ""), but the log recorded only version \(want) (SHA-256 \(r.sha256.hex))")
                continue
            }
            if let info = fetched[key] {
                if info.sha256 != r.sha256 || info.size != r.size {
                    v.failures.append("'\(key)' version \(info.versionID ?? "-") has SHA-256 \(info.sha256.hex), \(info.size) bytes; the log recorded \(r.sha256.hex), \(r.size) bytes")
                    continue
                }
            } else if case .object(let localKey)? = layout.classify(key), let version = chosen[key] {
                try await checkObject(key, localKey: localKey, version, expected: r, scratch: scratch, &v)
            }
            v.keysMatchingReceipts += 1
        }
        let unrecorded = chosen.keys.filter { receipts[$0] == nil }.sorted()
        for key in unrecorded {
            if case .object(let localKey)? = layout.classify(key), let version = chosen[key] {
                try await checkObject(key, localKey: localKey, version, expected: nil, scratch: scratch, &v)
            }
        }
        if !unrecorded.isEmpty {
            v.notes.append("\(unrecorded.count) key(s) are not yet recorded in the replicated part of the log (their records are in a segment not sealed yet): checked by their own SHA-256 and single version only")
        }
        return v
    }

    /// Downloads one version to `path`; a checksum failure is recorded, not thrown.
    private func fetch(_ key: String, _ version: S3ObjectVersion, to path: String, _ v: inout ReplicaVerification) async throws -> StoredObjectInfo? {
        do {
            let info = try await bucket.download(key, versionID: version.versionID, expected: nil, to: path)
            v.objectsRead += 1
            return info
        } catch let e as EvidenceError where e.code == .verificationFailed {
            v.failures.append(e.message); return nil
        }
    }

    private func checkObject(_ key: String, localKey: String, _ version: S3ObjectVersion, expected: ReplicationReceipt?,
                             scratch: String, _ v: inout ReplicaVerification) async throws {
        let tmp = scratch + "/object.tmp"
        try? FileManager.default.removeItem(atPath: tmp)
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        do {
            let info = try await bucket.download(key, versionID: version.versionID, expected: expected.map { ($0.sha256, $0.size) }, to: tmp)
            v.objectsRead += 1
            let parts = localKey.split(separator: "/")
            if parts.count == 3, parts[0] == "sha256", String(parts[2]) != info.sha256.hex {
                v.failures.append("content-addressed object '\(key)' has SHA-256 \(info.sha256.hex), not its name")
            }
        } catch let e as EvidenceError where e.code == .verificationFailed {
            v.failures.append(e.message)
        }
    }
}
