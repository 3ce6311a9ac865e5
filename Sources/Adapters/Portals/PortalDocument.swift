import EvidenceCore
import Foundation
import NIS2Reporting

/// The portal-ready JSON of one report: the neutral draft mapped to a national form.
///
/// Layout (`format` "nis2-portal-submission", version 1): `mapping` (authority, channel, the
/// rule book's status, `inferred`), `stage` (neutral and national name), `incident`, `tenant`,
/// `fields` (array, in form order: national `field`, neutral `item`, `value`, `basis`),
/// `additional` (neutral items the national form has no field for), `missing` (required
/// items the draft lacks), `complete`, and `neutral` (the whole neutral draft).
///
/// Guarantees: deterministic for the same draft and mapping; never invents a value (a field
/// whose item is unknown is left out and, if the stage requires it, listed under `missing`);
/// every field carries its basis, so an inferred mapping is visible in the payload itself.
public struct PortalDocument: Sendable {
    public let mapping: NationalMapping
    public let draft: ReportDraft
    public let json: OrderedJSON
    /// The bytes submitted: the JSON text, UTF-8.
    public let bytes: [UInt8]
    public static let contentType = "application/json"

    public init(draft: ReportDraft, mapping: NationalMapping) throws {
        self.mapping = mapping; self.draft = draft
        let stageName = try mapping.stageName(draft.stage)
        var used = Set<ReportItemKey>()
        var fields: [OrderedJSON] = []
        for f in mapping.fields {
            guard let v = draft.items[f.item] else { continue }
            used.insert(f.item)
            fields.append(.object([("field", .string(f.name)), ("item", .string(f.item.rawValue)), ("value", Self.value(v)), ("basis", .string(f.basis.label))]))
        }
        let additional: [(String, OrderedJSON)] = ReportItemKey.allCases.compactMap { k in
            guard !used.contains(k), let v = draft.items[k] else { return nil }
            return (k.rawValue, Self.value(v))
        }
        json = .object([
            ("format", .string("nis2-portal-submission")), ("version", .number(1)),
            ("mapping", .object([("id", .string(mapping.id)), ("authority", .string(mapping.authority)), ("country", .string(mapping.country)),
                                 ("channel", .string(mapping.channel)), ("status", .string(mapping.status)), ("inferred", .bool(mapping.isInferred)),
                                 ("statement", .string(mapping.isInferred
                                    ? "INFERRED mapping: the authority's field list is not published or not verified; field names are ours, the values are the draft's"
                                    : "items from the cited legal text; field names are ours (the form's identifiers are not known)"))])),
            ("stage", .object([("neutral", .string(draft.stage.rawValue)), ("national", .string(stageName))])),
            ("incident", .string(draft.incidentID)), ("tenant", .string(draft.tenant.rawValue)), ("title", .string(draft.title)),
            ("generatedAt", .timestamp(draft.generatedAt)),
            ("fields", .array(fields)),
            ("additional", .object(additional)),
            ("missing", .array(draft.missing.map { .string($0.rawValue) })), ("complete", .bool(draft.isComplete)),
            ("neutral", draft.json),
        ])
        bytes = Array(json.text(pretty: true).utf8)
    }

    static func value(_ v: ReportValue) -> OrderedJSON {
        switch v {
        case .text(let s): .string(s)
        case .flag(let b): .bool(b)
        case .time(let d): .timestamp(d)
        case .list(let l): .array(l.map { .string($0) })
        }
    }
}
