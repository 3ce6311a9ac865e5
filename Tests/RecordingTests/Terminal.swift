import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct ToolError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// Runs programs for the tests: posix_spawn with an empty signal mask, bounded waits.
enum Programs {
    /// The nis2ctl built next to the test bundle (or NIS2CTL_PATH).
    static func nis2ctl() throws -> String {
        if let p = ProcessInfo.processInfo.environment["NIS2CTL_PATH"] { return p }
        let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for c in [dir, dir.deletingLastPathComponent()].map({ $0.appendingPathComponent("nis2ctl").path }) where FileManager.default.isExecutableFile(atPath: c) {
            return c
        }
        throw ToolError("nis2ctl not found next to the test bundle; build it (swift build --product nis2ctl) or set NIS2CTL_PATH")
    }

    /// Runs to completion within `timeout` seconds; returns the exit status (-1 if it had to
    /// be killed) and the combined output.
    @discardableResult
    static func run(_ argv: [String], timeout: Double = 30) throws -> (status: Int32, output: String) {
        let log = NSTemporaryDirectory() + "rec-run-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).log"
        defer { unlink(log) }
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr); defer { posix_spawnattr_destroy(&attr) }
        var empty = sigset_t(); sigemptyset(&empty); posix_spawnattr_setsigmask(&attr, &empty)
        var dfl = sigset_t(); sigemptyset(&dfl)
        for s in [SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGXFSZ] { sigaddset(&dfl, s) }
        posix_spawnattr_setsigdefault(&attr, &dfl)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var fa = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fa); defer { posix_spawn_file_actions_destroy(&fa) }
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&fa, 1, 2)
        let cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, argv[0], &fa, &attr, cArgs, environ)
        guard rc == 0 else { throw ToolError("cannot start \(argv[0]) (is it installed? see scripts/apt-packages.txt): \(String(cString: strerror(rc)))") }
        let deadline = Date() + timeout
        var st: Int32 = 0
        var status: Int32 = -1
        while true {
            if waitpid(pid, &st, WNOHANG) == pid { status = (st & 0x7f) == 0 ? (st >> 8) & 0xff : -1; break }
            if Date() > deadline { kill(pid, SIGKILL); waitpid(pid, &st, 0); break }
            usleep(5_000)
        }
        return (status, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }
}

/// A private tmux server (its own socket) holding one window of the given size: a real
/// terminal a test types into with send-keys. `stop()` kills only this server.
final class TmuxTerminal {
    let socket: String
    let dir: String

    init(_ shellCommand: String, columns: Int = 100, rows: Int = 30) throws {
        dir = NSTemporaryDirectory() + "rec-tmux-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        socket = dir + "/tmux.sock"
        let r = try Programs.run(["tmux", "-S", socket, "-f", "/dev/null", "new-session", "-d", "-x", "\(columns)", "-y", "\(rows)", shellCommand])
        guard r.status == 0 else { throw ToolError("tmux did not start (apt-get install tmux): \(r.output)") }
    }

    func type(_ keys: String, enter: Bool = true) throws {
        let r = try Programs.run(["tmux", "-S", socket, "send-keys", "-t", "0", "-l", keys])
        guard r.status == 0 else { throw ToolError("tmux send-keys failed: \(r.output)") }
        if enter { try Programs.run(["tmux", "-S", socket, "send-keys", "-t", "0", "Enter"]) }
    }

    func screen() throws -> String { try Programs.run(["tmux", "-S", socket, "capture-pane", "-p", "-t", "0", "-S", "-200"]).output }

    /// Waits until the screen shows `text`; returns the screen.
    @discardableResult
    func waitFor(_ text: String, seconds: Double = 10) throws -> String {
        let deadline = Date() + seconds
        while Date() < deadline {
            let s = try screen()
            if s.contains(text) { return s }
            usleep(50_000)
        }
        throw ToolError("'\(text)' did not appear within \(seconds) s; the screen was:\n\(try screen())")
    }

    /// Waits until `path` exists (a marker the window's command writes when done).
    func waitForFile(_ path: String, seconds: Double = 15) throws -> String {
        let deadline = Date() + seconds
        while Date() < deadline {
            if let s = try? String(contentsOfFile: path, encoding: .utf8), s.hasSuffix("\n") { return s }
            usleep(50_000)
        }
        throw ToolError("\(path) was not written within \(seconds) s; the screen was:\n\(try screen())")
    }

    func stop() {
        _ = try? Programs.run(["tmux", "-S", socket, "kill-server"], timeout: 5)
        try? FileManager.default.removeItem(atPath: dir)
    }
}
