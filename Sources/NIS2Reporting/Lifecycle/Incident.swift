import EvidenceCore
import Foundation

/// Where an incident stands. Intermediate and progress reports do not move the stage; they are
/// recorded as submissions.
public enum IncidentStage: String, Sendable, Codable, CaseIterable {
    case detected, aware, earlyWarningSubmitted, notificationSubmitted, finalReportSubmitted, closed, withdrawn

    public var isTerminal: Bool { self == .closed || self == .withdrawn }
}

/// A report an incident can owe, named as on the command line.
public enum ReportStage: String, Sendable, Codable, CaseIterable {
    case earlyWarning = "early-warning"
    case notification
    case intermediate
    case progress
    case final
    case chISG = "ch-isg"
}

/// One report that went to an authority.
public struct Submission: Hashable, Sendable, Codable {
    public let stage: ReportStage
    public let at: Date
    public let by: String
    /// The authority's receipt or case number, when one was given.
    public let reference: String?
}

/// An indicator of compromise, rendered as a STIX 2.1 indicator in reports.
public struct Indicator: Hashable, Sendable, Codable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case ipv4 = "ipv4-addr", ipv6 = "ipv6-addr", domain = "domain-name", url, email = "email-addr", fileSHA256 = "file-sha256"
    }
    public var kind: Kind
    public var value: String
    public var description: String?
    public init(kind: Kind, value: String, description: String? = nil) { self.kind = kind; self.value = value; self.description = description }
}

/// The report items that are not severity facts: the union of NIS2 Art 23(4) items and the
/// Swiss CSV Art 15 items (rule book section 5). Every field is optional: a draft lists what is
/// missing, it never fills a gap.
public struct IncidentNarrative: Hashable, Sendable, Codable {
    public var description: String?
    public var suspectedUnlawfulOrMalicious: Bool?
    public var crossBorderImpact: Bool?
    public var crossBorderDetails: String?
    public var attackTypeAndExecution: String?
    public var rootCauseOrThreatType: String?
    public var effects: String?
    public var impactOnFunctioning: String?
    public var mitigationsApplied: [String]?
    public var mitigationsOngoing: [String]?
    public var plannedNextSteps: String?
    public var attackerInformation: String?
    public var extortionThreatsOrCoercion: Bool?
    public var criminalComplaintFiled: Bool?
    public var recipientsInformed: Bool?
    public var recipientsInformedDetails: String?
    public var reportingOrganisation: String?
    public var reportingOrganisationAddress: String?
    public var onBehalfOf: String?
    public var contactName: String?
    public var contactEmail: String?
    public var contactPhone: String?
    public var affectedServices: [String]?
    public var affectedTenants: [String]?
    public var indicators: [Indicator]?
    /// Ids of sessions and grants in the evidence log that belong to this incident (timeline).
    public var relatedEvidence: [String]?
    public init() {}
}

/// One change to an incident, kept so the history can be shown next to the evidence log.
public struct IncidentRevision: Hashable, Sendable, Codable {
    public let revision: Int
    public let at: Date
    public let by: String
    public let change: String
}

/// An incident of one tenant, as the lifecycle keeps it.
///
/// Guarantees: `detectedAt` and `awareAt` are separate; `awareAt` is set only by a person
/// confirming it (`awareConfirmedBy`); `history` only grows.
public struct Incident: Hashable, Sendable, Codable {
    public let id: String
    public let tenant: TenantID
    public var entity: ReportingEntity
    public var title: String
    public let detectedAt: Date
    public var awareAt: Date?
    public var awareConfirmedBy: String?
    public var stage: IncidentStage
    public var facts: IncidentFacts
    public var narrative = IncidentNarrative()
    public var significant: Bool?
    public var criteria: [String] = []
    public var classifiedAt: Date?
    public var submissions: [Submission] = []
    public var handledAt: Date?
    public var intermediateReportRequestedDue: Date?
    public var swissDiscoveredAt: Date?
    public var gdprAwareAt: Date?
    public var withdrawalReason: String?
    public var history: [IncidentRevision] = []

    public init(id: String, tenant: TenantID, entity: ReportingEntity, title: String, detectedAt: Date, facts: IncidentFacts) {
        self.id = id; self.tenant = tenant; self.entity = entity; self.title = title
        self.detectedAt = detectedAt; self.stage = .detected; self.facts = facts
    }

    public func submitted(_ s: ReportStage) -> Submission? { submissions.last { $0.stage == s } }

    /// The facts with the confirmed awareness time (or the detection time until a person confirms).
    public var effectiveFacts: IncidentFacts {
        var f = facts
        f.awareAt = awareAt ?? detectedAt
        return f
    }

    public var clockAnchors: ClockAnchors? {
        guard let aware = awareAt, case .regulated(let type) = entity else { return nil }
        var a = ClockAnchors(awareAt: aware, entity: type, facts: effectiveFacts)
        a.earlyWarningSubmittedAt = submitted(.earlyWarning)?.at
        a.notificationSubmittedAt = submitted(.notification)?.at
        a.handledAt = handledAt
        a.intermediateReportRequestedDue = intermediateReportRequestedDue
        a.swissDiscoveredAt = swissDiscoveredAt
        a.gdprAwareAt = gdprAwareAt
        return a
    }

    /// Deadlines still open: those of reports not yet submitted, none once closed or withdrawn.
    public func openDeadlines(policy: DeadlinePolicy) -> [Deadline] {
        guard !stage.isTerminal else { return [] }
        var all: [Deadline]
        if let a = clockAnchors {
            all = policy.deadlines(for: a, significant: significant == true)
        } else if let d = swissDiscoveredAt {
            // Outside the IR, or awareness not confirmed yet: only the Swiss clock (from discovery) runs.
            var a = ClockAnchors(awareAt: d, entity: .managedServiceProvider, facts: facts)
            a.swissDiscoveredAt = d
            all = policy.deadlines(for: a, significant: false)
        } else {
            all = []
        }
        let done: [ReportStage: Set<DeadlineKind>] = [
            .earlyWarning: [.earlyWarning], .notification: [.incidentNotification], .intermediate: [.intermediateReport],
            .progress: [.progressReport], .final: [.finalReport, .progressReport, .finalReportAfterHandling],
        ]
        var closedKinds = Set(submissions.flatMap { done[$0.stage] ?? [] })
        let swiss = submissions.filter { $0.stage == .chISG }.count
        if swiss >= 1 { closedKinds.insert(.swissISGReport) }
        if swiss >= 2 { closedKinds.insert(.swissISGCompletion) }
        return all.filter { !closedKinds.contains($0.kind) }
    }
}
