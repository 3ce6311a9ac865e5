import EvidenceCore
import Foundation

/// A conformance failure: which guarantee of `WORMStore` an implementation broke.
public struct ConformanceFailure: Error, CustomStringConvertible {
    public let guarantee: String
    public let detail: String
    public var description: String { "WORMStore guarantee broken — \(guarantee): \(detail)" }
}

/// The checks every `WORMStore` must pass, whatever its backend. Run it from a test of your
/// own store (see Docs/WritingAnAdapter.md):
///
/// ```swift
/// @Test func myStoreIsAWORMStore() async throws {
///     try await WORMStoreConformance(store: myStore, keyPrefix: "conformance/\(UUID())/",
///                                    retentionSeconds: 3, advance: { try await Task.sleep(for: .seconds($0)) },
///                                    now: { Date() }).run()
/// }
/// ```
/// `advance` moves the store's clock forward by at least the given seconds (sleep for a real
/// backend, a manual clock for an embedded one). Each key is used once, under `keyPrefix`, so
/// the suite runs against a shared bucket without interfering with other data.
public struct WORMStoreConformance {
    public let store: any WORMStore
    public let keyPrefix: String
    public let retentionSeconds: Double
    public let advance: (Double) async throws -> Void
    public let now: () -> Date

    public init(store: any WORMStore, keyPrefix: String, retentionSeconds: Double = 3,
                advance: @escaping (Double) async throws -> Void, now: @escaping () -> Date) {
        self.store = store; self.keyPrefix = keyPrefix; self.retentionSeconds = retentionSeconds
        self.advance = advance; self.now = now
    }

    private func require(_ ok: Bool, _ guarantee: String, _ detail: @autoclosure () -> String) throws {
        if !ok { throw ConformanceFailure(guarantee: guarantee, detail: detail()) }
    }

    private func expectError(_ code: EvidenceError.Code, _ guarantee: String, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let e as EvidenceError {
            try require(e.code == code, guarantee, "expected a .\(code) error, got .\(e.code): \(e.message)")
            return
        } catch {
            throw ConformanceFailure(guarantee: guarantee, detail: "expected a .\(code) EvidenceError, got \(type(of: error)): \(error)")
        }
        throw ConformanceFailure(guarantee: guarantee, detail: "the operation succeeded but must be refused")
    }

    /// Runs every check; throws the first `ConformanceFailure`.
    public func run() async throws {
        try await putGetRoundTrip()
        try await putTwiceIsRefused()
        try await deleteInsideRetentionIsRefused()
        try await legalHoldBlocksDeletion()
        try await listingIsCompleteAndOrdered()
        try await invalidKeysAreRefused()
        try await missingObjectsAreNotFound()
    }

    func retention(_ extra: Double = 0, hold: Bool = false) -> RetentionPolicy {
        RetentionPolicy(mode: .compliance, retainUntil: now().addingTimeInterval(retentionSeconds + extra), legalHold: hold)
    }

    public func putGetRoundTrip() async throws {
        let key = keyPrefix + "roundtrip/a.bin"
        let bytes = (0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let info = try await store.put(key, bytes: bytes, retention: retention(3600))
        try require(info.size == UInt64(bytes.count), "put reports what was stored", "size \(info.size) != \(bytes.count)")
        try require(info.sha256 == PortableSHA256().hash(bytes: bytes), "put reports the SHA-256 of the bytes", "digest \(info.sha256)")
        let back = try await store.get(key)
        try require(back == bytes, "get returns exactly the bytes put", "\(back.count) bytes, content differs")
        let head = try await store.head(key)
        try require(head?.sha256 == info.sha256 && head?.size == info.size, "head describes the object", "\(String(describing: head))")
        let empty = try await store.put(keyPrefix + "roundtrip/empty", bytes: [], retention: retention(3600))
        try require(empty.size == 0, "empty objects are stored", "size \(empty.size)")
        try require(try await store.get(keyPrefix + "roundtrip/empty").isEmpty, "get returns exactly the bytes put", "empty object came back non-empty")
    }

    public func putTwiceIsRefused() async throws {
        let key = keyPrefix + "twice/x"
        _ = try await store.put(key, bytes: Array("first".utf8), retention: retention(3600))
        try await expectError(.immutable, "put of an existing key is refused (other bytes)") {
            _ = try await store.put(key, bytes: Array("second".utf8), retention: retention(3600))
        }
        try await expectError(.immutable, "put of an existing key is refused (same bytes)") {
            _ = try await store.put(key, bytes: Array("first".utf8), retention: retention(3600))
        }
        let back = try await store.get(key)
        try require(back == Array("first".utf8), "nothing is overwritten", "object now reads \(String(decoding: back, as: UTF8.self))")
    }

    public func deleteInsideRetentionIsRefused() async throws {
        let key = keyPrefix + "retention/r"
        _ = try await store.put(key, bytes: [1, 2, 3], retention: retention())
        try await expectError(.immutable, "delete inside the retention period is refused") { try await store.delete(key) }
        try require(try await store.get(key) == [1, 2, 3], "a refused delete leaves the object", "object changed")
        try await advance(retentionSeconds + 1.5)
        do {
            try await store.delete(key)
            try require(try await store.head(key) == nil, "delete after retention removes the object", "object still there")
        } catch let e as EvidenceError where e.code == .unsupported {
            // A store that never deletes keeps the object: allowed.
            try require(try await store.get(key) == [1, 2, 3], "a store that never deletes keeps the object", "object changed")
        }
    }

    public func legalHoldBlocksDeletion() async throws {
        let key = keyPrefix + "hold/h"
        _ = try await store.put(key, bytes: [9], retention: retention())
        try await store.setLegalHold(key, true)
        try require(try await store.head(key)?.retention.legalHold == true, "head reports a placed legal hold", "legalHold is not true")
        try await advance(retentionSeconds + 1.5)
        try await expectError(.immutable, "delete under legal hold is refused, even after retention") { try await store.delete(key) }
        try await store.setLegalHold(key, false)
        try require(try await store.head(key)?.retention.legalHold == false, "head reports a lifted legal hold", "legalHold is still true")
        try require(try await store.get(key) == [9], "legal hold changes leave the bytes", "object changed")
        try await expectError(.notFound, "legal hold on a missing object is an error") { try await store.setLegalHold(keyPrefix + "hold/none", true) }
    }

    public func listingIsCompleteAndOrdered() async throws {
        let names = (0..<23).map { String(format: "list/k%03d", ($0 * 7) % 23) }
        for n in names { _ = try await store.put(keyPrefix + n, bytes: Array(n.utf8), retention: retention(3600)) }
        _ = try await store.put(keyPrefix + "listing-other", bytes: [0], retention: retention(3600))
        let listed = try await store.list(prefix: keyPrefix + "list/")
        let want = names.map { keyPrefix + $0 }.sorted()
        try require(listed == want, "list returns every key with the prefix, ascending", "got \(listed.count) keys: \(listed.prefix(5))…")
        try require(try await store.list(prefix: keyPrefix + "nothing-here/").isEmpty, "list of an unused prefix is empty", "not empty")
    }

    public func invalidKeysAreRefused() async throws {
        for bad in ["", "../escape", "a//b", "a/./b", "a/../b", "sp ace", "/abs"] {
            try await expectError(.malformedInput, "invalid keys are refused ('\(bad)')") {
                _ = try await store.put(keyPrefix + bad, bytes: [1], retention: retention(3600))
            }
        }
    }

    public func missingObjectsAreNotFound() async throws {
        try require(try await store.head(keyPrefix + "missing/x") == nil, "head of a missing key is nil", "not nil")
        try await expectError(.notFound, "get of a missing key is .notFound") { _ = try await store.get(keyPrefix + "missing/x") }
    }
}
