import Foundation

/// One typed entry of a tenant's evidence log: a login, a grant decision, a session chunk, an
/// incident transition, a time anchor, a report submission.
///
/// Encoded with JCS (RFC 8785) so that a third party re-hashes exactly the stored bytes:
/// `{"actor":…,"body":…,"kind":…,"tenant":…,"time":…,"v":1}`.
public struct EvidenceRecord: Hashable, Sendable {
    /// Dotted, lower-case event type, e.g. `grant.approved`, `incident.aware`, `session.chunk`.
    public var kind: String
    public var tenant: TenantID
    /// When the event happened, from the injected clock.
    public var time: Date
    /// Who caused it (`issuer#subject`), or nil for the system itself.
    public var actor: String?
    /// Event-specific facts.
    public var body: JSONValue

    public init(kind: String, tenant: TenantID, time: Date, actor: String? = nil, body: JSONValue = .object([:])) {
        self.kind = kind; self.tenant = tenant; self.time = time; self.actor = actor; self.body = body
    }

    /// The canonical bytes that become the log entry.
    public func canonicalBytes() -> [UInt8] {
        var o: [String: JSONValue] = [
            "v": .number(1), "kind": .string(kind), "tenant": .string(tenant.rawValue),
            "time": .string(Timestamp.format(time)), "body": body,
        ]
        if let actor { o["actor"] = .string(actor) }
        return JCS.canonicalize(.object(o))
    }

    /// Reads a record back from log bytes; refuses anything that is not one of ours.
    public init(canonicalBytes bytes: some ContiguousBytes) throws {
        // Bodies are accepted up to 64 levels deep when written (the JSON parser's default);
        // the record wraps them in two more, so reading allows twice that.
        guard case .object(let o) = try JSONParser.parse(bytes, limits: JSONLimits(maxBytes: 64 << 20, maxDepth: 128)) else {
            throw EvidenceError(.malformedInput, "an evidence record is a JSON object")
        }
        guard o["v"]?.numberValue == 1, let kind = o["kind"]?.stringValue, let t = o["tenant"]?.stringValue,
              let time = o["time"]?.stringValue else {
            throw EvidenceError(.malformedInput, "not an evidence record (needs v=1, kind, tenant, time)")
        }
        self.init(kind: kind, tenant: try TenantID(t), time: try Timestamp.parse(time), actor: o["actor"]?.stringValue, body: o["body"] ?? .object([:]))
    }
}

/// Where typed evidence goes: a tenant's append-only log.
///
/// Guarantees: `append` returns only once the record is durable, with its index in the
/// tenant's log; records of one tenant never land in another tenant's log; the same record
/// appended twice is two entries (the log is a history, not a set).
public protocol EvidenceRecordSink: Sendable {
    func append(_ record: EvidenceRecord) async throws -> UInt64
    /// Every record of the tenant from `index` on, in log order.
    func records(tenant: TenantID, from index: UInt64) async throws -> [EvidenceRecord]
}

/// An in-memory evidence sink for tests of code that writes evidence (not for production:
/// nothing survives the process).
public actor InMemoryEvidenceLog: EvidenceRecordSink {
    private var logs: [TenantID: [EvidenceRecord]] = [:]
    public init() {}

    public func append(_ record: EvidenceRecord) async throws -> UInt64 {
        logs[record.tenant, default: []].append(record)
        return UInt64(logs[record.tenant]!.count - 1)
    }

    public func records(tenant: TenantID, from index: UInt64 = 0) async throws -> [EvidenceRecord] {
        let all = logs[tenant] ?? []
        return index < all.count ? Array(all[Int(index)...]) : []
    }
}
