import EvidenceCore
import EvidenceOIDC
import Foundation
import PeerSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// LemonLDAP::NG as an OpenID Connect provider (scripts/peers/llng_oidc.py), started on
/// loopback port 18376 with a public client that must use PKCE and gets RS256 ID tokens.
/// The callback URI (port 18377) is never listened on: the scripted browser stops at it.
/// Missing packages make the start fail, never skip.
final class LemonLDAPOIDCProvider: Sendable {
    static let script = PeerProcess.scripts + "/llng_oidc.py"
    static let redirectURI = "http://127.0.0.1:18377/callback"
    static let clientID = "msp-client"

    let port: Int
    let dir: String
    var issuer: String { "http://127.0.0.1:\(port)" }

    init(port: Int = 18376) throws {
        self.port = port
        dir = NSTemporaryDirectory() + "oidc-llng-\(getpid())-\(port)-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let r = Self.run(["python3", Self.script, "start", dir + "/op", "\(port)", Self.redirectURI], timeoutSeconds: 90)
        guard r.status == 0 else {
            close()
            throw PeerError("LemonLDAP::NG did not start as an OIDC provider (apt-get install lemonldap-ng, see scripts/apt-packages.txt): \(r.output.suffix(1500))")
        }
    }

    /// A browser: opens the authorize URL, logs in (dwho/dwho), returns the callback.
    func login(_ url: URL, user: String = "dwho", password: String = "dwho") throws -> AuthorizationCallback {
        let out = dir + "/callback-\(UInt32.random(in: 0...UInt32.max))"
        let r = Self.run(["python3", Self.script, "login", url.absoluteString, Self.redirectURI, out, user, password])
        guard r.status == 0, let query = try? String(contentsOfFile: out, encoding: .utf8) else {
            throw PeerError("login at LemonLDAP::NG failed: \(r.output.suffix(1500))")
        }
        return AuthorizationCallback(query: query)
    }

    func close() {
        _ = Self.run(["python3", Self.script, "stop", dir + "/op"], timeoutSeconds: 20)
        try? FileManager.default.removeItem(atPath: dir)
    }

    static func run(_ argv: [String], timeoutSeconds: Double = 60) -> (status: Int32, output: String) {
        PeerProcess.run(argv, timeoutSeconds: timeoutSeconds)
    }
}

@Suite("OIDC against LemonLDAP::NG (RS256, PKCE)", .serialized, .timeLimit(.minutes(3)))
struct LemonLDAPOIDCTests {
    let tenant = try! TenantID("acme")

    func rp(_ op: LemonLDAPOIDCProvider, transport: URLSessionOIDCTransport) async throws -> OIDCRelyingParty {
        let c = OIDCClientConfiguration(issuer: op.issuer, clientID: LemonLDAPOIDCProvider.clientID,
                                        redirectURI: LemonLDAPOIDCProvider.redirectURI, tenant: tenant)
        return try await OIDCRelyingParty.discover(c, transport: transport, clock: SystemWallClock())
    }

    @Test("scripted login with the authorization code flow and PKCE yields a principal from a validated RS256 ID token")
    func login() async throws {
        let op = try LemonLDAPOIDCProvider(); defer { op.close() }
        let t = URLSessionOIDCTransport()
        let party = try await rp(op, transport: t)
        #expect(await party.metadata.codeChallengeMethods.contains("S256"))
        let req = try await party.beginLogin()
        #expect(req.url.absoluteString.contains("code_challenge_method=S256"))
        let cb = try op.login(req.url)
        #expect(cb.state == req.state)
        let p = try await party.authenticate(cb)
        #expect(p.subject == "dwho")
        #expect(p.issuer == op.issuer)
        #expect(p.tenant == tenant)
        #expect(p.displayName == "Doctor Who")   // from userinfo, whose sub matched the token's
        let idToken = try #require(await party.lastIDToken)
        let jws = try CompactJWS(idToken)
        #expect(jws.header["alg"]?.stringValue == "RS256")
        #expect(jws.header["kid"]?.stringValue == "llng-rs256-1")
        // The claims the relying party checked, re-checked here against the real token.
        let claims = try await party.validator.validate(idToken, nonce: req.nonce, now: Date())
        #expect(claims.issuer == op.issuer)
        #expect(claims.audiences.contains(LemonLDAPOIDCProvider.clientID))
        #expect(claims.nonce == req.nonce)
        #expect(claims.expiresAt > Date())
        #expect(claims.algorithm == .rs256)
        // The callback is single-use.
        await #expect(throws: OIDCError.self) { try await party.authenticate(cb) }
    }

    @Test("a LemonLDAP::NG token is refused for another client id, another login's nonce, and after exp")
    func refusals() async throws {
        let op = try LemonLDAPOIDCProvider(); defer { op.close() }
        let t = URLSessionOIDCTransport()
        let party = try await rp(op, transport: t)
        let req = try await party.beginLogin()
        _ = try await party.authenticate(try op.login(req.url))
        let idToken = try #require(await party.lastIDToken)
        let keys = await party.keys

        let otherClient = try IDTokenValidator(issuer: op.issuer, clientID: "another-client", keys: keys)
        do { _ = try await otherClient.validate(idToken, nonce: req.nonce, now: Date()); Issue.record("accepted a token issued to another client") } catch let e as OIDCError {
            #expect(e.code == .audienceMismatch)
        }
        let v = try await party.validator
        do { _ = try await v.validate(idToken, nonce: "nonce-of-another-login", now: Date()); Issue.record("accepted a foreign nonce") } catch let e as OIDCError {
            #expect(e.code == .nonceMismatch)
        }
        let exp = try await v.validate(idToken, nonce: req.nonce, now: Date()).expiresAt
        do { _ = try await v.validate(idToken, nonce: req.nonce, now: exp.addingTimeInterval(120)); Issue.record("accepted an expired token") } catch let e as OIDCError {
            #expect(e.code == .expired)
        }
        let otherIssuer = try IDTokenValidator(issuer: op.issuer + "/", clientID: LemonLDAPOIDCProvider.clientID, keys: keys)
        do { _ = try await otherIssuer.validate(idToken, nonce: req.nonce, now: Date()); Issue.record("accepted a token of another issuer") } catch let e as OIDCError {
            #expect(e.code == .issuerMismatch)
        }
    }

    @Test("a callback whose code was issued for another login (other PKCE verifier) is refused by the provider")
    func codeOfAnotherLogin() async throws {
        let op = try LemonLDAPOIDCProvider(); defer { op.close() }
        let t = URLSessionOIDCTransport()
        let party = try await rp(op, transport: t)
        let first = try await party.beginLogin(), second = try await party.beginLogin()
        let cb = try op.login(first.url)
        // The code of the first login presented with the second login's state: the token
        // request carries the second verifier, which does not match the first challenge.
        let swapped = AuthorizationCallback(code: try #require(cb.code), state: second.state)
        do { _ = try await party.authenticate(swapped); Issue.record("the provider accepted a code with the wrong PKCE verifier") } catch let e as OIDCError {
            #expect(e.code == .providerError)
        }
    }
}
