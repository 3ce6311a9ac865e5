import EvidenceCore
import EvidenceOpenSSL
import EvidenceS3
import Foundation
import Testing

/// The WORM guarantees, checked against a real SeaweedFS with Object Lock and authentication.
@Suite("S3 Object Lock store: WORM guarantees on SeaweedFS", .timeLimit(.minutes(2)))
struct S3WORMGuaranteeTests {
    func retention(_ seconds: TimeInterval = 3600, hold: Bool = false, mode: RetentionPolicy.Mode = .compliance) -> RetentionPolicy {
        RetentionPolicy(mode: mode, retainUntil: Date().addingTimeInterval(seconds), legalHold: hold)
    }

    @Test("opens a lock-enabled bucket and reports enforced retention")
    func opensLockedBucket() async throws {
        let store = try await SeaweedPeer.openStore(bucket: try await SeaweedPeer.makeBucket())
        #expect(await store.guarantee == .enforcedRetention)
        #expect(store.guarantee(for: retention(mode: .governance)) == .tamperEvidentOnly)
    }

    @Test("put then get returns the bytes; head reports size, SHA-256, versionId and the lock")
    func roundTrip() async throws {
        let store = try await SeaweedPeer.openStore(bucket: try await SeaweedPeer.makeBucket(), prefix: "tenants/acme")
        let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        let r = retention()
        let info = try await store.put("rec/s1.cast", bytes: bytes, retention: r)
        #expect(info.sha256 == OpenSSLSHA256().hash(bytes: bytes))
        #expect(info.versionID?.isEmpty == false)
        #expect(try await store.get("rec/s1.cast") == bytes)
        let head = try #require(try await store.head("rec/s1.cast"))
        #expect(head.size == UInt64(bytes.count) && head.sha256 == info.sha256 && head.versionID == info.versionID)
        #expect(head.retention.mode == .compliance)
        #expect(abs(head.retention.retainUntil.timeIntervalSince(r.retainUntil)) < 2)
        let server = try await store.retention("rec/s1.cast")
        #expect(server.mode == .compliance && abs(server.retainUntil.timeIntervalSince(r.retainUntil)) < 2)
        #expect(try await store.head("rec/missing") == nil)
        await #expect(throws: EvidenceError.self) { _ = try await store.get("rec/missing") }
        let empty = try await store.put("rec/empty", bytes: [], retention: r)
        let emptyBack = try await store.get("rec/empty")
        #expect(empty.size == 0 && emptyBack.isEmpty)
    }

    @Test("a second put on a key is refused with .immutable, same or other bytes, and nothing is overwritten")
    func putTwiceRefused() async throws {
        let store = try await SeaweedPeer.openStore(bucket: try await SeaweedPeer.makeBucket())
        let first = try await store.put("k", bytes: Array("first".utf8), retention: retention())
        for bytes in [Array("second".utf8), Array("first".utf8)] {
            do {
                _ = try await store.put("k", bytes: bytes, retention: retention())
                Issue.record("second put succeeded")
            } catch let e as EvidenceError {
                #expect(e.code == .immutable, "\(e)")
            }
        }
        #expect(try await store.get("k") == Array("first".utf8))
        #expect(try await store.head("k")?.versionID == first.versionID)
        try await store.verify(first)
    }

    @Test("delete is refused: .immutable inside retention or under hold, and the object stays")
    func deleteRefused() async throws {
        let store = try await SeaweedPeer.openStore(bucket: try await SeaweedPeer.makeBucket())
        _ = try await store.put("d", bytes: [1, 2, 3], retention: retention())
        await #expect { try await store.delete("d") } throws: { ($0 as? EvidenceError)?.code == .immutable }
        #expect(try await store.get("d") == [1, 2, 3])
    }

    @Test("retention is respected: after the retain-until date the store still never deletes")
    func retentionExpiry() async throws {
        let store = try await SeaweedPeer.openStore(bucket: try await SeaweedPeer.makeBucket())
        // Inside retention: a retain-until far enough away that a server slowed down by the
        // other tests running beside this one cannot let it lapse between put and delete.
        _ = try await store.put("long", bytes: [6], retention: retention(600))
        await #expect { try await store.delete("long") } throws: { ($0 as? EvidenceError)?.code == .immutable }
        // After retention: 20 s, long enough for a slow PUT to land inside it; then wait for
        // that date itself rather than a fixed time.
        let short = retention(20)
        _ = try await store.put("short", bytes: [7], retention: short)
        let wait = short.retainUntil.timeIntervalSinceNow + 1.5
        if wait > 0 { try await Task.sleep(nanoseconds: UInt64(wait * 1e9)) }
        await #expect { try await store.delete("short") } throws: { ($0 as? EvidenceError)?.code == .unsupported }
        #expect(try await store.get("short") == [7])
        #expect(try await store.get("long") == [6])
    }

    @Test("legal hold: placed, reported by head and GetObjectLegalHold, blocks delete after retention, lifted")
    func legalHold() async throws {
        let store = try await SeaweedPeer.openStore(bucket: try await SeaweedPeer.makeBucket())
        let short = retention(20)   // long enough for a slow PUT to land inside it
        _ = try await store.put("h1", bytes: [9], retention: short)
        _ = try await store.put("h2", bytes: [8], retention: short)
        let held = try await store.placeLegalHold(onEvidenceFor: "INC-2026-0042", keys: ["h1", "h2"])
        #expect(held == ["h1", "h2"])
        #expect(try await store.legalHold("h1"))
        #expect(try await store.head("h1")?.retention.legalHold == true)
        let wait = short.retainUntil.timeIntervalSinceNow + 1.5   // past retention: only the hold protects h1
        if wait > 0 { try await Task.sleep(nanoseconds: UInt64(wait * 1e9)) }
        await #expect { try await store.delete("h1") } throws: { ($0 as? EvidenceError)?.code == .immutable }
        try await store.setLegalHold("h1", false)
        #expect(try await store.legalHold("h1") == false)
        #expect(try await store.head("h1")?.retention.legalHold == false)
        #expect(try await store.get("h1") == [9])
        await #expect { try await store.setLegalHold("none", true) } throws: { ($0 as? EvidenceError)?.code == .notFound }
    }

    @Test("listing is complete and ascending across pages of 5 keys, and stays inside the store prefix")
    func listingPaginates() async throws {
        let bucket = try await SeaweedPeer.makeBucket()
        var store = try await SeaweedPeer.openStore(bucket: bucket, prefix: "tenants/acme")
        store.listPageSize = 5
        let names = (0..<23).map { String(format: "list/k%03d", ($0 * 7) % 23) }
        for n in names { _ = try await store.put(n, bytes: Array(n.utf8), retention: retention()) }
        _ = try await store.put("listing-other", bytes: [0], retention: retention())
        let other = try await SeaweedPeer.openStore(bucket: bucket, prefix: "tenants/other")
        _ = try await other.put("list/k999", bytes: [0], retention: retention())
        #expect(try await store.list(prefix: "list/") == names.sorted())
        #expect(try await store.list(prefix: "nothing/").isEmpty)
        #expect(try await store.list(prefix: "").count == 24)
    }

    @Test("invalid keys are refused before any request")
    func invalidKeys() async throws {
        let store = try await SeaweedPeer.openStore(bucket: try await SeaweedPeer.makeBucket())
        for bad in ["", "../escape", "a//b", "a/./b", "sp ace", "/abs", "a?versionId=1"] {
            await #expect { _ = try await store.put(bad, bytes: [1], retention: retention()) } throws: {
                ($0 as? EvidenceError)?.code == .malformedInput
            }
        }
    }
}
