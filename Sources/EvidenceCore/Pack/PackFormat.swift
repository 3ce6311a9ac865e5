import Foundation

/// Names, limits and the signed statement of the evidence pack format v1 (Docs/EvidencePack.md).
///
/// A pack is one ZIP of stored entries:
/// ```
/// manifest.json         RFC 8785 (JCS) manifest: files, checkpoints, proofs, time, retention, custody
/// manifest.sig          C2SP signed note over the SHA-256 of manifest.json and of report.pdf
/// report.pdf            the human-readable report; embeds manifest.json as a file attachment
/// SHA256SUMS            `sha256sum -c` list of every other entry
/// records/log.jsonl     the cited log records, one canonical record per line, as stored
/// checkpoints/N.note    the signed checkpoints the proofs lead to
/// time/rfc3161-I.tsr    RFC 3161 tokens (DER TimeStampToken) from time.anchor.rfc3161 record I
/// recordings/S.cast     session recordings (asciicast v2)
/// reports/…             report drafts
/// ```
public enum EvidencePackFormat {
    public static let formatName = "nis2-evidence-pack"
    public static let version = 1
    public static let manifestPath = "manifest.json"
    public static let signaturePath = "manifest.sig"
    public static let reportPath = "report.pdf"
    public static let sumsPath = "SHA256SUMS"
    public static let recordsPath = "records/log.jsonl"
    /// The four entries every pack has besides the files the manifest lists.
    public static let fixedEntries: Set<String> = [manifestPath, signaturePath, reportPath, sumsPath]

    /// Bounds applied to the untrusted pack before allocating.
    public static let maxManifestBytes = 64 << 20
    public static let maxSignatureBytes = 1 << 16
    public static let maxSumsBytes = 16 << 20
    public static let maxReportBytes = 512 << 20
    public static let maxCheckpointBytes = SignedNote.maxBytes
    public static let maxTokenBytes = 1 << 20
    public static let maxRecordLineBytes = SegmentFormat.maxRecordBytes
    public static let manifestLimits = JSONLimits(maxBytes: maxManifestBytes, maxDepth: 32, maxStringBytes: 1 << 20, maxContainerCount: 4 << 20)

    /// The signed statement in `manifest.sig` (C2SP note text, before the signature lines).
    public static func signedStatement(origin: String, manifest: Digest, report: Digest) -> String {
        "\(formatName)/v\(version)\n\(origin)\n\(manifestPath) \(manifest.hex)\n\(reportPath) \(report.hex)\n"
    }

    /// Parses a signed statement; nil if it is not exactly the four lines above.
    public static func parseStatement(_ text: String) -> (origin: String, manifest: Digest, report: Digest)? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count == 5, lines[4].isEmpty, lines[0] == "\(formatName)/v\(version)" else { return nil }
        let m = lines[2].split(separator: " "), r = lines[3].split(separator: " ")
        guard m.count == 2, m[0] == manifestPath, let md = Digest(hex: String(m[1])),
              r.count == 2, r[0] == reportPath, let rd = Digest(hex: String(r[1])) else { return nil }
        return (String(lines[1]), md, rd)
    }

    /// What each kind of time proof establishes, in the words the manifest and the report use.
    public static let rfc3161Proves = "third-party verifiable: a timestamp authority signed that this checkpoint (and so every record it covers) existed at genTime; anyone with the authority's certificate can check it"
    public static let ntsProves = "bounds our clock only: NTS-authenticated servers put the exporting system's clock within the bound at that moment; a third party cannot re-check it"
    public static let localClockProves = "local clock only: record times come from the recording system's clock; no third-party time proof is in this pack"
}

/// What a pack covers: one incident, one session, or a time window.
public enum EvidencePackScope: Sendable, Hashable {
    case incident(String)
    case session(String)
    /// Records with `from <= time < to`.
    case timeWindow(from: Date, to: Date)

    var json: JSONValue {
        switch self {
        case .incident(let id): return .object(["kind": .string("incident"), "incident": .string(id)])
        case .session(let s): return .object(["kind": .string("session"), "session": .string(s)])
        case .timeWindow(let f, let t): return .object(["kind": .string("timeWindow"), "from": .string(Timestamp.format(f)), "to": .string(Timestamp.format(t))])
        }
    }

    /// Whether a record belongs to the scope directly (sessions of an incident are added separately).
    func selects(_ r: EvidenceRecord, sessions: Set<String>) -> Bool {
        switch self {
        case .incident(let id): return r.body["incident"]?.stringValue == id || (r.body["session"]?.stringValue).map(sessions.contains) == true
        case .session(let s): return r.body["session"]?.stringValue == s
        case .timeWindow(let f, let t): return r.time >= f && r.time < t
        }
    }
}

/// Renders the human-readable `report.pdf` of a pack. The EvidencePDF adapter is the default.
///
/// Guarantees expected of an implementation: the returned document embeds `manifest` byte for
/// byte as an attachment named `manifest.json`, uncompressed (the verifier looks for it).
public protocol EvidencePackRenderer: Sendable {
    func render(manifest: [UInt8], parsed: JSONValue, timeline: [EvidenceRecord]) throws -> [UInt8]
}

/// Checks an RFC 3161 token offline (the EvidenceTSA adapter provides one).
///
/// Guarantees expected: returns only if the token's signature verifies, chains to the
/// configured trust anchors and its message imprint is SHA-256 `digest`.
public protocol PackTimestampVerifier: Sendable {
    func verify(token: [UInt8], digest: Digest) throws -> (genTime: Date, authority: String)
}

/// The kinds of log record the pack treats specially.
public enum EvidencePackRecordKind {
    /// A session recording stored as an object: body `session`, `object` (key), `sha256`, `size`, `format`.
    public static let sessionRecording = "session.recording"
    public static let rfc3161Anchor = "time.anchor.rfc3161"
    public static let ntsSample = "time.sample.nts"
    /// Written after every export: body `manifestSHA256`, `scope`, `file`.
    public static let packExported = "pack.exported"
}
