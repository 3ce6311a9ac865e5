import EvidenceCore
import EvidenceOpenSSL
import Foundation

/// Opening the store and its keys, shared by every command that takes `--store`.
enum StoreAccess {
    static let backend = OpenSSLSHA256()

    /// Opens the store; with `signing`, also loads the checkpoint private key.
    static func open(_ path: String, signing: Bool, clock: any WallClock = SystemWallClock()) throws -> EvidenceStore {
        let probe = try EvidenceStore(at: path, backend: backend, signer: nil, clock: clock)
        guard signing else { return probe }
        return try EvidenceStore(at: path, backend: backend, signer: try loadSigner(probe.privateKeyPath), clock: clock)
    }

    /// Opens the store for a command that writes evidence: with the checkpoint key when the
    /// store holds one, so closing the store commits the new records with a signed checkpoint.
    static func openForWriting(_ path: String, clock: any WallClock = SystemWallClock()) throws -> EvidenceStore {
        let probe = try EvidenceStore(at: path, backend: backend, signer: nil, clock: clock)
        return try open(path, signing: access(probe.privateKeyPath, F_OK) == 0, clock: clock)
    }

    static func loadSigner(_ path: String) throws -> Ed25519Signer {
        guard access(path, F_OK) == 0 else {
            throw EvidenceError(.notFound, "no checkpoint signing key at \(path); this store was created without one, so it can be verified but not written")
        }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let (name, seed, id) = try NoteKey.parsePrivateKey(text)
        let signer = try Ed25519Signer(keyName: name, seed: seed)
        guard NoteKey.keyID(name: name, algorithm: 1, publicKey: signer.publicKey) == id else {
            throw EvidenceError(.malformedInput, "signing key file \(path): key id does not match the key (file damaged?)")
        }
        return signer
    }

    /// The verifier key: `--key FILE` if given (an independently trusted copy), else the store's own.
    static func verifier(_ store: EvidenceStore, keyFile: String?) throws -> Ed25519Verifier {
        let path = keyFile ?? store.verifierKeyPath
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw EvidenceError(.notFound, "cannot read verifier key \(path)")
        }
        let (name, pub) = try NoteKey.parseVerifierKey(text)
        return try Ed25519Verifier(keyName: name, publicKey: pub)
    }
}
