import EvidenceCore
import EvidenceOpenSSL
import Foundation

/// `nis2ctl log …`: append, read, checkpoint, prove and verify a tenant's evidence log.
enum LogCommands {
    static let all: [CommandSpec] = [append, cat, verify, checkpoint, prove]

    static let append = CommandSpec(
        path: ["log", "append"], summary: "append JSON records from stdin (one per line)",
        help: """
        usage: nis2ctl log append --store DIR --tenant ID [--ack] [--no-checkpoint] [--json]

        Reads one JSON value per line from standard input and appends its RFC 8785 canonical
        form to the tenant's log. Records are committed in groups (flushed to disk at least
        every 10 ms). At the end a signed checkpoint is written and the tree size and root
        are printed.

          --ack             print "durable N" each time records up to index N are on disk;
                            a caller may forget a record once N covers it
          --no-checkpoint   do not sign a checkpoint at the end
          --json            print the final size and root as JSON

        A malformed line stops the run: every earlier line stays appended and durable, the
        error names the line, and the exit status is 2.
        """,
        options: ["store", "tenant"], flags: ["ack", "no-checkpoint", "json"]
    ) { a in
        let store = try StoreAccess.open(try a.required("store"), signing: !a.flag("no-checkpoint"))
        let tenant = try a.tenant()
        let writer = try store.writer(for: tenant)
        if a.flag("ack") {
            writer.onDurable { size in Console.out("durable \(size - 1)") }
        }
        let start = writer.size
        var lineNo = 0
        var badLine: EvidenceError?
        try StdinLines.forEach { line in
            lineNo += 1
            do {
                let canonical = try JCS.canonicalize(json: line, limits: JSONLimits(maxBytes: SegmentFormat.maxRecordBytes))
                try writer.append(canonical)
                return true
            } catch let e as EvidenceError where e.code == .malformedInput {
                badLine = EvidenceError(.malformedInput, "stdin line \(lineNo): \(e.message); lines before it were appended, nothing from this line on")
                return false
            }
        }
        try writer.sync()
        var head = writer.treeHead()
        if !a.flag("no-checkpoint") && head.size > start {
            let (cp, _) = try writer.checkpoint()
            head = (cp.size, cp.root)
        }
        try store.close()
        if a.flag("json") {
            Console.json(.object(["appended": .number(Double(head.size - start)), "size": .number(Double(head.size)), "root": .string(head.root.hex)]))
        } else {
            Console.out("appended \(head.size - start) records; tree size \(head.size) root \(head.root.hex)")
        }
        if let badLine { throw badLine }
        return .success
    }

    static let cat = CommandSpec(
        path: ["log", "cat"], summary: "print a tenant's records in order",
        help: """
        usage: nis2ctl log cat --store DIR --tenant ID [--from N] [--json]

        Prints "INDEX<TAB>RECORD" per line, or with --json one object per line:
        {"index":N,"leafHash":"<hex>","record":<the record>}.
        """,
        options: ["store", "tenant", "from"], flags: ["json"]
    ) { a in
        let store = try StoreAccess.open(try a.required("store"), signing: false)
        let tenant = try a.tenant()
        try store.requireTenant(tenant)
        let dir = store.logDirectory(tenant)
        let size = try LogVerifier.recordCount(dir)
        let from = try a.uint64("from") ?? 0
        guard from <= size else { throw UsageError("--from \(from) is beyond the log's \(size) records") }
        let json = a.flag("json")
        var out = [UInt8]()
        out.reserveCapacity(1 << 20)
        try dir.forEachRecord(in: from..<size) { i, rec, leaf in
            if json {
                out.append(contentsOf: "{\"index\":\(i),\"leafHash\":\"\(leaf.hex)\",\"record\":".utf8)
                if (try? JSONParser.parse(rec)) != nil { out.append(contentsOf: rec) } else {
                    JCS.writeString(Base64.encode(rec), into: &out)
                }
                out.append(contentsOf: "}\n".utf8)
            } else {
                out.append(contentsOf: "\(i)\t".utf8); out.append(contentsOf: rec); out.append(0x0a)
            }
            if out.count > 1 << 20 { FileHandle.standardOutput.write(Data(out)); out.removeAll(keepingCapacity: true) }
        }
        FileHandle.standardOutput.write(Data(out))
        return .success
    }

    static let verify = CommandSpec(
        path: ["log", "verify"], summary: "verify every record, checkpoint and proof",
        help: """
        usage: nis2ctl log verify --store DIR [--tenant ID] [--key FILE] [--json]

        Checks every tenant's log (or one): every frame of every segment, the block hashes,
        every checkpoint's signature and root, that each checkpoint extends the previous, and
        every RFC 3161 time anchor (token signature and chain, imprint = the checkpoint it
        names). Names the first broken place. Exit 1 if anything fails.

          --key FILE      C2SP verifier key to trust (default: the store's keys/checkpoint.pub;
                          pass an independently kept copy to detect a replaced key)
          --tsa-ca FILE   trust anchor(s) of the time-stamping authority, PEM
                          (default: the system bundle /etc/ssl/certs/ca-certificates.crt)
          --checkpoint F  a signed checkpoint kept outside the store (an auditor's or a
                          witness's copy): the log must still contain it — this detects a
                          store rolled back to an earlier, self-consistent state

        With --store s3://BUCKET[/PREFIX] --endpoint URL [--region R], verifies from a bucket
        written by 'nis2ctl replicate' alone: every version and checksum, then the log.
        """,
        options: ["store", "tenant", "key", "tsa-ca", "endpoint", "region", "checkpoint"], flags: ["json"]
    ) { a in
        if a.value("store")?.hasPrefix("s3://") == true { return try await S3Commands.verifyLog(a) }
        let store = try StoreAccess.open(try a.required("store"), signing: false)
        let verifierKey = try StoreAccess.verifier(store, keyFile: a.value("key"))
        let tenants: [TenantID]
        if a.value("tenant") != nil {
            let t = try a.tenant(); try store.requireTenant(t); tenants = [t]
        } else { tenants = try store.tenants() }
        var results: [LogVerification] = []
        let anchors = try AnchorCheck(trustFile: a.value("tsa-ca"))
        for t in tenants {
            let v = LogVerifier(backend: StoreAccess.backend, verifier: verifierKey, origin: store.origin(of: t))
            var found: [(UInt64, [UInt8])] = []
            var r = try v.verify(store.logDirectory(t), tenant: t.rawValue) { i, rec in
                if AnchorCheck.mayBeAnchor(rec) { found.append((i, Array(rec))) }
            }
            anchors.check(found, checkpoints: try store.logDirectory(t).checkpoints().raw, into: &r)
            if let witness = a.value("checkpoint") {
                try WitnessCheck.check(witness, against: store.logDirectory(t), origin: store.origin(of: t), verifier: verifierKey, records: r.records, into: &r)
            }
            results.append(r)
        }
        let ok = results.allSatisfy(\.ok)
        if a.flag("json") {
            Console.json(.object([
                "ok": .bool(ok),
                "tenants": .array(results.map { r in
                    .object([
                        "tenant": .string(r.tenant), "ok": .bool(r.ok), "records": .number(Double(r.records)),
                        "checkpoints": .number(Double(r.checkpoints)),
                        "latestCheckpoint": r.latest.map { .object(["size": .number(Double($0.size)), "root": .string($0.root.hex)]) } ?? .null,
                        "failures": .array(r.failures.map { .string($0) }), "notes": .array(r.notes.map { .string($0) }),
                    ])
                }),
            ]))
        } else {
            for r in results {
                Console.out("tenant \(r.tenant): \(r.ok ? "OK" : "FAILED") — \(r.records) records, \(r.checkpoints) checkpoints" +
                            (r.latest.map { ", latest size \($0.size) root \($0.root.hex)" } ?? ""))
                for f in r.failures { Console.out("  FAIL \(f)") }
                for n in r.notes { Console.out("  note \(n)") }
            }
            if results.isEmpty { Console.out("no tenants registered") }
        }
        return ok ? .success : .verificationFailed
    }

    static let checkpoint = CommandSpec(
        path: ["log", "checkpoint"], summary: "print (or sign) the latest checkpoint",
        help: """
        usage: nis2ctl log checkpoint --store DIR --tenant ID [--new]

        Prints the tenant's latest signed checkpoint (C2SP tlog-checkpoint in a signed note).
          --new   first sign a checkpoint of everything in the log now
        """,
        options: ["store", "tenant"], flags: ["new"]
    ) { a in
        let store = try StoreAccess.open(try a.required("store"), signing: a.flag("new"))
        let tenant = try a.tenant()
        try store.requireTenant(tenant)
        if a.flag("new") {
            let (_, note) = try store.writer(for: tenant).checkpoint()
            try store.close()
            FileHandle.standardOutput.write(Data(note.serialized.utf8))
            return .success
        }
        guard let latest = try store.logDirectory(tenant).checkpoints().notes.last else {
            throw EvidenceError(.notFound, "tenant \(tenant) has no checkpoint yet; sign one with 'nis2ctl log checkpoint --new'")
        }
        FileHandle.standardOutput.write(Data(latest.serialized.utf8))
        return .success
    }

    static let prove = CommandSpec(
        path: ["log", "prove"], summary: "inclusion proof of a record (or check one)",
        help: """
        usage: nis2ctl log prove --store DIR --tenant ID --index N [--size S]
               nis2ctl log prove --verify PROOF.json [--store DIR | --key FILE]

        Prints, as JSON, an RFC 9162 inclusion proof of record N in the tree of the latest
        checkpoint (or of the checkpoint with size S), with the record and the signed
        checkpoint, so it can be checked without the store.
        With --verify, checks such a proof: the record hashes to the leaf, the path leads to
        the checkpoint's root, and the checkpoint is signed by the key (--key FILE, or the
        store's key). Exit 1 if it does not verify.
        """,
        options: ["store", "tenant", "index", "size", "verify", "key"]
    ) { a in
        if let proofFile = a.value("verify") { return try verifyProof(proofFile, a) }
        let store = try StoreAccess.open(try a.required("store"), signing: false)
        let tenant = try a.tenant()
        try store.requireTenant(tenant)
        guard let index = try a.uint64("index") else { throw UsageError("missing required option --index") }
        let dir = store.logDirectory(tenant)
        let notes = try dir.checkpoints().notes
        let wantSize = try a.uint64("size")
        guard let note = notes.last(where: { n in wantSize == nil || (try? Checkpoint(body: n.text).size) == wantSize }) else {
            throw EvidenceError(.notFound, wantSize == nil ? "tenant \(tenant) has no checkpoint yet; sign one with 'nis2ctl log checkpoint --new'"
                                                      : "tenant \(tenant) has no checkpoint of size \(wantSize!)")
        }
        let cp = try Checkpoint(body: note.text)
        guard index < cp.size else {
            throw EvidenceError(.notFound, "record \(index) is not covered by the checkpoint of size \(cp.size); sign a newer one with 'nis2ctl log checkpoint --new'")
        }
        let proof = try MerkleProofs.inclusionProof(index: index, treeSize: cp.size, source: try dir.tree(size: cp.size))
        var record: [UInt8] = []
        try dir.forEachRecord(in: index..<index + 1) { _, r, _ in record = Array(r) }
        Console.json(.object([
            "index": .number(Double(index)), "treeSize": .number(Double(cp.size)),
            "record": .string(Base64.encode(record)), "leafHash": .string(StoreAccess.backend.leafHash(record).hex),
            "path": .array(proof.path.map { .string($0.hex) }), "checkpoint": .string(note.serialized),
        ]))
        return .success
    }

    static func verifyProof(_ file: String, _ a: ParsedArguments) throws -> ExitCode {
        let doc = try JSONParser.parse(try Data(contentsOf: URL(fileURLWithPath: file)), limits: JSONLimits(maxBytes: 64 << 20))
        guard let idx = doc["index"]?.numberValue, let size = doc["treeSize"]?.numberValue,
              let rec = doc["record"]?.stringValue.flatMap(Base64.decode), let path = doc["path"]?.arrayValue,
              let noteText = doc["checkpoint"]?.stringValue else {
            throw EvidenceError(.malformedInput, "\(file) is not a proof made by 'nis2ctl log prove' (needs index, treeSize, record, path, checkpoint)")
        }
        let digests = try path.map { v -> Digest in
            guard let s = v.stringValue, let d = Digest(hex: s) else { throw EvidenceError(.malformedInput, "\(file): proof path holds a value that is not a hex SHA-256") }
            return d
        }
        let verifier: Ed25519Verifier
        if let key = a.value("key") {
            let (n, pub) = try NoteKey.parseVerifierKey(try String(contentsOfFile: key, encoding: .utf8))
            verifier = try Ed25519Verifier(keyName: n, publicKey: pub)
        } else {
            verifier = try StoreAccess.verifier(try StoreAccess.open(try a.required("store"), signing: false), keyFile: nil)
        }
        let note = try SignedNote(parsing: Array(noteText.utf8))
        let cp = try Checkpoint(body: note.text)
        guard note.isSigned(by: verifier) else {
            throw EvidenceError(.verificationFailed, "the checkpoint in \(file) is not signed by key '\(verifier.keyName)'")
        }
        guard UInt64(size) == cp.size else {
            throw EvidenceError(.verificationFailed, "the proof is for tree size \(UInt64(size)) but the checkpoint has size \(cp.size)")
        }
        let proof = InclusionProof(index: UInt64(idx), treeSize: cp.size, path: digests)
        guard MerkleProofs.verifyInclusion(proof, leafHash: StoreAccess.backend.leafHash(rec), root: cp.root, using: StoreAccess.backend) else {
            throw EvidenceError(.verificationFailed, "record \(UInt64(idx)) and its proof do not lead to the root of the signed checkpoint (size \(cp.size)): the record or the proof was altered")
        }
        Console.out("OK: record \(UInt64(idx)) is in the log \(cp.origin) of size \(cp.size), checkpoint signed by \(verifier.keyName)")
        return .success
    }
}

/// Reads standard input as lines (without the newline), in large blocks, without limits on
/// the total size; a single line longer than the record bound is an error.
enum StdinLines {
    static func forEach(_ body: (UnsafeRawBufferPointer) throws -> Bool) throws {
        var buf = [UInt8](repeating: 0, count: 1 << 20)
        var have = 0
        var lineNo = 0
        while true {
            if have == buf.count {
                guard buf.count < SegmentFormat.maxRecordBytes * 2 else {
                    throw EvidenceError(.malformedInput, "stdin line \(lineNo + 1) is longer than \(SegmentFormat.maxRecordBytes) bytes")
                }
                buf.append(contentsOf: [UInt8](repeating: 0, count: buf.count))
            }
            let n = buf.withUnsafeMutableBytes { read(0, $0.baseAddress! + have, $0.count - have) }
            if n < 0 { if errno == EINTR { continue }; throw EvidenceError(.io, "cannot read stdin") }
            let eof = n == 0
            have += n
            var start = 0
            let stop: Bool = try buf.withUnsafeBytes { raw in
                var i = 0
                while i < have {
                    if raw[i] == 0x0a {
                        lineNo += 1
                        if try !body(UnsafeRawBufferPointer(rebasing: raw[start..<i])) { return true }
                        start = i + 1
                    }
                    i += 1
                }
                if eof && start < have {
                    lineNo += 1
                    if try !body(UnsafeRawBufferPointer(rebasing: raw[start..<have])) { return true }
                    start = have
                }
                return false
            }
            if stop || eof { return }
            if start > 0 {
                buf.withUnsafeMutableBytes { $0.baseAddress!.copyMemory(from: $0.baseAddress! + start, byteCount: have - start) }
                have -= start
            }
        }
    }
}
