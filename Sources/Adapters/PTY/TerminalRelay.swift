import CPTY
import EvidenceCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A terminal's size in character cells.
public struct TerminalSize: Hashable, Sendable {
    public var columns: Int
    public var rows: Int
    public init(columns: Int, rows: Int) { self.columns = columns; self.rows = rows }

    /// The size of the terminal on `fd`, or nil if `fd` is not a terminal.
    public static func of(_ fd: Int32) -> TerminalSize? {
        var ws = winsize()
        guard ioctl(fd, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 0, ws.ws_row > 0 else { return nil }
        return TerminalSize(columns: Int(ws.ws_col), rows: Int(ws.ws_row))
    }
}

/// How a relayed session ended.
public struct RelayOutcome: Sendable {
    /// The exit status to hand on: the program's own, 128 + signal if a signal ended it.
    public var exitStatus: Int32
    public var summary: SessionSummary
    /// True when the recorder failed closed and the relay ended the session.
    public var stoppedByRecorder: Bool { summary.outcome == .failedClosed }
}

/// Runs a program under a new pseudo-terminal, like script(1), relays the user's terminal to
/// it transparently, and offers everything that passes to a `SessionRecorder`.
///
/// Guarantees:
/// - The user's terminal is put in raw mode for the session and restored afterwards, also
///   when the session is stopped; window-size changes reach the program (and the recording);
///   SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to the relay are passed to the program's
///   process group; the program's exit status is returned.
/// - Output is offered to the recorder before it is shown: once the recorder has failed
///   closed, not one more byte reaches the user; the relay tells the user why, hangs up the
///   program (SIGHUP, then SIGKILL after a second) and returns.
/// - Input typed while the program's terminal has echo off and canonical mode on (a password
///   prompt: `read -s`, getpass, sudo) is passed to the program but never to the recorder,
///   which only gets a `maskedInput` event. Raw-mode programs (editors, shells with line
///   editing) turn echo off too but also canonical mode, so their input is recorded; a
///   password prompt inside such a program (an ssh client's remote prompt) is not detected.
/// - The child is started with posix_spawn (no fork), an empty signal mask and default
///   signal actions, as leader of a new session with the pseudo-terminal as its controlling
///   terminal.
public struct TerminalRelay: Sendable {
    public var input: Int32 = 0
    public var output: Int32 = 1
    public var diagnostics: Int32 = 2
    public var environment: [String: String] = ProcessInfo.processInfo.environment
    public var clock: any WallClock = SystemWallClock()

    public init() {}

    /// Starts `argv` and relays until it exits (or the recorder fails closed).
    public func run(_ argv: [String], recorder: any RelayedSessionSink) throws -> RelayOutcome {
        guard !argv.isEmpty else { throw EvidenceError(.malformedInput, "no command to run") }
        var slave = [CChar](repeating: 0, count: 256)
        let master = cpty_open_master(&slave, slave.count)
        guard master >= 0 else { throw EvidenceError(.io, "cannot open a pseudo-terminal: \(String(cString: strerror(errno)))") }
        defer { close(master) }
        if var ws = Self.winsizeOf(input) { _ = ioctl(master, UInt(TIOCSWINSZ), &ws) }
        else { var ws = winsize(ws_row: UInt16(recorder.session.rows), ws_col: UInt16(recorder.session.columns), ws_xpixel: 0, ws_ypixel: 0); _ = ioctl(master, UInt(TIOCSWINSZ), &ws) }

        var env = environment
        if env["TERM"] == nil { env["TERM"] = "xterm-256color" }
        let cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        let cEnv: [UnsafeMutablePointer<CChar>?] = env.map { strdup("\($0)=\($1)") } + [nil]
        defer { cArgs.forEach { free($0) }; cEnv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = cpty_spawn(&pid, slave, cArgs, cEnv)
        guard rc == 0 else { throw EvidenceError(.notFound, "cannot start \(argv[0]): \(String(cString: strerror(rc)))") }

        let signals = SignalPipe([SIGWINCH, SIGINT, SIGTERM, SIGHUP, SIGQUIT])
        defer { signals.close() }
        let rawMode = RawMode(input)
        defer { rawMode.restore() }
        _ = fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK)

        var loop = RelayLoop(master: master, child: pid, relay: self, recorder: recorder, signals: signals)
        let status = loop.run()
        rawMode.restore()
        if let reason = recorder.failureReason {
            let message = "\r\nnis2ctl record: the session was ended because its recording could not be kept: \(reason)\r\n"
            _ = message.withCString { write(diagnostics, $0, strlen($0)) }
            let summary = (try? recorder.finishBlocking(SessionEnding(note: "stopped by the recorder")))
                ?? SessionSummary(outcome: .failedClosed, reason: reason, durableEvents: recorder.durableEvents, chunks: 0, bytes: 0, gaps: 0, maskedInputs: 0)
            return RelayOutcome(exitStatus: status.exitStatus, summary: summary)
        }
        let summary = try recorder.finishBlocking(SessionEnding(exitStatus: status.exited ? status.exitStatus : nil,
                                                                signal: status.signal))
        return RelayOutcome(exitStatus: status.exitStatus, summary: summary)
    }

    static func winsizeOf(_ fd: Int32) -> winsize? {
        var ws = winsize()
        guard ioctl(fd, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 0 else { return nil }
        return ws
    }
}

/// The user's terminal in raw mode for the duration of a session (nothing if not a terminal).
final class RawMode: @unchecked Sendable {
    // @unchecked: used from the relay thread only; `saved` is written once in init.
    private let fd: Int32
    private var saved: termios?

    init(_ fd: Int32) {
        self.fd = fd
        var t = termios()
        guard isatty(fd) == 1, tcgetattr(fd, &t) == 0 else { return }
        saved = t
        var raw = t
        cfmakeraw(&raw)
        _ = tcsetattr(fd, TCSAFLUSH, &raw)
    }

    func restore() {
        guard var t = saved else { return }
        _ = tcsetattr(fd, TCSAFLUSH, &t)
        saved = nil
    }
}

/// Delivers the relay's signals as bytes on a pipe the relay polls.
final class SignalPipe: @unchecked Sendable {
    // @unchecked: the fds are set once in init; the dispatch sources are only cancelled in close().
    let readFD: Int32
    private let writeFD: Int32
    private var sources: [DispatchSourceSignal] = []

    init(_ signals: [Int32]) {
        var fds: [Int32] = [0, 0]
        _ = pipe(&fds)
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC); _ = fcntl(fd, F_SETFL, O_NONBLOCK) }
        readFD = fds[0]; writeFD = fds[1]
        let w = writeFD
        for s in signals {
            signal(s, SIG_IGN)
            let src = DispatchSource.makeSignalSource(signal: s, queue: .global())
            src.setEventHandler { var b = UInt8(truncatingIfNeeded: s); _ = write(w, &b, 1) }
            src.resume()
            sources.append(src)
        }
    }

    func close() {
        for s in sources { s.cancel() }
        sources = []
        Glibc.close(readFD); Glibc.close(writeFD)
    }
}

/// Settings for a process that hosts recordings (`nis2ctl record`, `nis2ctl recorder serve`,
/// a gateway).
public enum RecordingProcess {
    /// Has the C allocator map blocks of at least `threshold` bytes (chunk buffers, log
    /// batches) on their own and return them to the system when freed. With glibc's default
    /// the threshold rises after the first large block is freed, later chunk buffers come
    /// from per-thread heaps, and a busy session's private memory drifted from 7 to 14 MiB for
    /// the same output; with the threshold fixed it stays near what the recording policy
    /// allows. Process-wide, so the library never calls it: the host app does, once, at start.
    @discardableResult
    public static func mapLargeAllocations(threshold: Int = 256 << 10) -> Bool {
        cpty_map_large_allocations(threshold) == 1
    }
}
