import EvidenceCore
import EvidenceSQLite
import Foundation
import Testing
@testable import NIS2Reporting

@Suite struct IncidentLifecycleTests {
    let tenant = try! TenantID("acme")
    let detected = instant("2026-03-11T01:00:00+01:00")
    let aware = instant("2026-03-11T09:30:00+01:00")

    func significantFacts() -> IncidentFacts {
        var f = IncidentFacts(occurredAt: detected, awareAt: detected)
        f.totalUsersInUnion = 900
        f.completeUnavailabilityMinutes = 45
        return f
    }

    func lifecycle(log: InMemoryEvidenceLog = InMemoryEvidenceLog(), state: any IncidentStateStore = InMemoryIncidentStateStore(),
                   clock: ManualWallClock? = nil, scheduler: ReminderScheduler? = nil) -> IncidentLifecycle {
        IncidentLifecycle(tenant: tenant, evidence: log, state: state, clock: clock ?? ManualWallClock(detected), scheduler: scheduler)
    }

    @Test func everyTransitionIsAnEvidenceRecordInOrder() async throws {
        let log = InMemoryEvidenceLog()
        let lc = lifecycle(log: log)
        try await lc.open(id: "INC-1", entity: .regulated(.managedServiceProvider), title: "RMM outage", detectedAt: detected, facts: significantFacts(), by: "soc#alice")
        try await lc.confirmAwareness("INC-1", awareAt: aware, by: "idp#bob")
        try await lc.submit("INC-1", stage: .earlyWarning, by: "idp#bob")
        try await lc.submit("INC-1", stage: .notification, by: "idp#bob")
        try await lc.submit("INC-1", stage: .final, by: "idp#bob")
        try await lc.close("INC-1", by: "idp#bob")
        let kinds = try await log.records(tenant: tenant, from: 0).map(\.kind)
        #expect(kinds == ["incident.opened", "incident.aware", "incident.classified", "incident.submitted", "incident.submitted", "incident.submitted", "incident.closed"])
    }

    @Test func detectionAndAwarenessAreKeptSeparately() async throws {
        let lc = lifecycle()
        try await lc.open(id: "INC-1", entity: .regulated(.managedServiceProvider), title: "t", detectedAt: detected, facts: significantFacts(), by: "soc#alice")
        let i = try await lc.confirmAwareness("INC-1", awareAt: aware, by: "idp#bob")
        #expect(i.detectedAt == detected && i.awareAt == aware && i.awareConfirmedBy == "idp#bob")
        #expect(try await lc.openDeadlines("INC-1").first { $0.kind == .earlyWarning }?.due == aware + 24 * 3600)
    }

    @Test func notificationBeforeEarlyWarningIsRefused() async throws {
        let lc = lifecycle()
        try await lc.open(id: "INC-1", entity: .regulated(.managedServiceProvider), title: "t", detectedAt: detected, facts: significantFacts(), by: "a")
        try await lc.confirmAwareness("INC-1", awareAt: aware, by: "b")
        await #expect(throws: ReportingError.self) { try await lc.submit("INC-1", stage: .notification, by: "b") }
    }

    @Test func reportsBeforeAwarenessIsConfirmedAreRefused() async throws {
        let lc = lifecycle()
        try await lc.open(id: "INC-1", entity: .regulated(.managedServiceProvider), title: "t", detectedAt: detected, facts: significantFacts(), by: "a")
        await #expect(throws: ReportingError.self) { try await lc.submit("INC-1", stage: .earlyWarning, by: "b") }
    }

    @Test func updatedFactsAreReclassifiedAndHistoryIsKept() async throws {
        let log = InMemoryEvidenceLog()
        let lc = lifecycle(log: log)
        var f = significantFacts(); f.completeUnavailabilityMinutes = 20
        try await lc.open(id: "INC-1", entity: .regulated(.managedServiceProvider), title: "t", detectedAt: detected, facts: f, by: "a")
        let first = try await lc.confirmAwareness("INC-1", awareAt: aware, by: "b")
        #expect(first.significant == false)
        f.completeUnavailabilityMinutes = 31
        let second = try await lc.update("INC-1", facts: f, by: "b")
        #expect(second.significant == true && second.criteria == ["IR2024/2690 Art 10(a)"])
        #expect(second.facts.awareAt == aware)
        #expect(second.history.map(\.revision) == Array(1...second.history.count))
        let classified = try await log.records(tenant: tenant, from: 0).filter { $0.kind == "incident.classified" }
        #expect(classified.count == 2 && classified.last?.body["previousSignificant"] == .bool(false))
    }

    @Test func withdrawnIncidentAcceptsNoFurtherChange() async throws {
        let lc = lifecycle()
        try await lc.open(id: "INC-1", entity: .regulated(.managedServiceProvider), title: "t", detectedAt: detected, facts: significantFacts(), by: "a")
        try await lc.confirmAwareness("INC-1", awareAt: aware, by: "b")
        try await lc.withdraw("INC-1", reason: "false positive: monitoring probe misconfigured", by: "b")
        await #expect(throws: ReportingError.self) { try await lc.submit("INC-1", stage: .earlyWarning, by: "b") }
        #expect(try await lc.openDeadlines("INC-1").isEmpty)
    }

    @Test func submittedStagesLeaveNoPendingReminders() async throws {
        let clock = ManualWallClock(detected)
        let store = InMemoryReminderStore()
        let scheduler = ReminderScheduler(store: store, notifier: RecordingNotifier(), clock: clock, policy: ReminderPolicy(offsets: [0]))
        let lc = lifecycle(clock: clock, scheduler: scheduler)
        try await lc.open(id: "INC-1", entity: .regulated(.managedServiceProvider), title: "t", detectedAt: detected, facts: significantFacts(), by: "a")
        try await lc.confirmAwareness("INC-1", awareAt: aware, by: "b")
        #expect(await store.pending(until: .distantFuture).map(\.kind) == [.earlyWarning, .incidentNotification, .finalReport])
        try await lc.submit("INC-1", stage: .earlyWarning, at: aware + 3600, by: "b")
        #expect(await store.pending(until: .distantFuture).map(\.kind) == [.incidentNotification, .finalReport])
    }

    @Test func finalReportReminderMovesWithTheRealNotificationTime() async throws {
        let lc = lifecycle()
        try await lc.open(id: "INC-1", entity: .regulated(.managedServiceProvider), title: "t", detectedAt: detected, facts: significantFacts(), by: "a")
        try await lc.confirmAwareness("INC-1", awareAt: aware, by: "b")
        try await lc.submit("INC-1", stage: .earlyWarning, at: aware + 3600, by: "b")
        try await lc.submit("INC-1", stage: .notification, at: instant("2026-03-31T10:00:00Z"), by: "b")
        #expect(try await lc.openDeadlines("INC-1").first { $0.kind == .finalReport }?.due == instant("2026-04-30T10:00:00Z"))
    }

    @Test func incidentStateSurvivesReopeningTheSQLiteFile() async throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("state.sqlite").path
        do {
            let lc = lifecycle(state: try SQLiteIncidentStateStore(path: path))
            try await lc.open(id: "INC-1", entity: .regulated(.managedServiceProvider), title: "t", detectedAt: detected, facts: significantFacts(), by: "a")
            try await lc.confirmAwareness("INC-1", awareAt: aware, by: "b")
        }
        let reopened = try await SQLiteIncidentStateStore(path: path).load(tenant: tenant, id: "INC-1")
        #expect(reopened?.awareAt == aware && reopened?.stage == .aware && reopened?.significant == true)
        #expect(try await SQLiteIncidentStateStore(path: path).load(tenant: try TenantID("other"), id: "INC-1") == nil)
    }
}
