import EvidenceCore
import EvidenceOpenSSL
import EvidencePTY
import Foundation

/// `nis2ctl record`, `recording list`, `recording export`: privileged sessions recorded into
/// a tenant's evidence, listed, and rebuilt as asciicast v2.
enum RecordingCommands {
    static let all: [CommandSpec] = [record, serve, list, export]

    /// The recording policy from --durability-ms, --chunk-ms, --chunk-bytes, --buffer-bytes, --best-effort.
    static func policy(_ a: ParsedArguments) throws -> RecordingPolicy {
        var policy = RecordingPolicy(mode: a.flag("best-effort") ? .bestEffort : .failClosed)
        if let ms = try a.uint64("durability-ms") { policy.durabilityBound = .milliseconds(Int64(min(ms, 86_400_000))) }
        if let ms = try a.uint64("chunk-ms") { policy.chunkInterval = .milliseconds(Int64(min(ms, 86_400_000))) }
        if let n = try a.uint64("chunk-bytes") { policy.chunkBytes = Int(min(n, 1 << 40)); policy.maxBufferedBytes = max(policy.maxBufferedBytes, 4 * policy.chunkBytes) }
        if let n = try a.uint64("buffer-bytes") {
            guard n >= 2 * UInt64(policy.chunkBytes), n <= 1 << 30 else {
                throw UsageError("--buffer-bytes must hold two chunks (at least \(2 * policy.chunkBytes), twice --chunk-bytes) and at most 1073741824, not \(n)")
            }
            policy.maxBufferedBytes = Int(n)
        }
        do { try policy.validate() } catch let e as EvidenceError { throw UsageError(e.message) }
        return policy
    }

    static let record = CommandSpec(
        path: ["record"], summary: "run a command under a recorded pseudo-terminal",
        help: """
        usage: nis2ctl record (--store DIR | --recorder SOCKET) --tenant ID [--grant G] [--principal P] [--target T]
                              [--session S] [--durability-ms N] [--chunk-ms N] [--chunk-bytes N]
                              [--buffer-bytes N] [--best-effort] -- COMMAND [ARG ...]

        Runs COMMAND under a new pseudo-terminal, like script(1): your terminal is passed
        through (raw mode, window size, signals) and the exit status is COMMAND's. Output and
        input are recorded into the tenant's evidence: chunks in its object store, session
        records in its log (session.start binds principal, grant, target and tenant).
        Input typed while echo is off (password prompts) is not recorded; a session.masked
        record notes it.

        Fail-closed: if recorded events are not durable within --durability-ms (default 5000),
        or the store refuses a write, the session is ended at once, you are told why, and the
        log's session.end record says why; exit status 3.

        A tenant's log has one writer at a time, so with --store a second session of the same
        tenant cannot record while this one runs. With --recorder SOCKET the session is
        recorded by 'nis2ctl recorder serve' (which holds the store), so any number of
        sessions of one tenant can run at once; the policy options are then the service's.

          --grant G          the access grant the session runs under (cited in the records)
          --principal P      who is working (default: local#<login name>)
          --target T         what the session reaches (default: local:<host name>)
          --session S        session id (default: generated, printed at the start)
          --chunk-ms N       seal a chunk after N ms (default 500)
          --chunk-bytes N    seal a chunk at N bytes (default 1048576)
          --buffer-bytes N   most bytes held before they are durable, i.e. the memory the
                             recording may use (default 4194304, at least two chunks); when
                             full, the program's output waits (back-pressure)
          --best-effort      keep the session going when storage fails, logging every gap
        """,
        options: ["store", "recorder", "tenant", "grant", "principal", "target", "session", "durability-ms", "chunk-ms", "chunk-bytes", "buffer-bytes"],
        flags: ["best-effort"]
    ) { a in
        guard !a.trailing.isEmpty else { throw UsageError("give the command to record after '--', e.g. nis2ctl record --store DIR --tenant ID -- bash") }
        guard a.positional.isEmpty else { throw UsageError("unexpected '\(a.positional[0])'; put the command after '--'") }
        signal(SIGPIPE, SIG_IGN)
        signal(SIGXFSZ, SIG_IGN)  // a file-size limit must surface as a write error (fail-closed), not kill us
        RecordingProcess.mapLargeAllocations()
        let tenant = try a.tenant()
        let socketPath = a.value("recorder")
        guard (socketPath == nil) != (a.value("store") == nil) else {
            throw UsageError("give either --store DIR (record in this process) or --recorder SOCKET (record through 'nis2ctl recorder serve'), not both")
        }
        let policy = try policy(a)
        if socketPath != nil, ["durability-ms", "chunk-ms", "chunk-bytes", "buffer-bytes"].contains(where: { a.value($0) != nil }) || a.flag("best-effort") {
            throw UsageError("with --recorder the recording policy is the service's; set it on 'nis2ctl recorder serve'")
        }
        let size = TerminalSize.of(0) ?? TerminalSize(columns: 80, rows: 24)
        let sessionID = a.value("session") ?? "s-\(Int(Date().timeIntervalSince1970))-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
        let login = getpwuid(getuid()).map { String(cString: $0.pointee.pw_name) } ?? "uid\(getuid())"
        let descriptor: SessionDescriptor
        do {
            descriptor = try SessionDescriptor(id: sessionID, tenant: tenant, principal: a.value("principal") ?? "local#\(login)",
                                               grantID: a.value("grant"), target: a.value("target") ?? "local:\(ProcessInfo.processInfo.hostName)",
                                               command: a.trailing, columns: size.columns, rows: size.rows)
        } catch let e as EvidenceError { throw UsageError(e.message) }
        if let socketPath {
            let recorder = try RemoteSessionRecorder(socketPath: socketPath, session: descriptor)
            Console.err("recording session \(sessionID) for tenant \(tenant) through the recorder service at \(socketPath); the program's output follows")
            let outcome: RelayOutcome
            do { outcome = try TerminalRelay().run(a.trailing, recorder: recorder) } catch {
                _ = try? recorder.finishBlocking(SessionEnding(note: "the program could not be started"))
                throw error
            }
            if outcome.stoppedByRecorder { return .failure }
            let s = outcome.summary
            Console.err("session \(sessionID) recorded: \(s.chunks) chunks, \(s.bytes) bytes, \(s.durableEvents) events" +
                        (s.maskedInputs > 0 ? ", masked input \(s.maskedInputs)x" : "") + (s.gaps > 0 ? ", \(s.gaps) GAPS" : ""))
            exit(outcome.exitStatus)
        }
        let storePath = try a.required("store")
        let store = try StoreAccess.open(storePath, signing: FileManager.default.fileExists(atPath: storePath + "/keys/checkpoint.key"))
        try store.requireTenant(tenant)
        let recorder = try await SessionRecorder.start(descriptor, in: store, policy: policy)
        Console.err("recording session \(sessionID) for tenant \(tenant) (\(policy.mode.rawValue)); the program's output follows")
        let outcome: RelayOutcome
        do {
            outcome = try TerminalRelay().run(a.trailing, recorder: recorder)
        } catch {
            _ = try? await recorder.finish(SessionEnding(note: "the program could not be started"))
            try? store.close()
            throw error
        }
        if outcome.stoppedByRecorder {
            try? store.close()
            return .failure
        }
        if store.signer != nil { _ = try? store.writer(for: tenant).checkpoint() }
        try store.close()
        let s = outcome.summary
        Console.err("session \(sessionID) recorded: \(s.chunks) chunks, \(s.bytes) bytes, \(s.durableEvents) events" +
                    (s.maskedInputs > 0 ? ", masked input \(s.maskedInputs)x" : "") + (s.gaps > 0 ? ", \(s.gaps) GAPS" : ""))
        exit(outcome.exitStatus)
    }

    static let serve = CommandSpec(
        path: ["recorder", "serve"], summary: "record the sessions of 'nis2ctl record --recorder' processes",
        help: """
        usage: nis2ctl recorder serve --store DIR --socket PATH [--durability-ms N] [--chunk-ms N]
                                      [--chunk-bytes N] [--buffer-bytes N] [--best-effort]

        Holds the evidence store and records every session that 'nis2ctl record --recorder PATH'
        relays to it, so several sessions of one tenant can be recorded at once (a tenant's log
        has one writer). Runs until SIGTERM or SIGINT; then ends the open sessions (their users
        are told, fail-closed) and exits. The socket is made owner-only (mode 0600): whoever can
        connect can record into every tenant of the store. The policy options are those of
        'nis2ctl record'; they apply to every session.
        """,
        options: ["store", "socket", "durability-ms", "chunk-ms", "chunk-bytes", "buffer-bytes"],
        flags: ["best-effort"]
    ) { a in
        guard a.positional.isEmpty, a.trailing.isEmpty else { throw UsageError("unexpected arguments; see 'nis2ctl recorder serve --help'") }
        signal(SIGPIPE, SIG_IGN)
        signal(SIGXFSZ, SIG_IGN)
        RecordingProcess.mapLargeAllocations()
        let policy = try policy(a)
        let storePath = try a.required("store")
        let store = try StoreAccess.open(storePath, signing: FileManager.default.fileExists(atPath: storePath + "/keys/checkpoint.key"))
        let service = try RecorderService(store: store, socketPath: try a.required("socket"), policy: policy)
        var sources: [DispatchSourceSignal] = []
        for s in [SIGTERM, SIGINT] {
            signal(s, SIG_IGN)
            let src = DispatchSource.makeSignalSource(signal: s, queue: .global())
            src.setEventHandler { service.stop() }
            src.resume()
            sources.append(src)
        }
        Console.err("recorder service for \(storePath) listening on \(service.socketPath) (\(policy.mode.rawValue), durability bound \(policy.durabilityBound))")
        await service.run()
        sources.forEach { $0.cancel() }
        try store.close()
        Console.err("recorder service stopped")
        return .success
    }

    static let list = CommandSpec(
        path: ["recording", "list"], summary: "recorded sessions with principal, grant, start/end, size",
        help: """
        usage: nis2ctl recording list --store DIR --tenant ID [--json]

        One line per session: id, principal, grant, target, start, end (or "open" when the log
        holds no end record), outcome, chunks and bytes stored.
        """,
        options: ["store", "tenant"], flags: ["json"]
    ) { a in
        let store = try StoreAccess.open(try a.required("store"), signing: false)
        let sessions = try SessionRecordings.list(in: store, tenant: try a.tenant())
        if a.flag("json") {
            for s in sessions {
                Console.json(.object([
                    "session": .string(s.id), "principal": .string(s.principal), "grant": s.grantID.map { .string($0) } ?? .null,
                    "target": .string(s.target), "start": .string(Timestamp.format(s.start)),
                    "end": s.end.map { .string(Timestamp.format($0)) } ?? .null, "outcome": s.outcome.map { .string($0) } ?? .null,
                    "reason": s.reason.map { .string($0) } ?? .null, "chunks": .number(Double(s.chunks.count)), "bytes": .number(Double(s.bytes)),
                    "actions": .number(Double(s.actions)), "maskedInputs": .number(Double(s.maskedInputs)), "gaps": .number(Double(s.gaps.count)),
                ]))
            }
            return .success
        }
        if sessions.isEmpty { Console.out("no recorded sessions"); return .success }
        Console.out(["SESSION", "PRINCIPAL", "GRANT", "TARGET", "START", "END", "OUTCOME", "CHUNKS", "BYTES"].joined(separator: "\t"))
        for s in sessions {
            Console.out([s.id, s.principal, s.grantID ?? "-", s.target, Timestamp.format(s.start), s.end.map(Timestamp.format) ?? "open",
                         s.outcome ?? "-", "\(s.chunks.count)", "\(s.bytes)"].joined(separator: "\t"))
        }
        return .success
    }

    static let export = CommandSpec(
        path: ["recording", "export"], summary: "rebuild a session as asciicast v2, checking every chunk",
        help: """
        usage: nis2ctl recording export --store DIR --tenant ID --session S -o FILE.cast

        Writes the session as an asciicast v2 file (asciinema play / asciinema cat read it),
        checking every chunk against the SHA-256 and size its log record cites. Input events
        become "i", window changes "r", privileged actions, masked input and gaps "m" markers.
        A chunk that does not match stops the export (no file is left) with exit status 1.
        """,
        options: ["store", "tenant", "session", "output"]
    ) { a in
        var output = a.value("output")
        var rest = a.positional
        if let i = rest.firstIndex(of: "-o") {
            guard i + 1 < rest.count else { throw UsageError("-o needs a file name") }
            output = rest[i + 1]; rest.removeSubrange(i...(i + 1))
        }
        guard rest.isEmpty else { throw UsageError("unexpected '\(rest[0])'") }
        guard let output else { throw UsageError("missing the output file: -o FILE.cast") }
        let store = try StoreAccess.open(try a.required("store"), signing: false)
        let summary = try await SessionRecordings.exportAsciicast(try a.required("session"), from: store, tenant: try a.tenant(), toFile: output)
        Console.out("wrote \(output): \(summary.chunksVerified) chunks verified, \(summary.events) events, \(summary.outputBytes) output bytes" +
                    (summary.actions > 0 ? ", \(summary.actions) actions" : "") + (summary.gaps > 0 ? ", \(summary.gaps) gaps" : "") +
                    (summary.complete ? "" : " (the log has no end record for this session)"))
        return .success
    }
}
