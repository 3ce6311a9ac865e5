/// A decoded CBOR data item from the subset WebAuthn uses (RFC 8949 §3, CTAP2 encoding):
/// integers, byte and text strings, arrays, maps, booleans and null.
///
/// Refused by `CBORDecoder`: floats, tags, `undefined`, other simple values, indefinite
/// lengths, non-shortest length encodings, duplicate map keys and text that is not UTF-8.
public indirect enum CBORValue: Hashable, Sendable {
    case unsigned(UInt64)
    /// The integer -1 - n (CBOR major type 1).
    case negative(UInt64)
    case bytes([UInt8])
    case text(String)
    case array([CBORValue])
    /// Entries in encoded order; keys are unique.
    case map([CBORMapEntry])
    case bool(Bool)
    case null

    /// The value as a signed integer, when it is one that fits in `Int64`.
    public var intValue: Int64? {
        switch self {
        case .unsigned(let u): u <= UInt64(Int64.max) ? Int64(u) : nil
        case .negative(let n): n <= UInt64(Int64.max) ? -1 - Int64(n) : nil
        default: nil
        }
    }

    public var bytesValue: [UInt8]? { if case .bytes(let b) = self { b } else { nil } }
    public var textValue: String? { if case .text(let t) = self { t } else { nil } }
    public var arrayValue: [CBORValue]? { if case .array(let a) = self { a } else { nil } }
    public var mapValue: [CBORMapEntry]? { if case .map(let m) = self { m } else { nil } }

    /// The value stored under `key` in a map (nil for other kinds or a missing key).
    public subscript(key: CBORValue) -> CBORValue? {
        mapValue?.first(where: { $0.key == key })?.value
    }
    public subscript(text key: String) -> CBORValue? { self[.text(key)] }
    public subscript(int key: Int64) -> CBORValue? { self[key >= 0 ? .unsigned(UInt64(key)) : .negative(UInt64(-1 - key))] }
}

/// One key/value pair of a CBOR map.
public struct CBORMapEntry: Hashable, Sendable {
    public var key: CBORValue
    public var value: CBORValue
    public init(key: CBORValue, value: CBORValue) { self.key = key; self.value = value }
}

/// The bounds a `CBORDecoder` enforces before it allocates anything.
public struct CBORLimits: Hashable, Sendable {
    /// Largest input accepted at all.
    public var maxInputBytes: Int
    /// Deepest nesting of arrays and maps (a top-level map is depth 1).
    public var maxDepth: Int
    /// Most data items in one decode, counted over every level.
    public var maxItems: Int
    /// Longest byte or text string.
    public var maxStringBytes: Int

    public init(maxInputBytes: Int = 64 << 10, maxDepth: Int = 8, maxItems: Int = 2048, maxStringBytes: Int = 32 << 10) {
        self.maxInputBytes = maxInputBytes; self.maxDepth = maxDepth; self.maxItems = maxItems; self.maxStringBytes = maxStringBytes
    }

    /// Enough for attestation objects with a few certificates and every COSE key in use.
    public static let webAuthn = CBORLimits()
}

/// A bounded decoder for untrusted CBOR (attestation objects, COSE keys, extensions).
///
/// Guarantees: every length and count is checked against the bytes left and against
/// `limits` before any buffer is allocated; recursion never exceeds `limits.maxDepth`.
/// Errors are `WebAuthnError` with `.malformedCBOR` or `.limitExceeded` and the byte offset.
public struct CBORDecoder: Sendable {
    public let limits: CBORLimits

    public init(limits: CBORLimits = .webAuthn) { self.limits = limits }

    /// Decodes exactly one data item that spans all of `bytes`.
    public func decode(_ bytes: [UInt8]) throws -> CBORValue {
        let (value, end) = try decodePrefix(bytes, from: 0)
        guard end == bytes.count else {
            throw WebAuthnError(.malformedCBOR, "\(bytes.count - end) trailing bytes after the CBOR item ending at offset \(end)")
        }
        return value
    }

    /// Decodes one data item starting at `offset`; returns it and the offset just past it.
    /// Used where CBOR is followed by other bytes (the credential key inside authenticator data).
    public func decodePrefix(_ bytes: [UInt8], from offset: Int) throws -> (CBORValue, Int) {
        guard bytes.count <= limits.maxInputBytes else {
            throw WebAuthnError(.limitExceeded, "CBOR input of \(bytes.count) bytes exceeds the \(limits.maxInputBytes)-byte bound")
        }
        guard offset >= 0, offset <= bytes.count else {
            throw WebAuthnError(.malformedCBOR, "CBOR start offset \(offset) lies outside the \(bytes.count) input bytes")
        }
        var cursor = Cursor(bytes: bytes, position: offset)
        let v = try item(&cursor, depth: 0)
        return (v, cursor.position)
    }

    private struct Cursor {
        let bytes: [UInt8]
        var position: Int
        var items = 0
        var remaining: Int { bytes.count - position }

        mutating func byte() throws -> UInt8 {
            guard position < bytes.count else { throw WebAuthnError(.malformedCBOR, "CBOR ends early at offset \(position)") }
            defer { position += 1 }
            return bytes[position]
        }

        mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
            guard n <= remaining else {
                throw WebAuthnError(.malformedCBOR, "CBOR string of \(n) bytes at offset \(position) runs past the end (\(remaining) bytes left)")
            }
            defer { position += n }
            return bytes[position..<(position + n)]
        }
    }

    private func item(_ c: inout Cursor, depth: Int) throws -> CBORValue {
        c.items += 1
        guard c.items <= limits.maxItems else {
            throw WebAuthnError(.limitExceeded, "more than \(limits.maxItems) CBOR data items; refusing to decode further")
        }
        let start = c.position
        let initial = try c.byte()
        let major = initial >> 5, info = initial & 0x1f
        if major == 7 {
            switch info {
            case 20: return .bool(false)
            case 21: return .bool(true)
            case 22: return .null
            default: throw WebAuthnError(.malformedCBOR, "CBOR simple value or float (0x\(String(initial, radix: 16))) at offset \(start) is not used by WebAuthn")
            }
        }
        let argument = try self.argument(info, &c, at: start)
        switch major {
        case 0: return .unsigned(argument)
        case 1: return .negative(argument)
        case 2, 3:
            guard argument <= UInt64(limits.maxStringBytes) else {
                throw WebAuthnError(.limitExceeded, "CBOR string of \(argument) bytes at offset \(start) exceeds the \(limits.maxStringBytes)-byte bound")
            }
            let raw = try c.take(Int(argument))
            if major == 2 { return .bytes(Array(raw)) }
            guard let s = String(validating: raw, as: UTF8.self) else {
                throw WebAuthnError(.malformedCBOR, "CBOR text string at offset \(start) is not valid UTF-8")
            }
            return .text(s)
        case 4, 5:
            guard depth < limits.maxDepth else {
                throw WebAuthnError(.limitExceeded, "CBOR nesting deeper than \(limits.maxDepth) levels at offset \(start)")
            }
            let perEntry: UInt64 = major == 4 ? 1 : 2
            // Each item needs at least one byte: a count the input cannot hold is refused before allocating.
            guard argument <= UInt64(c.remaining) / perEntry, argument <= UInt64(limits.maxItems - c.items) / perEntry else {
                throw WebAuthnError(.limitExceeded, "CBOR \(major == 4 ? "array" : "map") at offset \(start) claims \(argument) entries; the input or the item bound cannot hold them")
            }
            let n = Int(argument)
            if major == 4 {
                var a: [CBORValue] = []
                a.reserveCapacity(n)
                for _ in 0..<n { a.append(try item(&c, depth: depth + 1)) }
                return .array(a)
            }
            var m: [CBORMapEntry] = []
            m.reserveCapacity(n)
            var seen = Set<CBORValue>()
            for _ in 0..<n {
                let keyAt = c.position
                let k = try item(&c, depth: depth + 1)
                guard seen.insert(k).inserted else {
                    throw WebAuthnError(.malformedCBOR, "duplicate CBOR map key at offset \(keyAt)")
                }
                m.append(CBORMapEntry(key: k, value: try item(&c, depth: depth + 1)))
            }
            return .map(m)
        default:
            throw WebAuthnError(.malformedCBOR, "CBOR tag (major type 6) at offset \(start) is not used by WebAuthn")
        }
    }

    /// The additional-information argument; only shortest-form encodings are accepted.
    private func argument(_ info: UInt8, _ c: inout Cursor, at start: Int) throws -> UInt64 {
        let width: Int
        switch info {
        case 0..<24: return UInt64(info)
        case 24: width = 1
        case 25: width = 2
        case 26: width = 4
        case 27: width = 8
        case 31: throw WebAuthnError(.malformedCBOR, "indefinite-length CBOR item at offset \(start); WebAuthn uses definite lengths only")
        default: throw WebAuthnError(.malformedCBOR, "reserved CBOR additional information \(info) at offset \(start)")
        }
        var v: UInt64 = 0
        for b in try c.take(width) { v = v << 8 | UInt64(b) }
        let minimum: UInt64 = switch width { case 1: 24; case 2: 0x100; case 4: 0x1_0000; default: 0x1_0000_0000 }
        guard v >= minimum else {
            throw WebAuthnError(.malformedCBOR, "CBOR argument \(v) at offset \(start) is not in its shortest encoding")
        }
        return v
    }
}
