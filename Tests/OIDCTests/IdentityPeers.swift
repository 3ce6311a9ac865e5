import EvidenceOIDC
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The idpyoidc OpenID Provider (scripts/peers/oidc/op.py in the repository's .venv), started
/// on loopback by the tests. A missing venv or package makes the start fail: no skip.
final class IdpyOIDCProvider: Sendable {
    static let repoRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()
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
        let py = Self.repoRoot + "/.venv/bin/python"
        guard FileManager.default.isExecutableFile(atPath: py) else { throw PeerFailure("no \(py); run scripts/install-deps.sh --peers") }
        let pid = try spawn([py, Self.repoRoot + "/scripts/peers/oidc/op.py", String(port), state + "/op", Self.redirectURI], log: state + "/op.log")
        pidBox.set(pid)
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if Self.answers(port) { return }
            var st: Int32 = 0
            if waitpid(pid, &st, WNOHANG) == pid {
                throw PeerFailure("idpyoidc OP exited: " + ((try? String(contentsOfFile: state + "/op.log", encoding: .utf8)) ?? "").suffix(800))
            }
            usleep(100_000)
        }
        throw PeerFailure("idpyoidc OP on port \(port) not ready after 20 s")
    }

    /// New signing keys: stop, drop the key files, start again (new kids).
    func rotateKeys() throws {
        stop()
        for f in ["jwks.json", "public_jwks.json"] { try? FileManager.default.removeItem(atPath: state + "/op/" + f) }
        try start()
    }

    func stop() {
        guard let pid = pidBox.take() else { return }
        kill(pid, SIGTERM)
        var st: Int32 = 0
        for _ in 0..<50 { if waitpid(pid, &st, WNOHANG) == pid { break }; usleep(100_000) }
        if kill(pid, 0) == 0 { kill(pid, SIGKILL); waitpid(pid, &st, 0) }
        for _ in 0..<50 where Self.answers(port) { usleep(100_000) }
    }

    func close() { stop(); try? FileManager.default.removeItem(atPath: state) }

    static func answers(_ port: UInt16) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { Glibc.close(fd) }
        var a = sockaddr_in(); a.sin_family = sa_family_t(AF_INET); a.sin_port = port.bigEndian; a.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } == 0
    }

    /// A browser: opens the authorize URL, fills in the login form, returns the callback.
    func login(_ url: URL, user: String = "alice", password: String = "alice-pw", transport: URLSessionOIDCTransport) async throws -> AuthorizationCallback {
        let page = try await transport.get(url, headers: [:])
        let html = String(decoding: page.body, as: UTF8.self)
        guard page.status == 200, let token = Self.hiddenToken(html) else { throw PeerFailure("no login form (HTTP \(page.status)): \(html.prefix(300))") }
        let r = try await transport.postForm(URL(string: issuer + "/verify/user")!, fields: [("token", token), ("username", user), ("password", password)], headers: [:])
        guard (300..<400).contains(r.status), let loc = r.headers["location"], loc.hasPrefix(Self.redirectURI), let q = URLComponents(string: loc)?.percentEncodedQuery else {
            throw PeerFailure("login did not redirect to the callback (HTTP \(r.status)): \(String(decoding: r.body.prefix(300), as: UTF8.self))")
        }
        return AuthorizationCallback(query: q)
    }

    static func hiddenToken(_ html: String) -> String? {
        guard let r = html.range(of: "name=\"token\" value=\"") else { return nil }
        return String(html[r.upperBound...].prefix { $0 != "\"" })
    }

    private func spawn(_ argv: [String], log: String) throws -> pid_t {
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr); defer { posix_spawnattr_destroy(&attr) }
        var empty = sigset_t(); sigemptyset(&empty); posix_spawnattr_setsigmask(&attr, &empty)
        var dfl = sigset_t(); sigemptyset(&dfl)
        for s in [SIGTERM, SIGINT, SIGHUP, SIGPIPE] { sigaddset(&dfl, s) }
        posix_spawnattr_setsigdefault(&attr, &dfl)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions); defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        let cEnv: [UnsafeMutablePointer<CChar>?] = ProcessInfo.processInfo.environment.map { strdup("\($0)=\($1)") } + [nil]
        defer { cArgs.forEach { free($0) }; cEnv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, argv[0], &actions, &attr, cArgs, cEnv)
        guard rc == 0 else { throw PeerFailure("cannot start \(argv[0]): \(String(cString: strerror(rc)))") }
        return pid
    }
}

import Synchronization
final class PIDBox: Sendable {
    private let v = Mutex<pid_t?>(nil)
    func set(_ p: pid_t) { v.withLock { $0 = p } }
    func take() -> pid_t? { v.withLock { let p = $0; $0 = nil; return p } }
}

struct PeerFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
