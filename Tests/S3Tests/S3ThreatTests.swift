import EvidenceCore
import EvidenceOpenSSL
import EvidenceS3
import Foundation
import Testing

/// What an attacker, a broken network or a misconfiguration does, against the real server.
@Suite("S3 Object Lock store: refusals and tamper detection on SeaweedFS", .timeLimit(.minutes(2)))
struct S3ThreatTests {
    func retention(_ seconds: TimeInterval = 3600) -> RetentionPolicy {
        RetentionPolicy(mode: .compliance, retainUntil: Date().addingTimeInterval(seconds))
    }

    @Test("a raw signed DELETE of the locked version is refused by the server; the version stays readable")
    func deletingLockedVersionRefused() async throws {
        let bucket = try await SeaweedPeer.makeBucket()
        let store = try await SeaweedPeer.openStore(bucket: bucket)
        let info = try await store.put("locked", bytes: Array("evidence".utf8), retention: retention())
        let raw = S3Client(configuration: try SeaweedPeer.configuration(bucket: bucket))
        let r = try await raw.send(method: "DELETE", objectKey: "locked", query: [("versionId", try #require(info.versionID))])
        #expect(r.status == 403, "server answered \(r.status): \(String(decoding: r.body, as: UTF8.self))")
        try await store.verify(info)
        // The raw client refuses to bypass governance retention at all.
        await #expect { _ = try await raw.send(method: "DELETE", objectKey: "locked", headers: ["x-amz-bypass-governance-retention": "true"]) }
            throws: { ($0 as? EvidenceError)?.code == .unsupported }
    }

    @Test("an overwrite under the same key by another client is detected by verify (new versionId and checksum)")
    func overwriteDetected() async throws {
        let bucket = try await SeaweedPeer.makeBucket()
        let store = try await SeaweedPeer.openStore(bucket: bucket)
        let recorded = try await store.put("segment-000001", bytes: Array("original".utf8), retention: retention())
        // Another client with write access PUTs the same key (versioned bucket: a new version).
        let intruder = S3Client(configuration: try SeaweedPeer.configuration(bucket: bucket))
        let forged = Array("forged".utf8)
        let sha = OpenSSLSHA256().hash(bytes: forged)
        try await intruder.expectSuccess(method: "PUT", objectKey: "segment-000001",
                                         headers: ["x-amz-meta-evidence-sha256": sha.hex, "x-amz-checksum-sha256": sha.base64],
                                         body: forged, what: "intruder overwrite")
        do {
            try await store.verify(recorded)
            Issue.record("verify accepted an overwritten object")
        } catch let e as EvidenceError {
            #expect(e.code == .verificationFailed)
            #expect(e.message.contains(try #require(recorded.versionID)), "\(e.message)")
        }
        let current = try #require(try await store.head("segment-000001"))
        #expect(current.versionID != recorded.versionID)
    }

    @Test("wrong secret and unknown access key are clear .accessDenied errors")
    func wrongCredentials() async throws {
        let bucket = try await SeaweedPeer.makeBucket()
        do {
            _ = try await S3ObjectLockStore.open(try SeaweedPeer.configuration(bucket: bucket, secret: "wrong-secret-0000000000000000000000000"))
            Issue.record("opened with a wrong secret")
        } catch let e as EvidenceError {
            #expect(e.code == .accessDenied && e.message.contains("secret"), "\(e)")
            #expect(!e.message.contains("wrong-secret"), "the secret must never appear in errors")
        }
        do {
            _ = try await S3ObjectLockStore.open(try SeaweedPeer.configuration(bucket: bucket, key: "AKIAUNKNOWN000000000"))
            Issue.record("opened with an unknown key")
        } catch let e as EvidenceError {
            #expect(e.code == .accessDenied && e.message.contains("access key"), "\(e)")
        }
    }

    @Test("wrong region: SeaweedFS does not check the region in the signature scope (recorded fact), AWS's refusal maps to a clear error")
    func wrongRegion() async throws {
        let bucket = try await SeaweedPeer.makeBucket()
        // What is real on this server: a request signed for eu-west-1 is accepted.
        let store = try await S3ObjectLockStore.open(try SeaweedPeer.configuration(bucket: bucket, region: "eu-west-1"))
        _ = try await store.put("r", bytes: [1], retention: retention())
        // What AWS answers for a wrong region, parsed by our error mapping.
        let awsAnswer = Array("""
        <?xml version="1.0" encoding="UTF-8"?>
        <Error><Code>AuthorizationHeaderMalformed</Code><Message>the region 'eu-west-1' is wrong; expecting 'eu-central-1'</Message><Region>eu-central-1</Region></Error>
        """.utf8)
        let e = S3ErrorMapping.error(status: 400, body: awsAnswer, what: "opening", configuration: try SeaweedPeer.configuration(bucket: bucket, region: "eu-west-1"))
        #expect(e.code == .accessDenied)
        #expect(e.message.contains("eu-west-1") && e.message.contains("eu-central-1"), "\(e.message)")
    }

    @Test("an expired retain-until date is refused locally, and the server refuses it too")
    func expiredRetention() async throws {
        let bucket = try await SeaweedPeer.makeBucket()
        let store = try await SeaweedPeer.openStore(bucket: bucket)
        do {
            _ = try await store.put("late", bytes: [1], retention: retention(-60))
            Issue.record("accepted a retention date in the past")
        } catch let e as EvidenceError {
            #expect(e.code == .malformedInput && e.message.contains("not in the future"), "\(e)")
        }
        #expect(try await store.head("late") == nil)
        let raw = S3Client(configuration: try SeaweedPeer.configuration(bucket: bucket))
        let r = try await raw.send(method: "PUT", objectKey: "late-raw", headers: [
            "x-amz-object-lock-mode": "COMPLIANCE", "x-amz-object-lock-retain-until-date": "2020-01-01T00:00:00Z"], body: [1])
        #expect(r.status == 400, "SeaweedFS answered \(r.status)")
    }

    @Test("a missing bucket is a clear .notFound that says to create it")
    func missingBucket() async throws {
        try await SeaweedPeer.ready()
        do {
            _ = try await S3ObjectLockStore.open(try SeaweedPeer.configuration(bucket: "no-such-bucket-\(UInt32.random(in: 0...999_999))"))
            Issue.record("opened a missing bucket")
        } catch let e as EvidenceError {
            #expect(e.code == .notFound && e.message.contains("does not exist") && e.message.contains("Object Lock"), "\(e)")
        }
    }

    @Test("a bucket without Object Lock is refused, unless tamper-evident-only is configured")
    func bucketWithoutLock() async throws {
        let bucket = try await SeaweedPeer.makeBucket(objectLock: false)
        do {
            _ = try await S3ObjectLockStore.open(try SeaweedPeer.configuration(bucket: bucket))
            Issue.record("opened a bucket without Object Lock")
        } catch let e as EvidenceError {
            #expect(e.code == .unsupported && e.message.contains("Object Lock"), "\(e)")
        }
        let store = try await S3ObjectLockStore.open(try SeaweedPeer.configuration(bucket: bucket, lock: .allowTamperEvidentOnly))
        #expect(await store.guarantee == .tamperEvidentOnly)
        let info = try await store.put("x", bytes: [5], retention: retention())
        #expect(try await store.get("x") == [5])
        try await store.verify(info)
        await #expect { _ = try await store.put("x", bytes: [6], retention: retention()) } throws: { ($0 as? EvidenceError)?.code == .immutable }
    }

    @Test("a body corrupted in transit (relay flips one byte) is rejected by our checksum check")
    func corruptionInTransit() async throws {
        let bucket = try await SeaweedPeer.makeBucket()
        let direct = try await SeaweedPeer.openStore(bucket: bucket)
        let marker = Array("EVIDENCE-BODY-MARKER-7f3a".utf8)
        let bytes = Array("session chunk ".utf8) + marker + Array(" end".utf8)
        let info = try await direct.put("chunk", bytes: bytes, retention: retention())
        let relay = try CorruptingRelay(upstreamPort: UInt16(SeaweedPeer.portBase + 6), marker: marker)
        defer { relay.stop() }
        let viaRelay = try await S3ObjectLockStore.open(try SeaweedPeer.configuration(
            bucket: bucket, endpoint: URL(string: "http://127.0.0.1:\(relay.port)")!))
        do {
            let got = try await viaRelay.get("chunk")
            Issue.record("accepted a corrupted body (\(got.count) bytes)")
        } catch let e as EvidenceError {
            #expect(e.code == .verificationFailed && e.message.contains(info.sha256.hex), "\(e)")
        }
        #expect(try await direct.get("chunk") == bytes)
    }

    @Test("a throttled (503 SlowDown) request is retried with backoff and succeeds once")
    func retriesSlowDown() async throws {
        let bucket = try await SeaweedPeer.makeBucket()
        let slowDown = S3HTTPResponse(status: 503, headers: [:], body: Array("<Error><Code>SlowDown</Code><Message>Reduce your request rate</Message></Error>".utf8))
        let transport = FaultInjectingTransport { request, n in
            request.method == "PUT" && n <= 3 && !(request.url.query ?? "").contains("legal") ? slowDown : nil
        }
        let store = try await SeaweedPeer.openStore(bucket: bucket, transport: transport)
        let info = try await store.put("slow", bytes: [4, 2], retention: retention())
        #expect(try await store.get("slow") == [4, 2])
        let puts = await transport.sent().filter { $0.hasPrefix("PUT") }
        #expect(puts.count == 2, "one throttled PUT and one retry: \(puts)")
        try await store.verify(info)
    }
}
