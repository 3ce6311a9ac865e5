import EvidenceCore
import Foundation

/// The reporting clocks this library tracks.
public enum DeadlineKind: String, Sendable, CaseIterable, Codable, Comparable {
    /// NIS2 Art 23(4)(a): 24 h after awareness.
    case earlyWarning
    /// NIS2 Art 23(4)(b): 72 h after awareness; 24 h for trust service providers when trust services are affected.
    case incidentNotification
    /// NIS2 Art 23(4)(c): only on request; due when the authority says.
    case intermediateReport
    /// NIS2 Art 23(4)(d): one calendar month after the notification was actually submitted.
    case finalReport
    /// NIS2 Art 23(4)(e): due instead of the final report when the incident is still ongoing then.
    case progressReport
    /// NIS2 Art 23(4)(e): one month after the incident has been handled.
    case finalReportAfterHandling
    /// Swiss ISG Art 74e / CSV Art 16: 24 h after discovery.
    case swissISGReport
    /// Swiss ISG: completion of missing information within 14 days of discovery.
    case swissISGCompletion
    /// GDPR Art 33: 72 h after becoming aware of a personal data breach (optional clock).
    case gdprBreachNotification

    public static func < (a: Self, b: Self) -> Bool { allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)! }
}

/// One deadline: what is due, when, and on what basis.
public struct Deadline: Hashable, Sendable {
    public let kind: DeadlineKind
    public let due: Date
    /// The legal basis and the anchor, in one line ("24 h after awareAt 2026-01-30T09:00:00Z").
    public let basis: String
    public init(kind: DeadlineKind, due: Date, basis: String) { self.kind = kind; self.due = due; self.basis = basis }
}

/// The three NIS2 deadlines known at classification time, before anything is submitted.
public struct StatutoryDeadlines: Hashable, Sendable {
    public let earlyWarning: Date
    public let incidentNotification: Date
    /// One calendar month after the notification deadline: the latest final-report date if the
    /// notification goes in exactly at its deadline. The real clock runs from the submission.
    public let finalReportIfNotificationSubmittedAtDeadline: Date
}

/// Deadline lengths. Hours are elapsed time (a UTC instant plus seconds), so a daylight-saving
/// change never shortens or lengthens a period.
///
/// Guarantees: the defaults are those of NIS2 Art 23(4), the Swiss ISG and GDPR Art 33; month
/// periods use `CalendarMonth` (UTC date, clamped to month end) [I]. Refuses nothing.
public struct DeadlinePolicy: Sendable {
    public var earlyWarningHours: Double = 24
    public var notificationHours: Double = 72
    public var trustServiceNotificationHours: Double = 24
    public var finalReportMonths: Int = 1
    public var swissReportHours: Double = 24
    /// 14 days read as 14 x 24 h elapsed from discovery [I].
    public var swissCompletionHours: Double = 14 * 24
    public var gdprHours: Double = 72

    public init() {}
    public static let standard = DeadlinePolicy()

    public func notificationHours(entity: EntityType, facts: IncidentFacts) -> Double {
        entity == .trustServiceProvider && facts.affectsTrustServiceProvision ? trustServiceNotificationHours : notificationHours
    }

    public func statutoryDeadlines(awareAt: Date, entity: EntityType, facts: IncidentFacts) -> StatutoryDeadlines {
        let notification = awareAt + notificationHours(entity: entity, facts: facts) * 3600
        return StatutoryDeadlines(earlyWarning: awareAt + earlyWarningHours * 3600, incidentNotification: notification,
                                  finalReportIfNotificationSubmittedAtDeadline: CalendarMonth.adding(finalReportMonths, to: notification))
    }
}

/// What the deadline clocks of one incident are anchored to.
public struct ClockAnchors: Hashable, Sendable {
    public var awareAt: Date
    public var entity: EntityType
    public var facts: IncidentFacts
    public var earlyWarningSubmittedAt: Date?
    public var notificationSubmittedAt: Date?
    /// When the incident was handled (resolved); nil while it is ongoing.
    public var handledAt: Date?
    /// Due date of an intermediate report the authority asked for.
    public var intermediateReportRequestedDue: Date?
    /// Swiss ISG clock: the moment of discovery ("Entdeckung"), when the Swiss duty applies.
    public var swissDiscoveredAt: Date?
    /// GDPR Art 33 clock: awareness of a personal data breach, when one is involved.
    public var gdprAwareAt: Date?

    public init(awareAt: Date, entity: EntityType, facts: IncidentFacts) {
        self.awareAt = awareAt; self.entity = entity; self.facts = facts
    }
}

extension DeadlinePolicy {
    /// Every deadline of an incident, sorted by due time. Only significant incidents have NIS2
    /// clocks; the Swiss and GDPR clocks are separate and run whenever their anchor is set.
    public func deadlines(for a: ClockAnchors, significant: Bool) -> [Deadline] {
        var out: [Deadline] = []
        func h(_ x: Double) -> String { figure(x) + " h" }
        if significant {
            let st = statutoryDeadlines(awareAt: a.awareAt, entity: a.entity, facts: a.facts)
            let aware = Timestamp.format(a.awareAt)
            out.append(Deadline(kind: .earlyWarning, due: st.earlyWarning, basis: "NIS2 Art 23(4)(a): \(h(earlyWarningHours)) after awareAt \(aware)"))
            let nh = notificationHours(entity: a.entity, facts: a.facts)
            out.append(Deadline(kind: .incidentNotification, due: st.incidentNotification,
                                basis: "NIS2 Art 23(4)\(nh == trustServiceNotificationHours && a.entity == .trustServiceProvider && a.facts.affectsTrustServiceProvision ? " second subparagraph (trust services affected)" : "(b)"): \(h(nh)) after awareAt \(aware)"))
            if let due = a.intermediateReportRequestedDue {
                out.append(Deadline(kind: .intermediateReport, due: due, basis: "NIS2 Art 23(4)(c): on request of the CSIRT or competent authority"))
            }
            if let sub = a.notificationSubmittedAt {
                let finalDue = CalendarMonth.adding(finalReportMonths, to: sub)
                let subText = "\(finalReportMonths) calendar month after the notification was submitted \(Timestamp.format(sub))"
                if let handled = a.handledAt, handled > finalDue {
                    out.append(Deadline(kind: .progressReport, due: finalDue, basis: "NIS2 Art 23(4)(e): incident still ongoing \(subText)"))
                    out.append(Deadline(kind: .finalReportAfterHandling, due: CalendarMonth.adding(finalReportMonths, to: handled),
                                        basis: "NIS2 Art 23(4)(e): \(finalReportMonths) calendar month after handling \(Timestamp.format(handled))"))
                } else {
                    out.append(Deadline(kind: .finalReport, due: finalDue,
                                        basis: "NIS2 Art 23(4)(d): \(subText)" + (a.handledAt == nil ? "; a progress report instead if the incident is still ongoing then (Art 23(4)(e))" : "")))
                }
            } else {
                out.append(Deadline(kind: .finalReport, due: st.finalReportIfNotificationSubmittedAtDeadline,
                                    basis: "NIS2 Art 23(4)(d): latest date if the notification is submitted at its deadline; moves with the real submission"))
            }
        }
        if let d = a.swissDiscoveredAt {
            out.append(Deadline(kind: .swissISGReport, due: d + swissReportHours * 3600, basis: "ISG Art 74e / CSV Art 16: \(h(swissReportHours)) after discovery \(Timestamp.format(d))"))
            out.append(Deadline(kind: .swissISGCompletion, due: d + swissCompletionHours * 3600, basis: "ISG Art 74e: completion of missing information within \(figure(swissCompletionHours / 24)) days of discovery"))
        }
        if let g = a.gdprAwareAt {
            out.append(Deadline(kind: .gdprBreachNotification, due: g + gdprHours * 3600, basis: "GDPR Art 33(1): \(h(gdprHours)) after becoming aware of the personal data breach"))
        }
        return out.sorted { ($0.due, $0.kind) < ($1.due, $1.kind) }
    }
}
