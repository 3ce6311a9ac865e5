import EvidenceCore
import Foundation
import Testing
@testable import NIS2Reporting

/// Deadline arithmetic: elapsed hours, calendar months on the UTC date, the separate clocks.
@Suite struct DeadlineClockTests {
    let policy = DeadlinePolicy.standard

    @Test func earlyWarningIs24ElapsedHoursAcrossTheSpringDaylightSavingChange() {
        // Awareness one hour before the EU switch to summer time (29 Mar 2026, 01:00 UTC).
        let aware = instant("2026-03-29T01:30:00+01:00")
        let d = policy.statutoryDeadlines(awareAt: aware, entity: .managedServiceProvider, facts: facts())
        #expect(d.earlyWarning.timeIntervalSince(aware) == 24 * 3600)
        #expect(d.earlyWarning == instant("2026-03-30T02:30:00+02:00"))
    }

    @Test func notificationIs72ElapsedHoursAcrossTheAutumnDaylightSavingChange() {
        let aware = instant("2026-10-24T12:00:00+02:00")
        let d = policy.statutoryDeadlines(awareAt: aware, entity: .cloudComputingServiceProvider, facts: facts())
        #expect(d.incidentNotification == instant("2026-10-27T11:00:00+01:00"))
    }

    @Test func oneCalendarMonthAfter31JanuaryIsTheLastDayOfFebruary() {
        #expect(CalendarMonth.adding(1, to: instant("2026-01-31T10:00:00Z")) == instant("2026-02-28T10:00:00Z"))
        #expect(CalendarMonth.adding(1, to: instant("2028-01-31T10:00:00Z")) == instant("2028-02-29T10:00:00Z"))
    }

    @Test func oneCalendarMonthIsComputedOnTheUTCDateNotTheLocalDate() {
        // 1 Feb 00:30 in Paris is still 31 Jan in UTC: the month is added to 31 Jan.
        #expect(CalendarMonth.adding(1, to: instant("2026-02-01T00:30:00+01:00")) == instant("2026-02-28T23:30:00Z"))
    }

    @Test func oneCalendarMonthAfter31OctoberIs30November() {
        #expect(CalendarMonth.adding(1, to: instant("2026-10-31T09:00:00Z")) == instant("2026-11-30T09:00:00Z"))
    }

    @Test func oneCalendarMonthAfterDecemberRollsIntoTheNextYear() {
        #expect(CalendarMonth.adding(1, to: instant("2026-12-31T23:59:59Z")) == instant("2027-01-31T23:59:59Z"))
        #expect(CalendarMonth.adding(-6, to: instant("2026-03-31T06:00:00Z")) == instant("2025-09-30T06:00:00Z"))
    }

    @Test func finalReportRunsFromTheActualNotificationSubmission() {
        var a = ClockAnchors(awareAt: instant("2026-01-28T09:00:00Z"), entity: .managedServiceProvider, facts: facts())
        a.notificationSubmittedAt = instant("2026-01-31T08:00:00Z")
        let final = policy.deadlines(for: a, significant: true).first { $0.kind == .finalReport }
        #expect(final?.due == instant("2026-02-28T08:00:00Z"))
    }

    @Test func ongoingIncidentOwesAProgressReportThenAFinalReportAMonthAfterHandling() {
        var a = ClockAnchors(awareAt: instant("2026-01-01T09:00:00Z"), entity: .managedServiceProvider, facts: facts())
        a.notificationSubmittedAt = instant("2026-01-03T09:00:00Z")
        a.handledAt = instant("2026-03-10T12:00:00Z")
        let ds = policy.deadlines(for: a, significant: true)
        #expect(ds.first { $0.kind == .progressReport }?.due == instant("2026-02-03T09:00:00Z"))
        #expect(ds.first { $0.kind == .finalReportAfterHandling }?.due == instant("2026-04-10T12:00:00Z"))
        #expect(!ds.contains { $0.kind == .finalReport })
    }

    @Test func swissClockRunsFromDiscoveryAndIsSeparateFromNIS2() {
        var a = ClockAnchors(awareAt: instant("2026-05-02T12:00:00Z"), entity: .cloudComputingServiceProvider, facts: facts())
        a.swissDiscoveredAt = instant("2026-05-01T08:00:00Z")
        let ds = policy.deadlines(for: a, significant: false)
        #expect(ds.map(\.kind) == [.swissISGReport, .swissISGCompletion])
        #expect(ds[0].due == instant("2026-05-02T08:00:00Z"))
        #expect(ds[1].due == instant("2026-05-15T08:00:00Z"))
    }

    @Test func gdprClockIsOptionalAnd72Hours() {
        var a = ClockAnchors(awareAt: instant("2026-05-02T12:00:00Z"), entity: .managedServiceProvider, facts: facts())
        #expect(!policy.deadlines(for: a, significant: true).contains { $0.kind == .gdprBreachNotification })
        a.gdprAwareAt = instant("2026-05-02T13:00:00Z")
        #expect(policy.deadlines(for: a, significant: true).first { $0.kind == .gdprBreachNotification }?.due == instant("2026-05-05T13:00:00Z"))
    }

    @Test func notSignificantIncidentHasNoNIS2Deadlines() {
        let a = ClockAnchors(awareAt: instant("2026-05-02T12:00:00Z"), entity: .managedServiceProvider, facts: facts())
        #expect(policy.deadlines(for: a, significant: false).isEmpty)
    }
}
