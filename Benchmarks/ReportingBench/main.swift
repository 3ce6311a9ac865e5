import EvidenceCore
import Foundation
import NIS2Reporting

// Time from an incident record to a complete early-warning draft (goal < 1 s; the manual bar
// it replaces was 60 minutes). Each run: open the incident in a tenant log that already holds
// `background` session records, confirm awareness (which classifies it), draft the early
// warning, and render it as JSON, Markdown and HTML.

let runs = Int(ProcessInfo.processInfo.environment["BENCH_RUNS"] ?? "") ?? 200
let background = Int(ProcessInfo.processInfo.environment["BENCH_LOG_RECORDS"] ?? "") ?? 10_000
let tenant = try TenantID("bench")
let detected = try Timestamp.parse("2026-03-11T01:00:00+01:00")

func monotonicMs() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e6 }

var narrative = IncidentNarrative()
narrative.reportingOrganisation = "Example MSP"; narrative.contactEmail = "soc@example.eu"
narrative.suspectedUnlawfulOrMalicious = true; narrative.crossBorderImpact = false
narrative.relatedEvidence = ["sess-17"]
narrative.indicators = [Indicator(kind: .ipv4, value: "203.0.113.7")]
var facts = IncidentFacts(occurredAt: detected, awareAt: detected)
facts.totalUsersInUnion = 4000
facts.completeUnavailabilityMinutes = 40
facts.unauthorisedAccess = .init(successful: true, suspectedMalicious: true, capableOfSevereOperationalDisruption: true)

let log = InMemoryEvidenceLog()
for n in 0..<background {
    _ = try await log.append(EvidenceRecord(kind: "session.chunk", tenant: tenant, time: detected - Double(background - n),
                                            actor: "idp#tech", body: .object(["session": .string("sess-\(n % 50)"), "seq": .number(Double(n))])))
}

var samples: [Double] = []
var complete = true
for run in 0..<runs {
    let clock = ManualWallClock(detected + 3600)
    let lifecycle = IncidentLifecycle(tenant: tenant, evidence: log, state: InMemoryIncidentStateStore(), clock: clock)
    let id = "INC-\(run)"
    let t0 = monotonicMs()
    try await lifecycle.open(id: id, entity: .regulated(.managedSecurityServiceProvider), title: "SOC platform intrusion",
                             detectedAt: detected, facts: facts, narrative: narrative, by: "soc#alice")
    try await lifecycle.confirmAwareness(id, awareAt: detected + 1800, by: "idp#bob")
    let draft = try await lifecycle.draft(id, stage: .earlyWarning)
    let rendered = draft.render(.json) + draft.render(.md, language: .de) + draft.render(.html, language: .fr)
    samples.append(monotonicMs() - t0)
    complete = complete && draft.isComplete && !rendered.isEmpty
}

let sorted = samples.sorted()
let median = sorted[sorted.count / 2]
let p95 = sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * 0.95).rounded()))]
let worst = sorted.last ?? 0
let manualBarMs = 60.0 * 60 * 1000
func f(_ v: Double) -> String { String(format: "%.3f", v) }
print("reporting-bench: incident record -> complete early-warning draft (\(runs) runs, tenant log of \(background) records)")
print("| measure | ms |")
print("|---|---|")
print("| median | \(f(median)) |")
print("| p95 | \(f(p95)) |")
print("| max | \(f(worst)) |")
print("| goal | 1000 |")
print("| manual bar (60 min) / median | \(String(format: "%.0f", manualBarMs / max(median, 0.001)))x |")
print("draft complete: \(complete ? "yes" : "NO")")
print("{\"draftEarlyWarningMs\":\(f(median)),\"draftEarlyWarningP95Ms\":\(f(p95)),\"draftEarlyWarningMaxMs\":\(f(worst)),\"runs\":\(runs),\"logRecords\":\(background),\"complete\":\(complete),\"goalMs\":1000}")
