import Foundation

/// What a store promises about immutability.
public enum ImmutabilityGuarantee: String, Sendable, Codable {
    /// The storage itself refuses overwrite and early deletion, even to its administrator
    /// (S3 Object Lock in COMPLIANCE mode).
    case enforcedRetention
    /// This library never overwrites or deletes early, and files are read-only, but whoever
    /// administers the backend could still alter it (a local folder, GOVERNANCE mode);
    /// tampering is detected by hashes, checkpoints and proofs, not prevented.
    case tamperEvidentOnly
}

/// How long an object must be kept, and whether a legal hold pins it beyond that.
public struct RetentionPolicy: Hashable, Sendable, Codable {
    public enum Mode: String, Sendable, Codable { case compliance = "COMPLIANCE", governance = "GOVERNANCE" }
    public var mode: Mode
    public var retainUntil: Date
    public var legalHold: Bool

    public init(mode: Mode = .compliance, retainUntil: Date, legalHold: Bool = false) {
        self.mode = mode; self.retainUntil = retainUntil; self.legalHold = legalHold
    }
}

/// What a store knows about one object.
public struct StoredObjectInfo: Hashable, Sendable, Codable {
    public var key: String
    public var size: UInt64
    public var sha256: Digest
    public var retention: RetentionPolicy
    /// Backend version identifier (S3 versionId); nil where the store has no versions.
    public var versionID: String?
    public var storedAt: Date

    public init(key: String, size: UInt64, sha256: Digest, retention: RetentionPolicy, versionID: String? = nil, storedAt: Date) {
        self.key = key; self.size = size; self.sha256 = sha256; self.retention = retention
        self.versionID = versionID; self.storedAt = storedAt
    }
}

extension Digest: Codable {
    public init(from decoder: Decoder) throws {
        let s = try decoder.singleValueContainer().decode(String.self)
        guard let d = Digest(hex: s) else { throw EvidenceError.malformed("'\(s.prefix(80))' is not a 64-digit hex SHA-256 digest") }
        self = d
    }
    public func encode(to encoder: Encoder) throws { var c = encoder.singleValueContainer(); try c.encode(hex) }
}

/// Write-once object storage for evidence: recordings, sealed segments, packs.
///
/// Guarantees every implementation must keep (checked by the WORM conformance suite in
/// Tests/EvidenceCoreTests/WORMConformance.swift, which every store runs):
/// - `put` of an existing key fails with `.immutable`, whatever the bytes; nothing is overwritten.
/// - `put` returns only once the object is durable; a failed `put` leaves no visible object.
/// - `get` returns exactly the bytes put, or throws `.verificationFailed` if they no longer hash
///   to the recorded SHA-256.
/// - `delete` inside the retention period, or under legal hold, fails with `.immutable`.
/// - `list(prefix:)` returns every key with the prefix, in ascending order.
/// - Keys are relative paths of `[A-Za-z0-9._-]` segments joined by `/`; no `..`.
public protocol WORMStore: Sendable {
    var guarantee: ImmutabilityGuarantee { get async }
    func put(_ key: String, bytes: [UInt8], retention: RetentionPolicy) async throws -> StoredObjectInfo
    func get(_ key: String) async throws -> [UInt8]
    func head(_ key: String) async throws -> StoredObjectInfo?
    func list(prefix: String) async throws -> [String]
    func setLegalHold(_ key: String, _ on: Bool) async throws
    /// Removes an object whose retention has passed and that carries no legal hold (data
    /// minimisation). Stores that never delete throw `.unsupported`.
    func delete(_ key: String) async throws
}

/// Key rules shared by every store.
public enum ObjectKey {
    public static func validate(_ key: String) throws {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard !key.isEmpty, key.utf8.count <= 1024, parts.allSatisfy({ p in
            !p.isEmpty && p != "." && p != ".." && p.utf8.allSatisfy { c in
                (0x30...0x39).contains(c) || (0x41...0x5a).contains(c) || (0x61...0x7a).contains(c) || c == 0x2e || c == 0x5f || c == 0x2d
            }
        }) else {
            throw EvidenceError.malformed("object key '\(key.prefix(120))' is not valid: use '/'-separated segments of A-Z a-z 0-9 . _ - (no '..', at most 1024 bytes)")
        }
    }
}
