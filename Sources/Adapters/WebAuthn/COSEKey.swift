import EvidenceCore
import EvidenceOpenSSL

/// The COSE signature algorithms accepted for passkeys (IANA COSE Algorithms registry).
public enum COSEAlgorithm: Int64, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// ECDSA with SHA-256 on P-256; signatures are DER (WebAuthn §6.5.6).
    case es256 = -7
    /// Ed25519 (RFC 8037 / RFC 9053 "EdDSA").
    case edDSA = -8
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    case rs256 = -257

    public var description: String {
        switch self { case .es256: "ES256"; case .edDSA: "EdDSA"; case .rs256: "RS256" }
    }
}

/// A credential public key in COSE_Key form (RFC 9052 §7, RFC 9053 §7), as an authenticator
/// reports it in attested credential data.
///
/// Guarantees: only three shapes are accepted, each with its algorithm pinned to the key
/// type: EC2 on P-256 with ES256 (32-byte x and y, a point on the curve), OKP Ed25519 with
/// EdDSA (32-byte x), and RSA with RS256 (2048 to 8192-bit modulus). `isValidSignature`
/// only ever verifies with that algorithm.
/// Refuses (init throws `.unsupportedKey`): other key types, curves or algorithms, a missing
/// `alg`, missing or wrongly sized parameters, and private key material (`d`) in the map.
public struct COSEPublicKey: Sendable {
    public let algorithm: COSEAlgorithm
    /// The CBOR encoding as the authenticator sent it: what a credential store keeps.
    public let encoded: [UInt8]
    private let verify: @Sendable ([UInt8], [UInt8]) -> Bool

    /// Parses an encoded COSE_Key (exactly one CBOR map).
    public init(encoded: [UInt8], decoder: CBORDecoder = CBORDecoder()) throws {
        try self.init(try decoder.decode(encoded), encoded: encoded)
    }

    init(_ key: CBORValue, encoded: [UInt8]) throws {
        guard key.mapValue != nil else { throw WebAuthnError(.unsupportedKey, "the credential public key is not a CBOR map (COSE_Key)") }
        guard let kty = key[int: 1]?.intValue else { throw WebAuthnError(.unsupportedKey, "the COSE key has no key type (label 1)") }
        guard let algValue = key[int: 3]?.intValue else {
            throw WebAuthnError(.unsupportedKey, "the COSE key has no algorithm (label 3); WebAuthn requires one")
        }
        guard let alg = COSEAlgorithm(rawValue: algValue) else {
            throw WebAuthnError(.unsupportedKey, "COSE algorithm \(algValue) is not accepted; use ES256 (-7), EdDSA (-8) or RS256 (-257)")
        }
        let privateLabel: Int64 = kty == 3 ? -3 : -4   // RSA d is -3; EC2/OKP d is -4
        guard key[int: privateLabel] == nil else {
            throw WebAuthnError(.unsupportedKey, "the COSE key carries private key material (label \(privateLabel)); refusing it")
        }
        func param(_ label: Int64, _ what: String, size: Int? = nil) throws -> [UInt8] {
            guard let b = key[int: label]?.bytesValue else {
                throw WebAuthnError(.unsupportedKey, "the \(alg) COSE key lacks \(what) (label \(label)) as a byte string")
            }
            if let size, b.count != size {
                throw WebAuthnError(.unsupportedKey, "the \(alg) COSE key's \(what) is \(b.count) bytes, not \(size)")
            }
            return b
        }
        switch (kty, alg) {
        case (2, .es256):
            guard key[int: -1]?.intValue == 1 else { throw WebAuthnError(.unsupportedKey, "an ES256 COSE key must be on P-256 (crv 1)") }
            let point = [0x04] + (try param(-2, "x coordinate", size: 32)) + (try param(-3, "y coordinate", size: 32))
            let v: ECDSAP256Verifier
            do { v = try ECDSAP256Verifier(keyName: "passkey", publicKey: point) } catch {
                throw WebAuthnError(.unsupportedKey, "the ES256 COSE key is not a valid P-256 point: \(error)")
            }
            verify = { v.isValidSignature($0, for: $1) }
        case (1, .edDSA):
            guard key[int: -1]?.intValue == 6 else { throw WebAuthnError(.unsupportedKey, "an EdDSA COSE key must be Ed25519 (crv 6)") }
            let v = try Ed25519Verifier(keyName: "passkey", publicKey: try param(-2, "public key x", size: 32))
            verify = { v.isValidSignature($0, for: $1) }
        case (3, .rs256):
            let v: RSAVerifier
            do { v = try RSAVerifier(modulus: try param(-1, "modulus n"), exponent: try param(-2, "exponent e")) } catch let e as WebAuthnError {
                throw e
            } catch {
                throw WebAuthnError(.unsupportedKey, "the RS256 COSE key is refused: \(error)")
            }
            verify = { v.isValidSignature($0, for: $1, padding: .pkcs1v15) }
        default:
            throw WebAuthnError(.unsupportedKey, "COSE key type \(kty) does not fit algorithm \(alg); expected EC2 (2) for ES256, OKP (1) for EdDSA, RSA (3) for RS256")
        }
        self.algorithm = alg
        self.encoded = encoded
    }

    /// Whether `signature` over `message` verifies with this key under its own algorithm.
    public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool { verify(signature, message) }
}
