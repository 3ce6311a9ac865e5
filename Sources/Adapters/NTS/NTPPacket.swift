/// An NTPv4 extension field (RFC 7822): 16-bit type, 16-bit length (including the 4-byte
/// header), body padded to a multiple of 4.
public struct NTPExtensionField: Hashable, Sendable {
    public static let uniqueIdentifier: UInt16 = 0x0104
    public static let ntsCookie: UInt16 = 0x0204
    public static let ntsCookiePlaceholder: UInt16 = 0x0304
    public static let ntsAuthenticator: UInt16 = 0x0404

    public var type: UInt16
    /// The body without the 4-byte header (may include padding).
    public var body: [UInt8]
    /// Offset of the field's header inside the packet it was parsed from.
    public var offset: Int

    public init(type: UInt16, body: [UInt8], offset: Int = 0) { self.type = type; self.body = body; self.offset = offset }

    /// Wire form; the body is zero-padded to a multiple of 4.
    public var serialized: [UInt8] {
        let padded = body + [UInt8](repeating: 0, count: (4 - body.count % 4) % 4)
        let len = padded.count + 4
        return [UInt8(type >> 8), UInt8(type & 0xff), UInt8(len >> 8), UInt8(len & 0xff)] + padded
    }
}

/// Bounds for parsing extension fields from untrusted packets.
public struct NTPExtensionLimits: Sendable {
    /// Largest packet accepted at all.
    public var maxPacketBytes: Int
    /// Most extension fields in one packet (or one decrypted plaintext).
    public var maxFields: Int
    public init(maxPacketBytes: Int = 4096, maxFields: Int = 32) { self.maxPacketBytes = maxPacketBytes; self.maxFields = maxFields }
    public static let `default` = NTPExtensionLimits()
}

/// Parser for the extension-field area of an NTP packet (or an NTS plaintext).
public enum NTPExtensionFieldParser {
    /// Parses every field in `bytes[start...]`.
    ///
    /// Throws when a field is shorter than its 4-byte header, its length is not a multiple of
    /// 4, it runs past the end, or there are more than `maxFields` fields. A legacy MAC
    /// (4 + 16/20 bytes trailing) is not supported: NTS packets carry none.
    public static func parse(_ bytes: [UInt8], from start: Int = 0, limits: NTPExtensionLimits = .default) throws -> [NTPExtensionField] {
        guard bytes.count <= limits.maxPacketBytes else {
            throw NTSError(.malformed, "NTP: packet of \(bytes.count) bytes exceeds the \(limits.maxPacketBytes)-byte limit")
        }
        guard start >= 0, start <= bytes.count else { throw NTSError(.malformed, "NTP: extension fields start past the end of the packet") }
        var fields: [NTPExtensionField] = []
        var i = start
        while i < bytes.count {
            guard bytes.count - i >= 4 else { throw NTSError(.malformed, "NTP: \(bytes.count - i) trailing bytes at offset \(i) are not an extension field") }
            let type = UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1])
            let len = Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
            guard len >= 4, len % 4 == 0 else { throw NTSError(.malformed, "NTP: extension field 0x\(String(type, radix: 16)) at offset \(i) has invalid length \(len)") }
            guard len <= bytes.count - i else { throw NTSError(.malformed, "NTP: extension field 0x\(String(type, radix: 16)) at offset \(i) claims \(len) bytes, only \(bytes.count - i) remain") }
            guard fields.count < limits.maxFields else { throw NTSError(.malformed, "NTP: more than \(limits.maxFields) extension fields") }
            fields.append(NTPExtensionField(type: type, body: Array(bytes[(i + 4)..<(i + len)]), offset: i))
            i += len
        }
        return fields
    }
}

/// The fixed 48-byte NTPv4 header (RFC 5905 §7.3).
public struct NTPHeader: Hashable, Sendable {
    public static let byteCount = 48
    public var leap: UInt8
    public var version: UInt8
    public var mode: UInt8
    public var stratum: UInt8
    public var poll: Int8
    public var precision: Int8
    public var rootDelay: UInt32
    public var rootDispersion: UInt32
    public var referenceID: [UInt8]
    public var referenceTime: UInt64
    public var originTime: UInt64
    public var receiveTime: UInt64
    public var transmitTime: UInt64

    public init(bytes: [UInt8]) throws {
        guard bytes.count >= Self.byteCount else { throw NTSError(.malformed, "NTP: packet of \(bytes.count) bytes is shorter than the 48-byte header") }
        func u32(_ o: Int) -> UInt32 { UInt32(bytes[o]) << 24 | UInt32(bytes[o + 1]) << 16 | UInt32(bytes[o + 2]) << 8 | UInt32(bytes[o + 3]) }
        func u64(_ o: Int) -> UInt64 { UInt64(u32(o)) << 32 | UInt64(u32(o + 4)) }
        leap = bytes[0] >> 6; version = (bytes[0] >> 3) & 7; mode = bytes[0] & 7
        stratum = bytes[1]; poll = Int8(bitPattern: bytes[2]); precision = Int8(bitPattern: bytes[3])
        rootDelay = u32(4); rootDispersion = u32(8); referenceID = Array(bytes[12..<16])
        referenceTime = u64(16); originTime = u64(24); receiveTime = u64(32); transmitTime = u64(40)
    }

    /// Root delay and dispersion are NTP short format (16.16 seconds).
    public var rootDelaySeconds: Double { Double(rootDelay) / 65536 }
    public var rootDispersionSeconds: Double { Double(rootDispersion) / 65536 }
    public var kissCode: String { String(decoding: referenceID.map { (0x20...0x7e).contains($0) ? $0 : 0x3f }, as: UTF8.self) }
}

/// NTP timestamps (RFC 5905 §6): 32.32 fixed point seconds since 1900, era-resolved against a
/// nearby Unix time so the 2036 rollover is handled.
public enum NTPTime {
    static let unixEpochInNTP: Double = 2_208_988_800

    /// Unix seconds for an NTP timestamp, choosing the era closest to `near`.
    public static func unixSeconds(_ t: UInt64, near: Double) -> Double {
        let secs = Double(t >> 32) + Double(t & 0xffff_ffff) / 4_294_967_296
        let era = ((near + unixEpochInNTP - secs) / 4_294_967_296).rounded()
        return secs + era * 4_294_967_296 - unixEpochInNTP
    }
}
