import EvidenceCore
import EvidenceOpenSSL
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Progress of one multipart upload, saved next to the file so a crashed upload resumes
/// with the same UploadId instead of starting a second object.
struct MultipartUploadState: Codable {
    var key: String
    var sha256: String
    var size: UInt64
    var partSize: Int
    var uploadID: String
}

/// A completed part as S3 lists it.
struct UploadedPart: Sendable {
    var number: Int
    var etag: String
    var checksumSHA256: String
}

extension S3ObjectLockStore {
    /// Uploads a file (a session recording, a sealed segment) under `key` in parts of
    /// `multipartPartSize`, `multipartConcurrency` parts in flight.
    ///
    /// Two passes over the file. The first reads each byte once (256 KiB reads through a 2 MiB
    /// ring) and computes the whole-file SHA-256 and each part's SHA-256 on two threads; it is
    /// all that must finish before CreateMultipartUpload (which records the whole-file hash).
    /// The second, per part and just before the part is sent, reads the part again in 128 KiB
    /// pieces for its MD5 (the slowest hash), so that it overlaps other parts on the wire; the
    /// part is then sent as a region of the file (`S3HTTPBody.fileRegion`):
    /// `LoopbackHTTPTransport` sends it with `sendfile(2)` straight from the page cache, so
    /// memory stays a few MiB whatever the file size, part size and parts in flight;
    /// `URLSessionS3Transport` reads each part into memory first (about partSize x concurrency).
    ///
    /// Every part carries that `Content-MD5`, and the first pass's SHA-256 as
    /// `x-amz-checksum-sha256` and signed payload hash; its ETag must equal the MD5 and the
    /// server must confirm the SHA-256 (else the part is checked again from the file; see
    /// `FileSnapshot` and `uploadPart`); so the stored object is exactly the
    /// bytes of the whole-file SHA-256 (stored as `x-amz-meta-evidence-sha256`, with the lock
    /// headers of `retention`). A file changed after the first pass is refused
    /// (`.verificationFailed`), a file truncated during the upload too (`.io`), and the upload
    /// is then never completed. With `stateFile`, progress is saved there: after a crash,
    /// calling again with the same file, key and state file resumes the same upload (parts
    /// already stored are checked against their SHA-256 and kept), and a call after a completed
    /// upload returns the stored object instead of writing a second one. Refuses: an existing
    /// different object under `key`.
    public func uploadFile(at path: String, key: String, retention: RetentionPolicy,
                           stateFile: String? = nil) async throws -> StoredObjectInfo {
        try ObjectKey.validate(key)
        try checkRetention(retention, key: key)
        let file = try S3SourceFile(path: path)
        let partSize = configuration.multipartPartSize
        let partCount = Int((file.size + UInt64(partSize) - 1) / UInt64(partSize))
        guard partCount <= 10_000 else {
            throw EvidenceError(.malformedInput, "'\(path)' needs \(partCount) parts of \(partSize) bytes; S3 allows 10,000: raise multipartPartSize")
        }
        // A file under one part goes up in one PUT of the bytes read here.
        let small = file.size < UInt64(partSize) ? try file.read(offset: 0, count: Int(file.size)) : nil
        let snapshot: FileSnapshot
        if let small { snapshot = FileSnapshot(sha256: OpenSSLSHA256().hash(bytes: small), partSHA256: []) } else {
            snapshot = try await FileSnapshot.compute(file, partSize: partSize)
        }
        let sha = snapshot.sha256
        var state = stateFile.flatMap { try? JSONDecoder().decode(MultipartUploadState.self, from: Data(contentsOf: URL(fileURLWithPath: $0))) }
        if let s = state, s.key != key || s.sha256 != sha.hex || s.size != file.size || s.partSize != partSize {
            state = nil   // state of another file or layout: start afresh
        }
        if let existing = try await head(key) {
            if state != nil, existing.sha256 == sha, existing.size == file.size {
                if let stateFile { try? FileManager.default.removeItem(atPath: stateFile) }
                return existing
            }
            throw EvidenceError(.immutable, "object '\(key)' already exists in bucket '\(configuration.bucket)' (SHA-256 \(existing.sha256.hex)); write-once keys are never overwritten")
        }
        if let small { return try await put(key, bytes: small, retention: retention) }
        let objectKey = configuration.objectKey(key)
        var done: [Int: UploadedPart] = [:]
        if let s = state {
            do {
                for p in try await listParts(objectKey: objectKey, uploadID: s.uploadID) { done[p.number] = p }
            } catch let e as EvidenceError where e.code == .notFound {
                state = nil; done = [:]   // the upload was aborted or expired: start a new one
            }
        }
        if state == nil {
            var headers = lockHeaders(retention)
            headers["x-amz-checksum-algorithm"] = "SHA256"
            headers["x-amz-meta-evidence-sha256"] = sha.hex
            headers["content-type"] = "application/octet-stream"
            let r = try await client.expectSuccess(method: "POST", objectKey: objectKey, query: [("uploads", "")], headers: headers,
                                                   what: "starting the multipart upload of '\(key)'")
            guard let id = try S3XML.parse(r.body, maxBytes: 64 << 10, maxElements: 100, what: "CreateMultipartUpload").value("UploadId"), !id.isEmpty else {
                throw EvidenceError(.malformedInput, "CreateMultipartUpload for '\(key)' returned no UploadId")
            }
            state = MultipartUploadState(key: key, sha256: sha.hex, size: file.size, partSize: partSize, uploadID: id)
            if let stateFile { try JSONEncoder().encode(state).write(to: URL(fileURLWithPath: stateFile), options: .atomic) }
        }
        let uploadID = state!.uploadID
        let known = done
        let uploaded = try await withThrowingTaskGroup(of: UploadedPart.self) { group in
            var results: [UploadedPart] = []
            var next = 1
            func launch(_ n: Int) {
                group.addTask {
                    let expected = snapshot.partSHA256[n - 1]
                    // A part stored before a crash is kept if it is provably these bytes: its
                    // SHA-256 checksum where the server lists one, else its ETag (the part's MD5).
                    if let k = known[n], !k.checksumSHA256.isEmpty, k.checksumSHA256 == expected.base64 {
                        return UploadedPart(number: n, etag: k.etag, checksumSHA256: expected.base64)
                    }
                    let offset = UInt64(n - 1) * UInt64(partSize)
                    let region = try S3FileRegion(file: file, offset: offset, length: Int(min(UInt64(partSize), file.size - offset)))
                    if let k = known[n], k.checksumSHA256.isEmpty {
                        // Listed without a checksum: kept if the bytes here are the first pass's
                        // and their MD5 is its ETag.
                        let d = try await onOwnThread { try file.partDigests(offset: region.offset, length: region.length) }
                        if d.sha256 == expected, k.etag.lowercased() == Hex.encode(d.md5) {
                            return UploadedPart(number: n, etag: k.etag, checksumSHA256: expected.base64)
                        }
                    }
                    let md5 = try await onOwnThread { try file.partMD5(offset: region.offset, length: region.length) }
                    return try await uploadPart(objectKey: objectKey, uploadID: uploadID, number: n, region: region,
                                                md5: md5, sha256: expected)
                }
            }
            while next <= min(partCount, configuration.multipartConcurrency) { launch(next); next += 1 }
            while let part = try await group.next() {
                results.append(part)
                Failpoint.reach("s3.multipart.part-uploaded")
                if next <= partCount { launch(next); next += 1 }
            }
            return results.sorted { $0.number < $1.number }
        }
        let versionID: String?
        do {
            versionID = try await complete(objectKey: objectKey, key: key, uploadID: uploadID, parts: uploaded)
        } catch let e as EvidenceError where e.code == .notFound {
            // NoSuchUpload: an earlier attempt whose answer was lost (a reset connection,
            // retried) may have completed it. The object is ours only if it is these bytes.
            guard let stored = try await head(key), stored.sha256 == sha, stored.size == file.size else { throw e }
            if let stateFile { try? FileManager.default.removeItem(atPath: stateFile) }
            return stored
        }
        if let stateFile { try? FileManager.default.removeItem(atPath: stateFile) }
        return StoredObjectInfo(key: key, size: file.size, sha256: sha, retention: retention, versionID: versionID, storedAt: clock.now())
    }

    /// Sends one part from its file region with `md5` (of the bytes read just before) and
    /// `sha256` (the first pass's), and requires proof that the stored part is the first
    /// pass's bytes (see `FileSnapshot`): the ETag the server computed over what it received
    /// must be `md5`, and the server must confirm `sha256` by echoing it in
    /// `x-amz-checksum-sha256` (it refuses a part whose bytes do not match it). A server that
    /// does not echo it is not trusted to have checked: the part is then read again here, and
    /// its SHA-256 must be the first pass's and its MD5 the ETag.
    func uploadPart(objectKey: String, uploadID: String, number: Int, region: S3FileRegion,
                    md5: [UInt8], sha256: Digest) async throws -> UploadedPart {
        let changed = "'\(region.file.path)' changed after it was hashed (or the bytes were altered in transit); make sure the file is complete and no longer written, then upload it again"
        let r: S3HTTPResponse
        do {
            r = try await client.expectSuccess(
                method: "PUT", objectKey: objectKey, query: [("partNumber", String(number)), ("uploadId", uploadID)],
                headers: ["content-md5": Base64.encode(md5), "x-amz-checksum-sha256": sha256.base64],
                httpBody: .fileRegion(region), payloadSHA256: sha256, what: "uploading part \(number) of '\(objectKey)'")
        } catch let e as EvidenceError where e.code == .verificationFailed {
            throw EvidenceError(.verificationFailed, "part \(number) of '\(objectKey)' was refused by the server: its bytes do not match their checksums (\(e.message)); \(changed)")
        }
        let etag = (r.header("etag") ?? "").replacingOccurrences(of: "\"", with: "")
        guard etag.lowercased() == Hex.encode(md5) else {
            throw EvidenceError(.verificationFailed, "part \(number) of '\(objectKey)' was stored with ETag \(etag), not the MD5 of the bytes read to send it (\(Hex.encode(md5))): \(changed)")
        }
        if let echoed = r.header("x-amz-checksum-sha256") {
            guard echoed == sha256.base64 else {
                throw EvidenceError(.verificationFailed, "part \(number) of '\(objectKey)' was stored with SHA-256 \(echoed), not the first pass's \(sha256.base64): \(changed)")
            }
        } else {
            let again = try await onOwnThread { try region.file.partDigests(offset: region.offset, length: region.length) }
            guard again.sha256 == sha256, Hex.encode(again.md5) == etag.lowercased() else {
                throw EvidenceError(.verificationFailed, "part \(number) of '\(objectKey)' (bytes \(region.offset)..<\(region.offset + UInt64(region.length))) no longer has the first pass's SHA-256 \(sha256.hex) and its ETag \(etag), and the server did not confirm the checksum: \(changed)")
            }
        }
        return UploadedPart(number: number, etag: etag, checksumSHA256: sha256.base64)
    }

    func listParts(objectKey: String, uploadID: String) async throws -> [UploadedPart] {
        var parts: [UploadedPart] = []
        var marker = 0
        for _ in 0..<20 {
            let r = try await client.expectSuccess(method: "GET", objectKey: objectKey,
                                                   query: [("uploadId", uploadID), ("part-number-marker", String(marker)), ("max-parts", "1000")],
                                                   what: "listing the parts of '\(objectKey)'")
            let root = try S3XML.parse(r.body, what: "ListParts")
            for p in root.children("Part") {
                guard let n = p.value("PartNumber").flatMap(Int.init), let etag = p.value("ETag") else { continue }
                parts.append(UploadedPart(number: n, etag: etag.replacingOccurrences(of: "\"", with: ""), checksumSHA256: p.value("ChecksumSHA256") ?? ""))
            }
            guard root.value("IsTruncated") == "true", let m = root.value("NextPartNumberMarker").flatMap(Int.init), m > marker else { break }
            marker = m
        }
        return parts
    }

    func complete(objectKey: String, key: String, uploadID: String, parts: [UploadedPart]) async throws -> String? {
        var xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        for p in parts {
            xml += "<Part><PartNumber>\(p.number)</PartNumber><ETag>\"\(S3XML.escape(p.etag))\"</ETag><ChecksumSHA256>\(S3XML.escape(p.checksumSHA256))</ChecksumSHA256></Part>"
        }
        xml += "</CompleteMultipartUpload>"
        let body = Array(xml.utf8)
        let r = try await client.expectSuccess(method: "POST", objectKey: objectKey, query: [("uploadId", uploadID)],
                                               headers: ["content-type": "application/xml",
                                                         "content-md5": ContentMD5.headerValue(body.withUnsafeBytes { $0 })],
                                               body: body, what: "completing the multipart upload of '\(key)'")
        // S3 may answer 200 and still report an error in the body.
        let root = try S3XML.parse(r.body, maxBytes: 64 << 10, maxElements: 100, what: "CompleteMultipartUpload")
        if root.name == "Error" {
            throw EvidenceError(.io, "completing the multipart upload of '\(key)' failed: \(root.value("Code") ?? "?") \(root.value("Message") ?? ""); call uploadFile again to resume")
        }
        return r.header("x-amz-version-id")
    }
}
