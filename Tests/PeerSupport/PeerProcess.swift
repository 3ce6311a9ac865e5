import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Starting and stopping the real loopback peers of the adapter tests (chrony, `openssl ts`,
/// idpyoidc, LemonLDAP::NG, pysaml2, …) in one place.
///
/// Children are spawned with `posix_spawn`, an empty signal mask and default actions for
/// SIGTERM, SIGINT, SIGHUP and SIGPIPE: a `Process` started from an async test can inherit a
/// mask that blocks SIGTERM, and such a peer would outlive the test. stdin is /dev/null;
/// stdout and stderr go to one log file.
public enum PeerProcess {
    /// The repository's root folder (this file is Tests/PeerSupport/PeerProcess.swift).
    public static let repoRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()
    /// scripts/peers: the start/stop scripts of every peer.
    public static let scripts = repoRoot + "/scripts/peers"
    /// The Python of the repository's venv (made by `scripts/install-deps.sh --peers`).
    public static let python = repoRoot + "/.venv/bin/python"

    /// A new empty folder under the temporary directory, named after `name` and this process.
    public static func scratch(_ name: String) -> String {
        let dir = NSTemporaryDirectory() + "peer-\(getpid())-\(name)-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Starts `argv` (looked up in PATH) with `env` added to this process's environment;
    /// stdout and stderr are appended to `log` (or replace it, with `truncateLog`).
    public static func spawn(_ argv: [String], env: [String: String] = [:], log: String, truncateLog: Bool = false) throws -> pid_t {
        precondition(!argv.isEmpty, "no program to start")
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
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | (truncateLog ? O_TRUNC : O_APPEND), 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var environment = ProcessInfo.processInfo.environment
        for (k, v) in env { environment[k] = v }
        let cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        let cEnv: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0)=\($1)") } + [nil]
        defer { cArgs.forEach { free($0) }; cEnv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, argv[0], &actions, &attr, cArgs, cEnv)
        guard rc == 0 else { throw PeerError("cannot start \(argv[0]): \(String(cString: strerror(rc)))") }
        return pid
    }

    /// Runs `argv` to completion, killed after `timeoutSeconds`; returns its exit status
    /// (-1 when it was killed by a signal or could not start) and its merged output.
    @discardableResult
    public static func run(_ argv: [String], env: [String: String] = [:], timeoutSeconds: Double = 60) -> (status: Int32, output: String) {
        let log = NSTemporaryDirectory() + "peer-run-\(getpid())-\(UInt64.random(in: 0...UInt64.max)).log"
        defer { unlink(log) }
        let pid: pid_t
        do { pid = try spawn(argv, env: env, log: log, truncateLog: true) } catch { return (-1, "\(error)") }
        let status = waitFor(pid, timeoutSeconds: timeoutSeconds)
        return (status, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }

    /// Waits for `pid` to exit; kills it with SIGKILL after the timeout. Returns its exit
    /// status, or -1 if it was killed by a signal (ours or another).
    public static func waitFor(_ pid: pid_t, timeoutSeconds: Double) -> Int32 {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        var st: Int32 = 0
        while Date() < deadline {
            let r = waitpid(pid, &st, WNOHANG)
            if r == pid { return (st & 0x7f) == 0 ? (st >> 8) & 0xff : -1 }
            if r < 0 { return -1 }
            usleep(5_000)
        }
        kill(pid, SIGKILL); waitpid(pid, &st, 0)
        return -1
    }

    /// SIGTERM, then SIGKILL if `pid` is still there after `graceSeconds`; reaps it.
    public static func stop(_ pid: pid_t, graceSeconds: Double = 3) {
        kill(pid, SIGTERM)
        _ = waitFor(pid, timeoutSeconds: graceSeconds)
    }

    /// `sockaddr_in` for 127.0.0.1:`port`.
    public static func loopbackAddress(_ port: UInt16) -> sockaddr_in {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        return a
    }

    /// A TCP socket listening on 127.0.0.1 on a port the kernel picks (for test relays).
    public static func listenOnLoopback(backlog: Int32 = 64) throws -> (fd: Int32, port: UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw PeerError("cannot create a socket: \(String(cString: strerror(errno)))") }
        var addr = loopbackAddress(0)
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(fd, backlog) == 0 else {
            let e = errno; Glibc.close(fd)
            throw PeerError("cannot listen on 127.0.0.1: \(String(cString: strerror(e)))")
        }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return (fd, UInt16(bigEndian: addr.sin_port))
    }

    /// Accepts connections on `listener` and hands each to `handle`, until the listener is
    /// shut down; then closes it (here, so no one calls accept on a reused descriptor number).
    public static func acceptUntilShutdown(_ listener: Int32, _ handle: (Int32) -> Void) {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                Glibc.close(listener)
                return
            }
            handle(client)
        }
    }

    /// Connects to 127.0.0.1:`port`; the socket, or -1.
    public static func connectLoopback(_ port: UInt16) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return -1 }
        var a = loopbackAddress(port)
        let rc = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        if rc != 0 { Glibc.close(fd); return -1 }
        return fd
    }

    /// Whether something accepts TCP connections on 127.0.0.1:`port`.
    public static func answers(_ port: UInt16) -> Bool {
        let fd = connectLoopback(port)
        if fd >= 0 { Glibc.close(fd) }
        return fd >= 0
    }
}

/// A peer did not start or misbehaved; the message says what to install or look at.
public struct PeerError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}
