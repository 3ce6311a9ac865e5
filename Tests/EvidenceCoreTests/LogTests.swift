import EvidenceCore
import Foundation
import Testing

/// Opens a fresh log folder with small segments so rotation and multi-segment paths run.
func smallPolicy() -> GroupCommitPolicy {
    var p = GroupCommitPolicy()
    p.segmentBytes = 8 << 10
    p.batchBytes = 2 << 10
    p.maxDelay = .milliseconds(2)
    return p
}

func openWriter(_ dir: String, signer: PortableEd25519Signer? = nil, policy: GroupCommitPolicy = smallPolicy()) throws -> LogWriter {
    try LogWriter(directory: LogDirectory(path: dir, backend: sha), origin: "test.example/log/acme", signer: signer, policy: policy)
}

@Suite struct LogTests {
    @Test func appendedRecordsReadBackInOrderAfterReopen() throws {
        let d = TempDir("log"); defer { d.cleanup() }
        let w = try openWriter(d.path + "/log")
        for i in 0..<700 { #expect(try w.append(record(i)) == UInt64(i)) }
        try w.sync()
        #expect(w.durableSize == 700)
        try w.close()
        let dir = LogDirectory(path: d.path + "/log", backend: sha)
        #expect(try dir.segments().count > 3, "small segments must have rotated")
        var seen = 0
        try dir.forEachRecord(in: 0..<700) { i, rec, leaf in
            #expect(Array(rec) == record(Int(i)))
            #expect(leaf == sha.leafHash(record(Int(i))))
            seen += 1
        }
        #expect(seen == 700)
        let w2 = try openWriter(d.path + "/log")
        #expect(w2.size == 700)
        #expect(try w2.append(record(700)) == 700)
        try w2.close()
    }

    @Test func aBatchLargerThanASegmentIsSplitAcrossSegments() throws {
        let d = TempDir("log"); defer { d.cleanup() }
        var p = GroupCommitPolicy()
        p.segmentBytes = 8 << 10
        p.batchBytes = 4 << 20
        p.maxDelay = .seconds(30)   // nothing is flushed before sync(): one batch holds everything
        let s = try testSigner()
        let w = try openWriter(d.path + "/log", signer: s, policy: p)
        for i in 0..<700 { try w.append(record(i)) }
        try w.checkpoint()
        try w.close()
        let dir = LogDirectory(path: d.path + "/log", backend: sha)
        let segs = try dir.segments()
        #expect(segs.count >= 4)
        for seg in segs.dropLast() {
            let size = (try FileManager.default.attributesOfItem(atPath: d.path + "/log/" + seg.name)[.size] as! NSNumber).intValue
            #expect(size <= (8 << 10) + 200, "\(seg.name) is \(size) bytes")
        }
        let v = try LogVerifier(backend: sha, verifier: testVerifier(s), origin: "test.example/log/acme").verify(dir, tenant: "acme")
        #expect(v.ok && v.records == 700, "\(v.failures)")
    }

    @Test func sealedSegmentsAreReadOnly() throws {
        let d = TempDir("log"); defer { d.cleanup() }
        let w = try openWriter(d.path + "/log")
        for i in 0..<300 { try w.append(record(i)) }
        try w.close()
        let dir = LogDirectory(path: d.path + "/log", backend: sha)
        let segs = try dir.segments()
        for s in segs.dropLast() {
            var st = stat(); stat(d.path + "/log/" + s.name, &st)
            #expect(st.st_mode & 0o222 == 0, "\(s.name) must be read-only")
        }
    }

    @Test func treeHeadMatchesTheRecursiveDefinition() throws {
        let d = TempDir("log"); defer { d.cleanup() }
        let w = try openWriter(d.path + "/log")
        let recs = (0..<600).map { record($0) }
        for (i, r) in recs.enumerated() {
            try w.append(r)
            if [1, 2, 255, 256, 257, 511, 512, 513, 599].contains(i) {
                #expect(w.treeHead().root == referenceRoot(recs[0...i]), "size \(i + 1)")
            }
        }
        try w.close()
        // Reopening rebuilds the same head from block hashes and the ragged tail.
        let w2 = try openWriter(d.path + "/log")
        #expect(w2.treeHead().root == referenceRoot(recs[...]))
        try w2.close()
    }

    @Test func storedTreeProofsEqualInMemoryProofs() throws {
        let d = TempDir("log"); defer { d.cleanup() }
        let w = try openWriter(d.path + "/log")
        for i in 0..<1100 { try w.append(record(i)) }
        try w.close()
        let dir = LogDirectory(path: d.path + "/log", backend: sha)
        let mem = LeafHashList((0..<1100).map { sha.leafHash(record($0)) }, backend: sha)
        for size: UInt64 in [1, 255, 256, 257, 768, 1024, 1100] {
            let stored = try dir.tree(size: size)
            #expect(try stored.subtreeHash(0..<size) == mem.subtreeHash(0..<size))
            for i: UInt64 in [0, size / 3, size / 2, size - 1] {
                #expect(try MerkleProofs.inclusionProof(index: i, treeSize: size, source: stored) ==
                        MerkleProofs.inclusionProof(index: i, treeSize: size, source: mem))
            }
            #expect(try MerkleProofs.consistencyProof(oldSize: size / 2, newSize: size, source: stored) ==
                    MerkleProofs.consistencyProof(oldSize: size / 2, newSize: size, source: mem))
        }
    }

    @Test func checkpointsAreSignedAndVerify() throws {
        let d = TempDir("log"); defer { d.cleanup() }
        let s = try testSigner()
        let w = try openWriter(d.path + "/log", signer: s)
        for i in 0..<300 { try w.append(record(i)) }
        let (cp1, _) = try w.checkpoint()
        for i in 300..<520 { try w.append(record(i)) }
        let (cp2, note2) = try w.checkpoint()
        try w.close()
        #expect(cp1.size == 300 && cp2.size == 520)
        #expect(note2.isSigned(by: try testVerifier(s)))
        let v = try LogVerifier(backend: sha, verifier: testVerifier(s), origin: "test.example/log/acme")
            .verify(LogDirectory(path: d.path + "/log", backend: sha), tenant: "acme")
        #expect(v.ok, "\(v.failures)")
        #expect(v.records == 520 && v.checkpoints == 2)
    }

    @Test func aSecondWriterIsRefused() throws {
        let d = TempDir("log"); defer { d.cleanup() }
        let w = try openWriter(d.path + "/log")
        #expect(throws: EvidenceError.self) { try openWriter(d.path + "/log") }
        try w.close()
        try openWriter(d.path + "/log").close()
    }

    @Test func waitUntilDurableResumesAfterTheGroupCommit() async throws {
        let d = TempDir("log"); defer { d.cleanup() }
        let w = try openWriter(d.path + "/log")
        let i = try await w.appendDurably(record(0))
        #expect(i == 0 && w.durableSize >= 1)
        try w.close()
    }

    @Test func oversizeAndEmptyRecordsAreRefused() throws {
        let d = TempDir("log"); defer { d.cleanup() }
        let w = try openWriter(d.path + "/log")
        #expect(throws: EvidenceError.self) { try w.append([UInt8]()) }
        #expect(throws: EvidenceError.self) { try w.append([UInt8](repeating: 1, count: SegmentFormat.maxRecordBytes + 1)) }
        #expect(w.size == 0)
        try w.close()
    }

    @Test func tornTailIsCutAndKeptAside() throws {
        let d = TempDir("log"); defer { d.cleanup() }
        let s = try testSigner()
        let w = try openWriter(d.path + "/log", signer: s)
        for i in 0..<50 { try w.append(record(i)) }
        try w.checkpoint()
        try w.close()
        // Simulate a crash in the middle of a frame write.
        let dir = LogDirectory(path: d.path + "/log", backend: sha)
        let last = d.path + "/log/" + (try dir.segments().last!.name)
        let fh = FileHandle(forWritingAtPath: last)!
        fh.seekToEndOfFile()
        fh.write(Data([0, 0, 0, 40] + Array("partial record".utf8)))
        fh.closeFile()
        let before = try LogVerifier(backend: sha, verifier: testVerifier(s), origin: "test.example/log/acme").verify(dir, tenant: "acme")
        #expect(before.ok && before.notes.contains { $0.contains("cut short") }, "a torn tail after the checkpoint is crash residue, not a failure")
        let w2 = try openWriter(d.path + "/log", signer: s)
        #expect(w2.size == 50)
        try w2.append(record(50))
        try w2.checkpoint()
        try w2.close()
        #expect(try FileIO_list(d.path + "/log/cut-tails").count == 1)
        let after = try LogVerifier(backend: sha, verifier: testVerifier(s), origin: "test.example/log/acme").verify(dir, tenant: "acme")
        #expect(after.ok && after.records == 51, "\(after.failures)")
    }

    @Test func aCheckpointBeyondTheRecordsStopsTheWriter() throws {
        let d = TempDir("log"); defer { d.cleanup() }
        let s = try testSigner()
        let w = try openWriter(d.path + "/log", signer: s)
        for i in 0..<40 { try w.append(record(i)) }
        try w.checkpoint()
        try w.close()
        let dir = LogDirectory(path: d.path + "/log", backend: sha)
        let last = d.path + "/log/" + (try dir.segments().last!.name)
        truncate(last, 200)
        #expect(throws: EvidenceError.self) { try openWriter(d.path + "/log", signer: s) }
    }
}

func FileIO_list(_ p: String) throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: p) }
