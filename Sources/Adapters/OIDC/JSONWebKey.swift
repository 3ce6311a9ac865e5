import EvidenceCore
import EvidenceOpenSSL

/// The signature algorithms an ID token may use. Anything else (`none`, `HS256`, `RS384`, ...)
/// is refused before any key is looked at.
public enum JWSAlgorithm: String, Sendable, CaseIterable {
    case rs256 = "RS256", ps256 = "PS256", es256 = "ES256", edDSA = "EdDSA"

    /// The JWK key type this algorithm needs.
    var keyType: String {
        switch self { case .rs256, .ps256: "RSA"; case .es256: "EC"; case .edDSA: "OKP" }
    }
}

/// One public signing key of a provider (RFC 7517), turned into a libcrypto verifier at
/// parse time so a bad key is refused when the set is loaded, not when a token arrives.
///
/// Accepts: RSA (2048-8192 bits), EC P-256, OKP Ed25519. Refuses: private keys (`d`), keys
/// whose `use` is not `sig`, other curves and key types.
public struct JSONWebKey: Sendable {
    enum Material: Sendable { case rsa(RSAVerifier), ec(ECDSAP256Verifier), ed25519(Ed25519Verifier) }
    public let keyID: String?
    public let keyType: String
    /// The `alg` the key is restricted to, when the provider says so.
    public let algorithm: String?
    let material: Material

    public init(json v: JSONValue) throws {
        guard case .object(let o) = v, let kty = o["kty"]?.stringValue else { throw OIDCError(.malformedToken, "a JWK is an object with 'kty'") }
        keyID = o["kid"]?.stringValue; keyType = kty; algorithm = o["alg"]?.stringValue
        let name = keyID ?? "(no kid)"
        if let use = o["use"]?.stringValue, use != "sig" { throw OIDCError(.configuration, "JWK \(name) is for '\(use)', not signatures") }
        guard o["d"] == nil else { throw OIDCError(.configuration, "JWK \(name) holds a private key; publish only public keys") }
        func b64(_ k: String, max: Int) throws -> [UInt8] {
            guard let s = o[k]?.stringValue, let b = Base64URL.decode(s, maxBytes: max) else {
                throw OIDCError(.configuration, "JWK \(name): '\(k)' is missing or not base64url")
            }
            return b
        }
        do {
            switch kty {
            case "RSA": material = .rsa(try RSAVerifier(modulus: try b64("n", max: 1100), exponent: try b64("e", max: 16)))
            case "EC":
                guard o["crv"]?.stringValue == "P-256" else { throw OIDCError(.configuration, "JWK \(name): only the EC curve P-256 is accepted") }
                let x = try b64("x", max: 32), y = try b64("y", max: 32)
                guard x.count == 32, y.count == 32 else { throw OIDCError(.configuration, "JWK \(name): P-256 coordinates are 32 bytes") }
                material = .ec(try ECDSAP256Verifier(keyName: name, publicKey: [4] + x + y))
            case "OKP":
                guard o["crv"]?.stringValue == "Ed25519" else { throw OIDCError(.configuration, "JWK \(name): only the OKP curve Ed25519 is accepted") }
                material = .ed25519(try Ed25519Verifier(keyName: name, publicKey: try b64("x", max: 32)))
            default: throw OIDCError(.configuration, "JWK \(name): key type '\(kty)' is not accepted (RSA, EC P-256, OKP Ed25519)")
            }
        } catch let e as OIDCError { throw e } catch {
            throw OIDCError(.configuration, "JWK \(name): \(error)")
        }
    }

    /// Checks a JWS signature (`signature` in JWS form: raw r||s for ES256).
    func verifies(_ signature: [UInt8], over input: [UInt8], alg: JWSAlgorithm) -> Bool {
        switch (material, alg) {
        case (.rsa(let k), .rs256): return k.isValidSignature(signature, for: input, padding: .pkcs1v15)
        case (.rsa(let k), .ps256): return k.isValidSignature(signature, for: input, padding: .pss)
        case (.ec(let k), .es256):
            guard signature.count == 64 else { return false }
            return k.isValidSignature(DERSignature.fromRawP256(signature), for: input)
        case (.ed25519(let k), .edDSA): return k.isValidSignature(signature, for: input)
        default: return false
        }
    }

    func fits(_ alg: JWSAlgorithm) -> Bool { keyType == alg.keyType && (algorithm == nil || algorithm == alg.rawValue) }
}

/// A provider's key set (`jwks_uri` document), at most 64 keys.
public struct JSONWebKeySet: Sendable {
    public let keys: [JSONWebKey]
    /// Keys of types this library does not accept (e.g. an encryption key) are skipped, and
    /// counted here, rather than failing the whole set.
    public let skipped: Int

    public init(keys: [JSONWebKey]) { self.keys = keys; skipped = 0 }

    public init(json bytes: [UInt8]) throws {
        let v: JSONValue
        do { v = try JSONParser.parse(bytes, limits: JSONLimits(maxBytes: 256 << 10, maxDepth: 8, maxStringBytes: 16 << 10, maxContainerCount: 256)) } catch {
            throw OIDCError(.configuration, "the JWKS is not valid bounded JSON: \(error)")
        }
        guard let arr = v["keys"]?.arrayValue, arr.count <= 64 else { throw OIDCError(.configuration, "a JWKS is an object with a 'keys' array of at most 64 keys") }
        var ks: [JSONWebKey] = [], skipped = 0
        for k in arr { if let key = try? JSONWebKey(json: k) { ks.append(key) } else { skipped += 1 } }
        keys = ks; self.skipped = skipped
    }

    func candidates(kid: String?, alg: JWSAlgorithm) -> [JSONWebKey] {
        keys.filter { $0.fits(alg) && (kid == nil || $0.keyID == kid) }
    }
}

/// ECDSA signature format conversion: JWS and COSE raw r||s to the X9.62 DER libcrypto reads.
public enum DERSignature {
    public static func fromRawP256(_ raw: [UInt8]) -> [UInt8] {
        func integer(_ b: ArraySlice<UInt8>) -> [UInt8] {
            var v = Array(b.drop(while: { $0 == 0 }))
            if v.isEmpty { v = [0] }
            if v[0] & 0x80 != 0 { v.insert(0, at: 0) }
            return [0x02, UInt8(v.count)] + v
        }
        let body = integer(raw[0..<32]) + integer(raw[32..<64])
        return [0x30, UInt8(body.count)] + body
    }
}
