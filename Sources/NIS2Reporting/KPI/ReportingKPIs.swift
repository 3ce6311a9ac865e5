import EvidenceCore
import Foundation

/// The pilot's key figures for one tenant, computed from its evidence log alone (so an auditor
/// can recompute them from an exported pack's records).
///
/// - time to draft: awareness confirmed (`incident.aware` `awareAt`) to the first report
///   submitted (`incident.submitted`, normally the early warning): the draft was ready then.
/// - time to final: awareness to the final report submitted (stage `final`).
/// - capture ratio: privileged actions (`session.action`) covered by an RFC 3161 time anchor
///   (`time.anchor.rfc3161` whose checkpoint size is greater than the action's index) over
///   all recorded actions. Actions covered only by a local-clock or NTS sample
///   (`time.sample*`) are counted apart: that time is not third-party verifiable.
/// - classification changes after review: `incident.classified` records whose
///   `significant` differs from `previousSignificant`, plus `incident.decided` records that
///   overrule an earlier classification.
///
/// Guarantees: reads only the records given (one tenant's); records it does not know are
/// ignored; an incident without awareness or without a submission has no time (nil), never 0.
public struct ReportingKPIs: Hashable, Sendable {
    public struct IncidentFigures: Hashable, Sendable {
        public var incident: String
        public var awareAt: Date?
        public var timeToDraftSeconds: Double?
        public var timeToFinalSeconds: Double?
        public var classificationChanges: Int
    }

    public var tenant: TenantID
    public var incidents: [IncidentFigures]
    public var privilegedActions: Int
    public var actionsWithTimeAnchor: Int
    public var actionsWithClockSampleOnly: Int

    public var captureRatio: Double? { privilegedActions == 0 ? nil : Double(actionsWithTimeAnchor) / Double(privilegedActions) }
    public var classificationChangesAfterReview: Int { incidents.reduce(0) { $0 + $1.classificationChanges } }
    public var medianTimeToDraftSeconds: Double? { Self.median(incidents.compactMap(\.timeToDraftSeconds)) }
    public var medianTimeToFinalSeconds: Double? { Self.median(incidents.compactMap(\.timeToFinalSeconds)) }

    public init(tenant: TenantID, records: [EvidenceRecord]) {
        self.tenant = tenant
        var aware: [String: Date] = [:], firstSubmit: [String: Date] = [:], final: [String: Date] = [:], changes: [String: Int] = [:]
        var order: [String] = []
        var lastSignificant: [String: Bool] = [:]
        var actionIndices: [Int] = []
        var anchoredUpTo = 0, sampledUpTo = 0
        for (index, r) in records.enumerated() where r.tenant == tenant {
            if r.kind == "session.action" { actionIndices.append(index); continue }
            if r.kind == "time.anchor.rfc3161", let s = r.body["checkpoint"]?["size"]?.numberValue { anchoredUpTo = max(anchoredUpTo, Int(s)); continue }
            if r.kind.hasPrefix("time.sample"), let s = r.body["checkpoint"]?["size"]?.numberValue { sampledUpTo = max(sampledUpTo, Int(s)); continue }
            guard r.kind.hasPrefix("incident."), let id = r.body["incident"]?.stringValue else { continue }
            if !order.contains(id) { order.append(id) }
            switch r.kind {
            case "incident.aware":
                if let a = r.body["awareAt"]?.stringValue.flatMap({ try? Timestamp.parse($0) }) { aware[id] = a }
            case "incident.submitted":
                let at = r.body["submittedAt"]?.stringValue.flatMap { try? Timestamp.parse($0) } ?? r.time
                if firstSubmit[id] == nil { firstSubmit[id] = at }
                if r.body["stage"]?.stringValue == "final" { final[id] = at }
            case "incident.classified":
                if let now = r.body["significant"]?.boolValue {
                    if let before = r.body["previousSignificant"]?.boolValue, before != now { changes[id, default: 0] += 1 }
                    lastSignificant[id] = now
                }
            case "incident.decided":
                if let now = r.body["significant"]?.boolValue {
                    if let before = lastSignificant[id], before != now { changes[id, default: 0] += 1 }
                    lastSignificant[id] = now
                }
            default: break
            }
        }
        incidents = order.map { id in
            IncidentFigures(incident: id, awareAt: aware[id],
                            timeToDraftSeconds: aware[id].flatMap { a in firstSubmit[id].map { $0.timeIntervalSince(a) } },
                            timeToFinalSeconds: aware[id].flatMap { a in final[id].map { $0.timeIntervalSince(a) } },
                            classificationChanges: changes[id] ?? 0)
        }
        privilegedActions = actionIndices.count
        actionsWithTimeAnchor = actionIndices.filter { $0 < anchoredUpTo }.count
        actionsWithClockSampleOnly = actionIndices.filter { $0 >= anchoredUpTo && $0 < sampledUpTo }.count
    }

    static func median(_ xs: [Double]) -> Double? {
        guard !xs.isEmpty else { return nil }
        let s = xs.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}
