import EvidenceCore
import Foundation
import Testing

/// Every way of altering a stored log must make the verifier fail and say where.
@Suite struct TamperTests {
    static let origin = "test.example/log/acme"

    /// A log of 900 records over several segments with three checkpoints, the last covering all.
    static func makeLog(at path: String, signer: PortableEd25519Signer) throws {
        let w = try openWriter(path, signer: signer)
        for i in 0..<900 {
            try w.append(record(i))
            if i == 299 || i == 640 { try w.checkpoint() }
        }
        try w.checkpoint()
        try w.close()
    }

    func verify(_ path: String, _ s: PortableEd25519Signer) throws -> LogVerification {
        try LogVerifier(backend: sha, verifier: testVerifier(s), origin: Self.origin).verify(LogDirectory(path: path, backend: sha), tenant: "acme")
    }

    func files(_ path: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path).filter { !$0.hasPrefix(".") }.sorted()
    }

    @Test func pristineLogVerifies() throws {
        let d = TempDir("tamper"); defer { d.cleanup() }
        let s = try testSigner()
        try Self.makeLog(at: d.path + "/log", signer: s)
        let v = try verify(d.path + "/log", s)
        #expect(v.ok, "\(v.failures)")
        #expect(v.records == 900 && v.checkpoints == 3)
    }

    @Test func flippedRecordByteIsNamedBySegmentAndRecord() throws {
        let d = TempDir("tamper"); defer { d.cleanup() }
        let s = try testSigner()
        try Self.makeLog(at: d.path + "/log", signer: s)
        let seg = try files(d.path + "/log").first { $0.hasPrefix("seg-") }!
        try flip(d.path + "/log/" + seg, at: 16 + 4 + 3)
        let v = try verify(d.path + "/log", s)
        #expect(!v.ok)
        #expect(v.failures.first?.contains("segment \(seg): record 0 at byte 16") == true, "\(v.failures)")
    }

    @Test func recordRewrittenWithMatchingCheckBytesIsCaughtByTheCheckpoint() throws {
        let d = TempDir("tamper"); defer { d.cleanup() }
        let s = try testSigner()
        try Self.makeLog(at: d.path + "/log", signer: s)
        // Rewrite record 0 consistently (new bytes + new check bytes): only the tree can tell.
        let seg = d.path + "/log/" + (try files(d.path + "/log").first { $0.hasPrefix("seg-") }!)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: seg)))
        let len = Int(UInt32(bigEndian: bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 16, as: UInt32.self) }))
        bytes[16 + 4 + 5] ^= 0x01
        let leaf = sha.leafHash(Array(bytes[20..<20 + len]))
        withUnsafeBytes(of: leaf.w0.bigEndian) { bytes.replaceSubrange(20 + len..<28 + len, with: $0) }
        chmod(seg, 0o644)
        try Data(bytes).write(to: URL(fileURLWithPath: seg))
        let v = try verify(d.path + "/log", s)
        #expect(!v.ok)
        #expect(v.failures.contains { $0.contains("checkpoint #0 (size 300)") && $0.contains("records 0..<300") }, "\(v.failures)")
        #expect(v.failures.contains { $0.contains("blocks.hashes entry 0") }, "\(v.failures)")
    }

    @Test func deletedMiddleSegmentIsNamed() throws {
        let d = TempDir("tamper"); defer { d.cleanup() }
        let s = try testSigner()
        try Self.makeLog(at: d.path + "/log", signer: s)
        let segs = try files(d.path + "/log").filter { $0.hasPrefix("seg-") }
        try FileManager.default.removeItem(atPath: d.path + "/log/" + segs[1])
        let v = try verify(d.path + "/log", s)
        #expect(!v.ok)
        #expect(v.failures.first?.contains("segment \(segs[2])") == true, "\(v.failures)")
    }

    @Test func deletedLastSegmentIsCaughtByTheCheckpoint() throws {
        let d = TempDir("tamper"); defer { d.cleanup() }
        let s = try testSigner()
        try Self.makeLog(at: d.path + "/log", signer: s)
        let segs = try files(d.path + "/log").filter { $0.hasPrefix("seg-") }
        // The last segment that holds records (a header-only one may follow a rotation).
        let victim = segs.last { ((try? FileManager.default.attributesOfItem(atPath: d.path + "/log/" + $0)[.size] as? NSNumber)??.intValue ?? 0) > SegmentFormat.headerBytes }!
        try FileManager.default.removeItem(atPath: d.path + "/log/" + victim)
        let v = try verify(d.path + "/log", s)
        #expect(!v.ok)
        #expect(v.failures.contains { $0.contains("covers more records than the log holds") }, "\(v.failures)")
    }

    @Test func swappedSegmentsAreNamed() throws {
        let d = TempDir("tamper"); defer { d.cleanup() }
        let s = try testSigner()
        try Self.makeLog(at: d.path + "/log", signer: s)
        let segs = try files(d.path + "/log").filter { $0.hasPrefix("seg-") }
        let a = d.path + "/log/" + segs[1], b = d.path + "/log/" + segs[2]
        try FileManager.default.moveItem(atPath: a, toPath: a + ".x")
        try FileManager.default.moveItem(atPath: b, toPath: a)
        try FileManager.default.moveItem(atPath: a + ".x", toPath: b)
        let v = try verify(d.path + "/log", s)
        #expect(!v.ok)
        #expect(v.failures.first?.contains(segs[1]) == true && v.failures.first?.contains("reordered") == true, "\(v.failures)")
    }

    @Test func checkpointReplacedByAnotherKeysIsNamed() throws {
        let d = TempDir("tamper"); defer { d.cleanup() }
        let s = try testSigner(), mallory = try testSigner(seedByte: 99)
        try Self.makeLog(at: d.path + "/log", signer: s)
        // Rebuild checkpoints.log with the last checkpoint re-signed by another key of the same name.
        let dir = LogDirectory(path: d.path + "/log", backend: sha)
        let (notes, _, _) = try dir.checkpoints()
        let forged = try SignedNote.sign(notes[2].text, with: mallory)
        try rewriteCheckpoints(dir, [notes[0], notes[1], forged])
        let v = try verify(d.path + "/log", s)
        #expect(v.failures == ["checkpoint #2 (size 900): signature does not verify with key 'test.example/log' (tenant acme)"])
    }

    @Test func checkpointFromAnotherLogIsNamed() throws {
        let d = TempDir("tamper"); defer { d.cleanup() }
        let s = try testSigner()
        try Self.makeLog(at: d.path + "/log", signer: s)
        let dir = LogDirectory(path: d.path + "/log", backend: sha)
        let (notes, _, _) = try dir.checkpoints()
        var cp = try Checkpoint(body: notes[2].text)
        cp.origin = "test.example/log/globex"
        try rewriteCheckpoints(dir, [notes[0], notes[1], try SignedNote.sign(cp.body, with: s)])
        let v = try verify(d.path + "/log", s)
        #expect(v.failures.contains { $0.contains("checkpoint #2") && $0.contains("another log") }, "\(v.failures)")
    }

    @Test func shrinkingCheckpointSequenceIsNamed() throws {
        let d = TempDir("tamper"); defer { d.cleanup() }
        let s = try testSigner()
        try Self.makeLog(at: d.path + "/log", signer: s)
        let dir = LogDirectory(path: d.path + "/log", backend: sha)
        let (notes, _, _) = try dir.checkpoints()
        try rewriteCheckpoints(dir, [notes[0], notes[2], notes[1]])
        let v = try verify(d.path + "/log", s)
        #expect(v.failures.contains { $0.contains("checkpoint #2: size 641 is smaller") }, "\(v.failures)")
    }

    /// Hundreds of random mutations of any file: every one is detected.
    @Test func randomMutationsAreAllDetected() throws {
        let d = TempDir("tamper"); defer { d.cleanup() }
        let s = try testSigner()
        let pristine = d.path + "/pristine"
        try Self.makeLog(at: pristine, signer: s)
        var rng = SystemRandomNumberGenerator()
        let names = try files(pristine)
        var kinds: [String: Int] = [:]
        for round in 0..<300 {
            let work = d.path + "/m\(round)"
            try copyTree(pristine, work)
            let file = names.randomElement(using: &rng)!
            let path = work + "/" + file
            let size = Int((try FileManager.default.attributesOfItem(atPath: path)[.size] as! NSNumber).intValue)
            var kind: String
            switch Int.random(in: 0..<10, using: &rng) {
            case 0..<6:
                kind = "flip"
                try flip(path, at: Int.random(in: 0..<size, using: &rng), mask: UInt8.random(in: 1...255, using: &rng))
            case 6..<8:
                kind = "truncate"
                guard file.hasPrefix("seg-") || file == "blocks.hashes" else { try flip(path, at: size / 2); kind = "flip"; break }
                truncate(path, off_t(Int.random(in: 0..<size, using: &rng)))
            case 8:
                kind = "delete"
                // A header-only trailing segment holds no evidence: its absence is the same
                // state as a crash between sealing one segment and starting the next.
                guard (file.hasPrefix("seg-") && size > SegmentFormat.headerBytes) || file == "blocks.hashes" else {
                    try flip(path, at: 0); kind = "flip"; break
                }
                try FileManager.default.removeItem(atPath: path)
            default:
                kind = "swap"
                let segs = names.filter { $0.hasPrefix("seg-") }
                let target = file.hasPrefix("seg-") ? file : segs[0]
                let other = segs.filter { $0 != target }.randomElement(using: &rng)!
                try FileManager.default.moveItem(atPath: work + "/" + target, toPath: work + "/tmp")
                try FileManager.default.moveItem(atPath: work + "/" + other, toPath: work + "/" + target)
                try FileManager.default.moveItem(atPath: work + "/tmp", toPath: work + "/" + other)
            }
            kinds[kind, default: 0] += 1
            let v = try? verify(work, s)
            #expect(v == nil || v!.ok == false, "round \(round): \(kind) of \(file) went undetected")
            if let v { #expect(!v.failures.isEmpty && v.failures.allSatisfy { !$0.isEmpty }) }
            try? FileManager.default.removeItem(atPath: work)
        }
        #expect(kinds.count == 4, "every mutation kind ran: \(kinds)")
    }
}

func flip(_ path: String, at offset: Int, mask: UInt8 = 0x20) throws {
    chmod(path, 0o644)
    var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    bytes[offset] ^= mask
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

func rewriteCheckpoints(_ dir: LogDirectory, _ notes: [SignedNote]) throws {
    var out = SegmentFormat.header(firstIndex: 0)
    for n in notes {
        let b = Array(n.serialized.utf8)
        withUnsafeBytes(of: UInt32(b.count).bigEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: b)
        withUnsafeBytes(of: sha.leafHash(b).w0.bigEndian) { out.append(contentsOf: $0) }
    }
    try Data(out).write(to: URL(fileURLWithPath: dir.checkpointsPath))
}
