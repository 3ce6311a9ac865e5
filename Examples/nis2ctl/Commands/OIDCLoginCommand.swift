import EvidenceCore
import EvidenceOIDC
import Foundation

/// `nis2ctl login oidc`: an interactive OpenID Connect login from the terminal. The browser is
/// sent to the provider; the provider redirects back to a one-shot listener on 127.0.0.1; the
/// login is completed (state, code exchange with PKCE, ID token validation) and, with a store,
/// recorded as an `identity.login` evidence record.
enum OIDCLoginCommand {
    static let defaultPort: UInt16 = 8400
    static let defaultTimeout: UInt64 = 300

    static let loginOIDC = CommandSpec(
        path: ["login", "oidc"], summary: "log in at an OIDC provider through the browser",
        help: """
        usage: nis2ctl login oidc --issuer URL --client-id ID [--client-secret-file F] [--port P]
                                  [--scope S] [--store DIR --tenant ID] [--timeout SECONDS]

        Discovers the provider, starts an authorization code login (PKCE S256, state, nonce) with
        the redirect URI http://127.0.0.1:PORT/callback, prints the URL to open in a browser as one
        line "open: URL" on stdout, and waits on 127.0.0.1:PORT for the provider's redirect. The
        callback's state must be the one of this login; the code is exchanged and the ID token
        checked like 'nis2ctl verify id-token' does. The principal comes from the validated ID
        token (userinfo is not fetched) and is printed as JSON on stdout.

          --issuer URL              the provider's issuer (exactly as in its discovery document)
          --client-id ID            this client's id; the provider must have registered the
                                    redirect URI http://127.0.0.1:PORT/callback for it
          --client-secret-file F    file holding the client secret (confidential client, sent with
                                    HTTP Basic); without it, a public client (PKCE only)
          --port P                  loopback port of the redirect URI (default: \(defaultPort))
          --scope S                 scopes, space- or comma-separated; must include openid
                                    (default: "openid email profile")
          --store DIR --tenant ID   append an identity.login record (issuer, subject, assurance,
                                    methods, acr, authTime; never tokens) to the tenant's log
          --tenant ID               without --store: tenant of the printed principal (default: msp)
          --timeout SECONDS         how long to wait for the callback (default: \(defaultTimeout))
        exit: 0 logged in (the principal as JSON on stdout), 1 the callback or the provider's answer
              was refused (the reason on stderr), 2 usage, 3 network error or timeout
        """,
        options: ["issuer", "client-id", "client-secret-file", "port", "scope", "store", "tenant", "timeout"]
    ) { a in
        guard a.positional.isEmpty else { throw UsageError("unexpected argument '\(a.positional[0])'") }
        let issuer = try a.required("issuer"), clientID = try a.required("client-id")
        let secret = try a.value("client-secret-file").map { file in
            let s = try SAMLCommands.readBounded(file, what: "client secret file", limit: 4096).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !s.isEmpty else { throw UsageError("the client secret file '\(file)' is empty") }
            return s
        }
        let port: UInt16 = try a.uint64("port").map { p in
            guard (1...65535).contains(p) else { throw UsageError("--port must be 1-65535, not \(p)") }
            return UInt16(p)
        } ?? defaultPort
        let timeout = try a.uint64("timeout") ?? defaultTimeout
        guard (1...86_400).contains(timeout) else { throw UsageError("--timeout must be 1-86400 seconds, not \(timeout)") }
        let scopes = (a.value("scope") ?? "openid email profile").split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
        guard scopes.contains("openid") else { throw UsageError("--scope must include openid (an OpenID Connect login needs an ID token)") }
        let storePath = a.value("store")
        if storePath != nil, a.value("tenant") == nil { throw UsageError("--store needs --tenant ID (the tenant whose log records the login)") }
        let tenant: TenantID
        do { tenant = try TenantID(a.value("tenant") ?? "msp") } catch let e as EvidenceError { throw UsageError(e.message) }

        // The store is checked before the browser is involved, so a wrong path or tenant costs no login.
        let store = try storePath.map { try StoreAccess.openForWriting($0) }
        do {
            try store?.requireTenant(tenant)
            let status = try await login(issuer: issuer, clientID: clientID, secret: secret, port: port, scopes: scopes,
                                         tenant: tenant, timeout: TimeInterval(timeout), store: store)
            try store?.close()
            return status
        } catch {
            try? store?.close()
            throw error
        }
    }

    /// Exit status for a refusal of the relying party.
    static func exitCode(_ e: OIDCError) -> ExitCode {
        if e.code == .transport { return .failure }
        if e.code == .configuration { return .usage }
        return .verificationFailed
    }

    static func login(issuer: String, clientID: String, secret: String?, port: UInt16, scopes: [String], tenant: TenantID,
                      timeout: TimeInterval, store: EvidenceStore?) async throws -> ExitCode {
        let listener: LoopbackCallbackListener
        do { listener = try LoopbackCallbackListener(port: port) } catch let e as OIDCError {
            Console.err(e.message)
            return .failure
        }
        defer { listener.close() }
        var configuration = OIDCClientConfiguration(issuer: issuer, clientID: clientID, clientSecret: secret, redirectURI: listener.redirectURI, scopes: scopes, tenant: tenant)
        configuration.fetchUserinfo = false
        let clock = SystemWallClock()
        let party: OIDCRelyingParty, request: AuthorizationRequest
        do {
            party = try await OIDCRelyingParty.discover(configuration, transport: URLSessionOIDCTransport(), clock: clock)
            request = try await party.beginLogin()
        } catch let e as OIDCError {
            Console.err("discovery of \(issuer) failed (\(e.code)): \(e.message)")
            return exitCode(e)
        }
        Console.out("open: " + request.url.absoluteString)
        Console.err("waiting up to \(Int(timeout)) s for the provider's redirect to \(listener.redirectURI)")

        let deadline = Date().addingTimeInterval(timeout)
        let connection: Int32, query: String
        do { (connection, query) = try await blocking { try listener.waitForCallback(until: deadline) } } catch let e as OIDCError {
            Console.err(e.message)
            return .failure
        }
        let callback = AuthorizationCallback(query: query)
        let principal: Principal
        do {
            guard callback.state == request.state else {
                throw OIDCError(.stateMismatch, "the callback's state does not match the login this command started (a stale browser tab, an old link or a forged redirect); nothing was recorded, start 'nis2ctl login oidc' again")
            }
            if let error = callback.error {
                throw OIDCError(.providerError, "the provider refused the login: error=\(error)" + (callback.errorDescription.map { " (\($0))" } ?? "") + "; check the client's registration and the user's access at the provider")
            }
            principal = try await party.authenticate(callback)
        } catch let e as OIDCError {
            listener.respond(connection, status: 400, title: "Login refused", message: e.message + " You can close this tab and return to the terminal.")
            Console.err("login refused (\(e.code)): \(e.message)")
            return exitCode(e)
        }
        listener.respond(connection, status: 200, title: "Login complete", message: "Signed in as \(principal.subject). You can close this tab and return to the terminal.")

        if let store {
            _ = try await store.append(record(principal, time: clock.now()))
        }
        Console.json(PrincipalJSON.encode(principal))
        return .success
    }

    /// The `identity.login` evidence record: who logged in, where, and how strongly. Tokens,
    /// codes and display names are never recorded.
    static func record(_ p: Principal, time: Date) -> EvidenceRecord {
        var body: [String: JSONValue] = [
            "issuer": .string(p.issuer), "subject": .string(p.subject), "assurance": .string(p.assurance.description),
            "methods": .array(p.methods.map(JSONValue.string)),
        ]
        if let acr = p.acr { body["acr"] = .string(acr) }
        if let at = p.authenticatedAt { body["authTime"] = .string(Timestamp.format(at)) }
        return EvidenceRecord(kind: "identity.login", tenant: p.tenant, time: time, actor: p.issuer + "#" + p.subject, body: .object(body))
    }

    /// Runs blocking socket work on its own thread so it never occupies the concurrency pool.
    static func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { c in
            Thread { c.resume(with: Result { try body() }) }.start()
        }
    }
}
