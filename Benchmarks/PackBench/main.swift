import EvidenceCore
import EvidenceOpenSSL
import EvidencePDF
import Foundation

// pack-bench [MiB]: export and verify an evidence pack holding MiB (default 1024) of session
// recordings, stored as objects with session.recording records (what the exporter streams).
// Compares verification throughput with sha256sum over the same recording bytes in the same
// run, and reports the peak RSS (ru_maxrss) of the whole program. Table first; the last line
// is one JSON object.

let totalMiB = CommandLine.arguments.count > 1 ? max(8, Int(CommandLine.arguments[1]) ?? 1024) : 1024
let objectMiB = 8
let objects = totalMiB / objectMiB
let dir = NSTemporaryDirectory() + "pack-bench-\(getpid())"
try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: dir) }

func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
func peakRSSMiB() -> Double {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    return Double(u.ru_maxrss) / 1024
}

let clock = SystemWallClock()
let backend = OpenSSLSHA256()
let (signer, _) = try Ed25519Signer.generate(keyName: "bench")
try EvidenceStore.create(at: dir + "/store", origin: "bench.example/log", keyName: "bench", publicKey: signer.publicKey, privateKey: nil, clock: clock)
let store = try EvidenceStore(at: dir + "/store", backend: backend, signer: signer, clock: clock)
let tenant = try TenantID("bench")
try store.addTenant(tenant, displayName: "Bench GmbH")

// Recordings: 8 MiB objects of terminal-like text, each cited by a session.recording record.
let objectStore = try store.objects(for: tenant)
var block = [UInt8](repeating: 0, count: objectMiB << 20)
var state: UInt64 = 0x9E37_79B9_7F4A_7C15
for i in block.indices {
    state = state &* 6364136223846793005 &+ 1442695040888963407
    block[i] = i % 80 == 79 ? 0x0a : UInt8(0x20 + (state >> 33) % 95)
}
var paths: [String] = []
let retain = RetentionPolicy(mode: .compliance, retainUntil: clock.now().addingTimeInterval(86400))
for n in 0..<objects {
    let stamp = Array(String(format: "object %06d\n", n).utf8)
    block.replaceSubrange(0..<stamp.count, with: stamp)
    let key = String(format: "recordings/bench-%06d.cast", n)
    let info = try await objectStore.put(key, bytes: block, retention: retain)
    paths.append(objectStore.root + "/data/" + key)
    _ = try await store.append(EvidenceRecord(kind: EvidencePackRecordKind.sessionRecording, tenant: tenant, time: clock.now(), actor: "bench#runner", body: .object([
        "session": .string("bench"), "object": .string(key), "sha256": .string(info.sha256.hex), "size": .number(Double(info.size)), "format": .string("asciicast-v2"),
    ])))
}
block = []
_ = try store.writer(for: tenant).checkpoint()
let bytes = Double(objects * objectMiB) * 1048576

// Export.
let pack = dir + "/bench.zip"
let exporter = EvidencePackExporter(store: store, tenant: tenant, scope: .session("bench"), exportedBy: "bench#runner", renderer: EvidenceReportPDF())
let ct = ContinuousClock()
let t0 = ct.now
let result = try await exporter.export(to: pack)
let exportSeconds = seconds(ct.now - t0)
try store.close()

// Verify (in-process, OpenSSL SHA-256, the store's key trusted).
var verifier = EvidencePackVerifier(backend: backend)
verifier.trustedKey = try PortableEd25519Verifier(keyName: "bench", publicKey: signer.publicKey)
let t1 = ct.now
let report = verifier.verify(pack)
let verifySeconds = seconds(ct.now - t1)
guard report.ok else { print("pack-bench: verification FAILED: \(report.failure?.place ?? "?"): \(report.failure?.detail ?? "")"); exit(1) }

// sha256sum over the same recording bytes, in the same run.
let sumProcess = Process()
sumProcess.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
sumProcess.arguments = paths
sumProcess.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
let t2 = ct.now
try sumProcess.run()
sumProcess.waitUntilExit()
let sumSeconds = seconds(ct.now - t2)
guard sumProcess.terminationStatus == 0 else { print("pack-bench: sha256sum failed"); exit(1) }

let mb = bytes / 1e6
let exportMBps = mb / exportSeconds, verifyMBps = Double(result.bytes) / 1e6 / verifySeconds, sumMBps = mb / sumSeconds
let peak = peakRSSMiB()
func f(_ x: Double) -> String { String(format: "%.1f", x) }
print("pack-bench: \(objects) recordings x \(objectMiB) MiB = \(totalMiB) MiB; pack \(f(Double(result.bytes) / 1048576)) MiB, \(result.records) records")
print("step                 seconds    MB/s")
print("export               \(f(exportSeconds).padding(toLength: 10, withPad: " ", startingAt: 0)) \(f(exportMBps))")
print("verify (pack)        \(f(verifySeconds).padding(toLength: 10, withPad: " ", startingAt: 0)) \(f(verifyMBps))")
print("sha256sum (same)     \(f(sumSeconds).padding(toLength: 10, withPad: " ", startingAt: 0)) \(f(sumMBps))")
print("verify / sha256sum   \(String(format: "%.2f", verifyMBps / sumMBps))x (goal >= 0.9x)")
print("peak RSS             \(f(peak)) MiB for a \(totalMiB) MiB pack (creation buffer \(objectMiB) MiB included)")
print("{\"packExportMBps\":\(f(exportMBps)),\"packVerifyMBps\":\(f(verifyMBps)),\"sha256sumMBps\":\(f(sumMBps)),\"packVerifyVsSha256sum\":\(String(format: "%.2f", verifyMBps / sumMBps)),\"packPeakRSSMiB\":\(f(peak))}")
