import EvidenceCore
import EvidenceSQLite
import Foundation
import Testing
@testable import NIS2Reporting

/// A notifier that records what it was asked to deliver, and can be told to fail.
actor RecordingNotifier: Notifier {
    private(set) var delivered: [Reminder] = []
    var failNext = false
    func notify(_ reminder: Reminder) throws {
        if failNext { failNext = false; throw ReportingError(.storage, "delivery refused for the test") }
        delivered.append(reminder)
    }
    func setFailNext() { failNext = true }
}

func temporaryFolder() throws -> URL {
    let u = FileManager.default.temporaryDirectory.appendingPathComponent("nis2-reporting-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
    return u
}

@Suite struct ReminderSchedulerTests {
    let tenant = try! TenantID("acme")
    let aware = instant("2026-03-28T23:30:00+01:00")

    func deadlines() -> [Deadline] {
        var a = ClockAnchors(awareAt: aware, entity: .managedServiceProvider, facts: facts())
        a.swissDiscoveredAt = aware - 3600
        return DeadlinePolicy.standard.deadlines(for: a, significant: true)
    }

    @Test func remindersFireInOrderOfTheirFireTime() async throws {
        let clock = ManualWallClock(aware)
        let n = RecordingNotifier()
        let s = ReminderScheduler(store: InMemoryReminderStore(), notifier: n, clock: clock, policy: ReminderPolicy(offsets: [-3600, 0]))
        try await s.schedule(tenant: tenant, incidentID: "INC-1", deadlines: deadlines())
        clock.advance(by: 40 * 24 * 3600)
        try await s.fireDue()
        let times = await n.delivered.map(\.fireAt)
        #expect(times.count == deadlines().count * 2)
        #expect(times == times.sorted())
    }

    @Test func nothingFiresBeforeItsTime() async throws {
        let clock = ManualWallClock(aware)
        let n = RecordingNotifier()
        let s = ReminderScheduler(store: InMemoryReminderStore(), notifier: n, clock: clock, policy: ReminderPolicy(offsets: [0]))
        try await s.schedule(tenant: tenant, incidentID: "INC-1", deadlines: deadlines())
        clock.set(aware + 23 * 3600 - 1)   // Swiss report is due at aware + 23 h
        #expect(try await s.fireDue().isEmpty)
        clock.advance(by: 1)
        #expect(try await s.fireDue().map(\.kind) == [.swissISGReport])
    }

    @Test func earlyWarningReminderFiresAfter24ElapsedHoursAcrossDaylightSaving() async throws {
        let clock = ManualWallClock(aware)
        let n = RecordingNotifier()
        let s = ReminderScheduler(store: InMemoryReminderStore(), notifier: n, clock: clock, policy: ReminderPolicy(offsets: [0]))
        try await s.schedule(tenant: tenant, incidentID: "INC-1", deadlines: deadlines().filter { $0.kind == .earlyWarning })
        clock.advance(by: 23 * 3600)   // 23 h later the wall clock in Paris already reads +24 h
        #expect(try await s.fireDue().isEmpty)
        clock.advance(by: 3600)
        #expect(try await s.fireDue().count == 1)
    }

    @Test func eachReminderFiresExactlyOnce() async throws {
        let clock = ManualWallClock(aware)
        let n = RecordingNotifier()
        let s = ReminderScheduler(store: InMemoryReminderStore(), notifier: n, clock: clock)
        try await s.schedule(tenant: tenant, incidentID: "INC-1", deadlines: deadlines())
        clock.advance(by: 100 * 24 * 3600)
        try await s.fireDue()
        try await s.fireDue()
        try await s.schedule(tenant: tenant, incidentID: "INC-1", deadlines: deadlines())  // re-scheduling the same deadlines
        try await s.fireDue()
        let ids = await n.delivered.map(\.id)
        #expect(ids.count == Set(ids).count && ids.count == deadlines().count * ReminderPolicy.standard.offsets.count)
    }

    @Test func failedDeliveryIsRetriedOnTheNextRun() async throws {
        let clock = ManualWallClock(aware)
        let n = RecordingNotifier()
        let s = ReminderScheduler(store: InMemoryReminderStore(), notifier: n, clock: clock, policy: ReminderPolicy(offsets: [0]))
        try await s.schedule(tenant: tenant, incidentID: "INC-1", deadlines: deadlines().filter { $0.kind == .earlyWarning })
        clock.advance(by: 25 * 3600)
        await n.setFailNext()
        await #expect(throws: ReportingError.self) { try await s.fireDue() }
        #expect(try await s.fireDue().count == 1)
    }

    @Test func remindersMissedDuringARestartFireOnceFromTheSQLiteFile() async throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("state.sqlite").path
        let clock = ManualWallClock(aware)
        let first = RecordingNotifier()
        do {
            let s = ReminderScheduler(store: try SQLiteReminderStore(path: path), notifier: first, clock: clock, policy: ReminderPolicy(offsets: [0]))
            try await s.schedule(tenant: tenant, incidentID: "INC-1", deadlines: deadlines())
            clock.advance(by: 23 * 3600)
            #expect(try await s.fireDue().map(\.kind) == [.swissISGReport])
        }
        // The process is down while the early-warning and notification deadlines pass.
        clock.advance(by: 5 * 24 * 3600)
        let second = RecordingNotifier()
        let restarted = ReminderScheduler(store: try SQLiteReminderStore(path: path), notifier: second, clock: clock, policy: ReminderPolicy(offsets: [0]))
        try await restarted.fireDue()
        try await restarted.fireDue()
        let kinds = await second.delivered.map(\.kind)
        #expect(kinds == [.earlyWarning, .incidentNotification])
        let third = ReminderScheduler(store: try SQLiteReminderStore(path: path), notifier: RecordingNotifier(), clock: clock)
        #expect(try await third.fireDue().isEmpty)
    }

    @Test func sqliteClaimSucceedsOnlyOnce() async throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("state.sqlite").path
        let a = try SQLiteReminderStore(path: path), b = try SQLiteReminderStore(path: path)
        let r = Reminder(tenant: tenant, incidentID: "INC-1", kind: .earlyWarning, due: aware, offset: 0)
        try await a.replacePending(tenant: tenant, incidentID: "INC-1", with: [r])
        #expect(try await a.claim(r.id, at: aware))
        #expect(try await !b.claim(r.id, at: aware))
    }

    @Test func movedDeadlineReplacesItsPendingReminderButKeepsFiredHistory() async throws {
        let store = InMemoryReminderStore()
        let clock = ManualWallClock(aware)
        let s = ReminderScheduler(store: store, notifier: RecordingNotifier(), clock: clock, policy: ReminderPolicy(offsets: [0]))
        try await s.schedule(tenant: tenant, incidentID: "INC-1", deadlines: [Deadline(kind: .finalReport, due: aware + 10, basis: "t"), Deadline(kind: .earlyWarning, due: aware + 1, basis: "t")])
        clock.advance(by: 5)
        try await s.fireDue()
        try await s.schedule(tenant: tenant, incidentID: "INC-1", deadlines: [Deadline(kind: .finalReport, due: aware + 20, basis: "t")])
        let all = await store.reminders(tenant: tenant, incidentID: "INC-1")
        #expect(all.map(\.kind) == [.earlyWarning, .finalReport])
        #expect(all.last?.due == aware + 20 && all.first?.firedAt != nil)
    }
}
