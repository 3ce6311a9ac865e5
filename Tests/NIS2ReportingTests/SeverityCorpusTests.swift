import EvidenceCore
import Foundation
import Testing
@testable import NIS2Reporting

/// The public examples of the rule book, decided from their facts and compared with `expected`.
@Suite struct SeverityCorpusTests {
    static func loadCases() throws -> [ClassificationCase] {
        try ClassificationFile.parse(try Data(contentsOf: Fixture.severityExamples))
    }

    @Test func publicExamplesFileHoldsTwentyFiveCases() throws {
        #expect(try Self.loadCases().count == 25)
    }

    @Test func everyPublicExampleMatchesSignificanceCriteriaAndDeadlines() throws {
        let engine = SeverityEngine()
        var passed = 0
        let cases = try Self.loadCases()
        for c in cases {
            let result = try engine.classify(c.entity, facts: c.facts, caseID: c.id)
            let exp = try #require(c.expected, "case \(c.id) has no expected block")
            let significant = exp["significant"]?.boolValue
            let expCriteria = Set((exp["criteria"]?.arrayValue ?? []).compactMap(\.stringValue))
            var ok = result.isSignificant == significant && Set(result.criterionLabels) == expCriteria
            #expect(result.isSignificant == significant, "case \(c.id): significance")
            #expect(Set(result.criterionLabels) == expCriteria, "case \(c.id): criteria")
            if let d = exp["deadlines"], d != .null {
                let ew = try Timestamp.parse(try #require(d["earlyWarning"]?.stringValue))
                let nt = try Timestamp.parse(try #require(d["incidentNotification"]?.stringValue))
                let fr = try Timestamp.parse(try #require(d["finalReport"]?["latestIfNotificationSubmittedAtDeadline"]?.stringValue))
                let got = try #require(result.deadlines, "case \(c.id): deadlines missing")
                #expect(got.earlyWarning == ew, "case \(c.id): early warning")
                #expect(got.incidentNotification == nt, "case \(c.id): notification")
                #expect(got.finalReportIfNotificationSubmittedAtDeadline == fr, "case \(c.id): final report")
                ok = ok && got.earlyWarning == ew && got.incidentNotification == nt && got.finalReportIfNotificationSubmittedAtDeadline == fr
            } else {
                #expect(result.deadlines == nil, "case \(c.id): deadlines must be null when not significant")
                ok = ok && result.deadlines == nil
            }
            if ok { passed += 1 }
        }
        #expect(passed == cases.count, "\(passed)/\(cases.count) public examples")
    }

    @Test func everyCriterionMetHasAnExplanationQuotingItsLabel() throws {
        for c in try Self.loadCases() {
            let r = try SeverityEngine().classify(c.entity, facts: c.facts, caseID: c.id)
            for m in r.criteria { #expect(r.explanationLines.contains { $0.hasPrefix(m.criterion.label + ": ") && $0.count > m.criterion.label.count + 10 }) }
        }
    }
}
