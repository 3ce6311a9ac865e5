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
    /// Uploads a file (a session recording, a sealed segment) under `key`, streaming it in
    /// parts of `multipartPartSize` with `multipartConcurrency` parts in flight, so memory stays
    /// about partSize x concurrency whatever the file size.
    ///
    /// Every part carries `Content-MD5` and `x-amz-checksum-sha256`; the object carries the
    /// lock headers of `retention` and the whole-file SHA-256 (hashed in a first pass). With
    /// `stateFile`, progress is saved there: after a crash, calling again with the same file,
    /// key and state file resumes the same upload (parts already stored are checked against
    /// their SHA-256 and kept), and a call after a completed upload returns the stored object
    /// instead of writing a second one. Refuses: an existing different object under `key`.
    public func uploadFile(at path: String, key: String, retention: RetentionPolicy,
                           stateFile: String? = nil) async throws -> StoredObjectInfo {
        try ObjectKey.validate(key)
        try checkRetention(retention, key: key)
        let file = try RecordingFile(path: path)
        defer { file.close() }
        let sha = try file.sha256()
        var state = stateFile.flatMap { try? JSONDecoder().decode(MultipartUploadState.self, from: Data(contentsOf: URL(fileURLWithPath: $0))) }
        if let s = state, s.key != key || s.sha256 != sha.hex || s.size != file.size || s.partSize != configuration.multipartPartSize {
            state = nil   // state of another file or layout: start afresh
        }
        if let existing = try await head(key) {
            if state != nil, existing.sha256 == sha, existing.size == file.size {
                if let stateFile { try? FileManager.default.removeItem(atPath: stateFile) }
                return existing
            }
            throw EvidenceError(.immutable, "object '\(key)' already exists in bucket '\(configuration.bucket)' (SHA-256 \(existing.sha256.hex)); write-once keys are never overwritten")
        }
        if file.size < UInt64(configuration.multipartPartSize) {
            let bytes = try file.read(offset: 0, count: Int(file.size))
            return try await put(key, bytes: bytes, retention: retention)
        }
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
            state = MultipartUploadState(key: key, sha256: sha.hex, size: file.size, partSize: configuration.multipartPartSize, uploadID: id)
            if let stateFile { try JSONEncoder().encode(state).write(to: URL(fileURLWithPath: stateFile), options: .atomic) }
        }
        let uploadID = state!.uploadID
        let partSize = configuration.multipartPartSize
        let partCount = Int((file.size + UInt64(partSize) - 1) / UInt64(partSize))
        guard partCount <= 10_000 else {
            throw EvidenceError(.malformedInput, "'\(path)' needs \(partCount) parts of \(partSize) bytes; S3 allows 10,000: raise multipartPartSize")
        }
        let known = done
        let uploaded = try await withThrowingTaskGroup(of: UploadedPart.self) { group in
            var results: [UploadedPart] = []
            var next = 1
            func launch(_ n: Int) {
                group.addTask {
                    let offset = UInt64(n - 1) * UInt64(partSize)
                    let bytes = try file.readData(offset: offset, count: Int(min(UInt64(partSize), file.size - offset)))
                    let partSHA = OpenSSLSHA256().hash(bytes: bytes)
                    // A part stored before a crash is kept if it is provably these bytes: its
                    // SHA-256 checksum where the server lists one, else its ETag (the part's MD5).
                    if let k = known[n], k.checksumSHA256.isEmpty
                        ? k.etag.lowercased() == Hex.encode(bytes.withUnsafeBytes { ContentMD5.digest($0) })
                        : k.checksumSHA256 == partSHA.base64 {
                        return UploadedPart(number: n, etag: k.etag, checksumSHA256: partSHA.base64)
                    }
                    return try await uploadPart(objectKey: objectKey, uploadID: uploadID, number: n, bytes: bytes, sha: partSHA)
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
        let versionID = try await complete(objectKey: objectKey, key: key, uploadID: uploadID, parts: uploaded)
        if let stateFile { try? FileManager.default.removeItem(atPath: stateFile) }
        return StoredObjectInfo(key: key, size: file.size, sha256: sha, retention: retention, versionID: versionID, storedAt: clock.now())
    }

    func uploadPart(objectKey: String, uploadID: String, number: Int, bytes: Data, sha: Digest) async throws -> UploadedPart {
        let md5 = bytes.withUnsafeBytes { ContentMD5.digest($0) }
        let r = try await client.expectSuccess(
            method: "PUT", objectKey: objectKey, query: [("partNumber", String(number)), ("uploadId", uploadID)],
            headers: ["content-md5": Base64.encode(md5), "x-amz-checksum-sha256": sha.base64],
            bodyData: bytes, payloadSHA256: sha, what: "uploading part \(number) of '\(objectKey)'")
        let etag = (r.header("etag") ?? "").replacingOccurrences(of: "\"", with: "")
        guard etag.lowercased() == Hex.encode(md5) else {
            throw EvidenceError(.verificationFailed, "part \(number) of '\(objectKey)' was stored with ETag \(etag), not the MD5 we sent (\(Hex.encode(md5))); retry the upload")
        }
        return UploadedPart(number: number, etag: etag, checksumSHA256: sha.base64)
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

/// A regular file read with `pread`, so concurrent part readers share one descriptor.
/// Immutable after init; `pread` does not move a shared offset, so concurrent reads are safe.
final class RecordingFile: Sendable {
    let fd: Int32
    let size: UInt64
    let path: String

    init(path: String) throws {
        self.path = path
        fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw EvidenceError(.notFound, "cannot open '\(path)' for upload: \(String(cString: strerror(errno)))") }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            Glibc.close(fd)
            throw EvidenceError(.malformedInput, "'\(path)' is not a regular file; only files are uploaded")
        }
        size = UInt64(st.st_size)
    }

    func close() { Glibc.close(fd) }

    func read(offset: UInt64, count: Int) throws -> [UInt8] {
        try [UInt8](unsafeUninitializedCapacity: count) { buf, n in
            var got = 0
            while got < count {
                let r = pread(fd, buf.baseAddress! + got, count - got, off_t(offset) + off_t(got))
                if r < 0 && errno == EINTR { continue }
                guard r > 0 else {
                    n = 0
                    throw EvidenceError(.io, "reading '\(path)' at offset \(offset + UInt64(got)) failed or hit end of file; was it truncated during the upload?")
                }
                got += r
            }
            n = count
        }
    }

    /// `count` bytes at `offset`, straight into `Data` (no second copy on the way to HTTP).
    func readData(offset: UInt64, count: Int) throws -> Data {
        var data = Data(count: count)
        try data.withUnsafeMutableBytes { raw in
            var got = 0
            while got < count {
                let r = pread(fd, raw.baseAddress! + got, count - got, off_t(offset) + off_t(got))
                if r < 0 && errno == EINTR { continue }
                guard r > 0 else {
                    throw EvidenceError(.io, "reading '\(path)' at offset \(offset + UInt64(got)) failed or hit end of file; was it truncated during the upload?")
                }
                got += r
            }
        }
        return data
    }

    /// SHA-256 of the whole file in 1 MiB reads.
    func sha256() throws -> Digest {
        var h = OpenSSLSHA256().makeHasher()
        var offset: UInt64 = 0
        while offset < size {
            let chunk = try read(offset: offset, count: Int(min(1 << 20, size - offset)))
            h.update(bytes: chunk)
            offset += UInt64(chunk.count)
        }
        return h.finalize()
    }
}
