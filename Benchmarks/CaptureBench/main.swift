// capture-bench: what recording costs. Prints a table, then one JSON object as the last line.
//
//   latency  Keystroke-to-echo latency through `nis2ctl record -- cat` and through
//            `script -c cat`, sampled alternately (one keystroke to each in turn) so that
//            background load hits both alike; added = recorder minus script(1), p50 and p99.
//   memory   16 `nis2ctl record` sessions at once, each relaying 32 MB of output: peak of
//            the summed proportional set size (PSS: private pages plus each shared library
//            page divided among the processes mapping it) / 16 = memory per session; also
//            the peak private (anonymous) memory of one recording process and its whole RSS.
//   output   500 MB of terminal output as fast as a command can write it, through
//            `nis2ctl record`, against the same command on a bare pseudo-terminal and under
//            script(1); capture ratio = output bytes in the verified export / bytes written.
//   actions  100,000 structured privileged actions per second for 30 s through the library
//            recorder; capture ratio = actions durable in the log and in the export / offered.
//
// Environment: CAPTURE_ONLY (comma-separated parts, default latency,memory,output,actions),
// CAPTURE_BYTES (524288000), CAPTURE_EVENT_SECONDS (30), CAPTURE_EVENT_RATE (100000),
// CAPTURE_SESSIONS (16), CAPTURE_ECHO_SAMPLES (2000), NIS2CTL_PATH (default: next to this program).
import CPTY
import EvidenceCore
import EvidenceOpenSSL
import Foundation
#if canImport(Glibc)
import Glibc
#endif

let env = ProcessInfo.processInfo.environment
let totalBytes = Int(env["CAPTURE_BYTES"] ?? "") ?? 524_288_000
let eventSeconds = Double(env["CAPTURE_EVENT_SECONDS"] ?? "") ?? 30
let eventRate = Int(env["CAPTURE_EVENT_RATE"] ?? "") ?? 100_000
let nis2ctl = env["NIS2CTL_PATH"] ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("nis2ctl").path
guard FileManager.default.isExecutableFile(atPath: nis2ctl) else { fatalError("nis2ctl not found at \(nis2ctl); build it (swift build -c release) or set NIS2CTL_PATH") }
let parts = Set((env["CAPTURE_ONLY"] ?? "latency,memory,output,actions").split(separator: ",").map { String($0) })
let sessions = Int(env["CAPTURE_SESSIONS"] ?? "") ?? 16
let echoSamples = Int(env["CAPTURE_ECHO_SAMPLES"] ?? "") ?? 2000
let work = NSTemporaryDirectory() + "capture-bench-\(getpid())"
try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
defer {
    _ = try? FileManager.default.subpathsOfDirectory(atPath: work).forEach { chmod(work + "/" + $0, 0o755) }
    try? FileManager.default.removeItem(atPath: work)
}

func now() -> Double { var t = timespec(); clock_gettime(CLOCK_MONOTONIC, &t); return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9 }

/// A program on a pseudo-terminal the benchmark holds the master of (it plays the user).
struct OnTerminal {
    let master: Int32
    let pid: pid_t
    init(_ argv: [String]) {
        var slave = [CChar](repeating: 0, count: 256)
        master = cpty_open_master(&slave, slave.count)
        precondition(master >= 0, "no pseudo-terminal")
        var ws = winsize(ws_row: 40, ws_col: 120, ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(master, UInt(TIOCSWINSZ), &ws)
        let cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        var p: pid_t = 0
        let rc = cpty_spawn(&p, slave, cArgs, environ)
        precondition(rc == 0, "cannot start \(argv[0]): \(String(cString: strerror(rc)))")
        pid = p
    }

    /// Reads (and drops) everything until the terminal closes; returns bytes read.
    func drain() -> Int {
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        var total = 0
        while true {
            let n = read(master, &buf, buf.count)
            if n > 0 { total += n; continue }
            if n < 0 && errno == EINTR { continue }
            return total
        }
    }

    /// Waits for the program; returns (exit status, peak RSS in KiB).
    func finish() -> (Int32, Int) {
        var st: Int32 = 0
        var ru = rusage()
        _ = wait4(pid, &st, 0, &ru)
        close(master)
        return ((st >> 8) & 0xff, Int(ru.ru_maxrss))
    }
}

func newStore(_ name: String, tenants: [String] = ["bench"]) -> String {
    let s = work + "/" + name
    for argv in [[nis2ctl, "init", "--store", s]] + tenants.map({ [nis2ctl, "tenant", "add", "--store", s, "--tenant", $0] }) {
        let t = OnTerminal(argv); _ = t.drain(); precondition(t.finish().0 == 0, "\(argv) failed")
    }
    return s
}

func mbps(_ bytes: Int, _ s: Double) -> Double { Double(bytes) / s / 1e6 }
func f(_ d: Double, _ p: Int = 2) -> String { String(format: "%.\(p)f", d) }

// 2. Structured events through the library recorder.
struct ActionResult { var offered: Int; var refused: Int; var seconds: Double; var ratio: Double; var logged: Int; var exported: Int; var durable: UInt64 }
func structuredActions() async throws -> ActionResult {
    let evStore = newStore("events")
    let events = try EvidenceStore(at: evStore, backend: OpenSSLSHA256(), signer: nil, clock: SystemWallClock())
    let tenant = try TenantID("bench")
    let recorder = try await SessionRecorder.start(try SessionDescriptor(id: "actions", tenant: tenant, principal: "bench#producer", grantID: "g-bench", target: "bench"), in: events)
    let evStart = now()
    let target = Int(Double(eventRate) * eventSeconds)
    var offered = 0
    var refused = 0
    let clock = SystemWallClock()
    while offered < target {
        let due = min(target, Int((now() - evStart) * Double(eventRate)) + 1)
        while offered < due {
            let detail = Array("{\"argv\":[\"systemctl\",\"restart\",\"svc-\(offered % 97)\"],\"n\":\(offered)}".utf8)
            do { try detail.withUnsafeBytes { try recorder.offer(kind: .command, time: clock.now(), data: $0) } } catch { refused += 1 }
            offered += 1
        }
        if offered < target { usleep(500) }
    }
    let producedSeconds = now() - evStart
    let evSummary = try await recorder.finish(SessionEnding(exitStatus: 0))
    try events.close()
    let listed = try SessionRecordings.session("actions", in: events, tenant: tenant)
    let evExport = try await SessionRecordings.exportAsciicast("actions", from: events, tenant: tenant) { _ in }
    let eventRatio = Double(min(listed.actions, Int(evExport.actions), Int(evSummary.durableEvents))) / Double(offered)
    return ActionResult(offered: offered, refused: refused, seconds: producedSeconds, ratio: eventRatio, logged: listed.actions, exported: Int(evExport.actions), durable: evSummary.durableEvents)
}

/// Peak memory of running processes, sampled every 20 ms from /proc on its own thread.
final class MemorySampler: @unchecked Sendable {
    // @unchecked: the fields are written by the sampling thread and read after `stop()` joins it.
    private let pids: [pid_t]
    private var running = true
    private let done = DispatchSemaphore(value: 0)
    private(set) var peakPssSumKiB = 0
    private(set) var peakAnonKiB = 0
    /// The largest VmHWM seen: the peak RSS of a process since it started its program. (Its
    /// ru_maxrss after wait4 is no use here: Linux counts the memory the process shared with
    /// this one between posix_spawn and exec.)
    private(set) var peakHWMKiB = 0
    private let lock = NSLock()

    init(_ pids: [pid_t]) {
        self.pids = pids
        Thread { [self] in
            while lock.withLock({ running }) {
                var pss = 0, alive = 0
                for pid in pids {
                    guard let rollup = try? String(contentsOfFile: "/proc/\(pid)/smaps_rollup", encoding: .utf8),
                          let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { continue }
                    alive += 1
                    pss += Self.field("Pss:", in: rollup)
                    peakAnonKiB = max(peakAnonKiB, Self.field("RssAnon:", in: status))
                    peakHWMKiB = max(peakHWMKiB, Self.field("VmHWM:", in: status))
                }
                if alive == pids.count { peakPssSumKiB = max(peakPssSumKiB, pss) }
                usleep(20_000)
            }
            done.signal()
        }.start()
    }

    func stop() { lock.withLock { running = false }; done.wait() }

    static func field(_ name: String, in text: String) -> Int {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name) }) else { return 0 }
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }
}

/// One keystroke to `t`, the time until its echo is back (nil after 2 s without it).
func echoOnce(_ t: OnTerminal, _ c: UInt8, _ buf: inout [UInt8]) -> Double? {
    var c = c
    let t0 = now()
    _ = write(t.master, &c, 1)
    while true {
        var p = pollfd(fd: t.master, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, 2000) > 0 else { return nil }
        let n = read(t.master, &buf, buf.count)
        guard n > 0 else { return nil }
        if buf[0..<n].contains(c) { return now() - t0 }
    }
}

/// Echo latencies through script(1) and through the recorder, one keystroke to each in turn.
func echoLatencies(samples: Int) -> (script: [Double], recorder: [Double]) {
    let store = newStore("latency")
    let terms = [OnTerminal(["script", "-q", "-c", "cat", "/dev/null"]),
                 OnTerminal([nis2ctl, "record", "--store", store, "--tenant", "bench", "--session", "echo", "--", "cat"])]
    var buf = [UInt8](repeating: 0, count: 4096)
    // Let both programs start and settle (banner, raw mode).
    let settle = now() + 1.0
    while now() < settle {
        for t in terms { var p = pollfd(fd: t.master, events: Int16(POLLIN), revents: 0); if poll(&p, 1, 20) > 0 { _ = read(t.master, &buf, buf.count) } }
    }
    var out: [[Double]] = [[], []]
    for i in 0..<samples {
        for (k, t) in terms.enumerated() {
            if let d = echoOnce(t, UInt8(0x61 + i % 26), &buf) { out[k].append(d) }
            usleep(1000)
        }
    }
    for t in terms {
        var eof: UInt8 = 4; _ = write(t.master, &eof, 1); _ = write(t.master, &eof, 1)
        kill(t.pid, SIGHUP); _ = t.finish()
    }
    return (out[0].sorted(), out[1].sorted())
}
func pct(_ v: [Double], _ p: Double) -> Double { v.isEmpty ? .nan : v[min(v.count - 1, Int(Double(v.count) * p))] }
func ms(_ s: Double) -> Double { (s * 1_000_000).rounded() / 1000 }

var lines: [String] = []
var figures: [String: JSONValue] = ["bench": .string("capture")]
@MainActor func add(_ label: String, _ value: String) { lines.append(label.padding(toLength: 44, withPad: " ", startingAt: 0) + value) }

if parts.contains("latency") {
    let (viaScript, viaRecorder) = echoLatencies(samples: echoSamples)
    let addedP50 = pct(viaRecorder, 0.5) - pct(viaScript, 0.5), addedP99 = pct(viaRecorder, 0.99) - pct(viaScript, 0.99)
    add("echo latency script(1) p50 / p99", "\(f(ms(pct(viaScript, 0.5)), 3)) / \(f(ms(pct(viaScript, 0.99)), 3)) ms (\(viaScript.count) samples)")
    add("echo latency nis2ctl record p50 / p99", "\(f(ms(pct(viaRecorder, 0.5)), 3)) / \(f(ms(pct(viaRecorder, 0.99)), 3)) ms (\(viaRecorder.count) samples, alternating with script(1))")
    add("added echo latency p50 / p99", "\(f(ms(addedP50), 3)) / \(f(ms(addedP99), 3)) ms (goal p99 < 2 ms)")
    figures["echoScriptP99ms"] = .number(ms(pct(viaScript, 0.99)))
    figures["echoRecorderP99ms"] = .number(ms(pct(viaRecorder, 0.99)))
    figures["addedEchoP50ms"] = .number(ms(addedP50))
    figures["addedEchoP99ms"] = .number(ms(addedP99))
    figures["echoSamples"] = .number(Double(min(viaScript.count, viaRecorder.count)))
}

/// Reads every terminal to its end on a thread each, waits for all, and stops the benchmark
/// (exit 1, naming `what`) unless every program exited 0 after at least `each` bytes.
func drainAll(_ terms: [OnTerminal], each: Int, what: String) -> Int {
    final class Tally: @unchecked Sendable {
        // @unchecked: every field is read and written under `lock`.
        let lock = NSLock(); var relayed: [Int] = [], failed = 0
    }
    let tally = Tally()
    let drained = DispatchGroup()
    for t in terms {
        drained.enter()
        Thread {
            let n = t.drain()
            let (st, _) = t.finish()
            tally.lock.withLock { tally.relayed.append(n); if st != 0 { tally.failed += 1 } }
            drained.leave()
        }.start()
    }
    drained.wait()
    if tally.failed != 0 || tally.relayed.contains(where: { $0 < each }) {
        FileHandle.standardError.write(Data("capture-bench: \(tally.failed) of \(terms.count) \(what) failed; bytes relayed: \(tally.relayed)\n".utf8))
        exit(1)
    }
    return tally.relayed.reduce(0, +)
}

if parts.contains("memory") {
    // (a) One `nis2ctl record` process per session, as a jump host's login wrapper runs them.
    // A tenant's log has one writer at a time, so each process records for its own tenant.
    let tenants = (0..<sessions).map { "bench-\($0)" }
    let store = newStore("memory", tenants: tenants)
    let each = 32 << 20
    let writerEach = "head -c \(each) /dev/zero | tr '\\0' x"
    let terms = tenants.map { t in
        OnTerminal([nis2ctl, "record", "--store", store, "--tenant", t, "--session", "m", "--", "sh", "-c", writerEach])
    }
    let sampler = MemorySampler(terms.map(\.pid))
    let relayed = drainAll(terms, each: each, what: "concurrent recording sessions")
    sampler.stop()
    let perSession = Double(sampler.peakPssSumKiB) / Double(sessions) / 1024
    add("memory per session, \(sessions) processes (PSS)", "\(f(perSession)) MiB (goal <= 8 MiB; peak summed PSS \(f(Double(sampler.peakPssSumKiB) / 1024)) MiB, \(relayed / 1_000_000) MB relayed)")
    add("private memory of one session, peak", "\(f(Double(sampler.peakAnonKiB) / 1024)) MiB (RssAnon of the busiest recording process)")
    add("RSS of one recording process, peak", "\(f(Double(sampler.peakHWMKiB) / 1024)) MiB (VmHWM; includes shared library pages)")
    figures["sessionsAtOnce"] = .number(Double(sessions))
    figures["perSessionPSSMiB"] = .number((perSession * 100).rounded() / 100)
    figures["sessionPrivatePeakMiB"] = .number((Double(sampler.peakAnonKiB) / 1024 * 100).rounded() / 100)
    figures["recordProcessPeakRSSMiB"] = .number((Double(sampler.peakHWMKiB) / 1024 * 100).rounded() / 100)

    // (c) A jump host: the same number of `nis2ctl record --recorder` relays, all of one
    // tenant, through one `nis2ctl recorder serve`: summed PSS of the relays and the service.
    let serviceStore = newStore("service")
    let socketPath = work + "/rec.sock"
    let service = OnTerminal([nis2ctl, "recorder", "serve", "--store", serviceStore, "--socket", socketPath])
    let serviceOutput = Thread { _ = service.drain() }
    serviceOutput.start()
    for _ in 0..<200 where !FileManager.default.fileExists(atPath: socketPath) { usleep(25_000) }
    let relays = (0..<sessions).map { i in
        OnTerminal([nis2ctl, "record", "--recorder", socketPath, "--tenant", "bench", "--session", "j-\(i)", "--", "sh", "-c", writerEach])
    }
    let jumpSampler = MemorySampler(relays.map(\.pid) + [service.pid])
    _ = drainAll(relays, each: each, what: "relays through the recorder service")
    jumpSampler.stop()
    kill(service.pid, SIGTERM)
    _ = service.finish()
    let perJumpSession = Double(jumpSampler.peakPssSumKiB) / Double(sessions) / 1024
    add("memory per session, \(sessions) relays + service", "\(f(perJumpSession)) MiB (goal <= 8 MiB; one tenant through 'recorder serve'; peak summed PSS \(f(Double(jumpSampler.peakPssSumKiB) / 1024)) MiB)")
    figures["perSessionViaServiceMiB"] = .number((perJumpSession * 100).rounded() / 100)

    // (b) The same number of sessions of one tenant inside one host process (a gateway linking
    // the library): RSS growth over the process before the sessions, per session.
    let gatewayStore = newStore("gateway")
    let opened = try EvidenceStore(at: gatewayStore, backend: OpenSSLSHA256(), signer: nil, clock: SystemWallClock())
    let tenant = try TenantID("bench")
    _ = try opened.writer(for: tenant)   // the tenant's log is open before the baseline, as in a running gateway
    let before = MemorySampler.field("VmRSS:", in: (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? "")
    _ = try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)   // resets VmHWM
    var recorders: [SessionRecorder] = []
    for i in 0..<sessions {
        recorders.append(try await SessionRecorder.start(try SessionDescriptor(id: "g-\(i)", tenant: tenant, principal: "bench#admin-\(i)", target: "host-\(i)"), in: opened))
    }
    let fed = DispatchGroup()
    final class Failures: @unchecked Sendable { let lock = NSLock(); var count = 0 }
    let failures = Failures()
    for r in recorders {
        fed.enter()
        Thread {
            // A relay's reads: 4 KiB of output at a time, as fast as the recorder takes them.
            let block = [UInt8](repeating: 0x78, count: 4096)
            let clock = SystemWallClock()
            do { for _ in 0..<(each / 4096) { try block.withUnsafeBytes { try r.offer(kind: .output, time: clock.now(), data: $0) } } }
            catch { failures.lock.withLock { failures.count += 1 } }
            fed.leave()
        }.start()
    }
    fed.wait()
    var gatewayDurable: UInt64 = 0
    for r in recorders { gatewayDurable += try await r.finish(SessionEnding(exitStatus: 0)).durableEvents }
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    let peak = MemorySampler.field("VmHWM:", in: status)
    try opened.close()
    if failures.count != 0 || gatewayDurable != UInt64(sessions * (each / 4096)) {
        FileHandle.standardError.write(Data("capture-bench: in-process sessions: \(failures.count) failed, \(gatewayDurable) of \(sessions * (each / 4096)) events durable\n".utf8))
        exit(1)
    }
    let perGatewaySession = Double(max(0, peak - before)) / Double(sessions) / 1024
    add("memory per session, \(sessions) in one process", "\(f(perGatewaySession)) MiB (goal <= 8 MiB; peak RSS \(f(Double(peak) / 1024)) MiB over \(f(Double(before) / 1024)) MiB before, one tenant, \(gatewayDurable) events durable)")
    figures["perSessionInProcessMiB"] = .number((perGatewaySession * 100).rounded() / 100)
}

if parts.contains("output") {
    let writer = "head -c \(totalBytes) /dev/zero | tr '\\0' x"
    func timed(_ argv: [String]) -> (seconds: Double, bytes: Int, status: Int32, rssKiB: Int) {
        let t0 = now()
        let t = OnTerminal(argv)
        let sampler = MemorySampler([t.pid])
        let n = t.drain()
        sampler.stop()
        let (st, _) = t.finish()
        return (now() - t0, n, st, sampler.peakHWMKiB)
    }
    let bare = timed(["sh", "-c", writer])
    let script = timed(["script", "-q", "-c", writer, "/dev/null"])
    let store = newStore("throughput")
    let recorded = timed([nis2ctl, "record", "--store", store, "--tenant", "bench", "--session", "bulk", "--", "sh", "-c", writer])
    precondition(recorded.status == 0, "nis2ctl record exited \(recorded.status)")
    let idle = timed([nis2ctl, "record", "--store", store, "--tenant", "bench", "--session", "idle", "--", "true"])

    let opened = try EvidenceStore(at: store, backend: OpenSSLSHA256(), signer: nil, clock: SystemWallClock())
    let exportStart = now()
    let exported = try await SessionRecordings.exportAsciicast("bulk", from: opened, tenant: try TenantID("bench")) { _ in }
    let exportSeconds = now() - exportStart
    let outputRatio = Double(exported.outputBytes) / Double(totalBytes)

    add("output, bare pseudo-terminal", "\(f(mbps(bare.bytes, bare.seconds), 1)) MB/s (\(f(bare.seconds)) s)")
    add("output, script(1)", "\(f(mbps(script.bytes, script.seconds), 1)) MB/s (\(f(script.seconds)) s)")
    add("output, nis2ctl record", "\(f(mbps(recorded.bytes, recorded.seconds), 1)) MB/s (\(f(recorded.seconds)) s)")
    add("throughput ratio record / bare", f(bare.seconds / recorded.seconds, 3))
    add("throughput ratio record / script(1)", f(script.seconds / recorded.seconds, 3))
    add("output capture ratio (verified export)", "\(f(outputRatio * 100, 3)) % (\(exported.outputBytes) of \(totalBytes) bytes, \(exported.chunksVerified) chunks, export \(f(exportSeconds)) s)")
    add("peak RSS nis2ctl record, \(totalBytes / 1_000_000) MB session", "\(f(Double(recorded.rssKiB) / 1024)) MiB (VmHWM, shared libraries included)")
    add("peak RSS nis2ctl record -- true", "\(f(Double(idle.rssKiB) / 1024)) MiB (process baseline)")
    figures["outputBytes"] = .number(Double(totalBytes))
    figures["bareMBps"] = .number((mbps(bare.bytes, bare.seconds) * 10).rounded() / 10)
    figures["scriptMBps"] = .number((mbps(script.bytes, script.seconds) * 10).rounded() / 10)
    figures["recordMBps"] = .number((mbps(recorded.bytes, recorded.seconds) * 10).rounded() / 10)
    figures["throughputRatioVsBare"] = .number((bare.seconds / recorded.seconds * 1000).rounded() / 1000)
    figures["throughputRatioVsScript"] = .number((script.seconds / recorded.seconds * 1000).rounded() / 1000)
    figures["outputCaptureRatio"] = .number(outputRatio)
    figures["peakRSSMiB"] = .number((Double(recorded.rssKiB) / 1024 * 100).rounded() / 100)
    figures["baselineRSSMiB"] = .number((Double(idle.rssKiB) / 1024 * 100).rounded() / 100)
}

if parts.contains("actions") {
    let a = try await structuredActions()
    add("actions offered / refused", "\(a.offered) / \(a.refused) in \(f(a.seconds)) s (\(Int(Double(a.offered) / a.seconds))/s)")
    add("action capture ratio (log and export)", "\(f(a.ratio * 100, 3)) % (log \(a.logged), export \(a.exported), durable \(a.durable))")
    figures["actionsOffered"] = .number(Double(a.offered))
    figures["actionsPerSecond"] = .number(Double(Int(Double(a.offered) / a.seconds)))
    figures["actionCaptureRatio"] = .number(a.ratio)
}

print("capture-bench (parts: \(parts.sorted().joined(separator: ",")); \(totalBytes) bytes of output; \(eventRate) actions/s for \(Int(eventSeconds)) s)")
print("measure".padding(toLength: 44, withPad: " ", startingAt: 0) + "value")
lines.forEach { print($0) }
print(String(decoding: JCS.canonicalize(JSONValue.object(figures)), as: UTF8.self))
