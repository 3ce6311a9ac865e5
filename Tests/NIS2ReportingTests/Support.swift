import EvidenceCore
import Foundation
@testable import NIS2Reporting

/// Paths the tests read: the package root, and the shared rule-book fixtures next to it.
enum Fixture {
    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
    static var severityExamples: URL {
        packageRoot.deletingLastPathComponent().appendingPathComponent("shared/fixtures/severity-examples.json")
    }
}

func instant(_ s: String) -> Date { try! Timestamp.parse(s) }

/// Facts with the two mandatory timestamps filled in.
func facts(_ edit: (inout IncidentFacts) -> Void = { _ in }) -> IncidentFacts {
    var f = IncidentFacts(occurredAt: instant("2026-03-02T08:00:00+01:00"), awareAt: instant("2026-03-02T10:00:00+01:00"))
    edit(&f)
    return f
}

func criteria(_ type: EntityType, _ f: IncidentFacts, policy: SeverityPolicy = .standard) throws -> Set<String> {
    Set(try SeverityEngine(policy: policy).classify(.regulated(type), facts: f).criterionLabels)
}

func dataCompromise(users: Double? = nil, malicious: Bool = false, integrity: Bool = true, confidentiality: Bool = false,
                    related: Bool = true, cause: String? = nil) -> IncidentFacts.DataCompromise {
    var d = IncidentFacts.DataCompromise()
    d.integrity = integrity; d.confidentiality = confidentiality; d.suspectedMalicious = malicious
    d.usersAffected = users; d.relatedToServiceProvision = related; d.cause = cause
    return d
}
