import EvidenceOIDC
import Foundation
import PeerSupport
#if canImport(Glibc)
import Glibc
#endif

/// The idpyoidc OpenID Provider (scripts/peers/oidc/op.py in the repository's .venv), started
/// on loopback by the tests. A missing venv or package makes the start fail: no skip.
final class IdpyOIDCProvider: Sendable {
    static let redirectURI = "http://127.0.0.1:18399/callback"

    let port: UInt16
    let state: String
    private let pidBox: PIDBox
    var issuer: String { "http://127.0.0.1:\(port)" }

    init(port: UInt16) throws {
        self.port = port
        state = NSTemporaryDirectory() + "oidc-tests-\(getpid())-\(port)-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        pidBox = PIDBox()
        try start()
    }

    func start() throws {
        let py = PeerProcess.python
        guard FileManager.default.isExecutableFile(atPath: py) else { throw PeerError("no \(py); run scripts/install-deps.sh --peers") }
        let pid = try PeerProcess.spawn([py, PeerProcess.scripts + "/oidc/op.py", String(port), state + "/op", Self.redirectURI], log: state + "/op.log")
        pidBox.set(pid)
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if PeerProcess.answers(port) { return }
            var st: Int32 = 0
            if waitpid(pid, &st, WNOHANG) == pid {
                throw PeerError("idpyoidc OP exited: " + ((try? String(contentsOfFile: state + "/op.log", encoding: .utf8)) ?? "").suffix(800))
            }
            usleep(100_000)
        }
        throw PeerError("idpyoidc OP on port \(port) not ready after 20 s")
    }

    /// New signing keys: stop, drop the key files, start again (new kids).
    func rotateKeys() throws {
        stop()
        for f in ["jwks.json", "public_jwks.json"] { try? FileManager.default.removeItem(atPath: state + "/op/" + f) }
        try start()
    }

    func stop() {
        guard let pid = pidBox.take() else { return }
        PeerProcess.stop(pid, graceSeconds: 5)
        for _ in 0..<50 where PeerProcess.answers(port) { usleep(100_000) }
    }

    func close() { stop(); try? FileManager.default.removeItem(atPath: state) }

    /// A browser: opens the authorize URL, fills in the login form, returns the callback.
    func login(_ url: URL, user: String = "alice", password: String = "alice-pw", transport: URLSessionOIDCTransport) async throws -> AuthorizationCallback {
        let page = try await transport.get(url, headers: [:])
        let html = String(decoding: page.body, as: UTF8.self)
        guard page.status == 200, let token = Self.hiddenToken(html) else { throw PeerError("no login form (HTTP \(page.status)): \(html.prefix(300))") }
        let r = try await transport.postForm(URL(string: issuer + "/verify/user")!, fields: [("token", token), ("username", user), ("password", password)], headers: [:])
        guard (300..<400).contains(r.status), let loc = r.headers["location"], loc.hasPrefix(Self.redirectURI), let q = URLComponents(string: loc)?.percentEncodedQuery else {
            throw PeerError("login did not redirect to the callback (HTTP \(r.status)): \(String(decoding: r.body.prefix(300), as: UTF8.self))")
        }
        return AuthorizationCallback(query: q)
    }

    static func hiddenToken(_ html: String) -> String? {
        guard let r = html.range(of: "name=\"token\" value=\"") else { return nil }
        return String(html[r.upperBound...].prefix { $0 != "\"" })
    }
}

import Synchronization
final class PIDBox: Sendable {
    private let v = Mutex<pid_t?>(nil)
    func set(_ p: pid_t) { v.withLock { $0 = p } }
    func take() -> pid_t? { v.withLock { let p = $0; $0 = nil; return p } }
}

