import EvidenceConformance
import EvidenceCore
import EvidenceS3
import Foundation
import Testing

@Suite("S3 Object Lock store passes the WORM conformance suite on SeaweedFS", .timeLimit(.minutes(2)))
struct S3ConformanceTests {
    @Test("every WORMStore guarantee holds against a real lock-enabled bucket with authentication on")
    func conformance() async throws {
        let store = try await SeaweedPeer.openStore(bucket: try await SeaweedPeer.makeBucket(), prefix: "tenants/conformance")
        try await WORMStoreConformance(store: store, keyPrefix: "run-\(UUID().uuidString.prefix(8))/", retentionSeconds: 8,
                                       advance: { try await Task.sleep(nanoseconds: UInt64($0 * 1e9)) },
                                       now: { Date() }).run()
    }
}
