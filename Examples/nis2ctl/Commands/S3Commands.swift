import EvidenceCore
import EvidenceOpenSSL
import EvidenceS3
import Foundation

/// `nis2ctl replicate`, and `nis2ctl log verify --store s3://…`: the evidence store copied to
/// an S3 Object Lock bucket, and verified from the bucket alone.
enum S3Commands {
    static let all: [CommandSpec] = [replicate]

    static let replicate = CommandSpec(
        path: ["replicate"], summary: "copy tenants' sealed logs and objects to S3 (WORM)",
        help: """
        usage: nis2ctl replicate --store DIR [--tenant ID] --s3 s3://BUCKET[/PREFIX] --endpoint URL
                                 [--region R] [--retain-days N] [--governance] [--interval SECONDS] [--once]

        Copies each tenant (or one) to the bucket under tenants/<id>/: the store marker and
        verifier key, sealed log segments, each checkpoint whose records are all sealed (with
        the block hashes as they were at it), and the content-addressed objects. Each copied
        object is recorded in the tenant's log as a replication.uploaded record (key,
        versionId, SHA-256, size) and printed as "uploaded KEY version V"; a checkpoint is then
        signed over those records when the store has its signing key.
        Safe to kill at any moment: the next run resumes without gaps or duplicates.

          --retain-days N   Object Lock retain-until, N days after the upload (default 2557, 7 years)
          --governance      GOVERNANCE mode instead of COMPLIANCE (can be bypassed by a privileged user)
          --interval S      seconds between passes when running in the background (default 60)
          --once            one pass, then exit
        Credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY[/AWS_SESSION_TOKEN], else the
        profile AWS_PROFILE in AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials.
        """,
        options: ["store", "tenant", "s3", "endpoint", "region", "retain-days", "interval"], flags: ["once", "governance"]
    ) { a in
        let storePath = try a.required("store")
        let probe = try StoreAccess.open(storePath, signing: false)
        let store = FileManager.default.fileExists(atPath: probe.privateKeyPath) ? try StoreAccess.open(storePath, signing: true) : probe
        let bucket = try await openBucket(a)
        let days = try a.uint64("retain-days") ?? 2557
        guard days >= 1, days <= 36_500 else { throw UsageError("--retain-days must be 1...36500") }
        let mode: RetentionPolicy.Mode = a.flag("governance") ? .governance : .compliance
        let tenants: [TenantID] = a.value("tenant") != nil ? [try a.tenant()] : try store.tenants()
        var replicators: [EvidenceReplicator] = []
        for t in tenants {
            replicators.append(try EvidenceReplicator(
                store: store, tenant: t, bucket: bucket,
                retention: { now in RetentionPolicy(mode: mode, retainUntil: now.addingTimeInterval(Double(days) * 86_400)) },
                onRecorded: { r in Console.out("uploaded \(r.key) version \(r.versionID ?? "-") sha256 \(r.sha256.hex) size \(r.size)") }))
        }
        let interval = try a.uint64("interval") ?? 60
        while true {
            for r in replicators {
                let pass = try await r.replicateOnce()
                if !pass.recorded.isEmpty, store.signer != nil {
                    let (cp, _) = try store.writer(for: r.tenant).checkpoint()
                    Console.out("tenant \(r.tenant): \(pass.recorded.count) uploaded, \(pass.alreadyRecorded) already there; checkpoint size \(cp.size) signed")
                } else {
                    Console.out("tenant \(r.tenant): \(pass.recorded.count) uploaded, \(pass.alreadyRecorded) already there")
                }
                for p in pass.pending { Console.out("  pending \(p)") }
            }
            if a.flag("once") { break }
            try await Task.sleep(for: .seconds(Int(interval)))
        }
        try store.close()
        return .success
    }

    /// `nis2ctl log verify --store s3://BUCKET/PREFIX --endpoint URL [--tenant ID] [--key FILE] [--json]`.
    static func verifyLog(_ a: ParsedArguments) async throws -> ExitCode {
        let bucket = try await openBucket(a, s3Option: "store")
        let verifier = ReplicaVerifier(bucket: bucket)
        let key: (any SignatureVerifier)? = try a.value("key").map { path in
            let text: String
            do { text = try String(contentsOfFile: path, encoding: .utf8) } catch { throw EvidenceError(.notFound, "cannot read verifier key \(path)") }
            let (name, pub) = try NoteKey.parseVerifierKey(text)
            return try Ed25519Verifier(keyName: name, publicKey: pub)
        }
        let tenants: [TenantID] = a.value("tenant") != nil ? [try a.tenant()] : try await verifier.tenants()
        var results: [ReplicaVerification] = []
        for t in tenants {
            let scratch = NSTemporaryDirectory() + "/nis2ctl-verify-\(getpid())-\(t.rawValue)"
            results.append(try await verifier.verify(tenant: t, verifierKey: key, scratch: scratch))
        }
        let ok = !results.isEmpty && results.allSatisfy(\.ok)
        if a.flag("json") {
            Console.json(.object(["ok": .bool(ok), "tenants": .array(results.map { r in
                .object(["tenant": .string(r.tenant), "ok": .bool(r.ok), "records": .number(Double(r.log?.records ?? 0)),
                         "checkpoints": .number(Double(r.log?.checkpoints ?? 0)), "objectsRead": .number(Double(r.objectsRead)),
                         "keysMatchingReceipts": .number(Double(r.keysMatchingReceipts)),
                         "failures": .array((r.failures + (r.log?.failures ?? [])).map { .string($0) }),
                         "notes": .array((r.notes + (r.log?.notes ?? [])).map { .string($0) })])
            })]))
        } else {
            for r in results {
                Console.out("tenant \(r.tenant): \(r.ok ? "OK" : "FAILED") — \(r.log?.records ?? 0) records, \(r.log?.checkpoints ?? 0) checkpoints, \(r.objectsRead) objects read back, \(r.keysMatchingReceipts) keys match their replication records")
                for f in r.failures + (r.log?.failures ?? []) { Console.out("  FAIL \(f)") }
                for n in r.notes + (r.log?.notes ?? []) { Console.out("  note \(n)") }
            }
            if results.isEmpty { Console.out("no tenants in the bucket") }
        }
        return ok ? .success : .verificationFailed
    }

    /// Opens the bucket named by `--<s3Option> s3://BUCKET[/PREFIX]`, `--endpoint` and `--region`.
    static func openBucket(_ a: ParsedArguments, s3Option: String = "s3") async throws -> S3ObjectLockStore {
        let url = try a.required(s3Option)
        guard url.hasPrefix("s3://") else { throw UsageError("--\(s3Option) must be s3://BUCKET[/PREFIX], not '\(url)'") }
        let rest = url.dropFirst(5)
        let bucketName = String(rest.prefix { $0 != "/" })
        let prefix = String(rest.dropFirst(bucketName.count).drop { $0 == "/" }).trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        guard let endpoint = URL(string: try a.required("endpoint")) else { throw UsageError("--endpoint must be a URL such as https://s3.eu-central-1.amazonaws.com") }
        let config = try S3Configuration(endpoint: endpoint, bucket: bucketName, prefix: prefix, region: a.value("region") ?? "us-east-1",
                                         credentials: try S3Credentials.resolve(), multipartPartSize: 8 << 20, multipartConcurrency: 4)
        // Our HTTP client for a service on 127.0.0.1 (parts sent from the file, memory flat);
        // it hands anything else (https, other hosts) to URLSession.
        return try await S3ObjectLockStore.open(config, transport: LoopbackHTTPTransport())
    }
}
