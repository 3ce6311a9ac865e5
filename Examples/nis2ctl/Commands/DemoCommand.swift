import EvidenceAccess
import EvidenceCore
import EvidenceOpenSSL
import EvidencePDF
import EvidencePTY
import EvidenceSQLite
import Foundation
import NIS2Reporting

/// `nis2ctl demo`: the whole evidence chain on embedded defaults, with no server: a store and
/// a tenant, a just-in-time grant, a recorded pseudo-terminal session, signed checkpoints, a
/// local-clock time sample, a simulated significant incident, 24 h and 72 h drafts, an
/// evidence pack verified offline, and a file-drop submission whose receipt goes back into
/// the log. Every step calls the library directly; nothing is shelled out except the recorded
/// session itself.
enum DemoCommand {
    static let all: [CommandSpec] = [demo]

    static let tenant = try! TenantID("acme-gmbh")
    static let incidentID = "INC-DEMO-1"

    static let demo = CommandSpec(
        path: ["demo"], summary: "run the whole evidence flow on embedded defaults (no servers)",
        help: """
        usage: nis2ctl demo [--dir DIR]

        Runs the pilot flow end to end and prints where every output is:
          store + tenant, JIT grant (request, approval by a second person, activation),
          a recorded session (/bin/sh under a pseudo-terminal, no terminal needed),
          signed checkpoints, a time sample from the local clock only (no NTS/TSA configured,
          so not third-party verifiable), a simulated incident classified under IR 2024/2690,
          early warning (24 h) and notification (72 h) drafts in English and German,
          an evidence pack and its offline verification, and a file-drop portal submission.

          --dir DIR   where to put everything (new or empty; default: a new folder under /tmp)
        """,
        options: ["dir"]
    ) { a in
        let dir = try a.value("dir") ?? makeTempDir()
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        guard (try FileManager.default.contentsOfDirectory(atPath: dir)).isEmpty else {
            throw UsageError("--dir \(dir) is not empty; give a new or empty folder")
        }
        var demo = try DemoRun(dir: dir)
        return try await demo.run()
    }

    static func makeTempDir() throws -> String {
        var template = Array("/tmp/nis2-demo-XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { throw EvidenceError(.io, "cannot create a temporary folder under /tmp") }
        return String(cString: p)
    }
}

/// The state of one demo run: paths, the open store, and what each step produced.
struct DemoRun {
    let dir: String
    let storePath: String
    let clock = SystemWallClock()
    var outputs: [(what: String, path: String)] = []
    var step = 0

    init(dir: String) throws {
        self.dir = dir
        storePath = dir + "/store"
    }

    mutating func say(_ title: String) {
        step += 1
        Console.out("\n== \(step). \(title)")
    }

    mutating func run() async throws -> ExitCode {
        let t = DemoCommand.tenant

        say("Evidence store and tenant")
        let origin = "demo.msp.example/evidence"
        let (signer, seed) = try Ed25519Signer.generate(keyName: origin)
        try EvidenceStore.create(at: storePath, origin: origin, keyName: origin, publicKey: signer.publicKey,
                                 privateKey: NoteKey.privateKey(name: origin, seed: seed, publicKey: signer.publicKey), clock: clock)
        let store = try StoreAccess.open(storePath, signing: true, clock: clock)
        try store.addTenant(t, displayName: "ACME GmbH")
        Console.out("store \(storePath), tenant \(t) (ACME GmbH), checkpoint key \(origin)")
        outputs.append(("evidence store (log, objects, incidents)", storePath))
        outputs.append(("verifier key for auditors", store.verifierKeyPath))

        say("Just-in-time grant through the access broker")
        let alice = Principal(subject: "alice", issuer: "https://idp.msp.example", tenant: t, displayName: "Alice Admin",
                              assurance: .phishingResistant, methods: ["hwk"], roles: [.admin])
        let bob = Principal(subject: "bob", issuer: "https://idp.msp.example", tenant: t, displayName: "Bob Approver",
                            assurance: .phishingResistant, methods: ["hwk"], roles: [.approver])
        let broker = AccessBroker(sink: store, clock: clock)
        var grant = try await broker.request(GrantRequest(tenant: t, target: "ssh:fw-01.acme.example", role: "root",
                                                          reason: "investigate failed logins on the firewall", ticket: "ACME-4711", duration: 1800), by: alice)
        Console.out("requested \(grant.id) by \(PrincipalReference(alice).actor): root on ssh:fw-01.acme.example for 30 min")
        grant = try await broker.approve(grant.id, tenant: t, by: bob)
        Console.out("approved by \(PrincipalReference(bob).actor) (a second person), state \(grant.state.rawValue)")
        grant = try await broker.activate(grant.id, tenant: t, by: alice)
        Console.out("activated, expires \(grant.expiresAt.map(Timestamp.format) ?? "?")")

        say("Recorded privileged session (pseudo-terminal, scripted, no terminal needed)")
        let sessionID = try await recordSession(store: store, grantID: grant.id, actor: PrincipalReference(alice).actor)

        say("WORM log: signed checkpoint, time from the local clock only")
        let (cp, _) = try store.writer(for: t).checkpoint()
        Console.out("checkpoint size \(cp.size), root \(cp.root.hex.prefix(16))…, signed with \(origin)")
        try await recordLocalClockSample(store: store, checkpoint: cp)

        say("Simulated incident: open at detection, confirm awareness, classify (IR 2024/2690)")
        let desk = try DemoIncident(store: store, clock: clock)
        try await desk.run(sessionID: sessionID, grantID: grant.id)

        say("Report drafts: early warning (24 h) and notification (72 h), en + de")
        let drafts = try await desk.writeDrafts(into: dir + "/reports")
        outputs.append(("report drafts (md + json, en + de)", dir + "/reports"))

        say("Evidence pack for the incident")
        let pack = dir + "/evidence-pack.zip"
        var exporter = EvidencePackExporter(store: store, tenant: t, scope: .incident(DemoCommand.incidentID),
                                            exportedBy: PrincipalReference(alice).actor, renderer: EvidenceReportPDF())
        exporter.toolVersion = "nis2ctl demo"
        (exporter.incident, exporter.artefacts) = try await IncidentSummary.build(store: store, tenant: t, incident: DemoCommand.incidentID)
        let r = try await exporter.export(to: pack)
        Console.out("wrote \(pack): \(r.records) records, \(r.recordings) recordings, \(r.bytes) bytes; manifest SHA-256 \(r.manifestSHA256.hex)")
        outputs.append(("evidence pack (ZIP, signed manifest, report.pdf)", pack))

        say("Offline verification of the pack (as 'nis2ctl pack verify --key')")
        var verifier = EvidencePackVerifier(backend: OpenSSLSHA256())
        verifier.trustedKey = try StoreAccess.verifier(store, keyFile: nil)
        let report = verifier.verify(pack)
        PackCommands.printSummary(report)
        guard report.ok else { try store.close(); return .verificationFailed }

        say("Submission through the file-drop portal")
        try await desk.submitEarlyWarning(drop: dir + "/portal-drop", pdfFrom: pack, outputs: &outputs)

        try store.close()
        say("Where everything is")
        let width = outputs.map(\.what.count).max() ?? 0
        for o in outputs { Console.out("  " + o.what.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + o.path) }
        Console.out("""

          time: every time here comes from this machine's clock (time.sample, source local-clock);
                no NTS or RFC 3161 authority is configured, so no time is third-party verifiable.
          drafts: \(drafts.filter(\.complete).count) of \(drafts.count) complete\(drafts.contains { !$0.complete } ? "; missing items are listed in each draft" : "")
          check it yourself:
            nis2ctl log verify --store \(storePath)
            nis2ctl pack verify \(pack) --key \(store.verifierKeyPath)
            nis2ctl kpi --store \(storePath)
        """)
        return .success
    }

    /// Records `/bin/sh -c …` under a pseudo-terminal with input from /dev/null, so no
    /// terminal is needed; the three commands are also offered as privileged actions.
    mutating func recordSession(store: EvidenceStore, grantID: String, actor: String) async throws -> String {
        let commands = ["echo 'NIS2 demo: privileged session on fw-01'", "id", "uname -a"]
        let argv = ["/bin/sh", "-c", commands.joined(separator: "; ")]
        let sessionID = "s-demo-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let descriptor = try SessionDescriptor(id: sessionID, tenant: DemoCommand.tenant, principal: actor, grantID: grantID,
                                               target: "ssh:fw-01.acme.example", command: argv, columns: 100, rows: 30)
        let recorder = try await SessionRecorder.start(descriptor, in: store)
        for c in commands {
            let argvJSON = JCS.canonicalize(.object(["argv": .array(["/bin/sh", "-c", c].map(JSONValue.string))]))
            try recorder.offer(SessionEvent(kind: .command, time: clock.now(), data: argvJSON))
        }
        let devNull = open("/dev/null", O_RDONLY)
        guard devNull >= 0 else { throw EvidenceError(.io, "cannot open /dev/null") }
        defer { close(devNull) }
        var relay = TerminalRelay()
        relay.input = devNull
        relay.clock = clock
        let outcome = try relay.run(argv, recorder: recorder)
        let s = outcome.summary
        Console.out("session \(sessionID): exit \(outcome.exitStatus), \(s.chunks) chunks, \(s.bytes) bytes, \(s.durableEvents) events, 3 privileged actions")
        let cast = dir + "/session.cast"
        _ = try await SessionRecordings.exportAsciicast(sessionID, from: store, tenant: DemoCommand.tenant, toFile: cast)
        outputs.append(("session recording (asciicast v2)", cast))
        return sessionID
    }

    /// A `time.sample` record of source `local-clock`: states the clock reading and that no
    /// third party can check it.
    func recordLocalClockSample(store: EvidenceStore, checkpoint cp: Checkpoint) async throws {
        let t = DemoCommand.tenant
        guard let note = try store.logDirectory(t).checkpoints().raw.last else { throw EvidenceError(.notFound, "no checkpoint to sample time for") }
        let now = clock.now()
        let record = EvidenceRecord(kind: "time.sample", tenant: t, time: now, body: .object([
            "checkpoint": .object(["origin": .string(cp.origin), "size": .number(Double(cp.size)), "root": .string(cp.root.base64),
                                   "noteSHA256": .string(store.backend.hash(bytes: note).hex)]),
            "time": .string(Timestamp.format(now)), "localTime": .string(Timestamp.format(now)),
            "source": .string("local-clock"), "boundSeconds": .null, "witnesses": .array([]),
            "proof": .string("local-clock-only"),
            "note": .string("no NTS server or RFC 3161 authority configured: this time is the recording system's own clock and is not third-party verifiable"),
        ]))
        _ = try await store.append(record)
        Console.out("time.sample source local-clock at \(Timestamp.format(now)): NOT third-party verifiable (configure 'nis2ctl anchor --tsa' for RFC 3161 tokens)")
    }
}
