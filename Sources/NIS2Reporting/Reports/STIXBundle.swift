import EvidenceCore
import Foundation

/// Indicators of compromise as a STIX 2.1 bundle (OASIS STIX 2.1: `bundle` of `indicator`
/// objects with `pattern_type` "stix").
///
/// Guarantees: object ids are deterministic UUIDs (RFC 9562 version 8, from SHA-256 of tenant,
/// incident and indicator), so a re-drafted report names the same indicators; values are
/// escaped inside the pattern's quoted string.
public enum STIXBundle {
    public static func bundle(for indicators: [Indicator], incidentID: String, tenant: TenantID, created: Date) -> OrderedJSON {
        let ts = OrderedJSON.timestamp(created)
        let objects: [OrderedJSON] = indicators.map { ind in
            var o: [(String, OrderedJSON)] = [
                ("type", .string("indicator")), ("spec_version", .string("2.1")),
                ("id", .string("indicator--" + uuid("\(tenant.rawValue)|\(incidentID)|\(ind.kind.rawValue)|\(ind.value)"))),
                ("created", ts), ("modified", ts),
                ("name", .string("\(ind.kind.rawValue) \(ind.value)")),
                ("indicator_types", .array([.string("malicious-activity")])),
                ("pattern", .string(pattern(ind))), ("pattern_type", .string("stix")), ("valid_from", ts),
            ]
            if let d = ind.description { o.append(("description", .string(d))) }
            return .object(o)
        }
        return .object([("type", .string("bundle")), ("id", .string("bundle--" + uuid("\(tenant.rawValue)|\(incidentID)|bundle"))), ("objects", .array(objects))])
    }

    public static func pattern(_ i: Indicator) -> String {
        let v = i.value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
        switch i.kind {
        case .fileSHA256: return "[file:hashes.'SHA-256' = '\(v)']"
        default: return "[\(i.kind.rawValue):value = '\(v)']"
        }
    }

    static func uuid(_ seed: String) -> String {
        var hex = Array(PortableSHA256().hash(seed).description.prefix(32))
        hex[12] = "8"                                   // version 8
        let variant = Int(String(hex[16]), radix: 16)! & 0x3 | 0x8
        hex[16] = Character(String(variant, radix: 16)) // RFC 9562 variant
        let s = String(hex)
        return [s.prefix(8), s.dropFirst(8).prefix(4), s.dropFirst(12).prefix(4), s.dropFirst(16).prefix(4), s.dropFirst(20)].joined(separator: "-")
    }
}
