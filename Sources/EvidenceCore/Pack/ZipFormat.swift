import Foundation

/// Constants and little-endian helpers of the ZIP container (APPNOTE 6.3.10), the subset the
/// evidence pack uses: stored (uncompressed) entries, UTF-8 names, ZIP64 where a size or an
/// offset needs it.
enum ZipFormat {
    static let localHeaderSignature: UInt32 = 0x0403_4b50
    static let centralHeaderSignature: UInt32 = 0x0201_4b50
    static let endOfCentralSignature: UInt32 = 0x0605_4b50
    static let zip64EndSignature: UInt32 = 0x0606_4b50
    static let zip64LocatorSignature: UInt32 = 0x0706_4b50
    static let zip64ExtraID: UInt16 = 0x0001
    /// General-purpose flag bit 11: the name is UTF-8.
    static let utf8Flag: UInt16 = 1 << 11
    /// "Version needed to extract" 4.5: ZIP64.
    static let versionZip64: UInt16 = 45
    /// "Version made by": Unix (3) << 8 | 4.5, so external attributes carry Unix modes.
    static let versionMadeBy: UInt16 = (3 << 8) | 45
    static let localHeaderFixed = 30
    static let centralHeaderFixed = 46
    static let endOfCentralFixed = 22
    static let zip64EndFixed = 56
    static let zip64LocatorSize = 20
    /// Fixed DOS date/time (1980-01-01 00:00): entry times are not evidence; the manifest holds times.
    static let dosTime: UInt16 = 0
    static let dosDate: UInt16 = (0 << 9) | (1 << 5) | 1
}

extension Array where Element == UInt8 {
    mutating func appendLE(_ v: UInt16) { append(UInt8(v & 0xff)); append(UInt8(v >> 8)) }
    mutating func appendLE(_ v: UInt32) { for s in stride(from: 0, to: 32, by: 8) { append(UInt8((v >> UInt32(s)) & 0xff)) } }
    mutating func appendLE(_ v: UInt64) { for s in stride(from: 0, to: 64, by: 8) { append(UInt8((v >> UInt64(s)) & 0xff)) } }
}

/// Bounds-checked little-endian reads over a byte slice; every read past the end throws.
struct LittleEndianReader {
    let bytes: [UInt8]
    var offset: Int
    let what: String

    init(_ bytes: [UInt8], at offset: Int = 0, what: String) { self.bytes = bytes; self.offset = offset; self.what = what }

    mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, offset <= bytes.count, bytes.count - offset >= n else {
            throw EvidenceError(.verificationFailed, "\(what) is truncated (needs \(n) bytes at offset \(offset) of \(bytes.count))")
        }
        defer { offset += n }
        return bytes[offset..<offset + n]
    }
    mutating func u16() throws -> UInt16 { let s = try take(2); return UInt16(s[s.startIndex]) | UInt16(s[s.startIndex + 1]) << 8 }
    mutating func u32() throws -> UInt32 {
        let s = try take(4); var v: UInt32 = 0
        for (i, b) in s.enumerated() { v |= UInt32(b) << UInt32(8 * i) }
        return v
    }
    mutating func u64() throws -> UInt64 {
        let s = try take(8); var v: UInt64 = 0
        for (i, b) in s.enumerated() { v |= UInt64(b) << UInt64(8 * i) }
        return v
    }
}

/// CRC-32 (ISO-HDLC, the one ZIP uses), slicing-by-8 so the export is not held up by it.
public struct CRC32: Sendable {
    private static let tables: [[UInt32]] = {
        var t = [[UInt32]](repeating: [UInt32](repeating: 0, count: 256), count: 8)
        for i in 0..<256 {
            var c = UInt32(i)
            for _ in 0..<8 { c = c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
            t[0][i] = c
        }
        for i in 0..<256 {
            for k in 1..<8 { t[k][i] = (t[k - 1][i] >> 8) ^ t[0][Int(t[k - 1][i] & 0xff)] }
        }
        return t
    }()
    private static let flat: [UInt32] = tables.flatMap { $0 }

    private var state: UInt32 = 0xFFFF_FFFF
    public init() {}

    public mutating func update(_ data: UnsafeRawBufferPointer) {
        guard var p = data.baseAddress, data.count > 0 else { return }
        var n = data.count
        var c = state
        Self.flat.withUnsafeBufferPointer { t in
            while n >= 8 {
                let lo = c ^ (UInt32(p.load(fromByteOffset: 0, as: UInt8.self)) | UInt32(p.load(fromByteOffset: 1, as: UInt8.self)) << 8
                    | UInt32(p.load(fromByteOffset: 2, as: UInt8.self)) << 16 | UInt32(p.load(fromByteOffset: 3, as: UInt8.self)) << 24)
                let hi = UInt32(p.load(fromByteOffset: 4, as: UInt8.self)) | UInt32(p.load(fromByteOffset: 5, as: UInt8.self)) << 8
                    | UInt32(p.load(fromByteOffset: 6, as: UInt8.self)) << 16 | UInt32(p.load(fromByteOffset: 7, as: UInt8.self)) << 24
                c = t[7 * 256 + Int(lo & 0xff)] ^ t[6 * 256 + Int((lo >> 8) & 0xff)] ^ t[5 * 256 + Int((lo >> 16) & 0xff)] ^ t[4 * 256 + Int(lo >> 24)]
                    ^ t[3 * 256 + Int(hi & 0xff)] ^ t[2 * 256 + Int((hi >> 8) & 0xff)] ^ t[1 * 256 + Int((hi >> 16) & 0xff)] ^ t[Int(hi >> 24)]
                p += 8; n -= 8
            }
            while n > 0 {
                c = t[Int((c ^ UInt32(p.load(as: UInt8.self))) & 0xff)] ^ (c >> 8)
                p += 1; n -= 1
            }
        }
        state = c
    }

    public mutating func update(bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }
    public var value: UInt32 { state ^ 0xFFFF_FFFF }
}
