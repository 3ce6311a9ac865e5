import EvidenceCore
import Foundation

/// One case of the rule book's test-case format (section 0). `expected` is kept as read and
/// never used to decide anything.
public struct ClassificationCase: Sendable, Hashable {
    public let id: String
    public let entity: ReportingEntity
    public let facts: IncidentFacts
    public let expected: JSONValue?
}

/// Reads a file in the rule book's test-case format (section 0).
///
/// Guarantees: either every case parses, or the first bad one is reported with its id and the
/// field that was wrong. Refuses: anything that is not a JSON object with `schemaVersion` 1
/// and a `cases` array, duplicate case ids, unknown entity types, and every fact error of
/// `IncidentFacts.init(json:caseID:)`.
public enum ClassificationFile {
    public static let maxBytes = 32 << 20

    public static func parse(_ bytes: some ContiguousBytes) throws -> [ClassificationCase] {
        let root: JSONValue
        do { root = try JSONParser.parse(bytes, limits: JSONLimits(maxBytes: maxBytes)) }
        catch let e as EvidenceError {
            throw ReportingError(.wrongFormat, "the file is not valid JSON (\(e.message)); expected the test-case format of the rule book, section 0")
        }
        guard let o = root.objectValue else {
            throw ReportingError(.wrongFormat, field: "(root)", "expected a JSON object with schemaVersion and cases (rule book section 0)")
        }
        guard let v = o["schemaVersion"] else {
            throw ReportingError(.wrongFormat, field: "schemaVersion", "is missing; this is not a file in the test-case format of the rule book (section 0)")
        }
        guard v.numberValue == 1 else {
            throw ReportingError(.wrongFormat, field: "schemaVersion", "must be 1; this library reads only version 1 of the format")
        }
        guard let cases = o["cases"]?.arrayValue else {
            throw ReportingError(.wrongFormat, field: "cases", "must be an array of cases")
        }
        var seen = Set<String>()
        return try cases.enumerated().map { n, item in
            guard let c = item.objectValue else { throw ReportingError(.wrongFormat, caseID: "#\(n + 1)", field: "cases[\(n)]", "must be an object") }
            guard let id = c["id"]?.stringValue, !id.isEmpty else {
                throw ReportingError(.wrongFormat, caseID: "#\(n + 1)", field: "id", "every case needs a non-empty string id")
            }
            guard seen.insert(id).inserted else { throw ReportingError(.wrongFormat, caseID: id, field: "id", "appears twice; case ids must be unique") }
            guard let et = c["entityType"] else { throw ReportingError(.wrongFormat, caseID: id, field: "entityType", "is missing") }
            guard let ets = et.stringValue else { throw ReportingError(.wrongFormat, caseID: id, field: "entityType", "must be a string") }
            let entity = try ReportingEntity(rawValue: ets, caseID: id)
            guard let facts = c["facts"] else { throw ReportingError(.missingFact, caseID: id, field: "facts", "is missing; every case needs at least occurredAt and awareAt") }
            return ClassificationCase(id: id, entity: entity, facts: try IncidentFacts(json: facts, caseID: id), expected: c["expected"])
        }
    }
}

extension Classification {
    /// The result in the `nis2ctl classify --json` shape:
    /// `{"id","significant","criteria","deadlines"|null,"explanations"}`; a case outside
    /// IR 2024/2690 has `significant: null` and adds `needsHumanDecision` and `questions`.
    public var resultJSON: OrderedJSON {
        var o: [(String, OrderedJSON)] = [("id", .optional(caseID))]
        switch verdict {
        case .needsHumanDecision: o.append(("significant", .null))
        default: o.append(("significant", .bool(isSignificant)))
        }
        o.append(("criteria", .array(criterionLabels.map { .string($0) })))
        if let d = deadlines {
            o.append(("deadlines", .object([
                ("earlyWarning", .timestamp(d.earlyWarning)),
                ("incidentNotification", .timestamp(d.incidentNotification)),
                ("finalReport", .object([("latestIfNotificationSubmittedAtDeadline", .timestamp(d.finalReportIfNotificationSubmittedAtDeadline))])),
            ])))
        } else {
            o.append(("deadlines", .null))
        }
        o.append(("explanations", .array(explanationLines.map { .string($0) })))
        if case .needsHumanDecision(let qs) = verdict {
            o.append(("needsHumanDecision", .bool(true)))
            o.append(("questions", .array(qs.map { .string($0) })))
        }
        return .object(o)
    }
}
