import EvidenceCore
import Foundation
import NIS2Reporting

/// `nis2ctl report draft`: a report draft for one stage, from the incident and the evidence log.
enum ReportCommands {
    static let all: [CommandSpec] = [draft]

    static let draft = CommandSpec(
        path: ["report", "draft"], summary: "draft a report (early warning, notification, ..., Swiss ISG)",
        help: """
        usage: nis2ctl report draft --store DIR --tenant ID --incident INCIDENT
                                    --stage early-warning|notification|intermediate|progress|final|ch-isg
                                    [--lang en|fr|de] [--format json|md|html] [--out FILE]

        Fills the neutral report model (NIS2 Art 23 items and Swiss CSV items) from the incident
        and the tenant's evidence log. Items that are not known are listed as missing, never
        invented. Exit status 0 when every mandatory item is present, 1 when some are missing
        (the draft is still printed), 2 on bad input.
        """,
        options: ["store", "tenant", "incident", "stage", "lang", "format", "out"]
    ) { a in
        try await IncidentDesk.run {
            guard let stage = ReportStage(rawValue: try a.required("stage")) else {
                throw UsageError("--stage must be one of " + ReportStage.allCases.map(\.rawValue).joined(separator: ", "))
            }
            guard let lang = ReportLanguage(rawValue: a.value("lang") ?? "en") else { throw UsageError("--lang must be en, fr or de") }
            guard let format = ReportFormat(rawValue: a.value("format") ?? "md") else { throw UsageError("--format must be json, md or html") }
            let desk = try IncidentDesk.open(a)
            defer { try? desk.store.close() }
            let d = try await desk.lifecycle.draft(try a.required("incident"), stage: stage)
            let text = d.render(format, language: lang)
            if let out = a.value("out") {
                guard FileManager.default.createFile(atPath: out, contents: Data(text.utf8)) else { throw UsageError("cannot write \(out)") }
                Console.out("wrote \(out)")
            } else {
                Console.out(text)
            }
            if !d.isComplete { Console.err("draft incomplete, missing: " + d.missing.map(\.rawValue).joined(separator: ", ")) }
            return d.isComplete ? .success : .verificationFailed
        }
    }
}
