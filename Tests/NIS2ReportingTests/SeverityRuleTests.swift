import EvidenceCore
import Foundation
import Testing
@testable import NIS2Reporting

/// Rules of IR 2024/2690 that are not a single number.
@Suite struct SeverityRuleTests {
    @Test func tldCompleteUnavailabilityOfOneMinuteIsSignificant() throws {
        #expect(try criteria(.tldNameRegistry, facts { $0.completeUnavailabilityMinutes = 1 }) == ["IR2024/2690 Art 6(a)"])
    }

    @Test func dataCentreCompleteUnavailabilityOfOneMinuteIsSignificant() throws {
        #expect(try criteria(.dataCentreServiceProvider, facts { $0.completeUnavailabilityMinutes = 1 }) == ["IR2024/2690 Art 8(a)"])
    }

    @Test func dataCentreNonMaliciousDataCorruptionIsNotSignificant() throws {
        #expect(try criteria(.dataCentreServiceProvider, facts { $0.dataCompromise = dataCompromise(users: 1_000_000, cause: "softwareDefect") }).isEmpty)
    }

    @Test func dataCentrePhysicalAccessCompromiseIsSignificant() throws {
        #expect(try criteria(.dataCentreServiceProvider, facts { $0.physicalAccessCompromised = true }) == ["IR2024/2690 Art 8(d)"])
    }

    @Test func trustServicePhysicalAccessCompromiseIsSignificant() throws {
        #expect(try criteria(.trustServiceProvider, facts { $0.physicalAccessCompromised = true }) == ["IR2024/2690 Art 14(d)"])
    }

    @Test func trustServiceHasNoMaliciousDataCriterion() throws {
        let f = facts { $0.totalUsersInUnion = 1_000_000; $0.dataCompromise = dataCompromise(users: 10, malicious: true, confidentiality: true) }
        #expect(try criteria(.trustServiceProvider, f).isEmpty)
    }

    @Test func trustServiceNotificationIsDueAfter24HoursWhenTrustServicesAreAffected() throws {
        let f = facts { $0.completeUnavailabilityMinutes = 25; $0.affectsTrustServiceProvision = true }
        let d = try #require(try SeverityEngine().classify(.regulated(.trustServiceProvider), facts: f).deadlines)
        #expect(d.incidentNotification == f.awareAt + 24 * 3600)
    }

    @Test func trustServiceNotificationIsDueAfter72HoursWhenTrustServicesAreNotAffected() throws {
        let f = facts { $0.completeUnavailabilityMinutes = 25 }
        let d = try #require(try SeverityEngine().classify(.regulated(.trustServiceProvider), facts: f).deadlines)
        #expect(d.incidentNotification == f.awareAt + 72 * 3600)
    }

    @Test func trustServiceFourOutagesOf18MinutesInAWeekAreSignificant() throws {
        #expect(try criteria(.trustServiceProvider, facts { $0.completeUnavailabilityMinutes = 18; $0.unavailabilityMinutesInCalendarWeek = 72 }) == ["IR2024/2690 Art 14(b)"])
    }

    @Test func recursiveResolverCachePoisoningIsOutsideArticle5c() throws {
        var d = dataCompromise(malicious: true, cause: "maliciousAction"); d.relatedService = "recursiveResolution"
        #expect(try criteria(.dnsServiceProvider, facts { $0.dataCompromise = d }).isEmpty)
    }

    @Test func maliciouslyHijackedDomainsAreSignificantForDns() throws {
        var d = dataCompromise(malicious: true, cause: "maliciousAction"); d.relatedService = "authoritativeResolution"
        d.domainNamesAffected = 10; d.domainNamesManaged = 100_000
        #expect(try criteria(.dnsServiceProvider, facts { $0.dataCompromise = d }) == ["IR2024/2690 Art 5(c)"])
    }

    @Test func oneMisconfiguredDomainOfFiftyIsSignificantForDns() throws {
        var d = dataCompromise(cause: "misconfiguration"); d.relatedService = "authoritativeResolution"
        d.domainNamesAffected = 1; d.domainNamesManaged = 50
        #expect(try criteria(.dnsServiceProvider, facts { $0.dataCompromise = d }) == ["IR2024/2690 Art 5(c)"])
    }

    @Test func dataUnrelatedToTheServiceDoesNotCountForDataCriteria() throws {
        #expect(try criteria(.managedServiceProvider, facts { $0.totalUsersInUnion = 100; $0.dataCompromise = dataCompromise(users: 50, malicious: true, related: false) }).isEmpty)
    }

    @Test func maliciousAccessNeedsAllFourConditions() throws {
        #expect(try criteria(.managedServiceProvider, facts { $0.unauthorisedAccess = .init(successful: true, suspectedMalicious: true, capableOfSevereOperationalDisruption: false) }).isEmpty)
        #expect(try criteria(.managedServiceProvider, facts { $0.unauthorisedAccess = .init(successful: true, suspectedMalicious: true, capableOfSevereOperationalDisruption: true) }) == ["IR2024/2690 Art 3(1)(e)"])
    }

    @Test func tradeSecretsDeathAndHealthAreGeneralCriteria() throws {
        let f = facts { $0.tradeSecretsExfiltrated = true; $0.deathCausedOrPossible = true; $0.considerableHealthDamageCausedOrPossible = true }
        #expect(try criteria(.onlineMarketplaceProvider, f) == ["IR2024/2690 Art 3(1)(b)", "IR2024/2690 Art 3(1)(c)", "IR2024/2690 Art 3(1)(d)"])
    }

    @Test func everyCriterionMetIsReportedNotOnlyTheFirst() throws {
        let f = facts { $0.totalUsersInUnion = 1000; $0.completeUnavailabilityMinutes = 45; $0.limitedAvailabilityUsersAffected = 60
            $0.limitedAvailabilityMinutes = 90; $0.dataCompromise = dataCompromise(users: 51, malicious: true); $0.tradeSecretsExfiltrated = true }
        #expect(try criteria(.cloudComputingServiceProvider, f) == ["IR2024/2690 Art 3(1)(b)", "IR2024/2690 Art 7(a)", "IR2024/2690 Art 7(b)", "IR2024/2690 Art 7(c)", "IR2024/2690 Art 7(d)"])
    }

    @Test func scheduledMaintenanceDisregardsAvailabilityButNotDataCriteria() throws {
        let f = facts { $0.scheduledMaintenance = true; $0.completeUnavailabilityMinutes = 120; $0.dataCompromise = dataCompromise(malicious: true) }
        #expect(try criteria(.managedServiceProvider, f) == ["IR2024/2690 Art 10(c)"])
    }

    @Test func recurringIncidentIsNotAssessedWhenTheIncidentIsSignificantAlone() throws {
        let f = facts { $0.completeUnavailabilityMinutes = 45; $0.directFinancialLossEUR = 300_000; $0.annualTurnoverPreviousFinancialYearEUR = 20_000_000
            $0.rootCause = "operator-error"
            $0.previousIncidents = [.init(id: "A", occurredAt: $0.occurredAt - 86_400, rootCause: "operator-error", directFinancialLossEUR: 300_000, individuallySignificant: false)] }
        #expect(try criteria(.managedServiceProvider, f) == ["IR2024/2690 Art 10(a)"])
    }

    @Test func recurringIncidentIgnoresEarlierIncidentsOutsideSixMonths() throws {
        let f = facts { $0.directFinancialLossEUR = 300_000; $0.annualTurnoverPreviousFinancialYearEUR = 20_000_000; $0.rootCause = "operator-error"
            $0.previousIncidents = [.init(id: "A", occurredAt: CalendarMonth.adding(-6, to: $0.occurredAt) - 3600, rootCause: "operator-error", directFinancialLossEUR: 300_000, individuallySignificant: false)] }
        #expect(try criteria(.managedServiceProvider, f).isEmpty)
    }

    @Test func recurringIncidentCountsEarlierIncidentsJustInsideSixMonths() throws {
        let f = facts { $0.directFinancialLossEUR = 300_000; $0.annualTurnoverPreviousFinancialYearEUR = 20_000_000; $0.rootCause = "operator-error"
            $0.previousIncidents = [.init(id: "A", occurredAt: CalendarMonth.adding(-6, to: $0.occurredAt) + 3600, rootCause: "operator-error", directFinancialLossEUR: 300_000, individuallySignificant: false)] }
        #expect(try criteria(.managedServiceProvider, f) == ["IR2024/2690 Art 4"])
    }

    @Test func recurringIncidentIgnoresIndividuallySignificantEarlierIncidents() throws {
        let f = facts { $0.directFinancialLossEUR = 300_000; $0.annualTurnoverPreviousFinancialYearEUR = 20_000_000; $0.rootCause = "operator-error"
            $0.previousIncidents = [.init(id: "A", occurredAt: $0.occurredAt - 86_400, rootCause: "operator-error", directFinancialLossEUR: 300_000, individuallySignificant: true)] }
        #expect(try criteria(.managedServiceProvider, f).isEmpty)
    }

    @Test func recurringIncidentMatchesRootCauseSynonymsOfTheVocabulary() throws {
        let f = facts { $0.directFinancialLossEUR = 300_000; $0.annualTurnoverPreviousFinancialYearEUR = 20_000_000; $0.rootCause = "Human error"
            $0.previousIncidents = [.init(id: "A", occurredAt: $0.occurredAt - 86_400, rootCause: "operator_error", directFinancialLossEUR: 300_000, individuallySignificant: false)] }
        #expect(try criteria(.managedServiceProvider, f) == ["IR2024/2690 Art 4"])
    }

    @Test func closedVocabularyRefusesToMatchUnlistedRootCauses() throws {
        var policy = SeverityPolicy(); policy.rootCauses.acceptsUnlistedCodes = false
        let f = facts { $0.directFinancialLossEUR = 300_000; $0.annualTurnoverPreviousFinancialYearEUR = 20_000_000; $0.rootCause = "cosmic-rays"
            $0.previousIncidents = [.init(id: "A", occurredAt: $0.occurredAt - 86_400, rootCause: "cosmic-rays", directFinancialLossEUR: 300_000, individuallySignificant: false)] }
        #expect(try criteria(.managedServiceProvider, f, policy: policy).isEmpty)
        #expect(try criteria(.managedServiceProvider, f) == ["IR2024/2690 Art 4"])
    }

    @Test func entityOutsideTheRegulationNeedsAHumanDecisionWithArticle23Questions() throws {
        let r = try SeverityEngine().classify(try ReportingEntity(rawValue: "health"), facts: facts())
        guard case .needsHumanDecision(let qs) = r.verdict else { Issue.record("expected a human decision"); return }
        #expect(qs.contains { $0.hasPrefix("Art 23(3)(a)") } && qs.contains { $0.hasPrefix("Art 23(3)(b)") })
        #expect(r.deadlines == nil && r.criteria.isEmpty)
    }
}
