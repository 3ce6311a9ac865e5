import Foundation

/// The outcome of checking one tenant's log from its files alone.
public struct LogVerification: Sendable {
    public var tenant: String
    public var records: UInt64 = 0
    public var bytes: UInt64 = 0
    public var checkpoints: Int = 0
    public var latest: Checkpoint?
    /// Every problem found, in log order; the first is the first broken place.
    public var failures: [String] = []
    /// Facts worth knowing that are not failures (records not yet checkpointed, crash residue).
    public var notes: [String] = []
    public var ok: Bool { failures.isEmpty }
}

/// Checks a tenant's log end to end: every frame of every segment (bounds, check bytes,
/// contiguity, headers), the block-hash file, every checkpoint's signature, origin and root,
/// and that each checkpoint extends the one before (all roots are recomputed from the same
/// records, which is what a consistency proof certifies).
///
/// It trusts nothing in the folder except the verifier key it is given.
public struct LogVerifier {
    public let backend: any SHA256Backend
    public let verifier: any SignatureVerifier
    public let origin: String

    public init(backend: any SHA256Backend, verifier: any SignatureVerifier, origin: String) {
        self.backend = backend; self.verifier = verifier; self.origin = origin
    }

    /// Records in a log folder, counted from the segment names and the last segment's frames.
    public static func recordCount(_ dir: LogDirectory) throws -> UInt64 {
        let segs = try dir.segments()
        guard let last = segs.last else { return 0 }
        let scan = try SegmentScanner(backend: dir.backend).scan(path: dir.path + "/" + last.name, expectedFirstIndex: last.firstIndex) { _, _, _ in true }
        return last.firstIndex + scan.count
    }

    /// Verifies the log; `inspect` sees every record (index, bytes) during the single pass,
    /// so callers can check record-level evidence (time anchors, ...) without rereading.
    public func verify(_ dir: LogDirectory, tenant: String,
                       inspect: ((UInt64, UnsafeRawBufferPointer) throws -> Void)? = nil) throws -> LogVerification {
        var v = LogVerification(tenant: tenant)
        func fail(_ s: String) { v.failures.append(s) }

        // Checkpoints first: their sizes tell where to compare roots while streaming.
        var cps: [(n: Int, cp: Checkpoint)] = []
        var cpTornAt: FrameProblem?
        do {
            let (notes, _, problem) = try dir.checkpoints()
            cpTornAt = problem
            v.checkpoints = notes.count
            var lastSize: UInt64 = 0
            for (n, note) in notes.enumerated() {
                let cp: Checkpoint
                do { cp = try Checkpoint(body: note.text) } catch let e as EvidenceError {
                    fail("checkpoint #\(n): \(e.message)"); continue
                }
                if !note.isSigned(by: verifier) {
                    fail("checkpoint #\(n) (size \(cp.size)): signature does not verify with key '\(verifier.keyName)' (tenant \(tenant))")
                }
                if cp.origin != origin {
                    fail("checkpoint #\(n) (size \(cp.size)): origin '\(cp.origin)' is not this log's origin '\(origin)' (a checkpoint from another log)")
                }
                if cp.size < lastSize {
                    fail("checkpoint #\(n): size \(cp.size) is smaller than the previous checkpoint's \(lastSize) (the log cannot shrink)")
                }
                lastSize = max(lastSize, cp.size)
                cps.append((n, cp))
            }
        } catch let e as EvidenceError {
            fail(e.message)
        }
        if let p = cpTornAt {
            // A frame cut short looks the same whether a crash interrupted the write or
            // someone altered a length, so it is never waved through: opening the log for
            // writing cuts crash residue, after which a clean verification is possible.
            if case .truncated = p {
                fail("checkpoints.log: \(p) — either a checkpoint write was interrupted by a crash (open the log for writing, e.g. 'nis2ctl log checkpoint --new', to cut it) or the file was altered")
            } else {
                fail("checkpoints.log: \(p) — a stored checkpoint was altered")
            }
        }

        let storedBlocks: [Digest]
        do { storedBlocks = try dir.storedBlocks() } catch let e as EvidenceError { fail(e.message); storedBlocks = [] }

        // Stream every record once.
        var tree = CompactRange()
        var block = CompactRange()
        var blockIndex = 0
        var nextCP = 0
        let sorted = cps.sorted { $0.cp.size < $1.cp.size }
        var lastGoodCP: UInt64 = 0
        func checkCheckpoints(at size: UInt64) {
            while nextCP < sorted.count && sorted[nextCP].cp.size == size {
                let (n, cp) = sorted[nextCP]
                let root = tree.root(extendedBy: block, using: backend)
                if root != cp.root {
                    fail("checkpoint #\(n) (size \(cp.size)): records 0..<\(cp.size) do not hash to its signed root — records \(lastGoodCP)..<\(cp.size) (or the checkpoint) were altered")
                } else {
                    lastGoodCP = cp.size
                }
                nextCP += 1
            }
        }
        checkCheckpoints(at: 0)

        let segs: [(name: String, firstIndex: UInt64)]
        do { segs = try dir.segments() } catch let e as EvidenceError { fail(e.message); segs = [] }
        if segs.isEmpty { fail("log \(dir.path) has no segment files") }
        var expected: UInt64 = 0
        let scanner = SegmentScanner(backend: backend)
        for (si, seg) in segs.enumerated() {
            if seg.firstIndex != expected {
                fail("segment \(seg.name): named for record \(seg.firstIndex), but the previous segments end at record \(expected) (a segment is missing, extra or renamed)")
                break
            }
            let scan: SegmentScan
            do {
                scan = try scanner.scan(path: dir.path + "/" + seg.name, expectedFirstIndex: seg.firstIndex) { i, rec, leaf in
                    v.bytes += UInt64(rec.count)
                    try inspect?(i, rec)
                    block.append(leafHash: leaf, using: backend)
                    if block.size == StoredTree.blockLeaves {
                        let b = block.root(using: backend)
                        if blockIndex < storedBlocks.count && storedBlocks[blockIndex] != b {
                            fail("blocks.hashes entry \(blockIndex) does not match records \(blockIndex * 256)..<\(blockIndex * 256 + 256): those records or the block file were altered")
                        }
                        tree.append(subtree: b, height: StoredTree.blockHeight, using: backend)
                        block = CompactRange()
                        blockIndex += 1
                    }
                    checkCheckpoints(at: tree.size + block.size)
                    return true
                }
            } catch let e as EvidenceError {
                fail(e.message); break
            }
            expected = seg.firstIndex + scan.count
            if let p = scan.problem {
                let isLast = si == segs.count - 1
                let covered = sorted.last.map { $0.cp.size > p.index } ?? false
                if isLast && !covered {
                    v.notes.append("segment \(seg.name): \(p) — after the latest checkpoint, so crash residue of an unacknowledged write; it is cut when the log is next opened for writing")
                } else {
                    fail("segment \(seg.name): \(p)")
                    break
                }
            }
        }
        v.records = tree.size + block.size
        let committedBlocks = Int((sorted.last?.cp.size ?? 0) / StoredTree.blockLeaves)
        if storedBlocks.count < min(committedBlocks, blockIndex) {
            fail("blocks.hashes holds \(storedBlocks.count) entries, but the checkpointed records fill \(min(committedBlocks, blockIndex)) blocks: the block-hash file was truncated or deleted")
        } else if storedBlocks.count < blockIndex {
            v.notes.append("blocks.hashes lacks entries for records after the latest checkpoint; they are rebuilt when the log is next opened for writing")
        }
        if storedBlocks.count > blockIndex {
            fail("blocks.hashes has \(storedBlocks.count) entries but the records fill only \(blockIndex) blocks (records were removed)")
        }
        while nextCP < sorted.count {
            let (n, cp) = sorted[nextCP]
            fail("checkpoint #\(n) (size \(cp.size)) covers more records than the log holds (\(v.records)): records \(v.records)..<\(cp.size) were deleted or truncated")
            nextCP += 1
        }
        v.latest = sorted.last?.cp
        if let latest = v.latest, latest.size < v.records {
            v.notes.append("records \(latest.size)..<\(v.records) are not yet covered by a signed checkpoint")
        } else if v.latest == nil && v.records > 0 {
            v.notes.append("no signed checkpoint yet: the \(v.records) records are not committed by any signature")
        }
        return v
    }
}
