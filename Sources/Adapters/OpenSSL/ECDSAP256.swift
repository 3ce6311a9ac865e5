import COpenSSL
import EvidenceCore

/// ECDSA over NIST P-256 with SHA-256 (libcrypto), DER-encoded signatures (X9.62
/// `Ecdsa-Sig-Value`, 70 to 72 bytes), as `openssl dgst -sha256 -sign` writes them.
///
/// Guarantees: `publicKey` is the uncompressed SEC1 point (65 bytes, 0x04 || X || Y); the
/// private key never leaves this value. Signatures are randomised (two signatures over one
/// message differ); both verify.
/// Refuses: a PEM that holds no private key, or a key on another curve.
public final class ECDSAP256Signer: Signer, @unchecked Sendable {
    // @unchecked: `key` is set once in init and never mutated; OpenSSL 3 allows concurrent
    // signing with one EVP_PKEY when each call uses its own EVP_MD_CTX, as `sign` does.
    private let key: OpaquePointer
    public let keyName: String
    public let publicKey: [UInt8]
    public var algorithm: SignatureAlgorithm { .ecdsaP256SHA256 }

    /// Loads a P-256 private key from PEM (PKCS#8 `PRIVATE KEY` or SEC1 `EC PRIVATE KEY`).
    public init(keyName: String, pem: String) throws {
        // The memory BIO reads the bytes in place, so it must only be used while they are
        // pinned: an array passed as a pointer argument is valid for that one call only.
        let bytes = Array(pem.utf8)
        let loaded = bytes.withUnsafeBytes { raw -> OpaquePointer? in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_PrivateKey(bio, nil, nil, nil)
        }
        guard let k = loaded else {
            throw OpenSSLError("the PEM for key '\(keyName)' holds no readable private key; expected an unencrypted P-256 key (openssl ecparam -name prime256v1 -genkey)")
        }
        do {
            publicKey = try ECDSAP256Key.checkedPublicPoint(k, keyName: keyName)
        } catch {
            EVP_PKEY_free(k); throw error
        }
        key = k
        self.keyName = keyName
    }

    private init(keyName: String, key: OpaquePointer) throws {
        do { publicKey = try ECDSAP256Key.checkedPublicPoint(key, keyName: keyName) } catch { EVP_PKEY_free(key); throw error }
        self.key = key
        self.keyName = keyName
    }

    /// A fresh P-256 key from the OS random source.
    public static func generate(keyName: String) throws -> ECDSAP256Signer {
        guard let kc = EVP_PKEY_CTX_new_from_name(nil, "EC", nil) else { throw OpenSSLError("EC key context unavailable") }
        defer { EVP_PKEY_CTX_free(kc) }
        guard EVP_PKEY_keygen_init(kc) == 1, EVP_PKEY_CTX_set_group_name(kc, "P-256") == 1 else {
            throw OpenSSLError("cannot set up P-256 key generation")
        }
        var k: OpaquePointer?
        guard EVP_PKEY_generate(kc, &k) == 1, let key = k else { throw OpenSSLError("P-256 key generation failed") }
        return try ECDSAP256Signer(keyName: keyName, key: key)
    }

    /// The private key as PKCS#8 PEM, to be stored with mode 0600.
    public func privateKeyPEM() throws -> String {
        guard let bio = BIO_new(BIO_s_mem()) else { throw OpenSSLError("out of memory") }
        defer { BIO_free(bio) }
        guard PEM_write_bio_PrivateKey(bio, key, nil, nil, 0, nil, nil) == 1 else { throw OpenSSLError("cannot write the private key as PEM") }
        return ECDSAP256Key.drain(bio)
    }

    deinit { EVP_PKEY_free(key) }

    public func sign(_ message: [UInt8]) throws -> [UInt8] {
        guard let ctx = EVP_MD_CTX_new() else { throw OpenSSLError("out of memory") }
        defer { EVP_MD_CTX_free(ctx) }
        guard EVP_DigestSignInit_ex(ctx, nil, "SHA256", nil, nil, key, nil) == 1 else {
            throw OpenSSLError("ECDSA P-256 sign init failed for key '\(keyName)'")
        }
        var len = 0
        guard EVP_DigestSign(ctx, nil, &len, message, message.count) == 1 else { throw OpenSSLError("ECDSA size query failed") }
        var sig = [UInt8](repeating: 0, count: len)
        guard EVP_DigestSign(ctx, &sig, &len, message, message.count) == 1 else {
            throw OpenSSLError("ECDSA P-256 signing failed for key '\(keyName)'")
        }
        return Array(sig.prefix(len))
    }
}

/// ECDSA P-256 / SHA-256 verification with libcrypto, for DER signatures.
///
/// Guarantees: returns true only for a DER signature that verifies under `publicKey`.
/// Refuses (init throws): a key that is not a P-256 point. Bad signatures return false.
public final class ECDSAP256Verifier: SignatureVerifier, @unchecked Sendable {
    // @unchecked: `key` is immutable after init and only read by EVP verification with a
    // per-call EVP_MD_CTX, which OpenSSL 3 documents as safe across threads.
    private let key: OpaquePointer
    public let keyName: String
    public let publicKey: [UInt8]
    public var algorithm: SignatureAlgorithm { .ecdsaP256SHA256 }

    /// From an uncompressed (65-byte) or compressed (33-byte) SEC1 point.
    public init(keyName: String, publicKey point: [UInt8]) throws {
        guard point.count == 65 || point.count == 33 else {
            throw EvidenceError(.malformedInput, "a P-256 public key is a 65-byte (or 33-byte compressed) SEC1 point, not \(point.count) bytes (key '\(keyName)')")
        }
        guard let k = ECDSAP256Key.publicKey(fromPoint: point) else {
            throw OpenSSLError("the P-256 public key '\(keyName)' is not a point on the curve")
        }
        do { publicKey = try ECDSAP256Key.checkedPublicPoint(k, keyName: keyName) } catch { EVP_PKEY_free(k); throw error }
        key = k
        self.keyName = keyName
    }

    /// From a PEM `PUBLIC KEY` (SubjectPublicKeyInfo), as `openssl pkey -pubout` writes it.
    public init(keyName: String, pem: String) throws {
        let bytes = Array(pem.utf8)
        let loaded = bytes.withUnsafeBytes { raw -> OpaquePointer? in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_PUBKEY(bio, nil, nil, nil)
        }
        guard let k = loaded else {
            throw OpenSSLError("the PEM for key '\(keyName)' holds no readable public key (expected -----BEGIN PUBLIC KEY-----)")
        }
        do { publicKey = try ECDSAP256Key.checkedPublicPoint(k, keyName: keyName) } catch { EVP_PKEY_free(k); throw error }
        key = k
        self.keyName = keyName
    }

    deinit { EVP_PKEY_free(key) }

    public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        guard !signature.isEmpty, signature.count <= 80, let ctx = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(ctx) }
        guard EVP_DigestVerifyInit_ex(ctx, nil, "SHA256", nil, nil, key, nil) == 1 else { ERR_clear_error(); return false }
        let ok = EVP_DigestVerify(ctx, signature, signature.count, message, message.count) == 1
        ERR_clear_error()
        return ok
    }
}

/// Key plumbing shared by the P-256 signer and verifier.
enum ECDSAP256Key {
    /// The uncompressed public point of `key`, after checking it is an EC key on P-256.
    static func checkedPublicPoint(_ key: OpaquePointer, keyName: String) throws -> [UInt8] {
        guard EVP_PKEY_is_a(key, "EC") == 1 else {
            throw EvidenceError(.malformedInput, "key '\(keyName)' is not an EC key; ECDSA P-256 needs a prime256v1 key")
        }
        var group = [CChar](repeating: 0, count: 64)
        var glen = 0
        guard EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, &group, group.count, &glen) == 1 else {
            throw OpenSSLError("cannot read the curve of key '\(keyName)'")
        }
        let name = String(decoding: group.prefix(glen).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard name == "prime256v1" || name == "P-256" else {
            throw EvidenceError(.malformedInput, "key '\(keyName)' is on curve \(name), not P-256 (prime256v1)")
        }
        // Ask for the uncompressed form even if the key was loaded from a compressed point.
        _ = EVP_PKEY_set_utf8_string_param(key, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, "uncompressed")
        var point = [UInt8](repeating: 0, count: 65)
        var len = 0
        guard EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, &point, point.count, &len) == 1 else {
            throw OpenSSLError("cannot read the public point of key '\(keyName)'")
        }
        return Array(point.prefix(len))
    }

    /// An EVP_PKEY holding only the public point, or nil if the point is not on P-256.
    static func publicKey(fromPoint point: [UInt8]) -> OpaquePointer? {
        guard let ctx = EVP_PKEY_CTX_new_from_name(nil, "EC", nil) else { return nil }
        defer { EVP_PKEY_CTX_free(ctx) }
        guard EVP_PKEY_fromdata_init(ctx) == 1 else { return nil }
        return OSSL_PKEY_PARAM_GROUP_NAME.withCString { groupKey in
            "prime256v1".withCString { groupName in
                OSSL_PKEY_PARAM_PUB_KEY.withCString { pubKey in
                    point.withUnsafeBytes { p in
                        var params = [
                            OSSL_PARAM_construct_utf8_string(groupKey, UnsafeMutablePointer(mutating: groupName), 0),
                            OSSL_PARAM_construct_octet_string(pubKey, UnsafeMutableRawPointer(mutating: p.baseAddress), p.count),
                            OSSL_PARAM_construct_end(),
                        ]
                        var out: OpaquePointer?
                        guard EVP_PKEY_fromdata(ctx, &out, Int32(OSSL_KEYMGMT_SELECT_PUBLIC_KEY | OSSL_KEYMGMT_SELECT_ALL_PARAMETERS), &params) == 1 else { ERR_clear_error(); return nil }
                        return out
                    }
                }
            }
        }
    }

    static func drain(_ bio: OpaquePointer) -> String {
        var out = [UInt8]()
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = BIO_read(bio, &buf, Int32(buf.count))
            if n <= 0 { break }
            out.append(contentsOf: buf.prefix(Int(n)))
        }
        return String(decoding: out, as: UTF8.self)
    }
}
