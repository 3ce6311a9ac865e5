import Foundation

/// The byte layout of a log segment file (see Docs/LogFormat.md).
///
/// ```
/// header  16 bytes: "N2EVSEG1" | first record index (u64, big-endian)
/// frame   u32 big-endian length L (1 ... maxRecordBytes) | L record bytes |
///         first 8 bytes of the record's leaf hash SHA-256(0x00 || record)
/// ```
/// The check bytes are the leaf hash the Merkle tree needs anyway, so framing costs no
/// extra hashing; a torn or flipped frame fails the check and is found precisely.
public enum SegmentFormat {
    public static let magic: [UInt8] = Array("N2EVSEG1".utf8)
    public static let headerBytes = 16
    public static let frameOverhead = 12
    /// Upper bound on one record: large payloads go to content-addressed objects.
    public static let maxRecordBytes = 16 << 20

    public static func fileName(firstIndex: UInt64) -> String {
        let digits = String(firstIndex)
        return "seg-" + String(repeating: "0", count: max(0, 20 - digits.count)) + digits + ".log"
    }

    /// The first index a segment file name claims, or nil if the name is not a segment's.
    public static func firstIndex(fromFileName name: String) -> UInt64? {
        guard name.hasPrefix("seg-"), name.hasSuffix(".log"), name.utf8.count == 28 else { return nil }
        return UInt64(name.dropFirst(4).dropLast(4))
    }

    public static func header(firstIndex: UInt64) -> [UInt8] {
        var h = magic
        withUnsafeBytes(of: firstIndex.bigEndian) { h.append(contentsOf: $0) }
        return h
    }

    /// Parses a header; nil if the magic is wrong.
    public static func parseHeader(_ p: UnsafeRawBufferPointer) -> UInt64? {
        guard p.count >= headerBytes, memcmp(p.baseAddress!, magic, 8) == 0 else { return nil }
        return UInt64(bigEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
    }

    @inline(__always)
    static func checkBytes(_ leaf: Digest) -> UInt64 { leaf.w0 }
}
