import EvidenceCore
import Foundation
import Testing
@testable import NIS2Reporting

/// One numeric threshold: the facts built around a value, and the value the law draws the line at.
/// "More than" is strict, so the criterion is met only above the line (except where the law
/// says "fewer than", marked `metAtThreshold`).
struct Border: Sendable, CustomTestStringConvertible {
    let name: String
    let entity: EntityType
    let criterion: String
    let threshold: Double
    let step: Double
    var metAtThreshold = false
    let build: @Sendable (Double) -> IncidentFacts
    var testDescription: String { name }
}

private func usersT5(_ type: EntityType, _ point: String, users: Double, _ edit: @escaping @Sendable (inout IncidentFacts, Double) -> Void) -> Border {
    Border(name: "Art \(type.article)(\(point)) \(type.rawValue) with \(figure(users)) users", entity: type,
           criterion: "IR2024/2690 Art \(type.article)(\(point))", threshold: min(0.05 * users, 1_000_000), step: 1) { v in
        facts { $0.totalUsersInUnion = users; edit(&$0, v) }
    }
}

let borders: [Border] = {
    var b: [Border] = []
    for (turnover, t) in [(40_000_000.0, 500_000.0), (6_000_000, 300_000), (3_000_000, 150_000)] {
        b.append(Border(name: "Art 3(1)(a) loss, turnover \(figure(turnover))", entity: .managedServiceProvider,
                        criterion: "IR2024/2690 Art 3(1)(a)", threshold: t, step: 1) { v in
            facts { $0.directFinancialLossEUR = v; $0.annualTurnoverPreviousFinancialYearEUR = turnover } })
    }
    for type in [EntityType.dnsServiceProvider, .cloudComputingServiceProvider, .contentDeliveryNetworkProvider, .managedServiceProvider, .managedSecurityServiceProvider] {
        b.append(Border(name: "Art \(type.article)(a) complete unavailability 30 min", entity: type,
                        criterion: "IR2024/2690 Art \(type.article)(a)", threshold: 30, step: 1) { v in
            facts { $0.completeUnavailabilityMinutes = v; $0.totalUsersInUnion = 1000 } })
    }
    for type in [EntityType.dnsServiceProvider, .tldNameRegistry] {
        b.append(Border(name: "Art \(type.article)(b) response time 10 s", entity: type, criterion: "IR2024/2690 Art \(type.article)(b)",
                        threshold: 10, step: 0.1) { v in facts { $0.averageResponseTimeSeconds = v; $0.averageResponseTimePeriodMinutes = 65 } })
        b.append(Border(name: "Art \(type.article)(b) response period 60 min", entity: type, criterion: "IR2024/2690 Art \(type.article)(b)",
                        threshold: 60, step: 1) { v in facts { $0.averageResponseTimeSeconds = 12; $0.averageResponseTimePeriodMinutes = v } })
    }
    b.append(Border(name: "Art 5(c) misconfiguration exception 1 % share", entity: .dnsServiceProvider, criterion: "IR2024/2690 Art 5(c)",
                    threshold: 200, step: 1) { v in
        facts { var d = dataCompromise(cause: "misconfiguration"); d.relatedService = "authoritativeResolution"
            d.domainNamesAffected = v; d.domainNamesManaged = 20_000; $0.dataCompromise = d } })
    b.append(Border(name: "Art 5(c) misconfiguration exception fewer than 1000 domains", entity: .dnsServiceProvider, criterion: "IR2024/2690 Art 5(c)",
                    threshold: 1000, step: 1, metAtThreshold: true) { v in
        facts { var d = dataCompromise(cause: "misconfiguration"); d.relatedService = "authoritativeResolution"
            d.domainNamesAffected = v; d.domainNamesManaged = 1_000_000; $0.dataCompromise = d } })
    for type in [EntityType.cloudComputingServiceProvider, .contentDeliveryNetworkProvider, .managedServiceProvider, .managedSecurityServiceProvider] {
        for users in [40.0, 10_000, 30_000_000] {
            b.append(usersT5(type, "b", users: users) { f, v in f.limitedAvailabilityUsersAffected = v; f.limitedAvailabilityMinutes = 61 })
            b.append(usersT5(type, "d", users: users) { f, v in f.dataCompromise = dataCompromise(users: v) })
        }
        b.append(Border(name: "Art \(type.article)(b) limited availability 60 min", entity: type, criterion: "IR2024/2690 Art \(type.article)(b)",
                        threshold: 60, step: 1) { v in facts { $0.totalUsersInUnion = 4000; $0.limitedAvailabilityUsersAffected = 201; $0.limitedAvailabilityMinutes = v } })
    }
    b.append(Border(name: "Art 8(b) limited availability 60 min", entity: .dataCentreServiceProvider, criterion: "IR2024/2690 Art 8(b)",
                    threshold: 60, step: 1) { v in facts { $0.limitedAvailabilityMinutes = v } })
    for type in [EntityType.onlineMarketplaceProvider, .onlineSearchEngineProvider, .socialNetworkingServicesPlatformProvider] {
        for users in [40.0, 2_000_000, 30_000_000] {
            b.append(usersT5(type, "a", users: users) { f, v in f.completeUnavailabilityUsersAffected = v })
            b.append(usersT5(type, "b", users: users) { f, v in f.limitedAvailabilityUsersAffected = v })
            b.append(usersT5(type, "d", users: users) { f, v in f.dataCompromise = dataCompromise(users: v) })
        }
    }
    b.append(Border(name: "Art 14(a) complete unavailability 20 min", entity: .trustServiceProvider, criterion: "IR2024/2690 Art 14(a)",
                    threshold: 20, step: 1) { v in facts { $0.completeUnavailabilityMinutes = v; $0.unavailabilityMinutesInCalendarWeek = v } })
    b.append(Border(name: "Art 14(b) weekly unavailability 60 min", entity: .trustServiceProvider, criterion: "IR2024/2690 Art 14(b)",
                    threshold: 60, step: 1) { v in facts { $0.completeUnavailabilityMinutes = 18; $0.unavailabilityMinutesInCalendarWeek = v } })
    for (users, t) in [(1_000_000.0, 10_000.0), (50_000_000, 200_000), (150, 1.5)] {
        b.append(Border(name: "Art 14(c) limited availability, \(figure(users)) users", entity: .trustServiceProvider, criterion: "IR2024/2690 Art 14(c)",
                        threshold: t, step: t < 10 ? 0.5 : 1) { v in facts { $0.totalUsersInUnion = users; $0.limitedAvailabilityUsersAffected = v } })
    }
    for (users, t) in [(80_000.0, 80.0), (1_000_000, 100)] {
        b.append(Border(name: "Art 14(e) data compromise, \(figure(users)) users", entity: .trustServiceProvider, criterion: "IR2024/2690 Art 14(e)",
                        threshold: t, step: 1) { v in facts { $0.totalUsersInUnion = users; $0.dataCompromise = dataCompromise(users: v) } })
    }
    b.append(Border(name: "Art 4 combined loss, turnover 20m", entity: .managedServiceProvider, criterion: "IR2024/2690 Art 4",
                    threshold: 500_000, step: 1) { v in
        facts { $0.directFinancialLossEUR = 300_000; $0.annualTurnoverPreviousFinancialYearEUR = 20_000_000; $0.rootCause = "faulty-storage-firmware"
            $0.previousIncidents = [.init(id: "INC-1", occurredAt: $0.occurredAt - 60 * 86_400, rootCause: "faulty-storage-firmware",
                                          directFinancialLossEUR: v - 300_000, individuallySignificant: false)] } })
    return b
}()

@Suite struct ThresholdBorderTests {
    @Test(arguments: borders)
    func criterionIsNotMetJustBelowItsThreshold(_ b: Border) throws {
        #expect(try !criteria(b.entity, b.build(b.threshold - b.step)).contains(b.criterion))
    }

    @Test(arguments: borders)
    func criterionAtItsThresholdFollowsTheStrictInequality(_ b: Border) throws {
        #expect(try criteria(b.entity, b.build(b.threshold)).contains(b.criterion) == b.metAtThreshold)
    }

    @Test(arguments: borders)
    func criterionIsMetJustAboveItsThreshold(_ b: Border) throws {
        #expect(try criteria(b.entity, b.build(b.threshold + b.step)).contains(b.criterion))
    }

    @Test(arguments: borders.filter { $0.threshold >= 10 })
    func valueJustBelowAThresholdIsReportedAsACloseCall(_ b: Border) throws {
        let r = try SeverityEngine().classify(.regulated(b.entity), facts: b.build(b.threshold * 0.95))
        #expect(r.closeCalls.contains { $0.criterion.label == b.criterion && !$0.met })
    }

    @Test(arguments: borders.filter { $0.threshold >= 10 && !$0.metAtThreshold })
    func valueFarBelowAThresholdIsNoCloseCall(_ b: Border) throws {
        let r = try SeverityEngine().classify(.regulated(b.entity), facts: b.build(b.threshold * 0.85))
        #expect(!r.closeCalls.contains { $0.criterion.label == b.criterion })
    }
}
