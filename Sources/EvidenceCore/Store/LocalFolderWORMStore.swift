import Foundation

/// A write-once object store in a local folder: the embedded default for recording chunks
/// and other large payloads.
///
/// ```
/// <root>/data/<key>        the bytes, read-only, created with link(2) so a key is never replaced
/// <root>/meta/<key>.json   size, SHA-256, retention, time stored (written once, before the data)
/// <root>/holds/<key>       present while a legal hold is placed
/// ```
/// Guarantees: those of `WORMStore`; `guarantee` is `.tamperEvidentOnly` because the folder's
/// administrator could still change it — `get` re-hashes every read so such a change is caught.
public struct LocalFolderWORMStore: WORMStore {
    public let root: String
    let backend: any SHA256Backend
    let clock: any WallClock

    public init(root: String, backend: any SHA256Backend, clock: any WallClock) throws {
        self.root = root; self.backend = backend; self.clock = clock
        for d in [root, root + "/data", root + "/meta", root + "/holds"] { try FileIO.makeDirectory(d) }
    }

    public var guarantee: ImmutabilityGuarantee { .tamperEvidentOnly }

    /// Creates the missing folders above `path`, which lies under `root`; a relative root
    /// stays relative (it names folders under the working directory, not under `/`).
    private func ensureParents(_ path: String) throws {
        var cur = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/").dropLast() {
            cur += "/" + part
            try FileIO.makeDirectory(cur)
        }
    }

    private func meta(_ key: String) throws -> StoredObjectInfo? {
        let p = root + "/meta/" + key + ".json"
        guard FileIO.exists(p) else { return nil }
        do {
            let d = JSONDecoder(); d.dateDecodingStrategy = .custom { try Timestamp.parse(try $0.singleValueContainer().decode(String.self)) }
            return try d.decode(StoredObjectInfo.self, from: Data(try FileIO.readFile(p, limit: 1 << 16)))
        } catch {
            throw EvidenceError.verification("metadata of object \(key) is unreadable: \(error)")
        }
    }

    public func put(_ key: String, bytes: [UInt8], retention: RetentionPolicy) async throws -> StoredObjectInfo {
        try ObjectKey.validate(key)
        let digest = backend.hash(bytes: bytes)
        let dataPath = root + "/data/" + key, metaPath = root + "/meta/" + key + ".json"
        if FileIO.exists(dataPath) { throw EvidenceError(.immutable, "object \(key) already exists; objects are written once and never replaced") }
        try ensureParents(dataPath); try ensureParents(metaPath)
        // Metadata first: data without metadata never exists, so every visible object can be checked.
        let info = StoredObjectInfo(key: key, size: UInt64(bytes.count), sha256: digest, retention: retention, versionID: nil, storedAt: clock.now())
        if let existing = try meta(key) {
            guard existing.sha256 == digest, existing.size == info.size else {
                throw EvidenceError(.immutable, "object \(key) already exists with other content; objects are written once and never replaced")
            }
        } else {
            _ = try JCS.canonicalize(info).withUnsafeBytes { try FileIO.createImmutable(metaPath, bytes: $0) }
        }
        if legalHoldPlaced(key) == false && retention.legalHold {
            try setHoldFile(key, true)
        }
        let created = try bytes.withUnsafeBytes { try FileIO.createImmutable(dataPath, bytes: $0) }
        guard created else { throw EvidenceError(.immutable, "object \(key) already exists; objects are written once and never replaced") }
        return try meta(key) ?? info
    }

    public func get(_ key: String) async throws -> [UInt8] {
        try ObjectKey.validate(key)
        guard let info = try meta(key), FileIO.exists(root + "/data/" + key) else { throw EvidenceError(.notFound, "no object \(key)") }
        let bytes = try FileIO.readFile(root + "/data/" + key, limit: Int(min(info.size + 1, UInt64(Int.max))))
        guard UInt64(bytes.count) == info.size, backend.hash(bytes: bytes) == info.sha256 else {
            throw EvidenceError.verification("object \(key) no longer matches the SHA-256 recorded when it was stored (\(info.sha256.hex)); it was altered")
        }
        return bytes
    }

    public func head(_ key: String) async throws -> StoredObjectInfo? {
        try ObjectKey.validate(key)
        guard var info = try meta(key), FileIO.exists(root + "/data/" + key) else { return nil }
        info.retention.legalHold = legalHoldPlaced(key)
        return info
    }

    public func list(prefix: String) async throws -> [String] {
        var out: [String] = []
        func walk(_ rel: String) throws {
            let dir = root + "/data" + (rel.isEmpty ? "" : "/" + rel)
            for name in try FileIO.list(dir) where !name.hasPrefix(".tmp-") {
                let k = rel.isEmpty ? name : rel + "/" + name
                if FileIO.isDirectory(dir + "/" + name) {
                    if k.hasPrefix(prefix) || prefix.hasPrefix(k + "/") { try walk(k) }
                } else if k.hasPrefix(prefix) {
                    out.append(k)
                }
            }
        }
        try walk("")
        return out.sorted()
    }

    private func legalHoldPlaced(_ key: String) -> Bool { FileIO.exists(root + "/holds/" + key) }

    private func setHoldFile(_ key: String, _ on: Bool) throws {
        let p = root + "/holds/" + key
        if on {
            try ensureParents(p)
            _ = try [UInt8]().withUnsafeBytes { try FileIO.createImmutable(p, bytes: $0) }
        } else if unlink(p) != 0 && errno != ENOENT {
            throw EvidenceError.io("cannot lift legal hold on \(key)", errno: errno)
        }
        try FileIO.syncDirectory((p as NSString).deletingLastPathComponent)
    }

    public func setLegalHold(_ key: String, _ on: Bool) async throws {
        guard try await head(key) != nil else { throw EvidenceError(.notFound, "no object \(key) to place a legal hold on") }
        try setHoldFile(key, on)
    }

    public func delete(_ key: String) async throws {
        guard let info = try await head(key) else { throw EvidenceError(.notFound, "no object \(key)") }
        if info.retention.legalHold { throw EvidenceError(.immutable, "object \(key) is under legal hold; lift the hold first") }
        let now = clock.now()
        guard now >= info.retention.retainUntil else {
            throw EvidenceError(.immutable, "object \(key) is retained until \(Timestamp.format(info.retention.retainUntil)); it cannot be deleted before")
        }
        unlink(root + "/data/" + key)
        unlink(root + "/meta/" + key + ".json")
        try FileIO.syncDirectory(((root + "/data/" + key) as NSString).deletingLastPathComponent)
    }
}

extension WORMStore {
    /// Stores bytes under their own SHA-256 (`sha256/ab/abcdef…`): putting the same bytes
    /// twice returns the existing object instead of failing, since it is the same evidence.
    public func putContentAddressed(_ bytes: [UInt8], retention: RetentionPolicy, backend: any SHA256Backend) async throws -> StoredObjectInfo {
        let d = backend.hash(bytes: bytes)
        let key = "sha256/" + String(d.hex.prefix(2)) + "/" + d.hex
        if let existing = try await head(key) { return existing }
        return try await put(key, bytes: bytes, retention: retention)
    }
}
