import EvidenceCore
import Foundation

/// A JSON value whose object members keep the order they were built in, for documents people
/// read (classification results, report drafts). Anything signed or hashed uses JCS instead.
///
/// Guarantees: the output is valid RFC 8259 JSON; strings are escaped, numbers are written as
/// JCS writes them (shortest round-trip form, no exponent for ordinary values).
public indirect enum OrderedJSON: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([OrderedJSON])
    case object([(String, OrderedJSON)])

    public static func == (a: OrderedJSON, b: OrderedJSON) -> Bool { a.text() == b.text() }
    public func hash(into h: inout Hasher) { h.combine(text()) }

    public static func timestamp(_ d: Date) -> OrderedJSON { .string(Timestamp.format(d)) }
    public static func optional(_ s: String?) -> OrderedJSON { s.map { .string($0) } ?? .null }

    /// Compact text, or indented by two spaces per level with `pretty`.
    public func text(pretty: Bool = false) -> String {
        var out = ""
        write(into: &out, pretty: pretty, indent: 0)
        return out
    }

    private func write(into out: inout String, pretty: Bool, indent: Int) {
        let nl = pretty ? "\n" + String(repeating: "  ", count: indent + 1) : ""
        let end = pretty ? "\n" + String(repeating: "  ", count: indent) : ""
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let d): out += JCS.formatNumber(d)
        case .string(let s): Self.quote(s, into: &out)
        case .array(let a):
            if a.isEmpty { out += "[]"; return }
            out += "["
            for (i, v) in a.enumerated() {
                if i > 0 { out += "," }
                out += nl
                v.write(into: &out, pretty: pretty, indent: indent + 1)
            }
            out += end + "]"
        case .object(let o):
            if o.isEmpty { out += "{}"; return }
            out += "{"
            for (i, (k, v)) in o.enumerated() {
                if i > 0 { out += "," }
                out += nl
                Self.quote(k, into: &out)
                out += pretty ? ": " : ":"
                v.write(into: &out, pretty: pretty, indent: indent + 1)
            }
            out += end + "}"
        }
    }

    static func quote(_ s: String, into out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        out += "\""
    }
}
