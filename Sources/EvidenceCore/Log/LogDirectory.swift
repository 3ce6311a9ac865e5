import Foundation

/// The files of one tenant's log folder, read-only: segments, block hashes, checkpoints.
///
/// ```
/// log/seg-<first index, 20 digits>.log   append-only segments; sealed ones are read-only
/// log/blocks.hashes                      32-byte hash of each complete run of 256 records
/// log/checkpoints.log                    signed checkpoints, framed like records
/// ```
public struct LogDirectory: Sendable {
    public let path: String
    public let backend: any SHA256Backend

    public init(path: String, backend: any SHA256Backend) { self.path = path; self.backend = backend }

    public var blocksPath: String { path + "/blocks.hashes" }
    public var checkpointsPath: String { path + "/checkpoints.log" }
    public var quarantinePath: String { path + "/cut-tails" }

    /// Segment files ordered by the first index their names claim.
    public func segments() throws -> [(name: String, firstIndex: UInt64)] {
        try FileIO.list(path).compactMap { n in SegmentFormat.firstIndex(fromFileName: n).map { (n, $0) } }
            .sorted { $0.1 < $1.1 }
    }

    /// Reads every record with index in `range`, in order. Records are found by the segment
    /// names, then scanned from that segment's start.
    public func forEachRecord(in range: Range<UInt64>, _ body: (UInt64, UnsafeRawBufferPointer, Digest) throws -> Void) throws {
        guard !range.isEmpty else { return }
        let segs = try segments()
        guard var si = segs.lastIndex(where: { $0.firstIndex <= range.lowerBound }) else {
            throw EvidenceError(.notFound, "record \(range.lowerBound) is not in \(path)")
        }
        var next = range.lowerBound
        let scanner = SegmentScanner(backend: backend)
        while next < range.upperBound {
            guard si < segs.count else { break }
            let seg = segs[si]
            let scan = try scanner.scan(path: path + "/" + seg.name, expectedFirstIndex: seg.firstIndex) { i, rec, leaf in
                if i >= range.upperBound { return false }
                if i >= next { try body(i, rec, leaf); next = i + 1 }
                return true
            }
            if next < range.upperBound, let p = scan.problem, si == segs.count - 1 || p.index < range.upperBound {
                throw EvidenceError.verification("segment \(seg.name): \(p)")
            }
            si += 1
        }
        guard next >= range.upperBound else {
            throw EvidenceError(.notFound, "the log ends at record \(next); records \(next)..<\(range.upperBound) do not exist")
        }
    }

    public func leafHashes(_ range: Range<UInt64>) throws -> [Digest] {
        var out: [Digest] = []
        out.reserveCapacity(range.count)
        try forEachRecord(in: range) { _, _, leaf in out.append(leaf) }
        return out
    }

    /// Reads the block-hash file (whole 32-byte entries only).
    public func storedBlocks() throws -> [Digest] {
        guard FileIO.exists(blocksPath) else { return [] }
        let bytes = try FileIO.readFile(blocksPath, limit: 1 << 34)
        return bytes.withUnsafeBytes { raw in
            (0..<bytes.count / 32).map { Digest(loadingFrom: raw.baseAddress! + $0 * 32) }
        }
    }

    /// A proof source for a log of `treeSize` records, using the stored block hashes.
    public func tree(size: UInt64, blocks: [Digest]? = nil) throws -> StoredTree {
        let b = try blocks ?? storedBlocks()
        let needed = Int(size / StoredTree.blockLeaves)
        return StoredTree(treeSize: size, blocks: Array(b.prefix(needed)), backend: backend) { r in try self.leafHashes(r) }
    }

    /// All checkpoints written so far, oldest first, with the problem at the tail (if any).
    public func checkpoints() throws -> (notes: [SignedNote], raw: [[UInt8]], problem: FrameProblem?) {
        guard FileIO.exists(checkpointsPath) else { return ([], [], nil) }
        var notes: [SignedNote] = [], raws: [[UInt8]] = []
        let scan = try SegmentScanner(backend: backend).scan(path: checkpointsPath, expectedFirstIndex: 0) { i, rec, _ in
            let raw = Array(rec)
            do { notes.append(try SignedNote(parsing: raw)) } catch let e as EvidenceError {
                throw EvidenceError.verification("checkpoints.log entry \(i): \(e.message)")
            }
            raws.append(raw)
            return true
        }
        return (notes, raws, scan.problem)
    }
}
