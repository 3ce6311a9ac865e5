import EvidenceCore
import EvidenceOpenSSL
import EvidencePDF
import EvidenceTSA
import Foundation
import NIS2Reporting

/// `nis2ctl pack export|verify`: evidence packs for authorities and auditors (Docs/EvidencePack.md).
enum PackCommands {
    static let all: [CommandSpec] = [export, verify]

    static let export = CommandSpec(
        path: ["pack", "export"], summary: "write a signed evidence pack (ZIP) for an incident, a session or a time window",
        help: """
        usage: nis2ctl pack export --store DIR --tenant ID (--incident ID | --session S | --from T --to T)
                                   (-o FILE.zip | --out FILE.zip) [--by ACTOR] [--json]

        Writes one ZIP: manifest.json (RFC 8785; files with SHA-256 and size, checkpoints,
        inclusion and consistency proofs, RFC 3161 tokens and NTS bounds, retention, custody),
        manifest.sig (C2SP signed note by the store's checkpoint key over manifest.json and
        report.pdf), records/log.jsonl, recordings (asciicast v2), report drafts, SHA256SUMS
        and report.pdf (with manifest.json attached). Memory stays bounded for multi-GB
        recordings; a progress bar is drawn on stderr when it is a terminal. A pack.exported
        record is appended to the log afterwards.

          --incident ID   the incident's records, its sessions, its report drafts
          --session S     one session's records and recordings
          --from/--to T   records with from <= time < to (RFC 3339)
          --by ACTOR      who exports (default local#$USER), shown in the custody chain
        """,
        options: ["store", "tenant", "incident", "session", "from", "to", "out", "by"], flags: ["json"]
    ) { a in
        let out = try outputPath(a)
        let store = try StoreAccess.open(try a.required("store"), signing: true)
        let tenant = try a.tenant()
        try store.requireTenant(tenant)
        let scope: EvidencePackScope
        switch (a.value("incident"), a.value("session"), a.value("from"), a.value("to")) {
        case (let i?, nil, nil, nil): scope = .incident(i)
        case (nil, let s?, nil, nil): scope = .session(s)
        case (nil, nil, _?, _?):
            guard let f = try IncidentDesk.time(a, "from"), let t = try IncidentDesk.time(a, "to"), f < t else { throw UsageError("--from must be before --to") }
            scope = .timeWindow(from: f, to: t)
        default: throw UsageError("give exactly one of --incident, --session, or --from with --to")
        }
        guard !FileManager.default.fileExists(atPath: out) else { throw UsageError("\(out) exists; packs are never overwritten, choose a new name") }
        var exporter = EvidencePackExporter(store: store, tenant: tenant, scope: scope, exportedBy: IncidentDesk.actor(a), renderer: EvidenceReportPDF())
        if case .incident(let id) = scope {
            let (summary, artefacts) = try await IncidentSummary.build(store: store, tenant: tenant, incident: id)
            exporter.incident = summary; exporter.artefacts = artefacts
        }
        let bar = ProgressBar(label: "export")
        exporter.progress = bar.map { b in { done, total in b.show(done, total) } }
        let r = try await exporter.export(to: out)
        bar?.done()
        try store.close()
        if a.flag("json") {
            Console.json(.object(["path": .string(r.path), "manifestSHA256": .string(r.manifestSHA256.hex), "bytes": .number(Double(r.bytes)),
                                  "records": .number(Double(r.records)), "recordings": .number(Double(r.recordings)), "tokens": .number(Double(r.tokens)),
                                  "treeSize": .number(Double(r.checkpointSize))]))
        } else {
            Console.out("wrote \(r.path): \(r.records) records, \(r.recordings) recordings, \(r.tokens) RFC 3161 tokens, \(r.bytes) bytes; checkpoint size \(r.checkpointSize); manifest SHA-256 \(r.manifestSHA256.hex)")
        }
        return .success
    }

    static let verify = CommandSpec(
        path: ["pack", "verify"], summary: "check an evidence pack offline; exit 1 naming the failing place",
        help: """
        usage: nis2ctl pack verify FILE.zip [--key FILE] [--tsa-ca FILE] [--json]

        Checks, without network: the ZIP structure; manifest.sig over manifest.json and
        report.pdf; every file's size and SHA-256 against the manifest and SHA256SUMS; that
        report.pdf embeds the manifest; checkpoint signatures; inclusion proofs of every record;
        consistency between checkpoints; each RFC 3161 token against its record and checkpoint,
        and its signature and chain when --tsa-ca is given.

          --key FILE      the MSP's C2SP verifier key to trust (without it, the key inside the
                          pack is used: integrity only, not origin — a warning says so)
          --tsa-ca FILE   PEM trust anchors for the RFC 3161 tokens
        """,
        options: ["key", "tsa-ca"], flags: ["json"]
    ) { a in
        guard a.positional.count == 1 else { throw UsageError("give exactly one pack file") }
        var verifier = EvidencePackVerifier(backend: OpenSSLSHA256())
        if let k = a.value("key") {
            guard let text = try? String(contentsOfFile: k, encoding: .utf8) else { throw UsageError("cannot read key file \(k)") }
            let (name, pub) = try NoteKey.parseVerifierKey(text)
            verifier.trustedKey = try PortableEd25519Verifier(keyName: name, publicKey: pub)
        }
        if let ca = a.value("tsa-ca") { verifier.timestamps = TSAPackTimestampVerifier(anchors: try TSATrustAnchors(pemFile: ca)) }
        let bar = ProgressBar(label: "verify")
        verifier.progress = bar.map { b in { done, total in b.show(done, total) } }
        let report = verifier.verify(a.positional[0])
        bar?.done()
        if a.flag("json") { Console.json(report.json) } else { printSummary(report) }
        return report.ok ? .success : .verificationFailed
    }

    static func outputPath(_ a: ParsedArguments) throws -> String {
        if let o = a.value("out") { return o }
        if a.positional.count == 2, a.positional[0] == "-o" { return a.positional[1] }
        throw UsageError("give the output file with -o FILE.zip or --out FILE.zip")
    }

    static func printSummary(_ r: PackVerificationReport) {
        Console.out("pack \(r.path)")
        if !r.tenant.isEmpty { Console.out("  tenant \(r.tenant), origin \(r.origin), scope \(r.scope)") }
        if r.files > 0 { Console.out("  \(r.files) entries, \(r.bytes) bytes, \(r.records) records, \(r.recordings) recordings; key: \(r.keySource)") }
        for c in r.checks { Console.out("  \(c.ok ? "ok  " : "FAIL") \(c.place): \(c.detail)") }
        for s in r.ntsSamples { Console.out("  NTS  \(s.time) ± \(s.boundSeconds) s from \(s.source): bounds our clock only, not third-party verifiable") }
        if r.anchors.isEmpty && r.ok { Console.out("  time: no RFC 3161 token — record times rest on the local clock only") }
        for w in r.warnings { Console.out("  warning: \(w)") }
        if let f = r.failure { Console.err("pack verification FAILED at \(f.place): \(f.detail)") } else { Console.out("pack verified") }
    }
}

/// RFC 3161 token checks for the pack verifier, from the TSA adapter.
struct TSAPackTimestampVerifier: PackTimestampVerifier {
    let anchors: TSATrustAnchors
    func verify(token: [UInt8], digest: Digest) throws -> (genTime: Date, authority: String) {
        let info = try RFC3161Verifier(anchors: anchors).verify(tokenDER: token, for: digest)
        return (info.genTime, info.tsaName ?? "unnamed TSA")
    }
}

/// A progress bar on stderr, only when stderr is a terminal.
final class ProgressBar: Sendable {
    let label: String
    init?(label: String) { guard isatty(2) == 1 else { return nil }; self.label = label }
    func show(_ done: UInt64, _ total: UInt64) {
        let t = max(total, done, 1)
        let frac = Double(done) / Double(t)
        let filled = Int(frac * 30)
        let line = "\r\(label) [" + String(repeating: "#", count: filled) + String(repeating: ".", count: 30 - filled) + "] " + String(format: "%3.0f%% %.1f / %.1f MiB", frac * 100, Double(done) / 1048576, Double(t) / 1048576)
        FileHandle.standardError.write(Data(line.utf8))
    }
    func done() { FileHandle.standardError.write(Data("\n".utf8)) }
}
