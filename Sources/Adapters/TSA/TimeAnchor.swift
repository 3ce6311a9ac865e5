import EvidenceCore
import EvidenceOpenSSL
import Foundation

/// Trusted time on a checkpoint: an RFC 3161 token over SHA-256 of the checkpoint's signed
/// note, plus (optionally) an NTS sample that bounds our own clock at that moment, both
/// written to the tenant's evidence log as records.
///
/// Records (`body` fields):
/// - `time.anchor.rfc3161`: `checkpoint` {origin, size, root (base64), noteSHA256 (hex)},
///   `imprint` (hex, = noteSHA256), `hashAlgorithm` "sha-256", `token` (base64 DER
///   ContentInfo), `genTime` (RFC 3339), `tsa`, `proof` "third-party-verifiable".
/// - `time.sample.nts`: the same `checkpoint`, `time`, `localTime`, `offsetSeconds`,
///   `boundSeconds`, `source`, `witnesses` [{server, certificateSHA256, offsetSeconds,
///   delaySeconds, boundSeconds}], `proof` "local-clock-bound".
///
/// What each proves: the token proves, to anyone holding the TSA's trust anchor, that the
/// checkpoint (so every record it covers) existed at `genTime`. The NTS sample only records
/// that servers authenticated to *us* put our clock within the bound; nobody else can check it.
///
/// Guarantees: nothing is appended unless every requested proof was obtained and verified
/// (the token by `TimestampAuthority`, the NTS sample by its `TimeSource`). Refuses a note
/// that is not a signed C2SP checkpoint.
public struct CheckpointTimeAnchor: Sendable {
    public static let tokenKind = "time.anchor.rfc3161"
    public static let sampleKind = "time.sample.nts"

    public var authority: any TimestampAuthority
    public var timeSource: (any TimeSource)?
    public var clock: any WallClock

    public init(authority: any TimestampAuthority, timeSource: (any TimeSource)? = nil, clock: any WallClock = SystemWallClock()) {
        self.authority = authority; self.timeSource = timeSource; self.clock = clock
    }

    /// Obtains the proofs and returns the records, without writing them.
    public func records(forSignedCheckpoint note: [UInt8], tenant: TenantID) async throws -> [EvidenceRecord] {
        let checkpoint = try Self.checkpoint(in: note)
        let noteDigest = OpenSSLSHA256().hash(bytes: note)
        let ref = Self.reference(checkpoint, noteDigest)
        var out: [EvidenceRecord] = []
        if let timeSource {
            let s = try await timeSource.sample()
            out.append(EvidenceRecord(kind: Self.sampleKind, tenant: tenant, time: clock.now(), body: .object([
                "checkpoint": ref,
                "time": .string(Timestamp.format(s.time)), "localTime": .string(Timestamp.format(s.localTime)),
                "offsetSeconds": .number(s.time.timeIntervalSince(s.localTime)), "boundSeconds": .number(s.boundSeconds),
                "source": .string(s.source), "proof": .string("local-clock-bound"),
                "witnesses": .array(s.witnesses.map { w in .object([
                    "server": .string(w.server), "certificateSHA256": w.certificateSHA256.map(JSONValue.string) ?? .null,
                    "offsetSeconds": .number(w.offsetSeconds), "delaySeconds": .number(w.delaySeconds), "boundSeconds": .number(w.boundSeconds),
                ]) }),
            ])))
        }
        let token = try await authority.timestamp(noteDigest)
        out.append(EvidenceRecord(kind: Self.tokenKind, tenant: tenant, time: clock.now(), body: .object([
            "checkpoint": ref, "imprint": .string(noteDigest.hex), "hashAlgorithm": .string("sha-256"),
            "token": .string(Base64.encode(token.token)), "genTime": .string(Timestamp.format(token.genTime)),
            "tsa": .string(token.authority), "proof": .string("third-party-verifiable"),
        ])))
        return out
    }

    /// Obtains the proofs and appends them; returns their log indices.
    public func anchor(signedCheckpoint note: [UInt8], tenant: TenantID, into sink: any EvidenceRecordSink) async throws -> [UInt64] {
        var indices: [UInt64] = []
        for r in try await records(forSignedCheckpoint: note, tenant: tenant) { indices.append(try await sink.append(r)) }
        return indices
    }

    static func checkpoint(in note: [UInt8]) throws -> Checkpoint {
        do {
            return try Checkpoint(body: try SignedNote(parsing: note).text)
        } catch let e as EvidenceError {
            throw TSAError(.malformed, "time anchor: the bytes are not a signed C2SP checkpoint (\(e.message))")
        }
    }

    static func reference(_ c: Checkpoint, _ noteDigest: Digest) -> JSONValue {
        .object(["origin": .string(c.origin), "size": .number(Double(c.size)), "root": .string(c.root.base64), "noteSHA256": .string(noteDigest.hex)])
    }
}

/// What an offline check of a `time.anchor.rfc3161` record established.
public struct VerifiedTimeAnchor: Hashable, Sendable {
    public var checkpoint: Checkpoint
    public var genTime: Date
    public var tsa: String
}

/// Offline check of a time-anchor record against the checkpoint it names.
///
/// Guarantees: succeeds only if the record's token verifies (`RFC3161Verifier`: signature,
/// chain to `anchors` at genTime, ESS signing-certificate-v2) over SHA-256 of exactly these
/// note bytes, and the record's checkpoint origin/size/root, imprint and genTime agree with
/// the note and the token. Does not check the note's own signature: the log verifier does.
public struct TimeAnchorVerifier: Sendable {
    public var anchors: TSATrustAnchors
    public init(anchors: TSATrustAnchors) { self.anchors = anchors }

    public func verify(_ record: EvidenceRecord, checkpointNote note: [UInt8]) throws -> VerifiedTimeAnchor {
        guard record.kind == CheckpointTimeAnchor.tokenKind else {
            throw TSAError(.verificationFailed, "time anchor: record kind '\(record.kind)' is not \(CheckpointTimeAnchor.tokenKind)")
        }
        let b = record.body
        guard let ref = b["checkpoint"], let imprint = b["imprint"]?.stringValue, let tokenText = b["token"]?.stringValue,
              let genTime = b["genTime"]?.stringValue, let noteHex = ref["noteSHA256"]?.stringValue,
              let size = ref["size"]?.numberValue, let root = ref["root"]?.stringValue, let origin = ref["origin"]?.stringValue else {
            throw TSAError(.malformed, "time anchor: record lacks checkpoint, imprint, token or genTime")
        }
        let checkpoint = try CheckpointTimeAnchor.checkpoint(in: note)
        let digest = OpenSSLSHA256().hash(bytes: note)
        guard noteHex == digest.hex, imprint == digest.hex else {
            throw TSAError(.verificationFailed, "time anchor: record is for checkpoint note \(noteHex), this note hashes to \(digest.hex)")
        }
        guard origin == checkpoint.origin, size == Double(checkpoint.size), root == checkpoint.root.base64 else {
            throw TSAError(.verificationFailed, "time anchor: record names checkpoint \(origin) size \(Int(size)) root \(root), the note says \(checkpoint.origin) size \(checkpoint.size) root \(checkpoint.root.base64)")
        }
        guard let der = Base64.decode(tokenText) else { throw TSAError(.malformed, "time anchor: token is not base64") }
        let info = try RFC3161Verifier(anchors: anchors).verify(tokenDER: der, for: digest)
        guard Timestamp.format(info.genTime) == genTime else {
            throw TSAError(.verificationFailed, "time anchor: record says genTime \(genTime), the token says \(Timestamp.format(info.genTime))")
        }
        return VerifiedTimeAnchor(checkpoint: checkpoint, genTime: info.genTime, tsa: info.tsaName ?? b["tsa"]?.stringValue ?? "?")
    }
}
