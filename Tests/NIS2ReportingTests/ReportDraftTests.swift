import EvidenceCore
import Foundation
import Testing
@testable import NIS2Reporting

@Suite struct ReportDraftTests {
    let tenant = try! TenantID("acme")
    let detected = instant("2026-03-11T01:00:00+01:00")
    let aware = instant("2026-03-11T09:30:00+01:00")

    func incident(narrative: IncidentNarrative = IncidentNarrative(), log: InMemoryEvidenceLog = InMemoryEvidenceLog()) async throws -> (IncidentLifecycle, InMemoryEvidenceLog) {
        var f = IncidentFacts(occurredAt: detected, awareAt: detected)
        f.totalUsersInUnion = 900
        f.dataCompromise = dataCompromise(users: 2, malicious: true, cause: "maliciousAction")
        let lc = IncidentLifecycle(tenant: tenant, evidence: log, state: InMemoryIncidentStateStore(), clock: ManualWallClock(aware + 600))
        try await lc.open(id: "INC-7", entity: .regulated(.managedServiceProvider), title: "Stolen technician session", detectedAt: detected, facts: f, narrative: narrative, by: "soc#alice")
        try await lc.confirmAwareness("INC-7", awareAt: aware, by: "idp#bob")
        return (lc, log)
    }

    func fullNarrative() -> IncidentNarrative {
        var n = IncidentNarrative()
        n.reportingOrganisation = "Example MSP GmbH"; n.contactName = "Bob"; n.contactEmail = "soc@example.eu"
        n.suspectedUnlawfulOrMalicious = true; n.crossBorderImpact = false
        n.indicators = [Indicator(kind: .ipv4, value: "203.0.113.7"), Indicator(kind: .fileSHA256, value: String(repeating: "ab", count: 32))]
        n.relatedEvidence = ["sess-42"]
        return n
    }

    @Test func earlyWarningWithoutContactListsTheMissingItemsInsteadOfInventingThem() async throws {
        let (lc, _) = try await incident()
        let d = try await lc.draft("INC-7", stage: .earlyWarning)
        #expect(Set(d.missing) == [.reportingOrganisation, .contact, .suspectedUnlawfulOrMalicious, .crossBorderImpact])
        #expect(d.items[.contact] == nil && d.items[.reportingOrganisation] == nil)
        #expect(!d.isComplete)
    }

    @Test func earlyWarningWithTheRequiredItemsIsComplete() async throws {
        let (lc, _) = try await incident(narrative: fullNarrative())
        let d = try await lc.draft("INC-7", stage: .earlyWarning)
        #expect(d.isComplete)
        #expect(d.items[.awareAt] == .time(aware) && d.items[.detectedAt] == .time(detected))
    }

    @Test func notificationCarriesTheCriteriaMetAsSeverity() async throws {
        let (lc, _) = try await incident(narrative: fullNarrative())
        let d = try await lc.draft("INC-7", stage: .notification)
        #expect(d.items[.criteriaMet] == .list(["IR2024/2690 Art 10(c)"]))
        #expect(d.missing == [.description])
    }

    @Test func swissReportAsksForTheCSVItems() async throws {
        let (lc, _) = try await incident(narrative: fullNarrative())
        let d = try await lc.draft("INC-7", stage: .chISG)
        #expect(d.missing.contains(.attackTypeAndExecution) && d.missing.contains(.criminalComplaintFiled) && d.missing.contains(.extortionThreatsOrCoercion))
    }

    @Test func timelineHoldsRelatedSessionRecordsAndIncidentTransitions() async throws {
        let log = InMemoryEvidenceLog()
        _ = try await log.append(EvidenceRecord(kind: "session.started", tenant: tenant, time: detected - 600, actor: "idp#tech", body: .object(["session": .string("sess-42")])))
        _ = try await log.append(EvidenceRecord(kind: "session.started", tenant: tenant, time: detected - 300, actor: "idp#other", body: .object(["session": .string("sess-43")])))
        let (lc, _) = try await incident(narrative: fullNarrative(), log: log)
        let d = try await lc.draft("INC-7", stage: .notification)
        #expect(d.timeline.map(\.kind) == ["session.started", "incident.opened", "incident.aware", "incident.classified"])
        #expect(d.timeline.first?.summary.contains("sess-42") == true)
    }

    @Test func indicatorsBecomeAStixBundleWithPatterns() async throws {
        let (lc, _) = try await incident(narrative: fullNarrative())
        let stix = try #require(try await lc.draft("INC-7", stage: .notification).stixBundle)
        let parsed = try JSONParser.parse(stix.text())
        #expect(parsed["type"] == .string("bundle"))
        let objects = try #require(parsed["objects"]?.arrayValue)
        #expect(objects.map { $0["pattern"]?.stringValue } == ["[ipv4-addr:value = '203.0.113.7']", "[file:hashes.'SHA-256' = '\(String(repeating: "ab", count: 32))']"])
        #expect(objects.allSatisfy { $0["spec_version"] == .string("2.1") && ($0["id"]?.stringValue?.hasPrefix("indicator--") ?? false) })
    }

    @Test func stixPatternEscapesQuotesInValues() {
        #expect(STIXBundle.pattern(Indicator(kind: .url, value: "http://x/'a")) == #"[url:value = 'http://x/\'a']"#)
    }

    @Test(arguments: ReportLanguage.allCases)
    func draftRendersInEveryLanguageAndFormat(_ lang: ReportLanguage) async throws {
        let (lc, _) = try await incident()
        let d = try await lc.draft("INC-7", stage: .earlyWarning)
        let md = d.render(.md, language: lang), html = d.render(.html, language: lang)
        #expect(md.contains(lang.stageName(.earlyWarning)) && md.contains(lang.label(.contact)))
        #expect(html.hasPrefix("<!DOCTYPE html>") && html.contains("lang=\"\(lang.rawValue)\"") && html.contains(lang.missingHeading))
        #expect(try JSONParser.parse(d.render(.json, language: lang))["missing"]?.arrayValue?.count == d.missing.count)
    }

    @Test func htmlEscapesOperatorText() async throws {
        var n = fullNarrative(); n.description = "<script>alert(1)</script>"
        let (lc, _) = try await incident(narrative: n)
        let html = try await lc.draft("INC-7", stage: .notification).render(.html, language: .en)
        #expect(!html.contains("<script>") && html.contains("&lt;script&gt;"))
    }
}
