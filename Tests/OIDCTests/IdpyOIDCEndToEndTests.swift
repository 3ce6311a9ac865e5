import EvidenceCore
import EvidenceOIDC
import Foundation
import Testing

/// Logins against a real idpyoidc OP started by the test: ES256 public client, RS256
/// confidential client, key rotation, and a token of another provider.
@Suite("OIDC against idpyoidc", .serialized, .timeLimit(.minutes(2)))
struct IdpyOIDCEndToEndTests {
    let tenant = try! TenantID("acme")

    func rp(_ op: IdpyOIDCProvider, client: String = "msp-es256", secret: String? = nil, transport: URLSessionOIDCTransport) async throws -> OIDCRelyingParty {
        var c = OIDCClientConfiguration(issuer: op.issuer, clientID: client, clientSecret: secret, redirectURI: IdpyOIDCProvider.redirectURI, tenant: tenant)
        // The idpyoidc glue answers userinfo with 400 "'token'" (open issue); the ID token carries the claims used here.
        c.fetchUserinfo = false
        return try await OIDCRelyingParty.discover(c, transport: transport, clock: SystemWallClock())
    }

    @Test("scripted login with the ES256 public client yields a principal; the callback is single-use")
    func es256Login() async throws {
        let op = try IdpyOIDCProvider(port: 18386); defer { op.close() }
        let t = URLSessionOIDCTransport()
        let party = try await rp(op, transport: t)
        let req = try await party.beginLogin()
        #expect(req.url.absoluteString.contains("code_challenge_method=S256"))
        let cb = try await op.login(req.url, transport: t)
        let p = try await party.authenticate(cb)
        #expect(p.issuer == op.issuer)
        #expect(p.tenant == tenant)
        #expect(p.displayName == "alice@msp.example")
        #expect(p.assurance == .password)
        #expect(try CompactJWS(try #require(await party.lastIDToken)).header["alg"]?.stringValue == "ES256")
        await #expect(throws: OIDCError.self) { try await party.authenticate(cb) }
    }

    @Test("scripted login with the RS256 confidential client (HTTP Basic secret)")
    func rs256Login() async throws {
        let op = try IdpyOIDCProvider(port: 18386); defer { op.close() }
        let t = URLSessionOIDCTransport()
        let party = try await rp(op, client: "msp-rs256", secret: "rs-secret-0123456789", transport: t)
        let p = try await party.authenticate(try await op.login(try await party.beginLogin().url, transport: t))
        #expect(p.issuer == op.issuer)
        #expect(try CompactJWS(try #require(await party.lastIDToken)).header["alg"]?.stringValue == "RS256")
    }

    @Test("a wrong client secret is refused by the provider")
    func wrongSecret() async throws {
        let op = try IdpyOIDCProvider(port: 18386); defer { op.close() }
        let t = URLSessionOIDCTransport()
        let party = try await rp(op, client: "msp-rs256", secret: "wrong", transport: t)
        let cb = try await op.login(try await party.beginLogin().url, transport: t)
        await #expect(throws: OIDCError.self) { try await party.authenticate(cb) }
    }

    @Test("after key rotation the unknown kid triggers one refetch; a second unknown kid right after is refused without fetching")
    func keyRotation() async throws {
        let op = try IdpyOIDCProvider(port: 18386); defer { op.close() }
        let t = URLSessionOIDCTransport()
        let party = try await rp(op, transport: t)
        _ = try await party.authenticate(try await op.login(try await party.beginLogin().url, transport: t))
        let oldKid = try CompactJWS(try #require(await party.lastIDToken)).header["kid"]?.stringValue
        #expect(await party.keys.fetchCount == 1)
        try op.rotateKeys()
        _ = try await party.authenticate(try await op.login(try await party.beginLogin().url, transport: t))
        let newKid = try CompactJWS(try #require(await party.lastIDToken)).header["kid"]?.stringValue
        #expect(newKid != oldKid)
        #expect(await party.keys.fetchCount == 2)
        let forged = try TokenMint(kid: "never-published").token(TokenMint.claims(issuer: op.issuer, audience: .string("msp-es256"), now: Date()))
        let v = try await party.validator
        await #expect(throws: OIDCError.self) { try await v.validate(forged, nonce: "n-1", now: Date()) }
        #expect(await party.keys.fetchCount == 2)
    }

    @Test("a token from a different provider is refused")
    func otherProvider() async throws {
        let op = try IdpyOIDCProvider(port: 18386); defer { op.close() }
        let other = try IdpyOIDCProvider(port: 18387); defer { other.close() }
        let t = URLSessionOIDCTransport()
        let mine = try await rp(op, transport: t), theirs = try await rp(other, transport: t)
        _ = try await theirs.authenticate(try await other.login(try await theirs.beginLogin().url, transport: t))
        let foreign = try #require(await theirs.lastIDToken)
        let v = try await mine.validator
        do { _ = try await v.validate(foreign, nonce: nil, now: Date()); Issue.record("accepted a foreign token") } catch let e as OIDCError {
            #expect(e.code == .unknownKey || e.code == .issuerMismatch)
        }
    }
}
