import Foundation

/// One chunk as its `session.chunk` record cites it.
public struct ChunkReference: Hashable, Sendable {
    public var index: Int
    public var firstEvent: UInt64
    public var events: Int
    public var sha256: Digest
    public var size: UInt64
    public var object: String
    public var start: Date
    public var end: Date
}

/// A recorded session as the tenant's log describes it (nothing here is read from the
/// chunks themselves; `SessionRecordings.exportAsciicast` checks those).
public struct RecordedSession: Hashable, Sendable {
    public var id: String
    public var tenant: TenantID
    public var principal: String
    public var grantID: String?
    public var target: String
    public var command: [String]
    public var columns: Int
    public var rows: Int
    public var start: Date
    /// nil while the log holds no `session.end` (still running, or the recorder was killed).
    public var end: Date?
    public var outcome: String?
    public var reason: String?
    public var chunks: [ChunkReference] = []
    public var actions = 0
    public var maskedInputs = 0
    /// `(firstEvent, events, reason)` of every `session.gap` record.
    public var gaps: [(UInt64, UInt64, String)] = []
    public var bytes: UInt64 { chunks.reduce(0) { $0 + $1.size } }

    public static func == (a: Self, b: Self) -> Bool { a.id == b.id && a.tenant == b.tenant && a.start == b.start && a.chunks == b.chunks }
    public func hash(into h: inout Hasher) { h.combine(id); h.combine(tenant) }
}

/// What an export produced.
public struct RecordingExportSummary: Sendable, Hashable {
    public var events: UInt64 = 0
    public var outputBytes: UInt64 = 0
    public var inputEvents: UInt64 = 0
    public var actions: UInt64 = 0
    public var maskedInputs: UInt64 = 0
    public var chunksVerified = 0
    public var gaps = 0
    /// false when the log has no `session.end` for the session.
    public var complete = false
}

/// Reading recorded sessions back from a tenant's evidence: the list, and the asciicast v2
/// export that the CLI and the evidence-pack exporter use.
///
/// Guarantees: an export checks every chunk against the digest and size its log record
/// cites, that each chunk's frames start at the cited event and number as many as cited,
/// and that chunks follow each other without a hole (a hole is accepted only where a
/// `session.gap` record accounts for it); any mismatch throws `.verificationFailed` naming
/// the chunk, and nothing after it is written. Refuses an unknown session with `.notFound`.
public enum SessionRecordings {
    /// Every session of the tenant, in start order.
    public static func list(in store: EvidenceStore, tenant: TenantID) throws -> [RecordedSession] {
        try scan(store, tenant: tenant, only: nil)
    }

    /// One session, or `.notFound` listing how to find the known ones.
    public static func session(_ id: String, in store: EvidenceStore, tenant: TenantID) throws -> RecordedSession {
        guard let s = try scan(store, tenant: tenant, only: id).first else {
            throw EvidenceError(.notFound, "no recorded session '\(id)' for tenant \(tenant); 'nis2ctl recording list' shows the recorded ones")
        }
        return s
    }

    static func scan(_ store: EvidenceStore, tenant: TenantID, only: String?) throws -> [RecordedSession] {
        try store.requireTenant(tenant)
        let dir = store.logDirectory(tenant)
        let size = try LogVerifier.recordCount(dir)
        let kindNeedle = Array("\"kind\":\"session.".utf8)
        var idNeedle: [UInt8] = []
        if let only { JCS.writeString(only, into: &idNeedle); idNeedle = Array("\"session\":".utf8) + idNeedle }
        var order: [String] = []
        var byID: [String: RecordedSession] = [:]
        try dir.forEachRecord(in: 0..<size) { _, raw, _ in
            guard contains(raw, kindNeedle), idNeedle.isEmpty || contains(raw, idNeedle) else { return }
            guard let r = try? EvidenceRecord(canonicalBytes: Array(raw)), r.tenant == tenant,
                  case .object(let b) = r.body, let sid = b["session"]?.stringValue else { return }
            if r.kind == "session.start" {
                guard byID[sid] == nil else { return }
                let term = b["terminal"]
                byID[sid] = RecordedSession(
                    id: sid, tenant: tenant, principal: b["principal"]?.stringValue ?? "", grantID: b["grant"]?.stringValue,
                    target: b["target"]?.stringValue ?? "", command: b["command"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                    columns: Int(term?["columns"]?.numberValue ?? 80), rows: Int(term?["rows"]?.numberValue ?? 24), start: r.time)
                order.append(sid)
                return
            }
            guard var s = byID[sid] else { return }
            switch r.kind {
            case "session.chunk":
                guard let d = b["sha256"]?.stringValue.flatMap(Digest.init(hex:)), let key = b["object"]?.stringValue,
                      let start = b["start"]?.stringValue, let end = b["end"]?.stringValue else {
                    throw EvidenceError.verification("a session.chunk record of session \(sid) lacks its digest, object or times")
                }
                s.chunks.append(ChunkReference(index: Int(b["chunk"]?.numberValue ?? -1), firstEvent: UInt64(b["firstEvent"]?.numberValue ?? 0),
                                               events: Int(b["events"]?.numberValue ?? 0), sha256: d, size: UInt64(b["size"]?.numberValue ?? 0),
                                               object: key, start: try Timestamp.parse(start), end: try Timestamp.parse(end)))
            case "session.action": s.actions += 1
            case "session.masked": s.maskedInputs += 1
            case "session.gap":
                s.gaps.append((UInt64(b["firstEvent"]?.numberValue ?? 0), UInt64(b["events"]?.numberValue ?? 0), b["reason"]?.stringValue ?? ""))
            case "session.end":
                if s.end == nil { s.end = r.time; s.outcome = b["outcome"]?.stringValue; s.reason = b["reason"]?.stringValue }
            default: return
            }
            byID[sid] = s
        }
        return order.compactMap { byID[$0] }
    }

    private static func contains(_ hay: UnsafeRawBufferPointer, _ needle: [UInt8]) -> Bool {
        guard let first = needle.first, hay.count >= needle.count else { return false }
        var i = 0
        let last = hay.count - needle.count
        while i <= last {
            if hay[i] == first {
                var j = 1
                while j < needle.count && hay[i + j] == needle[j] { j += 1 }
                if j == needle.count { return true }
            }
            i += 1
        }
        return false
    }

    /// Rebuilds the session as an asciicast v2 file at `path` (replacing nothing: the file
    /// must not exist), checking every chunk on the way.
    public static func exportAsciicast(_ id: String, from store: EvidenceStore, tenant: TenantID, toFile path: String) async throws -> RecordingExportSummary {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw EvidenceError(.malformedInput, "\(path) already exists; choose a new file name for the export")
        }
        guard FileManager.default.createFile(atPath: path, contents: nil), let fh = FileHandle(forWritingAtPath: path) else {
            throw EvidenceError(.io, "cannot create \(path); check the folder exists and is writable")
        }
        defer { try? fh.close() }
        do {
            return try await exportAsciicast(id, from: store, tenant: tenant) { bytes in try fh.write(contentsOf: bytes) }
        } catch {
            try? fh.close()
            unlink(path)  // a half export of unverified evidence must not be left behind
            throw error
        }
    }

    /// Streams the asciicast v2 text of the session to `write`, in pieces of about 1 MiB.
    public static func exportAsciicast(_ id: String, from store: EvidenceStore, tenant: TenantID,
                                       write: @escaping ([UInt8]) throws -> Void) async throws -> RecordingExportSummary {
        let s = try session(id, in: store, tenant: tenant)
        let objects = try store.objects(for: tenant)
        var writer = AsciicastWriter(write: write)
        try writer.header(s)
        var summary = RecordingExportSummary()
        var expected: UInt64 = 0
        for c in s.chunks {
            while c.firstEvent > expected {
                guard let g = s.gaps.first(where: { $0.0 <= expected && expected < $0.0 + max($0.1, 1) }) else {
                    throw EvidenceError.verification("session \(id): events \(expected)..<\(c.firstEvent) are in no chunk and no gap record (a chunk record is missing)")
                }
                try writer.marker(offsetMicros: Int64(c.start.timeIntervalSince(s.start) * 1e6), "gap: \(g.1) events not recorded: \(g.2)")
                summary.gaps += 1
                expected = g.0 + g.1
            }
            let bytes: [UInt8]
            do { bytes = try await objects.get(c.object) } catch let e as EvidenceError {
                throw EvidenceError(e.code == .notFound ? .verificationFailed : e.code, "session \(id) chunk \(c.index): \(e.message)")
            }
            guard UInt64(bytes.count) == c.size, store.backend.hash(bytes: bytes) == c.sha256 else {
                throw EvidenceError.verification("session \(id) chunk \(c.index) (\(c.object)) does not match the SHA-256 and size its log record cites; it was altered or replaced")
            }
            var n = 0
            var firstSeq: UInt64?
            try ChunkFormat.forEachFrame(bytes) { f in
                if firstSeq == nil { firstSeq = f.sequence }
                n += 1
                try writer.event(f, summary: &summary)
            }
            guard firstSeq == c.firstEvent, n == c.events, c.firstEvent == expected else {
                throw EvidenceError.verification("session \(id) chunk \(c.index) holds events \(firstSeq ?? 0)+\(n), its record cites \(c.firstEvent)+\(c.events), expected to start at \(expected)")
            }
            expected += UInt64(n)
            summary.chunksVerified += 1
        }
        for g in s.gaps where g.0 >= expected {
            try writer.marker(offsetMicros: writer.lastOffset, "gap: \(g.1) events not recorded: \(g.2)")
            summary.gaps += 1
        }
        try writer.flush()
        summary.events = expected
        summary.complete = s.end != nil
        return summary
    }
}

/// Writes asciicast v2 lines (`[seconds, "o"|"i"|"r"|"m", text]`), carrying an incomplete
/// UTF-8 sequence at the end of one output event over to the next.
struct AsciicastWriter {
    let write: ([UInt8]) throws -> Void
    private var out: [UInt8] = []
    private var carry: [UInt8] = []
    private(set) var lastOffset: Int64 = 0

    init(write: @escaping ([UInt8]) throws -> Void) { self.write = write; out.reserveCapacity(1 << 20 + 4096) }

    mutating func header(_ s: RecordedSession) throws {
        var h: [String: JSONValue] = [
            "version": .number(2), "width": .number(Double(s.columns)), "height": .number(Double(s.rows)),
            "timestamp": .number(s.start.timeIntervalSince1970.rounded(.down)),
            "title": .string("session \(s.id) of \(s.principal) on \(s.target)" + (s.grantID.map { " (grant \($0))" } ?? "")),
        ]
        h["env"] = .object(["TERM": .string("xterm-256color"), "SHELL": .string(s.command.first ?? "")])
        out.append(contentsOf: JCS.canonicalize(.object(h)))
        out.append(0x0a)
    }

    private mutating func line(_ offset: Int64, _ code: String, _ text: UnsafeRawBufferPointer) throws {
        lastOffset = offset
        out.append(0x5b)
        let micros = offset % 1_000_000
        out.append(contentsOf: "\(offset / 1_000_000).\(String(repeating: "0", count: 6 - String(micros).count))\(micros), \"\(code)\", ".utf8)
        JCS.writeString(String(decoding: text, as: UTF8.self), into: &out)
        out.append(contentsOf: "]\n".utf8)
        if out.count >= 1 << 20 { try flush() }
    }

    mutating func marker(offsetMicros: Int64, _ text: String) throws {
        try Array(text.utf8).withUnsafeBytes { try line(max(offsetMicros, lastOffset), "m", $0) }
    }

    mutating func event(_ f: ChunkFormat.Frame, summary: inout RecordingExportSummary) throws {
        switch f.kind {
        case .output:
            summary.outputBytes += UInt64(f.data.count)
            if carry.isEmpty {
                let keep = Self.incompleteTail(f.data)
                try line(f.offsetMicros, "o", UnsafeRawBufferPointer(rebasing: f.data[0..<(f.data.count - keep)]))
                carry = Array(f.data[(f.data.count - keep)...])
            } else {
                let joined = carry + Array(f.data)
                let keep = joined.withUnsafeBytes { Self.incompleteTail($0) }
                try joined.withUnsafeBytes { try line(f.offsetMicros, "o", UnsafeRawBufferPointer(rebasing: $0[0..<(joined.count - keep)])) }
                carry = Array(joined[(joined.count - keep)...])
            }
        case .input:
            summary.inputEvents += 1
            try line(f.offsetMicros, "i", f.data)
        case .maskedInput:
            summary.maskedInputs += 1
            try marker(offsetMicros: f.offsetMicros, "input masked (terminal echo was off)")
        case .resize:
            try line(f.offsetMicros, "r", f.data)
        case .command, .fileTransfer, .configurationChange, .elevation:
            summary.actions += 1
            try marker(offsetMicros: f.offsetMicros, f.kind.rawValue + " " + String(decoding: f.data, as: UTF8.self))
        case .marker:
            try line(f.offsetMicros, "m", f.data)
        }
    }

    /// Bytes at the end that begin a UTF-8 sequence the data does not complete (0 to 3).
    static func incompleteTail(_ d: UnsafeRawBufferPointer) -> Int {
        var i = d.count - 1
        var seen = 0
        while i >= 0 && seen < 3 {
            let b = d[i]
            if b & 0xC0 == 0x80 { seen += 1; i -= 1; continue }
            let need = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1
            return need > seen + 1 ? seen + 1 : 0
        }
        return 0
    }

    mutating func flush() throws {
        if !carry.isEmpty {
            // A session that ends inside a UTF-8 sequence: write the stray bytes (replaced).
            let c = carry; carry = []
            try c.withUnsafeBytes { try line(lastOffset, "o", $0) }
        }
        if !out.isEmpty { try write(out); out.removeAll(keepingCapacity: true) }
    }
}
