import EvidenceCore
import EvidencePortals
import Foundation
import NIS2Reporting
#if canImport(Glibc)
import Glibc
#endif

/// A significant incident of tenant `acme` in memory, aware and classified, with a complete
/// narrative: ready for its early warning.
struct IncidentFixture {
    let clock = ManualWallClock(Date(timeIntervalSince1970: 1_780_000_000))
    let log = InMemoryEvidenceLog()
    let lifecycle: IncidentLifecycle
    let tenant = try! TenantID("acme")
    let id = "INC-1"

    init(narrative: Bool = true) async throws {
        lifecycle = IncidentLifecycle(tenant: tenant, evidence: log, state: InMemoryIncidentStateStore(), clock: clock)
        let t0 = clock.now()
        var facts = IncidentFacts(occurredAt: t0, awareAt: t0)
        facts.completeUnavailabilityMinutes = 45
        facts.totalUsersInUnion = 3200
        var n = IncidentNarrative()
        if narrative {
            n.reportingOrganisation = "Demo MSP GmbH"; n.contactEmail = "soc@msp.example"; n.suspectedUnlawfulOrMalicious = false
            n.crossBorderImpact = false; n.description = "Endpoint management unavailable after a failed certificate rotation."
            n.attackTypeAndExecution = "none"; n.effects = "Überwachung für 45 Minuten ausgefallen"
        }
        try await lifecycle.open(id: id, entity: .regulated(.managedServiceProvider), title: "RMM outage", detectedAt: t0, facts: facts, narrative: n, by: "local#carol")
        clock.advance(by: 600)
        try await lifecycle.confirmAwareness(id, awareAt: clock.now(), by: "local#carol")
    }

    func draft(_ s: ReportStage = .earlyWarning) async throws -> ReportDraft { try await lifecycle.draft(id, stage: s) }
}

/// scripts/peers/portal_http.py on 127.0.0.1, started with posix_spawn (empty signal mask)
/// and stopped by its PID. A missing python3 fails the test.
final class PortalPeer: Sendable {
    let port: UInt16
    let pid: pid_t
    let dir: String
    var logFile: String { dir + "/requests.jsonl" }

    init() throws {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        dir = NSTemporaryDirectory() + "portal-tests-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        port = UInt16(18400 + Int(UInt32.random(in: 0..<500)))
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr); defer { posix_spawnattr_destroy(&attr) }
        var empty = sigset_t(); sigemptyset(&empty); posix_spawnattr_setsigmask(&attr, &empty)
        var dfl = sigset_t(); sigemptyset(&dfl); sigaddset(&dfl, SIGTERM)
        posix_spawnattr_setsigdefault(&attr, &dfl)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions); defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, dir + "/server.log", O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ["python3", url.path + "/scripts/peers/portal_http.py", "\(port)", dir + "/requests.jsonl"]
        let cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        var p: pid_t = 0
        let rc = posix_spawnp(&p, "python3", &actions, &attr, cArgs, environ)
        guard rc == 0 else { throw PortalError(.unavailable, "cannot start python3 for the portal peer: \(String(cString: strerror(rc)))") }
        pid = p
        // Ready when the port accepts a connection (bounded: 10 s).
        for _ in 0..<200 {
            if Self.accepts(port) { return }
            var st: Int32 = 0
            if waitpid(pid, &st, WNOHANG) == pid { break }  // the peer died: fail now, not after 10 s
            usleep(50_000)
        }
        kill(pid, SIGKILL); var st: Int32 = 0; _ = waitpid(pid, &st, WNOHANG)
        throw PortalError(.unavailable, "portal peer did not listen on 127.0.0.1:\(port): " + ((try? String(contentsOfFile: dir + "/server.log", encoding: .utf8)) ?? ""))
    }

    func url(_ path: String) -> URL { URL(string: "http://127.0.0.1:\(port)\(path)")! }

    func requests() -> [[String: String]] {
        let text = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: String] }
    }

    static func accepts(_ port: UInt16) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET); a.sin_port = port.bigEndian; a.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } == 0
    }

    deinit {
        kill(pid, SIGTERM)
        var st: Int32 = 0
        for _ in 0..<60 { if waitpid(pid, &st, WNOHANG) == pid { try? FileManager.default.removeItem(atPath: dir); return }; usleep(50_000) }
        kill(pid, SIGKILL); waitpid(pid, &st, 0)
        try? FileManager.default.removeItem(atPath: dir)
    }
}

/// Retries without waiting: the tests check the policy, not the wall clock.
let noSleep: @Sendable (Duration) async throws -> Void = { _ in }
