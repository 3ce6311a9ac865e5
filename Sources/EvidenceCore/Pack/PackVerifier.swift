import Foundation

/// The outcome of checking one pack: every check done, in order, and the first failure.
public struct PackVerificationReport: Sendable {
    public struct Check: Sendable, Hashable {
        /// The pack entry or manifest field checked (`recordings/s1-7.cast`, `manifest.sig`, `time/rfc3161-9.tsr`).
        public var place: String
        public var ok: Bool
        public var detail: String
    }
    public var path: String
    public var checks: [Check] = []
    public var warnings: [String] = []
    public var tenant = "", origin = "", scope = "", keySource = ""
    public var files = 0, bytes: UInt64 = 0, records = 0, treeSize: UInt64 = 0, recordings = 0
    /// Each RFC 3161 token: its file, genTime, authority and whether its signature was checked.
    public var anchors: [(token: String, genTime: String, tsa: String, signatureChecked: Bool)] = []
    public var ntsSamples: [(time: String, boundSeconds: Double, source: String)] = []

    public var failure: Check? { checks.first { !$0.ok } }
    public var ok: Bool { failure == nil && !checks.isEmpty }

    public var json: JSONValue {
        var o: [String: JSONValue] = [
            "ok": .bool(ok), "path": .string(path), "tenant": .string(tenant), "origin": .string(origin), "scope": .string(scope),
            "keySource": .string(keySource), "files": .number(Double(files)), "bytes": .number(Double(bytes)),
            "records": .number(Double(records)), "treeSize": .number(Double(treeSize)), "recordings": .number(Double(recordings)),
            "warnings": .array(warnings.map(JSONValue.string)),
            "checks": .array(checks.map { .object(["place": .string($0.place), "ok": .bool($0.ok), "detail": .string($0.detail)]) }),
            "rfc3161": .array(anchors.map { .object(["token": .string($0.token), "genTime": .string($0.genTime), "tsa": .string($0.tsa), "signatureChecked": .bool($0.signatureChecked)]) }),
            "nts": .array(ntsSamples.map { .object(["time": .string($0.time), "boundSeconds": .number($0.boundSeconds), "source": .string($0.source)]) }),
        ]
        if let f = failure { o["failure"] = .object(["place": .string(f.place), "detail": .string(f.detail)]) }
        return .object(o)
    }
}

/// Checks an evidence pack offline with nothing but EvidenceCore (Docs/EvidencePack.md §Verifying).
///
/// Guarantees: `ok` only if the ZIP is well formed; `manifest.sig` is a C2SP note signed by the
/// trusted key over the SHA-256 of exactly these `manifest.json` and `report.pdf` bytes; the
/// manifest is canonical JCS; every entry is listed (manifest or the four fixed names), with
/// matching size and SHA-256, and `SHA256SUMS` agrees; `report.pdf` embeds the manifest; every
/// checkpoint is signed by the trusted key for the pack's origin; every record line's leaf
/// hash has an inclusion proof to the final checkpoint; every earlier checkpoint is consistent
/// with it; every RFC 3161 token is the one its (included) record holds, over the SHA-256 of
/// the checkpoint note it names — and its signature verifies when a `PackTimestampVerifier` is
/// given (otherwise a warning says it was not checked).
/// Without `trustedKey` the key in the manifest is used: that proves integrity, not origin, and
/// the report says so.
public struct EvidencePackVerifier {
    public var trustedKey: (any SignatureVerifier)?
    public var timestamps: (any PackTimestampVerifier)?
    public var backend: any SHA256Backend
    /// Called with (bytes hashed, total bytes) about every 64 MiB.
    public var progress: ((UInt64, UInt64) -> Void)?

    public init(backend: any SHA256Backend = PortableSHA256(), trustedKey: (any SignatureVerifier)? = nil, timestamps: (any PackTimestampVerifier)? = nil) {
        self.backend = backend; self.trustedKey = trustedKey; self.timestamps = timestamps
    }

    struct Failure: Error { var place: String; var detail: String }

    public func verify(_ path: String) -> PackVerificationReport {
        var report = PackVerificationReport(path: path)
        do {
            try run(path, &report)
        } catch let f as Failure {
            report.checks.append(.init(place: f.place, ok: false, detail: f.detail))
        } catch let e as EvidenceError {
            report.checks.append(.init(place: "pack", ok: false, detail: e.message))
        } catch {
            report.checks.append(.init(place: "pack", ok: false, detail: "\(error)"))
        }
        return report
    }

    private func run(_ path: String, _ report: inout PackVerificationReport) throws {
        let zip: ZipArchiveReader
        do { zip = try ZipArchiveReader(path: path) } catch let e as EvidenceError { throw Failure(place: "zip", detail: e.message) }
        func pass(_ place: String, _ detail: String) { report.checks.append(.init(place: place, ok: true, detail: detail)) }
        func entry(_ name: String) throws -> ZipEntry {
            guard let e = zip.entry(name) else { throw Failure(place: name, detail: "missing from the pack") }
            return e
        }
        pass("zip", "\(zip.entries.count) stored entries, well formed")

        // 1. Hash every entry once, streaming.
        let total = zip.entries.reduce(UInt64(0)) { $0 + $1.size }
        var done: UInt64 = 0, lastReport: UInt64 = 0
        var digests: [String: Digest] = [:]
        for e in zip.entries {
            var h = backend.makeHasher()
            try zip.stream(e) { chunk in
                h.update(chunk); done += UInt64(chunk.count)
                if let progress, done - lastReport >= 64 << 20 { lastReport = done; progress(done, total) }
            }
            digests[e.name] = h.finalize()
        }
        progress?(total, total)
        report.bytes = total

        // 2. Manifest: canonical JSON.
        let manifestEntry = try entry(EvidencePackFormat.manifestPath)
        let manifestBytes: [UInt8]
        let manifest: JSONValue
        do {
            manifestBytes = try zip.read(manifestEntry, limit: EvidencePackFormat.maxManifestBytes)
            manifest = try JSONParser.parse(manifestBytes, limits: EvidencePackFormat.manifestLimits)
        } catch let e as EvidenceError { throw Failure(place: "manifest.json", detail: e.message) }
        guard JCS.canonicalize(manifest) == manifestBytes else { throw Failure(place: "manifest.json", detail: "not in RFC 8785 canonical form (it was edited)") }
        let m = ManifestReader(value: manifest)
        guard try m.string("format") == EvidencePackFormat.formatName, try m.number("version") == Double(EvidencePackFormat.version) else {
            throw Failure(place: "manifest.json", detail: "format is not \(EvidencePackFormat.formatName) v\(EvidencePackFormat.version)")
        }
        report.tenant = try m.string("tenant"); report.origin = try m.string("origin")
        report.scope = String(decoding: JCS.canonicalize(manifest["scope"] ?? .null), as: UTF8.self)

        // 3. The signature over manifest and report.
        let key: any SignatureVerifier
        if let trustedKey { key = trustedKey; report.keySource = "trusted key \(trustedKey.keyName) (given)" } else {
            do {
                let (name, pub) = try NoteKey.parseVerifierKey(try m.string("signing", "verifierKey"))
                key = try PortableEd25519Verifier(keyName: name, publicKey: pub)
            } catch let f as Failure { throw f } catch { throw Failure(place: "manifest.json signing.verifierKey", detail: "\(error)") }
            report.keySource = "key \(key.keyName) taken from the pack itself"
            report.warnings.append("no trusted key given: the pack is checked against the key it carries, which proves integrity but not who made it; pass the MSP's published verifier key (--key) to prove origin")
        }
        let sigBytes = try zip.read(try entry(EvidencePackFormat.signaturePath), limit: EvidencePackFormat.maxSignatureBytes)
        let note: SignedNote
        do { note = try SignedNote(parsing: sigBytes) } catch let e as EvidenceError { throw Failure(place: "manifest.sig", detail: e.message) }
        guard note.isSigned(by: key) else {
            // Name the altered file where the (unverified) statement allows: a manifest whose
            // digest is not the one the statement gives was changed after signing, e.g. an
            // edit of its verifier key that makes the pack check itself against another key.
            if let claimed = EvidencePackFormat.parseStatement(note.text), claimed.manifest != digests[EvidencePackFormat.manifestPath] {
                throw Failure(place: "manifest.json", detail: "SHA-256 differs from the one manifest.sig states, and no valid signature by key \(key.keyName): the manifest (or the signature file) was altered")
            }
            throw Failure(place: "manifest.sig", detail: "no valid signature by key \(key.keyName) (forged, altered, or signed by another key)")
        }
        guard let statement = EvidencePackFormat.parseStatement(note.text) else { throw Failure(place: "manifest.sig", detail: "the signed text is not an evidence-pack statement") }
        // The statement is signed at this point, so a different origin is an altered manifest.
        guard statement.origin == report.origin else { throw Failure(place: "manifest.json", detail: "origin \(report.origin) is not the \(statement.origin) signed in manifest.sig: the manifest was altered") }
        guard statement.manifest == digests[EvidencePackFormat.manifestPath] else { throw Failure(place: "manifest.json", detail: "SHA-256 differs from the one signed in manifest.sig: the manifest was altered") }
        let reportEntry = try entry(EvidencePackFormat.reportPath)
        guard statement.report == digests[EvidencePackFormat.reportPath] else { throw Failure(place: "report.pdf", detail: "SHA-256 differs from the one signed in manifest.sig: the report was altered") }
        pass("manifest.sig", "signed by \(key.keyName) over manifest.json and report.pdf")

        // 4. Every entry listed, with matching size and digest.
        var listed = Set<String>()
        for f in try m.array("files") {
            let fr = ManifestReader(value: f)
            let name = try fr.string("path"), size = try fr.number("size")
            guard let want = Digest(hex: try fr.string("sha256")) else { throw Failure(place: name, detail: "manifest sha256 is not 64 hex digits") }
            guard listed.insert(name).inserted, !EvidencePackFormat.fixedEntries.contains(name) else { throw Failure(place: name, detail: "listed twice in the manifest") }
            let e = try entry(name)
            guard Double(e.size) == size else { throw Failure(place: name, detail: "is \(e.size) bytes, the manifest says \(Int(size))") }
            guard digests[name] == want else { throw Failure(place: name, detail: "SHA-256 \(digests[name]?.hex ?? "?") differs from the manifest's \(want.hex): the file was altered") }
            if try fr.string("role") == "recording" { report.recordings += 1 }
        }
        for e in zip.entries where !listed.contains(e.name) && !EvidencePackFormat.fixedEntries.contains(e.name) {
            throw Failure(place: e.name, detail: "is in the ZIP but not in the manifest (added after signing)")
        }
        report.files = zip.entries.count
        pass("files", "\(listed.count) files match the manifest's sizes and SHA-256")

        // 5. SHA256SUMS agrees with what was hashed.
        let sums = String(decoding: try zip.read(try entry(EvidencePackFormat.sumsPath), limit: EvidencePackFormat.maxSumsBytes), as: UTF8.self)
        var summed = Set<String>()
        for (i, line) in sums.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            let place = "SHA256SUMS line \(i + 1)"
            guard line.count > 66, let d = Digest(hex: String(line.prefix(64))), line.dropFirst(64).hasPrefix("  ") else { throw Failure(place: place, detail: "not '<sha256>  <name>'") }
            let name = String(line.dropFirst(66))
            guard summed.insert(name).inserted, name != EvidencePackFormat.sumsPath, let actual = digests[name] else { throw Failure(place: place, detail: "names \(name), which is not a pack entry (or is repeated)") }
            guard actual == d else { throw Failure(place: place, detail: "the SHA-256 it gives for \(name) is not that entry's") }
        }
        guard summed.count == zip.entries.count - 1 else { throw Failure(place: "SHA256SUMS", detail: "lists \(summed.count) entries, the pack has \(zip.entries.count - 1) besides it") }
        pass("SHA256SUMS", "agrees with every entry")

        // 6. The report embeds this manifest.
        let pdf = try zip.read(reportEntry, limit: EvidencePackFormat.maxReportBytes)
        guard pdf.starts(with: Array("%PDF-".utf8)), Self.contains(pdf, manifestBytes) else {
            throw Failure(place: "report.pdf", detail: "does not embed manifest.json byte for byte")
        }
        pass("report.pdf", "embeds manifest.json")

        try checkLog(zip, m, key, &report)
    }

    private func checkLog(_ zip: ZipArchiveReader, _ m: ManifestReader, _ key: any SignatureVerifier, _ report: inout PackVerificationReport) throws {
        // 7. Checkpoints.
        let treeSize = UInt64(try m.number("log", "treeSize"))
        var roots: [String: (Checkpoint, Digest)] = [:]
        for c in try m.array("log", "checkpoints") {
            let cr = ManifestReader(value: c)
            let name = try cr.string("path")
            guard let e = zip.entry(name) else { throw Failure(place: name, detail: "missing from the pack") }
            let raw = try zip.read(e, limit: EvidencePackFormat.maxCheckpointBytes)
            let cp: Checkpoint
            do {
                let n = try SignedNote(parsing: raw)
                guard n.isSigned(by: key) else { throw Failure(place: name, detail: "checkpoint is not signed by \(key.keyName)") }
                cp = try Checkpoint(body: n.text)
            } catch let e as EvidenceError { throw Failure(place: name, detail: e.message) }
            guard cp.origin == report.origin else { throw Failure(place: name, detail: "checkpoint origin \(cp.origin) is not the pack's \(report.origin)") }
            guard cp.size <= treeSize else { throw Failure(place: name, detail: "checkpoint size \(cp.size) beyond the final tree size \(treeSize)") }
            roots[name] = (cp, backend.hash(bytes: raw))
        }
        let finalName = try m.string("log", "checkpoint")
        guard let (final, _) = roots[finalName], final.size == treeSize, final.root.hex == (try m.string("log", "root")) else {
            throw Failure(place: finalName, detail: "is not the final checkpoint the manifest names (size \(treeSize))")
        }
        for c in try m.array("log", "checkpoints") {
            let cr = ManifestReader(value: c)
            let name = try cr.string("path")
            guard let (cp, _) = roots[name], cp.size < treeSize else { continue }
            let proof = ConsistencyProof(oldSize: cp.size, newSize: treeSize, path: try cr.digests("consistency", "path"))
            guard MerkleProofs.verifyConsistency(proof, oldRoot: cp.root, newRoot: final.root, using: backend) else {
                throw Failure(place: name, detail: "consistency proof from size \(cp.size) to \(treeSize) does not verify: the log was rewritten")
            }
        }
        report.treeSize = treeSize
        report.checks.append(.init(place: "checkpoints", ok: true, detail: "\(roots.count) signed by \(key.keyName), consistent with size \(treeSize)"))

        // 8. Records: leaf hashes and inclusion proofs.
        let rows = try m.array("log", "records")
        let recordsEntry = try zip.entry(EvidencePackFormat.recordsPath) ?? { throw Failure(place: EvidencePackFormat.recordsPath, detail: "missing") }()
        var timeRecords: [UInt64: EvidenceRecord] = [:]
        var lineNo = 0
        var pending: [UInt8] = []
        func line(_ bytes: ArraySlice<UInt8>) throws {
            lineNo += 1
            let place = "\(EvidencePackFormat.recordsPath) line \(lineNo)"
            guard lineNo <= rows.count else { throw Failure(place: place, detail: "more lines than the manifest's \(rows.count) records") }
            let row = ManifestReader(value: rows[lineNo - 1])
            let leaf = backend.leafHash(Array(bytes))
            guard leaf.hex == (try row.string("leafHash")) else { throw Failure(place: place, detail: "leaf hash \(leaf.hex) is not the manifest's: the record was altered") }
            let index = UInt64(try row.number("index"))
            let proof = InclusionProof(index: index, treeSize: UInt64(try row.number("inclusion", "treeSize")), path: try row.digests("inclusion", "path"))
            guard proof.treeSize == treeSize, MerkleProofs.verifyInclusion(proof, leafHash: leaf, root: final.root, using: backend) else {
                throw Failure(place: place, detail: "record \(index) has no valid inclusion proof to checkpoint \(finalName)")
            }
            if let r = try? EvidenceRecord(canonicalBytes: Array(bytes)) {
                guard r.tenant.rawValue == report.tenant else { throw Failure(place: place, detail: "record of tenant \(r.tenant), the pack is for \(report.tenant)") }
                if r.kind.hasPrefix("time.") { timeRecords[index] = r }
            }
        }
        try zip.stream(recordsEntry) { chunk in
            var start = 0
            for i in 0..<chunk.count where chunk[i] == 0x0a {
                pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[start..<i]))
                try line(pending[...]); pending.removeAll(keepingCapacity: true); start = i + 1
            }
            pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[start..<chunk.count]))
            guard pending.count <= EvidencePackFormat.maxRecordLineBytes else { throw Failure(place: "\(EvidencePackFormat.recordsPath) line \(lineNo + 1)", detail: "longer than \(EvidencePackFormat.maxRecordLineBytes) bytes") }
        }
        guard pending.isEmpty, lineNo == rows.count else { throw Failure(place: EvidencePackFormat.recordsPath, detail: "has \(lineNo) complete lines, the manifest lists \(rows.count) records") }
        report.records = lineNo
        report.checks.append(.init(place: EvidencePackFormat.recordsPath, ok: true, detail: "\(lineNo) records, each proven included in the tree of size \(treeSize)"))

        // 9. Time proofs.
        for a in try m.array("time", "rfc3161") {
            let ar = ManifestReader(value: a)
            let tokenName = try ar.string("token"), cpName = try ar.string("checkpoint")
            let index = UInt64(try ar.number("record"))
            guard let e = zip.entry(tokenName) else { throw Failure(place: tokenName, detail: "missing") }
            let token = try zip.read(e, limit: EvidencePackFormat.maxTokenBytes)
            guard let (_, noteDigest) = roots[cpName], noteDigest.hex == (try ar.string("noteSHA256")) else {
                throw Failure(place: tokenName, detail: "names checkpoint \(cpName), which is not in the pack with that SHA-256")
            }
            guard let r = timeRecords[index], r.body["token"]?.stringValue.flatMap(Base64.decode) == token, r.body["imprint"]?.stringValue == noteDigest.hex else {
                throw Failure(place: tokenName, detail: "is not the token of the included record \(index) over \(cpName)")
            }
            var genTime = r.body["genTime"]?.stringValue ?? "?", tsa = r.body["tsa"]?.stringValue ?? "?"
            var checked = false
            if let timestamps {
                do {
                    let v = try timestamps.verify(token: token, digest: noteDigest)
                    guard Timestamp.format(v.genTime) == genTime else { throw Failure(place: tokenName, detail: "token genTime \(Timestamp.format(v.genTime)) differs from its record's \(genTime)") }
                    genTime = Timestamp.format(v.genTime); tsa = v.authority; checked = true
                } catch let f as Failure { throw f } catch { throw Failure(place: tokenName, detail: "RFC 3161 token does not verify: \(error)") }
            } else {
                report.warnings.append("\(tokenName): token matches its record and checkpoint, but its signature was not checked (no TSA trust anchor given; use --tsa-ca or 'openssl ts -verify')")
            }
            report.anchors.append((tokenName, genTime, tsa, checked))
            report.checks.append(.init(place: tokenName, ok: true, detail: "checkpoint \(cpName) existed at \(genTime) (\(tsa))\(checked ? ", signature verified" : ", signature NOT checked")"))
        }
        for s in try m.array("time", "nts") {
            let sr = ManifestReader(value: s)
            report.ntsSamples.append(((try? sr.string("time")) ?? "?", (try? sr.number("boundSeconds")) ?? 0, (try? sr.string("source")) ?? "?"))
        }
    }

    /// Whether `needle` occurs in `haystack` (first-byte scan, then compare).
    public static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard let first = needle.first, needle.count <= haystack.count else { return needle.isEmpty }
        return haystack.withUnsafeBufferPointer { h in
            needle.withUnsafeBufferPointer { n in
                var i = 0
                let last = h.count - n.count
                while i <= last {
                    if h[i] == first, memcmp(h.baseAddress! + i, n.baseAddress!, n.count) == 0 { return true }
                    i += 1
                }
                return false
            }
        }
    }
}

/// Typed access to manifest fields; a missing or mistyped field is a failure naming it.
struct ManifestReader {
    let value: JSONValue
    private func at(_ path: [String]) throws -> JSONValue {
        var v = value
        for k in path {
            guard let n = v[k] else { throw EvidencePackVerifier.Failure(place: "manifest.json \(path.joined(separator: "."))", detail: "missing") }
            v = n
        }
        return v
    }
    func string(_ path: String...) throws -> String {
        guard let s = try at(path).stringValue else { throw EvidencePackVerifier.Failure(place: "manifest.json \(path.joined(separator: "."))", detail: "is not a string") }
        return s
    }
    func number(_ path: String...) throws -> Double {
        guard let n = try at(path).numberValue, n >= 0, n < 9.0e15 else { throw EvidencePackVerifier.Failure(place: "manifest.json \(path.joined(separator: "."))", detail: "is not a non-negative integer") }
        return n
    }
    func array(_ path: String...) throws -> [JSONValue] {
        guard let a = try at(path).arrayValue else { throw EvidencePackVerifier.Failure(place: "manifest.json \(path.joined(separator: "."))", detail: "is not an array") }
        return a
    }
    func digests(_ path: String...) throws -> [Digest] {
        guard let a = try at(path).arrayValue, a.count <= 64 else { throw EvidencePackVerifier.Failure(place: "manifest.json \(path.joined(separator: "."))", detail: "is not a proof path (at most 64 hashes)") }
        return try a.map { v in
            guard let d = v.stringValue.flatMap(Digest.init(hex:)) else { throw EvidencePackVerifier.Failure(place: "manifest.json \(path.joined(separator: "."))", detail: "holds a value that is not a SHA-256 hex digest") }
            return d
        }
    }
}
