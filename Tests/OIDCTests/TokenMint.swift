import EvidenceCore
import EvidenceOIDC
import EvidenceOpenSSL
import Foundation

/// Signs ID tokens with a local P-256 key, for the claim checks that need a token the
/// provider would never issue (expired, wrong audience, ...).
struct TokenMint {
    let signer: ECDSAP256Signer
    let kid: String

    init(kid: String = "local-es256") throws { signer = try ECDSAP256Signer.generate(keyName: kid); self.kid = kid }

    var jwks: JSONWebKeySet {
        get throws {
            let p = signer.publicKey
            let json = "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"\(kid)\",\"use\":\"sig\",\"x\":\"\(Base64URL.encode(Array(p[1..<33])))\",\"y\":\"\(Base64URL.encode(Array(p[33..<65])))\"}]}"
            return try JSONWebKeySet(json: Array(json.utf8))
        }
    }

    func token(_ claims: [String: JSONValue], header: [String: JSONValue]? = nil) throws -> String {
        let h = header ?? ["alg": .string("ES256"), "kid": .string(kid), "typ": .string("JWT")]
        let input = Base64URL.encode(JCS.canonicalize(.object(h))) + "." + Base64URL.encode(JCS.canonicalize(.object(claims)))
        let der = try signer.sign(Array(input.utf8))
        return input + "." + Base64URL.encode(Self.raw(der))
    }

    /// X9.62 DER `SEQUENCE { r, s }` to JWS r||s (32 bytes each).
    static func raw(_ der: [UInt8]) -> [UInt8] {
        var i = 2
        func int() -> [UInt8] {
            let len = Int(der[i + 1]); let v = Array(der[(i + 2)..<(i + 2 + len)]); i += 2 + len
            let t = Array(v.drop(while: { $0 == 0 }))
            return [UInt8](repeating: 0, count: 32 - t.count) + t
        }
        return int() + int()
    }

    static func claims(issuer: String, audience: JSONValue = .string("client"), now: Date, nonce: String? = "n-1",
                       lifetime: TimeInterval = 300) -> [String: JSONValue] {
        var c: [String: JSONValue] = ["iss": .string(issuer), "sub": .string("alice"), "aud": audience,
                                      "iat": .number(now.timeIntervalSince1970.rounded()), "exp": .number((now + lifetime).timeIntervalSince1970.rounded())]
        if let nonce { c["nonce"] = .string(nonce) }
        return c
    }
}
