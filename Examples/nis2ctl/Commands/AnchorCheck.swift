import EvidenceCore
import EvidenceTSA
import Foundation

/// The time-anchor part of `log verify`: every `time.anchor.rfc3161` record must carry a
/// token that verifies against the TSA trust anchors and is over a checkpoint of this log.
struct AnchorCheck {
    let verifier: TimeAnchorVerifier
    let trustFile: String

    init(trustFile: String?) throws {
        self.trustFile = trustFile ?? "/etc/ssl/certs/ca-certificates.crt"
        verifier = TimeAnchorVerifier(anchors: try TSATrustAnchors(pemFile: self.trustFile))
    }

    private static let marker = Array("\"kind\":\"\(CheckpointTimeAnchor.tokenKind)\"".utf8)

    /// A cheap byte search on the canonical record: only candidates are parsed.
    static func mayBeAnchor(_ rec: UnsafeRawBufferPointer) -> Bool {
        guard rec.count >= marker.count else { return false }
        return marker.withUnsafeBytes { m in
            let first = m[0]
            var i = 0
            while i + m.count <= rec.count {
                if rec[i] == first && memcmp(rec.baseAddress! + i, m.baseAddress!, m.count) == 0 { return true }
                i += 1
            }
            return false
        }
    }

    func check(_ candidates: [(UInt64, [UInt8])], checkpoints: [[UInt8]], into result: inout LogVerification) {
        var notes: [String: [UInt8]] = [:]
        for raw in checkpoints { notes[StoreAccess.backend.hash(bytes: raw).hex] = raw }
        var verified = 0
        for (i, bytes) in candidates {
            guard let r = try? EvidenceRecord(canonicalBytes: bytes), r.kind == CheckpointTimeAnchor.tokenKind else { continue }
            guard let h = r.body["checkpoint"]?["noteSHA256"]?.stringValue, let note = notes[h] else {
                result.failures.append("record \(i): time anchor names a checkpoint that is not in this log")
                continue
            }
            do {
                _ = try verifier.verify(r, checkpointNote: note)
                verified += 1
            } catch {
                result.failures.append("record \(i): time anchor does not verify against \(trustFile): \(error) (pass --tsa-ca with the TSA's root for a private TSA)")
            }
        }
        if verified > 0 {
            result.notes.append("\(verified) RFC 3161 time anchor(s) verified against \(trustFile)")
        }
    }
}
