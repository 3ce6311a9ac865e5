import EvidenceCore
import EvidenceOIDC
import EvidenceOpenSSL
import Foundation
import Testing

/// The validator's refusals, one per test, with tokens signed by a trusted local key (so the
/// only thing wrong is the thing under test).
@Suite("ID token refusals", .timeLimit(.minutes(1)))
struct IDTokenRefusalTests {
    let iss = "https://idp.msp.example"
    let now = Date(timeIntervalSince1970: 1_780_000_000)
    let mint: TokenMint
    let validator: IDTokenValidator

    init() throws {
        mint = try TokenMint()
        validator = try IDTokenValidator(issuer: iss, clientID: "client", keys: StaticKeySource(try mint.jwks), clockSkew: 60)
    }

    func refusal(_ token: String, nonce: String? = "n-1") async -> OIDCError.Code? {
        do { _ = try await validator.validate(token, nonce: nonce, now: now); return nil } catch let e as OIDCError { return e.code } catch { return nil }
    }
    var good: [String: JSONValue] { TokenMint.claims(issuer: iss, now: now) }

    @Test("a well-formed token is accepted")
    func accepted() async throws {
        let c = try await validator.validate(try mint.token(good), nonce: "n-1", now: now)
        #expect(c.subject == "alice")
        #expect(c.algorithm == .es256)
    }

    @Test("alg none is refused")
    func algNone() async throws {
        let h = Base64URL.encode(Array("{\"alg\":\"none\"}".utf8)), p = Base64URL.encode(JCS.canonicalize(.object(good)))
        #expect(await refusal(h + "." + p + ".") == .algorithmRefused)
    }

    @Test("HS256 keyed with the provider's public key is refused")
    func hmacConfusion() async throws {
        let pub = Array(signerPublicJWK.utf8)
        let input = Base64URL.encode(JCS.canonicalize(.object(["alg": .string("HS256"), "kid": .string(mint.kid)]))) + "." + Base64URL.encode(JCS.canonicalize(.object(good)))
        let tag = HMACSHA256.authenticationCode(key: pub, message: Array(input.utf8))
        #expect(await refusal(input + "." + Base64URL.encode(tag)) == .algorithmRefused)
    }
    var signerPublicJWK: String { "{\"kty\":\"EC\",\"kid\":\"\(mint.kid)\"}" }

    @Test("an unknown kid is refused")
    func unknownKid() async throws {
        let t = try mint.token(good, header: ["alg": .string("ES256"), "kid": .string("someone-else")])
        #expect(await refusal(t) == .unknownKey)
    }

    @Test("a flipped signature bit is refused")
    func badSignature() async throws {
        var t = Array(try mint.token(good).utf8)
        t[t.count - 5] = t[t.count - 5] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(await refusal(String(decoding: t, as: UTF8.self)) == .badSignature)
    }

    @Test("an expired token is refused beyond the clock skew")
    func expired() async throws {
        var c = good; c["exp"] = .number(now.timeIntervalSince1970 - 61)
        #expect(await refusal(try mint.token(c)) == .expired)
    }

    @Test("a token within the clock skew after exp is still accepted")
    func skewTolerated() async throws {
        var c = good; c["exp"] = .number(now.timeIntervalSince1970 - 30)
        #expect(await refusal(try mint.token(c)) == nil)
    }

    @Test("a not-yet-valid token (nbf in the future) is refused")
    func notYetValid() async throws {
        var c = good; c["nbf"] = .number(now.timeIntervalSince1970 + 120)
        #expect(await refusal(try mint.token(c)) == .notYetValid)
    }

    @Test("a token issued in the future is refused")
    func issuedInFuture() async throws {
        var c = good; c["iat"] = .number(now.timeIntervalSince1970 + 120)
        #expect(await refusal(try mint.token(c)) == .notYetValid)
    }

    @Test("a wrong issuer is refused")
    func wrongIssuer() async throws {
        #expect(await refusal(try mint.token(TokenMint.claims(issuer: "https://evil.example", now: now))) == .issuerMismatch)
    }

    @Test("a wrong audience is refused")
    func wrongAudience() async throws {
        #expect(await refusal(try mint.token(TokenMint.claims(issuer: iss, audience: .string("other"), now: now))) == .audienceMismatch)
    }

    @Test("a wrong nonce is refused")
    func wrongNonce() async throws {
        #expect(await refusal(try mint.token(good), nonce: "n-2") == .nonceMismatch)
    }

    @Test("several audiences without azp are refused")
    func missingAzp() async throws {
        let c = TokenMint.claims(issuer: iss, audience: .array([.string("client"), .string("other")]), now: now)
        #expect(await refusal(try mint.token(c)) == .authorizedPartyMismatch)
    }

    @Test("several audiences with azp naming this client are accepted")
    func azpPresent() async throws {
        var c = TokenMint.claims(issuer: iss, audience: .array([.string("client"), .string("other")]), now: now)
        c["azp"] = .string("client")
        #expect(await refusal(try mint.token(c)) == nil)
    }

    @Test("an oversized token is refused before parsing")
    func oversized() async throws {
        #expect(await refusal(String(repeating: "a", count: 20_000) + ".b.c") == .malformedToken)
    }

    @Test("clock skew above 5 minutes is a configuration error")
    func skewBound() throws {
        #expect(throws: OIDCError.self) { try IDTokenValidator(issuer: iss, clientID: "c", keys: StaticKeySource(try mint.jwks), clockSkew: 3600) }
    }

    @Test("amr and acr map to assurance levels")
    func assurance() {
        let m = AssuranceMapping()
        #expect(m.level(amr: ["pwd"], acr: nil) == .password)
        #expect(m.level(amr: ["pwd", "otp"], acr: nil) == .multiFactor)
        #expect(m.level(amr: ["hwk"], acr: nil) == .phishingResistant)
        #expect(m.level(amr: ["pwd"], acr: "phr") == .phishingResistant)
    }
}
