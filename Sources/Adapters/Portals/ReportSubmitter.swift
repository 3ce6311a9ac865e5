import EvidenceCore
import Foundation
import NIS2Reporting

/// What one submission produced.
public struct SubmittedReport: Sendable {
    public var receipt: RegulatorReceipt
    public var document: PortalDocument
    /// Index of the `report.submitted` record in the tenant's log.
    public var recordIndex: UInt64
    /// The incident after its clocks moved (`IncidentLifecycle.submit`).
    public var incident: Incident
}

/// Drafts a report stage, maps it to a national form, hands it to a portal, writes the
/// receipt into the tenant's log and advances the incident's clocks.
///
/// Record `report.submitted` (body): `incident`, `stage`, `portal`, `reference`,
/// `payloadSHA256`, `receivedAt`, `mapping`, `mappingInferred`, `complete`, `attachments`
/// [{name, sha256, size}]. It is appended as soon as the portal has acknowledged, before the
/// lifecycle's own `incident.submitted` record, so a receipt is never lost.
///
/// Guarantees: nothing goes to the portal when the draft lacks a required item (unless
/// `allowIncomplete`), when the authority does not take the stage, or when the stage
/// (early warning, notification, final) was already submitted; the receipt's digest is of the
/// exact bytes sent.
public struct ReportSubmitter: Sendable {
    public let lifecycle: IncidentLifecycle
    public let evidence: any EvidenceRecordSink

    public init(lifecycle: IncidentLifecycle, evidence: any EvidenceRecordSink) {
        self.lifecycle = lifecycle; self.evidence = evidence
    }

    public static let recordKind = "report.submitted"

    public func submit(incident id: String, stage: ReportStage, mapping: NationalMapping, portal: any RegulatorPortal,
                       attachments: [PortalAttachment] = [], by actor: String, allowIncomplete: Bool = false) async throws -> SubmittedReport {
        let before = try await lifecycle.incident(id)
        if [.earlyWarning, .notification, .final].contains(stage), let s = before.submitted(stage) {
            throw PortalError(.alreadySubmitted, "the \(stage.rawValue) of \(id) was already submitted \(Timestamp.format(s.at))" + (s.reference.map { " (receipt \($0))" } ?? "") + "; nothing sent")
        }
        if stage != .chISG {
            guard before.awareAt != nil, before.significant == true else {
                throw PortalError(.unsupportedStage, "\(id) is not a confirmed significant incident (awareness confirmed: \(before.awareAt != nil), significant: \(before.significant.map(String.init) ?? "undecided")); nothing sent")
            }
            let order: [ReportStage: IncidentStage] = [.earlyWarning: .aware, .notification: .earlyWarningSubmitted, .final: .notificationSubmitted,
                                                       .intermediate: .notificationSubmitted, .progress: .notificationSubmitted]
            if let need = order[stage], before.stage != need {
                throw PortalError(.unsupportedStage, "the \(stage.rawValue) of \(id) needs the incident at stage \(need.rawValue), it is \(before.stage.rawValue); nothing sent")
            }
        }
        let draft = try await lifecycle.draft(id, stage: stage)
        if !draft.isComplete && !allowIncomplete {
            throw PortalError(.incompleteReport, "the \(stage.rawValue) draft of \(id) lacks required items: " + draft.missing.map(\.rawValue).joined(separator: ", ")
                              + "; add them with 'nis2ctl incident update --narrative FILE' (nothing was sent)")
        }
        let document = try PortalDocument(draft: draft, mapping: mapping)
        let submission = RegulatorSubmission(tenant: before.tenant, incidentID: id, stage: stage.rawValue, payload: document.bytes,
                                             contentType: PortalDocument.contentType)
        let receipt: RegulatorReceipt
        if let drop = portal as? FileDropPortal {
            receipt = try await drop.submit(submission, attachments: attachments)
        } else {
            receipt = try await portal.submit(submission)
        }
        let sha = PortableSHA256()
        let body: [String: JSONValue] = [
            "incident": .string(id), "stage": .string(stage.rawValue), "portal": .string(receipt.portal), "reference": .string(receipt.reference),
            "payloadSHA256": .string(receipt.payloadSHA256.hex), "receivedAt": .string(Timestamp.format(receipt.receivedAt)),
            "mapping": .string(mapping.id), "mappingInferred": .bool(mapping.isInferred), "complete": .bool(draft.isComplete),
            "attachments": .array(portal is FileDropPortal ? attachments.map { a in
                .object(["name": .string(a.name), "sha256": .string(sha.hash(bytes: a.bytes).hex), "size": .number(Double(a.bytes.count))])
            } : []),
        ]
        let index = try await evidence.append(EvidenceRecord(kind: Self.recordKind, tenant: before.tenant, time: receipt.receivedAt, actor: actor, body: .object(body)))
        let incident = try await lifecycle.submit(id, stage: stage, at: receipt.receivedAt, reference: receipt.reference, by: actor)
        return SubmittedReport(receipt: receipt, document: document, recordIndex: index, incident: incident)
    }
}
