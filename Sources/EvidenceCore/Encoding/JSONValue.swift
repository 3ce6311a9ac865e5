import Foundation

/// A parsed JSON value (RFC 8259, restricted to I-JSON RFC 7493: no duplicate keys, numbers
/// as IEEE 754 doubles, valid Unicode).
public indirect enum JSONValue: Hashable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }
    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    public var numberValue: Double? { if case .number(let n) = self { return n }; return nil }
    public var boolValue: Bool? { if case .bool(let b) = self { return b }; return nil }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a }; return nil }
    public var objectValue: [String: JSONValue]? { if case .object(let o) = self { return o }; return nil }
}

/// Limits applied while parsing untrusted JSON. Every length and count is checked before
/// anything grows.
public struct JSONLimits: Sendable {
    public var maxBytes: Int
    public var maxDepth: Int
    public var maxStringBytes: Int
    public var maxContainerCount: Int
    public init(maxBytes: Int = 16 << 20, maxDepth: Int = 64, maxStringBytes: Int = 4 << 20, maxContainerCount: Int = 1 << 20) {
        self.maxBytes = maxBytes; self.maxDepth = maxDepth; self.maxStringBytes = maxStringBytes; self.maxContainerCount = maxContainerCount
    }
    public static let `default` = JSONLimits()
}

/// A strict, bounded JSON parser. Errors name the byte offset and what was expected.
public struct JSONParser {
    private let b: UnsafeRawBufferPointer
    private var i = 0
    private let limits: JSONLimits

    public static func parse(_ bytes: some ContiguousBytes, limits: JSONLimits = .default) throws -> JSONValue {
        try bytes.withUnsafeBytes { raw in
            guard raw.count <= limits.maxBytes else {
                throw EvidenceError.malformed("JSON document of \(raw.count) bytes exceeds the limit of \(limits.maxBytes) bytes")
            }
            var p = JSONParser(b: raw, limits: limits)
            p.skipWS()
            let v = try p.value(depth: 0)
            p.skipWS()
            guard p.i == raw.count else { throw p.fail("unexpected data after the JSON value") }
            return v
        }
    }

    public static func parse(_ string: String, limits: JSONLimits = .default) throws -> JSONValue {
        try parse(Array(string.utf8), limits: limits)
    }

    private init(b: UnsafeRawBufferPointer, limits: JSONLimits) { self.b = b; self.limits = limits }

    private func fail(_ what: String) -> EvidenceError { .malformed("invalid JSON at byte \(i): \(what)") }

    private mutating func skipWS() {
        while i < b.count, b[i] == 0x20 || b[i] == 0x0a || b[i] == 0x0d || b[i] == 0x09 { i += 1 }
    }

    private mutating func value(depth: Int) throws -> JSONValue {
        guard depth <= limits.maxDepth else { throw fail("nesting deeper than \(limits.maxDepth) levels") }
        guard i < b.count else { throw fail("unexpected end of input, expected a value") }
        switch b[i] {
        case UInt8(ascii: "{"): return try object(depth: depth)
        case UInt8(ascii: "["): return try array(depth: depth)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw fail("unexpected character '\(Character(Unicode.Scalar(b[i])))', expected a value")
        }
    }

    private mutating func literal(_ s: StaticString) throws {
        let n = s.utf8CodeUnitCount
        guard i + n <= b.count, memcmp(b.baseAddress! + i, s.utf8Start, n) == 0 else { throw fail("expected '\(s)'") }
        i += n
    }

    private mutating func object(depth: Int) throws -> JSONValue {
        i += 1
        var out: [String: JSONValue] = [:]
        skipWS()
        if i < b.count, b[i] == UInt8(ascii: "}") { i += 1; return .object(out) }
        while true {
            skipWS()
            guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
            let key = try string()
            skipWS()
            guard i < b.count, b[i] == UInt8(ascii: ":") else { throw fail("expected ':' after key \"\(key.prefix(40))\"") }
            i += 1; skipWS()
            let v = try value(depth: depth + 1)
            guard out.updateValue(v, forKey: key) == nil else { throw fail("duplicate key \"\(key.prefix(40))\"") }
            guard out.count <= limits.maxContainerCount else { throw fail("object has more than \(limits.maxContainerCount) members") }
            skipWS()
            guard i < b.count else { throw fail("unterminated object") }
            if b[i] == UInt8(ascii: ",") { i += 1; continue }
            if b[i] == UInt8(ascii: "}") { i += 1; return .object(out) }
            throw fail("expected ',' or '}' in object")
        }
    }

    private mutating func array(depth: Int) throws -> JSONValue {
        i += 1
        var out: [JSONValue] = []
        skipWS()
        if i < b.count, b[i] == UInt8(ascii: "]") { i += 1; return .array(out) }
        while true {
            skipWS()
            out.append(try value(depth: depth + 1))
            guard out.count <= limits.maxContainerCount else { throw fail("array has more than \(limits.maxContainerCount) elements") }
            skipWS()
            guard i < b.count else { throw fail("unterminated array") }
            if b[i] == UInt8(ascii: ",") { i += 1; continue }
            if b[i] == UInt8(ascii: "]") { i += 1; return .array(out) }
            throw fail("expected ',' or ']' in array")
        }
    }

    private mutating func hex4() throws -> UInt32 {
        guard i + 4 <= b.count else { throw fail("truncated \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = b[i]; i += 1
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            default: throw fail("bad hex digit in \\u escape")
            }
            v = v << 4 | d
        }
        return v
    }

    private mutating func string() throws -> String {
        i += 1
        var out = [UInt8]()
        let start = i
        // Fast path: no escapes.
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "\"") {
                guard i - start <= limits.maxStringBytes else { throw fail("string longer than \(limits.maxStringBytes) bytes") }
                let slice = UnsafeRawBufferPointer(rebasing: b[start..<i])
                i += 1
                guard let s = String(validating: slice, as: UTF8.self) else { throw fail("string is not valid UTF-8") }
                return s
            }
            if c == UInt8(ascii: "\\") || c < 0x20 { break }
            i += 1
        }
        out.append(contentsOf: b[start..<i])
        while true {
            guard i < b.count else { throw fail("unterminated string") }
            guard out.count <= limits.maxStringBytes else { throw fail("string longer than \(limits.maxStringBytes) bytes") }
            let c = b[i]
            if c == UInt8(ascii: "\"") { i += 1; break }
            if c < 0x20 { throw fail("unescaped control character in string") }
            if c != UInt8(ascii: "\\") { out.append(c); i += 1; continue }
            i += 1
            guard i < b.count else { throw fail("unterminated escape") }
            let e = b[i]; i += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5c)
            case UInt8(ascii: "/"): out.append(0x2f)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0c)
            case UInt8(ascii: "n"): out.append(0x0a)
            case UInt8(ascii: "r"): out.append(0x0d)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var cp = try hex4()
                if (0xD800...0xDBFF).contains(cp) {
                    guard i + 2 <= b.count, b[i] == 0x5c, b[i + 1] == UInt8(ascii: "u") else { throw fail("lone high surrogate") }
                    i += 2
                    let lo = try hex4()
                    guard (0xDC00...0xDFFF).contains(lo) else { throw fail("high surrogate not followed by a low surrogate") }
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(cp) {
                    throw fail("lone low surrogate")
                }
                out.append(contentsOf: Array(String(Character(Unicode.Scalar(cp)!)).utf8))
            default: throw fail("unknown escape '\\\(Character(Unicode.Scalar(e)))'")
            }
        }
        guard let s = String(validating: out, as: UTF8.self) else { throw fail("string is not valid UTF-8") }
        return s
    }

    private mutating func number() throws -> Double {
        let start = i
        if b[i] == UInt8(ascii: "-") { i += 1 }
        guard i < b.count else { throw fail("truncated number") }
        if b[i] == UInt8(ascii: "0") { i += 1 }
        else if (0x31...0x39).contains(b[i]) { while i < b.count, (0x30...0x39).contains(b[i]) { i += 1 } }
        else { throw fail("expected a digit") }
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            guard i < b.count, (0x30...0x39).contains(b[i]) else { throw fail("expected a digit after '.'") }
            while i < b.count, (0x30...0x39).contains(b[i]) { i += 1 }
        }
        if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            i += 1
            if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
            guard i < b.count, (0x30...0x39).contains(b[i]) else { throw fail("expected a digit in exponent") }
            while i < b.count, (0x30...0x39).contains(b[i]) { i += 1 }
        }
        guard i - start <= 400 else { throw fail("number literal longer than 400 characters") }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
        guard let d = Double(text), d.isFinite else { throw fail("number \(text.prefix(40)) is outside the IEEE 754 double range") }
        return d
    }
}
