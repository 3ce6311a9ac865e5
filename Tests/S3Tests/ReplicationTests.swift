import EvidenceCore
import EvidenceOpenSSL
import EvidenceS3
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `nis2ctl replicate` and `nis2ctl log verify --store s3://…` against the real SeaweedFS.
@Suite("Replication of the evidence store to S3, and verification from the bucket alone", .timeLimit(.minutes(4)))
struct ReplicationTests {
    @Test("replication killed twice with SIGKILL, mid-multipart and between objects, ends with no gap, no duplicate, every object recorded once")
    func crashAndResume() async throws {
        let f = try await ReplicationFixture.make()
        defer { f.remove() }
        let args = ["replicate", "--store", f.root, "--tenant", "acme", "--once"] + f.s3Arguments

        // 1. Kill while a multipart upload of a segment is open (its resume state exists).
        let log1 = f.root + "-crash1.log"
        // The failpoint stops the run right after its first part is stored, so the kill lands
        // mid-multipart however fast or loaded the machine is.
        let first = try f.start(args, log: log1, failpoints: "s3.multipart.part-uploaded=1")
        let stateDir = try f.openStore().tenantPath(f.tenant) + "/replication"
        let killed1 = try await killWhen(first, deadline: 120) {
            Self.read(log1).contains("failpoint s3.multipart.part-uploaded reached")
        }
        #expect(Self.files(under: stateDir).contains { $0.contains("/upload-") }, "the multipart resume state exists at the kill")
        #expect(killed1, "the first run ended before any multipart upload started: \(Self.read(log1).suffix(800))")

        // 2. Kill between objects: three more objects uploaded and recorded, then SIGKILL.
        let log2 = f.root + "-crash2.log"
        let second = try f.start(args, log: log2, failpoints: "replicate.recorded=3")
        let killed2 = try await killWhen(second, deadline: 120) {
            Self.read(log2).contains("failpoint replicate.recorded reached")
        }
        #expect(killed2, "the second run ended before three uploads: \(Self.read(log2).suffix(800))")

        // 3. Run to the end.
        let last = try f.nis2ctl(args)
        #expect(last.status == 0, "\(last.output.suffix(1500))")

        let bucket = try await f.bucketStore()
        let versions = try await bucket.listVersions(prefix: "tenants/acme/")
        #expect(versions.allSatisfy { !$0.isDeleteMarker })
        var perKey: [String: [String]] = [:]
        for v in versions { perKey[v.key, default: []].append(v.versionID) }
        let duplicated = perKey.filter { $0.value.count > 1 }
        #expect(duplicated.isEmpty, "keys written more than once: \(duplicated)")

        let expected = try await f.expectedKeys()
        #expect(expected.count > 20, "the fixture should hold segments, checkpoints and objects")
        #expect(Set(perKey.keys) == expected, "missing: \(expected.subtracting(perKey.keys).sorted()); unexpected: \(Set(perKey.keys).subtracting(expected).sorted())")

        let receipts = try await f.receipts().filter { $0.destination == f.destination }
        var recordedCount: [String: Int] = [:]
        for r in receipts { recordedCount[r.key, default: 0] += 1 }
        #expect(recordedCount.filter { $0.value != 1 }.isEmpty, "recorded more than once: \(recordedCount.filter { $0.value != 1 })")
        #expect(Set(recordedCount.keys) == expected)
        for r in receipts { #expect(perKey[r.key] == [r.versionID ?? "-"], "\(r.key): recorded \(r.versionID ?? "-"), bucket holds \(perKey[r.key] ?? [])") }

        // No multipart upload is left open in the bucket: the crashed one was resumed, not restarted.
        let uploads = try await bucket.client.expectSuccess(method: "GET", objectKey: nil, query: [("uploads", "")], what: "listing multipart uploads")
        #expect(!String(decoding: uploads.body, as: UTF8.self).contains("<Upload>"), "\(String(decoding: uploads.body, as: UTF8.self).prefix(600))")

        // The bucket alone verifies.
        let verified = try f.nis2ctl(f.verifyArguments)
        #expect(verified.status == 0 && verified.output.contains("tenant acme: OK"), "\(verified.output.suffix(2000))")
        for l in [log1, log2] { unlink(l) }
    }

    @Test("an object overwritten under the same key by another client fails verification from the bucket, naming the key and the version")
    func overwriteIsDetected() async throws {
        let f = try await ReplicationFixture.make(segments: 2, objects: 3)
        defer { f.remove() }
        let run = try f.nis2ctl(["replicate", "--store", f.root, "--once"] + f.s3Arguments)
        #expect(run.status == 0, "\(run.output.suffix(1500))")
        let ok = try f.nis2ctl(f.verifyArguments + ["--json"])
        #expect(ok.status == 0, "\(ok.output.suffix(2000))")

        // Another client writes a second version of a sealed segment (a raw signed PUT).
        let bucket = try await f.bucketStore()
        let key = ReplicaLayout(tenant: f.tenant).segment(SegmentFormat.fileName(firstIndex: 0))
        let forged = Array("N2EVSEG1 forged".utf8)
        let put = try await bucket.client.expectSuccess(method: "PUT", objectKey: key, body: forged, what: "overwriting \(key)")
        let forgedVersion = try #require(put.header("x-amz-version-id"))

        let bad = try f.nis2ctl(f.verifyArguments)
        #expect(bad.status == 1, "\(bad.output.suffix(2000))")
        #expect(bad.output.contains("FAIL") && bad.output.contains(key) && bad.output.contains(forgedVersion),
                "the failure must name \(key) and version \(forgedVersion): \(bad.output.suffix(2000))")
    }

    @Test("an object's local retain-until and legal hold are carried to its bucket copy")
    func localRetentionCarried() async throws {
        let f = try await ReplicationFixture.make(segments: 1, objects: 3)
        defer { f.remove() }
        let store = try f.openStore()
        let objects = try store.objects(for: f.tenant)
        let keys = try await objects.list(prefix: "")
        #expect(keys.count == 3)
        try await objects.setLegalHold(keys[0], true)
        let bucket = try await f.bucketStore()
        // The configured policy alone would hold copies for 5 minutes; the local objects are held a day.
        let replicator = try EvidenceReplicator(store: store, tenant: f.tenant, bucket: bucket,
                                                retention: { RetentionPolicy(mode: .compliance, retainUntil: $0.addingTimeInterval(300)) })
        _ = try await replicator.replicateOnce()
        let layout = ReplicaLayout(tenant: f.tenant)
        for (i, key) in keys.enumerated() {
            let local = try #require(try await objects.head(key)).retention
            let (mode, until) = try await bucket.retention(layout.object(key))
            #expect(mode == .compliance)
            #expect(abs(until.timeIntervalSince(local.retainUntil)) < 1.5, "\(key): bucket \(until), local \(local.retainUntil)")
            #expect(try await bucket.legalHold(layout.object(key)) == (i == 0), "legal hold of \(key)")
        }
        // Files that are not objects get the configured policy.
        let (_, markerUntil) = try await bucket.retention(layout.storeMarker)
        #expect(markerUntil < Date().addingTimeInterval(600))
    }

    @Test("verification from a bucket fails for a tenant that was never replicated")
    func missingTenantFails() async throws {
        let f = try await ReplicationFixture.make(segments: 1, objects: 0)
        defer { f.remove() }
        let r = try f.nis2ctl(f.verifyArguments)
        #expect(r.status == 1 && r.output.contains("no registration"), "\(r.output.suffix(800))")
    }

    // MARK: helpers

    /// Polls `condition` every millisecond; SIGKILLs the process when it holds. False when the
    /// process ended first or the deadline passed.
    private func killWhen(_ p: Process, deadline seconds: Double, _ condition: () -> Bool) async throws -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if condition() {
                kill(p.processIdentifier, SIGKILL)
                p.waitUntilExit()
                return true
            }
            if !p.isRunning { return false }
            try await Task.sleep(nanoseconds: 1_000_000)
        }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        return false
    }

    static func files(under dir: String) -> [String] {
        guard let e = FileManager.default.enumerator(atPath: dir) else { return [] }
        return e.compactMap { ($0 as? String).map { dir + "/" + $0 } }
    }

    static func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
}
