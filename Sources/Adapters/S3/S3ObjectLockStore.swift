import EvidenceCore
import EvidenceOpenSSL
import Foundation

/// The production `WORMStore`: objects in an S3 bucket with Object Lock.
///
/// Guarantees (beyond the `WORMStore` contract):
/// - `open` checks that the bucket exists and has Object Lock enabled, and refuses a bucket
///   without it unless `lockRequirement` is `.allowTamperEvidentOnly`. `guarantee` says which
///   mode is in force: `.enforcedRetention` only for a locked bucket written in COMPLIANCE mode.
/// - Every PUT carries `Content-MD5`, `x-amz-checksum-sha256`, the object-lock mode and
///   retain-until date of its `RetentionPolicy`, the SHA-256 in `x-amz-meta-evidence-sha256`,
///   and `If-None-Match: *`; a HEAD first refuses an existing key with `.immutable`.
/// - `get` hashes the body itself and compares it with the recorded SHA-256 (S3 services such
///   as SeaweedFS do not check a signed payload hash against the body), retrying a corrupted
///   transfer, then throwing `.verificationFailed`.
/// - `verify(_:)` re-reads an object and proves it is still the exact version recorded when
///   it was written (versionId and SHA-256), so an overwrite by another client is detected.
/// Refuses: `delete` (`.unsupported`: evidence is never deleted through this store), a
/// retain-until date that is not in the future, keys outside `ObjectKey` rules. It never sends
/// `x-amz-bypass-governance-retention`.
public struct S3ObjectLockStore: WORMStore {
    public let client: S3Client
    public let objectLockEnabled: Bool
    /// Largest object `get` accepts (bounded memory); larger ones are read with `download`.
    public var maxObjectSize: Int = 256 << 20
    /// ListObjectsV2 page size (1...1000).
    public var listPageSize: Int = 1000
    let clock: any WallClock

    var configuration: S3Configuration { client.configuration }

    /// Connects and checks the bucket (exists, credentials work, Object Lock state).
    public static func open(_ configuration: S3Configuration, transport: any S3HTTPTransport = URLSessionS3Transport(),
                            clock: any WallClock = SystemWallClock()) async throws -> S3ObjectLockStore {
        let client = S3Client(configuration: configuration, transport: transport, clock: clock)
        let r = try await client.send(method: "GET", objectKey: nil, query: [("object-lock", "")])
        var enabled = false
        if (200..<300).contains(r.status) {
            let root = try S3XML.parse(r.body, maxBytes: 64 << 10, maxElements: 100, what: "GetObjectLockConfiguration")
            enabled = root.value("ObjectLockEnabled") == "Enabled"
        } else if S3ErrorDocument.code(r.body) != "ObjectLockConfigurationNotFoundError" {
            throw S3ErrorDocument.error(from: r, what: "opening the S3 WORM store", configuration: configuration)
        }
        if !enabled && configuration.lockRequirement == .requireObjectLock {
            throw EvidenceError(.unsupported, "bucket '\(configuration.bucket)' at \(configuration.endpoint.absoluteString) has no Object Lock, so S3 would not enforce retention; create the bucket with Object Lock enabled, or configure lockRequirement = .allowTamperEvidentOnly to accept tamper evidence only")
        }
        return S3ObjectLockStore(client: client, objectLockEnabled: enabled, clock: clock)
    }

    /// `.enforcedRetention` needs Object Lock and COMPLIANCE writes; GOVERNANCE can be bypassed
    /// by a privileged principal and a bucket without a lock can be rewritten by its owner.
    public var guarantee: ImmutabilityGuarantee { objectLockEnabled ? .enforcedRetention : .tamperEvidentOnly }

    /// The guarantee that holds for objects written with `retention`.
    public func guarantee(for retention: RetentionPolicy) -> ImmutabilityGuarantee {
        objectLockEnabled && retention.mode == .compliance ? .enforcedRetention : .tamperEvidentOnly
    }

    // MARK: put

    public func put(_ key: String, bytes: [UInt8], retention: RetentionPolicy) async throws -> StoredObjectInfo {
        try ObjectKey.validate(key)
        try checkRetention(retention, key: key)
        let sha = OpenSSLSHA256().hash(bytes: bytes)
        if let existing = try await head(key) {
            throw EvidenceError(.immutable, "object '\(key)' already exists in bucket '\(configuration.bucket)' (version \(existing.versionID ?? "-"), SHA-256 \(existing.sha256.hex)); write-once keys are never overwritten: write under a new key")
        }
        var headers = lockHeaders(retention)
        headers["content-md5"] = ContentMD5.headerValue(bytes.withUnsafeBytes { $0 })
        headers["x-amz-checksum-sha256"] = sha.base64
        headers["x-amz-meta-evidence-sha256"] = sha.hex
        headers["content-type"] = "application/octet-stream"
        headers["if-none-match"] = "*"
        let objectKey = configuration.objectKey(key)
        let r = try await client.send(method: "PUT", objectKey: objectKey, headers: headers, body: bytes, payloadSHA256: sha)
        if r.status == 412 {
            // Someone, possibly an earlier attempt of this call whose answer was lost, wrote the
            // key after our HEAD. Identical content is the same logical object; anything else is not ours.
            if let now = try await head(key), now.sha256 == sha, now.size == UInt64(bytes.count) { return now }
            throw EvidenceError(.immutable, "object '\(key)' was created by another writer while this put was in flight; it is not overwritten")
        }
        guard (200..<300).contains(r.status) else {
            throw S3ErrorDocument.error(from: r, what: "putting '\(key)'", configuration: configuration)
        }
        if let echoed = r.header("x-amz-checksum-sha256"), echoed != sha.base64 {
            throw EvidenceError(.verificationFailed, "S3 stored '\(key)' with SHA-256 \(echoed), but we sent \(sha.base64); the object is not trustworthy")
        }
        return StoredObjectInfo(key: key, size: UInt64(bytes.count), sha256: sha, retention: retention,
                                versionID: r.header("x-amz-version-id"), storedAt: clock.now())
    }

    func checkRetention(_ retention: RetentionPolicy, key: String) throws {
        let now = clock.now()
        guard retention.retainUntil > now else {
            throw EvidenceError(.malformedInput, "retain-until \(UTCCalendar.iso8601(retention.retainUntil)) for '\(key)' is not in the future (now \(UTCCalendar.iso8601(now))); evidence must be retained: use a date after now")
        }
    }

    func lockHeaders(_ retention: RetentionPolicy) -> [String: String] {
        guard objectLockEnabled else { return [:] }
        return ["x-amz-object-lock-mode": retention.mode.rawValue,
                "x-amz-object-lock-retain-until-date": UTCCalendar.iso8601(retention.retainUntil),
                "x-amz-object-lock-legal-hold": retention.legalHold ? "ON" : "OFF"]
    }

    // MARK: get / head / verify

    public func get(_ key: String) async throws -> [UInt8] {
        try await read(key, versionID: nil, expected: nil).bytes
    }

    /// Reads a key (or one version of it) and checks its body against the SHA-256 recorded at
    /// write time (`expected`, else the object's own metadata and checksum headers).
    func read(_ key: String, versionID: String?, expected: Digest?) async throws -> (bytes: [UInt8], info: StoredObjectInfo) {
        try ObjectKey.validate(key)
        var query: [(String, String)] = []
        if let versionID { query.append(("versionId", versionID)) }
        var lastProblem = ""
        for _ in 0..<configuration.retry.maxAttempts {
            let r = try await client.send(method: "GET", objectKey: configuration.objectKey(key), query: query,
                                          headers: ["x-amz-checksum-mode": "ENABLED"])
            if r.status == 404 {
                throw EvidenceError(.notFound, "object '\(key)'\(versionID.map { " version \($0)" } ?? "") does not exist in bucket '\(configuration.bucket)'")
            }
            guard (200..<300).contains(r.status) else { throw S3ErrorDocument.error(from: r, what: "reading '\(key)'", configuration: configuration) }
            guard r.body.count <= maxObjectSize else {
                throw EvidenceError(.malformedInput, "object '\(key)' is \(r.body.count) bytes, above maxObjectSize \(maxObjectSize)")
            }
            let info = try objectInfo(key: key, response: r)
            let actual = OpenSSLSHA256().hash(bytes: r.body)
            let want = expected ?? info.sha256
            var problems: [String] = []
            if actual != want { problems.append("body SHA-256 \(actual.hex) ≠ recorded \(want.hex)") }
            if let cs = r.header("x-amz-checksum-sha256"), !cs.contains("-"), cs != actual.base64 {
                problems.append("body SHA-256 ≠ S3 checksum \(cs)")
            }
            if let len = r.header("content-length").flatMap(UInt64.init), len != UInt64(r.body.count) {
                problems.append("received \(r.body.count) of \(len) bytes")
            }
            if problems.isEmpty { return (r.body, info) }
            lastProblem = problems.joined(separator: "; ")
        }
        throw EvidenceError(.verificationFailed, "object '\(key)' in bucket '\(configuration.bucket)' failed its checksum check on every one of \(configuration.retry.maxAttempts) reads (\(lastProblem)); the bytes were altered in transit or at rest: do not use them")
    }

    public func head(_ key: String) async throws -> StoredObjectInfo? {
        try ObjectKey.validate(key)
        let r = try await client.send(method: "HEAD", objectKey: configuration.objectKey(key), headers: ["x-amz-checksum-mode": "ENABLED"])
        if r.status == 404 { return nil }
        guard (200..<300).contains(r.status) else { throw S3ErrorDocument.error(from: r, what: "HEAD '\(key)'", configuration: configuration) }
        return try objectInfo(key: key, response: r)
    }

    func objectInfo(key: String, response r: S3HTTPResponse) throws -> StoredObjectInfo {
        let sha: Digest
        if let hex = r.header("x-amz-meta-evidence-sha256"), let d = Digest(hex: hex) {
            sha = d
        } else if let b64 = r.header("x-amz-checksum-sha256"), !b64.contains("-"), let raw = Base64.decode(b64), let d = Digest(bytes: raw) {
            sha = d
        } else {
            throw EvidenceError(.verificationFailed, "object '\(key)' carries no SHA-256 (neither x-amz-meta-evidence-sha256 nor a full-object checksum); it was not written by this store and cannot be verified")
        }
        let mode = r.header("x-amz-object-lock-mode").flatMap(RetentionPolicy.Mode.init(rawValue:)) ?? .compliance
        let until = r.header("x-amz-object-lock-retain-until-date").flatMap(UTCCalendar.parseISO8601) ?? .distantPast
        let hold = r.header("x-amz-object-lock-legal-hold") == "ON"
        let size = r.header("content-length").flatMap(UInt64.init) ?? 0
        let stored = r.header("last-modified").flatMap(UTCCalendar.parseHTTPDate) ?? .distantPast
        return StoredObjectInfo(key: key, size: size, sha256: sha, retention: RetentionPolicy(mode: mode, retainUntil: until, legalHold: hold),
                                versionID: r.header("x-amz-version-id"), storedAt: stored)
    }

    /// Proves that `recorded` (what `put` or `uploadFile` returned, as logged) is still what
    /// the bucket serves under its key: same current versionId, and a body with the recorded
    /// SHA-256. Throws `.verificationFailed` naming both versions when another client wrote
    /// the key after us, and when the recorded version's bytes changed.
    public func verify(_ recorded: StoredObjectInfo) async throws {
        guard let current = try await head(recorded.key) else {
            throw EvidenceError(.verificationFailed, "object '\(recorded.key)' recorded as version \(recorded.versionID ?? "-") is missing from bucket '\(configuration.bucket)'")
        }
        if let v = recorded.versionID, current.versionID != v {
            throw EvidenceError(.verificationFailed, "object '\(recorded.key)' was overwritten: the log recorded version \(v) (SHA-256 \(recorded.sha256.hex)), the bucket now serves version \(current.versionID ?? "-") (SHA-256 \(current.sha256.hex)); the recorded version is still readable by its versionId")
        }
        if current.sha256 != recorded.sha256 || current.size != recorded.size {
            throw EvidenceError(.verificationFailed, "object '\(recorded.key)' now has SHA-256 \(current.sha256.hex) and \(current.size) bytes; the log recorded \(recorded.sha256.hex) and \(recorded.size) bytes")
        }
        if recorded.size <= UInt64(maxObjectSize) {
            _ = try await read(recorded.key, versionID: recorded.versionID, expected: recorded.sha256)
        }
    }

    // MARK: list

    public func list(prefix: String) async throws -> [String] {
        let storePrefix = configuration.prefix.isEmpty ? "" : configuration.prefix + "/"
        var keys: [String] = []
        var token: String?
        var pages = 0
        repeat {
            var q: [(String, String)] = [("list-type", "2"), ("prefix", storePrefix + prefix), ("max-keys", String(listPageSize))]
            if let token { q.append(("continuation-token", token)) }
            let r = try await client.expectSuccess(method: "GET", objectKey: nil, query: q, what: "listing '\(prefix)'")
            let root = try S3XML.parse(r.body, what: "ListObjectsV2")
            guard root.name == "ListBucketResult" else {
                throw EvidenceError(.malformedInput, "ListObjectsV2 answered <\(root.name)>, not <ListBucketResult>")
            }
            for item in root.children("Contents") {
                guard let k = item.value("Key"), k.hasPrefix(storePrefix) else { continue }
                keys.append(String(k.dropFirst(storePrefix.count)))
            }
            let truncated = root.value("IsTruncated") == "true"
            token = truncated ? root.value("NextContinuationToken") : nil
            if truncated && (token ?? "").isEmpty {
                throw EvidenceError(.malformedInput, "ListObjectsV2 says the listing is truncated but gives no continuation token")
            }
            pages += 1
            guard pages < 1_000_000 else { throw EvidenceError(.malformedInput, "ListObjectsV2 did not end after a million pages") }
        } while token != nil
        return keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    // MARK: retention and legal hold

    public func setLegalHold(_ key: String, _ on: Bool) async throws {
        try ObjectKey.validate(key)
        guard objectLockEnabled else {
            throw EvidenceError(.unsupported, "bucket '\(configuration.bucket)' has no Object Lock, so it cannot hold '\(key)'; legal hold needs a bucket created with Object Lock")
        }
        guard try await head(key) != nil else { throw EvidenceError(.notFound, "cannot set a legal hold on '\(key)': no such object") }
        let body = Array("<LegalHold xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Status>\(on ? "ON" : "OFF")</Status></LegalHold>".utf8)
        try await client.expectSuccess(method: "PUT", objectKey: configuration.objectKey(key), query: [("legal-hold", "")],
                                       headers: ["content-md5": ContentMD5.headerValue(body.withUnsafeBytes { $0 }), "content-type": "application/xml"],
                                       body: body, what: "setting the legal hold on '\(key)'")
    }

    /// Places a legal hold on every object tied to an open incident; returns the keys held.
    /// Stops at the first failure, naming the key (holds already placed stay: they only protect).
    @discardableResult
    public func placeLegalHold(onEvidenceFor incident: String, keys: [String]) async throws -> [String] {
        var done: [String] = []
        for key in keys {
            do { try await setLegalHold(key, true) } catch let e as EvidenceError {
                throw EvidenceError(e.code, "legal hold for incident \(incident) stopped at '\(key)' after \(done.count) of \(keys.count) objects: \(e.message)")
            }
            done.append(key)
        }
        return done
    }

    /// GetObjectLegalHold: true when the current version is under legal hold.
    public func legalHold(_ key: String) async throws -> Bool {
        try ObjectKey.validate(key)
        let r = try await client.expectSuccess(method: "GET", objectKey: configuration.objectKey(key), query: [("legal-hold", "")],
                                               what: "reading the legal hold of '\(key)'")
        return try S3XML.parse(r.body, maxBytes: 64 << 10, maxElements: 100, what: "GetObjectLegalHold").value("Status") == "ON"
    }

    /// GetObjectRetention: the mode and retain-until date S3 enforces for the current version.
    public func retention(_ key: String) async throws -> (mode: RetentionPolicy.Mode, retainUntil: Date) {
        try ObjectKey.validate(key)
        let r = try await client.expectSuccess(method: "GET", objectKey: configuration.objectKey(key), query: [("retention", "")],
                                               what: "reading the retention of '\(key)'")
        let root = try S3XML.parse(r.body, maxBytes: 64 << 10, maxElements: 100, what: "GetObjectRetention")
        guard let mode = root.value("Mode").flatMap(RetentionPolicy.Mode.init(rawValue:)),
              let until = root.value("RetainUntilDate").flatMap(UTCCalendar.parseISO8601) else {
            throw EvidenceError(.malformedInput, "GetObjectRetention for '\(key)' has no valid Mode and RetainUntilDate")
        }
        return (mode, until)
    }

    /// Never deletes: evidence leaves the bucket only by a lifecycle rule after retention.
    /// Throws `.immutable` while the object is inside its retention period or under legal
    /// hold (S3 itself would refuse), `.unsupported` otherwise, `.notFound` for a missing key.
    public func delete(_ key: String) async throws {
        guard let info = try await head(key) else {
            throw EvidenceError(.notFound, "cannot delete '\(key)': no such object (and this store never deletes)")
        }
        if info.retention.legalHold || info.retention.retainUntil > clock.now() {
            throw EvidenceError(.immutable, "'\(key)' is \(info.retention.legalHold ? "under legal hold" : "retained until \(UTCCalendar.iso8601(info.retention.retainUntil))"); it cannot be deleted")
        }
        throw EvidenceError(.unsupported, "the S3 WORM store never deletes ('\(key)'); expired evidence is removed by a bucket lifecycle rule after its retention date")
    }
}
