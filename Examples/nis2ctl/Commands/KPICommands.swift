import EvidenceCore
import Foundation
import NIS2Reporting

/// `nis2ctl kpi`: the pilot's key figures per tenant, recomputed from the evidence log.
enum KPICommands {
    static let all: [CommandSpec] = [kpi]

    static let kpi = CommandSpec(
        path: ["kpi"], summary: "time to draft/final, capture ratio, classification changes (from the log)",
        help: """
        usage: nis2ctl kpi --store DIR [--tenant ID] [--json]

          time to draft       awareness confirmed -> first report submitted (per incident; median)
          time to final       awareness confirmed -> final report submitted
          capture ratio       privileged actions covered by an RFC 3161 time anchor / all recorded
                              actions (actions with only a local-clock or NTS sample shown apart)
          classification changes after review
                              re-classifications and human decisions that changed significance
        Every figure comes from the tenant's log records, so an auditor can recompute it.
        """,
        options: ["store", "tenant"], flags: ["json"]
    ) { a in
        let store = try StoreAccess.open(try a.required("store"), signing: false)
        let tenants = a.value("tenant") != nil ? [try a.tenant()] : try store.tenants().sorted { $0.rawValue < $1.rawValue }
        var rows: [JSONValue] = []
        for t in tenants {
            let k = ReportingKPIs(tenant: t, records: try await store.records(tenant: t, from: 0))
            if a.flag("json") { rows.append(json(k)) } else { printTable(k) }
        }
        if a.flag("json") { Console.json(.object(["tenants": .array(rows)])) }
        return .success
    }

    static func json(_ k: ReportingKPIs) -> JSONValue {
        func n(_ d: Double?) -> JSONValue { d.map { .number(($0 * 1000).rounded() / 1000) } ?? .null }
        return .object([
            "tenant": .string(k.tenant.rawValue),
            "privilegedActions": .number(Double(k.privilegedActions)), "actionsWithTimeAnchor": .number(Double(k.actionsWithTimeAnchor)),
            "actionsWithClockSampleOnly": .number(Double(k.actionsWithClockSampleOnly)), "captureRatio": n(k.captureRatio),
            "medianTimeToDraftSeconds": n(k.medianTimeToDraftSeconds), "medianTimeToFinalSeconds": n(k.medianTimeToFinalSeconds),
            "classificationChangesAfterReview": .number(Double(k.classificationChangesAfterReview)),
            "incidents": .array(k.incidents.map { i in .object([
                "incident": .string(i.incident), "timeToDraftSeconds": n(i.timeToDraftSeconds), "timeToFinalSeconds": n(i.timeToFinalSeconds),
                "classificationChanges": .number(Double(i.classificationChanges)),
            ]) }),
        ])
    }

    static func duration(_ s: Double?) -> String {
        guard let s else { return "—" }
        return s >= 3600 ? String(format: "%.1f h", s / 3600) : String(format: "%.0f min", s / 60)
    }

    static func printTable(_ k: ReportingKPIs) {
        Console.out("tenant \(k.tenant)")
        Console.out("  time to draft (median)      \(duration(k.medianTimeToDraftSeconds))")
        Console.out("  time to final (median)      \(duration(k.medianTimeToFinalSeconds))")
        let ratio = k.captureRatio.map { String(format: "%.0f %%", $0 * 100) } ?? "—"
        Console.out("  capture ratio               \(ratio) (\(k.actionsWithTimeAnchor) of \(k.privilegedActions) actions under an RFC 3161 anchor"
                    + (k.actionsWithClockSampleOnly > 0 ? "; \(k.actionsWithClockSampleOnly) under a local-clock/NTS sample only, not third-party verifiable" : "") + ")")
        Console.out("  classification changes      \(k.classificationChangesAfterReview)")
        for i in k.incidents {
            Console.out("  incident \(i.incident): draft \(duration(i.timeToDraftSeconds)), final \(duration(i.timeToFinalSeconds)), changes \(i.classificationChanges)")
        }
    }
}
