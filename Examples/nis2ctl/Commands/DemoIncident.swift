import EvidenceCore
import EvidencePortals
import EvidenceSQLite
import Foundation
import NIS2Reporting

/// The incident part of `nis2ctl demo`: a simulated intrusion at the MSP, opened at
/// detection, awareness confirmed by a person, classified under IR 2024/2690, drafted for the
/// 24 h and 72 h stages and submitted through a portal. State lives where the `incident`
/// commands keep it (`tenants/<id>/incidents.sqlite`), so the CLI can carry on afterwards.
struct DemoIncident {
    let store: EvidenceStore
    let lifecycle: IncidentLifecycle
    let clock: any WallClock
    var tenant: TenantID { DemoCommand.tenant }
    var id: String { DemoCommand.incidentID }
    static let manager = "https://idp.msp.example#carol"

    init(store: EvidenceStore, clock: any WallClock) throws {
        self.store = store; self.clock = clock
        let path = store.root + "/tenants/\(DemoCommand.tenant.rawValue)/incidents.sqlite"
        lifecycle = IncidentLifecycle(tenant: DemoCommand.tenant, evidence: store, state: try SQLiteIncidentStateStore(path: path), clock: clock)
    }

    /// Opens, links the recorded session and grant, confirms awareness (which classifies).
    func run(sessionID: String, grantID: String) async throws {
        let now = clock.now()
        let detected = now.addingTimeInterval(-40 * 60)
        var facts = IncidentFacts(occurredAt: now.addingTimeInterval(-3 * 3600), awareAt: detected)
        facts.unauthorisedAccess = .init(successful: true, suspectedMalicious: true, capableOfSevereOperationalDisruption: false)
        var compromise = IncidentFacts.DataCompromise()
        compromise.integrity = true; compromise.suspectedMalicious = true; compromise.usersAffected = 2; compromise.cause = "maliciousAction"
        facts.dataCompromise = compromise
        facts.totalUsersInUnion = 900
        facts.rootCause = "stolen technician session token"
        try await lifecycle.open(id: id, entity: .regulated(.managedServiceProvider), title: "Backup retention shortened through a stolen technician session",
                                 detectedAt: detected, facts: facts, narrative: Self.narrative(sessionID: sessionID, grantID: grantID), by: Self.manager)
        Console.out("opened \(id) at detection \(Timestamp.format(detected)) (managedServiceProvider)")
        // The privileged session that investigated belongs to the incident's evidence.
        _ = try await store.append(EvidenceRecord(kind: "incident.evidence", tenant: tenant, time: clock.now(), actor: Self.manager, body: .object([
            "incident": .string(id), "sessions": .array([.string(sessionID)]), "grants": .array([.string(grantID)]),
            "note": .string("investigation session under the just-in-time grant"),
        ])))
        let aware = now.addingTimeInterval(-20 * 60)
        let i = try await lifecycle.confirmAwareness(id, awareAt: aware, by: Self.manager)
        Console.out("awareness confirmed by \(Self.manager) at \(Timestamp.format(aware))")
        Console.out("classified: " + (i.significant == true ? "SIGNIFICANT (\(i.criteria.joined(separator: ", ")))" : i.significant == false ? "not significant" : "needs a human decision"))
        for d in i.openDeadlines(policy: .standard) { Console.out("  due \(Timestamp.format(d.due))  \(d.kind.rawValue)") }
    }

    static func narrative(sessionID: String, grantID: String) -> IncidentNarrative {
        var n = IncidentNarrative()
        n.description = "An attacker used a stolen technician session token to shorten the backup retention of two customers."
        n.suspectedUnlawfulOrMalicious = true
        n.crossBorderImpact = false
        n.attackTypeAndExecution = "Session token theft from a technician workstation, then use of the RMM console."
        n.rootCauseOrThreatType = "Stolen technician session token (infostealer)"
        n.effects = "Backup retention of two customers reduced from 30 to 2 days; no data loss found so far."
        n.impactOnFunctioning = "Managed backup service degraded for two customers; other services unaffected."
        n.mitigationsApplied = ["technician sessions revoked", "retention restored to 30 days", "just-in-time access enforced on the RMM console"]
        n.mitigationsOngoing = ["forensic review of the technician workstation"]
        n.plannedNextSteps = "Complete forensics, rotate RMM API keys, review conditional-access policy."
        n.extortionThreatsOrCoercion = false
        n.criminalComplaintFiled = false
        n.recipientsInformed = true
        n.recipientsInformedDetails = "both affected customers informed by phone and e-mail"
        n.reportingOrganisation = "Demo MSP GmbH"
        n.reportingOrganisationAddress = "Musterstraße 1, 10115 Berlin"
        n.contactName = "Carol Incident-Manager"
        n.contactEmail = "security@msp.example"
        n.contactPhone = "+49 30 1234567"
        n.affectedServices = ["managed backup"]
        n.affectedTenants = ["acme-gmbh"]
        n.indicators = [Indicator(kind: .ipv4, value: "203.0.113.45", description: "source of the token replay")]
        n.relatedEvidence = [sessionID, grantID]
        return n
    }

    struct DraftFile { var stage: ReportStage; var language: ReportLanguage; var path: String; var complete: Bool; var missing: [String] }

    /// Early warning and notification, Markdown in en and de plus the neutral JSON.
    func writeDrafts(into folder: String) async throws -> [DraftFile] {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var out: [DraftFile] = []
        for stage in [ReportStage.earlyWarning, .notification] {
            let d = try await lifecycle.draft(id, stage: stage)
            let json = folder + "/\(id)-\(stage.rawValue).json"
            try write(d.render(.json), to: json)
            for lang in [ReportLanguage.en, .de] {
                let path = folder + "/\(id)-\(stage.rawValue).\(lang.rawValue).md"
                try write(d.render(.md, language: lang), to: path)
                out.append(DraftFile(stage: stage, language: lang, path: path, complete: d.isComplete, missing: d.missing.map(\.rawValue)))
            }
            Console.out("\(stage.rawValue): " + (d.isComplete ? "complete" : "missing " + d.missing.map(\.rawValue).joined(separator: ", "))
                        + (d.optionalMissing.isEmpty ? "" : "; not yet known: " + d.optionalMissing.map(\.rawValue).joined(separator: ", ")))
        }
        return out
    }

    /// Submits the early warning (BSI mapping, marked inferred) with the pack's report.pdf to a
    /// file-drop folder; the receipt becomes a `report.submitted` record and moves the clocks.
    func submitEarlyWarning(drop: String, pdfFrom pack: String, outputs: inout [(what: String, path: String)]) async throws {
        let zip = try ZipArchiveReader(path: pack)
        guard let entry = zip.entry(EvidencePackFormat.reportPath) else { throw EvidenceError(.notFound, "\(pack) has no report.pdf") }
        let pdf = try zip.read(entry, limit: EvidencePackFormat.maxReportBytes)
        let submitter = ReportSubmitter(lifecycle: lifecycle, evidence: store)
        let r = try await submitter.submit(incident: id, stage: .earlyWarning, mapping: .bsi, portal: FileDropPortal(folder: drop, clock: clock),
                                           attachments: [PortalAttachment(name: "report.pdf", bytes: pdf)], by: Self.manager)
        Console.out("dropped \(r.receipt.reference) (+ report.pdf) into \(drop)")
        Console.out("receipt: reference \(r.receipt.reference), payload SHA-256 \(r.receipt.payloadSHA256.hex)")
        Console.out("mapping: BSI — INFERRED field names (no verified BSI portal field list; rule book §5)")
        Console.out("log: report.submitted record \(r.recordIndex); incident now \(r.incident.stage.rawValue)")
        for d in r.incident.openDeadlines(policy: .standard) { Console.out("  next due \(Timestamp.format(d.due))  \(d.kind.rawValue)") }
        outputs.append(("file-drop portal (JSON + PDF)", drop))
    }

    func write(_ text: String, to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) else { throw EvidenceError(.io, "cannot write \(path)") }
    }
}
