import EvidenceCore
import EvidenceOpenSSL
import Foundation

/// `log verify --checkpoint FILE`: a checkpoint kept outside the store must still be part of
/// the log. The folder alone cannot show that it was rolled back to an earlier state in
/// which every file agrees; a later checkpoint held by someone else can.
enum WitnessCheck {
    static func check(_ file: String, against dir: LogDirectory, origin: String, verifier: Ed25519Verifier,
                      records: UInt64, into result: inout LogVerification) throws {
        let bytes: [UInt8]
        do { bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file))) } catch {
            throw UsageError("cannot read the checkpoint file \(file)")
        }
        let note = try SignedNote(parsing: bytes)
        let cp = try Checkpoint(body: note.text)
        guard note.isSigned(by: verifier) else {
            result.failures.append("trusted checkpoint \(file): not signed by key '\(verifier.keyName)'")
            return
        }
        guard cp.origin == origin else {
            result.failures.append("trusted checkpoint \(file) is for log '\(cp.origin)', not '\(origin)'")
            return
        }
        guard cp.size <= records else {
            result.failures.append("the log holds \(records) records but the trusted checkpoint \(file) covers \(cp.size): the store was rolled back or records were removed")
            return
        }
        let root = try dir.tree(size: cp.size).subtreeHash(0..<cp.size)
        if root == cp.root {
            result.notes.append("contains the trusted checkpoint of size \(cp.size) from \(file)")
        } else {
            result.failures.append("records 0..<\(cp.size) do not hash to the root of the trusted checkpoint \(file): the log was rewritten")
        }
    }
}
