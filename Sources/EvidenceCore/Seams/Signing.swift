import Foundation

/// Signature algorithms used for checkpoints and manifests.
public enum SignatureAlgorithm: String, Sendable, Codable {
    /// RFC 8032 Ed25519, the default; C2SP signed-note signature type 0x01.
    case ed25519
    /// ECDSA over P-256 with SHA-256, DER-encoded signatures.
    case ecdsaP256SHA256
}

/// Produces signatures over checkpoints and evidence-pack manifests.
///
/// Guarantees: `sign` is deterministic for Ed25519, never exposes the private key, and
/// signs exactly the bytes given (the caller canonicalises). `keyName` is what appears in a
/// C2SP signed note; `publicKey` is the raw key (32 bytes for Ed25519).
public protocol Signer: Sendable {
    var keyName: String { get }
    var algorithm: SignatureAlgorithm { get }
    var publicKey: [UInt8] { get }
    func sign(_ message: [UInt8]) throws -> [UInt8]
}

/// Checks signatures made by a `Signer`. Returns false (never throws) for a bad signature,
/// so a verifier can name the place that failed.
public protocol SignatureVerifier: Sendable {
    var keyName: String { get }
    var algorithm: SignatureAlgorithm { get }
    var publicKey: [UInt8] { get }
    func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool
}
