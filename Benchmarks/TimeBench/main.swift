// time-bench: time to the first NTS-authenticated sample, ours against `chronyd -Q` with NTS,
// both against the same local chrony NTS server in the same run; then per-query latency
// once cookies are held. Last line: one JSON object with the figures.
//
// Run from the package root (needs chrony and openssl):  swift run -c release time-bench [runs] [queries]
import EvidenceCore
import EvidenceNTS
import Foundation
#if canImport(Glibc)
import Glibc
#endif

let runs = CommandLine.arguments.count > 1 ? max(1, Int(CommandLine.arguments[1]) ?? 5) : 5
let queries = CommandLine.arguments.count > 2 ? max(10, Int(CommandLine.arguments[2]) ?? 500) : 500
let ntpPort: UInt16 = 11190, kePort: UInt16 = 14490
let root = FileManager.default.currentDirectoryPath
let script = root + "/scripts/peers/nts-server.sh"
let work = NSTemporaryDirectory() + "time-bench-\(getpid())"

func die(_ s: String) -> Never { FileHandle.standardError.write(Data(("time-bench: " + s + "\n").utf8)); exit(1) }

/// Runs a program with an empty signal mask; returns (status, combined output, seconds).
func run(_ argv: [String], env: [String: String] = [:]) -> (Int32, String, Double) {
    let log = work + "/out-\(UInt32.random(in: 0...UInt32.max)).log"
    var attr = posix_spawnattr_t(); posix_spawnattr_init(&attr); defer { posix_spawnattr_destroy(&attr) }
    var empty = sigset_t(); sigemptyset(&empty); posix_spawnattr_setsigmask(&attr, &empty)
    posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK))
    var fa = posix_spawn_file_actions_t(); posix_spawn_file_actions_init(&fa); defer { posix_spawn_file_actions_destroy(&fa) }
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_adddup2(&fa, 1, 2)
    var e = ProcessInfo.processInfo.environment
    for (k, v) in env { e[k] = v }
    let cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
    let cEnv: [UnsafeMutablePointer<CChar>?] = e.map { strdup("\($0)=\($1)") } + [nil]
    defer { cArgs.forEach { free($0) }; cEnv.forEach { free($0) } }
    var pid: pid_t = 0
    let t0 = Date()
    guard posix_spawnp(&pid, argv[0], &fa, &attr, cArgs, cEnv) == 0 else { die("cannot start \(argv[0])") }
    var st: Int32 = 0
    waitpid(pid, &st, 0)
    let secs = Date().timeIntervalSince(t0)
    return ((st >> 8) & 0xff, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "", secs)
}

func median(_ xs: [Double]) -> Double { let s = xs.sorted(); return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2 }

try? FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
let server = work + "/server"
let started = run([script, "start", server], env: ["NTP_PORT": "\(ntpPort)", "NTSKE_PORT": "\(kePort)"])
guard started.0 == 0 else { die("chrony NTS server did not start: \(started.1)") }
defer { _ = run([script, "stop", server]) }
let ca = server + "/ca.crt"
let config = NTSServerConfiguration(keServer: NetworkEndpoint(host: "127.0.0.1", port: kePort), trust: .caFile(ca))

// 1. Ours: fresh client each run (TLS + NTS-KE + one authenticated query).
var ours: [Double] = []
for _ in 0..<runs {
    let source = NTSTimeSource(servers: [config])
    let t0 = Date()
    do { _ = try await source.sample() } catch { die("NTS sample failed: \(error)") }
    ours.append(Date().timeIntervalSince(t0))
}

// 2. chronyd -Q with NTS against the same server: start to printed offset (its own iburst).
let clientConf = work + "/client.conf"
try? """
server 127.0.0.1 port \(ntpPort) nts ntsport \(kePort) iburst minpoll -6 maxpoll -6
ntstrustedcerts \(ca)
port 0
cmdport 0
bindcmdaddress \(work)/chronyc.sock
pidfile \(work)/chronyc.pid
user root

""".write(toFile: clientConf, atomically: true, encoding: .utf8)
var theirs: [Double] = []
for _ in 0..<runs {
    let r = run(["chronyd", "-x", "-Q", "-f", clientConf])
    guard r.0 == 0, r.1.contains("System clock wrong by") else { die("chronyd -Q did not report an offset: \(r.1)") }
    theirs.append(r.2)
}

// 3. Per-query latency with cookies held (no NTS-KE in the loop).
let warm = NTSTimeSource(servers: [config])
_ = try await warm.sample()
var lat: [Double] = []
for _ in 0..<queries {
    let t0 = Date()
    _ = try await warm.measure(server: 0)
    lat.append(Date().timeIntervalSince(t0))
}
let stats = await warm.statistics()[0]

let oursMs = median(ours) * 1000, theirsMs = median(theirs) * 1000, latUs = median(lat) * 1e6
let ratio = oursMs / theirsMs
func f(_ x: Double, _ d: Int = 2) -> String { String(format: "%.\(d)f", x) }
print("time-bench: local chrony 4.3 NTS server on 127.0.0.1 (NTS-KE \(kePort), NTP \(ntpPort)), \(runs) runs, median")
print("")
print("measure                                      | ours          | chronyd -Q    | ratio")
print("---------------------------------------------|---------------|---------------|------")
print("first authenticated sample (fresh NTS-KE)    | \(f(oursMs).padding(toLength: 10, withPad: " ", startingAt: 0)) ms | \(f(theirsMs).padding(toLength: 10, withPad: " ", startingAt: 0)) ms | \(f(ratio, 3))")
print("query latency, cookies held (\(queries) queries)    | \(f(latUs, 1).padding(toLength: 10, withPad: " ", startingAt: 0)) us |               |")
print("")
print("ours: min \(f(ours.min()! * 1000)) / max \(f(ours.max()! * 1000)) ms; chronyd -Q: min \(f(theirs.min()! * 1000)) / max \(f(theirs.max()! * 1000)) ms (process start to printed offset; chronyd collects an iburst before it answers)")
print("latency p90 \(f(lat.sorted()[lat.count * 9 / 10] * 1e6, 1)) us; key exchanges during the latency loop: \(stats.keyExchanges) (1 = cookies reused throughout)")
print("{\"ntsFirstSampleMs\":\(f(oursMs, 3)),\"chronydFirstSampleMs\":\(f(theirsMs, 3)),\"ntsVsChronyd\":\(f(ratio, 4)),\"ntsQueryLatencyUs\":\(f(latUs, 1))}")
