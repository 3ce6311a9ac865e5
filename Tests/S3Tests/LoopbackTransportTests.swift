import EvidenceCore
import EvidenceOpenSSL
import EvidenceS3
import Foundation
import Testing

/// The loopback HTTP/1.1 client against the real SeaweedFS: the same store behaviour as over
/// URLSession, and the same checks on what comes back.
@Suite("LoopbackHTTPTransport on SeaweedFS", .timeLimit(.minutes(2)))
struct LoopbackTransportTests {
    func retention() -> RetentionPolicy { RetentionPolicy(mode: .compliance, retainUntil: Date().addingTimeInterval(3600)) }

    @Test("put, get, head, list, versions and a refused overwrite work over the loopback client")
    func storeOperations() async throws {
        let store = try await SeaweedPeer.openStore(bucket: try await SeaweedPeer.makeBucket(), prefix: "tenants/acme", transport: LoopbackHTTPTransport())
        let bytes = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let info = try await store.put("rec/a", bytes: bytes, retention: retention())
        #expect(try await store.get("rec/a") == bytes)
        #expect(try await store.head("rec/a")?.versionID == info.versionID)
        #expect(try await store.head("rec/none") == nil)
        #expect(try await store.list(prefix: "rec/") == ["rec/a"])
        let versions = try await store.listVersions(prefix: "rec/")
        #expect(versions.map(\.versionID) == [info.versionID ?? "-"])
        await #expect(throws: EvidenceError.self) { _ = try await store.put("rec/a", bytes: [1], retention: retention()) }
        try await store.verify(info)
    }

    @Test("a multipart upload over the loopback client stores the exact file, read back in ranged downloads")
    func multipartAndRangedDownload() async throws {
        let store = try await SeaweedPeer.openStore(bucket: try await SeaweedPeer.makeBucket(), transport: LoopbackHTTPTransport(),
                                                    partSize: 5 << 20, concurrency: 3)
        let path = "/tmp/s3-loopback-\(getpid())-\(UUID().uuidString.prefix(6))"
        defer { try? FileManager.default.removeItem(atPath: path); try? FileManager.default.removeItem(atPath: path + ".back") }
        let data = Data((0..<(12 << 20) + 12345).map { UInt8(truncatingIfNeeded: ($0 >> 3) &* 7) })
        try data.write(to: URL(fileURLWithPath: path))
        let info = try await store.uploadFile(at: path, key: "big.bin", retention: retention())
        #expect(info.sha256 == OpenSSLSHA256().hash(bytes: [UInt8](data)))
        let back = try await store.download("big.bin", versionID: try #require(info.versionID), expected: (info.sha256, info.size),
                                            to: path + ".back", chunkSize: 3 << 20)
        #expect(back.size == UInt64(data.count))
        #expect(try Data(contentsOf: URL(fileURLWithPath: path + ".back")) == data)
    }

    @Test("a body corrupted in transit is still caught by the checksum check")
    func corruptedBodyIsRejected() async throws {
        let bucket = try await SeaweedPeer.makeBucket()
        let marker = Array("EVIDENCE-MARKER-0123456789".utf8)
        let clean = try await SeaweedPeer.openStore(bucket: bucket, transport: LoopbackHTTPTransport())
        _ = try await clean.put("x", bytes: marker + Array(repeating: 0x41, count: 1000), retention: retention())
        let relay = try CorruptingRelay(upstreamPort: UInt16(SeaweedPeer.endpoint.port!), marker: marker)
        defer { relay.stop() }
        let config = try SeaweedPeer.configuration(bucket: bucket, endpoint: URL(string: "http://127.0.0.1:\(relay.port)")!)
        let viaRelay = try await S3ObjectLockStore.open(config, transport: LoopbackHTTPTransport())
        await #expect(throws: EvidenceError.self) { _ = try await viaRelay.get("x") }
    }
}
