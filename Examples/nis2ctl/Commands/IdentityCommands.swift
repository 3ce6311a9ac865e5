import EvidenceCore
import EvidenceOIDC
import Foundation

/// `nis2ctl verify id-token`: checks an OpenID Connect ID token the way the relying party
/// would, so integrators can debug their identity provider set-up.
enum IdentityCommands {
    static let all: [CommandSpec] = [verifyIDToken, OIDCLoginCommand.loginOIDC]

    static let verifyIDToken = CommandSpec(
        path: ["verify", "id-token"], summary: "check an OIDC ID token against the provider's keys",
        help: """
        usage: nis2ctl verify id-token TOKEN_FILE --issuer URL --client-id ID (--jwks FILE | --discover)
                                       [--nonce N] [--now ISO-8601] [--tenant ID]

        TOKEN_FILE holds the compact JWS (surrounding whitespace is ignored). Runs every check of
        the relying party: algorithm allow-list (RS256, PS256, ES256, EdDSA; never none or HS*),
        the signature with the provider's key named by kid, iss, aud, azp, exp, iat/nbf (60 s
        skew), nonce, and maps amr/acr to an assurance level.

          --issuer URL     the expected issuer (exactly as the provider writes it in iss)
          --client-id ID   this relying party's client id (the expected audience)
          --jwks FILE      the provider's JSON Web Key Set, read from a file
          --discover       fetch /.well-known/openid-configuration and the JWKS from the issuer
          --nonce N        the nonce sent with the authorization request; without it, not checked
          --now ISO-8601   check validity at this instant instead of the system clock
          --tenant ID      tenant of the printed principal (default: msp)
        exit: 0 valid (the principal as JSON on stdout), 1 refused (the reason on stderr), 2 usage
        """,
        options: ["issuer", "client-id", "jwks", "nonce", "now", "tenant"], flags: ["discover"]
    ) { a in
        guard a.positional.count == 1 else { throw UsageError("give exactly one TOKEN_FILE holding the ID token") }
        let token = try SAMLCommands.readBounded(a.positional[0], what: "ID token file", limit: CompactJWS.maxTokenBytes)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let issuer = try a.required("issuer"), clientID = try a.required("client-id")
        let discover = a.flag("discover")
        guard (a.value("jwks") != nil) != discover else { throw UsageError("give either --jwks FILE or --discover") }
        let now: Date
        if let text = a.value("now") {
            do { now = try Timestamp.parse(text) } catch { throw UsageError("--now '\(text)' is not an ISO-8601 time with offset, e.g. 2026-01-30T09:00:00Z") }
        } else {
            now = SystemWallClock().now()
        }
        let tenant: TenantID
        do { tenant = try TenantID(a.value("tenant") ?? "msp") } catch let e as EvidenceError { throw UsageError(e.message) }
        let keys: JSONWebKeySet
        do {
            if let file = a.value("jwks") {
                keys = try JSONWebKeySet(json: Array(try SAMLCommands.readBounded(file, what: "JWKS file", limit: 1 << 20).utf8))
            } else {
                let transport = URLSessionOIDCTransport()
                let metadata = try await ProviderMetadata.discover(issuer: issuer, transport: transport)
                let r = try await transport.get(metadata.jwksURI, headers: ["Accept": "application/json"])
                guard r.status == 200 else { throw OIDCError(.discoveryFailed, "JWKS at \(metadata.jwksURI) answered HTTP \(r.status)") }
                keys = try JSONWebKeySet(json: r.body)
            }
        } catch let e as OIDCError {
            Console.err("provider keys unusable (\(e.code)): \(e.message)")
            return e.code == .configuration ? .usage : .failure
        }
        do {
            let validator = try IDTokenValidator(issuer: issuer, clientID: clientID, keys: StaticKeySource(keys))
            let claims = try await validator.validate(token, nonce: a.value("nonce"), now: now)
            let configuration = OIDCClientConfiguration(issuer: issuer, clientID: clientID, redirectURI: "http://127.0.0.1/callback", tenant: tenant)
            Console.json(PrincipalJSON.encode(OIDCRelyingParty.principal(claims, userinfo: nil, configuration: configuration)))
            return .success
        } catch let e as OIDCError {
            Console.err("ID token refused (\(e.code)): \(e.message)")
            return .verificationFailed
        }
    }
}
