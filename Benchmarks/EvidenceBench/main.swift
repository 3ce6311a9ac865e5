import EvidenceCore
import EvidenceOpenSSL
import Foundation

// Evidence spine benchmark: ingest, payload ingest, verification versus GNU sha256sum, memory.
// Prints a table, then one JSON object as the last line.
// Scale with BENCH_RECORDS (default 50,000,000 records of 200 B, about 10 GB on disk)
// and BENCH_PAYLOAD_MIB (default 1024).

let env = ProcessInfo.processInfo.environment
let recordCount = Int(env["BENCH_RECORDS"] ?? "") ?? 50_000_000
let payloadMiB = Int(env["BENCH_PAYLOAD_MIB"] ?? "") ?? 1024
let workRoot = env["BENCH_DIR"] ?? NSTemporaryDirectory() + "evidence-bench-\(getpid())"
let backend = OpenSSLSHA256()

func now() -> Double { var t = timespec(); clock_gettime(CLOCK_MONOTONIC, &t); return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9 }
func peakRSSMiB() -> Double { var u = rusage(); getrusage(RUSAGE_SELF.rawValue, &u); return Double(u.ru_maxrss) / 1024 }
func currentRSSMiB() -> Double {
    guard let s = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8), let pages = Double(s.split(separator: " ")[1]) else { return 0 }
    return pages * Double(sysconf(Int32(_SC_PAGESIZE))) / 1048576
}
func run(_ cmd: String) -> (Double, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", cmd]
    let out = Pipe(); p.standardOutput = out
    let t0 = now()
    try! p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (now() - t0, String(decoding: data, as: UTF8.self))
}

try? FileManager.default.removeItem(atPath: workRoot)
try FileManager.default.createDirectory(atPath: workRoot, withIntermediateDirectories: true)
defer {
    _ = run("chmod -R u+w '\(workRoot)' && rm -rf '\(workRoot)'")
}

// 1. Ingest of 200-byte records, durable, group commit every <= 10 ms.
let logPath = workRoot + "/log"
var policy = GroupCommitPolicy()
if let b = env["BENCH_BATCH_KIB"].flatMap(Int.init) { policy.batchBytes = b << 10 }
if let m = env["BENCH_PENDING_KIB"].flatMap(Int.init) { policy.maxPendingBytes = m << 10 }
let writer = try LogWriter(directory: LogDirectory(path: logPath, backend: backend), origin: "bench/log", signer: nil, policy: policy)
let commits = Counter()
writer.onDurable { _ in commits.increment() }
var rec = [UInt8](repeating: UInt8(ascii: "x"), count: 200)
let baseRSS = currentRSSMiB()
var maxRSSDuringIngest = baseRSS
let t0 = now()
try rec.withUnsafeMutableBytes { buf in
    for i in 0..<recordCount {
        // Vary the first 8 bytes so every record is distinct.
        buf.storeBytes(of: UInt64(i).bigEndian, toByteOffset: 0, as: UInt64.self)
        try writer.append(UnsafeRawBufferPointer(buf))
        if i & 0xFFFFF == 0 { maxRSSDuringIngest = max(maxRSSDuringIngest, currentRSSMiB()) }
    }
}
try writer.sync()
let ingestSeconds = now() - t0
let (size, root) = writer.treeHead()
try writer.close()
let ingestRate = Double(recordCount) / ingestSeconds
let logBytes = Double(try FileManager.default.contentsOfDirectory(atPath: logPath).filter { $0.hasPrefix("seg-") }
    .map { (try FileManager.default.attributesOfItem(atPath: logPath + "/" + $0)[.size] as! NSNumber).doubleValue }.reduce(0, +))

// 2. Verification of the whole log versus sha256sum over the same segment files.
let dir = LogDirectory(path: logPath, backend: backend)
let t1 = now()
var verifiedRoot = Digest.zero
do {
    var c = CompactRange()
    var block = CompactRange()
    for seg in try dir.segments() {
        let scan = try SegmentScanner(backend: backend).scan(path: logPath + "/" + seg.name, expectedFirstIndex: seg.firstIndex) { _, _, leaf in
            block.append(leafHash: leaf, using: backend)
            if block.size == 256 { c.append(subtree: block.root(using: backend), height: 8, using: backend); block = CompactRange() }
            return true
        }
        precondition(scan.problem == nil)
    }
    verifiedRoot = c.root(extendedBy: block, using: backend)
}
let verifySeconds = now() - t1
precondition(verifiedRoot == root, "verification recomputed a different root")
let (shaSeconds, _) = run("cd '\(logPath)' && sha256sum seg-*.log > /dev/null")
let verifyMBps = logBytes / verifySeconds / 1e6
let shaMBps = logBytes / shaSeconds / 1e6

// 3. Payload ingest: recording chunks of 1 MiB as content-addressed objects, each cited by a record.
/// Stores `mib` chunks of 1 MiB as content-addressed objects, each cited by a log record; returns seconds.
nonisolated func ingestPayload(mib: Int, root: String) async throws -> Double {
    let objects = try LocalFolderWORMStore(root: root + "/objects", backend: backend, clock: SystemWallClock())
    let log = try LogWriter(directory: LogDirectory(path: root + "/payload-log", backend: backend), origin: "bench/payload", signer: nil)
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    for i in 0..<chunk.count { chunk[i] = UInt8(truncatingIfNeeded: i &* 2654435761 >> 13) }
    let retention = RetentionPolicy(retainUntil: Date().addingTimeInterval(86400))
    let start = now()
    for i in 0..<mib {
        chunk.withUnsafeMutableBytes { $0.storeBytes(of: UInt64(i), toByteOffset: 0, as: UInt64.self) }
        let info = try await objects.putContentAddressed(chunk, retention: retention, backend: backend)
        try log.append(Array("{\"chunk\":\(i),\"sha256\":\"\(info.sha256.hex)\",\"size\":\(info.size)}".utf8))
    }
    try log.sync()
    let seconds = now() - start
    try log.close()
    return seconds
}
let payloadSeconds = try await ingestPayload(mib: payloadMiB, root: workRoot)
let payloadMBps = Double(payloadMiB) * 1048576 / payloadSeconds / 1e6

let peak = peakRSSMiB()
func f(_ x: Double, _ d: Int = 1) -> String { String(format: "%.\(d)f", x) }
print("evidence spine benchmark (release build, \(ProcessInfo.processInfo.activeProcessorCount) cores)")
print("  metric                               value          reference")
print("  ingest, 200 B records, durable       \(f(ingestRate / 1e6, 2)) M rec/s   goal >= 1.00 M/s; \(recordCount) records, \(f(logBytes / 1e9, 2)) GB, \(commits.value) group commits (\(f(ingestSeconds * 1000 / Double(max(commits.value, 1)), 2)) ms apart)")
print("  verify (leaf + tree hashes)          \(f(verifyMBps)) MB/s     sha256sum \(f(shaMBps)) MB/s on the same files; ratio \(f(verifyMBps / shaMBps, 2)) (goal >= 0.9)")
print("  payload ingest, 1 MiB objects        \(f(payloadMBps)) MB/s     \(payloadMiB) MiB, each fsync'd + cited in the log")
print("  RSS during ingest                    \(f(maxRSSDuringIngest)) MiB      at start \(f(baseRSS)) MiB; peak for the whole run \(f(peak)) MiB (goal <= 64)")
print("  tree size \(size) root \(root.hex)")
let json: [String: JSONValue] = [
    "ingestRecordsPerSecond": .number(ingestRate.rounded()),
    "ingestPayloadMBps": .number((payloadMBps * 10).rounded() / 10),
    "verifyMBps": .number((verifyMBps * 10).rounded() / 10),
    "sha256sumMBps": .number((shaMBps * 10).rounded() / 10),
    "verifyVsSha256sum": .number((verifyMBps / shaMBps * 100).rounded() / 100),
    "peakRSSMiB": .number((peak * 10).rounded() / 10),
    "ingestRSSMiB": .number((maxRSSDuringIngest * 10).rounded() / 10),
    "records": .number(Double(recordCount)),
    "groupCommits": .number(Double(commits.value)),
]
print(String(decoding: JCS.canonicalize(.object(json)), as: UTF8.self))

/// A thread-safe counter for the durable callback.
final class Counter: @unchecked Sendable {
    // @unchecked: `n` is only read or written under `lock`.
    private let lock = NSLock()
    private var n = 0
    func increment() { lock.lock(); n += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return n }
}
