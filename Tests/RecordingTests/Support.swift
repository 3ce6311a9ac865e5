import EvidenceCore
import EvidenceOpenSSL
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A fresh evidence store with tenant `acme`, under the temp dir; `cleanup()` removes it.
struct ScratchStore {
    let root: String
    let store: EvidenceStore
    let signer: PortableEd25519Signer
    let tenant = try! TenantID("acme")

    init(_ label: String) throws {
        let dir = NSTemporaryDirectory() + "recording-\(label)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        root = dir + "/store"
        signer = try PortableEd25519Signer(keyName: "rec.test/log", seed: [UInt8](repeating: 9, count: 32))
        try EvidenceStore.create(at: root, origin: "rec.test", keyName: signer.keyName, publicKey: signer.publicKey, privateKey: nil, clock: SystemWallClock())
        store = try EvidenceStore(at: root, backend: OpenSSLSHA256(), signer: signer, clock: SystemWallClock())
        try store.addTenant(tenant)
    }

    func descriptor(_ id: String = "s-1") throws -> SessionDescriptor {
        try SessionDescriptor(id: id, tenant: tenant, principal: "https://idp.example#alice", grantID: "g-42", target: "srv-db-01", command: ["bash"])
    }

    /// Every record of the log verifies (frames, tree) and its checkpoint signature holds.
    func verifyLog() throws -> LogVerification {
        _ = try store.writer(for: tenant).checkpoint()
        let v = LogVerifier(backend: OpenSSLSHA256(), verifier: try PortableEd25519Verifier(keyName: signer.keyName, publicKey: signer.publicKey), origin: store.origin(of: tenant))
        return try v.verify(store.logDirectory(tenant), tenant: tenant.rawValue)
    }

    func records(_ kind: String) async throws -> [EvidenceRecord] {
        try await store.records(tenant: tenant, from: 0).filter { $0.kind == kind }
    }

    func cleanup() {
        try? store.close()
        let dir = (root as NSString).deletingLastPathComponent
        _ = try? FileManager.default.subpathsOfDirectory(atPath: dir).forEach { chmod(dir + "/" + $0, 0o755) }
        try? FileManager.default.removeItem(atPath: dir)
    }
}

/// A WORM store that passes through to a real one until told to stall (every `put` then
/// hangs until released) or to fail (every `put` throws).
final class FaultyStore: WORMStore {
    enum Fault: Int { case none = 0, stall = 1, fail = 2 }
    let inner: any WORMStore
    let fault = Atomic<Int>(0)
    let released = Atomic<Bool>(false)
    init(_ inner: any WORMStore) { self.inner = inner }

    var guarantee: ImmutabilityGuarantee { get async { await inner.guarantee } }
    func put(_ key: String, bytes: [UInt8], retention: RetentionPolicy) async throws -> StoredObjectInfo {
        switch Fault(rawValue: fault.load(ordering: .relaxed))! {
        case .none: break
        case .stall: while !released.load(ordering: .relaxed) { try? await Task.sleep(for: .milliseconds(10)) }
            throw EvidenceError(.io, "stalled store released")
        case .fail: throw EvidenceError(.io, "simulated write failure: disk full")
        }
        return try await inner.put(key, bytes: bytes, retention: retention)
    }
    func get(_ key: String) async throws -> [UInt8] { try await inner.get(key) }
    func head(_ key: String) async throws -> StoredObjectInfo? { try await inner.head(key) }
    func list(prefix: String) async throws -> [String] { try await inner.list(prefix: prefix) }
    func setLegalHold(_ key: String, _ on: Bool) async throws { try await inner.setLegalHold(key, on) }
    func delete(_ key: String) async throws { try await inner.delete(key) }
}

extension Array where Element == UInt8 {
    func contains(bytes needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, count >= needle.count else { return false }
        for i in 0...(count - needle.count) where self[i] == needle[0] && Array(self[i..<(i + needle.count)]) == needle { return true }
        return false
    }
}
