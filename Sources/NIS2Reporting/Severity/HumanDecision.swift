import EvidenceCore
import Foundation

/// The open significance test of NIS2 Art 23(3), for entities IR 2024/2690 does not cover.
/// It cannot be decided mechanically, so the engine asks a person these questions.
///
/// Guarantees: the questions quote Art 23(3)(a) and (b) and never presume an answer; facts the
/// operator already entered are echoed so the person sees them next to the question.
public enum HumanDecision {
    public static func questions(for sector: OutsideIRSector, facts: IncidentFacts) -> [String] {
        var q = [
            "Art 23(3)(a): has the incident caused, or is it capable of causing, severe operational disruption of the services the entity provides?",
            "Art 23(3)(a): has it caused, or is it capable of causing, financial loss for the entity?"
                + (facts.directFinancialLossEUR.map { " (entered: direct loss EUR \(figure($0)))" } ?? ""),
            "Art 23(3)(b): has it affected, or is it capable of affecting, other natural or legal persons by causing considerable material or non-material damage?"
                + (facts.deathCausedOrPossible || facts.considerableHealthDamageCausedOrPossible ? " (entered: death or considerable health damage caused or possible)" : ""),
            "Do national thresholds or sector rules of the Member State(s) concerned apply to the \(sector.rawValue) sector (NIS2 Art 5 minimum harmonisation)?",
            "If significant: confirm awareAt, the moment the initial assessment gave reasonable certainty that a significant incident occurred; the 24 h / 72 h clocks run from it.",
        ]
        if facts.unauthorisedAccess?.successful == true {
            q.append("A successful unauthorised access is recorded: is it suspected malicious and could it disrupt services severely (compare IR 2024/2690 recital 39)?")
        }
        return q
    }
}
