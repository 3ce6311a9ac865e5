import Foundation

/// Who is recorded, under which grant, on which target: the facts a `session.start` record
/// binds, and the `session.end` record repeats.
///
/// Refuses a session id that is not 1-64 characters of `A-Z a-z 0-9 . _ -` (it is used in
/// evidence and file names) and an empty principal or target.
public struct SessionDescriptor: Hashable, Sendable {
    public let id: String
    public let tenant: TenantID
    /// The privileged user, as `issuer#subject` (see `Principal`), or a local account name.
    public let principal: String
    /// The just-in-time access grant the session runs under, when the host has one.
    public let grantID: String?
    /// What the session reaches: a host name, an RMM device id, `local:<hostname>`.
    public let target: String
    /// The command the host started, when there is one (shown by `recording list`).
    public let command: [String]
    /// Terminal size at the start, for the asciicast header.
    public let columns: Int
    public let rows: Int

    public init(id: String, tenant: TenantID, principal: String, grantID: String? = nil, target: String,
                command: [String] = [], columns: Int = 80, rows: Int = 24) throws {
        let u = Array(id.utf8)
        guard (1...64).contains(u.count), u.allSatisfy({ c in
            (0x30...0x39).contains(c) || (0x41...0x5a).contains(c) || (0x61...0x7a).contains(c) || c == 0x2e || c == 0x5f || c == 0x2d
        }) else {
            throw EvidenceError(.malformedInput, "session id '\(id.prefix(80))' must be 1 to 64 characters of A-Z a-z 0-9 . _ -")
        }
        guard !principal.isEmpty, principal.utf8.count <= 512 else { throw EvidenceError(.malformedInput, "a session needs a principal (1 to 512 bytes)") }
        guard !target.isEmpty, target.utf8.count <= 512 else { throw EvidenceError(.malformedInput, "a session needs a target (1 to 512 bytes)") }
        if let grantID, grantID.isEmpty || grantID.utf8.count > 256 {
            throw EvidenceError(.malformedInput, "grant id must be 1 to 256 bytes when given")
        }
        guard (1...10_000).contains(columns), (1...10_000).contains(rows) else {
            throw EvidenceError(.malformedInput, "terminal size \(columns)x\(rows) is not plausible")
        }
        self.id = id; self.tenant = tenant; self.principal = principal; self.grantID = grantID
        self.target = target; self.command = command; self.columns = columns; self.rows = rows
    }
}

/// How a recorder turns events into evidence, and what it does when storage cannot keep up.
public struct RecordingPolicy: Sendable {
    /// What happens when an event cannot be made durable within `durabilityBound`.
    public enum Mode: String, Sendable {
        /// The default: the recorder refuses further events; the host must end the session.
        case failClosed = "fail-closed"
        /// Only when explicitly configured: the session goes on, and every stretch of events
        /// that could not be stored is logged as a `session.gap` record.
        case bestEffort = "best-effort"
    }

    public var mode: Mode = .failClosed
    /// A chunk is sealed once it holds this many bytes ...
    public var chunkBytes: Int = 1 << 20
    /// ... or once its first event is this old, whichever comes first.
    public var chunkInterval: Duration = .milliseconds(500)
    /// The longest an accepted event may stay not durable. Must exceed `chunkInterval`.
    public var durabilityBound: Duration = .seconds(5)
    /// Bytes held in memory (open chunk plus chunks being stored). When full, `record`
    /// waits (back-pressure) up to the bound; in best-effort mode it drops and logs a gap.
    public var maxBufferedBytes: Int = 4 << 20
    /// How long chunk objects are retained in the WORM store.
    public var retention: TimeInterval = 3 * 365 * 86_400

    public init(mode: Mode = .failClosed) { self.mode = mode }

    /// Throws `.malformedInput` naming the setting that is out of range.
    public func validate() throws {
        guard chunkBytes >= 4096, chunkBytes <= 64 << 20 else { throw EvidenceError(.malformedInput, "chunkBytes must be 4 KiB to 64 MiB, not \(chunkBytes)") }
        guard chunkInterval > .zero, durabilityBound > chunkInterval else {
            throw EvidenceError(.malformedInput, "durabilityBound (\(durabilityBound)) must exceed chunkInterval (\(chunkInterval)), or every chunk would be late")
        }
        guard maxBufferedBytes >= 2 * chunkBytes, maxBufferedBytes <= 1 << 30 else {
            throw EvidenceError(.malformedInput, "maxBufferedBytes (\(maxBufferedBytes)) must hold at least two chunks (2 x chunkBytes = \(2 * chunkBytes)) and at most 1 GiB")
        }
    }
}

/// How the host says a session ended.
public struct SessionEnding: Sendable, Hashable {
    /// The target program's exit status, when there is one.
    public var exitStatus: Int32?
    /// The signal that ended the program, when one did.
    public var signal: Int32?
    /// Free text, e.g. "gateway disconnected".
    public var note: String?
    public init(exitStatus: Int32? = nil, signal: Int32? = nil, note: String? = nil) {
        self.exitStatus = exitStatus; self.signal = signal; self.note = note
    }
}

/// What a finished session left in the evidence log.
public struct SessionSummary: Sendable, Hashable {
    public enum Outcome: String, Sendable { case completed, failedClosed = "failed-closed" }
    public var outcome: Outcome
    /// Why the session failed closed, in words for the user.
    public var reason: String?
    /// Events accepted and made durable (every one of them is in a stored chunk).
    public var durableEvents: UInt64
    public var chunks: Int
    public var bytes: UInt64
    public var gaps: Int
    public var maskedInputs: Int

    public init(outcome: Outcome, reason: String?, durableEvents: UInt64, chunks: Int, bytes: UInt64, gaps: Int, maskedInputs: Int) {
        self.outcome = outcome; self.reason = reason; self.durableEvents = durableEvents; self.chunks = chunks
        self.bytes = bytes; self.gaps = gaps; self.maskedInputs = maskedInputs
    }
}
