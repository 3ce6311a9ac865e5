import EvidenceCore
import EvidenceOpenSSL
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One entry of ListObjectVersions: a stored version of a key, or a delete marker.
public struct S3ObjectVersion: Hashable, Sendable {
    /// The key relative to the store's prefix.
    public var key: String
    public var versionID: String
    public var isLatest: Bool
    public var isDeleteMarker: Bool
    public var size: UInt64
    public var lastModified: Date
}

extension S3ObjectLockStore {
    /// Every version and delete marker under `prefix` (relative to the store prefix), in key
    /// order, following ListObjectVersions pagination. This is how an overwrite that S3 kept
    /// as a second version is found even when the current version looks right.
    /// Bounded: each page is parsed under the XML bounds, and at most `maxEntries` are returned.
    public func listVersions(prefix: String, maxEntries: Int = 10_000_000) async throws -> [S3ObjectVersion] {
        let storePrefix = configuration.prefix.isEmpty ? "" : configuration.prefix + "/"
        var out: [S3ObjectVersion] = []
        var keyMarker: String?, versionMarker: String?
        var pages = 0
        repeat {
            var q: [(String, String)] = [("versions", ""), ("prefix", storePrefix + prefix), ("max-keys", String(listPageSize))]
            if let keyMarker { q.append(("key-marker", keyMarker)) }
            if let versionMarker { q.append(("version-id-marker", versionMarker)) }
            let r = try await client.expectSuccess(method: "GET", objectKey: nil, query: q, what: "listing the versions under '\(prefix)'")
            let root = try S3XML.parse(r.body, what: "ListObjectVersions")
            guard root.name == "ListVersionsResult" else {
                throw EvidenceError(.malformedInput, "ListObjectVersions answered <\(root.name)>, not <ListVersionsResult>")
            }
            for item in root.children where item.name == "Version" || item.name == "DeleteMarker" {
                guard let k = item.value("Key"), k.hasPrefix(storePrefix) else { continue }
                out.append(S3ObjectVersion(key: String(k.dropFirst(storePrefix.count)), versionID: item.value("VersionId") ?? "null",
                                           isLatest: item.value("IsLatest") == "true", isDeleteMarker: item.name == "DeleteMarker",
                                           size: item.value("Size").flatMap(UInt64.init) ?? 0,
                                           lastModified: item.value("LastModified").flatMap(UTCCalendar.parseISO8601) ?? .distantPast))
                guard out.count <= maxEntries else {
                    throw EvidenceError(.malformedInput, "more than \(maxEntries) versions under '\(prefix)'; verify one tenant at a time")
                }
            }
            let truncated = root.value("IsTruncated") == "true"
            let nextKey = root.value("NextKeyMarker"), nextVersion = root.value("NextVersionIdMarker")
            if truncated && (nextKey ?? "").isEmpty {
                throw EvidenceError(.malformedInput, "ListObjectVersions says the listing is truncated but gives no NextKeyMarker")
            }
            if truncated && nextKey == keyMarker && nextVersion == versionMarker {
                throw EvidenceError(.malformedInput, "ListObjectVersions repeated the same page marker '\(nextKey ?? "")'; the listing would not end")
            }
            keyMarker = truncated ? nextKey : nil
            versionMarker = truncated ? nextVersion : nil
            pages += 1
            guard pages < 1_000_000 else { throw EvidenceError(.malformedInput, "ListObjectVersions did not end after a million pages") }
        } while keyMarker != nil
        return out
    }

    /// HEAD of one version of a key (nil when that version does not exist).
    public func head(_ key: String, versionID: String) async throws -> StoredObjectInfo? {
        try ObjectKey.validate(key)
        let r = try await client.send(method: "HEAD", objectKey: configuration.objectKey(key), query: [("versionId", versionID)],
                                      headers: ["x-amz-checksum-mode": "ENABLED"])
        if r.status == 404 { return nil }
        guard (200..<300).contains(r.status) else {
            throw S3ErrorDocument.error(from: r, what: "HEAD '\(key)' version \(versionID)", configuration: configuration)
        }
        return try objectInfo(key: key, response: r)
    }

    /// Copies one version of a key into a new local file in ranged GETs of `chunkSize` bytes
    /// (memory stays about one chunk whatever the object size), hashing as it goes, and
    /// proves the file has the `expected` SHA-256 and size (else the object's own recorded
    /// SHA-256). Refuses an existing `path`. On a mismatch the file is removed and
    /// `.verificationFailed` names the key and version.
    @discardableResult
    public func download(_ key: String, versionID: String, expected: (sha256: Digest, size: UInt64)?, to path: String,
                         chunkSize: Int = 8 << 20) async throws -> StoredObjectInfo {
        guard let info = try await head(key, versionID: versionID) else {
            throw EvidenceError(.notFound, "object '\(key)' version \(versionID) does not exist in bucket '\(configuration.bucket)'")
        }
        let wantSHA = expected?.sha256 ?? info.sha256, wantSize = expected?.size ?? info.size
        guard info.size == wantSize else {
            throw EvidenceError(.verificationFailed, "object '\(key)' version \(versionID) has \(info.size) bytes; \(wantSize) were recorded")
        }
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw EvidenceError(.io, "cannot create '\(path)' for the download of '\(key)': \(String(cString: strerror(errno)))") }
        var closed = false
        defer { if !closed { Glibc.close(fd) } }
        var hasher = OpenSSLSHA256().makeHasher()
        var offset: UInt64 = 0
        while offset < info.size {
            let end = min(info.size, offset + UInt64(chunkSize)) - 1
            let r = try await client.expectSuccess(method: "GET", objectKey: configuration.objectKey(key),
                                                   query: [("versionId", versionID)], headers: ["range": "bytes=\(offset)-\(end)"],
                                                   what: "reading '\(key)' version \(versionID) at byte \(offset)")
            let whole = r.status == 200 && offset == 0 && UInt64(r.body.count) == info.size
            guard whole || (r.status == 206 && UInt64(r.body.count) == end - offset + 1) else {
                unlink(path)
                throw EvidenceError(.verificationFailed, "object '\(key)' version \(versionID): asked for bytes \(offset)-\(end), got HTTP \(r.status) with \(r.body.count) bytes")
            }
            hasher.update(bytes: r.body)
            var written = 0
            while written < r.body.count {
                let n = r.body.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { unlink(path); throw EvidenceError(.io, "writing '\(path)' failed: \(String(cString: strerror(errno)))") }
                written += n
            }
            offset += UInt64(r.body.count)
        }
        Glibc.close(fd); closed = true
        let got = hasher.finalize()
        guard got == wantSHA, got == info.sha256 || expected == nil else {
            unlink(path)
            throw EvidenceError(.verificationFailed, "object '\(key)' version \(versionID) has SHA-256 \(got.hex); the record says \(wantSHA.hex) (object metadata: \(info.sha256.hex)): the stored bytes are not what was uploaded")
        }
        return info
    }
}
