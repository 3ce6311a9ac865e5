import EvidenceCore
import EvidenceOpenSSL
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A regular file opened for upload, read with `pread` so concurrent part senders share one
/// descriptor (`pread` and `sendfile` with an explicit offset never move a shared offset).
/// Immutable after init; the descriptor is closed when the last reference goes, so a
/// `S3FileRegion` in a request (or its retry) can never point at a reused descriptor.
///
/// `size` is the size when opened: an upload covers exactly these bytes, and a file shorter
/// than that when a region is read or sent is reported as truncated.
public final class S3SourceFile: Sendable {
    let fd: Int32
    public let size: UInt64
    public let path: String

    /// Refuses a path that cannot be opened or is not a regular file.
    public init(path: String) throws {
        self.path = path
        fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw EvidenceError(.notFound, "cannot open '\(path)' for upload: \(String(cString: strerror(errno)))") }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            Glibc.close(fd)
            throw EvidenceError(.malformedInput, "'\(path)' is not a regular file; only files are uploaded")
        }
        size = UInt64(st.st_size)
    }

    deinit { Glibc.close(fd) }

    /// The error for a file that ends before `offset` although it was `size` bytes when opened.
    func truncated(at offset: UInt64) -> EvidenceError {
        EvidenceError(.io, "'\(path)' ends before offset \(offset) although it had \(size) bytes when the upload began: it was truncated during the upload; upload it again once it is complete and no longer written")
    }

    /// Fills `count` bytes at `p` from `offset`; throws when the file ends first or a read fails.
    func readFully(into p: UnsafeMutableRawPointer, count: Int, offset: UInt64) throws {
        var got = 0
        while got < count {
            let r = pread(fd, p + got, count - got, off_t(offset) + off_t(got))
            if r < 0 && errno == EINTR { continue }
            if r == 0 { throw truncated(at: offset + UInt64(got) + 1) }
            guard r > 0 else {
                throw EvidenceError(.io, "reading '\(path)' at offset \(offset + UInt64(got)) failed: \(String(cString: strerror(errno)))")
            }
            got += r
        }
    }

    func read(offset: UInt64, count: Int) throws -> [UInt8] {
        try [UInt8](unsafeUninitializedCapacity: count) { buf, n in
            n = 0
            if count > 0 { try readFully(into: buf.baseAddress!, count: count, offset: offset) }
            n = count
        }
    }

    /// `count` bytes at `offset`, straight into `Data`.
    func readData(offset: UInt64, count: Int) throws -> Data {
        var data = Data(count: count)
        if count > 0 { try data.withUnsafeMutableBytes { try readFully(into: $0.baseAddress!, count: count, offset: offset) } }
        return data
    }

    /// SHA-256 of `length` bytes from `offset` (the whole file by default), in 256 KiB reads.
    func sha256(offset: UInt64 = 0, length: UInt64? = nil) throws -> Digest {
        let end = offset + (length ?? (size - offset))
        let chunk = 256 << 10
        let buf = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 64)
        defer { buf.deallocate() }
        var h = OpenSSLSHA256Hasher()
        var at = offset
        while at < end {
            let n = Int(min(UInt64(chunk), end - at))
            try readFully(into: buf, count: n, offset: at)
            h.update(UnsafeRawBufferPointer(start: buf, count: n))
            at += UInt64(n)
        }
        return h.finalize()
    }
}

/// The hashes one part is sent with.
struct PartDigests: Sendable {
    var md5: [UInt8]
    var sha256: Digest
}

extension S3SourceFile {
    /// MD5 and SHA-256 of `length` bytes from `offset`, read once in 128 KiB pieces (each
    /// piece is hashed twice while it is in the CPU cache). Throws when the file ends first.
    func partDigests(offset: UInt64, length: Int) throws -> PartDigests {
        var sha = OpenSSLSHA256Hasher()
        let md5 = try hashRegion(offset: offset, length: length) { sha.update($0) }
        return PartDigests(md5: md5, sha256: sha.finalize())
    }

    /// MD5 of `length` bytes from `offset` (the part's Content-MD5), read in 128 KiB pieces.
    func partMD5(offset: UInt64, length: Int) throws -> [UInt8] {
        try hashRegion(offset: offset, length: length) { _ in }
    }

    /// Reads the region once in 128 KiB pieces, hands each to `also`, returns its MD5.
    private func hashRegion(offset: UInt64, length: Int, also: (UnsafeRawBufferPointer) -> Void) throws -> [UInt8] {
        let chunk = 128 << 10
        let buf = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 64)
        defer { buf.deallocate() }
        let md5 = ContentMD5.Hasher()
        var at = offset
        let end = offset + UInt64(length)
        while at < end {
            let n = Int(min(UInt64(chunk), end - at))
            try readFully(into: buf, count: n, offset: at)
            let bytes = UnsafeRawBufferPointer(start: buf, count: n)
            md5.update(bytes)
            also(bytes)
            at += UInt64(n)
        }
        return md5.finalize()
    }
}

/// Runs blocking work (hashing a part) on a thread of its own, so parts in flight never hold
/// the few threads of the cooperative pool.
func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
        let t = Thread { c.resume(with: Result { try work() }) }
        t.stackSize = 1 << 20
        t.start()
    }
}

/// What the first pass over a file records: the SHA-256 of the whole file and of each part,
/// both from one read of each byte (so the part hashes describe exactly the bytes the
/// whole-file hash describes).
///
/// Why the part SHA-256s are computed here although each part's MD5 is computed later, just
/// before the part is sent (so that MD5, the slowest hash, overlaps other parts on the wire
/// instead of delaying CreateMultipartUpload): that later MD5 describes the file as it is
/// *then*. Were the part's SHA-256 computed then too, a file changed after this pass would
/// yield hashes of other bytes than the recorded whole-file SHA-256, the server would accept
/// them, and the object would not be the bytes its metadata names. So every part is sent with
/// the SHA-256 of this pass (in `x-amz-checksum-sha256` and as the signed payload hash): the
/// server refuses a part whose bytes do not match it, and must confirm it in its answer; the
/// ETag must be the later MD5, so a change between hashing and sending is caught on this side
/// too. Where a server does not confirm the checksum, the part is read again and its SHA-256
/// compared with this pass's (`S3ObjectLockStore.uploadPart`).
struct FileSnapshot: Sendable {
    var sha256: Digest
    var partSHA256: [Digest]

    /// Reads `file` once in `chunkSize` pieces through a ring of `slots` buffers (memory:
    /// chunkSize x slots, whatever the file and part size) on two threads: one reads and
    /// computes the whole-file SHA-256, the other each part's SHA-256 of the same buffers (both
    /// at about the same speed). Throws when the file is shorter than when it was opened, or a
    /// read fails.
    static func compute(_ file: S3SourceFile, partSize: Int, chunkSize: Int = 256 << 10, slots: Int = 8) async throws -> FileSnapshot {
        precondition(partSize > 0 && chunkSize > 0 && slots > 0)
        let ring = DigestRing(file: file, partSize: partSize, chunkSize: chunkSize, slots: slots)
        return try await onOwnThread { try ring.run() }
    }
}

/// The two-thread pipeline of `FileSnapshot.compute`. Slot contents and lengths are handed
/// from the reader to the part hasher by `filled` and back by `free`: the reader writes a slot
/// only after the part hasher gave it back; both then read it (the reader for the whole-file
/// SHA-256).
private final class DigestRing: @unchecked Sendable {
    let file: S3SourceFile
    let partSize: UInt64
    let chunkSize: Int
    let slots: Int
    let buffers: UnsafeMutableRawPointer
    /// Per slot: bytes in it, 0 for "end of file", -1 for "the reader failed".
    let lengths: UnsafeMutablePointer<Int>
    /// Per slot: whether the chunk ends a part.
    let endsPart: UnsafeMutablePointer<Bool>
    /// Created at 0 and signalled `slots` times: libdispatch traps when a semaphore is freed
    /// below its initial value, which `free` is at the end of a run.
    let free = DispatchSemaphore(value: 0)
    let filled = DispatchSemaphore(value: 0)
    let hasherDone = DispatchSemaphore(value: 0)
    var partSHA: [Digest] = []

    init(file: S3SourceFile, partSize: Int, chunkSize: Int, slots: Int) {
        self.file = file; self.partSize = UInt64(partSize); self.chunkSize = chunkSize; self.slots = slots
        buffers = .allocate(byteCount: chunkSize * slots, alignment: 64)
        lengths = .allocate(capacity: slots); lengths.initialize(repeating: 0, count: slots)
        endsPart = .allocate(capacity: slots); endsPart.initialize(repeating: false, count: slots)
        for _ in 0..<slots { free.signal() }
    }

    deinit { buffers.deallocate(); lengths.deallocate(); endsPart.deallocate() }

    /// Runs the reader here and the part hasher on a second thread; returns when both are done.
    func run() throws -> FileSnapshot {
        let hasher = Thread { [self] in hashParts(); hasherDone.signal() }
        hasher.stackSize = 1 << 20
        hasher.start()
        var failure: (any Error)?
        var all = OpenSSLSHA256Hasher()
        var offset: UInt64 = 0
        var index = 0
        var parts = 0
        while offset < file.size {
            let partEnd = min((offset / partSize + 1) * partSize, file.size)
            let n = Int(min(UInt64(chunkSize), partEnd - offset))
            let slot = index % slots
            free.wait()
            let p = buffers + slot * chunkSize
            do { try file.readFully(into: p, count: n, offset: offset) } catch { failure = error; break }
            lengths[slot] = n
            endsPart[slot] = offset + UInt64(n) == partEnd
            if endsPart[slot] { parts += 1 }
            filled.signal()
            all.update(UnsafeRawBufferPointer(start: p, count: n))
            offset += UInt64(n)
            index += 1
        }
        if failure == nil { free.wait() }   // the slot for the end marker
        lengths[index % slots] = failure == nil ? 0 : -1
        filled.signal()
        hasherDone.wait()
        if let failure { throw failure }
        guard partSHA.count == parts else {
            throw EvidenceError(.io, "hashing '\(file.path)' stopped early; upload it again")
        }
        return FileSnapshot(sha256: all.finalize(), partSHA256: partSHA)
    }

    private func hashParts() {
        var sha = OpenSSLSHA256Hasher()
        var index = 0
        while true {
            filled.wait()
            let slot = index % slots
            let n = lengths[slot]
            if n <= 0 { return }
            sha.update(UnsafeRawBufferPointer(start: buffers + slot * chunkSize, count: n))
            if endsPart[slot] { partSHA.append(sha.finalize()); sha = OpenSSLSHA256Hasher() }
            free.signal()
            index += 1
        }
    }
}
