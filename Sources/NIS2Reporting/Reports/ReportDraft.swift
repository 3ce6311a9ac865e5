import EvidenceCore
import Foundation

/// One item of the neutral report: the union of the NIS2 Art 23(4) items and the Swiss CSV
/// Art 15 items (rule book sections 4 and 5). National portals map from these keys.
public enum ReportItemKey: String, Sendable, CaseIterable, Codable {
    case reportingOrganisation, reportingOrganisationAddress, onBehalfOf, contact
    case entityType, occurredAt, detectedAt, awareAt
    case suspectedUnlawfulOrMalicious, crossBorderImpact
    case significance, criteriaMet, severityAndImpact
    case description, attackTypeAndExecution, effects, impactOnFunctioning
    case affectedServices, affectedTenants
    case indicatorsOfCompromise, rootCauseOrThreatType, attackerInformation
    case mitigationsApplied, mitigationsOngoing, plannedNextSteps
    case extortionThreatsOrCoercion, criminalComplaintFiled, recipientsInformed
    case previousSubmissions, timeline
}

/// The value of a report item, as the incident gave it. Free text is never translated.
public enum ReportValue: Hashable, Sendable {
    case text(String)
    case flag(Bool)
    case time(Date)
    case list([String])
}

/// A dated line of the incident's timeline, taken from the evidence log.
public struct TimelineEntry: Hashable, Sendable {
    public let time: Date
    public let kind: String
    public let actor: String?
    public let summary: String
}

/// A report draft for one stage, in the neutral model.
///
/// Guarantees: `items` holds only what the incident and the evidence log state; every item the
/// stage requires that is not known is in `missing`, and nothing is invented to fill it;
/// `optionalMissing` lists items asked "where available/applicable" that are not known.
public struct ReportDraft: Hashable, Sendable {
    public let stage: ReportStage
    public let incidentID: String
    public let tenant: TenantID
    public let title: String
    public let generatedAt: Date
    public let items: [ReportItemKey: ReportValue]
    public let missing: [ReportItemKey]
    public let optionalMissing: [ReportItemKey]
    public let deadlines: [Deadline]
    public let timeline: [TimelineEntry]
    /// The indicators as a STIX 2.1 bundle, when there are any.
    public let stixBundle: OrderedJSON?

    public var isComplete: Bool { missing.isEmpty }
}

/// Which items each stage requires, and which it asks for where available.
public enum ReportRequirements {
    public static func required(_ stage: ReportStage) -> [ReportItemKey] {
        let base: [ReportItemKey] = [.reportingOrganisation, .contact, .entityType, .awareAt]
        switch stage {
        case .earlyWarning: return base + [.suspectedUnlawfulOrMalicious, .crossBorderImpact]
        case .notification: return base + [.suspectedUnlawfulOrMalicious, .crossBorderImpact, .significance, .severityAndImpact, .description]
        case .intermediate: return base + [.description]
        case .progress, .final:
            return base + [.significance, .severityAndImpact, .description, .rootCauseOrThreatType, .mitigationsApplied, .mitigationsOngoing, .crossBorderImpact]
        case .chISG:
            return [.reportingOrganisation, .attackTypeAndExecution, .effects, .mitigationsApplied, .detectedAt, .occurredAt,
                    .attackerInformation, .extortionThreatsOrCoercion, .criminalComplaintFiled, .severityAndImpact, .impactOnFunctioning]
        }
    }

    public static func optional(_ stage: ReportStage) -> [ReportItemKey] {
        switch stage {
        case .earlyWarning: return [.occurredAt, .detectedAt, .description, .affectedServices]
        case .notification, .intermediate: return [.indicatorsOfCompromise, .rootCauseOrThreatType, .mitigationsApplied, .affectedServices, .affectedTenants, .recipientsInformed]
        case .progress, .final: return [.indicatorsOfCompromise, .affectedServices, .affectedTenants, .recipientsInformed]
        case .chISG: return [.plannedNextSteps, .contact, .reportingOrganisationAddress, .onBehalfOf, .indicatorsOfCompromise]
        }
    }
}

/// Builds report drafts from an incident and its evidence records.
///
/// Guarantees: deterministic for the same inputs and clock; reads only the incident's own
/// tenant log (records of other tenants are never consulted).
public struct ReportDrafter: Sendable {
    public var deadlinePolicy: DeadlinePolicy
    public init(deadlinePolicy: DeadlinePolicy = .standard) { self.deadlinePolicy = deadlinePolicy }

    public func draft(_ stage: ReportStage, for i: Incident, evidence: [EvidenceRecord], classification: Classification?, now: Date) -> ReportDraft {
        let n = i.narrative
        var items: [ReportItemKey: ReportValue] = [:]
        func put(_ k: ReportItemKey, _ v: String?) { if let v, !v.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { items[k] = .text(v) } }
        func put(_ k: ReportItemKey, _ v: Bool?) { if let v { items[k] = .flag(v) } }
        func put(_ k: ReportItemKey, _ v: [String]?) { if let v, !v.isEmpty { items[k] = .list(v) } }

        put(.reportingOrganisation, n.reportingOrganisation)
        put(.reportingOrganisationAddress, n.reportingOrganisationAddress)
        put(.onBehalfOf, n.onBehalfOf)
        let contact = [n.contactName, n.contactEmail, n.contactPhone].compactMap { $0 }.filter { !$0.isEmpty }
        if !contact.isEmpty { items[.contact] = .text(contact.joined(separator: ", ")) }
        items[.entityType] = .text(i.entity.rawValue)
        items[.occurredAt] = .time(i.facts.occurredAt)
        items[.detectedAt] = .time(i.detectedAt)
        if let a = i.awareAt { items[.awareAt] = .time(a) }
        put(.suspectedUnlawfulOrMalicious, n.suspectedUnlawfulOrMalicious)
        if let cb = n.crossBorderImpact { items[.crossBorderImpact] = cb && n.crossBorderDetails != nil ? .text("yes: " + n.crossBorderDetails!) : .flag(cb) }
        if let s = i.significant { items[.significance] = .flag(s) }
        if let c = classification, !c.criteria.isEmpty {
            items[.criteriaMet] = .list(c.criterionLabels)
            items[.severityAndImpact] = .list(c.criteria.map { "\($0.criterion.label): \($0.explanation)" })
        } else if let s = i.significant, !s, let c = classification {
            items[.severityAndImpact] = .list(c.explanationLines)
        }
        put(.description, n.description)
        put(.attackTypeAndExecution, n.attackTypeAndExecution)
        put(.effects, n.effects)
        put(.impactOnFunctioning, n.impactOnFunctioning)
        put(.affectedServices, n.affectedServices)
        put(.affectedTenants, n.affectedTenants)
        if let iocs = n.indicators, !iocs.isEmpty { items[.indicatorsOfCompromise] = .list(iocs.map { "\($0.kind.rawValue): \($0.value)" }) }
        put(.rootCauseOrThreatType, n.rootCauseOrThreatType ?? i.facts.rootCause)
        put(.attackerInformation, n.attackerInformation)
        put(.mitigationsApplied, n.mitigationsApplied)
        put(.mitigationsOngoing, n.mitigationsOngoing)
        put(.plannedNextSteps, n.plannedNextSteps)
        put(.extortionThreatsOrCoercion, n.extortionThreatsOrCoercion)
        put(.criminalComplaintFiled, n.criminalComplaintFiled)
        if let r = n.recipientsInformed { items[.recipientsInformed] = r && n.recipientsInformedDetails != nil ? .text("yes: " + n.recipientsInformedDetails!) : .flag(r) }
        if !i.submissions.isEmpty {
            items[.previousSubmissions] = .list(i.submissions.map { "\($0.stage.rawValue) \(Timestamp.format($0.at))" + ($0.reference.map { " (\($0))" } ?? "") })
        }
        let timeline = Self.timeline(for: i, evidence: evidence)
        if !timeline.isEmpty { items[.timeline] = .list(timeline.map { "\(Timestamp.format($0.time)) \($0.summary)" }) }

        let missing = ReportRequirements.required(stage).filter { items[$0] == nil }
        let optionalMissing = ReportRequirements.optional(stage).filter { items[$0] == nil }
        let stix = (n.indicators ?? []).isEmpty ? nil : STIXBundle.bundle(for: n.indicators!, incidentID: i.id, tenant: i.tenant, created: i.awareAt ?? i.detectedAt)
        return ReportDraft(stage: stage, incidentID: i.id, tenant: i.tenant, title: i.title, generatedAt: now, items: items,
                           missing: missing, optionalMissing: optionalMissing, deadlines: i.openDeadlines(policy: deadlinePolicy),
                           timeline: timeline, stixBundle: stix)
    }

    /// The incident's own records, plus session and grant records that name one of the related
    /// evidence ids, in time order.
    static func timeline(for i: Incident, evidence: [EvidenceRecord]) -> [TimelineEntry] {
        let related = Set(i.narrative.relatedEvidence ?? [])
        let refKeys = ["session", "sessionID", "grant", "grantID", "id"]
        return evidence.filter { r in
            guard r.tenant == i.tenant else { return false }
            if r.kind.hasPrefix("incident."), r.body["incident"]?.stringValue == i.id { return true }
            return !related.isEmpty && refKeys.contains { r.body[$0]?.stringValue.map(related.contains) ?? false }
        }
        .sorted { $0.time < $1.time }
        .map { r in
            var summary = r.kind
            if let stage = r.body["stage"]?.stringValue, r.kind == "incident.submitted" { summary += " " + stage }
            if let ref = refKeys.lazy.compactMap({ r.body[$0]?.stringValue }).first, !r.kind.hasPrefix("incident.") { summary += " " + ref }
            if let a = r.actor { summary += " by " + a }
            return TimelineEntry(time: r.time, kind: r.kind, actor: r.actor, summary: summary)
        }
    }
}
