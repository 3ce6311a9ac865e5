import Foundation

/// Builds the canonical bytes of a session's `session.action` records directly, without a
/// `JSONValue` tree or a sorted dictionary per action: the part of the record that does not
/// change within a session is encoded once, and the action's JSON is parsed once and written
/// in JCS form as it is read.
///
/// Guarantee: for every input the bytes equal
/// `EvidenceRecord(kind: "session.action", tenant:, time:, actor: principal, body:
/// {"action", "detail", "event", "session"}).canonicalBytes()`, and an action is refused
/// exactly when `JSONParser` (limit `SessionEvent.maxActionBytes`) does not read it as one
/// object. JSON the direct path does not handle (non-ASCII text, fractions, exponents, long
/// numbers, keys that need escaping) goes through `JSONParser` and `JCS` instead.
struct ActionRecordEncoder {
    /// `{"actor":"…","body":{"action":`
    private let head: [UInt8]
    /// `,"session":"…"},"kind":"session.action","tenant":"…","time":`
    private let tail: [UInt8]
    /// `"command","detail":` and so on, by kind.
    private let kinds: [SessionEvent.Kind: [UInt8]]
    private var detail: [UInt8] = []
    private var members: [Int] = []
    private var spare: [UInt8] = []

    init(session: SessionDescriptor) {
        var h = Array(#"{"actor":"#.utf8)
        JCS.writeString(session.principal, into: &h)
        h += #","body":{"action":"#.utf8
        var t = Array(#","session":"#.utf8)
        JCS.writeString(session.id, into: &t)
        t += #"},"kind":"session.action","tenant":"#.utf8
        JCS.writeString(session.tenant.rawValue, into: &t)
        t += #","time":"#.utf8
        head = h; tail = t
        var k: [SessionEvent.Kind: [UInt8]] = [:]
        for kind in SessionEvent.Kind.allCases where kind.isPrivilegedAction {
            var b: [UInt8] = []
            JCS.writeString(kind.rawValue, into: &b)
            b += #","detail":"#.utf8
            k[kind] = b
        }
        kinds = k
        detail.reserveCapacity(SessionEvent.maxActionBytes + 1024)
        spare.reserveCapacity(SessionEvent.maxActionBytes + 1024)
        members.reserveCapacity(64)
    }

    /// Reads an action's JSON and keeps its canonical form for `appendRecord`; false (and
    /// nothing kept) unless it is one JSON object of at most `SessionEvent.maxActionBytes`.
    mutating func take(_ data: UnsafeRawBufferPointer) -> Bool {
        detail.removeAll(keepingCapacity: true)
        guard data.count <= SessionEvent.maxActionBytes else { return false }
        members.removeAll(keepingCapacity: true)
        if DirectJCS.canonicalObject(data, into: &detail, members: &members, spare: &spare) { return true }
        detail.removeAll(keepingCapacity: true)
        guard let value = try? JSONParser.parse(data, limits: JSONLimits(maxBytes: SessionEvent.maxActionBytes)),
              case .object = value else { return false }
        JCS.write(value, into: &detail)
        return true
    }

    /// Replaces `out` with the record of the action last accepted by `take`.
    func record(kind: SessionEvent.Kind, event: UInt64, time: Date, into out: inout [UInt8]) {
        out.removeAll(keepingCapacity: true)
        out += head
        out += kinds[kind]!
        out += detail
        out += #","event":"#.utf8
        if event < 1 << 53 { DirectJCS.appendDecimal(event, to: &out) } else { out += JCS.formatNumber(Double(event)).utf8 }
        out += tail
        out.append(0x22)
        Timestamp.write(time, into: &out)
        out.append(0x22)
        out += #","v":1}"#.utf8
    }
}

/// JCS (RFC 8785) straight from JSON text for the common shape of action facts. Each function
/// returns false when the text is outside what it handles or is not valid JSON; the caller
/// then uses the general parser, which decides (and words any refusal).
enum DirectJCS {
    private static let maxDepth = JSONLimits.default.maxDepth

    static func canonicalObject(_ b: UnsafeRawBufferPointer, into out: inout [UInt8], members: inout [Int], spare: inout [UInt8]) -> Bool {
        var r = Reader(b: b)
        r.skipWS()
        guard r.i < b.count, b[r.i] == UInt8(ascii: "{") else { return false }
        guard r.value(depth: 0, &out, &members, &spare) else { return false }
        r.skipWS()
        return r.i == b.count
    }

    static func appendDecimal(_ v: UInt64, to out: inout [UInt8]) {
        if v < 10 { out.append(0x30 + UInt8(v)); return }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { buf in
            var x = v, n = 20
            while x > 0 { n -= 1; buf[n] = 0x30 + UInt8(x % 10); x /= 10 }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: buf[n..<20]))
        }
    }

    private struct Reader {
        let b: UnsafeRawBufferPointer
        var i = 0

        mutating func skipWS() {
            while i < b.count, b[i] == 0x20 || b[i] == 0x0a || b[i] == 0x0d || b[i] == 0x09 { i += 1 }
        }

        mutating func value(depth: Int, _ out: inout [UInt8], _ members: inout [Int], _ spare: inout [UInt8]) -> Bool {
            guard depth <= DirectJCS.maxDepth, i < b.count else { return false }
            switch b[i] {
            case UInt8(ascii: "{"): return object(depth: depth, &out, &members, &spare)
            case UInt8(ascii: "["): return array(depth: depth, &out, &members, &spare)
            case UInt8(ascii: "\""): return string(&out, key: false)
            case UInt8(ascii: "t"): return literal("true", &out)
            case UInt8(ascii: "f"): return literal("false", &out)
            case UInt8(ascii: "n"): return literal("null", &out)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return integer(&out)
            default: return false
            }
        }

        mutating func literal(_ s: StaticString, _ out: inout [UInt8]) -> Bool {
            let n = s.utf8CodeUnitCount
            guard i + n <= b.count, memcmp(b.baseAddress! + i, s.utf8Start, n) == 0 else { return false }
            out.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: n))
            i += n
            return true
        }

        /// Integers of at most 15 digits: exact as doubles, so ECMAScript prints their digits.
        mutating func integer(_ out: inout [UInt8]) -> Bool {
            let start = i
            if b[i] == UInt8(ascii: "-") { i += 1 }
            let digits = i
            guard i < b.count else { return false }
            if b[i] == UInt8(ascii: "0") { i += 1 }
            else if (0x31...0x39).contains(b[i]) { while i < b.count, (0x30...0x39).contains(b[i]) { i += 1 } }
            else { return false }
            if i < b.count, b[i] == UInt8(ascii: ".") || b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") { return false }
            guard i - digits <= 15 else { return false }
            if i - digits == 1 && b[digits] == UInt8(ascii: "0") { out.append(0x30); return true }  // -0 is 0
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: b[start..<i]))
            return true
        }

        /// ASCII strings only; a key must not need escaping, so its escaped bytes sort as its
        /// UTF-16 code units do.
        mutating func string(_ out: inout [UInt8], key: Bool) -> Bool {
            i += 1
            out.append(0x22)
            while i < b.count {
                let c = b[i]
                if c == 0x22 { i += 1; out.append(0x22); return true }
                if c >= 0x80 || c < 0x20 { return false }
                i += 1
                if c != 0x5c { out.append(c); continue }
                guard i < b.count else { return false }
                let e = b[i]
                i += 1
                var d: UInt8
                switch e {
                case 0x22: d = 0x22
                case 0x5c: d = 0x5c
                case UInt8(ascii: "/"): d = 0x2f
                case UInt8(ascii: "b"): d = 0x08
                case UInt8(ascii: "f"): d = 0x0c
                case UInt8(ascii: "n"): d = 0x0a
                case UInt8(ascii: "r"): d = 0x0d
                case UInt8(ascii: "t"): d = 0x09
                case UInt8(ascii: "u"):
                    guard i + 4 <= b.count else { return false }
                    var v: UInt32 = 0
                    for _ in 0..<4 {
                        let h = b[i]; i += 1
                        switch h {
                        case 0x30...0x39: v = v << 4 | UInt32(h - 0x30)
                        case 0x61...0x66: v = v << 4 | UInt32(h - 0x61 + 10)
                        case 0x41...0x46: v = v << 4 | UInt32(h - 0x41 + 10)
                        default: return false
                        }
                    }
                    guard v < 0x80 else { return false }
                    d = UInt8(v)
                default: return false
                }
                if key && (d < 0x20 || d == 0x22 || d == 0x5c) { return false }
                switch d {
                case 0x22: out.append(0x5c); out.append(0x22)
                case 0x5c: out.append(0x5c); out.append(0x5c)
                case 0x08: out.append(0x5c); out.append(UInt8(ascii: "b"))
                case 0x09: out.append(0x5c); out.append(UInt8(ascii: "t"))
                case 0x0a: out.append(0x5c); out.append(UInt8(ascii: "n"))
                case 0x0c: out.append(0x5c); out.append(UInt8(ascii: "f"))
                case 0x0d: out.append(0x5c); out.append(UInt8(ascii: "r"))
                case 0..<0x20:
                    let hex: StaticString = "0123456789abcdef"
                    out.append(0x5c); out.append(UInt8(ascii: "u")); out.append(0x30); out.append(0x30)
                    out.append(hex.utf8Start[Int(d >> 4)]); out.append(hex.utf8Start[Int(d & 15)])
                default: out.append(d)
                }
            }
            return false
        }

        mutating func array(depth: Int, _ out: inout [UInt8], _ members: inout [Int], _ spare: inout [UInt8]) -> Bool {
            i += 1
            out.append(UInt8(ascii: "["))
            skipWS()
            if i < b.count, b[i] == UInt8(ascii: "]") { i += 1; out.append(UInt8(ascii: "]")); return true }
            while true {
                skipWS()
                guard value(depth: depth + 1, &out, &members, &spare) else { return false }
                skipWS()
                guard i < b.count else { return false }
                if b[i] == UInt8(ascii: ",") { i += 1; out.append(UInt8(ascii: ",")); continue }
                if b[i] == UInt8(ascii: "]") { i += 1; out.append(UInt8(ascii: "]")); return true }
                return false
            }
        }

        /// Members are written as `"key":value` without separators while reading, noted as
        /// (key start, key end, value end) in `members`, then laid out again in key order.
        mutating func object(depth: Int, _ out: inout [UInt8], _ members: inout [Int], _ spare: inout [UInt8]) -> Bool {
            i += 1
            out.append(UInt8(ascii: "{"))
            skipWS()
            if i < b.count, b[i] == UInt8(ascii: "}") { i += 1; out.append(UInt8(ascii: "}")); return true }
            let base = members.count
            let start = out.count
            defer { members.removeSubrange(base...) }
            while true {
                skipWS()
                guard i < b.count, b[i] == 0x22 else { return false }
                let ks = out.count
                guard string(&out, key: true) else { return false }
                let ke = out.count
                skipWS()
                guard i < b.count, b[i] == UInt8(ascii: ":") else { return false }
                i += 1
                out.append(UInt8(ascii: ":"))
                skipWS()
                guard value(depth: depth + 1, &out, &members, &spare) else { return false }
                members.append(ks); members.append(ke); members.append(out.count)
                skipWS()
                guard i < b.count else { return false }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "}") { i += 1; break }
                return false
            }
            let n = (members.count - base) / 3
            // Insertion sort by key (byte order is UTF-16 order for these keys); equal keys
            // are duplicates, which the general parser refuses.
            var sorted = n > 1
            for m in 1..<max(n, 1) {
                let c = compareKey(out, members, base + 3 * (m - 1), base + 3 * m)
                if c == 0 { return false }
                if c > 0 { sorted = false }
            }
            if n == 1 || sorted {
                // Already in order: only the separators are missing.
                if n > 1 { insertCommas(&out, members, base, n, start, &spare) }
                out.append(UInt8(ascii: "}"))
                return true
            }
            for m in 1..<n {
                var j = m
                while j > 0 {
                    let c = compareKey(out, members, base + 3 * (j - 1), base + 3 * j)
                    if c == 0 { return false }
                    if c < 0 { break }
                    for f in 0..<3 { members.swapAt(base + 3 * (j - 1) + f, base + 3 * j + f) }
                    j -= 1
                }
            }
            insertCommas(&out, members, base, n, start, &spare)
            out.append(UInt8(ascii: "}"))
            return true
        }

        /// Rewrites the members region from `start` in the order of `members`, comma-separated.
        private func insertCommas(_ out: inout [UInt8], _ members: [Int], _ base: Int, _ n: Int, _ start: Int, _ spare: inout [UInt8]) {
            spare.removeAll(keepingCapacity: true)
            spare.append(contentsOf: out[start...])
            out.removeSubrange(start...)
            for m in 0..<n {
                if m > 0 { out.append(UInt8(ascii: ",")) }
                out.append(contentsOf: spare[(members[base + 3 * m] - start)..<(members[base + 3 * m + 2] - start)])
            }
        }

        /// Compares the keys (without quotes) of members a and b: <0, 0, >0.
        private func compareKey(_ out: [UInt8], _ members: [Int], _ a: Int, _ b: Int) -> Int {
            let (as_, ae) = (members[a] + 1, members[a + 1] - 1)
            let (bs, be) = (members[b] + 1, members[b + 1] - 1)
            let la = ae - as_, lb = be - bs
            return out.withUnsafeBufferPointer { p in
                let r = memcmp(p.baseAddress! + as_, p.baseAddress! + bs, min(la, lb))
                return r != 0 ? Int(r) : la - lb
            }
        }
    }
}
