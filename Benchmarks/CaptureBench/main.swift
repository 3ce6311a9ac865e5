// capture-bench: what recording costs. Prints a table, then one JSON object as the last line.
//
//   1. 500 MB of terminal output as fast as a command can write it, through `nis2ctl record`,
//      against the same command on a bare pseudo-terminal and under script(1); capture ratio
//      = output bytes in the verified export / bytes written.
//   2. 100,000 structured privileged actions per second for 30 s through the library
//      recorder; capture ratio = actions durable in the log and in the export / offered.
//   3. Keystroke-to-echo latency through `nis2ctl record -- cat` minus through `script -c cat`.
//   4. Peak RSS of the `nis2ctl record` process (ru_maxrss), and of one that records `true`.
//
// Environment: CAPTURE_BYTES (default 524288000), CAPTURE_EVENT_SECONDS (30),
// CAPTURE_EVENT_RATE (100000), NIS2CTL_PATH (default: next to this program),
// CAPTURE_ONLY=actions (only part 2: structured actions; prints its lines and a JSON object).
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
let actionsOnly = env["CAPTURE_ONLY"] == "actions"
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

func newStore(_ name: String) -> String {
    let s = work + "/" + name
    for argv in [[nis2ctl, "init", "--store", s], [nis2ctl, "tenant", "add", "--store", s, "--tenant", "bench"]] {
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
func actionLines(_ a: ActionResult) {
    print("actions offered / refused                \(a.offered) / \(a.refused) in \(f(a.seconds)) s (\(Int(Double(a.offered) / a.seconds))/s)")
    print("action capture ratio (log and export)    \(f(a.ratio * 100, 3)) % (log \(a.logged), export \(a.exported), durable \(a.durable))")
}
if actionsOnly {
    let a = try await structuredActions()
    print("capture-bench, structured actions only (\(eventRate) actions/s for \(Int(eventSeconds)) s)")
    actionLines(a)
    print(String(decoding: JCS.canonicalize(JSONValue.object([
        "bench": .string("capture-actions"), "actionsOffered": .number(Double(a.offered)),
        "actionsPerSecond": .number(Double(Int(Double(a.offered) / a.seconds))), "actionCaptureRatio": .number(a.ratio),
    ])), as: UTF8.self))
    try? FileManager.default.removeItem(atPath: work)
    exit(0)
}

// 1. Throughput.
let writer = "head -c \(totalBytes) /dev/zero | tr '\\0' x"
func timed(_ argv: [String]) -> (seconds: Double, bytes: Int, status: Int32, rssKiB: Int) {
    let t0 = now()
    let t = OnTerminal(argv)
    let n = t.drain()
    let (st, rss) = t.finish()
    return (now() - t0, n, st, rss)
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

// 3. Latency: one byte typed, time until its echo is back.
func echoLatencies(_ argv: [String], samples: Int = 1000) -> [Double] {
    let t = OnTerminal(argv)
    var buf = [UInt8](repeating: 0, count: 4096)
    // Let the program start and settle (banner, raw mode).
    let settle = now() + 1.0
    while now() < settle { var p = pollfd(fd: t.master, events: Int16(POLLIN), revents: 0); if poll(&p, 1, 50) > 0 { _ = read(t.master, &buf, buf.count) } }
    var out: [Double] = []
    for i in 0..<samples {
        var c = UInt8(0x61 + i % 26)
        let t0 = now()
        _ = write(t.master, &c, 1)
        var got = false
        while !got {
            var p = pollfd(fd: t.master, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 2000) > 0 else { break }
            let n = read(t.master, &buf, buf.count)
            if n > 0 && buf[0..<n].contains(c) { got = true }
        }
        if got { out.append(now() - t0) }
        usleep(2000)
    }
    var eof: UInt8 = 4; _ = write(t.master, &eof, 1); _ = write(t.master, &eof, 1)
    kill(t.pid, SIGHUP); _ = t.finish()
    return out.sorted()
}
func pct(_ v: [Double], _ p: Double) -> Double { v.isEmpty ? .nan : v[min(v.count - 1, Int(Double(v.count) * p))] }
let latStore = newStore("latency")
let viaScript = echoLatencies(["script", "-q", "-c", "cat", "/dev/null"])
let viaRecorder = echoLatencies([nis2ctl, "record", "--store", latStore, "--tenant", "bench", "--", "cat"])
let addedP50 = (pct(viaRecorder, 0.5) - pct(viaScript, 0.5)) * 1000
let addedP99 = (pct(viaRecorder, 0.99) - pct(viaScript, 0.99)) * 1000

let actions = try await structuredActions()
let offered = actions.offered, eventRatio = actions.ratio, producedSeconds = actions.seconds

print("capture-bench (\(totalBytes) bytes of output; \(eventRate) actions/s for \(Int(eventSeconds)) s)")
print("measure                                  value")
print("output, bare pseudo-terminal             \(f(mbps(bare.bytes, bare.seconds), 1)) MB/s (\(f(bare.seconds)) s)")
print("output, script(1)                        \(f(mbps(script.bytes, script.seconds), 1)) MB/s (\(f(script.seconds)) s)")
print("output, nis2ctl record                   \(f(mbps(recorded.bytes, recorded.seconds), 1)) MB/s (\(f(recorded.seconds)) s)")
print("throughput ratio record / bare           \(f(bare.seconds / recorded.seconds, 3))")
print("throughput ratio record / script(1)      \(f(script.seconds / recorded.seconds, 3))")
print("output capture ratio (verified export)   \(f(outputRatio * 100, 3)) % (\(exported.outputBytes) of \(totalBytes) bytes, \(exported.chunksVerified) chunks, export \(f(exportSeconds)) s)")
actionLines(actions)
print("echo latency script(1) p50 / p99         \(f(pct(viaScript, 0.5) * 1000, 3)) / \(f(pct(viaScript, 0.99) * 1000, 3)) ms (\(viaScript.count) samples)")
print("echo latency nis2ctl record p50 / p99    \(f(pct(viaRecorder, 0.5) * 1000, 3)) / \(f(pct(viaRecorder, 0.99) * 1000, 3)) ms (\(viaRecorder.count) samples)")
print("added echo latency p50 / p99             \(f(addedP50, 3)) / \(f(addedP99, 3)) ms (goal p99 < 2 ms)")
print("peak RSS nis2ctl record, 500 MB session  \(f(Double(recorded.rssKiB) / 1024)) MiB (goal <= 8 MiB)")
print("peak RSS nis2ctl record -- true          \(f(Double(idle.rssKiB) / 1024)) MiB (process baseline)")
let json: JSONValue = .object([
    "bench": .string("capture"), "outputBytes": .number(Double(totalBytes)),
    "bareMBps": .number((mbps(bare.bytes, bare.seconds) * 10).rounded() / 10),
    "scriptMBps": .number((mbps(script.bytes, script.seconds) * 10).rounded() / 10),
    "recordMBps": .number((mbps(recorded.bytes, recorded.seconds) * 10).rounded() / 10),
    "throughputRatioVsBare": .number((bare.seconds / recorded.seconds * 1000).rounded() / 1000),
    "throughputRatioVsScript": .number((script.seconds / recorded.seconds * 1000).rounded() / 1000),
    "outputCaptureRatio": .number(outputRatio), "actionsOffered": .number(Double(offered)),
    "actionsPerSecond": .number(Double(Int(Double(offered) / producedSeconds))), "actionCaptureRatio": .number(eventRatio),
    "addedEchoP50ms": .number((addedP50 * 1000).rounded() / 1000), "addedEchoP99ms": .number((addedP99 * 1000).rounded() / 1000),
    "peakRSSMiB": .number((Double(recorded.rssKiB) / 1024 * 100).rounded() / 100),
    "baselineRSSMiB": .number((Double(idle.rssKiB) / 1024 * 100).rounded() / 100),
])
print(String(decoding: JCS.canonicalize(json), as: UTF8.self))
