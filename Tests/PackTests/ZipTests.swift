import EvidenceCore
import Foundation
import Testing

@Suite("ZIP writer and bounded reader", .timeLimit(.minutes(1)))
struct ZipTests {
    let dir = NSTemporaryDirectory() + "ziptests-" + UUID().uuidString

    @Test func entriesReadBackWithTheirDigests() throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let w = try ZipStreamWriter(path: dir + "/a.zip", backend: PortableSHA256(), bufferBytes: 4096)
        let big = (0..<100_000).map { UInt8($0 % 251) }
        let e1 = try w.addEntry("a/b.txt", bytes: Array("héllo".utf8))
        let e2 = try w.addEntry("big.bin", bytes: big)
        try w.finish()
        let r = try ZipArchiveReader(path: dir + "/a.zip")
        #expect(r.entries.map(\.name) == ["a/b.txt", "big.bin"])
        #expect(try r.read(try #require(r.entry("big.bin")), limit: 1 << 20) == big)
        #expect(e1.sha256 == PortableSHA256().hash(bytes: Array("héllo".utf8)))
        #expect(e2.crc32 == r.entry("big.bin")?.crc32)
    }

    @Test func unsafeNamesAreRefused() throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let w = try ZipStreamWriter(path: dir + "/b.zip", backend: PortableSHA256())
        for bad in ["../x", "/etc/passwd", "a//b", "a\\b", ""] {
            #expect(throws: EvidenceError.self) { try w.beginEntry(bad) }
        }
    }

    @Test func crc32MatchesTheStandardCheckValue() {
        var c = CRC32(); c.update(bytes: Array("123456789".utf8))
        #expect(c.value == 0xCBF4_3926)
    }

    @Test func anEntryCountAboveTheLimitIsRefusedBeforeReading() throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let w = try ZipStreamWriter(path: dir + "/c.zip", backend: PortableSHA256())
        for i in 0..<5 { try w.addEntry("f\(i)", bytes: [1]) }
        try w.finish()
        #expect(throws: EvidenceError.self) { _ = try ZipArchiveReader(path: dir + "/c.zip", limits: .init(maxEntries: 4)) }
    }
}
