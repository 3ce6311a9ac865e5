import EvidenceCore
import Foundation

/// One condition of a criterion: a strict "more than" on real numbers, or a fact that holds.
/// Criteria are conjunctions of these, so the engine can say which part was close.
struct Condition {
    let met: Bool
    /// Not met, but within the margin below its threshold.
    let closeBelow: Bool
    /// Met, but within the margin above its threshold.
    let closeAbove: Bool
    let text: String

    /// `value > threshold`, strictly, as the IR writes "more than" / "exceeds".
    static func exceeds(_ value: Double, _ threshold: Double, margin: Double, _ describe: (_ op: String) -> String) -> Condition {
        let met = value > threshold
        let m = max(0, margin)
        let below = !met && threshold > 0 && value >= threshold * (1 - m)
        let above = met && threshold > 0 && value <= threshold * (1 + m)
        return Condition(met: met, closeBelow: below, closeAbove: above, text: describe(met ? ">" : "≤"))
    }

    static func holds(_ fact: Bool, _ text: String) -> Condition {
        Condition(met: fact, closeBelow: false, closeAbove: false, text: text)
    }
}

/// The result of testing one criterion.
struct CriterionTest {
    let criterion: Criterion
    let conditions: [Condition]

    var met: Bool { !conditions.isEmpty && conditions.allSatisfy(\.met) }
    var explanation: String { conditions.map(\.text).joined(separator: "; ") }

    /// A close call: not met but every unmet condition is within the margin, or met with one
    /// condition within the margin above its threshold.
    var isClose: Bool {
        if met { return conditions.contains(where: \.closeAbove) }
        return conditions.allSatisfy { $0.met || $0.closeBelow } && conditions.contains(where: \.closeBelow)
    }
}

/// Numbers as the facts gave them: whole numbers without decimals, others with up to 4.
func figure(_ v: Double) -> String {
    if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
    var s = String(format: "%.4f", v)
    while s.hasSuffix("0") { s.removeLast() }
    if s.hasSuffix(".") { s.removeLast() }
    return s
}
