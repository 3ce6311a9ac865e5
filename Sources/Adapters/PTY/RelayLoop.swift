import EvidenceCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// How the program ended, as the relay saw it.
struct ChildStatus {
    var exited: Bool
    var exitStatus: Int32
    var signal: Int32?
}

/// The poll loop of one relayed session: user input to the program, program output to the
/// user, both offered to the recorder; signals and window-size changes in between.
struct RelayLoop {
    let master: Int32
    let child: pid_t
    let relay: TerminalRelay
    let recorder: any RelayedSessionSink
    let signals: SignalPipe
    private var pendingInput: [UInt8] = []
    private var inputOpen = true
    private var buffer = [UInt8](repeating: 0, count: 64 << 10)

    init(master: Int32, child: pid_t, relay: TerminalRelay, recorder: any RelayedSessionSink, signals: SignalPipe) {
        self.master = master; self.child = child; self.relay = relay; self.recorder = recorder; self.signals = signals
    }

    /// Runs until the program is gone and its output drained, or the recorder fails closed.
    mutating func run() -> ChildStatus {
        var reaped: ChildStatus?
        var masterOpen = true
        while masterOpen {
            var fds = [
                pollfd(fd: master, events: Int16(POLLIN) | (pendingInput.isEmpty ? 0 : Int16(POLLOUT)), revents: 0),
                pollfd(fd: signals.readFD, events: Int16(POLLIN), revents: 0),
                pollfd(fd: inputOpen && pendingInput.count < 64 << 10 ? relay.input : -1, events: Int16(POLLIN), revents: 0),
            ]
            let n = poll(&fds, 3, 50)
            if n < 0 && errno != EINTR { break }
            if (try? recorder.tick()) == nil { return stopChild() }
            if fds[1].revents & Int16(POLLIN) != 0 { handleSignals() }
            if fds[2].revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 { if !readInput() { return stopChild() } }
            if fds[0].revents & Int16(POLLOUT) != 0 { flushInput() }
            if fds[0].revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 {
                switch readOutput() {
                case .more, .empty: break
                case .closed: masterOpen = false
                case .recorderFailed: return stopChild()
                }
            }
            if reaped == nil { reaped = reap(blocking: false) }
            if reaped != nil && fds[0].revents & Int16(POLLIN) == 0 {
                // The program is gone: take what is left in the terminal, then stop.
                while case .more = readOutput() {}
                masterOpen = false
            }
        }
        if recorder.failureReason != nil { return stopChild() }
        return reaped ?? reap(blocking: true) ?? ChildStatus(exited: false, exitStatus: 1, signal: nil)
    }

    private enum ReadResult { case more, empty, closed, recorderFailed }

    /// Reads what the program wrote, records it, then shows it. `.closed` when the terminal
    /// has no writer left (EIO), `.empty` when nothing is pending right now.
    private mutating func readOutput() -> ReadResult {
        let fd = master, recorder = recorder, out = relay.output
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 { return errno == EAGAIN || errno == EINTR ? .empty : .closed }
        if n == 0 { return .closed }
        let now = relay.clock.now()
        let ok: Bool = buffer.withUnsafeBytes { b in
            let chunk = UnsafeRawBufferPointer(rebasing: b[0..<n])
            do { try recorder.offer(kind: .output, time: now, data: chunk) } catch { return false }
            Self.writeAll(out, chunk)
            return true
        }
        return ok ? .more : .recorderFailed
    }

    /// Reads the user's keystrokes, records them (or only that they were masked), queues them.
    private mutating func readInput() -> Bool {
        let fd = relay.input
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { if n == 0 || (errno != EAGAIN && errno != EINTR) { inputOpen = false }; return true }
        var t = termios()
        // On Linux the master reports the termios of its slave: the program's own settings.
        let masked = tcgetattr(master, &t) == 0 && t.c_lflag & tcflag_t(ECHO) == 0 && t.c_lflag & tcflag_t(ICANON) != 0
        let now = relay.clock.now()
        do {
            if masked {
                try recorder.offer(kind: .maskedInput, time: now, data: UnsafeRawBufferPointer(start: nil, count: 0))
            } else {
                try buffer.withUnsafeBytes { try recorder.offer(kind: .input, time: now, data: UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            }
        } catch { return false }
        pendingInput.append(contentsOf: buffer[0..<n])
        flushInput()
        return true
    }

    private mutating func flushInput() {
        while !pendingInput.isEmpty {
            let w = pendingInput.withUnsafeBytes { write(master, $0.baseAddress, $0.count) }
            if w <= 0 { return }
            pendingInput.removeFirst(w)
        }
    }

    private func handleSignals() {
        var b = [UInt8](repeating: 0, count: 64)
        let n = read(signals.readFD, &b, b.count)
        guard n > 0 else { return }
        for s in Set(b[0..<n].map(Int32.init)) {
            if s == SIGWINCH {
                guard var ws = TerminalRelay.winsizeOf(relay.input) else { continue }
                _ = ioctl(master, UInt(TIOCSWINSZ), &ws)
                let text = Array("\(ws.ws_col)x\(ws.ws_row)".utf8)
                _ = try? text.withUnsafeBytes { try recorder.offer(kind: .resize, time: relay.clock.now(), data: $0) }
            } else {
                kill(-child, s)
            }
        }
    }

    private func reap(blocking: Bool) -> ChildStatus? {
        var st: Int32 = 0
        let r = waitpid(child, &st, blocking ? 0 : WNOHANG)
        guard r == child else { return nil }
        let sig = st & 0x7f
        if sig == 0 { return ChildStatus(exited: true, exitStatus: (st >> 8) & 0xff, signal: nil) }
        return ChildStatus(exited: false, exitStatus: 128 + sig, signal: sig)
    }

    /// Fail-closed end: hang up the program's session, then kill it if it lingers.
    private func stopChild() -> ChildStatus {
        kill(-child, SIGHUP); kill(child, SIGHUP)
        for _ in 0..<100 { if let s = reap(blocking: false) { return s }; usleep(10_000) }
        kill(-child, SIGKILL); kill(child, SIGKILL)
        return reap(blocking: true) ?? ChildStatus(exited: false, exitStatus: 128 + SIGKILL, signal: SIGKILL)
    }

    static func writeAll(_ fd: Int32, _ data: UnsafeRawBufferPointer) {
        var off = 0
        while off < data.count {
            let w = write(fd, data.baseAddress! + off, data.count - off)
            if w < 0 { if errno == EINTR || errno == EAGAIN { continue }; return }
            off += w
        }
    }
}
