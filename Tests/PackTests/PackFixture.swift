import EvidenceCore
import EvidenceOpenSSL
import EvidencePDF
import Foundation

/// A store with one tenant, a session with a recording object, incident records and a
/// checkpoint, exported to a pack in a fresh temporary folder.
struct PackFixture {
    let dir: String
    let store: EvidenceStore
    let tenant: TenantID
    let signer: PortableEd25519Signer
    let recording: [UInt8]

    static let cast = """
    {"version": 2, "width": 80, "height": 24, "timestamp": 1740823200, "title": "acmé — Wartung"}
    [0.1, "o", "$ systemctl status sshd\\r\\n"]
    [0.5, "o", "● sshd.service — läuft\\r\\n"]

    """

    init(extraRecordingBytes: Int = 0) async throws {
        dir = NSTemporaryDirectory() + "packtests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        signer = try PortableEd25519Signer(keyName: "msp-test", seed: [UInt8](repeating: 7, count: 32))
        let clock = SystemWallClock()
        try EvidenceStore.create(at: dir + "/store", origin: "msp.example/log", keyName: "msp-test", publicKey: signer.publicKey, privateKey: nil, clock: clock)
        store = try EvidenceStore(at: dir + "/store", backend: OpenSSLSHA256(), signer: signer, clock: clock)
        tenant = try TenantID("acme")
        try store.addTenant(tenant, displayName: "Acmé Société")
        var rec = Array(Self.cast.utf8)
        if extraRecordingBytes > 0 { rec += [UInt8](repeating: 0x20, count: extraRecordingBytes - 1) + [0x0a] }
        recording = rec
        let info = try await store.objects(for: tenant).put("sessions/s1.cast", bytes: rec, retention: RetentionPolicy(retainUntil: Date(timeIntervalSinceNow: 86400 * 365), legalHold: true))
        let t0 = Date(timeIntervalSince1970: 1_740_823_200)
        let records: [EvidenceRecord] = [
            EvidenceRecord(kind: "grant.approved", tenant: tenant, time: t0, actor: "idp#bob", body: .object(["session": .string("s1"), "role": .string("admin"), "incident": .string("INC-1")])),
            EvidenceRecord(kind: "session.command", tenant: tenant, time: t0 + 60, actor: "idp#alice", body: .object(["session": .string("s1"), "command": .string("systemctl restart sshd")])),
            EvidenceRecord(kind: EvidencePackRecordKind.sessionRecording, tenant: tenant, time: t0 + 120, body: .object([
                "session": .string("s1"), "object": .string(info.key), "sha256": .string(info.sha256.hex), "size": .number(Double(info.size)), "format": .string("asciicast-v2")])),
            EvidenceRecord(kind: "incident.opened", tenant: tenant, time: t0 + 180, actor: "idp#carol", body: .object(["incident": .string("INC-1"), "change": .string("opened — Störung")])),
        ]
        for r in records { _ = try await store.append(r) }
        _ = try store.writer(for: tenant).checkpoint()
    }

    func export(_ scope: EvidencePackScope = .session("s1"), name: String = "pack.zip") async throws -> String {
        let path = dir + "/" + name
        _ = try await EvidencePackExporter(store: store, tenant: tenant, scope: scope, exportedBy: "idp#auditor-export", renderer: EvidenceReportPDF()).export(to: path)
        return path
    }

    var trustedKey: PortableEd25519Verifier { try! PortableEd25519Verifier(keyName: signer.keyName, publicKey: signer.publicKey) }

    func verifier() -> EvidencePackVerifier { EvidencePackVerifier(backend: PortableSHA256(), trustedKey: trustedKey) }

    func remove() { try? store.close(); try? FileManager.default.removeItem(atPath: dir) }
}
