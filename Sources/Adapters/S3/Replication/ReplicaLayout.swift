import EvidenceCore
import Foundation

/// Where a replicated evidence store lives in a bucket, relative to the store's key prefix.
/// Every tenant's prefix holds everything needed to verify that tenant from the bucket alone.
///
/// ```
/// tenants/<t>/store/nis2-store.json             the store marker (origin, key name)
/// tenants/<t>/store/checkpoint.pub              the checkpoint verifier key as replicated
/// tenants/<t>/tenant.json                       the tenant's registration
/// tenants/<t>/log/seg-<first index>.log         sealed log segments, byte for byte
/// tenants/<t>/log/checkpoints/<size, 20 digits>.note   one signed checkpoint per tree size
/// tenants/<t>/log/blocks/<size, 20 digits>.hashes      blocks.hashes as it was at that checkpoint
/// tenants/<t>/objects/<object key>              content-addressed objects (sha256/ab/abcd…)
/// ```
/// Every key is written once: segments are sealed (read-only) before they are copied, a
/// checkpoint of a given size is never rewritten, and objects are named by their SHA-256.
public struct ReplicaLayout: Sendable {
    public let tenant: TenantID

    public init(tenant: TenantID) { self.tenant = tenant }

    public var root: String { "tenants/" + tenant.rawValue }
    public var storeMarker: String { root + "/store/" + EvidenceStore.markerName }
    public var verifierKey: String { root + "/store/checkpoint.pub" }
    public var registration: String { root + "/tenant.json" }
    public var logPrefix: String { root + "/log/" }
    public var checkpointPrefix: String { root + "/log/checkpoints/" }
    public var blocksPrefix: String { root + "/log/blocks/" }
    public var objectPrefix: String { root + "/objects/" }

    public func segment(_ fileName: String) -> String { logPrefix + fileName }
    public func checkpoint(size: UInt64) -> String { checkpointPrefix + Self.padded(size) + ".note" }
    public func blocks(size: UInt64) -> String { blocksPrefix + Self.padded(size) + ".hashes" }
    public func object(_ localKey: String) -> String { objectPrefix + localKey }

    /// What a replica key holds, parsed from its name; nil for a name this layout never writes.
    public enum Entry: Equatable, Sendable {
        case storeMarker, verifierKey, registration
        case segment(firstIndex: UInt64)
        case checkpoint(size: UInt64)
        case blocks(size: UInt64)
        case object(localKey: String)
    }

    public func classify(_ key: String) -> Entry? {
        if key == storeMarker { return .storeMarker }
        if key == verifierKey { return .verifierKey }
        if key == registration { return .registration }
        if key.hasPrefix(checkpointPrefix) { return Self.size(key.dropFirst(checkpointPrefix.count), suffix: ".note").map { .checkpoint(size: $0) } }
        if key.hasPrefix(blocksPrefix) { return Self.size(key.dropFirst(blocksPrefix.count), suffix: ".hashes").map { .blocks(size: $0) } }
        if key.hasPrefix(logPrefix) {
            let name = String(key.dropFirst(logPrefix.count))
            return SegmentFormat.firstIndex(fromFileName: name).map { .segment(firstIndex: $0) }
        }
        if key.hasPrefix(objectPrefix) { return .object(localKey: String(key.dropFirst(objectPrefix.count))) }
        return nil
    }

    static func padded(_ n: UInt64) -> String {
        let d = String(n)
        return String(repeating: "0", count: max(0, 20 - d.count)) + d
    }

    private static func size(_ name: Substring, suffix: String) -> UInt64? {
        guard name.hasSuffix(suffix), name.utf8.count == 20 + suffix.utf8.count else { return nil }
        return UInt64(name.dropLast(suffix.count))
    }
}

/// The body of a `replication.uploaded` record: one object copied to a bucket, exactly as the
/// bucket answered (key relative to the destination, versionId, SHA-256, size).
public struct ReplicationReceipt: Hashable, Sendable {
    public static let recordKind = "replication.uploaded"

    /// `s3://bucket` or `s3://bucket/prefix`.
    public var destination: String
    /// Key relative to the destination prefix (a `ReplicaLayout` key).
    public var key: String
    public var versionID: String?
    public var sha256: Digest
    public var size: UInt64

    public init(destination: String, key: String, versionID: String?, sha256: Digest, size: UInt64) {
        self.destination = destination; self.key = key; self.versionID = versionID; self.sha256 = sha256; self.size = size
    }

    public var body: JSONValue {
        .object(["destination": .string(destination), "key": .string(key), "versionId": versionID.map { .string($0) } ?? .null,
                 "sha256": .string(sha256.hex), "size": .number(Double(size))])
    }

    /// Reads a receipt back from a record; nil when the record is of another kind.
    /// Throws when a `replication.uploaded` record is malformed (a log we wrote never has one).
    public init?(record: EvidenceRecord) throws {
        guard record.kind == Self.recordKind else { return nil }
        guard case .object(let o) = record.body, let d = o["destination"]?.stringValue, let k = o["key"]?.stringValue,
              let h = o["sha256"]?.stringValue, let sha = Digest(hex: h), let n = o["size"]?.numberValue, n >= 0 else {
            throw EvidenceError(.malformedInput, "a \(Self.recordKind) record of tenant \(record.tenant) lacks destination, key, sha256 or size")
        }
        self.init(destination: d, key: k, versionID: o["versionId"]?.stringValue, sha256: sha, size: UInt64(n))
    }
}
