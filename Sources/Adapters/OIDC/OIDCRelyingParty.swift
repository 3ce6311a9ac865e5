import EvidenceCore
import EvidenceOpenSSL
import Foundation

/// What a provider publishes at `/.well-known/openid-configuration` (the fields used here).
public struct ProviderMetadata: Sendable {
    public let issuer: String
    public let authorizationEndpoint: URL
    public let tokenEndpoint: URL
    public let jwksURI: URL
    public let userinfoEndpoint: URL?
    public let codeChallengeMethods: [String]

    /// Parses and checks a discovery document: `issuer` must equal the expected one exactly,
    /// endpoints must be https (or http on a loopback address).
    public init(json bytes: [UInt8], expectedIssuer: String) throws {
        let v: JSONValue
        do { v = try JSONParser.parse(bytes, limits: JSONLimits(maxBytes: 256 << 10, maxDepth: 8, maxStringBytes: 8 << 10, maxContainerCount: 512)) } catch {
            throw OIDCError(.discoveryFailed, "discovery document is not valid bounded JSON: \(error)")
        }
        guard let iss = v["issuer"]?.stringValue else { throw OIDCError(.discoveryFailed, "discovery document has no issuer") }
        guard iss == expectedIssuer else { throw OIDCError(.discoveryFailed, "discovery issuer '\(iss)' is not the configured '\(expectedIssuer)' (a mix-up or a wrong URL)") }
        func url(_ k: String) throws -> URL {
            guard let s = v[k]?.stringValue, let u = URL(string: s), let scheme = u.scheme, let host = u.host else {
                throw OIDCError(.discoveryFailed, "discovery document lacks a valid '\(k)'")
            }
            guard scheme == "https" || (scheme == "http" && ["127.0.0.1", "::1", "[::1]", "localhost"].contains(host)) else {
                throw OIDCError(.discoveryFailed, "'\(k)' \(s) must use https (plain http only on loopback)")
            }
            return u
        }
        issuer = iss
        authorizationEndpoint = try url("authorization_endpoint"); tokenEndpoint = try url("token_endpoint"); jwksURI = try url("jwks_uri")
        userinfoEndpoint = v["userinfo_endpoint"] == nil ? nil : try url("userinfo_endpoint")
        codeChallengeMethods = (v["code_challenge_methods_supported"]?.arrayValue ?? []).compactMap(\.stringValue)
    }

    public static func discover(issuer: String, transport: any OIDCTransport) async throws -> ProviderMetadata {
        let base = issuer.hasSuffix("/") ? String(issuer.dropLast()) : issuer
        guard let u = URL(string: base + "/.well-known/openid-configuration") else { throw OIDCError(.configuration, "issuer '\(issuer)' is not a URL") }
        let r = try await transport.get(u, headers: ["accept": "application/json"])
        guard r.status == 200 else { throw OIDCError(.discoveryFailed, "\(u) answered HTTP \(r.status)") }
        return try ProviderMetadata(json: r.body, expectedIssuer: issuer)
    }
}

/// The relying party's settings for one provider and one tenant scope.
public struct OIDCClientConfiguration: Sendable {
    public var issuer: String
    public var clientID: String
    /// Set for a confidential client (sent with HTTP Basic); nil for a public client (PKCE only).
    public var clientSecret: String?
    public var redirectURI: String
    public var scopes: [String]
    /// The tenant scope the logins of this client belong to.
    public var tenant: TenantID
    /// The claim listing tenant roles (`admin`, `approver`, `auditor`, `incidentManager`).
    public var roleClaim: String?
    public var assurance: AssuranceMapping
    public var clockSkew: TimeInterval
    /// Fetch userinfo after the token exchange (and check its `sub`).
    public var fetchUserinfo: Bool = true

    public init(issuer: String, clientID: String, clientSecret: String? = nil, redirectURI: String, scopes: [String] = ["openid", "email", "profile"],
                tenant: TenantID, roleClaim: String? = nil, assurance: AssuranceMapping = AssuranceMapping(), clockSkew: TimeInterval = 60) {
        self.issuer = issuer; self.clientID = clientID; self.clientSecret = clientSecret; self.redirectURI = redirectURI
        self.scopes = scopes; self.tenant = tenant; self.roleClaim = roleClaim; self.assurance = assurance; self.clockSkew = clockSkew
    }
}

/// A login in progress: what to send the browser to, and what must come back.
public struct AuthorizationRequest: Sendable {
    public let url: URL
    public let state: String
    public let nonce: String
    public let codeVerifier: String
}

/// The provider's redirect back to us (`?code=…&state=…`).
public struct AuthorizationCallback: Sendable {
    public var code: String?
    public var state: String?
    public var error: String?
    public var errorDescription: String?

    public init(code: String, state: String) { self.code = code; self.state = state }

    /// Parses the query of the redirect URI the browser arrived at.
    public init(query: String) {
        for pair in query.split(separator: "&").prefix(32) {
            let kv = pair.split(separator: "=", maxSplits: 1).map { String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            guard kv.count == 2 else { continue }
            switch kv[0] {
            case "code": code = kv[1]
            case "state": state = kv[1]
            case "error": error = kv[1]
            case "error_description": errorDescription = kv[1]
            default: break
            }
        }
    }
}

/// An OpenID Connect relying party: authorization code flow with PKCE (S256), `state` and
/// `nonce`; token exchange for public and confidential clients; ID token validation; userinfo.
///
/// Guarantees: a callback is accepted only once and only with a `state` this instance issued
/// in the last 10 minutes (at most 256 logins in flight); the principal comes from a validated
/// ID token (see `IDTokenValidator`) whose nonce is the login's; a userinfo `sub` that differs
/// from the token's is refused.
public actor OIDCRelyingParty: IdentityProvider {
    public typealias LoginResponse = AuthorizationCallback
    private struct Pending { let nonce: String; let verifier: String; let at: Date }

    public let configuration: OIDCClientConfiguration
    public let metadata: ProviderMetadata
    public let keys: CachedKeySource
    private let transport: any OIDCTransport
    private let clock: any WallClock
    private let random: @Sendable (Int) -> [UInt8]
    private var pending: [String: Pending] = [:]
    /// The last token response (for callers that need the access token).
    public private(set) var lastAccessToken: String?
    /// The last validated ID token, as received.
    public private(set) var lastIDToken: String?

    public init(configuration: OIDCClientConfiguration, metadata: ProviderMetadata, transport: any OIDCTransport, clock: any WallClock,
                random: @escaping @Sendable (Int) -> [UInt8] = { n in (0..<n).map { _ in UInt8.random(in: 0...255) } }) {
        self.configuration = configuration; self.metadata = metadata; self.transport = transport; self.clock = clock; self.random = random
        keys = CachedKeySource(jwksURI: metadata.jwksURI, transport: transport, clock: clock)
    }

    /// Discovery, then a relying party for it.
    public static func discover(_ c: OIDCClientConfiguration, transport: any OIDCTransport, clock: any WallClock) async throws -> OIDCRelyingParty {
        let m = try await ProviderMetadata.discover(issuer: c.issuer, transport: transport)
        return OIDCRelyingParty(configuration: c, metadata: m, transport: transport, clock: clock)
    }

    public var validator: IDTokenValidator {
        get throws { try IDTokenValidator(issuer: configuration.issuer, clientID: configuration.clientID, keys: keys, clockSkew: configuration.clockSkew) }
    }

    /// Starts a login: fresh state, nonce and PKCE verifier (32 random bytes each).
    public func beginLogin() throws -> AuthorizationRequest {
        let now = clock.now()
        pending = pending.filter { now.timeIntervalSince($0.value.at) < 600 }
        guard pending.count < 256 else { throw OIDCError(.configuration, "256 logins are already in flight; finish or wait 10 minutes") }
        let state = Base64URL.encode(random(32)), nonce = Base64URL.encode(random(32)), verifier = Base64URL.encode(random(32))
        let challenge = Base64URL.encode(OpenSSLSHA256().hash(bytes: Array(verifier.utf8)).bytes)
        var u = URLComponents(url: metadata.authorizationEndpoint, resolvingAgainstBaseURL: false)!
        u.percentEncodedQuery = FormEncoding.encode([
            ("response_type", "code"), ("client_id", configuration.clientID), ("redirect_uri", configuration.redirectURI),
            ("scope", configuration.scopes.joined(separator: " ")), ("state", state), ("nonce", nonce),
            ("code_challenge", challenge), ("code_challenge_method", "S256"),
        ])
        pending[state] = Pending(nonce: nonce, verifier: verifier, at: now)
        return AuthorizationRequest(url: u.url!, state: state, nonce: nonce, codeVerifier: verifier)
    }

    /// Completes a login from the callback: state check, code exchange, ID token validation,
    /// userinfo (when the provider has the endpoint), mapping to a principal.
    public func authenticate(_ cb: AuthorizationCallback) async throws -> Principal {
        if let e = cb.error { throw OIDCError(.providerError, "the provider refused the login: \(e) \(cb.errorDescription ?? "")") }
        guard let state = cb.state, let p = pending.removeValue(forKey: state), clock.now().timeIntervalSince(p.at) < 600 else {
            throw OIDCError(.stateMismatch, "callback state is unknown, used or older than 10 minutes; start the login again")
        }
        guard let code = cb.code, !code.isEmpty, code.utf8.count <= 4096 else { throw OIDCError(.providerError, "callback has no code") }
        var fields = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", configuration.redirectURI), ("code_verifier", p.verifier)]
        var headers = ["accept": "application/json"]
        if let secret = configuration.clientSecret {
            let basic = FormEncoding.escape(configuration.clientID) + ":" + FormEncoding.escape(secret)
            headers["authorization"] = "Basic " + Data(basic.utf8).base64EncodedString()
        } else {
            fields.append(("client_id", configuration.clientID))
        }
        let r = try await transport.postForm(metadata.tokenEndpoint, fields: fields, headers: headers)
        let body = (try? JSONParser.parse(r.body, limits: JSONLimits(maxBytes: 64 << 10, maxDepth: 8))) ?? .null
        guard r.status == 200 else {
            throw OIDCError(.providerError, "token endpoint answered HTTP \(r.status): \(body["error"]?.stringValue ?? "") \(body["error_description"]?.stringValue ?? "")")
        }
        guard let idToken = body["id_token"]?.stringValue else { throw OIDCError(.providerError, "token response has no id_token (was the 'openid' scope granted?)") }
        let claims = try await validator.validate(idToken, nonce: p.nonce, now: clock.now())
        lastAccessToken = body["access_token"]?.stringValue
        lastIDToken = idToken
        var userinfo: JSONValue?
        if configuration.fetchUserinfo, let ui = metadata.userinfoEndpoint, let at = lastAccessToken {
            userinfo = try await self.userinfo(ui, accessToken: at, subject: claims.subject)
        }
        return principal(claims, userinfo: userinfo)
    }

    /// The userinfo claims; refused when their `sub` is not the ID token's.
    public func userinfo(_ url: URL, accessToken: String, subject: String) async throws -> JSONValue {
        var r = try await transport.get(url, headers: ["authorization": "Bearer " + accessToken, "accept": "application/json"])
        if r.status == 400 || r.status == 401 {
            // Some providers only read the form-encoded body parameter (RFC 6750 §2.2).
            r = try await transport.postForm(url, fields: [("access_token", accessToken)], headers: ["accept": "application/json"])
        }
        guard r.status == 200 else {
            throw OIDCError(.providerError, "userinfo answered HTTP \(r.status): \(String(decoding: r.body.prefix(200), as: UTF8.self))")
        }
        let v: JSONValue
        do { v = try JSONParser.parse(r.body, limits: JSONLimits(maxBytes: 64 << 10, maxDepth: 8)) } catch {
            throw OIDCError(.providerError, "userinfo is not JSON (a signed userinfo response is not supported)")
        }
        guard v["sub"]?.stringValue == subject else { throw OIDCError(.providerError, "userinfo sub differs from the ID token's sub") }
        return v
    }

    /// Maps validated claims (and userinfo) to a principal of the configured tenant.
    public func principal(_ c: IDTokenClaims, userinfo: JSONValue?) -> Principal {
        Self.principal(c, userinfo: userinfo, configuration: configuration)
    }

    public static func principal(_ c: IDTokenClaims, userinfo: JSONValue?, configuration: OIDCClientConfiguration) -> Principal {
        func claim(_ k: String) -> JSONValue? { c.all[k] ?? userinfo?[k] }
        var roles: Set<TenantRole> = []
        if let rc = configuration.roleClaim {
            for v in claim(rc)?.arrayValue ?? [] { if let s = v.stringValue, let r = TenantRole(rawValue: s) { roles.insert(r) } }
        }
        return Principal(subject: c.subject, issuer: c.issuer, tenant: configuration.tenant,
                         displayName: claim("name")?.stringValue ?? claim("email")?.stringValue,
                         assurance: configuration.assurance.level(amr: c.amr, acr: c.acr), methods: c.amr, acr: c.acr,
                         authenticatedAt: c.authTime ?? c.issuedAt, roles: roles)
    }
}
