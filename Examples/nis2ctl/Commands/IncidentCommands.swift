import EvidenceCore
import Foundation
import NIS2Reporting

/// `nis2ctl incident …`: the NIS2 incident lifecycle of one tenant, every step a log record.
enum IncidentCommands {
    static let all: [CommandSpec] = [open, aware, update, classify, submit, withdraw, close, show, timers]
    static let common: Set<String> = ["store", "tenant", "by"]

    static let open = CommandSpec(
        path: ["incident", "open"], summary: "open an incident at detection",
        help: """
        usage: nis2ctl incident open --store DIR --tenant ID --id INCIDENT --entity TYPE --detected-at TS
                                     [--title TEXT] [--facts FILE] [--narrative FILE] [--ch-discovered-at TS] [--by WHO]

          --entity TYPE          an IR 2024/2690 entity type (e.g. managedServiceProvider) or a NIS2 sector
          --detected-at TS       detection time, ISO-8601 with offset (awareness is confirmed separately)
          --facts FILE           facts in the rule-book format (section 0); occurredAt/awareAt default to detection
          --narrative FILE       report items (reportingOrganisation, contactEmail, indicators, ...)
          --ch-discovered-at TS  start the Swiss ISG clock (24 h report, 14 days completion)
        """,
        options: common.union(["id", "entity", "detected-at", "title", "facts", "narrative", "ch-discovered-at"])
    ) { a in
        try await IncidentDesk.run {
            let desk = try IncidentDesk.open(a)
            defer { try? desk.store.close() }
            let id = try a.required("id")
            guard let detected = try IncidentDesk.time(a, "detected-at") else { throw UsageError("missing required option --detected-at") }
            let entity = try ReportingEntity(rawValue: try a.required("entity"), caseID: id)
            let facts = try a.value("facts").map { try IncidentDesk.facts($0, id: id, detectedAt: detected) }
                ?? IncidentFacts(occurredAt: detected, awareAt: detected)
            let narrative = try a.value("narrative").map(IncidentDesk.narrative) ?? IncidentNarrative()
            let i = try await desk.lifecycle.open(id: id, entity: entity, title: a.value("title") ?? id, detectedAt: detected, facts: facts,
                                                  narrative: narrative, swissDiscoveredAt: try IncidentDesk.time(a, "ch-discovered-at"), by: IncidentDesk.actor(a))
            Console.out("opened \(i.id) (\(i.entity.rawValue)), detected \(Timestamp.format(i.detectedAt)); confirm awareness with 'nis2ctl incident aware'")
            return .success
        }
    }

    static let aware = CommandSpec(
        path: ["incident", "aware"], summary: "a person confirms awareAt; classifies and starts the clocks",
        help: "usage: nis2ctl incident aware --store DIR --tenant ID --id INCIDENT --aware-at TS --by PERSON",
        options: common.union(["id", "aware-at"])
    ) { a in
        try await IncidentDesk.run {
            guard let person = a.value("by"), !person.isEmpty else { throw UsageError("--by PERSON is required: a person confirms awareAt") }
            guard let at = try IncidentDesk.time(a, "aware-at") else { throw UsageError("missing required option --aware-at") }
            let desk = try IncidentDesk.open(a)
            defer { try? desk.store.close() }
            let i = try await desk.lifecycle.confirmAwareness(try a.required("id"), awareAt: at, by: person)
            try printSummary(i, desk: desk)
            return .success
        }
    }

    static let update = CommandSpec(
        path: ["incident", "update"], summary: "update facts or report items; re-classifies",
        help: """
        usage: nis2ctl incident update --store DIR --tenant ID --id INCIDENT [--facts FILE] [--narrative FILE]
                                       [--entity TYPE] [--handled-at TS] [--gdpr-aware-at TS] [--ch-discovered-at TS]
                                       [--intermediate-due TS] [--by WHO]
        """,
        options: common.union(["id", "facts", "narrative", "entity", "handled-at", "gdpr-aware-at", "ch-discovered-at", "intermediate-due"])
    ) { a in
        try await IncidentDesk.run {
            let desk = try IncidentDesk.open(a)
            defer { try? desk.store.close() }
            let id = try a.required("id")
            let current = try await desk.lifecycle.incident(id)
            let i = try await desk.lifecycle.update(
                id, facts: try a.value("facts").map { try IncidentDesk.facts($0, id: id, detectedAt: current.detectedAt) },
                narrative: try a.value("narrative").map(IncidentDesk.narrative),
                entity: try a.value("entity").map { try ReportingEntity(rawValue: $0, caseID: id) },
                handledAt: try IncidentDesk.time(a, "handled-at"), gdprAwareAt: try IncidentDesk.time(a, "gdpr-aware-at"),
                swissDiscoveredAt: try IncidentDesk.time(a, "ch-discovered-at"), intermediateReportRequestedDue: try IncidentDesk.time(a, "intermediate-due"),
                by: IncidentDesk.actor(a))
            try printSummary(i, desk: desk)
            return .success
        }
    }

    static let classify = CommandSpec(
        path: ["incident", "classify"], summary: "classify the incident's current facts",
        help: "usage: nis2ctl incident classify --store DIR --tenant ID --id INCIDENT [--json] [--by WHO]",
        options: common.union(["id"]), flags: ["json"]
    ) { a in
        try await IncidentDesk.run {
            let desk = try IncidentDesk.open(a)
            defer { try? desk.store.close() }
            let id = try a.required("id")
            let i = try await desk.lifecycle.classify(id, by: IncidentDesk.actor(a))
            if a.flag("json") {
                let c = try SeverityEngine().classify(i.entity, facts: i.effectiveFacts, caseID: id)
                Console.out(c.resultJSON.text())
            } else {
                try printSummary(i, desk: desk)
            }
            return .success
        }
    }

    static let submit = CommandSpec(
        path: ["incident", "submit"], summary: "record that a report went to the authority",
        help: """
        usage: nis2ctl incident submit --store DIR --tenant ID --id INCIDENT --stage STAGE [--at TS] [--reference RECEIPT] [--by WHO]

          --stage   early-warning | notification | intermediate | progress | final | ch-isg
          --at      submission time (default: now); the final-report clock runs from the notification's
        """,
        options: common.union(["id", "stage", "at", "reference"])
    ) { a in
        try await IncidentDesk.run {
            let raw = try a.required("stage")
            guard let stage = ReportStage(rawValue: raw) else {
                throw UsageError("--stage must be one of " + ReportStage.allCases.map(\.rawValue).joined(separator: ", "))
            }
            let desk = try IncidentDesk.open(a)
            defer { try? desk.store.close() }
            let i = try await desk.lifecycle.submit(try a.required("id"), stage: stage, at: try IncidentDesk.time(a, "at"),
                                                    reference: a.value("reference"), by: IncidentDesk.actor(a))
            try printSummary(i, desk: desk)
            return .success
        }
    }

    static let withdraw = CommandSpec(
        path: ["incident", "withdraw"], summary: "withdraw: the suspicion was not confirmed",
        help: "usage: nis2ctl incident withdraw --store DIR --tenant ID --id INCIDENT --reason TEXT [--by WHO]",
        options: common.union(["id", "reason"])
    ) { a in
        try await IncidentDesk.run {
            let desk = try IncidentDesk.open(a)
            defer { try? desk.store.close() }
            let i = try await desk.lifecycle.withdraw(try a.required("id"), reason: try a.required("reason"), by: IncidentDesk.actor(a))
            Console.out("\(i.id) withdrawn: \(i.withdrawalReason ?? "")")
            return .success
        }
    }

    static let close = CommandSpec(
        path: ["incident", "close"], summary: "close after the final report (or when not significant)",
        help: "usage: nis2ctl incident close --store DIR --tenant ID --id INCIDENT [--by WHO]",
        options: common.union(["id"])
    ) { a in
        try await IncidentDesk.run {
            let desk = try IncidentDesk.open(a)
            defer { try? desk.store.close() }
            let i = try await desk.lifecycle.close(try a.required("id"), by: IncidentDesk.actor(a))
            Console.out("\(i.id) closed")
            return .success
        }
    }

    static let show = CommandSpec(
        path: ["incident", "show"], summary: "list incidents, or show one with deadlines and history",
        help: "usage: nis2ctl incident show --store DIR --tenant ID [--id INCIDENT]",
        options: ["store", "tenant", "id"]
    ) { a in
        try await IncidentDesk.run {
            let desk = try IncidentDesk.open(a)
            defer { try? desk.store.close() }
            if let id = a.value("id") {
                let i = try await desk.lifecycle.incident(id)
                try printSummary(i, desk: desk)
                Console.out("history:")
                for h in i.history { Console.out("  #\(h.revision) \(Timestamp.format(h.at)) \(h.by): \(h.change)") }
            } else {
                for i in try await desk.lifecycle.all() {
                    Console.out("\(i.id)\t\(i.stage.rawValue)\t\(i.significant.map { $0 ? "significant" : "not significant" } ?? "undecided")\t\(i.title)")
                }
            }
            return .success
        }
    }

    static let timers = CommandSpec(
        path: ["incident", "timers"], summary: "list deadline reminders; --fire delivers those due",
        help: """
        usage: nis2ctl incident timers --store DIR --tenant ID [--id INCIDENT] [--fire]

        Reminders persist in the tenant's incidents.sqlite. --fire delivers every reminder whose
        time has come (also those missed while nothing ran), each exactly once; run it from cron
        or a systemd timer.
        """,
        options: ["store", "tenant", "id"], flags: ["fire"]
    ) { a in
        try await IncidentDesk.run {
            let desk = try IncidentDesk.open(a)
            defer { try? desk.store.close() }
            if a.flag("fire") {
                let fired = try await desk.scheduler.fireDue()
                Console.out("\(fired.count) reminder(s) delivered")
            }
            var ids = a.values("id")
            if ids.isEmpty { ids = try await desk.lifecycle.all().map(\.id) }
            for id in ids {
                for r in try await desk.reminders.reminders(tenant: desk.tenant, incidentID: id) {
                    Console.out("\(id)\t\(r.kind.rawValue)\tfires \(Timestamp.format(r.fireAt))\tdue \(Timestamp.format(r.due))\t"
                                + (r.firedAt.map { "fired \(Timestamp.format($0))" } ?? "pending"))
                }
            }
            return .success
        }
    }

    static func printSummary(_ i: Incident, desk: IncidentDesk) throws {
        Console.out("\(i.id) — \(i.title)")
        Console.out("  entity      \(i.entity.rawValue)")
        Console.out("  stage       \(i.stage.rawValue)")
        Console.out("  detected    \(Timestamp.format(i.detectedAt))")
        Console.out("  aware       \(i.awareAt.map { Timestamp.format($0) + " (confirmed by \(i.awareConfirmedBy ?? "?"))" } ?? "not confirmed")")
        Console.out("  significant \(i.significant.map { $0 ? "yes: " + i.criteria.joined(separator: ", ") : "no" } ?? "not decided")")
        for d in i.openDeadlines(policy: .standard) {
            Console.out("  due         \(Timestamp.format(d.due))  \(d.kind.rawValue) — \(d.basis)")
        }
    }
}
