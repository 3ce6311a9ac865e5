import COpenSSL
import EvidenceCore

/// Ed25519 (RFC 8032) signing with libcrypto. The private key stays in this value; it is
/// created from a 32-byte seed or generated from the OS random source.
public final class Ed25519Signer: Signer, @unchecked Sendable {
    // @unchecked: `key` is created once in init, never mutated, and EVP_PKEY signing with a
    // fresh EVP_MD_CTX per call is thread-safe in OpenSSL 3.
    private let key: OpaquePointer
    public let keyName: String
    public let publicKey: [UInt8]
    public var algorithm: SignatureAlgorithm { .ed25519 }

    /// Creates a signer from a 32-byte RFC 8032 seed.
    public init(keyName: String, seed: [UInt8]) throws {
        guard seed.count == 32 else { throw EvidenceError(.malformedInput, "an Ed25519 seed is 32 bytes, not \(seed.count)") }
        guard let k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nil, seed, 32) else {
            throw OpenSSLError("cannot load Ed25519 private key")
        }
        key = k
        self.keyName = keyName
        var pub = [UInt8](repeating: 0, count: 32)
        var len = 32
        guard EVP_PKEY_get_raw_public_key(k, &pub, &len) == 1, len == 32 else {
            EVP_PKEY_free(k)
            throw OpenSSLError("cannot derive Ed25519 public key")
        }
        publicKey = pub
    }

    /// A fresh key from the OS random source. Returns the signer and its seed (store it 0600).
    public static func generate(keyName: String) throws -> (Ed25519Signer, seed: [UInt8]) {
        var seed = [UInt8](repeating: 0, count: 32)
        guard RAND_bytes(&seed, 32) == 1 else { throw OpenSSLError("random source failed") }
        return (try Ed25519Signer(keyName: keyName, seed: seed), seed)
    }

    deinit { EVP_PKEY_free(key) }

    public func sign(_ message: [UInt8]) throws -> [UInt8] {
        guard let ctx = EVP_MD_CTX_new() else { throw OpenSSLError("out of memory") }
        defer { EVP_MD_CTX_free(ctx) }
        guard EVP_DigestSignInit(ctx, nil, nil, nil, key) == 1 else { throw OpenSSLError("Ed25519 sign init failed") }
        var sig = [UInt8](repeating: 0, count: 64)
        var len = 64
        guard EVP_DigestSign(ctx, &sig, &len, message, message.count) == 1, len == 64 else {
            throw OpenSSLError("Ed25519 signing failed")
        }
        return sig
    }
}

/// Ed25519 verification with libcrypto.
public struct Ed25519Verifier: SignatureVerifier {
    public let keyName: String
    public let publicKey: [UInt8]
    public var algorithm: SignatureAlgorithm { .ed25519 }

    public init(keyName: String, publicKey: [UInt8]) throws {
        guard publicKey.count == 32 else { throw EvidenceError(.malformedInput, "an Ed25519 public key is 32 bytes, not \(publicKey.count)") }
        self.keyName = keyName; self.publicKey = publicKey
    }

    public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        guard signature.count == 64,
              let k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, publicKey, 32) else { return false }
        defer { EVP_PKEY_free(k) }
        guard let ctx = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(ctx) }
        guard EVP_DigestVerifyInit(ctx, nil, nil, nil, k) == 1 else { return false }
        return EVP_DigestVerify(ctx, signature, 64, message, message.count) == 1
    }
}
