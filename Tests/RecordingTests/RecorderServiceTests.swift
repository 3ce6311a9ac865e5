import EvidenceCore
import EvidenceOpenSSL
@testable import EvidencePTY
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The recorder service: several relays, one store, one log writer per tenant.
@Suite("Recorder service", .timeLimit(.minutes(1)))
struct RecorderServiceTests {
    /// A service on a fresh socket, serving on its own thread until `stop()`.
    final class Running: @unchecked Sendable {
        // @unchecked: fields are set once in init.
        let service: RecorderService
        let socket: String
        private let done = DispatchSemaphore(value: 0)
        init(_ s: ScratchStore, policy: RecordingPolicy = .init()) throws {
            socket = (s.root as NSString).deletingLastPathComponent + "/rec.sock"
            service = try RecorderService(store: s.store, socketPath: socket, policy: policy)
            let service = self.service, done = self.done
            Thread { service.serve(); done.signal() }.start()
        }
        /// Stops the service and waits for it off the concurrency pool (the recorders need
        /// the pool's threads to store their last chunks).
        func stop() async { let service = service, done = done; _ = try? await RecorderServiceTests.onThread { service.stop(); done.wait() } }
    }

    /// Runs blocking work (socket I/O, the relay side) on a thread of its own and awaits it.
    static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { c in Thread { c.resume(with: Result { try body() }) }.start() }
    }

    /// A service for `body`, stopped afterwards whether `body` throws or not.
    static func withService(_ s: ScratchStore, policy: RecordingPolicy = .init(), _ body: (Running) async throws -> Void) async throws {
        let running = try Running(s, policy: policy)
        do { try await body(running) } catch { await running.stop(); throw error }
        await running.stop()
    }

    /// A raw connection, for what a well-behaved relay never sends.
    static func connect(_ path: String) throws -> Int32 {
        var a = try RecorderWire.address(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        let rc = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        try #require(rc == 0)
        return fd
    }

    static func answer(_ fd: Int32) throws -> (RecorderWire.FrameType, String)? {
        try RecorderWire.readFrame(fd, firstByteTimeoutMs: 5000).map { ($0.0, String(decoding: $0.1, as: UTF8.self)) }
    }

    /// One relay: start, `lines` output events, end; on its own thread, as `nis2ctl record` runs.
    static func relay(_ socket: String, _ session: SessionDescriptor, lines: Int, prefix: String) async throws -> SessionSummary {
        try await onThread {
            let r = try RemoteSessionRecorder(socketPath: socket, session: session)
            for n in 0..<lines {
                try Array("\(prefix) line \(n)\r\n".utf8).withUnsafeBytes { try r.offer(kind: .output, time: Date(), data: $0) }
            }
            return try r.finishBlocking(SessionEnding(exitStatus: 0))
        }
    }

    @Test func sessionsOfOneTenantRecordAtOnceThroughOneService() async throws {
        let s = try ScratchStore("svc-many"); defer { s.cleanup() }
        let lines = 2000
        try await Self.withService(s) { running in
            let summaries = try await withThrowingTaskGroup(of: SessionSummary.self) { group in
                for i in 0..<3 {
                    let d = try s.descriptor("svc-\(i)")
                    group.addTask { try await Self.relay(running.socket, d, lines: lines, prefix: "session \(i)") }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(summaries.count == 3)
            for summary in summaries { #expect(summary.outcome == .completed && summary.durableEvents == UInt64(lines)) }
            // The service's side of each connection closes just after the relay has its summary.
            let deadline = Date() + 5
            while running.service.activeSessions > 0 && Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
            #expect(running.service.activeSessions == 0)
        }
        for i in 0..<3 {
            var text = ""
            let exported = try await SessionRecordings.exportAsciicast("svc-\(i)", from: s.store, tenant: s.tenant) { text += String(decoding: $0, as: UTF8.self) }
            #expect(exported.events == UInt64(lines))
            #expect(text.contains("session \(i) line 0\\r\\n") && text.contains("session \(i) line \(lines - 1)\\r\\n"))
            #expect(!text.contains("session \((i + 1) % 3) line"), "no event of another session")
        }
        #expect(try await s.records("session.start").count == 3)
        #expect(try await s.records("session.end").count == 3)
        #expect(try s.verifyLog().records > 0)
    }

    @Test func malformedInputIsRefusedWithTheReasonAndTheServiceGoesOn() async throws {
        let s = try ScratchStore("svc-bad"); defer { s.cleanup() }
        let other = try SessionDescriptor(id: "x", tenant: try TenantID("globex"), principal: "p", target: "t")
        let mine = try s.descriptor("svc-mid")
        try await Self.withService(s) { running in
            let socket = running.socket
            @Sendable func exchange(_ bytes: [UInt8]) throws -> (RecorderWire.FrameType, String)? {
                let fd = try Self.connect(socket); defer { close(fd) }
                try RecorderWire.writeAll(fd, bytes, timeoutMs: 1000)
                return try Self.answer(fd)
            }
            let unknownType = try #require(try await Self.onThread { try exchange([99, 0, 0, 0, 0]) })
            #expect(unknownType.0 == .refused && unknownType.1.contains("unknown frame type 99"))
            let tooLong = try #require(try await Self.onThread { try exchange([1, 0x7f, 0xff, 0xff, 0xff]) })
            #expect(tooLong.0 == .refused && tooLong.1.contains("outside its bound"))
            let eventFirst = try #require(try await Self.onThread { try exchange(RecorderWire.eventHeader(kind: .output, time: Date(), dataCount: 1) + [0x41]) })
            #expect(eventFirst.0 == .refused && eventFirst.1.contains("first frame must be hello"))
            let wrongTenant = try #require(try await Self.onThread { try exchange(RecorderWire.frame(.hello, json: RecorderWire.hello(other))) })
            #expect(wrongTenant.0 == .refused && wrongTenant.1.contains("globex"))
            let badHello = try #require(try await Self.onThread { try exchange(RecorderWire.frame(.hello, Array(#"{"id":"../x","tenant":"acme"}"#.utf8))) })
            #expect(badHello.0 == .refused)
            // The relay side says the same to its caller.
            await #expect(throws: EvidenceError.self) { _ = try await Self.onThread { try RemoteSessionRecorder(socketPath: socket, session: other) } }
            await #expect(throws: EvidenceError.self) { _ = try await Self.onThread { try RemoteSessionRecorder(socketPath: socket + ".none", session: mine) } }

            // A bad frame in the middle of a session ends that session, keeping what came before.
            let (started, failed) = try await Self.onThread { () throws -> (RecorderWire.FrameType?, String?) in
                let fd = try Self.connect(socket); defer { close(fd) }
                try RecorderWire.writeAll(fd, RecorderWire.frame(.hello, json: RecorderWire.hello(mine)), timeoutMs: 1000)
                let started = try Self.answer(fd)?.0
                try RecorderWire.writeAll(fd, RecorderWire.eventHeader(kind: .output, time: Date(), dataCount: 5) + Array("kept\n".utf8), timeoutMs: 1000)
                try RecorderWire.writeAll(fd, [RecorderWire.FrameType.event.rawValue, 0, 0, 0, 10] + [200] + [UInt8](repeating: 0, count: 9), timeoutMs: 1000)
                var failed: String?
                while let (type, text) = try Self.answer(fd) { if type == .failed { failed = text } }
                return (started, failed)
            }
            #expect(started == .started)
            #expect(failed?.contains("event kind 200 is unknown") == true, "\(failed ?? "-")")

            // And a proper session still records.
            let after = try await Self.relay(socket, try s.descriptor("svc-after"), lines: 3, prefix: "fine")
            #expect(after.outcome == .completed && after.durableEvents == 3)
        }
        var text = ""
        _ = try await SessionRecordings.exportAsciicast("svc-mid", from: s.store, tenant: s.tenant) { text += String(decoding: $0, as: UTF8.self) }
        #expect(text.contains("kept\\n"))
    }

    @Test func stoppingTheServiceEndsOpenSessionsFailClosed() async throws {
        let s = try ScratchStore("svc-stop"); defer { s.cleanup() }
        var policy = RecordingPolicy(); policy.chunkInterval = .milliseconds(50); policy.durabilityBound = .seconds(2)
        let running = try Running(s, policy: policy)
        let d = try s.descriptor("svc-open")
        let r = try await Self.onThread { try RemoteSessionRecorder(socketPath: running.socket, session: d) }
        #expect(r.durabilityBound == .seconds(2), "the relay learns the service's bound")
        let confirmed = try await Self.onThread { () throws -> UInt64 in
            for n in 0..<50 { try Array("before \(n)\r\n".utf8).withUnsafeBytes { try r.offer(kind: .output, time: Date(), data: $0) } }
            let deadline = Date() + 3
            while r.durableEvents < 50 && Date() < deadline { usleep(10_000) }
            return r.durableEvents
        }
        #expect(confirmed == 50)
        await running.stop()
        let (refusedAfter, summary) = try await Self.onThread { () throws -> (Double?, SessionSummary) in
            let stopped = Date()
            var refusedAfter: Double?
            while Date() < stopped + 3 && refusedAfter == nil {
                do { try r.tick(); try Array("after\r\n".utf8).withUnsafeBytes { try r.offer(kind: .output, time: Date(), data: $0) } }
                catch { refusedAfter = Date().timeIntervalSince(stopped) }
                usleep(10_000)
            }
            return (refusedAfter, try r.finishBlocking(SessionEnding(note: "relay ended")))
        }
        #expect(refusedAfter != nil && refusedAfter! < 2.5, "the relay is stopped within the bound")
        #expect(r.failureReason?.contains("stopped") == true, "\(r.failureReason ?? "-")")
        #expect(summary.outcome == .failedClosed)
        let end = try #require(try await s.records("session.end").first)
        #expect(end.body["note"]?.stringValue?.contains("stopped") == true)
        let exported = try await SessionRecordings.exportAsciicast("svc-open", from: s.store, tenant: s.tenant) { _ in }
        #expect(exported.events >= 50, "every event confirmed durable is in the evidence")
        #expect(try s.verifyLog().records > 0)
    }

    @Test func aRelayThatGoesAwayLeavesItsEventsAndAnEndRecordSayingSo() async throws {
        let s = try ScratchStore("svc-gone"); defer { s.cleanup() }
        let d = try s.descriptor("svc-gone")
        try await Self.withService(s) { running in
            let started = try await Self.onThread { () throws -> RecorderWire.FrameType? in
                let fd = try Self.connect(running.socket); defer { close(fd) }
                try RecorderWire.writeAll(fd, RecorderWire.frame(.hello, json: RecorderWire.hello(d)), timeoutMs: 1000)
                let started = try Self.answer(fd)?.0
                for n in 0..<10 {
                    try RecorderWire.writeAll(fd, RecorderWire.eventHeader(kind: .output, time: Date(), dataCount: 7) + Array("line \(n)\n".utf8), timeoutMs: 1000)
                }
                return started
            }
            #expect(started == .started)
            let deadline = Date() + 10
            while try await s.records("session.end").isEmpty && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        }
        let end = try #require(try await s.records("session.end").first)
        #expect(end.body["note"]?.stringValue?.contains("disconnected") == true)
        #expect(end.body["durableEvents"]?.numberValue == 10)
        var text = ""
        _ = try await SessionRecordings.exportAsciicast("svc-gone", from: s.store, tenant: s.tenant) { text += String(decoding: $0, as: UTF8.self) }
        #expect(text.contains("line 0\\n") && text.contains("line 9\\n"))
    }
}
