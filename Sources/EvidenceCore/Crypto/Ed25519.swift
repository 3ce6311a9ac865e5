import Foundation

/// RFC 8032 Ed25519 signing in plain Swift: the in-memory signer the library ships, usable
/// with no native library.
///
/// Guarantees: deterministic signatures (RFC 8032 §5.1.6), byte-identical to any conforming
/// implementation (the tests check the RFC 8032 §7.1 vectors and cross-verify with OpenSSL).
/// The secret scalar never selects a branch or a memory address: the scalar multiplication
/// is a fixed double-and-add sequence with masked selection, and the reduction mod L is
/// bit-serial with masked subtraction. It is not hardened against every side channel
/// (compiler output is not audited, and arrays are heap-allocated and not wiped); use the
/// OpenSSL signer where the host is shared with untrusted code.
/// Refuses: a seed that is not 32 bytes.
public struct PortableEd25519Signer: Signer {
    public let keyName: String
    public let publicKey: [UInt8]
    public var algorithm: SignatureAlgorithm { .ed25519 }
    private let scalar: [UInt8]
    private let prefix: [UInt8]

    /// Creates a signer from a 32-byte RFC 8032 private key (the seed).
    public init(keyName: String, seed: [UInt8]) throws {
        guard seed.count == 32 else {
            throw EvidenceError(.malformedInput, "an Ed25519 private key (seed) is 32 bytes, not \(seed.count); pass the raw seed, not a PEM or a 64-byte expanded key")
        }
        let h = PortableSHA512().hash(bytes: seed)
        var s = Array(h[0..<32])
        s[0] &= 248
        s[31] &= 127
        s[31] |= 64
        scalar = s
        prefix = Array(h[32..<64])
        publicKey = EdwardsPoint.base.multiplied(by: s).encoded()
        self.keyName = keyName
    }

    public func sign(_ message: [UInt8]) throws -> [UInt8] {
        var rh = PortableSHA512Hasher()
        rh.update(bytes: prefix)
        rh.update(bytes: message)
        let r = ScalarModL.reduce(rh.finalize())
        let encodedR = EdwardsPoint.base.multiplied(by: r).encoded()
        let k = Ed25519Challenge.scalar(encodedR: encodedR, publicKey: publicKey, message: message)
        let s = ScalarModL.multiplyAdd(k, scalar, r)
        return encodedR + s
    }
}

/// RFC 8032 Ed25519 verification in plain Swift, for offline verifiers with zero native
/// dependencies.
///
/// Guarantees: returns true only for a 64-byte signature whose S is canonical (S < L), whose
/// R and public key are canonical curve-point encodings, and for which [S]B = R + [k]A holds
/// (the cofactorless equation, as OpenSSL and RFC 8032's reference code check it).
/// Refuses (returns false, never throws): wrong lengths, S >= L, a y coordinate >= p, a y with
/// no point on the curve, the "negative zero" x encoding. Not constant-time: it handles
/// public data only.
public struct PortableEd25519Verifier: SignatureVerifier {
    public let keyName: String
    public let publicKey: [UInt8]
    public var algorithm: SignatureAlgorithm { .ed25519 }

    /// Refuses a public key that is not 32 bytes or not a valid point encoding.
    public init(keyName: String, publicKey: [UInt8]) throws {
        guard publicKey.count == 32 else {
            throw EvidenceError(.malformedInput, "an Ed25519 public key is 32 bytes, not \(publicKey.count) (key '\(keyName)')")
        }
        guard EdwardsPoint.decode(publicKey[...]) != nil else {
            throw EvidenceError(.malformedInput, "the Ed25519 public key of '\(keyName)' is not a valid curve point encoding; check that the key file is not corrupted")
        }
        self.keyName = keyName
        self.publicKey = publicKey
    }

    public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        guard signature.count == 64 else { return false }
        let encodedR = signature[0..<32]
        let s = signature[32..<64]
        guard ScalarModL.isCanonical(s),
              EdwardsPoint.decode(encodedR) != nil,
              let a = EdwardsPoint.decode(publicKey[...]) else { return false }
        let k = Ed25519Challenge.scalar(encodedR: Array(encodedR), publicKey: publicKey, message: message)
        let check = EdwardsPoint.base.multiplied(by: Array(s)) + (-a).multiplied(by: k)
        return check.encoded() == Array(encodedR)
    }
}

/// k = SHA-512(R || A || M) mod L, shared by signing and verification.
enum Ed25519Challenge {
    static func scalar(encodedR: [UInt8], publicKey: [UInt8], message: [UInt8]) -> [UInt8] {
        var h = PortableSHA512Hasher()
        h.update(bytes: encodedR)
        h.update(bytes: publicKey)
        h.update(bytes: message)
        return ScalarModL.reduce(h.finalize())
    }
}
