import EvidenceCore
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Records the sessions of separate relay processes into one evidence store: listens on a
/// Unix socket, and runs one `SessionRecorder` per connection (`RemoteSessionRecorder` is the
/// other end). A tenant's log has one writer at a time; with the service holding it, any
/// number of `nis2ctl record --recorder SOCKET` processes can record sessions of the same
/// tenant at once.
///
/// Guarantees:
/// - Each connection is one session: `hello` starts it (`session.start` durable before the
///   relay is told `started`), events are offered in the order received, `end` finishes it
///   and the relay gets the summary. A relay that disconnects without `end` gets its session
///   ended with a note saying so; everything already received is kept.
/// - The relay is told how many events are durable (at least every 50 ms while it changes),
///   and told at once when the recorder fails closed, so it can stop the user's session.
/// - Malformed input (unknown frame, a frame above its bound, a bad hello) ends that
///   connection with a `refused`/`failed` frame naming the problem; other sessions go on.
/// - The socket is created with mode 0600 (owner only) unless `socketMode` says otherwise:
///   whoever can connect can record sessions into any tenant of the store, so the socket's
///   permissions are the access control.
/// - `stop()` closes the socket, ends every open session (note: the service stopped) and
///   tells each relay, which ends the user's session (fail-closed).
public final class RecorderService: @unchecked Sendable {
    // @unchecked: `listener` is set once in init; the connection set is a Mutex.
    public let socketPath: String
    public let store: EvidenceStore
    public let policy: RecordingPolicy
    private let listener: Int32
    private let stopping = Atomic<Bool>(false)
    private let active = Mutex<Set<Int32>>([])
    private let finished = DispatchGroup()

    /// Binds `socketPath` (a stale socket file nobody answers on is replaced; a live one, or a
    /// file that is not a socket, is refused).
    public init(store: EvidenceStore, socketPath: String, policy: RecordingPolicy = .init(), socketMode: mode_t = 0o600) throws {
        try policy.validate()
        self.store = store; self.socketPath = socketPath; self.policy = policy
        var addr = try RecorderWire.address(socketPath)
        var st = stat()
        if lstat(socketPath, &st) == 0 {
            guard (st.st_mode & S_IFMT) == S_IFSOCK else {
                throw EvidenceError(.io, "\(socketPath) exists and is not a socket; choose another --socket path")
            }
            let probe = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            let live = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(probe, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } } == 0
            close(probe)
            guard !live else { throw EvidenceError(.io, "a recorder service already answers on \(socketPath); stop it first") }
            unlink(socketPath)
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw EvidenceError(.io, "cannot create a socket: \(String(cString: strerror(errno)))") }
        // The mode is set before listen(), so nobody can connect under a looser one; umask is
        // left alone (it is process-wide, and a host's other threads create files meanwhile).
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        guard bound == 0, chmod(socketPath, socketMode) == 0, listen(fd, 64) == 0 else {
            let e = errno
            close(fd)
            if bound == 0 { unlink(socketPath) }
            throw EvidenceError(.io, "cannot listen on \(socketPath): \(String(cString: strerror(e)))")
        }
        listener = fd
    }

    /// Accepts relays until `stop()`; returns once every session has ended. Blocks: call it
    /// from a thread of its own (or use `run()`).
    public func serve() {
        while !stopping.load(ordering: .relaxed) {
            var p = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 100) > 0 else { continue }
            let c = accept(listener, nil, nil)
            guard c >= 0 else { continue }
            _ = fcntl(c, F_SETFD, FD_CLOEXEC)
            active.withLock { _ = $0.insert(c) }
            finished.enter()
            let t = Thread { [self] in
                serveConnection(c)
                active.withLock { _ = $0.remove(c) }
                close(c)
                finished.leave()
            }
            t.stackSize = 512 << 10
            t.start()
        }
        finished.wait()
    }

    /// `serve()` on a thread of its own, for async callers: it blocks, and must not hold one
    /// of Swift concurrency's few threads (the recorders need them to store chunks).
    public func run() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let t = Thread { [self] in serve(); c.resume() }
            t.name = "recorder-service"
            t.start()
        }
    }

    /// Stops accepting, ends the open sessions; `serve()` returns when they have ended.
    public func stop() {
        guard !stopping.exchange(true, ordering: .relaxed) else { return }
        close(listener)
        unlink(socketPath)
    }

    /// Sessions being recorded now.
    public var activeSessions: Int { active.withLock { $0.count } }

    // MARK: one relay

    private func serveConnection(_ fd: Int32) {
        let recorder: SessionRecorder
        do {
            guard let (type, payload) = try RecorderWire.readFrame(fd, firstByteTimeoutMs: 10_000) else { return }
            guard type == .hello else { throw EvidenceError(.malformedInput, "the first frame must be hello, not \(type)") }
            let session = try RecorderWire.session(fromHello: payload)
            try store.requireTenant(session.tenant)
            recorder = try Self.blocking { [store, policy] in try await SessionRecorder.start(session, in: store, policy: policy) }
        } catch {
            let why = (error as? EvidenceError)?.message ?? "\(error)"
            try? RecorderWire.writeAll(fd, RecorderWire.frame(.refused, Array(why.utf8)), timeoutMs: 1000)
            return
        }
        let boundMs = Int(policy.durabilityBound.components.seconds * 1000 + policy.durabilityBound.components.attoseconds / 1_000_000_000_000_000)
        var told: UInt64 = 0
        func tell(_ frame: [UInt8]) -> Bool { (try? RecorderWire.writeAll(fd, frame, timeoutMs: boundMs)) != nil }
        guard tell(RecorderWire.frame(.started, json: .object(["durabilityBoundMs": .number(Double(boundMs)), "mode": .string(policy.mode.rawValue)]))) else {
            _ = try? recorder.finishBlocking(SessionEnding(note: "the relay went away before the session started"))
            return
        }
        var ending: SessionEnding?
        var problem: String?
        loop: while true {
            if stopping.load(ordering: .relaxed) { problem = "the recorder service was stopped; the session was ended"; break }
            do {
                try recorder.tick()
                var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                if poll(&p, 1, 50) > 0 {
                    let frame: (RecorderWire.FrameType, [UInt8])?
                    do { frame = try RecorderWire.readFrame(fd) } catch let e as EvidenceError where e.code != .malformedInput {
                        // A reset or a frame cut off: the relay went away (a malformed frame
                        // is answered below instead).
                        ending = SessionEnding(note: "the relay disconnected without ending the session (\(e.message))")
                        break loop
                    }
                    guard let (type, payload) = frame else {
                        ending = SessionEnding(note: "the relay disconnected without ending the session")
                        break loop
                    }
                    switch type {
                    case .event:
                        let index = Int(payload[0])
                        guard index < RecorderWire.kinds.count else { throw EvidenceError(.malformedInput, "event kind \(index) is unknown") }
                        let micros = Int64(bitPattern: RecorderWire.uint64(payload[1..<9]))
                        try payload.withUnsafeBytes { raw in
                            try recorder.offer(kind: RecorderWire.kinds[index], time: Date(timeIntervalSince1970: Double(micros) / 1_000_000),
                                               data: UnsafeRawBufferPointer(rebasing: raw[RecorderWire.eventHeaderBytes...]))
                        }
                    case .end:
                        ending = try RecorderWire.ending(fromEnd: payload)
                        break loop
                    default:
                        throw EvidenceError(.malformedInput, "a relay does not send \(type) frames")
                    }
                }
            } catch {
                problem = (error as? EvidenceError)?.message ?? "\(error)"
                break
            }
            let durable = recorder.durableEvents
            if durable != told {
                told = durable
                guard tell(RecorderWire.frame(.durable, RecorderWire.uint64Bytes(durable))) else {
                    ending = SessionEnding(note: "the relay disconnected without ending the session (it stopped reading)")
                    break
                }
            }
        }
        if let problem {
            // The relay is told first, so the user's session stops at once; then the end.
            _ = tell(RecorderWire.frame(.failed, Array(problem.utf8)))
            let summary = try? recorder.finishBlocking(SessionEnding(note: problem))
            if let summary { _ = tell(RecorderWire.frame(.summary, json: RecorderWire.summary(summary))) }
            return
        }
        do {
            let summary = try recorder.finishBlocking(ending ?? SessionEnding())
            // A signed checkpoint after each session, as `nis2ctl record --store` writes one.
            if store.signer != nil { _ = try? store.writer(for: recorder.session.tenant).checkpoint() }
            _ = tell(RecorderWire.frame(.durable, RecorderWire.uint64Bytes(recorder.durableEvents)))
            _ = tell(RecorderWire.frame(.summary, json: RecorderWire.summary(summary)))
        } catch {
            _ = tell(RecorderWire.frame(.failed, Array(((error as? EvidenceError)?.message ?? "\(error)").utf8)))
        }
    }

    /// Runs async work from a plain thread and waits for it.
    private static func blocking<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) throws -> T {
        let done = DispatchSemaphore(value: 0)
        let box = Mutex<Result<T, any Error>?>(nil)
        Task {
            let r = await Result { try await work() }
            box.withLock { $0 = r }
            done.signal()
        }
        done.wait()
        return try box.withLock { $0! }.get()
    }
}

private extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
