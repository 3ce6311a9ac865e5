import EvidenceCore
import EvidenceSQLite
import Foundation
import NIS2Reporting

/// The incident facts an evidence pack shows (stage, deadlines, severity with explanations)
/// and its report drafts, from the tenant's incident state and evidence log.
enum IncidentSummary {
    static func build(store: EvidenceStore, tenant: TenantID, incident id: String) async throws -> (JSONValue, [EvidencePackExporter.Artefact]) {
        let path = store.root + "/tenants/\(tenant.rawValue)/incidents.sqlite"
        guard FileManager.default.fileExists(atPath: path) else { return (.object(["id": .string(id)]), []) }
        let lifecycle = IncidentLifecycle(tenant: tenant, evidence: store, state: try SQLiteIncidentStateStore(path: path), clock: store.clock)
        guard let i = try? await lifecycle.incident(id) else { return (.object(["id": .string(id)]), []) }
        var o: [String: JSONValue] = ["id": .string(i.id), "title": .string(i.title), "stage": .string(i.stage.rawValue),
                                      "detectedAt": .string(Timestamp.format(i.detectedAt))]
        if let aware = i.awareAt { o["awareAt"] = .string(Timestamp.format(aware)) }
        if let s = i.significant { o["significant"] = .bool(s) }
        let engine = SeverityEngine()
        let submitted = Set(i.submissions.map(\.stage.rawValue))
        o["deadlines"] = .array(i.openDeadlines(policy: engine.deadlinePolicy).map { d in
            .object(["report": .string(d.kind.rawValue), "dueAt": .string(Timestamp.format(d.due)), "status": .string("open — \(d.basis)")])
        } + i.submissions.map { s in
            .object(["report": .string(s.stage.rawValue), "dueAt": .string("submitted \(Timestamp.format(s.at))"), "status": .string(s.reference.map { "receipt \($0)" } ?? "submitted")])
        })
        _ = submitted
        if let c = try? engine.classify(i.entity, facts: i.effectiveFacts, caseID: id) {
            o["criteria"] = .array(c.criteria.map { .object(["criterion": .string($0.criterion.label), "met": .bool(true), "explanation": .string($0.explanation)]) }
                                   + c.closeCalls.map { .object(["criterion": .string($0.criterion.label), "met": .bool($0.met), "explanation": .string("close call: " + $0.explanation)]) })
            o["classificationBasis"] = .string("Classified under IR 2024/2690 and NIS2 Art 23(3): " + (c.isSignificant ? "significant." : "not significant.") + (c.notes.isEmpty ? "" : " " + c.notes.joined(separator: " ")))
        }
        var artefacts: [EvidencePackExporter.Artefact] = []
        for stage in [ReportStage.earlyWarning, .notification, .final] {
            guard let d = try? await lifecycle.draft(id, stage: stage) else { continue }
            artefacts.append(.init(name: "\(id)-\(stage.rawValue).json", bytes: Array(d.render(.json).utf8)))
            artefacts.append(.init(name: "\(id)-\(stage.rawValue).md", bytes: Array(d.render(.md).utf8)))
        }
        return (.object(o), artefacts)
    }
}
