import EvidenceCore
import EvidencePortals
import Foundation
import NIS2Reporting
import Testing

@Suite("File drop", .timeLimit(.minutes(1)))
struct FileDropTests {
    func folder() -> String { NSTemporaryDirectory() + "portal-drop-\(UUID().uuidString)" }
    func submission(_ payload: String) throws -> RegulatorSubmission {
        RegulatorSubmission(tenant: try TenantID("acme"), incidentID: "INC-1", stage: "early-warning", payload: Array(payload.utf8), contentType: "application/json")
    }

    @Test func receiptNamesTheFileAndTheDigestOfItsBytes() async throws {
        let dir = folder(); defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try await FileDropPortal(folder: dir).submit(try submission("{\"a\":1}"), attachments: [PortalAttachment(name: "report.pdf", bytes: [0x25, 0x50])])
        let written = try #require(FileManager.default.contents(atPath: dir + "/" + r.reference))
        #expect(PortableSHA256().hash(bytes: Array(written)) == r.payloadSHA256)
        #expect(FileManager.default.fileExists(atPath: dir + "/" + r.reference.replacingOccurrences(of: ".json", with: "_report.pdf")))
    }

    @Test func sameSubmissionAgainReturnsTheSameReceipt() async throws {
        let dir = folder(); defer { try? FileManager.default.removeItem(atPath: dir) }
        let p = FileDropPortal(folder: dir)
        let a = try await p.submit(try submission("{\"a\":1}")), b = try await p.submit(try submission("{\"a\":1}"))
        #expect(a.reference == b.reference && a.payloadSHA256 == b.payloadSHA256)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).count == 1)
    }

    @Test func differentFileUnderTheSameNameIsNeverOverwritten() async throws {
        let dir = folder(); defer { try? FileManager.default.removeItem(atPath: dir) }
        let p = FileDropPortal(folder: dir)
        let r = try await p.submit(try submission("{\"a\":1}"))
        try Data("tampered".utf8).write(to: URL(fileURLWithPath: dir + "/" + r.reference))
        await #expect { _ = try await p.submit(try submission("{\"a\":1}")) } throws: { ($0 as? PortalError)?.code == .dropFolder }
    }
}

@Suite("HTTPS submission against a loopback portal", .serialized, .timeLimit(.minutes(1)))
struct HTTPSPortalTests {
    func submission() throws -> RegulatorSubmission {
        RegulatorSubmission(tenant: try TenantID("acme"), incidentID: "INC-1", stage: "early-warning", payload: Array("{\"x\":\"ä\"}".utf8), contentType: "application/json")
    }

    @Test func acceptedReportYieldsTheParsedReceipt() async throws {
        let peer = try PortalPeer()
        let r = try await HTTPSPortal(url: peer.url("/ok"), sleep: noSleep).submit(try submission())
        let digest = PortableSHA256().hash(bytes: try submission().payload)
        #expect(r.reference == "CASE-" + digest.hex.prefix(8))
        #expect(r.receivedAt == (try Timestamp.parse("2026-06-01T10:00:00Z")))
        #expect(r.payloadSHA256 == digest)
    }

    @Test func unavailablePortalIsRetriedWithTheSameIdempotencyKey() async throws {
        let peer = try PortalPeer()
        let r = try await HTTPSPortal(url: peer.url("/flaky"), sleep: noSleep).submit(try submission())
        #expect(r.reference.hasPrefix("CASE-"))
        let reqs = peer.requests()
        #expect(reqs.count == 2)
        #expect(Set(reqs.map { $0["key"] ?? "" }).count == 1)
        #expect(reqs.first?["key"]?.hasPrefix("acme/INC-1/early-warning/") == true)
    }

    @Test func refusalIsNotRetriedAndCarriesThePortalsMessage() async throws {
        let peer = try PortalPeer()
        await #expect { _ = try await HTTPSPortal(url: peer.url("/refuse"), sleep: noSleep).submit(try submission()) } throws: { e in
            guard let p = e as? PortalError else { return false }
            return p.code == .refused && p.message.contains("HTTP 400") && p.message.contains("field awareAt: not a valid date")
        }
        #expect(peer.requests().count == 1)
    }

    @Test func successWithoutReferenceIsNotAReceipt() async throws {
        let peer = try PortalPeer()
        await #expect { _ = try await HTTPSPortal(url: peer.url("/no-reference"), sleep: noSleep).submit(try submission()) } throws: { ($0 as? PortalError)?.code == .badReceipt }
    }

    @Test func oversizedAnswerIsRefusedWithinTheBound() async throws {
        let peer = try PortalPeer()
        await #expect { _ = try await HTTPSPortal(url: peer.url("/huge"), sleep: noSleep).submit(try submission()) } throws: { ($0 as? PortalError)?.code == .badReceipt }
    }

    @Test func plainHTTPToAnotherHostIsRefused() {
        #expect { _ = try HTTPSPortal(url: URL(string: "http://portal.example/api")!) } throws: { ($0 as? PortalError)?.code == .badAddress }
    }

    @Test func portalThatStaysDownGivesUpAfterTheAttempts() async throws {
        // Nothing listens on this port of 127.0.0.1: every attempt is a transport error.
        let portal = try HTTPSPortal(url: URL(string: "http://127.0.0.1:9/never")!, retry: PortalRetryPolicy(attempts: 3, timeout: .seconds(2)), sleep: noSleep)
        await #expect { _ = try await portal.submit(try submission()) } throws: { ($0 as? PortalError)?.code == .unavailable }
    }
}

@Suite("Receipt back into the log", .timeLimit(.minutes(1)))
struct SubmitterTests {
    @Test func receiptIsLoggedAndAdvancesTheIncident() async throws {
        let f = try await IncidentFixture()
        let dir = NSTemporaryDirectory() + "portal-drop-\(UUID().uuidString)"; defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try await ReportSubmitter(lifecycle: f.lifecycle, evidence: f.log)
            .submit(incident: f.id, stage: .earlyWarning, mapping: .bsi, portal: FileDropPortal(folder: dir, clock: f.clock), by: "local#carol")
        let records = try await f.log.records(tenant: f.tenant, from: 0)
        let rec = try #require(records.first { $0.kind == "report.submitted" })
        #expect(rec.body["reference"]?.stringValue == r.receipt.reference)
        #expect(rec.body["payloadSHA256"]?.stringValue == r.receipt.payloadSHA256.hex)
        #expect(rec.body["portal"]?.stringValue == "file-drop:" + dir)
        #expect(rec.body["mappingInferred"]?.boolValue == true)
        let i = try await f.lifecycle.incident(f.id)
        #expect(i.stage == .earlyWarningSubmitted)
        #expect(i.submitted(.earlyWarning)?.reference == r.receipt.reference)
        #expect(!i.openDeadlines(policy: .standard).contains { $0.kind == .earlyWarning })
    }

    @Test func incompleteDraftIsNotSent() async throws {
        let f = try await IncidentFixture(narrative: false)
        let dir = NSTemporaryDirectory() + "portal-drop-\(UUID().uuidString)"; defer { try? FileManager.default.removeItem(atPath: dir) }
        await #expect { _ = try await ReportSubmitter(lifecycle: f.lifecycle, evidence: f.log)
            .submit(incident: f.id, stage: .earlyWarning, mapping: .ccb, portal: FileDropPortal(folder: dir), by: "x") } throws: { ($0 as? PortalError)?.code == .incompleteReport }
        #expect(!FileManager.default.fileExists(atPath: dir))
        #expect(try await f.lifecycle.incident(f.id).stage == .aware)
    }

    @Test func notificationBeforeEarlyWarningIsNotSent() async throws {
        let f = try await IncidentFixture()
        let dir = NSTemporaryDirectory() + "portal-drop-\(UUID().uuidString)"; defer { try? FileManager.default.removeItem(atPath: dir) }
        await #expect { _ = try await ReportSubmitter(lifecycle: f.lifecycle, evidence: f.log)
            .submit(incident: f.id, stage: .notification, mapping: .neutral, portal: FileDropPortal(folder: dir), by: "x", allowIncomplete: true) } throws: { ($0 as? PortalError)?.code == .unsupportedStage }
        #expect(!FileManager.default.fileExists(atPath: dir))
    }
}
