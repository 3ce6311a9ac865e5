import EvidenceCore
import EvidenceOpenSSL
import Foundation
import Testing

/// The library recorder as a gateway host drives it: chunks, records, export, fail-closed.
@Suite("Session recorder", .timeLimit(.minutes(1)))
struct RecorderTests {
    private func output(_ s: String) -> SessionEvent { SessionEvent(kind: .output, time: Date(), data: Array(s.utf8)) }

    @Test func outputIsChunkedBySizeAndEveryChunkIsCitedByDigest() async throws {
        let s = try ScratchStore("size"); defer { s.cleanup() }
        var policy = RecordingPolicy(); policy.chunkBytes = 64 << 10; policy.chunkInterval = .seconds(2); policy.durabilityBound = .seconds(5)
        let r = try await SessionRecorder.start(try s.descriptor(), in: s.store, policy: policy)
        let line = String(repeating: "0123456789abcdef", count: 64) + "\n"  // 1 KiB
        for _ in 0..<300 { try r.offer(output(line)) }
        let summary = try await r.finish(SessionEnding(exitStatus: 0))
        #expect(summary.outcome == .completed && summary.durableEvents == 300)
        let chunks = try await s.records("session.chunk")
        #expect(chunks.count >= 4, "300 KiB in 64 KiB chunks")
        let objects = try s.store.objects(for: s.tenant)
        for c in chunks {
            let key = try #require(c.body["object"]?.stringValue)
            let bytes = try await objects.get(key)
            #expect(OpenSSLSHA256().hash(bytes: bytes).hex == c.body["sha256"]?.stringValue)
            #expect(key.hasSuffix(c.body["sha256"]?.stringValue ?? "-"), "content-addressed key")
        }
    }

    @Test func startAndEndRecordsBindPrincipalGrantTargetAndTenant() async throws {
        let s = try ScratchStore("bind"); defer { s.cleanup() }
        let r = try await SessionRecorder.start(try s.descriptor(), in: s.store)
        try r.offer(output("hello\r\n"))
        _ = try await r.finish(SessionEnding(exitStatus: 3))
        for kind in ["session.start", "session.end"] {
            let rec = try #require(try await s.records(kind).first)
            #expect(rec.body["principal"]?.stringValue == "https://idp.example#alice")
            #expect(rec.body["grant"]?.stringValue == "g-42")
            #expect(rec.body["target"]?.stringValue == "srv-db-01")
            #expect(rec.body["tenant"]?.stringValue == "acme" && rec.tenant.rawValue == "acme")
            #expect(rec.body["session"]?.stringValue == "s-1")
        }
        #expect(try await s.records("session.end").first?.body["exitStatus"]?.numberValue == 3)
    }

    @Test func privilegedActionsGetOwnRecordsAndExportAsMarkers() async throws {
        let s = try ScratchStore("actions"); defer { s.cleanup() }
        let r = try await SessionRecorder.start(try s.descriptor(), in: s.store)
        try await r.record([
            SessionEvent(kind: .command, time: Date(), data: Array(#"{"argv":["systemctl","restart","nginx"]}"#.utf8)),
            SessionEvent(kind: .fileTransfer, time: Date(), data: Array(#"{"direction":"upload","path":"/etc/nginx/nginx.conf","sha256":"00"}"#.utf8)),
            SessionEvent(kind: .elevation, time: Date(), data: Array(#"{"to":"root","via":"sudo"}"#.utf8)),
        ])
        #expect(throws: EvidenceError.self) { try r.offer(SessionEvent(kind: .configurationChange, time: Date(), data: Array("not json".utf8))) }
        _ = try await r.finish(SessionEnding())
        let actions = try await s.records("session.action")
        #expect(actions.map { $0.body["action"]?.stringValue } == ["command", "fileTransfer", "elevation"])
        #expect(actions.first?.body["detail"]?["argv"]?.arrayValue?.count == 3)
        var text: [UInt8] = []
        let summary = try await SessionRecordings.exportAsciicast("s-1", from: s.store, tenant: s.tenant) { text += $0 }
        #expect(summary.actions == 3)
        #expect(String(decoding: text, as: UTF8.self).contains(#""m", "command {\"argv\""#))
    }

    @Test func maskedInputIsNotedOnceAndCarriesNoKeystrokes() async throws {
        let s = try ScratchStore("mask"); defer { s.cleanup() }
        let r = try await SessionRecorder.start(try s.descriptor(), in: s.store)
        #expect(throws: EvidenceError.self) { try r.offer(SessionEvent(kind: .maskedInput, time: Date(), data: Array("secret".utf8))) }
        for _ in 0..<3 { try r.offer(SessionEvent(kind: .maskedInput, time: Date(), data: [])) }
        _ = try await r.finish(SessionEnding())
        #expect(try await s.records("session.masked").count == 1)
        #expect(try await s.records("session.end").first?.body["maskedInputs"]?.numberValue == 1)
    }

    @Test func aStalledStoreFailsClosedWithinTheBoundAndKeepsWhatWasAcknowledged() async throws {
        let s = try ScratchStore("stall"); defer { s.cleanup() }
        let faulty = FaultyStore(try s.store.objects(for: s.tenant))
        defer { faulty.released.store(true, ordering: .relaxed) }
        // 1 s: a working store on a busy CI disk meets it; the stall below never does.
        var policy = RecordingPolicy(); policy.chunkInterval = .milliseconds(50); policy.durabilityBound = .milliseconds(1000)
        let r = try await SessionRecorder.start(try s.descriptor(), objects: faulty, log: try s.store.writer(for: s.tenant),
                                                backend: OpenSSLSHA256(), clock: SystemWallClock(), policy: policy)
        for i in 0..<5 { try r.offer(output("before \(i)\r\n")); try await Task.sleep(for: .milliseconds(30)) }
        let settle = ContinuousClock.now
        while r.durableEvents < 5 && ContinuousClock.now - settle < .seconds(1) { try await Task.sleep(for: .milliseconds(20)) }
        let acknowledged = r.durableEvents
        #expect(acknowledged == 5)
        faulty.fault.store(FaultyStore.Fault.stall.rawValue, ordering: .relaxed)
        let stalledAt = ContinuousClock.now
        var refused: EvidenceError?
        while refused == nil && ContinuousClock.now - stalledAt < .seconds(3) {
            do { try r.offer(output("during\r\n")); try await Task.sleep(for: .milliseconds(20)) } catch let e as EvidenceError { refused = e }
        }
        let error = try #require(refused, "the recorder kept accepting events with a stalled store")
        #expect(ContinuousClock.now - stalledAt < .milliseconds(1600), "stopped within the bound plus one chunk interval")
        #expect(error.message.contains("not durable within 1000 ms"))
        let summary = try await r.finish(SessionEnding())
        #expect(summary.outcome == .failedClosed && summary.durableEvents >= acknowledged)
        let end = try #require(try await s.records("session.end").first)
        #expect(end.body["outcome"]?.stringValue == "failed-closed")
        #expect(end.body["reason"]?.stringValue?.contains("not durable within 1000 ms") == true)
        var text: [UInt8] = []
        let exported = try await SessionRecordings.exportAsciicast("s-1", from: s.store, tenant: s.tenant) { text += $0 }
        #expect(exported.events >= acknowledged)
        #expect(String(decoding: text, as: UTF8.self).contains("before 4"))
        #expect(try s.verifyLog().ok)
    }

    @Test func bestEffortLogsAGapForAChunkItCouldNotStoreAndGoesOn() async throws {
        let s = try ScratchStore("gap"); defer { s.cleanup() }
        let faulty = FaultyStore(try s.store.objects(for: s.tenant))
        var policy = RecordingPolicy(mode: .bestEffort); policy.chunkInterval = .milliseconds(50); policy.durabilityBound = .milliseconds(500)
        let r = try await SessionRecorder.start(try s.descriptor(), objects: faulty, log: try s.store.writer(for: s.tenant),
                                                backend: OpenSSLSHA256(), clock: SystemWallClock(), policy: policy)
        try r.offer(output("kept-1\r\n")); try await Task.sleep(for: .milliseconds(200))
        faulty.fault.store(FaultyStore.Fault.fail.rawValue, ordering: .relaxed)
        try r.offer(output("lost\r\n")); try await Task.sleep(for: .milliseconds(200))
        faulty.fault.store(FaultyStore.Fault.none.rawValue, ordering: .relaxed)
        try r.offer(output("kept-2\r\n"))
        let summary = try await r.finish(SessionEnding())
        #expect(summary.outcome == .completed && summary.gaps == 1)
        let gap = try #require(try await s.records("session.gap").first)
        #expect(gap.body["reason"]?.stringValue?.contains("disk full") == true)
        var text: [UInt8] = []
        let exported = try await SessionRecordings.exportAsciicast("s-1", from: s.store, tenant: s.tenant) { text += $0 }
        let cast = String(decoding: text, as: UTF8.self)
        #expect(exported.gaps == 1 && cast.contains("kept-1") && cast.contains("kept-2") && !cast.contains("lost"))
    }

    @Test func exportRefusesAChunkThatNoLongerMatchesItsRecord() async throws {
        let s = try ScratchStore("tamper"); defer { s.cleanup() }
        let r = try await SessionRecorder.start(try s.descriptor(), in: s.store)
        try r.offer(output("original output\r\n"))
        _ = try await r.finish(SessionEnding())
        let key = try #require(try await s.records("session.chunk").first?.body["object"]?.stringValue)
        let path = s.root + "/tenants/acme/objects/data/" + key
        chmod(path, 0o644)
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count - 3] ^= 0x20
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        await #expect(throws: EvidenceError.self) {
            _ = try await SessionRecordings.exportAsciicast("s-1", from: s.store, tenant: s.tenant) { _ in }
        }
    }
}
