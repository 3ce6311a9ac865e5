import COpenSSL
import EvidenceCore

/// The public key of an X.509 certificate, used to check signatures made by its holder
/// (an IdP's XML signatures, for example). The certificate is a key carrier only: no chain,
/// no validity period and no revocation are checked here; trust comes from whoever
/// configured the certificate (IdP metadata, a pinned file).
///
/// Guarantees: `isValidSignature` returns true only for a signature that verifies with this
/// certificate's key under the requested algorithm; an algorithm that does not fit the key
/// type (ECDSA with an RSA key, say) is false, never an error.
/// Refuses (init throws): bytes that are not one DER certificate, RSA keys below 2048 bits,
/// EC keys on another curve than P-256, and every other key type.
public final class X509SignatureKey: @unchecked Sendable {
    // @unchecked: `key` is set once in init, never mutated, and only read by EVP verification
    // with a per-call EVP_MD_CTX, which OpenSSL 3 documents as safe across threads.
    private let key: OpaquePointer

    /// The signature algorithms this key type can check.
    public enum Algorithm: String, Sendable, CustomStringConvertible {
        /// RSASSA-PKCS1-v1_5 with SHA-256.
        case rsaPKCS1SHA256 = "RSA-SHA256"
        /// ECDSA P-256 with SHA-256; the signature is DER (`Ecdsa-Sig-Value`).
        case ecdsaP256SHA256 = "ECDSA-P256-SHA256"
        public var description: String { rawValue }
    }

    /// The key's algorithm family.
    public enum KeyType: Hashable, Sendable, CustomStringConvertible {
        case rsa(bits: Int)
        case ecP256
        public var description: String {
            switch self { case .rsa(let bits): "RSA-\(bits)"; case .ecP256: "EC P-256" }
        }
    }

    public let keyType: KeyType
    /// SHA-256 of the certificate's DER, lowercase hex: how operators name a certificate.
    public let fingerprintSHA256: String
    /// The subject distinguished name, one line (`CN=test-idp.local`).
    public let subject: String

    /// Loads the certificate from DER (what base64 `X509Certificate` elements and `.cer` hold).
    public init(certificateDER der: [UInt8]) throws {
        guard !der.isEmpty, der.count <= 64 << 10 else {
            throw EvidenceError(.malformedInput, "an X.509 certificate must be 1 byte to 64 KiB of DER, not \(der.count) bytes")
        }
        let cert: OpaquePointer? = der.withUnsafeBufferPointer { buf in
            var p: UnsafePointer<UInt8>? = buf.baseAddress
            return d2i_X509(nil, &p, buf.count)
        }
        guard let cert else {
            ERR_clear_error()
            throw EvidenceError(.malformedInput, "the certificate bytes are not a DER X.509 certificate; give the base64 body of a PEM certificate")
        }
        defer { X509_free(cert) }
        guard let k = X509_get_pubkey(cert) else {
            throw OpenSSLError("the certificate's public key cannot be read")
        }
        let type: KeyType
        if EVP_PKEY_is_a(k, "RSA") == 1 {
            let bits = Int(EVP_PKEY_get_bits(k))
            guard bits >= 2048 else {
                EVP_PKEY_free(k)
                throw EvidenceError(.malformedInput, "the certificate holds a \(bits)-bit RSA key; at least 2048 bits are required")
            }
            type = .rsa(bits: bits)
        } else if EVP_PKEY_is_a(k, "EC") == 1 {
            do { _ = try ECDSAP256Key.checkedPublicPoint(k, keyName: "certificate") } catch { EVP_PKEY_free(k); throw error }
            type = .ecP256
        } else {
            EVP_PKEY_free(k)
            throw EvidenceError(.malformedInput, "the certificate's key is neither RSA nor EC P-256; only those sign XML here")
        }
        key = k
        keyType = type
        fingerprintSHA256 = Hex.encode(OpenSSLSHA256().hash(bytes: der).bytes)
        subject = Self.oneLine(X509_get_subject_name(cert))
    }

    deinit { EVP_PKEY_free(key) }

    /// Whether `signature` over `message` verifies with this key under `algorithm`.
    public func isValidSignature(_ signature: [UInt8], for message: [UInt8], algorithm: Algorithm) -> Bool {
        switch (algorithm, keyType) {
        case (.rsaPKCS1SHA256, .rsa(let bits)):
            guard signature.count == (bits + 7) / 8 else { return false }
        case (.ecdsaP256SHA256, .ecP256):
            guard (8...80).contains(signature.count) else { return false }
        default:
            return false
        }
        guard let ctx = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(ctx) }
        guard EVP_DigestVerifyInit_ex(ctx, nil, "SHA256", nil, nil, key, nil) == 1 else { ERR_clear_error(); return false }
        let ok = EVP_DigestVerify(ctx, signature, signature.count, message, message.count) == 1
        ERR_clear_error()
        return ok
    }

    private static func oneLine(_ name: OpaquePointer?) -> String {
        guard let name, let bio = BIO_new(BIO_s_mem()) else { return "" }
        defer { BIO_free(bio) }
        // Flags 0 (XN_FLAG_COMPAT): the classic one-line form, `CN=test-idp.local`.
        guard X509_NAME_print_ex(bio, name, 0, 0) >= 0 else { return "" }
        return ECDSAP256Key.drain(bio)
    }
}
