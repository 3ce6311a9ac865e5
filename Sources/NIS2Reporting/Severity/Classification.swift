import EvidenceCore
import Foundation

/// A criterion of IR 2024/2690, labelled exactly as the rule book writes it:
/// `IR2024/2690 Art 3(1)(a)`, `IR2024/2690 Art 10(b)`, `IR2024/2690 Art 4`.
///
/// Guarantees: labels are built only from the three shapes above, so two criteria compare equal
/// exactly when their labels do.
public struct Criterion: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let label: String
    /// Whether the criterion concerns availability, and so is disregarded under Art 3(2).
    public let isAvailability: Bool

    private init(_ label: String, availability: Bool) { self.label = label; self.isAvailability = availability }

    /// A general criterion of Art 3(1), `point` in a...e.
    public static func general(_ point: Character) -> Criterion { Criterion("IR2024/2690 Art 3(1)(\(point))", availability: false) }
    /// An entity-specific criterion of Arts 5-14 (it implies Art 3(1)(g)).
    public static func specific(_ article: Int, _ point: Character, availability: Bool) -> Criterion {
        Criterion("IR2024/2690 Art \(article)(\(point))", availability: availability)
    }
    /// The recurring-incident criterion (it implies Art 3(1)(f)).
    public static let recurring = Criterion("IR2024/2690 Art 4", availability: false)

    public var description: String { label }
    public static func == (a: Criterion, b: Criterion) -> Bool { a.label == b.label }
    public func hash(into h: inout Hasher) { h.combine(label) }
    public static func < (a: Criterion, b: Criterion) -> Bool { a.label.compare(b.label, options: .numeric) == .orderedAscending }
}

/// A criterion that is met, with one line quoting the facts that met it.
public struct CriterionMet: Hashable, Sendable {
    public let criterion: Criterion
    public let explanation: String
}

/// A criterion whose numbers lie within the configured margin (10 % by default) of its
/// threshold, met or not, so an operator knows which figures to double-check.
public struct CloseCall: Hashable, Sendable {
    public let criterion: Criterion
    public let met: Bool
    public let explanation: String
}

/// The outcome of classifying one incident.
public enum Verdict: Hashable, Sendable {
    case significant
    case notSignificant
    /// The entity is outside IR 2024/2690; a person must answer the NIS2 Art 23(3) questions.
    case needsHumanDecision(questions: [String])
}

/// What the severity engine decided for one incident, and why.
///
/// Guarantees: `criteria` lists every criterion met (not only the first), sorted by label;
/// `deadlines` is set exactly when the verdict is `.significant`; `notes` carries every
/// assumption the engine made (for example a disregarded availability impact under Art 3(2)).
public struct Classification: Hashable, Sendable {
    public let caseID: String?
    public let entity: ReportingEntity
    public let verdict: Verdict
    public let criteria: [CriterionMet]
    public let closeCalls: [CloseCall]
    public let notes: [String]
    public let deadlines: StatutoryDeadlines?
    /// The margin used for close calls (from the policy), quoted in explanations.
    public var closeCallMargin: Double = 0.10

    public var isSignificant: Bool { verdict == .significant }
    public var criterionLabels: [String] { criteria.map(\.criterion.label) }

    /// One line per criterion met, then one per close call, then the notes; a single "not
    /// significant" line when nothing was met.
    public var explanationLines: [String] {
        var lines: [String] = criteria.map { "\($0.criterion.label): \($0.explanation)" }
        if case .needsHumanDecision(let qs) = verdict {
            lines.append("Needs a human decision: \(entity.rawValue) is outside IR 2024/2690; answer the NIS2 Art 23(3) questions.")
            lines += qs
        } else if criteria.isEmpty {
            lines.append("Not significant: no criterion of IR 2024/2690 Art 3(1)(a)-(e), Arts 5-14 or Art 4 is met by the facts.")
        }
        lines += closeCalls.map {
            $0.met ? "Check \($0.criterion.label): met by a narrow margin (within \(figure(closeCallMargin * 100)) % of its threshold); verify the figures quoted above."
                   : "Close to \($0.criterion.label) (not met, within \(figure(closeCallMargin * 100)) % of its threshold; check the figures): \($0.explanation)"
        }
        lines += notes.map { "Note: \($0)" }
        return lines
    }
}
