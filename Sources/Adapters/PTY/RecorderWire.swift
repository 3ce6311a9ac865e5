import EvidenceCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The frames between `RemoteSessionRecorder` (a relay) and `RecorderService` (the process
/// that owns the evidence store), over a Unix stream socket.
///
/// A frame is one type byte, a 4-byte big-endian payload length, then the payload:
///
/// | type | direction | payload |
/// |---|---|---|
/// | 1 hello | relay → service | JSON: `id`, `tenant`, `principal`, `grant` (or null), `target`, `command`, `columns`, `rows` |
/// | 2 event | relay → service | kind (1 byte, `SessionEvent.Kind` index), time (8 bytes, µs since 1970, big-endian), data |
/// | 3 end | relay → service | JSON: `exitStatus`, `signal`, `note` (each may be null) |
/// | 11 started | service → relay | JSON: `durabilityBoundMs`, `mode` |
/// | 12 durable | service → relay | 8 bytes: events durable so far |
/// | 13 failed | service → relay | UTF-8: why the recording stopped (fail-closed) |
/// | 14 summary | service → relay | JSON: the `SessionSummary` |
/// | 15 refused | service → relay | UTF-8: why the session was not started |
///
/// Bounds: a hello, end, started, summary, failed or refused payload is at most 64 KiB, an
/// event at most `maxEventBytes` of data (a relay splits larger reads). Anything else —
/// an unknown type, a larger length, a malformed JSON or field — ends the connection with a
/// `refused`/`failed` frame naming what was wrong.
enum RecorderWire {
    enum FrameType: UInt8 {
        case hello = 1, event = 2, end = 3
        case started = 11, durable = 12, failed = 13, summary = 14, refused = 15
    }

    static let maxControlBytes = 64 << 10
    /// Largest event a relay sends in one frame (a terminal read is at most 64 KiB).
    static let maxEventBytes = 1 << 20
    static let eventHeaderBytes = 9
    static let kinds = SessionEvent.Kind.allCases

    static func header(_ type: FrameType, length: Int) -> [UInt8] {
        let n = UInt32(length)
        return [type.rawValue, UInt8(n >> 24), UInt8(truncatingIfNeeded: n >> 16), UInt8(truncatingIfNeeded: n >> 8), UInt8(truncatingIfNeeded: n)]
    }

    static func frame(_ type: FrameType, _ payload: [UInt8]) -> [UInt8] { header(type, length: payload.count) + payload }

    static func frame(_ type: FrameType, json: JSONValue) -> [UInt8] { frame(type, JCS.canonicalize(json)) }

    static func uint64Bytes(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (56 - 8 * UInt64($0))) } }

    static func uint64(_ b: ArraySlice<UInt8>) -> UInt64 { b.reduce(0) { $0 << 8 | UInt64($1) } }

    static func eventHeader(kind: SessionEvent.Kind, time: Date, dataCount: Int) -> [UInt8] {
        let micros = Int64((time.timeIntervalSince1970 * 1_000_000).rounded())
        return header(.event, length: eventHeaderBytes + dataCount) + [UInt8(kinds.firstIndex(of: kind)!)] + uint64Bytes(UInt64(bitPattern: micros))
    }

    /// Payload of a `hello`.
    static func hello(_ s: SessionDescriptor) -> JSONValue {
        .object([
            "id": .string(s.id), "tenant": .string(s.tenant.rawValue), "principal": .string(s.principal),
            "grant": s.grantID.map { .string($0) } ?? .null, "target": .string(s.target),
            "command": .array(s.command.map { .string($0) }),
            "columns": .number(Double(s.columns)), "rows": .number(Double(s.rows)),
        ])
    }

    /// The session a `hello` names; throws `.malformedInput` naming the bad field.
    static func session(fromHello payload: [UInt8]) throws -> SessionDescriptor {
        let v = try JSONParser.parse(payload, limits: JSONLimits(maxBytes: maxControlBytes, maxDepth: 4, maxStringBytes: 4096, maxContainerCount: 1024))
        func string(_ k: String) throws -> String {
            guard let s = v[k]?.stringValue else { throw EvidenceError(.malformedInput, "hello: '\(k)' must be a string") }
            return s
        }
        func int(_ k: String) throws -> Int {
            guard let d = v[k]?.numberValue, d == d.rounded(), abs(d) < 1e9 else { throw EvidenceError(.malformedInput, "hello: '\(k)' must be an integer") }
            return Int(d)
        }
        let grant: String?
        switch v["grant"] {
        case .string(let g)?: grant = g
        case .null?, nil: grant = nil
        default: throw EvidenceError(.malformedInput, "hello: 'grant' must be a string or null")
        }
        guard let command = v["command"]?.arrayValue?.map({ $0.stringValue }), !command.contains(where: { $0 == nil }) else {
            throw EvidenceError(.malformedInput, "hello: 'command' must be an array of strings")
        }
        return try SessionDescriptor(id: try string("id"), tenant: try TenantID(try string("tenant")), principal: try string("principal"),
                                     grantID: grant, target: try string("target"), command: command.map { $0! },
                                     columns: try int("columns"), rows: try int("rows"))
    }

    static func ending(_ e: SessionEnding) -> JSONValue {
        .object(["exitStatus": e.exitStatus.map { .number(Double($0)) } ?? .null,
                 "signal": e.signal.map { .number(Double($0)) } ?? .null,
                 "note": e.note.map { .string($0) } ?? .null])
    }

    static func ending(fromEnd payload: [UInt8]) throws -> SessionEnding {
        let v = try JSONParser.parse(payload, limits: JSONLimits(maxBytes: maxControlBytes, maxDepth: 2, maxStringBytes: 4096, maxContainerCount: 16))
        func int32(_ k: String) throws -> Int32? {
            switch v[k] {
            case .null?, nil: return nil
            case .number(let d)? where d == d.rounded() && abs(d) <= Double(Int32.max): return Int32(d)
            default: throw EvidenceError(.malformedInput, "end: '\(k)' must be an integer or null")
            }
        }
        let note: String?
        switch v["note"] {
        case .string(let s)?: note = s
        case .null?, nil: note = nil
        default: throw EvidenceError(.malformedInput, "end: 'note' must be a string or null")
        }
        return SessionEnding(exitStatus: try int32("exitStatus"), signal: try int32("signal"), note: note)
    }

    static func summary(_ s: SessionSummary) -> JSONValue {
        .object(["outcome": .string(s.outcome.rawValue), "reason": s.reason.map { .string($0) } ?? .null,
                 "durableEvents": .number(Double(s.durableEvents)), "chunks": .number(Double(s.chunks)),
                 "bytes": .number(Double(s.bytes)), "gaps": .number(Double(s.gaps)), "maskedInputs": .number(Double(s.maskedInputs))])
    }

    static func summary(from payload: [UInt8]) throws -> SessionSummary {
        let v = try JSONParser.parse(payload, limits: JSONLimits(maxBytes: maxControlBytes, maxDepth: 2, maxStringBytes: maxControlBytes, maxContainerCount: 16))
        guard let outcome = v["outcome"]?.stringValue.flatMap(SessionSummary.Outcome.init(rawValue:)),
              let durable = v["durableEvents"]?.numberValue, let chunks = v["chunks"]?.numberValue, let bytes = v["bytes"]?.numberValue,
              let gaps = v["gaps"]?.numberValue, let masked = v["maskedInputs"]?.numberValue,
              [durable, chunks, bytes, gaps, masked].allSatisfy({ $0 >= 0 && $0 < 1e18 }) else {
            throw EvidenceError(.malformedInput, "the recorder service sent a malformed session summary")
        }
        return SessionSummary(outcome: outcome, reason: v["reason"]?.stringValue, durableEvents: UInt64(durable), chunks: Int(chunks),
                              bytes: UInt64(bytes), gaps: Int(gaps), maskedInputs: Int(masked))
    }

    // MARK: socket I/O

    /// Reads one frame; nil at a clean end of stream before a frame starts. Throws for a
    /// frame cut short, an unknown type or a payload above its bound. `timeout` bounds the
    /// wait for each read once a frame has started (and for the first byte when given).
    static func readFrame(_ fd: Int32, firstByteTimeoutMs: Int32 = -1, frameTimeoutMs: Int32 = 10_000) throws -> (FrameType, [UInt8])? {
        var head = [UInt8](repeating: 0, count: 5)
        guard try readExactly(fd, &head, 0, 5, firstTimeoutMs: firstByteTimeoutMs, restTimeoutMs: frameTimeoutMs, eofOK: true) else { return nil }
        guard let type = FrameType(rawValue: head[0]) else {
            throw EvidenceError(.malformedInput, "unknown frame type \(head[0]); is this a recorder service socket?")
        }
        let length = Int(head[1]) << 24 | Int(head[2]) << 16 | Int(head[3]) << 8 | Int(head[4])
        let bound = type == .event ? eventHeaderBytes + maxEventBytes : (type == .durable ? 8 : maxControlBytes)
        guard length <= bound, type != .event || length >= eventHeaderBytes, type != .durable || length == 8 else {
            throw EvidenceError(.malformedInput, "a \(type) frame of \(length) bytes is outside its bound (\(bound) bytes)")
        }
        var payload = [UInt8](repeating: 0, count: length)
        if length > 0 { _ = try readExactly(fd, &payload, 0, length, firstTimeoutMs: frameTimeoutMs, restTimeoutMs: frameTimeoutMs, eofOK: false) }
        return (type, payload)
    }

    /// Fills `buf[from..<from+count]`; false at EOF before the first byte when `eofOK`.
    private static func readExactly(_ fd: Int32, _ buf: inout [UInt8], _ from: Int, _ count: Int,
                                    firstTimeoutMs: Int32, restTimeoutMs: Int32, eofOK: Bool) throws -> Bool {
        var got = 0
        while got < count {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let r = poll(&p, 1, got == 0 ? firstTimeoutMs : restTimeoutMs)
            if r < 0 { if errno == EINTR { continue }; throw EvidenceError(.io, "waiting for the recorder connection failed: \(String(cString: strerror(errno)))") }
            if r == 0 { throw EvidenceError(.timedOut, got == 0 ? "no frame within the wait" : "a frame stopped arriving mid-way (\(got) of \(count) bytes)") }
            let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + from + got, count - got) }
            if n < 0 { if errno == EINTR || errno == EAGAIN { continue }; throw EvidenceError(.io, "reading from the recorder connection failed: \(String(cString: strerror(errno)))") }
            if n == 0 {
                if got == 0 && eofOK { return false }
                throw EvidenceError(.io, "the recorder connection closed in the middle of a frame")
            }
            got += n
        }
        return true
    }

    /// Writes all of `bytes`, waiting at most `timeoutMs` in total for the socket to take them.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, timeoutMs: Int) throws {
        var off = 0
        let deadline = ContinuousClock.now + .milliseconds(timeoutMs)
        while off < bytes.count {
            let n = Glibc.send(fd, bytes.baseAddress! + off, bytes.count - off, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
            if n > 0 { off += n; continue }
            if n < 0 && errno == EINTR { continue }
            guard n < 0, errno == EAGAIN || errno == EWOULDBLOCK else {
                throw EvidenceError(.io, "the recorder connection is closed (\(String(cString: strerror(errno))))")
            }
            let left = ContinuousClock.now.duration(to: deadline)
            guard left > .zero else { throw EvidenceError(.timedOut, "the recorder connection took nothing for \(timeoutMs) ms") }
            var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            _ = poll(&p, 1, Int32(max(1, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000)))
        }
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8], timeoutMs: Int) throws {
        try bytes.withUnsafeBytes { try writeAll(fd, $0, timeoutMs: timeoutMs) }
    }

    /// A `sockaddr_un` for `path`; throws if the path does not fit (108 bytes on Linux).
    static func address(_ path: String) throws -> sockaddr_un {
        var a = sockaddr_un()
        a.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: a.sun_path)
        guard !bytes.isEmpty, bytes.count < capacity, !bytes.contains(0) else {
            throw EvidenceError(.malformedInput, "socket path '\(path.prefix(120))' must be 1 to \(capacity - 1) bytes; use a shorter path such as /run/nis2/recorder.sock")
        }
        withUnsafeMutableBytes(of: &a.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
            raw[bytes.count] = 0
        }
        return a
    }
}
