import EvidenceCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What a terminal relay needs from a recorder: `SessionRecorder` in the same process, or
/// `RemoteSessionRecorder` in front of a `RecorderService`.
public protocol RelayedSessionSink: AnyObject, Sendable {
    var session: SessionDescriptor { get }
    /// Takes one event (copying `data`); throws once the recording has failed closed.
    func offer(kind: SessionEvent.Kind, time: Date, data: UnsafeRawBufferPointer) throws
    /// Applies the durability bound while no event passes; throws once failed closed.
    func tick() throws
    /// Why the recording stopped, once it has failed closed.
    var failureReason: String? { get }
    /// Events known durable.
    var durableEvents: UInt64 { get }
    /// Ends the session (bounded wait) and returns what the evidence holds.
    func finishBlocking(_ ending: SessionEnding) throws -> SessionSummary
}

extension SessionRecorder: RelayedSessionSink {}

/// A session recorded by a `RecorderService` in another process: the relay's events go over
/// a Unix socket to the process that owns the evidence store, so several sessions of one
/// tenant (one log writer) can be relayed by separate processes at once.
///
/// Guarantees (the same fail-closed contract as `SessionRecorder`):
/// - Events are sent in the order offered. The service reports how many are durable; if an
///   offered event is not reported durable within the service's durability bound (told at
///   the start), or the service reports a failure, or the connection breaks or stalls, every
///   later `offer`/`tick` throws with the reason, and the relay must end the session.
/// - `offer` blocks at most the durability bound (back-pressure from a full socket).
/// - `finishBlocking` sends the end, waits at most the bound plus five seconds for the
///   service's summary, and otherwise throws; `durableEvents` is what the service confirmed.
public final class RemoteSessionRecorder: RelayedSessionSink, @unchecked Sendable {
    // @unchecked: mutable state is guarded by `cond`; `fd` is written once in init; frames
    // are written under `writeLock` so the relay's events and the end never interleave.
    public let session: SessionDescriptor
    /// The service's durability bound, from its `started` frame.
    public let durabilityBound: Duration
    private let fd: Int32
    private let cond = NSCondition()
    private let writeLock = NSLock()
    private var offered: UInt64 = 0
    private var durable: UInt64 = 0
    private var failure: String?
    private var summary: SessionSummary?
    private var readerDone = false
    /// The failure was found here (bound passed, socket refused the event), not told by the
    /// service: no summary is coming, so `finishBlocking` does not wait for one.
    private var failedLocally = false
    /// (first event index, when it was offered), one entry per 10 ms of offers at most.
    private var pending: [(first: UInt64, at: ContinuousClock.Instant)] = []
    private var scratch: [UInt8] = []

    /// Connects to the service at `socketPath` and starts `session` there. Throws if the
    /// service cannot be reached, refuses the session (unknown tenant, …) or does not answer
    /// within `timeout`. Blocking, like `offer` and `finishBlocking`: a relay calls them from
    /// its own thread, not from a task of Swift concurrency's shared pool.
    public init(socketPath: String, session: SessionDescriptor, timeout: Duration = .seconds(10)) throws {
        self.session = session
        var addr = try RecorderWire.address(socketPath)
        let s = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard s >= 0 else { throw EvidenceError(.io, "cannot create a socket: \(String(cString: strerror(errno)))") }
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        guard rc == 0 else {
            let e = errno; close(s)
            throw EvidenceError(.notFound, "no recorder service at \(socketPath) (\(String(cString: strerror(e)))); start it with 'nis2ctl recorder serve --store DIR --socket \(socketPath)'")
        }
        let ms = Int(timeout.components.seconds * 1000)
        do {
            try RecorderWire.writeAll(s, RecorderWire.frame(.hello, json: RecorderWire.hello(session)), timeoutMs: ms)
            guard let (type, payload) = try RecorderWire.readFrame(s, firstByteTimeoutMs: Int32(ms)) else {
                throw EvidenceError(.io, "the recorder service at \(socketPath) closed the connection before starting the session")
            }
            switch type {
            case .started:
                let v = try JSONParser.parse(payload, limits: JSONLimits(maxBytes: RecorderWire.maxControlBytes, maxDepth: 2, maxStringBytes: 256, maxContainerCount: 16))
                guard let bound = v["durabilityBoundMs"]?.numberValue, bound >= 1, bound <= 3_600_000 else {
                    throw EvidenceError(.malformedInput, "the recorder service's start message has no valid durability bound")
                }
                durabilityBound = .milliseconds(Int64(bound))
            case .refused, .failed:
                throw EvidenceError(.accessDenied, "the recorder service refused session \(session.id): \(String(decoding: payload, as: UTF8.self))")
            default:
                throw EvidenceError(.malformedInput, "the recorder service answered the start with a \(type) frame")
            }
        } catch {
            close(s)
            throw error
        }
        fd = s
        scratch.reserveCapacity(64 << 10 + 64)
        let t = Thread { [self] in readLoop() }
        t.name = "remote-recorder-\(session.id)"
        t.start()
    }

    deinit { close(fd) }

    public var durableEvents: UInt64 { cond.lock(); defer { cond.unlock() }; return durable }
    public var failureReason: String? { cond.lock(); defer { cond.unlock() }; return failure }

    public func offer(kind: SessionEvent.Kind, time: Date, data: UnsafeRawBufferPointer) throws {
        if kind == .maskedInput && data.count != 0 {
            throw EvidenceError(.malformedInput, "maskedInput events carry no data: the keystrokes must never reach the recorder")
        }
        guard data.count <= RecorderWire.maxEventBytes else {
            throw EvidenceError(.malformedInput, "an event sent to the recorder service holds at most \(RecorderWire.maxEventBytes) bytes; split larger output")
        }
        let now = ContinuousClock.now
        cond.lock()
        if let failure { cond.unlock(); throw EvidenceError(.io, failure) }
        try checkBoundLocked(now)
        if pending.last.map({ now - $0.at >= .milliseconds(10) }) ?? true { pending.append((offered, now)) }
        offered += 1
        cond.unlock()

        writeLock.lock()
        defer { writeLock.unlock() }
        scratch.removeAll(keepingCapacity: true)
        scratch += RecorderWire.eventHeader(kind: kind, time: time, dataCount: data.count)
        scratch.append(contentsOf: data)
        do {
            try RecorderWire.writeAll(fd, scratch, timeoutMs: Int(durabilityBound.components.seconds * 1000 + durabilityBound.components.attoseconds / 1_000_000_000_000_000))
        } catch {
            let reason = "the recorder service did not take event \(offered - 1) of session \(session.id): \((error as? EvidenceError)?.message ?? "\(error)"); the session was stopped (fail-closed)"
            fail(reason, locally: true)
            throw EvidenceError(.io, reason)
        }
    }

    public func tick() throws {
        cond.lock(); defer { cond.unlock() }
        if let failure { throw EvidenceError(.io, failure) }
        try checkBoundLocked(.now)
    }

    private func checkBoundLocked(_ now: ContinuousClock.Instant) throws {
        guard durable < offered, let oldest = pending.first, now - oldest.at > durabilityBound else { return }
        let reason = "event \(durable) of session \(session.id) was not confirmed durable by the recorder service within \(durabilityBound) (the service or its store is not keeping up, or is gone); the session was stopped (fail-closed)"
        failure = reason
        failedLocally = true
        cond.broadcast()
        throw EvidenceError(.timedOut, reason)
    }

    private func fail(_ reason: String, locally: Bool = false) {
        cond.lock()
        if failure == nil { failure = reason; failedLocally = locally }
        cond.broadcast()
        cond.unlock()
    }

    public func finishBlocking(_ ending: SessionEnding) throws -> SessionSummary {
        let bound = durabilityBound + .seconds(5)
        let boundMs = Int(bound.components.seconds * 1000)
        if failureReason == nil {
            writeLock.lock()
            do { try RecorderWire.writeAll(fd, RecorderWire.frame(.end, json: RecorderWire.ending(ending)), timeoutMs: boundMs) }
            catch { fail("the end of session \(session.id) could not be sent to the recorder service: \((error as? EvidenceError)?.message ?? "\(error)")", locally: true) }
            writeLock.unlock()
        }
        cond.lock()
        defer { cond.unlock() }
        let deadline = failedLocally ? Date() : Date() + Double(bound.components.seconds)
        while summary == nil && !readerDone && Date() < deadline { _ = cond.wait(until: min(deadline, Date() + 0.05)) }
        if var summary {
            // The service ended the session for its own reason (stopping, a bad frame): to the
            // relay that is a stop it did not ask for, so it is reported as failed closed.
            if let failure, summary.outcome == .completed { summary.outcome = .failedClosed; summary.reason = failure }
            return summary
        }
        let reason = failure ?? "the recorder service did not confirm the end of session \(session.id) within \(bound)"
        if failure == nil { failure = reason }
        return SessionSummary(outcome: .failedClosed, reason: reason, durableEvents: durable, chunks: 0, bytes: 0, gaps: 0, maskedInputs: 0)
    }

    /// The service's frames: durable counts, a failure, the summary; the end of the stream.
    private func readLoop() {
        defer {
            cond.lock()
            if summary == nil && failure == nil {
                failure = "the recorder service closed the connection of session \(session.id); the session was stopped (fail-closed)"
            }
            readerDone = true
            cond.broadcast()
            cond.unlock()
        }
        while true {
            let frame: (RecorderWire.FrameType, [UInt8])?
            do { frame = try RecorderWire.readFrame(fd) } catch {
                fail("the connection to the recorder service failed: \((error as? EvidenceError)?.message ?? "\(error)"); the session was stopped (fail-closed)")
                return
            }
            guard let (type, payload) = frame else { return }
            cond.lock()
            switch type {
            case .durable:
                let n = RecorderWire.uint64(payload[...])
                if n <= offered && n >= durable {
                    durable = n
                    while pending.count > 1 && pending[1].first <= n { pending.removeFirst() }
                    if pending.count == 1 && n >= offered { pending.removeAll() }
                } else if n > offered {
                    failure = failure ?? "the recorder service reported \(n) events durable, more than the \(offered) sent; the session was stopped"
                }
            case .failed:
                failure = failure ?? String(decoding: payload, as: UTF8.self)
            case .summary:
                do {
                    let s = try RecorderWire.summary(from: payload)
                    summary = s
                    durable = max(durable, min(s.durableEvents, offered))
                } catch { failure = failure ?? (error as? EvidenceError)?.message ?? "\(error)" }
            default:
                failure = failure ?? "the recorder service sent an unexpected \(type) frame; the session was stopped"
            }
            cond.broadcast()
            cond.unlock()
        }
    }
}
