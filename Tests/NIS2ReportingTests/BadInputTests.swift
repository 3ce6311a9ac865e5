import EvidenceCore
import Foundation
import Testing
@testable import NIS2Reporting

/// Bad input is refused with an error naming the case and the field.
@Suite struct BadInputTests {
    func file(_ caseJSON: String) -> [UInt8] {
        Array(#"{"schemaVersion":1,"cases":[\#(caseJSON)]}"#.utf8)
    }

    func error(_ bytes: [UInt8]) -> ReportingError? {
        do { _ = try ClassificationFile.parse(bytes); return nil } catch let e as ReportingError { return e } catch { return nil }
    }

    @Test func unknownEntityTypeNamesTheCaseAndField() {
        let e = error(file(#"{"id":"X-1","entityType":"managedServicesProvider","facts":{"occurredAt":"2026-01-01T00:00:00Z","awareAt":"2026-01-01T01:00:00Z"}}"#))
        #expect(e?.code == .unknownEntityType && e?.caseID == "X-1" && e?.field == "entityType")
        #expect(e?.description.contains("managedServicesProvider") == true)
    }

    @Test func negativeNumberNamesTheCaseAndField() {
        let e = error(file(#"{"id":"X-2","entityType":"managedServiceProvider","facts":{"occurredAt":"2026-01-01T00:00:00Z","awareAt":"2026-01-01T01:00:00Z","completeUnavailabilityMinutes":-5}}"#))
        #expect(e?.code == .invalidFact && e?.caseID == "X-2" && e?.field == "facts.completeUnavailabilityMinutes")
    }

    @Test func nullNumberNamesTheCaseAndField() {
        let e = error(file(#"{"id":"X-3","entityType":"managedServiceProvider","facts":{"occurredAt":"2026-01-01T00:00:00Z","awareAt":"2026-01-01T01:00:00Z","dataCompromise":{"integrity":true,"usersAffected":null}}}"#))
        #expect(e?.caseID == "X-3" && e?.field == "facts.dataCompromise.usersAffected")
    }

    @Test func missingUserCountNeededForAThresholdIsRefused() throws {
        let c = try ClassificationFile.parse(file(#"{"id":"X-4","entityType":"managedServiceProvider","facts":{"occurredAt":"2026-01-01T00:00:00Z","awareAt":"2026-01-01T01:00:00Z","limitedAvailabilityMinutes":70,"limitedAvailabilityUsersAffected":201}}"#))[0]
        #expect { try SeverityEngine().classify(c.entity, facts: c.facts, caseID: c.id) } throws: { e in
            (e as? ReportingError).map { $0.code == .missingFact && $0.caseID == "X-4" && $0.field == "facts.totalUsersInUnion" } ?? false
        }
    }

    @Test func missingTurnoverForASmallLossIsRefused() throws {
        let c = try ClassificationFile.parse(file(#"{"id":"X-5","entityType":"cloudComputingServiceProvider","facts":{"occurredAt":"2026-01-01T00:00:00Z","awareAt":"2026-01-01T01:00:00Z","directFinancialLossEUR":200000}}"#))[0]
        #expect { try SeverityEngine().classify(c.entity, facts: c.facts, caseID: c.id) } throws: { e in
            (e as? ReportingError).map { $0.caseID == "X-5" && $0.field == "facts.annualTurnoverPreviousFinancialYearEUR" } ?? false
        }
    }

    @Test func missingAwareAtNamesTheCaseAndField() {
        let e = error(file(#"{"id":"X-6","entityType":"managedServiceProvider","facts":{"occurredAt":"2026-01-01T00:00:00Z"}}"#))
        #expect(e?.code == .missingFact && e?.caseID == "X-6" && e?.field == "facts.awareAt")
    }

    @Test func timestampWithoutOffsetNamesTheCaseAndField() {
        let e = error(file(#"{"id":"X-7","entityType":"managedServiceProvider","facts":{"occurredAt":"2026-01-01T00:00:00","awareAt":"2026-01-01T01:00:00Z"}}"#))
        #expect(e?.code == .invalidFact && e?.caseID == "X-7" && e?.field == "facts.occurredAt")
        #expect(e?.description.contains("offset") == true)
    }

    @Test func misspeltFactIsRefusedRatherThanIgnored() {
        let e = error(file(#"{"id":"X-8","entityType":"managedServiceProvider","facts":{"occurredAt":"2026-01-01T00:00:00Z","awareAt":"2026-01-01T01:00:00Z","completeUnavailabilityMinute":45}}"#))
        #expect(e?.caseID == "X-8" && e?.field == "facts.completeUnavailabilityMinute")
    }

    @Test func fileInAnotherFormatIsRefusedAsWrongFormat() {
        #expect(error(Array(#"[{"id":"P-001"}]"#.utf8))?.code == .wrongFormat)
        #expect(error(Array(#"{"incidents":[]}"#.utf8))?.field == "schemaVersion")
        #expect(error(Array("id,entityType\nP-1,managedServiceProvider\n".utf8))?.code == .wrongFormat)
    }

    @Test func duplicateCaseIdsAreRefused() {
        let one = #"{"id":"D","entityType":"managedServiceProvider","facts":{"occurredAt":"2026-01-01T00:00:00Z","awareAt":"2026-01-01T01:00:00Z"}}"#
        #expect(error(file(one + "," + one))?.caseID == "D")
    }
}
