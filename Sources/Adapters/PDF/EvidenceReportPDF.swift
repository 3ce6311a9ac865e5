import EvidenceCore
import Foundation

/// The human-readable `report.pdf` of an evidence pack: cover (tenant, incident, stage,
/// deadlines), severity with criteria and explanations, timeline, time proofs with what each
/// proves, file hashes, retention and custody — with `manifest.json` attached (PDF/A-3 style,
/// `/AFRelationship /Source`), stored uncompressed so a verifier can find it byte for byte.
///
/// Fonts: DejaVu Sans, Sans Bold and Sans Mono from `fonts-dejavu-core`, embedded as subsets.
/// Guarantees: the same manifest and timeline give the same bytes.
/// Refuses: to render when the fonts are missing (the error names the package).
public struct EvidenceReportPDF: EvidencePackRenderer {
    public var fontDirectory: String
    /// Timeline rows shown before "… N more in records/log.jsonl".
    public var maxTimelineRows: Int

    public init(fontDirectory: String = "/usr/share/fonts/truetype/dejavu", maxTimelineRows: Int = 200) {
        self.fontDirectory = fontDirectory; self.maxTimelineRows = maxTimelineRows
    }

    public func render(manifest: [UInt8], parsed m: JSONValue, timeline: [EvidenceRecord]) throws -> [UInt8] {
        let pdf = try PDFDocumentWriter(regular: fontDirectory + "/DejaVuSans.ttf", bold: fontDirectory + "/DejaVuSans-Bold.ttf",
                                        mono: fontDirectory + "/DejaVuSansMono.ttf")
        var page = PageLayout(pdf: pdf, footer: "manifest SHA-256 \(PortableSHA256().hash(bytes: manifest).hex)")
        let tenant = (m["tenant"]?.stringValue ?? "?") + (m["tenantName"]?.stringValue.map { " (\($0))" } ?? "")
        let inc = m["incident"]
        page.cover(title: inc?["title"]?.stringValue ?? "Evidence pack", tenant: tenant)

        // Cover facts.
        var facts: [(String, String)] = [("Tenant", tenant), ("Scope", Self.scope(m["scope"]))]
        if let inc {
            facts += [("Incident", inc["id"]?.stringValue ?? "?"), ("Stage", inc["stage"]?.stringValue ?? "?"),
                      ("Detected", inc["detectedAt"]?.stringValue ?? "—"), ("Aware (confirmed)", inc["awareAt"]?.stringValue ?? "not yet confirmed"),
                      ("Significant", inc["significant"]?.boolValue.map { $0 ? "yes" : "no" } ?? "not yet classified")]
        }
        facts += [("Pack created", m["createdAt"]?.stringValue ?? "?"), ("Log origin", m["origin"]?.stringValue ?? "?"),
                  ("Checkpoint", "tree size \(Self.int(m["log"]?["treeSize"])), root \(m["log"]?["root"]?.stringValue ?? "?")"),
                  ("Signed by", m["signing"]?["keyName"]?.stringValue ?? "?")]
        page.keyValues(facts)
        if let deadlines = inc?["deadlines"]?.arrayValue, !deadlines.isEmpty {
            page.heading("Reporting deadlines")
            page.table([("Report", 150, .bold), ("Due", 150, .regular), ("Status", 183, .regular)],
                       deadlines.map { [$0["report"]?.stringValue ?? "?", $0["dueAt"]?.stringValue ?? "?", $0["status"]?.stringValue ?? ""] })
        }
        page.heading("How to check this pack")
        page.paragraph("Every statement in this report comes from manifest.json, which is attached to this PDF and signed, together with this PDF, in manifest.sig (C2SP signed note, Ed25519). Offline: 'nis2ctl pack verify PACK.zip --key KEY' checks all of it; with standard tools: 'sha256sum -c SHA256SUMS', 'openssl ts -verify' for each token under time/, 'asciinema cat' for each recording. Docs/EvidencePack.md specifies the format.")

        if let inc, let criteria = inc["criteria"]?.arrayValue {
            page.heading("Severity: criteria and explanations")
            if let basis = inc["classificationBasis"]?.stringValue { page.paragraph(basis) }
            page.table([("Criterion", 150, .bold), ("Met", 40, .regular), ("Explanation", 293, .regular)],
                       criteria.map { [$0["criterion"]?.stringValue ?? "?", $0["met"]?.boolValue == true ? "yes" : "no", $0["explanation"]?.stringValue ?? ""] })
        }

        page.heading("Timeline")
        page.paragraph("Times are as recorded in the evidence log (UTC). Each record is in records/log.jsonl with an inclusion proof to the signed checkpoint.", size: 8.5, gray: 0.35)
        var rows = timeline.prefix(maxTimelineRows).map { r in [Timestamp.format(r.time), r.kind, r.actor ?? "system", Self.summary(r)] }
        if timeline.count > maxTimelineRows { rows.append(["…", "", "", "\(timeline.count - maxTimelineRows) more records in records/log.jsonl"]) }
        page.table([("Time (UTC)", 118, .mono), ("Event", 110, .bold), ("By", 85, .regular), ("Details", 170, .regular)], rows, size: 7.5)

        page.heading("Time proofs and what each proves")
        let anchors = m["time"]?["rfc3161"]?.arrayValue ?? [], samples = m["time"]?["nts"]?.arrayValue ?? []
        if anchors.isEmpty && samples.isEmpty {
            page.callout("Local clock only", EvidencePackFormat.localClockProves)
        }
        for a in anchors {
            page.callout("RFC 3161 token — \(a["genTime"]?.stringValue ?? "?") by \(a["tsa"]?.stringValue ?? "?")",
                         "\(a["token"]?.stringValue ?? "") over \(a["checkpoint"]?.stringValue ?? ""). Proves: \(EvidencePackFormat.rfc3161Proves).")
        }
        for s in samples {
            page.callout("NTS sample — \(s["time"]?.stringValue ?? "?") ± \(s["boundSeconds"]?.numberValue.map { String(format: "%.3f s", $0) } ?? "?")",
                         "Source \(s["source"]?.stringValue ?? "?"). Proves: \(EvidencePackFormat.ntsProves).", warn: true)
        }

        page.heading("Files and SHA-256")
        let files = m["files"]?.arrayValue ?? []
        page.table([("File", 190, .regular), ("Bytes", 60, .regular), ("SHA-256", 233, .mono)],
                   files.map { [$0["path"]?.stringValue ?? "?", Self.int($0["size"]), $0["sha256"]?.stringValue ?? "?"] }, size: 7)
        page.paragraph("manifest.json, report.pdf, manifest.sig and SHA256SUMS are not in this table: manifest.sig signs the digests of manifest.json and report.pdf, and SHA256SUMS lists every entry.", size: 8, gray: 0.35)

        page.heading("Retention and legal hold")
        let ret = m["retention"]
        page.paragraph("Store guarantee: \(ret?["store"]?.stringValue ?? "?") (enforcedRetention: the store refuses deletion; tamperEvidentOnly: changes are detected, not prevented).")
        let objs = ret?["objects"]?.arrayValue ?? []
        if !objs.isEmpty {
            page.table([("Object", 200, .mono), ("Mode", 80, .regular), ("Retain until", 130, .regular), ("Legal hold", 73, .regular)],
                       objs.map { [$0["object"]?.stringValue ?? "?", $0["mode"]?.stringValue ?? "?", $0["retainUntil"]?.stringValue ?? "?", $0["legalHold"]?.boolValue == true ? "placed" : "none"] }, size: 7.5)
        }

        page.heading("Chain of custody")
        page.table([("When (UTC)", 130, .mono), ("Action", 70, .bold), ("By", 140, .regular), ("Where / what", 143, .regular)],
                   (m["custody"]?.arrayValue ?? []).map { [$0["at"]?.stringValue ?? "?", $0["action"]?.stringValue ?? "?", $0["by"]?.stringValue ?? "?",
                                                           $0["host"]?.stringValue ?? ($0["manifestSHA256"]?.stringValue.map { "manifest " + $0.prefix(16) + "…" } ?? "")] })
        page.finish()
        return try pdf.build(title: "Evidence pack — \(tenant)" + (inc?["id"]?.stringValue.map { " — incident \($0)" } ?? ""),
                             subject: "NIS2 evidence pack with signed manifest",
                             attachments: [("manifest.json", manifest, "application/json", "Signed evidence-pack manifest (RFC 8785 JSON)")])
    }

    static func int(_ v: JSONValue?) -> String { v?.numberValue.map { String(Int64($0)) } ?? "?" }

    static func scope(_ v: JSONValue?) -> String {
        switch v?["kind"]?.stringValue {
        case "incident": return "incident \(v?["incident"]?.stringValue ?? "?")"
        case "session": return "session \(v?["session"]?.stringValue ?? "?")"
        case "timeWindow": return "\(v?["from"]?.stringValue ?? "?") to \(v?["to"]?.stringValue ?? "?")"
        default: return "?"
        }
    }

    /// One line about a record: its most telling body fields.
    static func summary(_ r: EvidenceRecord) -> String {
        guard case .object(let o) = r.body else { return "" }
        let preferred = ["change", "summary", "title", "stage", "session", "command", "reason", "genTime", "reference", "grant", "role", "target", "file"]
        var parts: [String] = []
        for k in preferred { if let v = o[k], let s = v.stringValue ?? v.numberValue.map({ String($0) }) { parts.append("\(k): \(s)") } }
        if parts.isEmpty { parts = o.keys.sorted().prefix(3).compactMap { k in o[k]?.stringValue.map { "\(k): \($0)" } } }
        return parts.prefix(3).joined(separator: "; ")
    }
}
