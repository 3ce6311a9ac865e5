import EvidenceCore
import Foundation

/// Decides whether an incident is significant under IR 2024/2690 (Arts 3-14) and computes the
/// NIS2 Art 23(4) deadlines when it is.
///
/// Guarantees: every criterion met is returned (general Art 3(1)(a)-(e) and entity-specific
/// Arts 5-14 together; Art 4 only when nothing else is met, as Art 4 combines incidents that
/// are individually not significant); availability criteria are disregarded for scheduled
/// maintenance (Art 3(2)); thresholds are strict and computed on real numbers.
/// Refuses to decide, with an error naming the case and field, when a number the rules need is
/// missing (the Union user count for a user threshold, the turnover for a loss of at most
/// EUR 500,000, the domain counts for the Art 5(c) exception): it never guesses a fact.
/// For entities outside IR 2024/2690 it returns `.needsHumanDecision` with the Art 23(3) questions.
public struct SeverityEngine: Sendable {
    public var policy: SeverityPolicy
    public var deadlinePolicy: DeadlinePolicy

    public init(policy: SeverityPolicy = .standard, deadlinePolicy: DeadlinePolicy = .standard) {
        self.policy = policy; self.deadlinePolicy = deadlinePolicy
    }

    public func classify(_ entity: ReportingEntity, facts: IncidentFacts, caseID: String? = nil) throws -> Classification {
        let ctx = EvaluationContext(facts: facts, policy: policy, caseID: caseID)
        switch entity {
        case .outsideIR(let sector):
            return Classification(caseID: caseID, entity: entity, verdict: .needsHumanDecision(questions: HumanDecision.questions(for: sector, facts: facts)),
                                  criteria: [], closeCalls: [], notes: ["Deadlines, if a person decides the incident is significant, run from awareAt as for any NIS2 entity."],
                                  deadlines: nil)
        case .regulated(let type):
            var tests = try general(ctx)
            var entityTests = try EntityCriteria(ctx: ctx).tests(for: type)
            if facts.scheduledMaintenance {
                let dropped = entityTests.filter { $0.criterion.isAvailability && $0.met }.map(\.criterion.label)
                entityTests.removeAll { $0.criterion.isAvailability }
                ctx.note("Art 3(2): the availability impact is a scheduled interruption or planned consequence of scheduled maintenance, so availability criteria are disregarded"
                         + (dropped.isEmpty ? "." : " (would otherwise meet \(dropped.joined(separator: ", "))). An unplanned overrun beyond the planned window is not covered: record it as a separate incident."))
            }
            tests += entityTests
            var met = tests.filter(\.met)
            var close = tests.filter(\.isClose)
            if met.isEmpty, let recurring = try recurring(ctx) {
                if recurring.met { met.append(recurring) }
                if recurring.isClose { close.append(recurring) }
            }
            let criteria = met.map { CriterionMet(criterion: $0.criterion, explanation: $0.explanation) }.sorted { $0.criterion < $1.criterion }
            let closeCalls = close.map { CloseCall(criterion: $0.criterion, met: $0.met, explanation: $0.explanation) }.sorted { $0.criterion < $1.criterion }
            let significant = !criteria.isEmpty
            let deadlines = significant ? deadlinePolicy.statutoryDeadlines(awareAt: facts.awareAt, entity: type, facts: facts) : nil
            var result = Classification(caseID: caseID, entity: entity, verdict: significant ? .significant : .notSignificant,
                                        criteria: criteria, closeCalls: closeCalls, notes: ctx.notes, deadlines: deadlines)
            result.closeCallMargin = max(0, policy.closeCallMargin)
            return result
        }
    }

    /// Art 3(1)(a)-(e).
    private func general(_ ctx: EvaluationContext) throws -> [CriterionTest] {
        let f = ctx.facts
        var out: [CriterionTest] = []
        if let loss = f.directFinancialLossEUR, loss > 0 {
            let t = try ctx.lossThreshold(for: loss, field: "directFinancialLossEUR")
            out.append(CriterionTest(criterion: .general("a"), conditions: [
                .exceeds(loss, t.value, margin: policy.closeCallMargin) { "direct financial loss EUR \(figure(loss)) \($0) EUR \(figure(t.value)) (\(t.formula))" }]))
        }
        if f.tradeSecretsExfiltrated {
            out.append(CriterionTest(criterion: .general("b"), conditions: [.holds(true, "exfiltration of trade secrets (Dir. (EU) 2016/943 Art 2(1)) caused or possible")]))
        }
        if f.deathCausedOrPossible {
            out.append(CriterionTest(criterion: .general("c"), conditions: [.holds(true, "death of a natural person caused or possible")]))
        }
        if f.considerableHealthDamageCausedOrPossible {
            out.append(CriterionTest(criterion: .general("d"), conditions: [.holds(true, "considerable damage to a natural person's health caused or possible")]))
        }
        if let a = f.unauthorisedAccess, a.successful || a.suspectedMalicious || a.capableOfSevereOperationalDisruption {
            out.append(CriterionTest(criterion: .general("e"), conditions: [
                .holds(a.successful, a.successful ? "successful unauthorised access" : "unauthorised access not successful"),
                .holds(a.suspectedMalicious, a.suspectedMalicious ? "suspectedly malicious" : "not suspected malicious"),
                .holds(a.capableOfSevereOperationalDisruption, a.capableOfSevereOperationalDisruption ? "capable of causing severe operational disruption" : "not capable of severe operational disruption"),
            ]))
        }
        return out
    }

    /// Art 4: individually non-significant incidents with the same apparent root cause, at least
    /// two within the window (the current one included), whose losses together exceed the
    /// Art 3(1)(a) threshold. Nil when there is nothing to combine.
    private func recurring(_ ctx: EvaluationContext) throws -> CriterionTest? {
        let f = ctx.facts
        guard !f.previousIncidents.isEmpty else { return nil }
        guard let cause = f.rootCause, !cause.isEmpty else {
            ctx.note("Art 4 not assessed: earlier incidents are listed but rootCause of this incident is not given.")
            return nil
        }
        let windowStart = CalendarMonth.adding(-max(0, policy.recurringWindowMonths), to: f.occurredAt)
        var members: [IncidentFacts.PreviousIncident] = []
        var unlisted = false
        for p in f.previousIncidents where !p.individuallySignificant && p.occurredAt > windowStart && p.occurredAt <= f.occurredAt {
            guard let pc = p.rootCause else { continue }
            switch policy.rootCauses.match(cause, pc) {
            case .listed: members.append(p)
            case .unlisted: members.append(p); unlisted = true
            case .different: continue
            }
        }
        guard !members.isEmpty else { return nil }
        if unlisted {
            ctx.note("Art 4: root cause '\(cause)' is not in the controlled vocabulary; the match with \(members.map(\.id).joined(separator: ", ")) is by identical code and should be confirmed by a person.")
        }
        let own = f.directFinancialLossEUR ?? 0
        let sum = members.reduce(own) { $0 + $1.directFinancialLossEUR }
        guard sum > 0 else { return nil }
        let t = try ctx.lossThreshold(for: sum, field: "annualTurnoverPreviousFinancialYearEUR")
        let parts = (["this incident EUR \(figure(own))"] + members.map { "\($0.id) EUR \(figure($0.directFinancialLossEUR))" }).joined(separator: " + ")
        return CriterionTest(criterion: .recurring, conditions: [
            .holds(members.count + 1 >= 2, "\(members.count + 1) individually non-significant incidents with root cause '\(cause)' within \(policy.recurringWindowMonths) months"),
            .exceeds(sum, t.value, margin: policy.closeCallMargin) { "combined direct loss EUR \(figure(sum)) (\(parts)) \($0) EUR \(figure(t.value)) (\(t.formula))" },
        ])
    }
}

/// A threshold value with the formula that produced it, for explanations.
struct UserThreshold {
    let value: Double
    let formula: String
}

/// Per-classification state: the facts, the policy, and the notes collected on the way.
final class EvaluationContext {
    let facts: IncidentFacts
    let policy: SeverityPolicy
    let caseID: String?
    private(set) var notes: [String] = []

    init(facts: IncidentFacts, policy: SeverityPolicy, caseID: String?) {
        self.facts = facts; self.policy = policy; self.caseID = caseID
    }

    func note(_ s: String) { notes.append(s) }

    func missing(_ field: String, _ why: String) -> ReportingError {
        ReportingError(.missingFact, caseID: caseID, field: "facts.\(field)", "is missing: \(why). Enter it (a credible maximum estimate if the exact figure is unknown) and classify again.")
    }

    /// min(fraction x Union users, cap), the "whichever is smaller" rule on real numbers.
    func userThreshold(fraction: Double, cap: Double, neededFor: String, label: String) throws -> UserThreshold {
        guard let u = facts.totalUsersInUnion else {
            throw missing("totalUsersInUnion", "\(neededFor) is compared with min(\(label) of the Union users, \(figure(cap))), counted as in Art 3(3)")
        }
        let v = min(fraction * u, cap)
        return UserThreshold(value: v, formula: "min(\(label) × \(figure(u)) Union users, \(figure(cap)))")
    }

    /// Art 3(1)(a): min(EUR 500,000; 5 % of the preceding year's turnover).
    func lossThreshold(for loss: Double, field: String) throws -> UserThreshold {
        if let t = facts.annualTurnoverPreviousFinancialYearEUR {
            return UserThreshold(value: min(500_000, 0.05 * t), formula: "min(EUR 500000, 5 % × turnover EUR \(figure(t)))")
        }
        guard loss > 500_000 else {
            throw missing("annualTurnoverPreviousFinancialYearEUR", "a direct loss of EUR \(figure(loss)) (at most EUR 500,000) is significant only above 5 % of the preceding year's turnover")
        }
        return UserThreshold(value: 500_000, formula: "EUR 500000 cap; turnover not given")
    }
}
