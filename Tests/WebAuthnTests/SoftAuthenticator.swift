import EvidenceWebAuthn
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The software authenticator (scripts/peers/webauthn_authenticator.py in the repository's
/// .venv, `cryptography` + `cbor2`). Each call runs the script once; its key and counter live
/// in a state file. A missing venv or package makes the call fail: no skip.
struct SoftAuthenticator {
    static let repoRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()
    static let rpID = "localhost"
    static let origin = "https://localhost:8443"

    let state: String

    init() {
        state = NSTemporaryDirectory() + "webauthn-\(getpid())-\(UInt64.random(in: 0...UInt64.max)).json"
    }

    func close() { try? FileManager.default.removeItem(atPath: state) }

    func register(challenge: [UInt8], alg: String = "es256", fmt: String = "none", uv: Bool = true, up: Bool = true,
                  rpID: String = rpID, origin: String = origin, type: String? = nil) throws -> RegistrationResponse {
        var args = ["register", state, "--rp-id", rpID, "--origin", origin, "--challenge=" + Base64URL.encode(challenge), "--alg", alg, "--fmt", fmt]
        if uv { args.append("--uv") }
        if !up { args.append("--no-up") }
        if let type { args += ["--type", type] }
        let o = try run(args)
        let r = try field(o, "response")
        return RegistrationResponse(credentialID: try b64(o, "rawId"), clientDataJSON: try b64(r, "clientDataJSON"),
                                    attestationObject: try b64(r, "attestationObject"))
    }

    func assert(challenge: [UInt8], uv: Bool = true, up: Bool = true, counter: Int? = nil,
                rpID: String = rpID, origin: String = origin, type: String? = nil) throws -> AssertionResponse {
        var args = ["assert", state, "--rp-id", rpID, "--origin", origin, "--challenge=" + Base64URL.encode(challenge)]
        if uv { args.append("--uv") }
        if !up { args.append("--no-up") }
        if let counter { args += ["--counter", String(counter)] }
        if let type { args += ["--type", type] }
        let o = try run(args)
        let r = try field(o, "response")
        return AssertionResponse(credentialID: try b64(o, "rawId"), authenticatorData: try b64(r, "authenticatorData"),
                                 clientDataJSON: try b64(r, "clientDataJSON"), signature: try b64(r, "signature"),
                                 userHandle: Base64URL.decode(r["userHandle"] as? String ?? ""))
    }

    private func field(_ o: [String: Any], _ k: String) throws -> [String: Any] {
        guard let v = o[k] as? [String: Any] else { throw AuthenticatorFailure("authenticator output lacks '\(k)'") }
        return v
    }

    private func b64(_ o: [String: Any], _ k: String) throws -> [UInt8] {
        guard let s = o[k] as? String, let b = Base64URL.decode(s) else { throw AuthenticatorFailure("authenticator output lacks base64url '\(k)'") }
        return b
    }

    /// Runs the script with posix_spawn (empty signal mask), stdout to a file, 30 s limit.
    private func run(_ args: [String]) throws -> [String: Any] {
        let py = Self.repoRoot + "/.venv/bin/python"
        guard FileManager.default.isExecutableFile(atPath: py) else { throw AuthenticatorFailure("no \(py); run scripts/install-deps.sh --peers") }
        let out = state + ".out", err = state + ".err"
        defer { try? FileManager.default.removeItem(atPath: out); try? FileManager.default.removeItem(atPath: err) }
        let argv = [py, Self.repoRoot + "/scripts/peers/webauthn_authenticator.py"] + args
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr); defer { posix_spawnattr_destroy(&attr) }
        var empty = sigset_t(); sigemptyset(&empty); posix_spawnattr_setsigmask(&attr, &empty)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions); defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        let cEnv: [UnsafeMutablePointer<CChar>?] = ProcessInfo.processInfo.environment.map { strdup("\($0)=\($1)") } + [nil]
        defer { cArgs.forEach { free($0) }; cEnv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, py, &actions, &attr, cArgs, cEnv)
        guard rc == 0 else { throw AuthenticatorFailure("cannot start \(py): \(String(cString: strerror(rc)))") }
        var status: Int32 = 0
        let deadline = Date().addingTimeInterval(30)
        while waitpid(pid, &status, WNOHANG) == 0 {
            if Date() > deadline { kill(pid, SIGKILL); waitpid(pid, &status, 0); throw AuthenticatorFailure("authenticator did not finish in 30 s") }
            usleep(10_000)
        }
        let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        guard status == 0, let o = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else {
            throw AuthenticatorFailure("authenticator failed (status \(status)): " + ((try? String(contentsOfFile: err, encoding: .utf8)) ?? "").suffix(600))
        }
        return o
    }
}

struct AuthenticatorFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
