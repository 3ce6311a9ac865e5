import Foundation

/// Tuning of the group commit. Defaults suit a 2-core machine with an SSD.
public struct GroupCommitPolicy: Sendable {
    /// Longest time an appended record waits before its batch is written and flushed.
    public var maxDelay: Duration = .milliseconds(10)
    /// A batch is flushed early once this many bytes are pending. Small batches keep the
    /// commit interval far below `maxDelay` even at full ingest speed (measured: 1 MiB
    /// batches commit every ~2.4 ms at 2.3 M records/s on a 2-core VM with an SSD).
    public var batchBytes: Int = 1 << 20
    /// Appends block (back-pressure) while this many bytes wait for the disk: memory stays flat.
    public var maxPendingBytes: Int = 8 << 20
    /// A segment is sealed (made read-only) and a new one started past this size.
    public var segmentBytes: Int64 = 128 << 20
    /// A crash can tear at most the unflushed batch; a damaged tail longer than this is not
    /// cut automatically, because it cannot be crash residue.
    public var maxTornTailBytes: Int64 { Int64(maxPendingBytes + batchBytes + SegmentFormat.maxRecordBytes) }

    public init() {}
}

/// The single writer of one tenant's log: appends records, commits them to disk in groups
/// (write + fdatasync, never more than `maxDelay` apart), keeps the Merkle tree, and signs
/// checkpoints.
///
/// Guarantees:
/// - A record is acknowledged (`durableSize` covers it, `sync` returns, `onDurable` fires)
///   only after its bytes and every earlier record's are flushed to stable storage.
/// - Nothing is ever overwritten: segments only grow; a full one is fsync'd, made read-only
///   and a new one begins. On open after a crash, a torn tail (bytes that were never
///   acknowledged) is cut, and the cut bytes are kept in `cut-tails/` for inspection.
/// - Call `close()` when done: it flushes and stops the flusher thread, which otherwise keeps
///   the writer alive.
/// - One writer per tenant (an exclusive lock file); a second opener gets a clear error.
/// - After a write error (disk full, I/O error) the writer refuses further appends, cuts the
///   partial batch, and reports the error to every waiter; reopening resumes from the last
///   acknowledged record.
public final class LogWriter: @unchecked Sendable {
    // @unchecked: all mutable state below is guarded by `cond` (an NSCondition, i.e. a mutex)
    // except the `flusher…` fields, which only the flusher thread touches after `init`.
    public let directory: LogDirectory
    public let origin: String
    private let signer: (any Signer)?
    private let policy: GroupCommitPolicy
    private let backend: any SHA256Backend

    private let cond = NSCondition()
    private var pending: [UInt8] = []
    private var pendingBlocks: [UInt8] = []
    private var assigned: UInt64
    private var durable: UInt64
    private var tree: CompactRange
    private var block: CompactRange
    private var failure: EvidenceError?
    private var closing = false
    private var flushRequested = false
    private var oldestPending: ContinuousClock.Instant?
    private var waiters: [(UInt64, CheckedContinuation<Void, Error>)] = []
    private var durableCallback: (@Sendable (UInt64) -> Void)?
    private var thread: Thread?
    private var stopped = false

    private var flusherSegmentFD: Int32 = -1
    private var flusherSegmentPath = ""
    private var flusherSegmentSize: Int64 = 0
    private var flusherBlocksFD: Int32 = -1
    private let lockFD: Int32

    /// Opens (creating if needed) the log in `directory`, recovering from any crash.
    public init(directory: LogDirectory, origin: String, signer: (any Signer)?, policy: GroupCommitPolicy = .init()) throws {
        self.directory = directory
        self.origin = origin
        self.signer = signer
        self.policy = policy
        self.backend = directory.backend
        try FileIO.makeDirectory(directory.path)
        lockFD = try FileIO.open(directory.path + "/.writer.lock", O_RDWR | O_CREAT, 0o600)
        guard flock(lockFD, LOCK_EX | LOCK_NB) == 0 else {
            Foundation.close(lockFD)
            throw EvidenceError(.io, "another process is writing the log in \(directory.path); stop it first (one writer per tenant)")
        }
        do {
            let r = try LogRecovery(directory: directory, policy: policy).run()
            assigned = r.size; durable = r.size; lastCheckpoint = r.checkpointSize; tree = r.tree; block = r.partialBlock
            flusherSegmentFD = r.segmentFD; flusherSegmentPath = r.segmentPath; flusherSegmentSize = r.segmentSize
            flusherBlocksFD = r.blocksFD
        } catch {
            Foundation.close(lockFD)
            throw error
        }
        pending.reserveCapacity(policy.batchBytes + 4096)
        // The thread keeps the writer alive until `close()` stops it.
        let t = Thread { self.flusherLoop() }
        t.name = "evidence-log-flusher"
        thread = t
        t.start()
    }

    /// Called on the flusher thread with the new durable size after every group commit.
    /// Set it before appending.
    public func onDurable(_ callback: @escaping @Sendable (UInt64) -> Void) {
        cond.lock(); durableCallback = callback; cond.unlock()
    }

    /// Size of the latest signed checkpoint (0 if none).
    public var checkpointedSize: UInt64 { cond.lock(); defer { cond.unlock() }; return lastCheckpoint }
    private var lastCheckpoint: UInt64 = 0

    /// Records appended so far (durable or not).
    public var size: UInt64 { cond.lock(); defer { cond.unlock() }; return assigned }
    /// Records flushed to stable storage: the acknowledged prefix of the log.
    public var durableSize: UInt64 { cond.lock(); defer { cond.unlock() }; return durable }

    /// Appends one record; returns its index. Not yet durable: see `sync`/`waitUntilDurable`.
    @discardableResult
    public func append(_ record: UnsafeRawBufferPointer) throws -> UInt64 {
        guard record.count >= 1 && record.count <= SegmentFormat.maxRecordBytes else {
            throw EvidenceError.malformed("a record must be 1 to \(SegmentFormat.maxRecordBytes) bytes, not \(record.count); store large payloads as objects and cite their digest")
        }
        let leaf = backend.hash(prefix: 0x00, record)
        cond.lock()
        defer { cond.unlock() }
        while pending.count >= policy.maxPendingBytes && failure == nil && !closing { cond.wait() }
        if let failure { throw EvidenceError(.closed, "log is closed after an earlier error: \(failure.message)") }
        guard !closing else { throw EvidenceError(.closed, "log is closed") }
        let index = assigned
        assigned += 1
        var len = UInt32(record.count).bigEndian
        withUnsafeBytes(of: &len) { pending.append(contentsOf: $0) }
        pending.append(contentsOf: record)
        var check = SegmentFormat.checkBytes(leaf).bigEndian
        withUnsafeBytes(of: &check) { pending.append(contentsOf: $0) }
        block.append(leafHash: leaf, using: backend)
        if block.size == StoredTree.blockLeaves {
            let root = block.root(using: backend)
            tree.append(subtree: root, height: StoredTree.blockHeight, using: backend)
            withUnsafeTemporaryAllocation(byteCount: 32, alignment: 8) { b in
                root.store(to: b.baseAddress!); pendingBlocks.append(contentsOf: UnsafeRawBufferPointer(b))
            }
            block = CompactRange()
        }
        if oldestPending == nil { oldestPending = .now; cond.broadcast() }
        if pending.count >= policy.batchBytes { cond.broadcast() }
        return index
    }

    @discardableResult
    public func append<C: ContiguousBytes>(_ record: C) throws -> UInt64 {
        try record.withUnsafeBytes { try append($0) }
    }

    /// Blocks until every record appended so far is durable.
    public func sync() throws {
        cond.lock()
        defer { cond.unlock() }
        let target = assigned
        flushRequested = true
        cond.broadcast()
        while durable < target && failure == nil { cond.wait() }
        if let failure, durable < target { throw failure }
    }

    /// Suspends until the first `size` records are durable.
    public func waitUntilDurable(_ size: UInt64) async throws {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, Error>) in
            cond.lock()
            if durable >= size { cond.unlock(); c.resume(); return }
            if let failure { cond.unlock(); c.resume(throwing: failure); return }
            waiters.append((size, c))
            cond.unlock()
        }
    }

    /// Appends and returns once the record is durable.
    public func appendDurably(_ record: [UInt8]) async throws -> UInt64 {
        let i = try append(record)
        try await waitUntilDurable(i + 1)
        return i
    }

    /// Tree size and root of everything appended so far.
    public func treeHead() -> (size: UInt64, root: Digest) {
        cond.lock(); defer { cond.unlock() }
        return (assigned, currentRoot())
    }

    private func currentRoot() -> Digest {
        // Caller holds the lock. `tree` holds whole blocks; `block` the ragged tail.
        tree.root(extendedBy: block, using: backend)
    }

    /// Makes everything appended so far durable, then signs and stores a checkpoint of it.
    @discardableResult
    public func checkpoint(extensions: [String] = []) throws -> (Checkpoint, SignedNote) {
        guard let signer else { throw EvidenceError(.unsupported, "this log was opened without a signing key; checkpoints need one") }
        cond.lock()
        let size = assigned
        let root = currentRoot()
        cond.unlock()
        try sync()
        let cp = Checkpoint(origin: origin, size: size, root: root, extensions: extensions)
        let note = try SignedNote.sign(cp.body, with: signer)
        try appendCheckpoint(Array(note.serialized.utf8))
        cond.lock(); lastCheckpoint = max(lastCheckpoint, size); cond.unlock()
        return (cp, note)
    }

    private func appendCheckpoint(_ bytes: [UInt8]) throws {
        let path = directory.checkpointsPath
        let fresh = !FileIO.exists(path)
        let fd = try FileIO.open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        defer { Foundation.close(fd) }
        if fresh {
            try FileIO.writeAll(fd, SegmentFormat.header(firstIndex: 0), path: path)
        }
        var frame: [UInt8] = []
        withUnsafeBytes(of: UInt32(bytes.count).bigEndian) { frame.append(contentsOf: $0) }
        frame.append(contentsOf: bytes)
        withUnsafeBytes(of: SegmentFormat.checkBytes(backend.leafHash(bytes)).bigEndian) { frame.append(contentsOf: $0) }
        try FileIO.writeAll(fd, frame, path: path)
        try FileIO.syncData(fd, path: path)
        if fresh { try FileIO.syncDirectory(directory.path) }
    }

    /// Flushes everything, stops the flusher and releases the writer lock.
    public func close() throws {
        cond.lock()
        if stopped { cond.unlock(); return }
        closing = true
        flushRequested = true
        cond.broadcast()
        cond.unlock()
        while true {
            cond.lock()
            let done = stopped
            cond.unlock()
            if done { break }
            usleep(200)
        }
        if flusherSegmentFD >= 0 { Foundation.close(flusherSegmentFD) }
        if flusherBlocksFD >= 0 { Foundation.close(flusherBlocksFD) }
        Foundation.close(lockFD)
        if let failure { throw failure }
    }

    // MARK: flusher thread

    private func flusherLoop() {
        var spare: [UInt8] = []
        spare.reserveCapacity(policy.batchBytes + 4096)
        while true {
            cond.lock()
            // Wait for work: a full batch, an explicit sync, the delay bound, or shutdown.
            while true {
                if failure != nil || (pending.isEmpty && closing) { break }
                if !pending.isEmpty {
                    if flushRequested || closing || pending.count >= policy.batchBytes { break }
                    if let t = oldestPending, ContinuousClock.now >= t + policy.maxDelay { break }
                    let deadline = (oldestPending ?? .now) + policy.maxDelay
                    let wait = ContinuousClock.now.duration(to: deadline)
                    let secs = Double(wait.components.seconds) + Double(wait.components.attoseconds) / 1e18
                    _ = cond.wait(until: Date().addingTimeInterval(max(secs, 0.0001)))
                } else {
                    flushRequested = false
                    cond.wait()
                }
            }
            if failure != nil || (pending.isEmpty && closing) {
                stopped = true
                cond.broadcast()
                cond.unlock()
                return
            }
            swap(&pending, &spare)
            let blocks = pendingBlocks
            pendingBlocks.removeAll(keepingCapacity: true)
            let batchEnd = assigned
            oldestPending = nil
            flushRequested = false
            cond.broadcast()  // wake producers held by back-pressure
            cond.unlock()

            let error = commit(spare, blocks: blocks, batchEnd: batchEnd)
            spare.removeAll(keepingCapacity: true)

            cond.lock()
            var ready: [CheckedContinuation<Void, Error>] = []
            var failed: [CheckedContinuation<Void, Error>] = []
            if let error {
                failure = error
                failed = waiters.map { $0.1 }
                waiters.removeAll()
            } else {
                durable = batchEnd
                waiters.removeAll { w in
                    if w.0 <= batchEnd { ready.append(w.1); return true }
                    return false
                }
            }
            let callback = durableCallback
            cond.broadcast()
            cond.unlock()
            if error == nil { callback?(batchEnd) }
            for c in ready { c.resume() }
            for c in failed { c.resume(throwing: error!) }
        }
    }

    /// Writes one batch and its block hashes, flushes both. A batch that would pass the
    /// segment size is split at a frame boundary: the full segment is sealed and the rest
    /// goes to the next one, so segments stay near `segmentBytes` whatever the load.
    /// On failure, cuts the open segment back so no unacknowledged partial batch remains.
    private func commit(_ batch: [UInt8], blocks: [UInt8], batchEnd: UInt64) -> EvidenceError? {
        let before = flusherSegmentSize
        var rotated = false
        do {
            try batch.withUnsafeBytes { raw in
                // Index of the batch's first frame: count the frames, they are all in `raw`.
                var frames: UInt64 = 0
                var p = 0
                while p < raw.count {
                    p += Int(UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: p, as: UInt32.self))) + SegmentFormat.frameOverhead
                    frames += 1
                }
                var index = batchEnd - frames
                var start = 0
                while start < raw.count {
                    // Take frames while the segment has room (always at least one frame).
                    var end = start
                    var taken: UInt64 = 0
                    while end < raw.count {
                        let len = Int(UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: end, as: UInt32.self))) + SegmentFormat.frameOverhead
                        if taken > 0 && flusherSegmentSize + Int64(end - start + len) > policy.segmentBytes { break }
                        end += len
                        taken += 1
                    }
                    try FileIO.writeAll(flusherSegmentFD, raw.baseAddress! + start, end - start, path: flusherSegmentPath)
                    flusherSegmentSize += Int64(end - start)
                    index += taken
                    start = end
                    if flusherSegmentSize >= policy.segmentBytes {
                        try rotate(nextFirstIndex: index)
                        rotated = true
                    }
                }
            }
            if !blocks.isEmpty { try FileIO.writeAll(flusherBlocksFD, blocks, path: directory.blocksPath) }
            try FileIO.syncData(flusherSegmentFD, path: flusherSegmentPath)
            if !blocks.isEmpty { try FileIO.syncData(flusherBlocksFD, path: directory.blocksPath) }
        } catch let e as EvidenceError {
            // Cut the open segment back to its acknowledged part. If the batch already
            // filled and sealed a segment, those sealed frames stay (sealed files are never
            // rewritten): they are complete but unacknowledged, like a crash would leave them.
            if flusherSegmentFD >= 0 {
                _ = ftruncate(flusherSegmentFD, off_t(rotated ? Int64(SegmentFormat.headerBytes) : before))
                _ = fdatasync(flusherSegmentFD)
            }
            return e
        } catch { return EvidenceError(.io, "\(error)") }
        return nil
    }

    private func rotate(nextFirstIndex: UInt64) throws {
        guard fchmod(flusherSegmentFD, 0o444) == 0 else { throw EvidenceError.io("cannot seal \(flusherSegmentPath)", errno: errno) }
        try FileIO.sync(flusherSegmentFD, path: flusherSegmentPath)
        Foundation.close(flusherSegmentFD)
        flusherSegmentFD = -1
        let (fd, path) = try LogRecovery.createSegment(in: directory, firstIndex: nextFirstIndex)
        flusherSegmentFD = fd; flusherSegmentPath = path; flusherSegmentSize = Int64(SegmentFormat.headerBytes)
    }
}
