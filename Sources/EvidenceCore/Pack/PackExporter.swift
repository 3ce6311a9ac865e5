import Foundation

/// Writes an evidence pack for one tenant of an `EvidenceStore` (format: `EvidencePackFormat`).
///
/// Guarantees: every cited record is copied byte for byte from the log with an RFC 9162
/// inclusion proof against a signed checkpoint that covers the whole log at export time (one
/// is signed if the latest does not); every earlier checkpoint a time anchor names comes with
/// a consistency proof to it; recordings are streamed from the object store and must match
/// the SHA-256 their record states; the manifest and the report are signed with the store's
/// checkpoint key; a `pack.exported` record is appended afterwards (custody for later packs).
/// Memory is bounded by the record metadata, never by recording sizes.
/// Refuses: a store opened without its signing key, an existing output file, a scope that
/// selects no record, a recording whose bytes no longer match its record.
public struct EvidencePackExporter {
    /// A report draft or other artefact supplied by the caller, stored under `reports/`.
    public struct Artefact: Sendable {
        public var name: String
        public var bytes: [UInt8]
        public var role: String
        public init(name: String, bytes: [UInt8], role: String = "report") { self.name = name; self.bytes = bytes; self.role = role }
    }

    public struct Result: Sendable {
        public var path: String
        public var manifestSHA256: Digest
        public var bytes: UInt64
        public var records: Int
        public var recordings: Int
        public var tokens: Int
        public var checkpointSize: UInt64
    }

    public var store: EvidenceStore
    public var tenant: TenantID
    public var scope: EvidencePackScope
    public var exportedBy: String
    public var renderer: any EvidencePackRenderer
    /// Descriptive incident facts (stage, deadlines, classification) for the report; signed with the manifest.
    public var incident: JSONValue?
    public var artefacts: [Artefact] = []
    /// Called with (bytes written, bytes expected) about every MiB.
    public var progress: ((UInt64, UInt64) -> Void)?
    public var toolVersion = "nis2ctl pack export"

    public init(store: EvidenceStore, tenant: TenantID, scope: EvidencePackScope, exportedBy: String, renderer: any EvidencePackRenderer) {
        self.store = store; self.tenant = tenant; self.scope = scope; self.exportedBy = exportedBy; self.renderer = renderer
    }

    private struct Cited { var index: UInt64; var leaf: Digest; var record: EvidenceRecord? }

    public func export(to path: String) async throws -> Result {
        guard let signer = store.signer else {
            throw EvidenceError(.malformedInput, "exporting a pack signs its manifest: open the store with its checkpoint key")
        }
        try store.requireTenant(tenant)
        let dir = store.logDirectory(tenant)
        let writer = try store.writer(for: tenant)
        try writer.sync()
        // A checkpoint that covers the whole log.
        var (notes, raws, _) = try dir.checkpoints()
        if notes.last.flatMap({ try? Checkpoint(body: $0.text) })?.size != writer.size {
            _ = try writer.checkpoint()
            (notes, raws, _) = try dir.checkpoints()
        }
        guard let finalRaw = raws.last, let finalNote = notes.last else { throw EvidenceError(.notFound, "tenant \(tenant) has no checkpoint") }
        let final = try Checkpoint(body: finalNote.text)
        let treeSize = final.size

        // Pass 1: sessions tied to an incident. Pass 2: the cited records.
        var sessions = Set<String>()
        if case .incident(let id) = scope {
            try dir.forEachRecord(in: 0..<treeSize) { _, raw, _ in
                guard let r = try? EvidenceRecord(canonicalBytes: raw), r.body["incident"]?.stringValue == id else { return }
                if let s = r.body["session"]?.stringValue { sessions.insert(s) }
                for s in r.body["sessions"]?.arrayValue ?? [] { if let s = s.stringValue { sessions.insert(s) } }
            }
        }
        var cited: [Cited] = []
        var selectedDirectly = 0
        try dir.forEachRecord(in: 0..<treeSize) { i, raw, leaf in
            guard let r = try? EvidenceRecord(canonicalBytes: raw) else { return }
            let direct = scope.selects(r, sessions: sessions)
            if direct { selectedDirectly += 1 }
            let always = r.kind.hasPrefix("time.") || r.kind == EvidencePackRecordKind.packExported
            guard direct || always else { return }
            let keep = r.kind.hasPrefix("time.") || r.kind == EvidencePackRecordKind.sessionRecording || r.kind == EvidencePackRecordKind.packExported || selectedDirectly <= 500
            cited.append(Cited(index: i, leaf: leaf, record: keep ? r : nil))
        }
        guard selectedDirectly > 0 else { throw EvidenceError(.notFound, "no record of tenant \(tenant) matches \(describe(scope)); nothing to export") }

        let recordings = cited.compactMap { c -> (EvidenceRecord, UInt64)? in
            guard let r = c.record, r.kind == EvidencePackRecordKind.sessionRecording, scope.selects(r, sessions: sessions) else { return nil }
            return (r, c.index)
        }
        let objects = try store.objects(for: tenant)
        var expected: UInt64 = 0
        for (r, _) in recordings { expected += UInt64(r.body["size"]?.numberValue ?? 0) }

        let zip = try ZipStreamWriter(path: path, backend: store.backend)
        var files: [JSONValue] = []
        func listed(_ e: ZipStreamWriter.WrittenEntry, role: String, extra: [String: JSONValue] = [:]) {
            var o: [String: JSONValue] = ["path": .string(e.name), "sha256": .string(e.sha256.hex), "size": .number(Double(e.size)), "role": .string(role)]
            for (k, v) in extra { o[k] = v }
            files.append(.object(o))
        }
        var lastReport: UInt64 = 0
        func report() { if let progress, zip.bytesWritten - lastReport >= 1 << 20 { lastReport = zip.bytesWritten; progress(zip.bytesWritten, expected) } }

        // Records, exactly as stored, one per line.
        try zip.beginEntry(EvidencePackFormat.recordsPath)
        let wanted = Set(cited.map(\.index))
        var line: [UInt8] = []
        try dir.forEachRecord(in: 0..<treeSize) { i, raw, _ in
            guard wanted.contains(i) else { return }
            line.removeAll(keepingCapacity: true); line.append(contentsOf: raw); line.append(0x0a)
            try zip.write(line); report()
        }
        listed(try zip.endEntry(), role: "records", extra: ["records": .number(Double(cited.count))])

        // Proofs.
        let tree = try dir.tree(size: treeSize)
        var recordRows: [JSONValue] = []
        for (k, c) in cited.enumerated() {
            let p = try MerkleProofs.inclusionProof(index: c.index, treeSize: treeSize, source: tree)
            var o: [String: JSONValue] = ["line": .number(Double(k + 1)), "index": .number(Double(c.index)), "leafHash": .string(c.leaf.hex),
                                          "inclusion": .object(["treeSize": .number(Double(treeSize)), "path": .array(p.path.map { .string($0.hex) })])]
            if let r = c.record { o["kind"] = .string(r.kind) }
            recordRows.append(.object(o))
        }

        // Checkpoints: the final one, plus every one a time record names.
        var noteByDigest: [Digest: (raw: [UInt8], cp: Checkpoint)] = [:]
        for (n, raw) in Swift.zip(notes, raws) { if let cp = try? Checkpoint(body: n.text) { noteByDigest[store.backend.hash(bytes: raw)] = (raw, cp) } }
        var checkpointFiles: [Digest: String] = [:]
        var checkpointRows: [JSONValue] = []
        func addCheckpoint(_ raw: [UInt8], _ cp: Checkpoint) throws -> String {
            let d = store.backend.hash(bytes: raw)
            if let p = checkpointFiles[d] { return p }
            let name = "checkpoints/\(cp.size)-\(d.hex.prefix(12)).note"
            let e = try zip.addEntry(name, bytes: raw)
            listed(e, role: "checkpoint")
            checkpointFiles[d] = name
            var row: [String: JSONValue] = ["path": .string(name), "size": .number(Double(cp.size)), "root": .string(cp.root.hex), "noteSHA256": .string(d.hex)]
            if cp.size < treeSize {
                let c = try MerkleProofs.consistencyProof(oldSize: cp.size, newSize: treeSize, source: tree)
                row["consistency"] = .object(["newSize": .number(Double(treeSize)), "path": .array(c.path.map { .string($0.hex) })])
            }
            checkpointRows.append(.object(row))
            return name
        }
        let finalPath = try addCheckpoint(finalRaw, final)

        var anchors: [JSONValue] = [], samples: [JSONValue] = []
        for c in cited {
            guard let r = c.record, r.kind.hasPrefix("time.") else { continue }
            guard let noteHex = r.body["checkpoint"]?["noteSHA256"]?.stringValue, let nd = Digest(hex: noteHex), let (raw, cp) = noteByDigest[nd] else { continue }
            let cpPath = try addCheckpoint(raw, cp)
            if r.kind == EvidencePackRecordKind.rfc3161Anchor, let tok = r.body["token"]?.stringValue.flatMap(Base64.decode) {
                let e = try zip.addEntry("time/rfc3161-\(c.index).tsr", bytes: tok)
                listed(e, role: "rfc3161-token")
                anchors.append(.object([
                    "record": .number(Double(c.index)), "token": .string(e.name), "checkpoint": .string(cpPath), "noteSHA256": .string(noteHex),
                    "genTime": r.body["genTime"] ?? .null, "tsa": r.body["tsa"] ?? .null, "proves": .string(EvidencePackFormat.rfc3161Proves),
                ]))
            } else if r.kind == EvidencePackRecordKind.ntsSample {
                samples.append(.object([
                    "record": .number(Double(c.index)), "checkpoint": .string(cpPath), "time": r.body["time"] ?? .null,
                    "boundSeconds": r.body["boundSeconds"] ?? .null, "offsetSeconds": r.body["offsetSeconds"] ?? .null,
                    "source": r.body["source"] ?? .null, "proves": .string(EvidencePackFormat.ntsProves),
                ]))
            }
        }

        // Recordings, streamed from the object store.
        var retention: [JSONValue] = []
        for (r, index) in recordings {
            guard let key = r.body["object"]?.stringValue, let want = r.body["sha256"]?.stringValue.flatMap(Digest.init(hex:)),
                  let session = r.body["session"]?.stringValue else {
                throw EvidenceError.verification("record \(index) (session.recording) lacks object, sha256 or session")
            }
            try ObjectKey.validate(key)
            let safe = session.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" }
            let name = "recordings/\(String(safe))-\(index).cast"
            try zip.beginEntry(name)
            let fd = try FileIO.open(objects.root + "/data/" + key, O_RDONLY)
            defer { close(fd) }
            var buf = [UInt8](repeating: 0, count: 1 << 20)
            var off: Int64 = 0
            while true {
                let n = try buf.withUnsafeMutableBytes { try FileIO.pread(fd, $0.baseAddress!, $0.count, at: off, path: key) }
                if n == 0 { break }
                try buf.withUnsafeBytes { try zip.write(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                off += Int64(n); report()
            }
            let e = try zip.endEntry()
            guard e.sha256 == want else {
                throw EvidenceError.verification("recording \(key) (record \(index)) hashes to \(e.sha256.hex), its record says \(want.hex): the object was altered; not exported")
            }
            listed(e, role: "recording", extra: ["record": .number(Double(index)), "session": .string(session), "format": r.body["format"] ?? .string("asciicast-v2")])
            if let info = try await objects.head(key) {
                retention.append(.object(["object": .string(key), "mode": .string(info.retention.mode.rawValue),
                                          "retainUntil": .string(Timestamp.format(info.retention.retainUntil)), "legalHold": .bool(info.retention.legalHold)]))
            }
        }
        // Sessions of the session recorder (session.start/chunk records): rebuilt as asciicast
        // v2 by the recorder's own export, which checks every chunk against its record.
        let recorded: [String]
        switch scope {
        case .session(let s): recorded = [s]
        case .incident: recorded = sessions.sorted()
        case .timeWindow: recorded = cited.compactMap { $0.record?.kind == "session.start" ? $0.record?.body["session"]?.stringValue : nil }
        }
        for s in recorded where (try? SessionRecordings.session(s, in: store, tenant: tenant)) != nil {
            let tmp = path + ".session.tmp"
            defer { unlink(tmp) }
            let summary = try await SessionRecordings.exportAsciicast(s, from: store, tenant: tenant, toFile: tmp)
            let safe = String(s.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" })
            try zip.beginEntry("recordings/\(safe).cast")
            let fd = try FileIO.open(tmp, O_RDONLY)
            defer { close(fd) }
            var buf = [UInt8](repeating: 0, count: 1 << 20)
            var off: Int64 = 0
            while true {
                let n = try buf.withUnsafeMutableBytes { try FileIO.pread(fd, $0.baseAddress!, $0.count, at: off, path: tmp) }
                if n == 0 { break }
                try buf.withUnsafeBytes { try zip.write(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                off += Int64(n); report()
            }
            listed(try zip.endEntry(), role: "recording", extra: ["session": .string(s), "format": .string("asciicast-v2"),
                                                                   "derivedFrom": .string("session.chunk records in records/log.jsonl"), "complete": .bool(summary.complete)])
        }
        for a in artefacts {
            listed(try zip.addEntry("reports/" + a.name, bytes: a.bytes), role: a.role)
        }

        // Custody: earlier exports from the log, then this one.
        var custody: [JSONValue] = cited.compactMap { c in
            guard let r = c.record, r.kind == EvidencePackRecordKind.packExported else { return nil }
            return .object(["action": .string("exported"), "by": .string(r.actor ?? "?"), "at": .string(Timestamp.format(r.time)),
                            "record": .number(Double(c.index)), "manifestSHA256": r.body["manifestSHA256"] ?? .null])
        }
        let now = store.clock.now()
        custody.append(.object(["action": .string("exported"), "by": .string(exportedBy), "at": .string(Timestamp.format(now)),
                                "host": .string(ProcessInfo.processInfo.hostName), "tool": .string(toolVersion)]))

        var time: [String: JSONValue] = ["rfc3161": .array(anchors), "nts": .array(samples)]
        if anchors.isEmpty { time["note"] = .string(EvidencePackFormat.localClockProves) }
        var manifest: [String: JSONValue] = [
            "format": .string(EvidencePackFormat.formatName), "version": .number(Double(EvidencePackFormat.version)),
            "tenant": .string(tenant.rawValue), "origin": .string(final.origin), "scope": scope.json, "createdAt": .string(Timestamp.format(now)),
            "signing": .object(["keyName": .string(signer.keyName), "verifierKey": .string(NoteKey.verifierKey(name: signer.keyName, publicKey: signer.publicKey)),
                                "signature": .string(EvidencePackFormat.signaturePath), "scheme": .string("C2SP signed-note, Ed25519")]),
            "files": .array(files),
            "log": .object(["checkpoint": .string(finalPath), "treeSize": .number(Double(treeSize)), "root": .string(final.root.hex),
                            "checkpoints": .array(checkpointRows), "records": .array(recordRows)]),
            "time": .object(time),
            "retention": .object(["store": .string(objects.guarantee.rawValue), "objects": .array(retention)]),
            "custody": .array(custody),
        ]
        if let incident { manifest["incident"] = incident }
        if let t = try? JSONParser.parse(FileIO.readFile(store.tenantPath(tenant) + "/tenant.json", limit: 1 << 16)), let name = t["displayName"]?.stringValue {
            manifest["tenantName"] = .string(name)
        }
        let manifestValue = JSONValue.object(manifest)
        let manifestBytes = JCS.canonicalize(manifestValue)
        let m = try zip.addEntry(EvidencePackFormat.manifestPath, bytes: manifestBytes)
        let timeline = cited.compactMap(\.record)
        let pdf = try zip.addEntry(EvidencePackFormat.reportPath, bytes: try renderer.render(manifest: manifestBytes, parsed: manifestValue, timeline: timeline))
        let note = try SignedNote.sign(EvidencePackFormat.signedStatement(origin: final.origin, manifest: m.sha256, report: pdf.sha256), with: signer)
        try zip.addEntry(EvidencePackFormat.signaturePath, bytes: Array(note.serialized.utf8))
        var sums = ""
        for e in zip.written { sums += "\(e.sha256.hex)  \(e.name)\n" }
        try zip.addEntry(EvidencePackFormat.sumsPath, bytes: Array(sums.utf8))
        try zip.finish()
        progress?(zip.bytesWritten, expected)

        let exported = EvidenceRecord(kind: EvidencePackRecordKind.packExported, tenant: tenant, time: now, actor: exportedBy, body: .object([
            "manifestSHA256": .string(m.sha256.hex), "scope": scope.json, "file": .string((path as NSString).lastPathComponent),
        ]))
        _ = try await writer.appendDurably(exported.canonicalBytes())
        return Result(path: path, manifestSHA256: m.sha256, bytes: zip.bytesWritten, records: cited.count, recordings: files.filter { $0["role"]?.stringValue == "recording" }.count,
                      tokens: anchors.count, checkpointSize: treeSize)
    }

    private func describe(_ s: EvidencePackScope) -> String {
        switch s {
        case .incident(let id): return "incident \(id)"
        case .session(let id): return "session \(id)"
        case .timeWindow(let f, let t): return "the window \(Timestamp.format(f)) to \(Timestamp.format(t))"
        }
    }
}
