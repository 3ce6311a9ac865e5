import EvidenceCore
import EvidencePortals
import Foundation
import NIS2Reporting

/// `nis2ctl report submit`: a report stage mapped to a national form, handed to a portal, the
/// receipt written into the tenant's log and the incident's clocks advanced.
enum PortalCommands {
    static let all: [CommandSpec] = [submit]

    static let submit = CommandSpec(
        path: ["report", "submit"], summary: "submit a report through a portal; the receipt goes into the log",
        help: """
        usage: nis2ctl report submit --store DIR --tenant ID --incident ID --stage STAGE
                                     --portal file-drop:DIR|https:URL [--mapping NAME] [--pdf FILE]
                                     [--allow-incomplete] [--by WHO] [--json]

        Drafts STAGE, maps it to the national form, submits it, appends a report.submitted
        record (portal, reference, payload SHA-256) and records the submission in the incident
        lifecycle, which moves its deadlines on.

          --stage    early-warning | notification | intermediate | progress | final | ch-isg
          --portal   file-drop:DIR   portal-ready JSON (+ --pdf) written into DIR
                     https:URL       JSON POST with retry and backoff; URL is https://… (http only to 127.0.0.1)
          --mapping  neutral (default) | bsi | ccb | anssi | ncsc-nl | cert-at | ch-ncsc
                     All EU field names are INFERRED (no verified national field list); ch-ncsc
                     follows the items of Art. 15 CSV. The payload and the output say so.
          --pdf FILE attach a PDF (e.g. report.pdf from an evidence pack) to a file drop
          --allow-incomplete  submit even when required items are missing (they are listed)
        """,
        options: ["store", "tenant", "incident", "stage", "portal", "mapping", "pdf", "by"], flags: ["allow-incomplete", "json"]
    ) { a in
        try await IncidentDesk.run {
            guard let stage = ReportStage(rawValue: try a.required("stage")) else {
                throw UsageError("--stage must be one of " + ReportStage.allCases.map(\.rawValue).joined(separator: ", "))
            }
            let mapping: NationalMapping
            do { mapping = try NationalMapping.named(a.value("mapping") ?? "neutral") } catch let e as PortalError { throw UsageError(e.message) }
            let portal = try portal(try a.required("portal"))
            var attachments: [PortalAttachment] = []
            if let pdf = a.value("pdf") {
                guard let d = FileManager.default.contents(atPath: pdf) else { throw UsageError("cannot read --pdf \(pdf)") }
                attachments.append(PortalAttachment(name: (pdf as NSString).lastPathComponent, bytes: Array(d)))
            }
            let desk = try IncidentDesk.open(a)
            defer { try? desk.store.close() }
            let submitter = ReportSubmitter(lifecycle: desk.lifecycle, evidence: desk.store)
            let r: SubmittedReport
            do {
                r = try await submitter.submit(incident: try a.required("incident"), stage: stage, mapping: mapping, portal: portal,
                                               attachments: attachments, by: IncidentDesk.actor(a), allowIncomplete: a.flag("allow-incomplete"))
            } catch let e as PortalError {
                Console.err(e.message)
                return [.refused, .unavailable, .badReceipt, .dropFolder].contains(e.code) ? .failure : .usage
            }
            if a.flag("json") {
                Console.json(.object(["portal": .string(r.receipt.portal), "reference": .string(r.receipt.reference),
                                      "payloadSHA256": .string(r.receipt.payloadSHA256.hex), "receivedAt": .string(Timestamp.format(r.receipt.receivedAt)),
                                      "mapping": .string(mapping.id), "mappingInferred": .bool(mapping.isInferred), "record": .number(Double(r.recordIndex)),
                                      "incidentStage": .string(r.incident.stage.rawValue)]))
            } else {
                printReceipt(r, mapping: mapping)
            }
            return .success
        }
    }

    static func printReceipt(_ r: SubmittedReport, mapping: NationalMapping) {
        Console.out("submitted \(r.document.draft.stage.rawValue) of \(r.document.draft.incidentID) to \(r.receipt.portal)")
        Console.out("  receipt     \(r.receipt.reference) at \(Timestamp.format(r.receipt.receivedAt))")
        Console.out("  payload     SHA-256 \(r.receipt.payloadSHA256.hex)")
        Console.out("  mapping     \(mapping.id) (\(mapping.authority))" + (mapping.isInferred ? " — INFERRED field names: no verified national field list" : ""))
        Console.out("  log         report.submitted record \(r.recordIndex); incident now \(r.incident.stage.rawValue)")
        for d in r.incident.openDeadlines(policy: .standard) { Console.out("  next due    \(Timestamp.format(d.due))  \(d.kind.rawValue)") }
    }

    /// `file-drop:DIR` or `https:URL` (`https:https://…` and `https://…` both accepted).
    static func portal(_ spec: String) throws -> any RegulatorPortal {
        if spec.hasPrefix("file-drop:") {
            let dir = String(spec.dropFirst("file-drop:".count))
            guard !dir.isEmpty else { throw UsageError("--portal file-drop:DIR needs a folder") }
            return FileDropPortal(folder: dir)
        }
        var raw = spec
        if raw.hasPrefix("https:") && !raw.hasPrefix("https://") { raw = String(raw.dropFirst("https:".count)) }
        guard raw.hasPrefix("https://") || raw.hasPrefix("http://"), let url = URL(string: raw) else {
            throw UsageError("--portal must be file-drop:DIR or https:URL, not '\(spec.prefix(80))'")
        }
        do { return try HTTPSPortal(url: url) } catch let e as PortalError { throw UsageError(e.message) }
    }
}
