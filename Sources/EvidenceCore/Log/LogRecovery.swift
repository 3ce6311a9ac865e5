import Foundation

/// Brings a tenant's log folder to a consistent state before a writer appends to it.
///
/// - Segments must be contiguous; sealed (read-only) segments are never modified.
/// - The open (last) segment is scanned; damage at its tail is a torn write from a crash:
///   the bytes are copied to `cut-tails/` and cut. Damage longer than the largest possible
///   unflushed batch is not crash residue and stops recovery with an error.
/// - The block-hash file is cut to whole entries covered by records and completed from the
///   records.
/// - The latest checkpoint must be covered by the records and match their root; otherwise
///   acknowledged evidence is missing or altered, and the writer refuses to open.
struct LogRecovery {
    let directory: LogDirectory
    let policy: GroupCommitPolicy

    struct Result {
        var size: UInt64
        var tree: CompactRange
        var partialBlock: CompactRange
        var segmentFD: Int32
        var segmentPath: String
        var segmentSize: Int64
        var blocksFD: Int32
        var checkpointSize: UInt64
    }

    static func createSegment(in dir: LogDirectory, firstIndex: UInt64) throws -> (Int32, String) {
        let path = dir.path + "/" + SegmentFormat.fileName(firstIndex: firstIndex)
        let fd = try FileIO.open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND, 0o644)
        do {
            try FileIO.writeAll(fd, SegmentFormat.header(firstIndex: firstIndex), path: path)
            try FileIO.sync(fd, path: path)
            try FileIO.syncDirectory(dir.path)
        } catch { close(fd); throw error }
        return (fd, path)
    }

    func run() throws -> Result {
        let backend = directory.backend
        var segs = try directory.segments()
        if segs.isEmpty {
            let (fd, path) = try Self.createSegment(in: directory, firstIndex: 0)
            segs = [(SegmentFormat.fileName(firstIndex: 0), 0)]
            _ = path; close(fd)
        }
        guard segs[0].firstIndex == 0 else {
            throw EvidenceError.verification("log \(directory.path): the first segment starts at record \(segs[0].firstIndex), not 0 (a segment was deleted)")
        }

        // The last segment: scan, cut a torn tail.
        let last = segs[segs.count - 1]
        let lastPath = directory.path + "/" + last.name
        var tailLeaves: [(UInt64, Digest)] = []
        let scan = try SegmentScanner(backend: backend).scan(path: lastPath, expectedFirstIndex: last.firstIndex) { i, _, leaf in
            tailLeaves.append((i, leaf))
            if tailLeaves.count > 4096 { tailLeaves.removeFirst(2048) }
            return true
        }
        var st = stat()
        stat(lastPath, &st)
        let sealed = st.st_mode & 0o222 == 0
        if let problem = scan.problem {
            let damaged = scan.fileSize - scan.validEnd
            guard !sealed else {
                throw EvidenceError.verification("sealed segment \(last.name): \(problem); sealed segments are never repaired — restore it from a replica")
            }
            guard damaged <= policy.maxTornTailBytes else {
                throw EvidenceError.verification("segment \(last.name): \(problem), and \(damaged) bytes follow — more than any unflushed batch, so this is damage, not a torn write; not cutting. Inspect with 'nis2ctl log verify'")
            }
        }
        let size = last.firstIndex + scan.count

        // Block hashes: keep only whole entries that the records cover, complete the rest.
        let blocksPath = directory.blocksPath
        let blocksFD = try FileIO.open(blocksPath, O_RDWR | O_CREAT | O_APPEND, 0o644)
        var blocks: [Digest]
        do {
            let stored = try directory.storedBlocks()
            let wanted = Int(size / StoredTree.blockLeaves)
            blocks = Array(stored.prefix(wanted))
            if try FileIO.size(blocksFD, path: blocksPath) != Int64(blocks.count * 32) {
                try FileIO.truncate(blocksFD, to: Int64(blocks.count * 32), path: blocksPath)
            }
            if blocks.count < wanted {
                var added: [UInt8] = []
                for b in blocks.count..<wanted {
                    let lo = UInt64(b) * StoredTree.blockLeaves
                    let leaves = try directory.leafHashes(lo..<lo + StoredTree.blockLeaves)
                    let h = MerkleProofs.hashOfRange(0..<StoredTree.blockLeaves, leaf: { leaves[Int($0)] }, using: backend)
                    blocks.append(h)
                    added.append(contentsOf: h.bytes)
                }
                try FileIO.writeAll(blocksFD, added, path: blocksPath)
            }
            try FileIO.syncData(blocksFD, path: blocksPath)
        } catch { close(blocksFD); throw error }

        var tree = CompactRange()
        for b in blocks { tree.append(subtree: b, height: StoredTree.blockHeight, using: backend) }
        var partial = CompactRange()
        let tailStart = UInt64(blocks.count) * StoredTree.blockLeaves
        if tailStart < size {
            let cached = tailLeaves.filter { $0.0 >= tailStart }
            let leaves = cached.count == Int(size - tailStart) ? cached.map(\.1) : try directory.leafHashes(tailStart..<size)
            for l in leaves { partial.append(leafHash: l, using: backend) }
        }

        // The latest checkpoint must still hold.
        var checkpointSize: UInt64 = 0
        do {
            let (notes, _, problem) = try directory.checkpoints()
            var cpTail: (offset: Int64, size: Int64)?
            if let problem {
                // Only a frame cut short is crash residue; a complete frame that fails its
                // check was altered.
                guard case .truncated = problem else {
                    throw EvidenceError.verification("checkpoints.log: \(problem); a stored checkpoint was altered — not cutting")
                }
                let fd = try FileIO.open(directory.checkpointsPath, O_RDONLY)
                defer { close(fd) }
                cpTail = (problem.offset, try FileIO.size(fd, path: directory.checkpointsPath))
            }
            if let latest = notes.last {
                let cp = try Checkpoint(body: latest.text)
                checkpointSize = cp.size
                guard cp.size <= size else {
                    throw EvidenceError.verification("log \(directory.path): the latest checkpoint covers \(cp.size) records but only \(size) are present — acknowledged records are missing; restore the segments from a replica")
                }
                let root = try directory.tree(size: cp.size, blocks: blocks).subtreeHash(0..<cp.size)
                guard root == cp.root else {
                    throw EvidenceError.verification("log \(directory.path): records 0..<\(cp.size) no longer hash to the root of the latest checkpoint — the log was altered; run 'nis2ctl log verify' to find where")
                }
            }
            // Everything checked: only now cut what a crash tore.
            if let t = cpTail { try cutTail(path: directory.checkpointsPath, name: "checkpoints.log", from: t.offset, size: t.size) }
            if scan.problem != nil { try cutTail(path: lastPath, name: last.name, from: scan.validEnd, size: scan.fileSize) }
        } catch { close(blocksFD); throw error }

        // Continue the open segment, or start the next one if the last was sealed.
        let fd: Int32, path: String, segSize: Int64
        if sealed {
            (fd, path) = try Self.createSegment(in: directory, firstIndex: size)
            segSize = Int64(SegmentFormat.headerBytes)
        } else {
            fd = try FileIO.open(lastPath, O_WRONLY | O_APPEND)
            path = lastPath
            segSize = scan.validEnd
        }
        return Result(size: size, tree: tree, partialBlock: partial, segmentFD: fd, segmentPath: path, segmentSize: segSize, blocksFD: blocksFD, checkpointSize: checkpointSize)
    }

    /// Copies the damaged tail to `cut-tails/` (so nothing is destroyed), then cuts the file.
    private func cutTail(path: String, name: String, from offset: Int64, size: Int64) throws {
        try FileIO.makeDirectory(directory.quarantinePath)
        let fd = try FileIO.open(path, O_RDWR)
        defer { close(fd) }
        let want = Int(size - offset)
        var tail = [UInt8](repeating: 0, count: want)
        let n = try tail.withUnsafeMutableBytes { try FileIO.pread(fd, $0.baseAddress!, want, at: offset, path: path) }
        let keep = directory.quarantinePath + "/\(name).at-\(offset).\(Int(Date().timeIntervalSince1970))"
        _ = try Array(tail.prefix(n)).withUnsafeBytes { try FileIO.createImmutable(keep, bytes: $0) }
        try FileIO.truncate(fd, to: offset, path: path)
        try FileIO.sync(fd, path: path)
    }
}
