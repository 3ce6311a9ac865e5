import Foundation

/// Writes a ZIP archive of stored (uncompressed) entries to a new file, streaming: each
/// entry's bytes go through a fixed buffer, its CRC-32, size and SHA-256 are computed on the
/// way, and the local header is patched in place when the entry ends. Memory stays at the
/// buffer size plus one central-directory row per entry, whatever the entry sizes.
///
/// Every local header carries a ZIP64 extra field (sizes are not known in advance); the
/// central directory uses ZIP64 fields only where a value does not fit 32 bits, and a ZIP64
/// end record only when the archive needs it. Names are UTF-8 (flag bit 11).
///
/// Refuses: an existing output file, an entry name that is empty, absolute, contains `..`
/// or a backslash, or is given twice; writing outside an open entry.
public final class ZipStreamWriter {
    public struct WrittenEntry: Sendable, Hashable {
        public var name: String
        public var size: UInt64
        public var sha256: Digest
        public var crc32: UInt32
        let headerOffset: UInt64
    }

    public let path: String
    private let fd: Int32
    private var buffer: [UInt8] = []
    private let bufferLimit: Int
    private var position: UInt64 = 0
    private var entries: [WrittenEntry] = []
    private var names: Set<String> = []
    private let backend: any SHA256Backend
    private var open: (name: String, headerOffset: UInt64, size: UInt64, crc: CRC32, hasher: any IncrementalSHA256)?
    private var finished = false

    public init(path: String, backend: any SHA256Backend, bufferBytes: Int = 1 << 20) throws {
        self.path = path; self.backend = backend; self.bufferLimit = bufferBytes
        fd = try FileIO.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        buffer.reserveCapacity(bufferBytes)
    }

    deinit { close(fd) }

    /// Entries written so far, in order.
    public var written: [WrittenEntry] { entries }
    /// Bytes written so far (including headers).
    public var bytesWritten: UInt64 { position }

    static func validateName(_ name: String) throws {
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        guard !name.isEmpty, name.utf8.count <= ZipArchiveReader.Limits.default.maxNameBytes, !name.hasPrefix("/"),
              !name.contains("\\"), !name.contains("\0"), !parts.contains(where: { $0 == ".." || $0 == "." || $0.isEmpty }) else {
            throw EvidenceError(.malformedInput, "'\(name)' is not a safe archive path (relative, '/'-separated, no '..', '.', empty parts or backslashes)")
        }
    }

    public func beginEntry(_ name: String) throws {
        guard open == nil, !finished else { throw EvidenceError(.malformedInput, "zip: entry \(name) begun while another is open or after finish") }
        try Self.validateName(name)
        guard names.insert(name).inserted else { throw EvidenceError(.malformedInput, "zip: entry \(name) is written twice") }
        let nameBytes = Array(name.utf8)
        var h: [UInt8] = []
        h.appendLE(ZipFormat.localHeaderSignature)
        h.appendLE(ZipFormat.versionZip64); h.appendLE(ZipFormat.utf8Flag); h.appendLE(UInt16(0))
        h.appendLE(ZipFormat.dosTime); h.appendLE(ZipFormat.dosDate)
        h.appendLE(UInt32(0)); h.appendLE(UInt32.max); h.appendLE(UInt32.max)
        h.appendLE(UInt16(nameBytes.count)); h.appendLE(UInt16(20))
        h += nameBytes
        h.appendLE(ZipFormat.zip64ExtraID); h.appendLE(UInt16(16)); h.appendLE(UInt64(0)); h.appendLE(UInt64(0))
        let offset = position
        try emit(h)
        open = (name, offset, 0, CRC32(), backend.makeHasher())
    }

    public func write(_ data: UnsafeRawBufferPointer) throws {
        guard var e = open else { throw EvidenceError(.malformedInput, "zip: write outside an entry") }
        e.crc.update(data); e.hasher.update(data); e.size += UInt64(data.count)
        open = e
        try emit(data)
    }

    public func write(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try write($0) } }

    /// Ends the open entry; returns its size and SHA-256.
    @discardableResult
    public func endEntry() throws -> WrittenEntry {
        guard var e = open else { throw EvidenceError(.malformedInput, "zip: endEntry without an open entry") }
        open = nil
        try flush()
        var crc: [UInt8] = []; crc.appendLE(e.crc.value)
        var sizes: [UInt8] = []; sizes.appendLE(e.size); sizes.appendLE(e.size)
        try patch(crc, at: e.headerOffset + 14)
        try patch(sizes, at: e.headerOffset + 30 + UInt64(e.name.utf8.count) + 4)
        let done = WrittenEntry(name: e.name, size: e.size, sha256: e.hasher.finalize(), crc32: e.crc.value, headerOffset: e.headerOffset)
        entries.append(done)
        return done
    }

    /// Writes a whole entry from memory.
    @discardableResult
    public func addEntry(_ name: String, bytes: [UInt8]) throws -> WrittenEntry {
        try beginEntry(name); try write(bytes); return try endEntry()
    }

    /// Writes the central directory and end records, syncs and closes the file.
    public func finish() throws {
        guard open == nil, !finished else { throw EvidenceError(.malformedInput, "zip: finish with an open entry or twice") }
        finished = true
        let cdStart = position
        for e in entries {
            let name = Array(e.name.utf8)
            let big = e.size >= UInt64(UInt32.max), farOffset = e.headerOffset >= UInt64(UInt32.max)
            var extra: [UInt8] = []
            if big { extra.appendLE(e.size); extra.appendLE(e.size) }
            if farOffset { extra.appendLE(e.headerOffset) }
            var h: [UInt8] = []
            h.appendLE(ZipFormat.centralHeaderSignature)
            h.appendLE(ZipFormat.versionMadeBy); h.appendLE(ZipFormat.versionZip64); h.appendLE(ZipFormat.utf8Flag); h.appendLE(UInt16(0))
            h.appendLE(ZipFormat.dosTime); h.appendLE(ZipFormat.dosDate); h.appendLE(e.crc32)
            let s32 = big ? UInt32.max : UInt32(e.size)
            h.appendLE(s32); h.appendLE(s32)
            h.appendLE(UInt16(name.count)); h.appendLE(UInt16(extra.isEmpty ? 0 : extra.count + 4)); h.appendLE(UInt16(0))
            h.appendLE(UInt16(0)); h.appendLE(UInt16(0)); h.appendLE(UInt32(0o100444) << 16)
            h.appendLE(farOffset ? UInt32.max : UInt32(e.headerOffset))
            h += name
            if !extra.isEmpty { h.appendLE(ZipFormat.zip64ExtraID); h.appendLE(UInt16(extra.count)); h += extra }
            try emit(h)
        }
        let cdSize = position - cdStart
        let needs64 = entries.count >= 0xFFFF || cdStart >= UInt64(UInt32.max) || cdSize >= UInt64(UInt32.max)
        if needs64 {
            let z64Start = position
            var z: [UInt8] = []
            z.appendLE(ZipFormat.zip64EndSignature); z.appendLE(UInt64(ZipFormat.zip64EndFixed - 12))
            z.appendLE(ZipFormat.versionMadeBy); z.appendLE(ZipFormat.versionZip64); z.appendLE(UInt32(0)); z.appendLE(UInt32(0))
            z.appendLE(UInt64(entries.count)); z.appendLE(UInt64(entries.count)); z.appendLE(cdSize); z.appendLE(cdStart)
            z.appendLE(ZipFormat.zip64LocatorSignature); z.appendLE(UInt32(0)); z.appendLE(z64Start); z.appendLE(UInt32(1))
            try emit(z)
        }
        var end: [UInt8] = []
        end.appendLE(ZipFormat.endOfCentralSignature); end.appendLE(UInt16(0)); end.appendLE(UInt16(0))
        let n16 = needs64 ? UInt16.max : UInt16(entries.count)
        end.appendLE(n16); end.appendLE(n16)
        end.appendLE(needs64 ? UInt32.max : UInt32(cdSize)); end.appendLE(needs64 ? UInt32.max : UInt32(cdStart)); end.appendLE(UInt16(0))
        try emit(end)
        try flush()
        try FileIO.sync(fd, path: path)
    }

    private func emit(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try emit($0) } }

    private func emit(_ data: UnsafeRawBufferPointer) throws {
        position += UInt64(data.count)
        if buffer.count + data.count > bufferLimit { try flush() }
        if data.count >= bufferLimit {
            if let base = data.baseAddress { try FileIO.writeAll(fd, base, data.count, path: path) }
        } else {
            buffer.append(contentsOf: data)
        }
    }

    private func flush() throws {
        guard !buffer.isEmpty else { return }
        try FileIO.writeAll(fd, buffer, path: path)
        buffer.removeAll(keepingCapacity: true)
    }

    private func patch(_ bytes: [UInt8], at offset: UInt64) throws {
        let n = bytes.withUnsafeBytes { Foundation.pwrite(fd, $0.baseAddress, $0.count, off_t(offset)) }
        guard n == bytes.count else { throw EvidenceError.io("cannot patch zip header in \(path)", errno: errno) }
    }
}
