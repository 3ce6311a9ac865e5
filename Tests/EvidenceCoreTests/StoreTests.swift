import EvidenceCore
import Foundation
import Testing

@Suite struct StoreTests {
    func makeStore(_ d: TempDir, signer: PortableEd25519Signer) throws -> EvidenceStore {
        try EvidenceStore.create(at: d.path + "/s", origin: "test.example/ev", keyName: signer.keyName,
                                 publicKey: signer.publicKey, privateKey: nil, clock: ManualWallClock())
        return try EvidenceStore(at: d.path + "/s", backend: sha, signer: signer, clock: ManualWallClock())
    }

    @Test func closingAStoreSignsACheckpointOfWhatWasAppended() async throws {
        let d = TempDir("store"); defer { d.cleanup() }
        let s = try testSigner()
        let store = try makeStore(d, signer: s)
        let acme = try TenantID("acme")
        try store.addTenant(acme)
        for i in 0..<3 {
            _ = try await store.append(EvidenceRecord(kind: "test.event", tenant: acme, time: Date(timeIntervalSince1970: 0), body: .object(["i": .number(Double(i))])))
        }
        try store.close()
        let notes = try store.logDirectory(acme).checkpoints().notes
        #expect(notes.count == 1)
        #expect(try Checkpoint(body: notes[0].text).size == 3)
        // Nothing new: closing again adds no checkpoint.
        _ = try store.writer(for: acme)
        try store.close()
        #expect(try store.logDirectory(acme).checkpoints().notes.count == 1)
        let records = try await store.records(tenant: acme, from: 1)
        #expect(records.map { $0.body["i"]?.numberValue } == [1, 2])
    }

    @Test func unknownTenantIsRefusedWithTheKnownOnesListed() async throws {
        let d = TempDir("store"); defer { d.cleanup() }
        let store = try makeStore(d, signer: try testSigner())
        try store.addTenant(try TenantID("acme"))
        let e = await #expect(throws: EvidenceError.self) {
            _ = try await store.append(EvidenceRecord(kind: "x", tenant: try TenantID("acne"), time: Date()))
        }
        #expect(e?.code == .notFound && e?.message.contains("known: acme") == true)
        #expect(!FileManager.default.fileExists(atPath: d.path + "/s/tenants/acne"), "nothing is created for an unknown tenant")
    }

    @Test func aTenantIsRegisteredOnce() throws {
        let d = TempDir("store"); defer { d.cleanup() }
        let store = try makeStore(d, signer: try testSigner())
        try store.addTenant(try TenantID("acme"))
        #expect(throws: EvidenceError.self) { try store.addTenant(try TenantID("acme")) }
    }

    @Test func aForeignFolderIsNeverOpenedNorInitialised() throws {
        let d = TempDir("store"); defer { d.cleanup() }
        try Data("mine".utf8).write(to: URL(fileURLWithPath: d.path + "/notes.txt"))
        let s = try testSigner()
        let e1 = #expect(throws: EvidenceError.self) { try EvidenceStore(at: d.path, backend: sha, signer: nil, clock: ManualWallClock()) }
        #expect(e1?.code == .notOurStore)
        let e2 = #expect(throws: EvidenceError.self) {
            try EvidenceStore.create(at: d.path, origin: "o", keyName: s.keyName, publicKey: s.publicKey, privateKey: nil, clock: ManualWallClock())
        }
        #expect(e2?.code == .notOurStore)
        #expect(try FileManager.default.contentsOfDirectory(atPath: d.path) == ["notes.txt"])
    }

    @Test func tenantIdsThatCouldEscapeTheirFolderAreRefused() {
        for bad in ["", "../x", "a/b", "A", ".hidden", "-x", String(repeating: "a", count: 64), "é"] {
            #expect(throws: EvidenceError.self) { try TenantID(bad) }
        }
        #expect((try? TenantID("acme-gmbh.eu_1")) != nil)
    }
}

@Test func aRecordWithABodyAtTheParserDepthLimitReadsBack() throws {
    var body = JSONValue.number(1)
    for _ in 0..<63 { body = .array([body]) }   // 64 levels: the most a body may have when parsed
    _ = try JSONParser.parse(JCS.canonicalize(body))
    let r = EvidenceRecord(kind: "session.action", tenant: try TenantID("acme"), time: Date(timeIntervalSince1970: 0), body: .object(["action": body]))
    #expect(try EvidenceRecord(canonicalBytes: r.canonicalBytes()) == r)
}
