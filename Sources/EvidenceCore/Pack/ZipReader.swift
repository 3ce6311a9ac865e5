import Foundation

/// One entry of a ZIP archive as the central directory and its local header agree on it.
public struct ZipEntry: Sendable, Hashable {
    public var name: String
    /// Where the entry's bytes start in the archive file.
    public var dataOffset: UInt64
    public var size: UInt64
    public var crc32: UInt32
}

/// Reads a ZIP archive of stored entries from untrusted bytes, with every length and count
/// bounded before anything is allocated.
///
/// Guarantees: `entries` are exactly the central directory's, each checked against its local
/// header (signature, name, method, sizes); entries lie inside the file before the central
/// directory and do not overlap; names are unique, relative and free of `..`.
/// Refuses: compressed or encrypted entries, data descriptors, multi-disk archives, more
/// than `limits.maxEntries` entries, a central directory above `limits.maxCentralDirectoryBytes`,
/// names above `limits.maxNameBytes`, trailing or leading bytes the directory does not account for.
public final class ZipArchiveReader {
    public struct Limits: Sendable {
        public var maxEntries: Int
        public var maxCentralDirectoryBytes: Int
        public var maxNameBytes: Int
        public init(maxEntries: Int = 100_000, maxCentralDirectoryBytes: Int = 32 << 20, maxNameBytes: Int = 512) {
            self.maxEntries = maxEntries; self.maxCentralDirectoryBytes = maxCentralDirectoryBytes; self.maxNameBytes = maxNameBytes
        }
        public static let `default` = Limits()
    }

    public let path: String
    public let fileSize: UInt64
    public private(set) var entries: [ZipEntry] = []
    private let fd: Int32

    public init(path: String, limits: Limits = .default) throws {
        self.path = path
        fd = try FileIO.open(path, O_RDONLY)
        let size: UInt64
        do { size = UInt64(try FileIO.size(fd, path: path)) } catch {
            close(fd)   // not fully initialized yet: deinit will not run
            throw error
        }
        fileSize = size
        // Fully initialized from here: if reading the directory throws, deinit closes `fd`,
        // once. (Closing it here as well closed it twice: the second close could hit a
        // descriptor another thread had just been given, which then failed with EBADF.)
        entries = try readDirectory(limits)
    }

    deinit { close(fd) }

    public func entry(_ name: String) -> ZipEntry? { entries.first { $0.name == name } }

    private func fail(_ m: String) -> EvidenceError { EvidenceError(.verificationFailed, "\(path): not a well-formed evidence pack ZIP: \(m)") }

    func readBytes(at offset: UInt64, count: Int) throws -> [UInt8] {
        guard count >= 0, offset <= fileSize, UInt64(count) <= fileSize - offset else {
            throw fail("\(count) bytes at offset \(offset) lie beyond the end of the file (\(fileSize) bytes)")
        }
        var out = [UInt8](repeating: 0, count: count)
        let n = try out.withUnsafeMutableBytes { try FileIO.pread(fd, $0.baseAddress!, count, at: Int64(offset), path: path) }
        guard n == count else { throw fail("short read at offset \(offset)") }
        return out
    }

    private func readDirectory(_ limits: Limits) throws -> [ZipEntry] {
        guard fileSize >= UInt64(ZipFormat.endOfCentralFixed) else { throw fail("\(fileSize) bytes is too short for a ZIP end record") }
        // The end record is the last 22 bytes: the writer never adds an archive comment,
        // and a pack with one is refused rather than searched.
        let endOffset = fileSize - UInt64(ZipFormat.endOfCentralFixed)
        var end = LittleEndianReader(try readBytes(at: endOffset, count: ZipFormat.endOfCentralFixed), what: "ZIP end record")
        guard try end.u32() == ZipFormat.endOfCentralSignature else { throw fail("no end-of-central-directory record in the last 22 bytes (archive comments are not allowed)") }
        let disk = try end.u16(), cdDisk = try end.u16()
        var count = UInt64(try end.u16()); let total = try end.u16()
        var cdSize = UInt64(try end.u32()); var cdOffset = UInt64(try end.u32())
        guard try end.u16() == 0 else { throw fail("archive comment present") }
        guard disk == 0, cdDisk == 0, UInt16(truncatingIfNeeded: count) == total else { throw fail("multi-disk archives are not supported") }
        var directoryEnd = endOffset
        if count == 0xFFFF || cdSize == 0xFFFF_FFFF || cdOffset == 0xFFFF_FFFF {
            guard endOffset >= UInt64(ZipFormat.zip64LocatorSize + ZipFormat.zip64EndFixed) else { throw fail("ZIP64 locator missing") }
            let locOffset = endOffset - UInt64(ZipFormat.zip64LocatorSize)
            var loc = LittleEndianReader(try readBytes(at: locOffset, count: ZipFormat.zip64LocatorSize), what: "ZIP64 locator")
            guard try loc.u32() == ZipFormat.zip64LocatorSignature, try loc.u32() == 0 else { throw fail("ZIP64 locator missing or multi-disk") }
            let z64Offset = try loc.u64()
            guard z64Offset == locOffset - UInt64(ZipFormat.zip64EndFixed) else { throw fail("ZIP64 end record is not where the locator says") }
            var z = LittleEndianReader(try readBytes(at: z64Offset, count: ZipFormat.zip64EndFixed), what: "ZIP64 end record")
            guard try z.u32() == ZipFormat.zip64EndSignature, try z.u64() == UInt64(ZipFormat.zip64EndFixed - 12) else { throw fail("bad ZIP64 end record") }
            _ = try z.u16(); _ = try z.u16()
            guard try z.u32() == 0, try z.u32() == 0 else { throw fail("multi-disk archives are not supported") }
            count = try z.u64()
            guard try z.u64() == count else { throw fail("ZIP64 entry counts disagree") }
            cdSize = try z.u64(); cdOffset = try z.u64()
            directoryEnd = z64Offset
        }
        guard count <= UInt64(limits.maxEntries) else { throw fail("\(count) entries, more than the \(limits.maxEntries) allowed") }
        guard cdSize <= UInt64(limits.maxCentralDirectoryBytes) else { throw fail("central directory of \(cdSize) bytes exceeds \(limits.maxCentralDirectoryBytes)") }
        guard cdOffset <= directoryEnd, cdSize == directoryEnd - cdOffset else {
            throw fail("central directory (offset \(cdOffset), \(cdSize) bytes) does not end where the end record starts")
        }
        var r = LittleEndianReader(try readBytes(at: cdOffset, count: Int(cdSize)), what: "central directory")
        var out: [ZipEntry] = []
        out.reserveCapacity(Int(count))
        var seen = Set<String>()
        var ranges: [(start: UInt64, end: UInt64, name: String)] = []
        for i in 0..<count {
            guard try r.u32() == ZipFormat.centralHeaderSignature else { throw fail("central directory entry \(i) has a bad signature") }
            _ = try r.u16(); _ = try r.u16()
            let flags = try r.u16(), method = try r.u16()
            _ = try r.u16(); _ = try r.u16()
            let crc = try r.u32()
            var csize = UInt64(try r.u32()), usize = UInt64(try r.u32())
            let nameLen = Int(try r.u16()), extraLen = Int(try r.u16()), commentLen = Int(try r.u16())
            _ = try r.u16(); _ = try r.u16(); _ = try r.u32()
            var headerOffset = UInt64(try r.u32())
            guard nameLen > 0, nameLen <= limits.maxNameBytes else { throw fail("entry \(i) name length \(nameLen) outside 1...\(limits.maxNameBytes)") }
            guard let name = String(validating: try r.take(nameLen), as: UTF8.self) else { throw fail("entry \(i) name is not UTF-8") }
            var extra = LittleEndianReader(Array(try r.take(extraLen)), what: "extra field of \(name)")
            _ = try r.take(commentLen)
            while extra.offset < extra.bytes.count {
                let id = try extra.u16(), len = Int(try extra.u16())
                var field = LittleEndianReader(Array(try extra.take(len)), what: "ZIP64 field of \(name)")
                if id == ZipFormat.zip64ExtraID {
                    if usize == 0xFFFF_FFFF { usize = try field.u64() }
                    if csize == 0xFFFF_FFFF { csize = try field.u64() }
                    if headerOffset == 0xFFFF_FFFF { headerOffset = try field.u64() }
                }
            }
            guard method == 0 else { throw fail("\(name) is compressed (method \(method)); evidence packs store entries uncompressed") }
            guard flags & ~ZipFormat.utf8Flag == 0 else { throw fail("\(name) uses general-purpose flags \(String(flags, radix: 16)) (encryption or data descriptors are not allowed)") }
            guard csize == usize else { throw fail("\(name): stored size \(csize) differs from its size \(usize)") }
            do { try ZipStreamWriter.validateName(name) } catch { throw fail("entry name '\(name)' is not a safe relative path") }
            guard seen.insert(name).inserted else { throw fail("\(name) appears twice") }
            // The local header must agree with the central directory.
            var local = LittleEndianReader(try readBytes(at: headerOffset, count: ZipFormat.localHeaderFixed), what: "local header of \(name)")
            guard try local.u32() == ZipFormat.localHeaderSignature else { throw fail("\(name): no local header at offset \(headerOffset)") }
            _ = try local.u16()
            guard try local.u16() == flags, try local.u16() == method else { throw fail("\(name): local header disagrees with the central directory") }
            _ = try local.u16(); _ = try local.u16()
            let localCRC = try local.u32()
            _ = try local.u32(); _ = try local.u32()
            let lNameLen = Int(try local.u16()), lExtraLen = Int(try local.u16())
            guard localCRC == crc, lNameLen == nameLen,
                  try readBytes(at: headerOffset + UInt64(ZipFormat.localHeaderFixed), count: lNameLen) == Array(name.utf8) else {
                throw fail("\(name): local header (name or CRC) disagrees with the central directory")
            }
            let dataOffset = headerOffset + UInt64(ZipFormat.localHeaderFixed + lNameLen + lExtraLen)
            guard dataOffset <= cdOffset, usize <= cdOffset - dataOffset else { throw fail("\(name): data runs into the central directory") }
            ranges.append((headerOffset, dataOffset + usize, name))
            out.append(ZipEntry(name: name, dataOffset: dataOffset, size: usize, crc32: crc))
        }
        guard r.offset == r.bytes.count else { throw fail("central directory has \(r.bytes.count - r.offset) unaccounted bytes") }
        ranges.sort { $0.start < $1.start }
        var cursor: UInt64 = 0
        for rg in ranges {
            guard rg.start == cursor else {
                throw fail(rg.start < cursor ? "\(rg.name) overlaps the entry before it" : "\(rg.start - cursor) unaccounted bytes before \(rg.name)")
            }
            cursor = rg.end
        }
        guard cursor == cdOffset else { throw fail("\(cdOffset - cursor) unaccounted bytes before the central directory") }
        return out
    }

    /// Reads a whole entry into memory, refusing one above `limit` bytes.
    public func read(_ entry: ZipEntry, limit: Int) throws -> [UInt8] {
        guard entry.size <= UInt64(limit) else {
            throw EvidenceError(.verificationFailed, "\(entry.name) is \(entry.size) bytes, more than the \(limit) allowed for it")
        }
        return try readBytes(at: entry.dataOffset, count: Int(entry.size))
    }

    /// Streams an entry through `body` in chunks of at most `chunkBytes`.
    public func stream(_ entry: ZipEntry, chunkBytes: Int = 1 << 20, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        var buf = [UInt8](repeating: 0, count: chunkBytes)
        var offset = entry.dataOffset, left = entry.size
        try buf.withUnsafeMutableBytes { b in
            while left > 0 {
                let n = Int(min(UInt64(chunkBytes), left))
                let got = try FileIO.pread(fd, b.baseAddress!, n, at: Int64(offset), path: path)
                guard got == n else { throw fail("\(entry.name) is cut short") }
                try body(UnsafeRawBufferPointer(rebasing: b[0..<n]))
                offset += UInt64(n); left -= UInt64(n)
            }
        }
    }
}
