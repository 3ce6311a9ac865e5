import Foundation

/// A write-once store in memory, for tests of code that writes evidence. Keeps every
/// `WORMStore` guarantee (it passes the same conformance suite) but nothing survives the process.
public actor InMemoryWORMStore: WORMStore {
    private var objects: [String: ([UInt8], StoredObjectInfo)] = [:]
    private let clock: any WallClock
    private let backend: any SHA256Backend

    public init(clock: any WallClock, backend: any SHA256Backend = PortableSHA256()) { self.clock = clock; self.backend = backend }

    public var guarantee: ImmutabilityGuarantee { .tamperEvidentOnly }

    public func put(_ key: String, bytes: [UInt8], retention: RetentionPolicy) async throws -> StoredObjectInfo {
        try ObjectKey.validate(key)
        guard objects[key] == nil else { throw EvidenceError(.immutable, "object \(key) already exists; objects are written once and never replaced") }
        let info = StoredObjectInfo(key: key, size: UInt64(bytes.count), sha256: backend.hash(bytes: bytes), retention: retention, storedAt: clock.now())
        objects[key] = (bytes, info)
        return info
    }

    public func get(_ key: String) async throws -> [UInt8] {
        guard let o = objects[key] else { throw EvidenceError(.notFound, "no object \(key)") }
        return o.0
    }

    public func head(_ key: String) async throws -> StoredObjectInfo? { objects[key]?.1 }

    public func list(prefix: String) async throws -> [String] { objects.keys.filter { $0.hasPrefix(prefix) }.sorted() }

    public func setLegalHold(_ key: String, _ on: Bool) async throws {
        guard objects[key] != nil else { throw EvidenceError(.notFound, "no object \(key) to place a legal hold on") }
        objects[key]!.1.retention.legalHold = on
    }

    public func delete(_ key: String) async throws {
        guard let o = objects[key] else { throw EvidenceError(.notFound, "no object \(key)") }
        if o.1.retention.legalHold { throw EvidenceError(.immutable, "object \(key) is under legal hold; lift the hold first") }
        guard clock.now() >= o.1.retention.retainUntil else {
            throw EvidenceError(.immutable, "object \(key) is retained until \(Timestamp.format(o.1.retention.retainUntil)); it cannot be deleted before")
        }
        objects[key] = nil
    }
}
