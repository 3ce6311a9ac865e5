// s3-bench: upload a 1 GiB recording to a local SeaweedFS (Object Lock, authentication on)
// with the S3 WORM store's multipart upload, then the same file with boto3 `upload_file`
// on the same server in the same run. Prints a table and, last, one JSON line.
//
// Env: S3_BENCH_SIZE_MIB (1024), S3_BENCH_PART_MIB (8), S3_BENCH_CONCURRENCY (8),
//      S3_BENCH_DIR (/tmp/s3-bench-PID), WEED_PORT_BASE (18533).
import EvidenceCore
import EvidenceOpenSSL
import EvidenceS3
import Foundation
#if canImport(Glibc)
import Glibc
#endif

let env = ProcessInfo.processInfo.environment
let sizeMiB = Int(env["S3_BENCH_SIZE_MIB"] ?? "") ?? 1024
let partMiB = Int(env["S3_BENCH_PART_MIB"] ?? "") ?? 8
let concurrency = Int(env["S3_BENCH_CONCURRENCY"] ?? "") ?? 8
let portBase = Int(env["WEED_PORT_BASE"] ?? "") ?? 18533
let workDir = env["S3_BENCH_DIR"] ?? "/tmp/s3-bench-\(getpid())"
let root: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()
let accessKey = "AKIATESTKEY000000001", secretKey = "testsecret/ABCDEFGHIJKLMNOPQRSTUVWXYZ01"
let endpoint = "http://127.0.0.1:\(portBase + 6)"

/// Runs a program to completion with an empty signal mask (so a server it leaves behind can
/// be stopped with SIGTERM); returns its exit status.
func run(_ argv: [String], extraEnv: [String] = [], stdoutPath: String) -> Int32 {
    var attr = posix_spawnattr_t()
    posix_spawnattr_init(&attr); defer { posix_spawnattr_destroy(&attr) }
    var empty = sigset_t(); sigemptyset(&empty)
    posix_spawnattr_setsigmask(&attr, &empty)
    posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK))
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions); defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    let vars = env.map { "\($0.key)=\($0.value)" } + extraEnv
    let cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
    let cEnv: [UnsafeMutablePointer<CChar>?] = vars.map { strdup($0) } + [nil]
    defer { cArgs.forEach { free($0) }; cEnv.forEach { free($0) } }
    var pid: pid_t = 0
    guard posix_spawn(&pid, argv[0], &actions, &attr, cArgs, cEnv) == 0 else { return 127 }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    return (status >> 8) & 0xff
}

func peakRSSMiB() -> Double {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
    return (Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) / 1024
}

/// User + system CPU seconds of this process (`RUSAGE_SELF`) or of its waited-for children.
func cpuSeconds(_ who: Int32) -> Double {
    var u = rusage()
    getrusage(__rusage_who_t(who), &u)
    func s(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
    return s(u.ru_utime) + s(u.ru_stime)
}

/// Reports, stops the server this run started (exit skips `defer`, and a server left running
/// would answer the next run's start on the same ports from a deleted data directory) and exits.
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("s3-bench: \(message)\n".utf8))
    _ = run(["/bin/bash", root + "/scripts/peers/seaweedfs.sh", "stop", workDir + "/weed"], stdoutPath: "/dev/null")
    try? FileManager.default.removeItem(atPath: workDir)
    exit(1)
}

// 1. The peer.
try? FileManager.default.removeItem(atPath: workDir)
try FileManager.default.createDirectory(atPath: workDir, withIntermediateDirectories: true)
let script = root + "/scripts/peers/seaweedfs.sh"
guard run(["/bin/bash", script, "start", workDir + "/weed"], extraEnv: ["WEED_PORT_BASE=\(portBase)"], stdoutPath: workDir + "/endpoint") == 0 else {
    fail("SeaweedFS did not start; see \(workDir)/weed/weed.log")
}
defer {
    _ = run(["/bin/bash", script, "stop", workDir + "/weed"], stdoutPath: "/dev/null")
    try? FileManager.default.removeItem(atPath: workDir)
}

// 2. The recording: deterministic pseudo-random bytes, written in 1 MiB blocks.
let filePath = workDir + "/recording.cast"
do {
    guard FileManager.default.createFile(atPath: filePath, contents: nil), let out = FileHandle(forWritingAtPath: filePath) else { fail("cannot create \(filePath)") }
    var block = [UInt8](repeating: 0, count: 1 << 20)
    var x: UInt64 = 0x9E37_79B9_7F4A_7C15
    for _ in 0..<sizeMiB {
        block.withUnsafeMutableBytes { raw in
            let words = raw.bindMemory(to: UInt64.self)
            for i in 0..<words.count { x ^= x << 13; x ^= x >> 7; x ^= x << 17; words[i] = x }
        }
        out.write(Data(block))
    }
    try out.close()
}
let bytes = Double(sizeMiB) * 1_048_576

// 3. Our upload.
let bucket = "bench-\(getpid())"
let config = try S3Configuration(endpoint: URL(string: endpoint)!, bucket: bucket, region: "us-east-1",
                                 credentials: try S3Credentials(accessKeyID: accessKey, secretAccessKey: secretKey),
                                 multipartPartSize: partMiB << 20, multipartConcurrency: concurrency)
let admin = S3Client(configuration: config)
try await admin.expectSuccess(method: "PUT", objectKey: nil, headers: ["x-amz-bucket-object-lock-enabled": "true"], what: "creating the bench bucket")
let retention = RetentionPolicy(mode: .compliance, retainUntil: Date().addingTimeInterval(600))

/// Uploads the recording under `key` with `transport`; returns (seconds, peak RSS after,
/// CPU seconds of this process during the upload).
func upload(_ key: String, transport: any S3HTTPTransport) async throws -> (Double, Double, StoredObjectInfo, Double) {
    let store = try await S3ObjectLockStore.open(config, transport: transport)
    let cpu0 = cpuSeconds(RUSAGE_SELF.rawValue)
    let t0 = Date()
    let info = try await store.uploadFile(at: filePath, key: key, retention: retention)
    let seconds = Date().timeIntervalSince(t0)
    let cpu = cpuSeconds(RUSAGE_SELF.rawValue) - cpu0
    let rss = peakRSSMiB()
    try await store.verify(info)
    return (seconds, rss, info, cpu)
}
// 4. boto3 upload_file of the same file to the same server, same lock mode and SHA-256 checksums.
let python = """
import boto3, botocore, datetime, sys, time
from boto3.s3.transfer import TransferConfig
s3 = boto3.client("s3", endpoint_url=sys.argv[1], aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3],
                  region_name="us-east-1", config=botocore.config.Config(s3={"addressing_style": "path"}))
until = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=600)
t = time.perf_counter()
s3.upload_file(sys.argv[4], sys.argv[5], sys.argv[6], Config=TransferConfig(),
               ExtraArgs={"ObjectLockMode": "COMPLIANCE", "ObjectLockRetainUntilDate": until, "ChecksumAlgorithm": "SHA256"})
print(time.perf_counter() - t)
"""
try python.write(toFile: workDir + "/boto3_upload.py", atomically: true, encoding: .utf8)

/// boto3 `upload_file` of the recording under `key`: (seconds it reports, CPU seconds of the
/// interpreter, its start and imports included).
func botoUpload(_ key: String) -> (Double, Double) {
    let cpu0 = cpuSeconds(RUSAGE_CHILDREN.rawValue)
    guard run([root + "/.venv/bin/python", workDir + "/boto3_upload.py", endpoint, accessKey, secretKey, filePath, bucket, key],
              stdoutPath: workDir + "/boto3.out") == 0,
          let seconds = Double(((try? String(contentsOfFile: workDir + "/boto3.out", encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)) else {
        fail("boto3 upload of \(key) failed (its error is above; is boto3 in \(root)/.venv?)")
    }
    return (seconds, cpuSeconds(RUSAGE_CHILDREN.rawValue) - cpu0)
}

// The loopback client first: peak RSS only grows, so its figure is not inflated by the other.
let rssBefore = peakRSSMiB()
let (loopback, rssLoopback, info, loopbackCPU) = try await upload("recordings/session-1.cast", transport: LoopbackHTTPTransport())
let (ours, rssAfter, _, oursCPU) = try await upload("recordings/session-1-urlsession.cast", transport: URLSessionS3Transport())

let (botoSeconds, botoCPU) = botoUpload("recordings/session-1-boto3.cast")

let loopbackMBps = bytes / loopback / 1e6
let oursMBps = bytes / ours / 1e6, botoMBps = bytes / botoSeconds / 1e6
func f(_ v: Double, _ d: Int = 1) -> String { String(format: "%.\(d)f", v) }
print("S3 upload of a \(sizeMiB) MiB recording to SeaweedFS 127.0.0.1 (Object Lock COMPLIANCE, SHA-256 checksums)")
print("| uploader | parts | seconds | MB/s | client CPU s |")
print("|---|---|---|---|---|")
print("| EvidenceS3 uploadFile, LoopbackHTTPTransport (first pass: whole-file and per-part SHA-256 on two threads; each part's MD5 just before it is sent; parts sent from the file with sendfile) | \(partMiB) MiB x \(concurrency) in flight | \(f(loopback, 2)) | \(f(loopbackMBps)) | \(f(loopbackCPU, 2)) |")
print("| EvidenceS3 uploadFile, URLSessionS3Transport (same hashing; each part read into memory for URLSession) | \(partMiB) MiB x \(concurrency) in flight | \(f(ours, 2)) | \(f(oursMBps)) | \(f(oursCPU, 2)) |")
print("| boto3 upload_file (TransferConfig defaults, SHA256 checksums) | 8 MiB x 10 threads | \(f(botoSeconds, 2)) | \(f(botoMBps)) | \(f(botoCPU, 2)) |")
print("peak RSS of this process: \(f(rssLoopback)) MiB after the loopback upload, \(f(rssAfter)) MiB after the URLSession upload (before: \(f(rssBefore)) MiB); object \(info.key) version \(info.versionID ?? "-") sha256 \(info.sha256.hex)")
print("{\"s3UploadMBps\":\(f(loopbackMBps)),\"s3URLSessionUploadMBps\":\(f(oursMBps)),\"boto3UploadMBps\":\(f(botoMBps)),\"s3VsBoto3\":\(f(loopbackMBps / botoMBps, 2)),\"s3PeakRSSMiB\":\(f(rssLoopback)),\"s3URLSessionPeakRSSMiB\":\(f(rssAfter)),\"s3ClientCPUSeconds\":\(f(loopbackCPU, 2)),\"boto3ClientCPUSeconds\":\(f(botoCPU, 2))}")
