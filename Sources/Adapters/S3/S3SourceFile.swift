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

/// The hashes of one multipart part.
struct PartDigests: Sendable {
    var md5: [UInt8]
    var sha256: Digest
}

/// The SHA-256 of a whole file and the MD5 and SHA-256 of each of its parts, all computed
/// from one read of each byte: the part hashes describe exactly the bytes the whole-file hash
/// describes. An upload that sends each part with these hashes (and checks each part's ETag
/// against its MD5) therefore stores exactly the bytes of this hash, or fails.
struct FileSnapshot: Sendable {
    var sha256: Digest
    var parts: [PartDigests]

    /// Reads `file` once in `chunkSize` pieces through a ring of `slots` buffers (memory:
    /// chunkSize x slots, whatever the file and part size) on two threads: one reads and
    /// computes the whole-file and per-part SHA-256, the other the parts' MD5 of the same
    /// buffer. Throws when the file is shorter than when it was opened, or a read fails.
    static func compute(_ file: S3SourceFile, partSize: Int, chunkSize: Int = 256 << 10, slots: Int = 8) async throws -> FileSnapshot {
        precondition(partSize > 0 && chunkSize > 0 && slots > 0)
        return try await withCheckedThrowingContinuation { (c: CheckedContinuation<FileSnapshot, any Error>) in
            let ring = DigestRing(file: file, partSize: partSize, chunkSize: chunkSize, slots: slots)
            let t = Thread { c.resume(with: Result { try ring.run() }) }
            t.stackSize = 1 << 20
            t.start()
        }
    }
}

/// The two-thread pipeline of `FileSnapshot.compute`. Slot contents and lengths are handed
/// from the reader to the hasher by `filled` and back by `free`: the reader writes a slot only
/// after the hasher gave it back; both then read it (the reader for its SHA-256).
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
    var partMD5: [[UInt8]] = []

    init(file: S3SourceFile, partSize: Int, chunkSize: Int, slots: Int) {
        self.file = file; self.partSize = UInt64(partSize); self.chunkSize = chunkSize; self.slots = slots
        buffers = .allocate(byteCount: chunkSize * slots, alignment: 64)
        lengths = .allocate(capacity: slots); lengths.initialize(repeating: 0, count: slots)
        endsPart = .allocate(capacity: slots); endsPart.initialize(repeating: false, count: slots)
        for _ in 0..<slots { free.signal() }
    }

    deinit { buffers.deallocate(); lengths.deallocate(); endsPart.deallocate() }

    /// Runs the reader here and the hasher on a second thread; returns when both are done.
    /// The reader (pread, then the whole-file and part SHA-256) and the hasher (the parts'
    /// MD5, the slowest of the three at about 0.7 GB/s) take about the same time per chunk.
    func run() throws -> FileSnapshot {
        let hasher = Thread { [self] in hashMD5(); hasherDone.signal() }
        hasher.stackSize = 1 << 20
        hasher.start()
        var shas: [Digest] = []
        var failure: (any Error)?
        var all = OpenSSLSHA256Hasher()
        var part = OpenSSLSHA256Hasher()
        var offset: UInt64 = 0
        var index = 0
        while offset < file.size {
            let partEnd = min((offset / partSize + 1) * partSize, file.size)
            let n = Int(min(UInt64(chunkSize), partEnd - offset))
            let slot = index % slots
            free.wait()
            let p = buffers + slot * chunkSize
            do { try file.readFully(into: p, count: n, offset: offset) } catch { failure = error; break }
            lengths[slot] = n
            endsPart[slot] = offset + UInt64(n) == partEnd
            filled.signal()
            let bytes = UnsafeRawBufferPointer(start: p, count: n)
            all.update(bytes)
            part.update(bytes)
            if offset + UInt64(n) == partEnd { shas.append(part.finalize()); part = OpenSSLSHA256Hasher() }
            offset += UInt64(n)
            index += 1
        }
        if failure == nil { free.wait() }   // the slot for the end marker
        lengths[index % slots] = failure == nil ? 0 : -1
        filled.signal()
        hasherDone.wait()
        if let failure { throw failure }
        guard partMD5.count == shas.count else {
            throw EvidenceError(.io, "hashing '\(file.path)' stopped early; upload it again")
        }
        return FileSnapshot(sha256: all.finalize(), parts: zip(partMD5, shas).map { PartDigests(md5: $0, sha256: $1) })
    }

    private func hashMD5() {
        let md5 = ContentMD5.Hasher()
        var index = 0
        while true {
            filled.wait()
            let slot = index % slots
            let n = lengths[slot]
            if n <= 0 { return }
            md5.update(UnsafeRawBufferPointer(start: buffers + slot * chunkSize, count: n))
            if endsPart[slot] { partMD5.append(md5.finalize()) }
            free.signal()
            index += 1
        }
    }
}
