import Foundation

/// The embedded evidence store: one folder, one sub-folder per tenant, each with its own
/// append-only log and content-addressed objects.
///
/// ```
/// <store>/nis2-store.json           marker: format, version, origin, key name
/// <store>/keys/checkpoint.pub       C2SP verifier key of the checkpoint signer
/// <store>/keys/checkpoint.key       its private key (mode 0600; kept elsewhere in production)
/// <store>/tenants/<id>/tenant.json  the tenant's registration (written once)
/// <store>/tenants/<id>/log/         segments, block hashes, checkpoints (see LogDirectory)
/// <store>/tenants/<id>/objects/     write-once payloads (LocalFolderWORMStore)
/// ```
///
/// Guarantees: a folder without the marker is never written to (it is not ours); a tenant
/// must be registered before anything is written for it, so a mistyped tenant id is an
/// error, not a new empty log; tenants never share a file.
public final class EvidenceStore: EvidenceRecordSink, @unchecked Sendable {
    // @unchecked: `writers` is only touched under `lock`; everything else is immutable.
    public struct Manifest: Codable, Sendable {
        public var format: String
        public var version: Int
        public var origin: String
        public var keyName: String
        public var createdAt: String
    }

    public static let markerName = "nis2-store.json"
    public static let formatName = "nis2-evidence-store"

    public let root: String
    public let manifest: Manifest
    public let backend: any SHA256Backend
    public let signer: (any Signer)?
    public let clock: any WallClock
    public let policy: GroupCommitPolicy
    /// Sign a checkpoint of each log that grew when the store is closed.
    public let checkpointOnClose: Bool
    private let lock = NSLock()
    private var writers: [TenantID: LogWriter] = [:]

    /// Creates a new store in an empty (or absent) folder. Refuses a folder with other content.
    public static func create(at root: String, origin: String, keyName: String, publicKey: [UInt8],
                              privateKey: String?, clock: any WallClock) throws {
        if FileIO.exists(root) {
            guard FileIO.isDirectory(root) else { throw EvidenceError(.notOurStore, "\(root) exists and is not a folder") }
            let content = try FileIO.list(root)
            if content.contains(markerName) { throw EvidenceError(.immutable, "\(root) is already an evidence store; it is never re-initialised") }
            guard content.isEmpty else {
                throw EvidenceError(.notOurStore, "\(root) is not empty and not an evidence store; choose an empty or new folder")
            }
        }
        guard NoteKey.isValidName(keyName) else { throw EvidenceError.malformed("key name '\(keyName)' must be non-empty, without spaces or '+'") }
        guard !origin.isEmpty, !origin.contains("\n") else { throw EvidenceError.malformed("origin must be one non-empty line") }
        try FileIO.makeDirectory(root)
        try FileIO.makeDirectory(root + "/keys")
        try FileIO.makeDirectory(root + "/tenants")
        let vkey = NoteKey.verifierKey(name: keyName, publicKey: publicKey) + "\n"
        _ = try Array(vkey.utf8).withUnsafeBytes { try FileIO.createImmutable(root + "/keys/checkpoint.pub", bytes: $0) }
        if let privateKey {
            _ = try Array((privateKey + "\n").utf8).withUnsafeBytes {
                try FileIO.createImmutable(root + "/keys/checkpoint.key", bytes: $0, mode: 0o400)
            }
        }
        let m = Manifest(format: formatName, version: 1, origin: origin, keyName: keyName, createdAt: Timestamp.format(clock.now()))
        _ = try JCS.canonicalize(m).withUnsafeBytes { try FileIO.createImmutable(root + "/" + markerName, bytes: $0) }
    }

    /// Opens an existing store. `signer` is needed only to write checkpoints.
    public init(at root: String, backend: any SHA256Backend, signer: (any Signer)?, clock: any WallClock,
                policy: GroupCommitPolicy = .init(), checkpointOnClose: Bool = true) throws {
        let marker = root + "/" + Self.markerName
        guard FileIO.exists(marker) else {
            if !FileIO.exists(root) { throw EvidenceError(.notFound, "no evidence store at \(root); create one with 'nis2ctl init --store \(root)'") }
            throw EvidenceError(.notOurStore, "\(root) is not an evidence store (no \(Self.markerName)); point --store at a folder made by 'nis2ctl init'")
        }
        let m: Manifest
        do {
            m = try JSONDecoder().decode(Manifest.self, from: Data(try FileIO.readFile(marker, limit: 1 << 16)))
        } catch {
            throw EvidenceError(.notOurStore, "\(marker) is not a valid store marker: \(error)")
        }
        guard m.format == Self.formatName, m.version == 1 else {
            throw EvidenceError(.notOurStore, "\(marker) describes format \(m.format) v\(m.version); this library reads \(Self.formatName) v1")
        }
        if let signer, signer.keyName != m.keyName {
            throw EvidenceError(.malformedInput, "signing key '\(signer.keyName)' is not this store's checkpoint key '\(m.keyName)'")
        }
        self.root = root; self.manifest = m; self.backend = backend; self.signer = signer; self.clock = clock; self.policy = policy
        self.checkpointOnClose = checkpointOnClose
    }

    public var verifierKeyPath: String { root + "/keys/checkpoint.pub" }
    public var privateKeyPath: String { root + "/keys/checkpoint.key" }

    public func tenantPath(_ t: TenantID) -> String { root + "/tenants/" + t.rawValue }
    public func logDirectory(_ t: TenantID) -> LogDirectory { LogDirectory(path: tenantPath(t) + "/log", backend: backend) }
    /// The checkpoint origin of a tenant's log: `<store origin>/<tenant>`.
    public func origin(of t: TenantID) -> String { manifest.origin + "/" + t.rawValue }

    /// Registers a tenant (once). Refuses a second registration.
    public func addTenant(_ t: TenantID, displayName: String? = nil) throws {
        let dir = tenantPath(t)
        if FileIO.exists(dir + "/tenant.json") { throw EvidenceError(.immutable, "tenant \(t) is already registered") }
        try FileIO.makeDirectory(dir)
        var o: [String: JSONValue] = ["tenant": .string(t.rawValue), "registeredAt": .string(Timestamp.format(clock.now()))]
        if let displayName { o["displayName"] = .string(displayName) }
        guard try JCS.canonicalize(.object(o)).withUnsafeBytes({ try FileIO.createImmutable(dir + "/tenant.json", bytes: $0) }) else {
            throw EvidenceError(.immutable, "tenant \(t) is already registered")
        }
        try FileIO.syncDirectory(root + "/tenants")
        let w = try LogWriter(directory: logDirectory(t), origin: origin(of: t), signer: signer, policy: policy)
        try w.close()
    }

    public func tenants() throws -> [TenantID] {
        try FileIO.list(root + "/tenants").compactMap { n in
            FileIO.exists(root + "/tenants/\(n)/tenant.json") ? try? TenantID(n) : nil
        }
    }

    /// Throws `.notFound` with the known tenants listed, unless `t` is registered.
    public func requireTenant(_ t: TenantID) throws {
        guard FileIO.exists(tenantPath(t) + "/tenant.json") else {
            let known = (try? tenants().map(\.rawValue).joined(separator: ", ")) ?? ""
            throw EvidenceError(.notFound, "unknown tenant '\(t)' in \(root)" + (known.isEmpty ? "; register it with 'nis2ctl tenant add'" : " (known: \(known))"))
        }
    }

    /// The tenant's log writer, opened on first use and kept until `close()`.
    public func writer(for t: TenantID) throws -> LogWriter {
        try requireTenant(t)
        lock.lock(); defer { lock.unlock() }
        if let w = writers[t] { return w }
        let w = try LogWriter(directory: logDirectory(t), origin: origin(of: t), signer: signer, policy: policy)
        writers[t] = w
        return w
    }

    /// The tenant's content-addressed object store.
    public func objects(for t: TenantID) throws -> LocalFolderWORMStore {
        try requireTenant(t)
        return try LocalFolderWORMStore(root: tenantPath(t) + "/objects", backend: backend, clock: clock)
    }

    public func append(_ record: EvidenceRecord) async throws -> UInt64 {
        try await writer(for: record.tenant).appendDurably(record.canonicalBytes())
    }

    public func records(tenant: TenantID, from index: UInt64) async throws -> [EvidenceRecord] {
        try requireTenant(tenant)
        let dir = logDirectory(tenant)
        var out: [EvidenceRecord] = []
        let size = try LogVerifier.recordCount(dir)
        guard index < size else { return [] }
        try dir.forEachRecord(in: index..<size) { _, rec, _ in out.append(try EvidenceRecord(canonicalBytes: Array(rec))) }
        return out
    }

    /// Flushes and closes every open writer. A writer that took new records is first
    /// committed by a signed checkpoint when the store has a signer (`checkpointOnClose`),
    /// so what a command appended is covered by a signature when it returns.
    public func close() throws {
        lock.lock()
        let ws = writers
        writers = [:]
        lock.unlock()
        var firstError: Error?
        for w in ws.values {
            do {
                if checkpointOnClose && signer != nil && w.size > w.checkpointedSize { try w.checkpoint() }
                try w.close()
            } catch { firstError = firstError ?? error }
        }
        if let firstError { throw firstError }
    }
}
