import EvidenceCore
import EvidenceNTS
import EvidenceOpenSSL
import EvidenceTSA
import Foundation
import Testing

@Suite("Time anchors on checkpoints", .timeLimit(.minutes(1)))
struct TimeAnchorTests {
    private func signedCheckpoint(size: UInt64, rootText: String) throws -> [UInt8] {
        let signer = try Ed25519Signer(keyName: "msp-eu-1", seed: Array(repeating: 7, count: 32))
        let cp = Checkpoint(origin: "example.msp.eu/evidence/acme", size: size, root: OpenSSLSHA256().hash(rootText))
        return Array(try SignedNote.sign(cp.body, with: signer).serialized.utf8)
    }

    @Test func anchorWritesATokenAndAnNTSSampleThatVerifyOffline() async throws {
        let tsa = try TSAPeer(port: Peers.nextTSAPort())
        let nts = try ChronyNTSServer()
        let anchors = try TSATrustAnchors(pemFile: tsa.anchorFile)
        let source = NTSTimeSource(servers: [NTSServerConfiguration(keServer: NetworkEndpoint(host: "127.0.0.1", port: nts.kePort), trust: .caFile(nts.caFile))])
        let anchor = CheckpointTimeAnchor(authority: RFC3161TimestampAuthority(url: tsa.url, anchors: anchors), timeSource: source)
        let note = try signedCheckpoint(size: 42, rootText: "root")
        let log = InMemoryEvidenceLog()
        let tenant = try TenantID("acme")
        let indices = try await anchor.anchor(signedCheckpoint: note, tenant: tenant, into: log)
        #expect(indices == [0, 1])
        let records = try await log.records(tenant: tenant, from: 0)
        #expect(records.map(\.kind) == ["time.sample.nts", "time.anchor.rfc3161"])
        let sample = records[0].body
        #expect(sample["proof"]?.stringValue == "local-clock-bound")
        #expect(sample["witnesses"]?.arrayValue?.first?["certificateSHA256"]?.stringValue?.count == 64)
        #expect((sample["boundSeconds"]?.numberValue ?? 1) < 0.05)
        let verified = try TimeAnchorVerifier(anchors: anchors).verify(records[1], checkpointNote: note)
        #expect(verified.checkpoint.size == 42)
        #expect(abs(verified.genTime.timeIntervalSinceNow) < 120)  // plausibility, not speed: a loaded CI machine can take seconds
        // The record survives the log's canonical encoding and still verifies.
        let reread = try EvidenceRecord(canonicalBytes: records[1].canonicalBytes())
        _ = try TimeAnchorVerifier(anchors: anchors).verify(reread, checkpointNote: note)
    }

    @Test func anchorRecordDoesNotVerifyAgainstAnotherCheckpoint() async throws {
        let tsa = try TSAPeer(port: Peers.nextTSAPort())
        let anchors = try TSATrustAnchors(pemFile: tsa.anchorFile)
        let anchor = CheckpointTimeAnchor(authority: RFC3161TimestampAuthority(url: tsa.url, anchors: anchors))
        let note = try signedCheckpoint(size: 42, rootText: "root")
        let records = try await anchor.records(forSignedCheckpoint: note, tenant: try TenantID("acme"))
        #expect(records.map(\.kind) == ["time.anchor.rfc3161"])
        let other = try signedCheckpoint(size: 43, rootText: "other root")
        #expect { try TimeAnchorVerifier(anchors: anchors).verify(records[0], checkpointNote: other) } throws: { e in
            (e as? TSAError)?.code == .verificationFailed && "\(e)".contains("this note hashes to")
        }
        // A record whose token was swapped for a token over another digest is refused too.
        var forged = records[0]
        let otherToken = try await RFC3161TimestampAuthority(url: tsa.url, anchors: anchors).timestamp(OpenSSLSHA256().hash(bytes: other))
        if case .object(var o) = forged.body { o["token"] = .string(Base64.encode(otherToken.token)); forged.body = .object(o) }
        #expect { try TimeAnchorVerifier(anchors: anchors).verify(forged, checkpointNote: note) } throws: { ($0 as? TSAError)?.code == .verificationFailed }
    }

    @Test func notACheckpointIsRefusedBeforeAskingTheTSA() async throws {
        struct NeverCalled: TimestampAuthority {
            func timestamp(_ digest: Digest) async throws -> TimestampToken { Issue.record("TSA must not be asked"); throw TSAError(.rejected, "no") }
            func verify(_ token: TimestampToken, for digest: Digest) throws {}
        }
        await #expect { try await CheckpointTimeAnchor(authority: NeverCalled()).records(forSignedCheckpoint: Array("hello\n".utf8), tenant: try TenantID("acme")) } throws: { ($0 as? TSAError)?.code == .malformed }
    }
}
