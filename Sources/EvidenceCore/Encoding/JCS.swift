import Foundation

/// JSON Canonicalization Scheme (RFC 8785): the only encoding used for bytes that are signed
/// or hashed and that a third party must reproduce.
///
/// Objects are sorted by the UTF-16 code units of their keys, strings use the minimal
/// escapes, numbers the ECMAScript shortest round-trip form, and there is no whitespace.
public enum JCS {
    public static func canonicalize(_ value: JSONValue) -> [UInt8] {
        var out = [UInt8]()
        write(value, into: &out)
        return out
    }

    /// Canonical bytes of any Encodable (dates as ISO-8601 UTC with fractional seconds when present).
    public static func canonicalize<T: Encodable>(_ value: T) throws -> [UInt8] {
        let data = try encoder.encode(value)
        return canonicalize(try JSONParser.parse(data))
    }

    /// Parses JSON text and returns its canonical form.
    public static func canonicalize(json bytes: some ContiguousBytes, limits: JSONLimits = .default) throws -> [UInt8] {
        canonicalize(try JSONParser.parse(bytes, limits: limits))
    }

    private static let encoder: JSONEncoder = {
        // Immutable after creation: JSONEncoder is safe to use concurrently once configured.
        let e = JSONEncoder()
        e.dateEncodingStrategy = .custom { date, enc in
            var c = enc.singleValueContainer()
            try c.encode(Timestamp.format(date))
        }
        return e
    }()

    public static func write(_ value: JSONValue, into out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let v): out.append(contentsOf: (v ? "true" : "false").utf8)
        case .number(let d): out.append(contentsOf: formatNumber(d).utf8)
        case .string(let s): writeString(s, into: &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            for (n, v) in a.enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                write(v, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            let keys = o.keys.sorted { $0.utf16.lexicographicallyPrecedes($1.utf16) }
            for (n, k) in keys.enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                writeString(k, into: &out)
                out.append(UInt8(ascii: ":"))
                write(o[k]!, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    public static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(0x22)
        let hex = Array("0123456789abcdef".utf8)
        for c in s.utf8 {
            switch c {
            case 0x22: out.append(0x5c); out.append(0x22)
            case 0x5c: out.append(0x5c); out.append(0x5c)
            case 0x08: out.append(0x5c); out.append(UInt8(ascii: "b"))
            case 0x09: out.append(0x5c); out.append(UInt8(ascii: "t"))
            case 0x0a: out.append(0x5c); out.append(UInt8(ascii: "n"))
            case 0x0c: out.append(0x5c); out.append(UInt8(ascii: "f"))
            case 0x0d: out.append(0x5c); out.append(UInt8(ascii: "r"))
            case 0..<0x20:
                out.append(contentsOf: [0x5c, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(c >> 4)], hex[Int(c & 15)]])
            default: out.append(c)
            }
        }
        out.append(0x22)
    }

    /// ECMAScript Number::toString for finite doubles (RFC 8785 §3.2.2.3).
    public static func formatNumber(_ d: Double) -> String {
        if d == 0 { return "0" }
        let negative = d < 0
        // Swift's description is the shortest round-trip digit string; re-lay it out per ECMAScript.
        var text = Substring(String(describing: abs(d)))
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: e)...])!
            text = text[..<e]
        }
        var digits = ""
        var pointPos = text.count
        if let dot = text.firstIndex(of: ".") {
            pointPos = text.distance(from: text.startIndex, to: dot)
            digits = String(text[..<dot]) + String(text[text.index(after: dot)...])
        } else {
            digits = String(text)
        }
        var n = pointPos + exponent
        while digits.hasPrefix("0") { digits.removeFirst(); n -= 1 }
        while digits.hasSuffix("0") { digits.removeLast() }
        let k = digits.count
        var r: String
        if k <= n && n <= 21 {
            r = digits + String(repeating: "0", count: n - k)
        } else if 0 < n && n <= 21 {
            let idx = digits.index(digits.startIndex, offsetBy: n)
            r = digits[..<idx] + "." + digits[idx...]
        } else if -6 < n && n <= 0 {
            r = "0." + String(repeating: "0", count: -n) + digits
        } else {
            let e = n - 1
            let sign = e < 0 ? "-" : "+"
            let mant = k == 1 ? digits : String(digits.first!) + "." + digits.dropFirst()
            r = mant + "e" + sign + String(abs(e))
        }
        return negative ? "-" + r : r
    }
}

/// RFC 3339 timestamps in UTC, the only textual time format of the evidence model.
public enum Timestamp {
    /// `2026-01-31T09:00:00Z`, or with milliseconds when the instant has a fraction.
    /// Formats by hand (no `String(format:)`): it runs for every evidence record.
    public static func format(_ date: Date) -> String {
        var out = [UInt8]()
        out.reserveCapacity(24)
        write(date, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `format(date)` as UTF-8 bytes.
    public static func write(_ date: Date, into out: inout [UInt8]) {
        let t = date.timeIntervalSince1970
        var whole = t.rounded(.down)
        var ms = Int(((t - whole) * 1000).rounded())
        if ms == 1000 { whole += 1; ms = 0 }
        var tm = tm()
        var secs = time_t(whole)
        gmtime_r(&secs, &tm)
        func put(_ v: Int, _ width: Int) {
            var div = 1
            for _ in 1..<width { div *= 10 }
            var x = v
            while div > 0 { out.append(UInt8(0x30 + (x / div) % 10)); x %= div; div /= 10 }
        }
        put(Int(tm.tm_year) + 1900, 4); out.append(0x2d); put(Int(tm.tm_mon) + 1, 2); out.append(0x2d); put(Int(tm.tm_mday), 2)
        out.append(0x54); put(Int(tm.tm_hour), 2); out.append(0x3a); put(Int(tm.tm_min), 2); out.append(0x3a); put(Int(tm.tm_sec), 2)
        if ms != 0 { out.append(0x2e); put(ms, 3) }
        out.append(0x5a)
    }

    /// Parses RFC 3339 with a mandatory offset (`Z` or `±hh:mm`); a time without an offset is
    /// refused because its instant is unknown.
    public static func parse(_ s: String) throws -> Date {
        let u = Array(s.utf8)
        func num(_ a: Int, _ n: Int) -> Int? {
            guard a + n <= u.count else { return nil }
            var v = 0
            for c in u[a..<a + n] { guard (0x30...0x39).contains(c) else { return nil }; v = v * 10 + Int(c - 0x30) }
            return v
        }
        let bad = EvidenceError.malformed("'\(s.prefix(60))' is not an RFC 3339 / ISO-8601 timestamp with offset, e.g. 2026-01-30T10:00:00+01:00 or 2026-01-30T09:00:00Z")
        guard u.count >= 20, let y = num(0, 4), u[4] == 0x2d, let mo = num(5, 2), u[7] == 0x2d, let d = num(8, 2),
              u[10] == UInt8(ascii: "T") || u[10] == UInt8(ascii: "t") || u[10] == 0x20,
              let h = num(11, 2), u[13] == 0x3a, let mi = num(14, 2), u[16] == 0x3a, let se = num(17, 2),
              (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, se < 61 else { throw bad }
        var i = 19
        var frac = 0.0
        if i < u.count, u[i] == UInt8(ascii: ".") {
            i += 1
            var scale = 0.1
            let st = i
            while i < u.count, (0x30...0x39).contains(u[i]) { frac += Double(u[i] - 0x30) * scale; scale /= 10; i += 1 }
            guard i > st else { throw bad }
        }
        guard i < u.count else {
            throw EvidenceError.malformed("timestamp '\(s.prefix(60))' has no UTC offset: add 'Z' or '+hh:mm' so the instant is unambiguous")
        }
        var offset = 0
        if u[i] == UInt8(ascii: "Z") || u[i] == UInt8(ascii: "z") {
            i += 1
        } else if u[i] == 0x2b || u[i] == 0x2d {
            guard let oh = num(i + 1, 2), i + 3 < u.count, u[i + 3] == 0x3a, let om = num(i + 4, 2), oh < 24, om < 60 else { throw bad }
            offset = (oh * 3600 + om * 60) * (u[i] == 0x2d ? -1 : 1)
            i += 6
        } else { throw bad }
        guard i == u.count else { throw bad }
        // Days from civil (proleptic Gregorian), Howard Hinnant's well-known algorithm.
        let yy = mo <= 2 ? y - 1 : y
        let era = (yy >= 0 ? yy : yy - 399) / 400
        let yoe = yy - era * 400
        let mp = (mo + 9) % 12
        let doy = (153 * mp + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146097 + doe - 719468
        guard d <= daysIn(month: mo, year: y) else { throw bad }
        let secs = Double(days * 86400 + h * 3600 + mi * 60 + min(se, 59) - offset) + frac
        return Date(timeIntervalSince1970: secs)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}
