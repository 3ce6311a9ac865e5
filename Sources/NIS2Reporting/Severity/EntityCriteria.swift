import EvidenceCore
import Foundation

/// The entity-specific criteria of IR 2024/2690 Arts 5-14 (each relying on Art 3(1)(g)).
/// Strict inequalities on real numbers; thresholds of the form "whichever is smaller" are
/// computed from the Union users of Art 3(3).
struct EntityCriteria {
    var ctx: EvaluationContext

    func tests(for type: EntityType) throws -> [CriterionTest] {
        let a = type.article
        switch type {
        case .dnsServiceProvider: return try dns(a)
        case .tldNameRegistry: return tld(a)
        case .cloudComputingServiceProvider, .contentDeliveryNetworkProvider, .managedServiceProvider, .managedSecurityServiceProvider:
            return try serviceWithDurations(a)
        case .dataCentreServiceProvider: return dataCentre(a)
        case .onlineMarketplaceProvider, .onlineSearchEngineProvider, .socialNetworkingServicesPlatformProvider:
            return try platform(a)
        case .trustServiceProvider: return try trust(a)
        }
    }

    private var f: IncidentFacts { ctx.facts }
    private var margin: Double { ctx.policy.closeCallMargin }

    private func minutesOver(_ v: Double?, _ limit: Double, _ what: String) -> Condition {
        Condition.exceeds(v ?? 0, limit, margin: margin) { "\(what) \(figure(v ?? 0)) min \($0) \(figure(limit)) min" }
    }

    private func usersOver(_ affected: Double, _ threshold: UserThreshold, _ what: String) -> Condition {
        Condition.exceeds(affected, threshold.value, margin: margin) { "\(what) \(figure(affected)) users \($0) \(figure(threshold.value)) (\(threshold.formula))" }
    }

    /// Data compromise related to providing the service (Arts 5-14: stored, transmitted or processed data).
    private var serviceDataCompromise: IncidentFacts.DataCompromise? {
        guard let d = f.dataCompromise, d.exists, d.relatedToServiceProvision else { return nil }
        return d
    }

    private func maliciousData(_ a: Int, _ p: Character) -> CriterionTest? {
        guard let d = serviceDataCompromise else { return nil }
        return CriterionTest(criterion: .specific(a, p, availability: false), conditions: [
            .holds(true, "\(d.flagNames) of data related to the service compromised"),
            .holds(d.malicious, "as a result of a suspectedly malicious action" + (d.malicious ? "" : " (not suspected)")),
        ])
    }

    private func dataUsers(_ a: Int, _ p: Character, fraction: Double, cap: Double, label: String) throws -> CriterionTest? {
        guard let d = serviceDataCompromise, let affected = d.usersAffected, affected > 0 else { return nil }
        let t = try ctx.userThreshold(fraction: fraction, cap: cap, neededFor: "dataCompromise.usersAffected", label: label)
        return CriterionTest(criterion: .specific(a, p, availability: false), conditions: [
            .holds(true, "\(d.flagNames) of data related to the service compromised"),
            usersOver(affected, t, "affecting"),
        ])
    }

    private func responseTime(_ a: Int) -> CriterionTest? {
        guard let s = f.averageResponseTimeSeconds, s > 0 else { return nil }
        let p = f.averageResponseTimePeriodMinutes ?? 0
        return CriterionTest(criterion: .specific(a, "b", availability: true), conditions: [
            .exceeds(s, 10, margin: margin) { "average response time \(figure(s)) s \($0) 10 s" },
            .exceeds(p, 60, margin: margin) { "over \(figure(p)) min \($0) 60 min" },
        ])
    }

    // Art 5: DNS service providers (no Art 3(3) user counting).
    private func dns(_ a: Int) throws -> [CriterionTest] {
        var out: [CriterionTest] = []
        if let m = f.completeUnavailabilityMinutes, m > 0 {
            out.append(CriterionTest(criterion: .specific(a, "a", availability: true), conditions: [minutesOver(m, 30, "resolution completely unavailable for")]))
        }
        if let t = responseTime(a) { out.append(t) }
        if let d = serviceDataCompromise {
            guard let service = d.relatedService else {
                throw ctx.missing("dataCompromise.relatedService", "Art 5(c) covers only the authoritative resolution service: state 'authoritativeResolution' or 'recursiveResolution'")
            }
            if service == "authoritativeResolution" { out.append(try dnsAuthoritativeData(a, d)) }
            else { ctx.note("Art 5(c) not applied: the compromised data belongs to the recursive resolution service, which Art 5(c) does not cover.") }
        }
        return out
    }

    private func dnsAuthoritativeData(_ a: Int, _ d: IncidentFacts.DataCompromise) throws -> CriterionTest {
        let base = Condition.holds(true, "\(d.flagNames) of authoritative resolution data compromised (cause: \(d.cause ?? "not stated"))")
        let onlyWrongData = !ctx.policy.dnsMisconfigurationExceptionOnlyForWrongData || (d.integrity && !d.confidentiality && !d.authenticity)
        guard d.cause == "misconfiguration", onlyWrongData else {
            return CriterionTest(criterion: .specific(a, "c", availability: false), conditions: [base])
        }
        guard let affected = d.domainNamesAffected else {
            throw ctx.missing("dataCompromise.domainNamesAffected", "the Art 5(c) misconfiguration exception needs the number of domain names with wrong data")
        }
        guard let managed = d.domainNamesManaged, managed > 0 else {
            throw ctx.missing("dataCompromise.domainNamesManaged", "the Art 5(c) misconfiguration exception needs the number of domain names managed (for the 1 % test)")
        }
        // Exception: < 1000 domains AND <= 1 % of managed. Significant when either bound is broken.
        let share = Condition.exceeds(affected, 0.01 * managed, margin: margin) { "\(figure(affected)) of \(figure(managed)) managed domain names (\(figure(affected / managed * 100)) %) \($0) 1 %" }
        let count = Condition(met: affected >= 1000, closeBelow: affected < 1000 && affected >= 1000 * (1 - margin),
                              closeAbove: affected >= 1000 && affected <= 1000 * (1 + margin),
                              text: "\(figure(affected)) domain names \(affected >= 1000 ? "≥" : "<") 1000")
        let broken = share.met ? share : count
        let met = share.met || count.met
        let cond = Condition(met: met, closeBelow: !met && (share.closeBelow || count.closeBelow), closeAbove: met && broken.closeAbove,
                             text: met ? "misconfiguration exception does not apply: \(broken.text)"
                                       : "misconfiguration exception applies: \(count.text) and \(share.text)")
        return CriterionTest(criterion: .specific(a, "c", availability: false), conditions: [base, cond])
    }

    // Art 6: TLD name registries.
    private func tld(_ a: Int) -> [CriterionTest] {
        var out: [CriterionTest] = []
        if let m = f.completeUnavailabilityMinutes, m > 0 {
            out.append(CriterionTest(criterion: .specific(a, "a", availability: true), conditions: [
                .holds(true, "authoritative resolution completely unavailable for \(figure(m)) min (no minimum duration)")]))
        }
        if let t = responseTime(a) { out.append(t) }
        if let d = serviceDataCompromise {
            out.append(CriterionTest(criterion: .specific(a, "c", availability: false), conditions: [
                .holds(true, "\(d.flagNames) of data related to the technical operation of the TLD compromised (any cause, any size)")]))
        }
        return out
    }

    // Arts 7, 9, 10: cloud, CDN, MSP/MSSP.
    private func serviceWithDurations(_ a: Int) throws -> [CriterionTest] {
        var out: [CriterionTest] = []
        if let m = f.completeUnavailabilityMinutes, m > 0 {
            out.append(CriterionTest(criterion: .specific(a, "a", availability: true), conditions: [minutesOver(m, 30, "service completely unavailable for")]))
        }
        if let users = f.limitedAvailabilityUsersAffected, users > 0 {
            let t = try ctx.userThreshold(fraction: 0.05, cap: 1_000_000, neededFor: "limitedAvailabilityUsersAffected", label: "5 %")
            out.append(CriterionTest(criterion: .specific(a, "b", availability: true), conditions: [
                usersOver(users, t, "limited availability for"), minutesOver(f.limitedAvailabilityMinutes, 60, "for"),
            ]))
        }
        if let t = maliciousData(a, "c") { out.append(t) }
        if let t = try dataUsers(a, "d", fraction: 0.05, cap: 1_000_000, label: "5 %") { out.append(t) }
        return out
    }

    // Art 8: data centre service providers (no user thresholds at all).
    private func dataCentre(_ a: Int) -> [CriterionTest] {
        var out: [CriterionTest] = []
        if let m = f.completeUnavailabilityMinutes, m > 0 {
            out.append(CriterionTest(criterion: .specific(a, "a", availability: true), conditions: [
                .holds(true, "data centre service completely unavailable for \(figure(m)) min (no minimum duration)")]))
        }
        if let m = f.limitedAvailabilityMinutes, m > 0 {
            out.append(CriterionTest(criterion: .specific(a, "b", availability: true), conditions: [minutesOver(m, 60, "data centre service limited for")]))
        }
        if let t = maliciousData(a, "c") { out.append(t) }
        if f.physicalAccessCompromised {
            out.append(CriterionTest(criterion: .specific(a, "d", availability: false), conditions: [
                .holds(true, "physical access to a data centre operated by the provider compromised")]))
        }
        return out
    }

    // Arts 11-13: online marketplaces, search engines, social networks (user counts, no durations).
    private func platform(_ a: Int) throws -> [CriterionTest] {
        var out: [CriterionTest] = []
        if let users = f.completeUnavailabilityUsersAffected, users > 0 {
            let t = try ctx.userThreshold(fraction: 0.05, cap: 1_000_000, neededFor: "completeUnavailabilityUsersAffected", label: "5 %")
            out.append(CriterionTest(criterion: .specific(a, "a", availability: true), conditions: [usersOver(users, t, "completely unavailable for")]))
        } else if let m = f.completeUnavailabilityMinutes, m > 0 {
            ctx.note("Art \(a)(a) counts the users for whom the service was completely unavailable: completeUnavailabilityUsersAffected is not given, so \(figure(m)) min of complete unavailability was not counted.")
        }
        if let users = f.limitedAvailabilityUsersAffected, users > 0 {
            let t = try ctx.userThreshold(fraction: 0.05, cap: 1_000_000, neededFor: "limitedAvailabilityUsersAffected", label: "5 %")
            out.append(CriterionTest(criterion: .specific(a, "b", availability: true), conditions: [usersOver(users, t, "limited availability for")]))
        }
        if let t = maliciousData(a, "c") { out.append(t) }
        if let t = try dataUsers(a, "d", fraction: 0.05, cap: 1_000_000, label: "5 %") { out.append(t) }
        return out
    }

    // Art 14: trust service providers.
    private func trust(_ a: Int) throws -> [CriterionTest] {
        var out: [CriterionTest] = []
        if let m = f.completeUnavailabilityMinutes, m > 0 {
            out.append(CriterionTest(criterion: .specific(a, "a", availability: true), conditions: [minutesOver(m, 20, "trust service completely unavailable for")]))
        }
        var weekly = max(f.unavailabilityMinutesInCalendarWeek ?? 0, f.completeUnavailabilityMinutes ?? 0)
        if ctx.policy.limitedAvailabilityCountsTowardsWeeklyTotal { weekly += f.limitedAvailabilityMinutes ?? 0 }
        if weekly > 0 {
            out.append(CriterionTest(criterion: .specific(a, "b", availability: true), conditions: [
                minutesOver(weekly, 60, "unavailable to users or relying parties in the calendar week for")]))
        }
        if let users = f.limitedAvailabilityUsersAffected, users > 0 {
            let t = try ctx.userThreshold(fraction: 0.01, cap: 200_000, neededFor: "limitedAvailabilityUsersAffected", label: "1 %")
            out.append(CriterionTest(criterion: .specific(a, "c", availability: true), conditions: [usersOver(users, t, "limited availability for")]))
        }
        if f.physicalAccessCompromised {
            out.append(CriterionTest(criterion: .specific(a, "d", availability: false), conditions: [
                .holds(true, "physical access to an area restricted to trusted personnel, or its protection, compromised")]))
        }
        if let t = try dataUsers(a, "e", fraction: 0.001, cap: 100, label: "0.1 %") { out.append(t) }
        return out
    }
}
