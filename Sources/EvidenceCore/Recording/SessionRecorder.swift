import Foundation

/// Records one privileged session into a tenant's evidence: events are packed into
/// content-addressed chunks (sealed by size or age, whichever first) stored in a `WORMStore`,
/// and each chunk is cited by a `session.chunk` record in the tenant's log, between a
/// `session.start` and a `session.end` record that bind tenant, principal, grant and target.
/// Privileged actions also get one `session.action` record each; masked password input a
/// `session.masked` record.
///
/// Guarantees:
/// - Events keep the order of `offer`; event n of the session is frame n of the chunk stream.
/// - An event counts as durable (`durableEvents`) only once its chunk object is stored and the
///   log record citing the chunk's digest is flushed to stable storage.
/// - Fail-closed (default): if any accepted event is not durable within
///   `policy.durabilityBound`, or a chunk or record cannot be written, the recorder stops:
///   every later `offer` throws, the reason is written to the log in a `session.end` record
///   (outcome `failed-closed`) as far as the log can still take it, and the host must end
///   the session. Nothing already durable is touched.
/// - Best effort (only when configured): a chunk that cannot be stored, or events dropped
///   because the buffer was full, become a `session.gap` record each; the session goes on.
/// - Memory stays under `policy.maxBufferedBytes` plus one event.
///
/// `offer` is synchronous and cheap (a copy into the open chunk) so a terminal relay can call
/// it on every read; storing happens on the recorder's own thread. It may block for
/// back-pressure, never longer than the durability bound.
public final class SessionRecorder: SessionEventSink, @unchecked Sendable {
    // @unchecked: every mutable field below is guarded by `cond` (an NSCondition, a mutex),
    // except `sealerThread`, set once before the thread starts.
    public let session: SessionDescriptor
    public let policy: RecordingPolicy
    /// When the session started (the `session.start` record's time); offsets count from here.
    public let startTime: Date
    private let objects: any WORMStore
    private let log: LogWriter
    private let backend: any SHA256Backend
    private let clock: any WallClock

    private struct Sealed { var index: Int; var firstEvent: UInt64; var events: Int; var bytes: [UInt8]; var first: Date; var last: Date; var offeredAt: ContinuousClock.Instant }
    private struct Unacked { var lastEvent: UInt64; var bytes: Int; var offeredAt: ContinuousClock.Instant }

    private let cond = NSCondition()
    private var open: [UInt8] = []
    private var openFirstEvent: UInt64 = 0
    private var openEvents = 0
    private var openFirst = Date.distantPast
    private var openLast = Date.distantPast
    private var openOfferedAt: ContinuousClock.Instant?
    private var queue: [Sealed] = []
    private var unacked: [Unacked] = []
    private var unackedBytes = 0
    private var nextEvent: UInt64 = 0
    private var lastOffset: Int64 = 0
    private var chunkCount = 0
    private var durable: UInt64 = 0
    private var storedBytes: UInt64 = 0
    private var gaps = 0
    private var maskedRuns = 0
    private var inMaskedRun = false
    private var dropped: (first: UInt64, count: UInt64, bytes: UInt64, from: Date, to: Date)?
    private var failure: EvidenceError?
    private var endWritten = false
    private var stopping = false
    private var sealerDone = false
    private var actions: ActionRecordEncoder
    private var actionRecord: [UInt8] = []
    /// Chunk buffers whose chunk is stored, kept for the next chunks: a session allocates its
    /// buffers once instead of once per chunk, so its memory stays at what the policy allows
    /// rather than drifting with the allocator's free lists.
    private var spare: [[UInt8]] = []

    /// Opens the session: writes `session.start` durably, then accepts events.
    public static func start(_ session: SessionDescriptor, objects: any WORMStore, log: LogWriter, backend: any SHA256Backend,
                             clock: any WallClock, policy: RecordingPolicy = .init()) async throws -> SessionRecorder {
        try policy.validate()
        let r = SessionRecorder(session, objects: objects, log: log, backend: backend, clock: clock, policy: policy)
        _ = try await log.appendDurably(r.startRecord().canonicalBytes())
        r.startSealer()
        return r
    }

    /// Opens the session in the tenant's folder of an `EvidenceStore`.
    public static func start(_ session: SessionDescriptor, in store: EvidenceStore, policy: RecordingPolicy = .init()) async throws -> SessionRecorder {
        try await start(session, objects: try store.objects(for: session.tenant), log: try store.writer(for: session.tenant),
                        backend: store.backend, clock: store.clock, policy: policy)
    }

    private init(_ session: SessionDescriptor, objects: any WORMStore, log: LogWriter, backend: any SHA256Backend, clock: any WallClock, policy: RecordingPolicy) {
        self.session = session; self.objects = objects; self.log = log; self.backend = backend; self.clock = clock
        self.policy = policy; self.startTime = clock.now()
        actions = ActionRecordEncoder(session: session)
        actionRecord.reserveCapacity(SessionEvent.maxActionBytes + 1024)
        open.reserveCapacity(policy.chunkBytes + 64 << 10)
    }

    // MARK: records

    private func record(_ kind: String, _ body: [String: JSONValue], time: Date? = nil) -> EvidenceRecord {
        var b = body
        b["session"] = .string(session.id)
        return EvidenceRecord(kind: kind, tenant: session.tenant, time: time ?? clock.now(), actor: session.principal, body: .object(b))
    }

    private func bindings() -> [String: JSONValue] {
        ["principal": .string(session.principal), "grant": session.grantID.map { .string($0) } ?? .null,
         "target": .string(session.target), "tenant": .string(session.tenant.rawValue)]
    }

    private func startRecord() -> EvidenceRecord {
        var b = bindings()
        b["command"] = .array(session.command.map { .string($0) })
        b["terminal"] = .object(["columns": .number(Double(session.columns)), "rows": .number(Double(session.rows))])
        b["recorder"] = .object([
            "mode": .string(policy.mode.rawValue), "chunkBytes": .number(Double(policy.chunkBytes)),
            "chunkIntervalMs": .number(Double(policy.chunkInterval.milliseconds)),
            "durabilityBoundMs": .number(Double(policy.durabilityBound.milliseconds)),
        ])
        return record("session.start", b, time: startTime)
    }

    // MARK: offering events

    /// Events accepted so far.
    public var acceptedEvents: UInt64 { cond.lock(); defer { cond.unlock() }; return nextEvent }
    /// Events whose chunk is stored and cited by a durable log record.
    public var durableEvents: UInt64 { cond.lock(); defer { cond.unlock() }; return durable }
    /// Why the recorder stopped, once it has failed closed.
    public var failureReason: String? { cond.lock(); defer { cond.unlock() }; return failure?.message }

    /// Accepts the next events, in order; see the type's guarantees.
    public func record(_ events: [SessionEvent]) async throws {
        for e in events { try offer(e) }
    }

    /// Accepts one event. Throws once the recorder has failed closed, or for an action whose
    /// data is not a JSON object of at most `SessionEvent.maxActionBytes`.
    public func offer(_ e: SessionEvent) throws {
        try e.data.withUnsafeBytes { try offer(kind: e.kind, time: e.time, data: $0) }
    }

    /// `offer` without copying the data first (for terminal relays).
    public func offer(kind: SessionEvent.Kind, time: Date, data: UnsafeRawBufferPointer) throws {
        let isAction = kind.isPrivilegedAction
        if kind == .maskedInput && data.count != 0 {
            throw EvidenceError(.malformedInput, "maskedInput events carry no data: the keystrokes must never reach the recorder")
        } else if !isAction && data.count > ChunkFormat.maxEventBytes {
            throw EvidenceError(.malformedInput, "an event holds at most \(ChunkFormat.maxEventBytes) bytes; split larger output")
        }
        cond.lock()
        defer { cond.unlock() }
        // An action is read once, into the recorder's reusable buffers (hence under the lock).
        if isAction && !actions.take(data) {
            throw EvidenceError(.malformedInput, "a \(kind.rawValue) action must be one JSON object of at most \(SessionEvent.maxActionBytes) bytes")
        }
        if let failure { throw failure }
        let now = ContinuousClock.now
        try checkBoundLocked(now)
        let size = data.count + ChunkFormat.frameOverhead
        var waited = false
        while open.count + unackedBytes + size > policy.maxBufferedBytes && open.count > 0 {
            if policy.mode == .bestEffort && unackedBytes > 0 {
                noteDroppedLocked(time: time, bytes: data.count)
                return
            }
            if unackedBytes == 0 { sealLocked(); break }
            let oldest = unacked.first?.offeredAt ?? now
            let deadline = oldest + policy.durabilityBound
            if ContinuousClock.now >= deadline { try checkBoundLocked(ContinuousClock.now); break }
            _ = cond.wait(until: Date() + max(0.0005, Self.seconds(ContinuousClock.now.duration(to: deadline))))
            waited = true
            if let failure { throw failure }
        }
        // Another thread's offer may have used the action buffers while this one waited.
        if waited && isAction { _ = actions.take(data) }
        let seq = nextEvent
        nextEvent += 1
        if openEvents == 0 {
            openFirstEvent = seq; openFirst = time; openOfferedAt = now
            open.removeAll(keepingCapacity: true)
            ChunkFormat.appendHeader(firstEvent: seq, to: &open)
        }
        var offset = Int64((time.timeIntervalSince(startTime) * 1_000_000).rounded())
        if offset < lastOffset { offset = lastOffset }  // a clock step back never reorders the stream
        lastOffset = offset
        ChunkFormat.appendFrame(kind: kind, offsetMicros: offset, data: data, to: &open)
        openEvents += 1
        openLast = time
        do {
            if isAction {
                // The same bytes as record("session.action", ["action", "event", "detail"]).canonicalBytes().
                actions.record(kind: kind, event: seq, time: time, into: &actionRecord)
                try log.append(actionRecord)
            } else if kind == .maskedInput && !inMaskedRun {
                inMaskedRun = true
                maskedRuns += 1
                try log.append(record("session.masked", [
                    "event": .number(Double(seq)),
                    "note": .string("input typed while the terminal's echo was off was not recorded"),
                ], time: time).canonicalBytes())
            } else if kind == .input {
                inMaskedRun = false
            }
        } catch let error as EvidenceError {
            failLocked(EvidenceError(.io, "the evidence log refused a record of session \(session.id): \(error.message)"))
            throw failure!
        }
        if open.count >= policy.chunkBytes { sealLocked() }
        else if let at = openOfferedAt, now - at >= policy.chunkInterval { sealLocked() }
    }

    /// Seals an old open chunk and applies the durability bound; a host with no events to
    /// offer calls this now and then (the recorder's own thread does it too, while it can).
    /// Throws once the recorder has failed closed.
    public func tick() throws {
        cond.lock(); defer { cond.unlock() }
        if let failure { throw failure }
        let now = ContinuousClock.now
        if let at = openOfferedAt, openEvents > 0, now - at >= policy.chunkInterval { sealLocked() }
        try checkBoundLocked(now)
    }

    private func checkBoundLocked(_ now: ContinuousClock.Instant) throws {
        guard policy.mode == .failClosed, failure == nil else { if let failure { throw failure }; return }
        guard let oldest = unacked.first?.offeredAt ?? (openEvents > 0 ? openOfferedAt : nil) else { return }
        if now - oldest > policy.durabilityBound {
            let waiting = unacked.first.map { "event \(durable)..\($0.lastEvent)" } ?? "event \(openFirstEvent)"
            failLocked(EvidenceError(.timedOut, "\(waiting) of session \(session.id) was not durable within \(policy.durabilityBound.milliseconds) ms (the evidence store is not keeping up or is stalled); the session was stopped (fail-closed)"))
            throw failure!
        }
    }

    private func noteDroppedLocked(time: Date, bytes: Int) {
        let seq = nextEvent
        nextEvent += 1
        if var d = dropped { d.count += 1; d.bytes += UInt64(bytes); d.to = time; dropped = d }
        else { dropped = (seq, 1, UInt64(bytes), time, time) }
        // A dropped event still takes a number so the gap is visible in the sequence; the
        // open chunk restarts after it, with its own first event.
        if openEvents > 0 { sealLocked() }
    }

    private func sealLocked() {
        guard openEvents > 0 else { return }
        let s = Sealed(index: chunkCount, firstEvent: openFirstEvent, events: openEvents, bytes: open, first: openFirst, last: openLast, offeredAt: openOfferedAt ?? .now)
        chunkCount += 1
        queue.append(s)
        unacked.append(Unacked(lastEvent: openFirstEvent + UInt64(openEvents) - 1, bytes: open.count, offeredAt: s.offeredAt))
        unackedBytes += open.count
        open = spare.popLast() ?? []
        if open.capacity < policy.chunkBytes + 64 << 10 { open.reserveCapacity(policy.chunkBytes + 64 << 10) }
        openEvents = 0
        openOfferedAt = nil
        cond.broadcast()
    }

    private func failLocked(_ e: EvidenceError) {
        guard failure == nil else { return }
        failure = e
        cond.broadcast()
        let end = endRecordLocked(outcome: .failedClosed, ending: SessionEnding(note: nil), reason: e.message)
        endWritten = true
        // Best try: the log may be the thing that failed; the writer's own error then says so.
        _ = try? log.append(end.canonicalBytes())
    }

    static func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

    // MARK: the storing thread

    private func startSealer() {
        let t = Thread { [self] in sealerLoop() }
        t.name = "session-recorder-\(session.id)"
        t.start()
    }

    private func sealerLoop() {
        let tick = min(Self.seconds(policy.chunkInterval) / 4, 0.05)
        while true {
            cond.lock()
            while queue.isEmpty && !stopping && failure == nil {
                if openEvents > 0, let at = openOfferedAt, ContinuousClock.now - at >= policy.chunkInterval { sealLocked(); continue }
                if dropped != nil { break }
                _ = cond.wait(until: Date() + tick)
            }
            if failure != nil || (stopping && queue.isEmpty && dropped == nil) {
                sealerDone = true; cond.broadcast(); cond.unlock(); return
            }
            var batch = queue
            queue.removeAll(keepingCapacity: true)
            let gap = dropped
            dropped = nil
            cond.unlock()

            var appended: [(lastEvent: UInt64, bytes: Int, stored: Bool)] = []
            var fatal: EvidenceError?
            for chunk in batch {
                do {
                    let info = try storeChunk(chunk.bytes)
                    try log.append(record("session.chunk", [
                        "chunk": .number(Double(chunk.index)), "firstEvent": .number(Double(chunk.firstEvent)),
                        "events": .number(Double(chunk.events)), "start": .string(Timestamp.format(chunk.first)),
                        "end": .string(Timestamp.format(chunk.last)), "sha256": .string(info.sha256.hex),
                        "size": .number(Double(info.size)), "object": .string(info.key),
                    ], time: chunk.last).canonicalBytes())
                    appended.append((chunk.firstEvent + UInt64(chunk.events) - 1, chunk.bytes.count, true))
                } catch {
                    let message = (error as? EvidenceError)?.message ?? "\(error)"
                    if policy.mode == .bestEffort, (try? log.append(gapRecord(first: chunk.firstEvent, count: UInt64(chunk.events), bytes: UInt64(chunk.bytes.count), from: chunk.first, to: chunk.last, reason: "chunk \(chunk.index) could not be stored: \(message)").canonicalBytes())) != nil {
                        appended.append((chunk.firstEvent + UInt64(chunk.events) - 1, chunk.bytes.count, false))
                        continue
                    }
                    fatal = EvidenceError(.io, "chunk \(chunk.index) of session \(session.id) could not be stored: \(message); the session was stopped (fail-closed)")
                    break
                }
            }
            if let gap, fatal == nil {
                let r = gapRecord(first: gap.first, count: gap.count, bytes: gap.bytes, from: gap.from, to: gap.to, reason: "the store did not keep up; \(gap.count) events were dropped (best-effort mode)")
                if (try? log.append(r.canonicalBytes())) == nil { fatal = EvidenceError(.io, "the evidence log refused a gap record") }
            }
            if fatal == nil {
                do { try log.sync() } catch { fatal = EvidenceError(.io, "the evidence log could not be flushed: \((error as? EvidenceError)?.message ?? "\(error)"); the session was stopped (fail-closed)") }
            }
            var emptied: [[UInt8]] = []
            for i in batch.indices {
                var b: [UInt8] = []
                swap(&b, &batch[i].bytes)
                b.removeAll(keepingCapacity: true)
                emptied.append(b)
            }
            cond.lock()
            let keep = policy.maxBufferedBytes / policy.chunkBytes + 1
            for b in emptied where spare.count < keep { spare.append(b) }
            if let fatal {
                failLocked(fatal)
            } else {
                for a in appended {
                    let u = unacked.removeFirst()
                    unackedBytes -= u.bytes
                    durable = a.lastEvent + 1
                    if a.stored { storedBytes += UInt64(a.bytes) } else { gaps += 1 }
                }
                if gap != nil { gaps += 1; if unacked.isEmpty && openEvents == 0 { durable = nextEvent } }
            }
            cond.broadcast()
            cond.unlock()
        }
    }

    private func gapRecord(first: UInt64, count: UInt64, bytes: UInt64, from: Date, to: Date, reason: String) -> EvidenceRecord {
        record("session.gap", ["firstEvent": .number(Double(first)), "events": .number(Double(count)), "bytes": .number(Double(bytes)),
                               "start": .string(Timestamp.format(from)), "end": .string(Timestamp.format(to)), "reason": .string(reason)])
    }

    /// Runs the store's async `put` from the recorder's thread (which may block; it is not a
    /// cooperative-pool thread).
    private func storeChunk(_ bytes: [UInt8]) throws -> StoredObjectInfo {
        let outcome = BlockingOutcome<StoredObjectInfo>()
        let objects = self.objects, backend = self.backend
        let retention = RetentionPolicy(retainUntil: startTime + policy.retention)
        Task { outcome.finish(await Result { try await objects.putContentAddressed(bytes, retention: retention, backend: backend) }) }
        return try outcome.wait().get()
    }

    // MARK: ending

    private func endRecordLocked(outcome: SessionSummary.Outcome, ending: SessionEnding, reason: String?) -> EvidenceRecord {
        var b = bindings()
        b["outcome"] = .string(outcome.rawValue)
        b["reason"] = reason.map { .string($0) } ?? .null
        b["exitStatus"] = ending.exitStatus.map { .number(Double($0)) } ?? .null
        b["signal"] = ending.signal.map { .number(Double($0)) } ?? .null
        b["note"] = ending.note.map { .string($0) } ?? .null
        b["events"] = .number(Double(nextEvent))
        b["durableEvents"] = .number(Double(outcome == .completed ? nextEvent : durable))
        b["chunks"] = .number(Double(outcome == .completed ? chunkCount : chunkCount - unacked.count))
        b["bytes"] = .number(Double(storedBytes))
        b["gaps"] = .number(Double(gaps))
        b["maskedInputs"] = .number(Double(maskedRuns))
        return record("session.end", b)
    }

    /// Seals the last chunk, waits (at most the durability bound) until every event is
    /// durable, and writes `session.end`. After a fail-closed stop it returns the summary of
    /// what was made durable, with the reason; the end record was written when it stopped.
    public func finish(_ ending: SessionEnding) async throws -> SessionSummary {
        // The waits below are bounded but blocking: run them off the cooperative pool.
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<SessionSummary, Error>) in
            Thread { c.resume(with: Result { try self.finishBlocking(ending) }) }.start()
        }
    }

    /// `finish` for a host that runs on its own thread (a terminal relay).
    public func finishBlocking(_ ending: SessionEnding) throws -> SessionSummary {
        cond.lock()
        if failure == nil { sealLocked() }
        stopping = true
        cond.broadcast()
        let deadline = Date() + Self.seconds(policy.durabilityBound)
        while !sealerDone && failure == nil {
            if Date() >= deadline && policy.mode == .failClosed {
                failLocked(EvidenceError(.timedOut, "the last events of session \(session.id) were not durable within \(policy.durabilityBound.milliseconds) ms at its end (fail-closed)"))
                break
            }
            _ = cond.wait(until: min(deadline, Date() + 0.05))
            if Date() >= deadline && policy.mode == .bestEffort { break }
        }
        var endIndex: UInt64?
        if !endWritten {
            endWritten = true
            let end = endRecordLocked(outcome: .completed, ending: ending, reason: nil)
            cond.unlock()
            endIndex = try log.append(end.canonicalBytes())
            cond.lock()
        }
        let summary = SessionSummary(outcome: failure == nil ? .completed : .failedClosed, reason: failure?.message, durableEvents: durable,
                                     chunks: chunkCount - unacked.count, bytes: storedBytes, gaps: gaps, maskedInputs: maskedRuns)
        cond.unlock()
        // The end record (normal or fail-closed) is flushed with a bounded wait: a stalled
        // disk must not hang the host forever.
        let log = self.log
        let flushed = BlockingOutcome<Void>()
        Thread { flushed.finish(Result { try log.sync() }) }.start()
        if flushed.wait(timeout: Self.seconds(policy.durabilityBound)) == nil, endIndex != nil {
            throw EvidenceError(.timedOut, "the end record of session \(session.id) was not durable within \(policy.durabilityBound.milliseconds) ms")
        } else if case .failure(let e)? = flushed.wait(timeout: 0), summary.outcome == .completed {
            throw e
        }
        return summary
    }
}

/// A one-shot result handed from a task or thread to a thread that blocks for it.
final class BlockingOutcome<T: Sendable>: @unchecked Sendable {
    // @unchecked: `value` is only read and written under `cond`.
    private let cond = NSCondition()
    private var value: Result<T, Error>?

    func finish(_ r: Result<T, Error>) { cond.lock(); if value == nil { value = r }; cond.broadcast(); cond.unlock() }

    func wait() -> Result<T, Error> {
        cond.lock(); defer { cond.unlock() }
        while value == nil { cond.wait() }
        return value!
    }

    /// nil if nothing arrived within `timeout` seconds.
    func wait(timeout: Double) -> Result<T, Error>? {
        cond.lock(); defer { cond.unlock() }
        let deadline = Date() + timeout
        while value == nil && Date() < deadline { _ = cond.wait(until: deadline) }
        return value
    }
}

extension Result where Failure == Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}

extension Duration {
    var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}
