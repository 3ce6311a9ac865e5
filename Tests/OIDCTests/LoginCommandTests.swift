import EvidenceCore
import EvidenceOIDC
import Foundation
import PeerSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `nis2ctl login oidc` run as a program against a real idpyoidc OP: the scripted browser logs
/// in and follows the redirect to the command's loopback listener.
///
/// Ports: the OP on 18388 (the other idpyoidc suite uses 18386-18387), the command listens on
/// 18399 (the redirect URI the OP registers) and 18398 (the refusal case, never redirected to).
@Suite("nis2ctl login oidc against idpyoidc", .serialized, .timeLimit(.minutes(2)))
struct LoginCommandTests {
    static let opPort: UInt16 = 18388

    private func nis2ctl() throws -> String {
        if let p = ProcessInfo.processInfo.environment["NIS2CTL_PATH"] { return p }
        let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [dir, dir.deletingLastPathComponent()].map({ $0.appendingPathComponent("nis2ctl").path }) where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        throw PeerError("nis2ctl not found next to the test bundle; build it (swift build --product nis2ctl) or set NIS2CTL_PATH")
    }

    @Test("scripted browser login: exit 0, the principal as JSON, one identity.login record without tokens")
    func loginRecordsEvidence() async throws {
        let op = try IdpyOIDCProvider(port: Self.opPort); defer { op.close() }
        let dir = try Scratch(); defer { dir.remove() }
        let tool = try nis2ctl()
        let store = dir.path + "/store"
        #expect(try ChildProcess.run([tool, "init", "--store", store], in: dir).status == 0)
        #expect(try ChildProcess.run([tool, "tenant", "add", "--store", store, "--tenant", "acme"], in: dir).status == 0)

        let child = try ChildProcess([tool, "login", "oidc", "--issuer", op.issuer, "--client-id", "msp-es256", "--port", "18399",
                                      "--store", store, "--tenant", "acme", "--timeout", "60"], in: dir)
        defer { child.terminate() }
        let open = try await child.openURL()
        #expect(open.contains("code_challenge_method=S256") && open.contains("nonce=") && open.contains("state="))
        #expect(open.contains("redirect_uri=" + FormEncoding.escape(IdpyOIDCProvider.redirectURI)))

        let t = URLSessionOIDCTransport(timeout: 30)
        // The OP issues hashed subject identifiers: learn alice's from a login through the library.
        var c = OIDCClientConfiguration(issuer: op.issuer, clientID: "msp-es256", redirectURI: IdpyOIDCProvider.redirectURI, tenant: try TenantID("acme"))
        c.fetchUserinfo = false
        let reference = try await OIDCRelyingParty.discover(c, transport: t, clock: SystemWallClock())
        let alice = try await reference.authenticate(try await op.login(try await reference.beginLogin().url, transport: t)).subject

        let cb = try await op.login(try #require(URL(string: open)), transport: t)
        // The browser follows the provider's redirect to the command's loopback listener.
        let page = try await t.get(try #require(URL(string: IdpyOIDCProvider.redirectURI + "?" + FormEncoding.encode([("code", cb.code ?? ""), ("state", cb.state ?? "")]))), headers: [:])
        #expect(page.status == 200, "\(String(decoding: page.body, as: UTF8.self))")

        let status = try await child.wait(seconds: 30)
        #expect(status == 0, "\(child.stderr)")
        let json = try JSONParser.parse(Array(try #require(child.stdout.split(separator: "\n").last { $0.hasPrefix("{") }).utf8))
        #expect(json["subject"]?.stringValue == alice)
        #expect(json["displayName"]?.stringValue == "alice@msp.example")
        #expect(json["issuer"]?.stringValue == op.issuer)
        #expect(json["tenant"]?.stringValue == "acme")
        #expect(json["assurance"]?.stringValue == "password")

        let cat = try ChildProcess.run([tool, "log", "cat", "--store", store, "--tenant", "acme", "--json"], in: dir)
        #expect(cat.status == 0, "\(cat.stderr)")
        let logins = try cat.stdout.split(separator: "\n").map { try JSONParser.parse(Array($0.utf8)) }.filter { $0["record"]?["kind"]?.stringValue == "identity.login" }
        try #require(logins.count == 1, "\(cat.stdout)")
        let record = try #require(logins[0]["record"])
        #expect(record["actor"]?.stringValue == op.issuer + "#" + alice)
        let body = try #require(record["body"]?.objectValue)
        #expect(body["issuer"]?.stringValue == op.issuer)
        #expect(body["subject"]?.stringValue == alice)
        #expect(body["assurance"]?.stringValue == "password")
        #expect(body["methods"]?.arrayValue != nil)
        #expect(Set(body.keys).isSubset(of: ["issuer", "subject", "assurance", "methods", "acr", "authTime"]), "\(body.keys)")
        #expect(!cat.stdout.contains(cb.code ?? "no code"))
    }

    @Test("a callback with a wrong state: exit 1 naming the state; other paths are refused while waiting")
    func wrongStateIsRefused() async throws {
        let op = try IdpyOIDCProvider(port: Self.opPort); defer { op.close() }
        let dir = try Scratch(); defer { dir.remove() }
        let child = try ChildProcess([try nis2ctl(), "login", "oidc", "--issuer", op.issuer, "--client-id", "msp-es256", "--port", "18398", "--timeout", "60"], in: dir)
        defer { child.terminate() }
        let open = try await child.openURL()
        let state = try #require(URLComponents(string: open)?.queryItems?.first { $0.name == "state" }?.value)

        let t = URLSessionOIDCTransport(timeout: 30)
        #expect(try await t.get(try #require(URL(string: "http://127.0.0.1:18398/other")), headers: [:]).status == 404)
        #expect(try await t.postForm(try #require(URL(string: "http://127.0.0.1:18398/callback")), fields: [("code", "x")], headers: [:]).status == 405)
        let page = try await t.get(try #require(URL(string: "http://127.0.0.1:18398/callback?code=forged&state=" + FormEncoding.escape(state + "x"))), headers: [:])
        #expect(page.status == 400)

        let status = try await child.wait(seconds: 30)
        #expect(status == 1, "\(child.stderr)")
        #expect(child.stderr.contains("stateMismatch") && child.stderr.contains("state does not match"), "\(child.stderr)")
        #expect(!child.stdout.contains("{"), "\(child.stdout)")
    }
}

/// A temporary folder for one test.
struct Scratch {
    let path: String
    init() throws {
        path = NSTemporaryDirectory() + "login-cli-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// A child process started by the test, stdout and stderr going to files in the scratch folder.
/// Only this process is ever signalled, by the pid it was started with.
final class ChildProcess: Sendable {
    let pid: pid_t
    let outPath: String, errPath: String
    private let exited = PIDBox()

    init(_ argv: [String], in dir: Scratch) throws {
        let tag = UInt32.random(in: 0...UInt32.max)
        outPath = dir.path + "/out-\(tag)"; errPath = dir.path + "/err-\(tag)"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions); defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        let cEnv: [UnsafeMutablePointer<CChar>?] = ProcessInfo.processInfo.environment.map { strdup("\($0)=\($1)") } + [nil]
        defer { cArgs.forEach { free($0) }; cEnv.forEach { free($0) } }
        var p: pid_t = 0
        let rc = posix_spawn(&p, argv[0], &actions, nil, cArgs, cEnv)
        guard rc == 0 else { throw PeerError("cannot start \(argv[0]): \(String(cString: strerror(rc)))") }
        pid = p
        exited.set(p)
    }

    var stdout: String { (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }

    /// Runs to completion (bounded to 30 s).
    static func run(_ argv: [String], in dir: Scratch) throws -> (status: Int32, stdout: String, stderr: String) {
        let c = try ChildProcess(argv, in: dir)
        defer { c.terminate() }
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let s = c.reap() { return (s, c.stdout, c.stderr) }
            usleep(20_000)
        }
        throw PeerError("\(argv.dropFirst().prefix(2).joined(separator: " ")) did not finish within 30 s")
    }

    /// The exit status once the process has ended, else nil.
    func reap() -> Int32? {
        var st: Int32 = 0
        guard waitpid(pid, &st, WNOHANG) == pid else { return nil }
        _ = exited.take()
        return (st & 0x7f) == 0 ? (st >> 8) & 0xff : 128 + (st & 0x7f)
    }

    /// Waits (bounded) for the `open: URL` line.
    func openURL(seconds: TimeInterval = 20) async throws -> String {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let line = stdout.split(separator: "\n").first(where: { $0.hasPrefix("open: ") }) { return String(line.dropFirst(6)) }
            if let s = reap() { throw PeerError("login oidc exited \(s) before printing the URL: \(stderr)") }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        throw PeerError("login oidc printed no 'open: ' line within \(Int(seconds)) s: \(stderr)")
    }

    /// Waits (bounded) for the exit status.
    func wait(seconds: TimeInterval) async throws -> Int32 {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let s = reap() { return s }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        throw PeerError("login oidc still running after \(Int(seconds)) s: \(stderr)")
    }

    /// Stops the process if it is still running (SIGTERM, then SIGKILL) and reaps it.
    func terminate() {
        guard let p = exited.take() else { return }
        var st: Int32 = 0
        if waitpid(p, &st, WNOHANG) == p { return }
        kill(p, SIGTERM)
        for _ in 0..<50 { if waitpid(p, &st, WNOHANG) == p { return }; usleep(20_000) }
        kill(p, SIGKILL); waitpid(p, &st, 0)
    }
}
