import EvidenceCore
import EvidenceNTS
import EvidenceOpenSSL
import EvidenceTSA
import Foundation

/// `nis2ctl time …` and `nis2ctl anchor`: authenticated time (NTS) and RFC 3161 anchors on checkpoints.
enum TimeCommands {
    static let all: [CommandSpec] = [time, verify, anchor]

    /// Default trust for TSAs when `--tsa-ca` is absent: the system bundle (rarely holds TSA roots).
    static let systemBundle = "/etc/ssl/certs/ca-certificates.crt"

    static func ntsSource(_ a: ParsedArguments) throws -> NTSTimeSource {
        let hosts = a.values("nts")
        guard !hosts.isEmpty else { throw UsageError("missing required option --nts HOST[:PORT]") }
        let trust: NTSTrust = a.value("ca").map { .caFile($0) } ?? .systemStore
        let servers = try hosts.map { h -> NTSServerConfiguration in
            do { return NTSServerConfiguration(keServer: try NetworkEndpoint(parsing: h, defaultPort: 4460), trust: trust) }
            catch let e as NTSError { throw UsageError(e.message) }
        }
        return NTSTimeSource(servers: servers)
    }

    /// Maps library errors to the CLI's exit codes: trust and authentication failures are 1.
    static func run(_ body: () async throws -> ExitCode) async throws -> ExitCode {
        do { return try await body() } catch let e as NTSError {
            Console.err(e.message)
            return [.timedOut, .network].contains(e.code) ? .failure : .verificationFailed
        } catch let e as TSAError {
            Console.err(e.message)
            switch e.code {
            case .configuration: return .usage
            case .transport: return .failure
            default: return .verificationFailed
            }
        }
    }

    static let time = CommandSpec(
        path: ["time"], summary: "one authenticated time sample over NTS",
        help: """
        usage: nis2ctl time --nts HOST[:PORT] [--nts HOST[:PORT] ...] [--ca FILE] [--json]

        Runs NTS-KE (RFC 8915, default port 4460) and one authenticated NTP query per server,
        then intersects the servers' intervals (Marzullo; a majority must agree). Prints the
        offset of this machine's clock, the uncertainty bound, and which servers vouched with
        their certificate SHA-256. NTS bounds OUR clock: the result is not a proof a third
        party can check (use 'nis2ctl anchor' with an RFC 3161 TSA for that).

          --nts HOST[:PORT]  NTS-KE server; repeat for several (IPv6 as [::1]:4460)
          --ca FILE          trust only the CA certificates in FILE (default: system store)
          --json             one JSON object instead of text
        exit: 0 sample obtained, 1 authentication or agreement failed, 2 usage, 3 network
        """,
        options: ["nts", "ca"], flags: ["json"]
    ) { a in
        let source = try ntsSource(a)
        return try await run {
            let s = try await source.sample()
            let offset = s.time.timeIntervalSince(s.localTime)
            if a.flag("json") {
                Console.json(.object([
                    "time": .string(Timestamp.format(s.time)), "localTime": .string(Timestamp.format(s.localTime)),
                    "offsetSeconds": .number(offset), "boundSeconds": .number(s.boundSeconds), "source": .string(s.source),
                    "witnesses": .array(s.witnesses.map { w in .object([
                        "server": .string(w.server), "certificateSHA256": w.certificateSHA256.map(JSONValue.string) ?? .null,
                        "offsetSeconds": .number(w.offsetSeconds), "delaySeconds": .number(w.delaySeconds), "boundSeconds": .number(w.boundSeconds),
                    ]) }),
                ]))
            } else {
                Console.out("time     \(Timestamp.format(s.time))  (local clock \(String(format: "%+.6f", offset)) s off, ± \(String(format: "%.6f", s.boundSeconds)) s)")
                for w in s.witnesses {
                    Console.out("  \(w.server)  offset \(String(format: "%+.6f", w.offsetSeconds)) s  delay \(String(format: "%.6f", w.delaySeconds)) s  bound \(String(format: "%.6f", w.boundSeconds)) s  cert sha256 \(w.certificateSHA256 ?? "-")")
                }
            }
            return .success
        }
    }

    static let anchor = CommandSpec(
        path: ["anchor"], summary: "RFC 3161 token (+ NTS sample) on the latest checkpoint",
        help: """
        usage: nis2ctl anchor --store DIR --tenant ID --tsa URL [--tsa-ca FILE] [--nts HOST[:PORT] ...] [--ca FILE] [--json]

        Sends SHA-256 of the tenant's latest signed checkpoint note to the TSA, verifies the
        token (status, nonce, imprint, signature, chain to --tsa-ca, ESS signing-certificate-v2)
        and appends a time.anchor.rfc3161 record; with --nts also a time.sample.nts record
        bounding this machine's clock. The token is third-party verifiable; the NTS sample is not.

          --tsa URL       RFC 3161 endpoint (HTTP POST application/timestamp-query)
          --tsa-ca FILE   the TSA's root certificate(s), PEM (default: \(systemBundle))
          --nts, --ca     as for 'nis2ctl time'
        """,
        options: ["store", "tenant", "tsa", "tsa-ca", "nts", "ca"], flags: ["json"]
    ) { a in
        let store = try StoreAccess.open(try a.required("store"), signing: false)
        let tenant = try a.tenant()
        try store.requireTenant(tenant)
        guard let url = URL(string: try a.required("tsa")), url.scheme == "http" || url.scheme == "https" else {
            throw UsageError("--tsa must be an http:// or https:// URL")
        }
        let anchors = try TSATrustAnchors(pemFile: a.value("tsa-ca") ?? systemBundle)
        let source = a.values("nts").isEmpty ? nil : try ntsSource(a)
        guard let note = try store.logDirectory(tenant).checkpoints().raw.last else {
            throw EvidenceError(.notFound, "tenant \(tenant) has no checkpoint yet; sign one with 'nis2ctl log checkpoint --new'")
        }
        return try await run {
            let anchor = CheckpointTimeAnchor(authority: RFC3161TimestampAuthority(url: url, anchors: anchors), timeSource: source)
            let records = try await anchor.records(forSignedCheckpoint: note, tenant: tenant)
            var indices: [UInt64] = []
            for r in records { indices.append(try await store.append(r)) }
            try store.close()
            let token = records.last!.body
            if a.flag("json") {
                Console.json(.object(["tenant": .string(tenant.rawValue), "indices": .array(indices.map { .number(Double($0)) }),
                                      "checkpoint": token["checkpoint"] ?? .null, "genTime": token["genTime"] ?? .null, "tsa": token["tsa"] ?? .null]))
            } else {
                let size = token["checkpoint"]?["size"]?.numberValue.map { Int($0) } ?? 0
                Console.out("anchored checkpoint size \(size) of \(tenant): genTime \(token["genTime"]?.stringValue ?? "?") by \(token["tsa"]?.stringValue ?? "?") (records \(indices.map(String.init).joined(separator: ", ")))")
            }
            return .success
        }
    }

    static let verify = CommandSpec(
        path: ["time", "verify"], summary: "check every RFC 3161 anchor in a tenant's log offline",
        help: """
        usage: nis2ctl time verify --store DIR --tenant ID [--tsa-ca FILE] [--json]

        For every time.anchor.rfc3161 record: finds the checkpoint note it names in the
        tenant's checkpoints, and checks the token against it and the TSA trust anchor.
        Exit 1 if any anchor fails. (Checkpoint signatures are 'nis2ctl log verify'.)
        """,
        options: ["store", "tenant", "tsa-ca"], flags: ["json"]
    ) { a in
        let store = try StoreAccess.open(try a.required("store"), signing: false)
        let tenant = try a.tenant()
        try store.requireTenant(tenant)
        let checker = TimeAnchorVerifier(anchors: try TSATrustAnchors(pemFile: a.value("tsa-ca") ?? systemBundle))
        var notes: [String: [UInt8]] = [:]
        for raw in try store.logDirectory(tenant).checkpoints().raw { notes[StoreAccess.backend.hash(bytes: raw).hex] = raw }
        var ok = 0
        var failures: [String] = []
        // Records that are not typed evidence (free-form log lines) cannot be anchors: skip them.
        var anchorRecords: [(UInt64, EvidenceRecord)] = []
        let dir = store.logDirectory(tenant)
        try dir.forEachRecord(in: 0..<LogVerifier.recordCount(dir)) { i, raw, _ in
            guard let r = try? EvidenceRecord(canonicalBytes: Array(raw)), r.kind == CheckpointTimeAnchor.tokenKind else { return }
            anchorRecords.append((i, r))
        }
        for (i, r) in anchorRecords {
            guard let h = r.body["checkpoint"]?["noteSHA256"]?.stringValue, let note = notes[h] else {
                failures.append("record \(i): names a checkpoint that is not in the log"); continue
            }
            do { _ = try checker.verify(r, checkpointNote: note); ok += 1 } catch { failures.append("record \(i): \(error)") }
        }
        if a.flag("json") {
            Console.json(.object(["tenant": .string(tenant.rawValue), "ok": .bool(failures.isEmpty), "anchors": .number(Double(ok + failures.count)),
                                  "failures": .array(failures.map(JSONValue.string))]))
        } else {
            Console.out("tenant \(tenant): \(ok) of \(ok + failures.count) time anchors verify")
            for f in failures { Console.out("  FAIL \(f)") }
        }
        return failures.isEmpty ? .success : .verificationFailed
    }
}
