import EvidenceCore
import Foundation
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

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

    @Test func aReaderThatRefusesAFileClosesItsDescriptorOnce() throws {
        // A refused archive must close its descriptor exactly once: a second close hits the
        // number another thread was given meanwhile. A second thread keeps opening files and
        // checks each is still open after the reader's failures around it.
        let bad = NSTemporaryDirectory() + "not-a-zip-\(UUID().uuidString)"
        try Data(repeating: 0x41, count: 4096).write(to: URL(fileURLWithPath: bad))
        defer { unlink(bad) }
        let stop = Atomic<Bool>(false), lost = Atomic<Int>(0), checked = Atomic<Int>(0)
        let done = DispatchSemaphore(value: 0)
        Thread {
            while !stop.load(ordering: .relaxed) {
                let fd = open("/dev/null", O_RDONLY)
                guard fd >= 0 else { continue }
                for _ in 0..<50 { if fcntl(fd, F_GETFD) < 0 { lost.add(1, ordering: .relaxed); break } }
                checked.add(1, ordering: .relaxed)
                if fcntl(fd, F_GETFD) >= 0 { close(fd) }
            }
            done.signal()
        }.start()
        var refused = 0
        let deadline = Date() + 2
        while Date() < deadline { if (try? ZipArchiveReader(path: bad)) == nil { refused += 1 } }
        stop.store(true, ordering: .relaxed)
        done.wait()
        #expect(refused > 100 && checked.load(ordering: .relaxed) > 100)
        #expect(lost.load(ordering: .relaxed) == 0, "a descriptor of the other thread was closed under it")
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
