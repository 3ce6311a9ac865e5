import EvidenceCore
import EvidenceOpenSSL
@testable import EvidenceS3
import Foundation
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Parts streamed from the file: a file-region body reaches SeaweedFS byte for byte, a retry
/// sends the same region again, and a file that changes or shrinks after it was hashed is
/// refused without completing the object.
@Suite("S3 uploads streamed from the file", .timeLimit(.minutes(2)))
struct S3StreamingUploadTests {
    func retention() -> RetentionPolicy { RetentionPolicy(mode: .compliance, retainUntil: Date().addingTimeInterval(3600)) }

    func makeFile(bytes: Int, seed: UInt32) throws -> (String, [UInt8]) {
        var data = [UInt8](repeating: 0, count: bytes)
        var x = seed | 1
        for i in 0..<bytes { x ^= x << 13; x ^= x >> 17; x ^= x << 5; data[i] = UInt8(truncatingIfNeeded: x) }
        let path = NSTemporaryDirectory() + "s3-stream-\(UUID().uuidString)"
        try Data(data).write(to: URL(fileURLWithPath: path))
        return (path, data)
    }

    @Test("a file-region body sent by the loopback client is stored byte for byte, and the server checks its SHA-256")
    func fileRegionBody() async throws {
        let bucket = try await SeaweedPeer.makeBucket()
        let store = try await SeaweedPeer.openStore(bucket: bucket, transport: LoopbackHTTPTransport())
        let (path, data) = try makeFile(bytes: (3 << 20) + 9999, seed: 77)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let file = try S3SourceFile(path: path)
        // An unaligned region in the middle of the file.
        let region = try S3FileRegion(file: file, offset: 4097, length: (2 << 20) + 13)
        let expected = Array(data[4097..<(4097 + (2 << 20) + 13)])
        let sha = OpenSSLSHA256().hash(bytes: expected)
        // No payloadSHA256 given: the client hashes the region from the file for the signature.
        try await store.client.expectSuccess(method: "PUT", objectKey: "region.bin",
                                             headers: ["content-md5": ContentMD5.headerValue(expected.withUnsafeBytes { $0 }),
                                                       "x-amz-checksum-sha256": sha.base64],
                                             httpBody: .fileRegion(region), what: "putting a file region")
        let back = try await store.client.expectSuccess(method: "GET", objectKey: "region.bin", what: "reading the region back")
        #expect(back.body == expected)
        let head = try await store.client.expectSuccess(method: "HEAD", objectKey: "region.bin", headers: ["x-amz-checksum-mode": "ENABLED"],
                                                        what: "reading the stored checksum")
        #expect(head.header("x-amz-checksum-sha256") == sha.base64)
        // The same region announced with the SHA-256 of other bytes is refused by the server:
        // its checksum check is real, so the acceptance above means the bytes matched.
        let other = OpenSSLSHA256().hash(bytes: Array(data[0..<100]))
        await #expect(throws: EvidenceError.self) {
            try await store.client.expectSuccess(method: "PUT", objectKey: "region-wrong.bin",
                                                 headers: ["content-md5": ContentMD5.headerValue(expected.withUnsafeBytes { $0 }),
                                                           "x-amz-checksum-sha256": other.base64],
                                                 httpBody: .fileRegion(region), payloadSHA256: sha, what: "putting a region with a wrong checksum")
        }
        #expect(throws: EvidenceError.self) { _ = try S3FileRegion(file: file, offset: file.size - 10, length: 11) }
    }

    @Test("sendfile and its pread fallback send exactly the region, and report a file that ends early")
    func regionSenders() throws {
        let (path, data) = try makeFile(bytes: (1 << 20) + 333, seed: 5)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let file = try S3SourceFile(path: path)
        let region = try S3FileRegion(file: file, offset: 1001, length: 700_000)
        for useSendfile in [true, false] {
            var fds: [Int32] = [0, 0]
            #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
            defer { close(fds[0]); close(fds[1]) }
            let reader = SocketReader(fds[1])
            if useSendfile {
                try LoopbackHTTPTransport.sendRegion(fds[0], region)
            } else {
                try LoopbackHTTPTransport.copyRegion(fds[0], file: file, from: region.offset, to: region.offset + UInt64(region.length))
            }
            shutdown(fds[0], Int32(SHUT_WR))
            #expect(reader.wait() == Array(data[1001..<701_001]), "sendfile: \(useSendfile)")
        }
        // The file shrinks under the region: both senders say it was truncated.
        #expect(truncate(path, 500_000) == 0)
        for useSendfile in [true, false] {
            var fds: [Int32] = [0, 0]
            #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
            defer { close(fds[0]); close(fds[1]) }
            let reader = SocketReader(fds[1])
            #expect {
                if useSendfile { try LoopbackHTTPTransport.sendRegion(fds[0], region) } else {
                    try LoopbackHTTPTransport.copyRegion(fds[0], file: file, from: region.offset, to: region.offset + UInt64(region.length))
                }
            } throws: { ($0 as? EvidenceError)?.message.contains("truncated") == true }
            shutdown(fds[0], Int32(SHUT_WR))
            #expect(reader.wait().count < region.length)
        }
    }

    @Test("a multipart upload over the loopback client verifies, and a part answered 500 after it was stored is sent again from the same region")
    func multipartWithRetriedPart() async throws {
        let bucket = try await SeaweedPeer.makeBucket()
        let failedOnce = Flag()
        let transport = InterceptingTransport(inner: LoopbackHTTPTransport()) { request, response in
            // Part 2 reaches the server, but its answer is replaced by a 500 the first time.
            if (request.url.query ?? "").hasPrefix("partNumber=2&"), failedOnce.setOnce() {
                return S3HTTPResponse(status: 500, headers: [:], body: Array("<Error><Code>InternalError</Code></Error>".utf8))
            }
            return response
        }
        let store = try await SeaweedPeer.openStore(bucket: bucket, transport: transport, partSize: 5 << 20, concurrency: 2)
        let (path, data) = try makeFile(bytes: (16 << 20) + 4321, seed: 11)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let info = try await store.uploadFile(at: path, key: "rec/streamed.cast", retention: retention())
        #expect(failedOnce.isSet)
        let parts = transport.sentParts()
        #expect(parts.filter { $0 == 2 }.count == 2, "part 2 sent twice: \(parts)")
        #expect(Set(parts) == [1, 2, 3, 4])
        #expect(info.sha256 == OpenSSLSHA256().hash(bytes: data) && info.size == UInt64(data.count))
        try await store.verify(info)
        #expect(try await store.head("rec/streamed.cast")?.sha256 == info.sha256)
    }

    /// Part 2's bytes are rewritten just before part `hookPart` goes out: with 1, after the
    /// first pass but before part 2 is hashed again (caught by comparing its SHA-256 with the
    /// first pass's); with 2, after part 2 was hashed again, just before it is sent (caught by
    /// the server's checksums or the ETag).
    @Test("a file changed after it was hashed is refused, and no object is completed",
          arguments: ["loopback", "urlsession"], [1, 2])
    func fileChangedAfterHashing(_ transportName: String, hookPart: Int) async throws {
        let bucket = try await SeaweedPeer.makeBucket()
        let (path, _) = try makeFile(bytes: (12 << 20) + 100, seed: 21)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let transport = InterceptingTransport(inner: transportName == "loopback" ? LoopbackHTTPTransport() : URLSessionS3Transport(),
                                              before: { request in
            guard (request.url.query ?? "").hasPrefix("partNumber=\(hookPart)&") else { return }
            let fd = open(path, O_WRONLY)
            let junk = [UInt8](repeating: 0x5a, count: 4096)
            _ = pwrite(fd, junk, junk.count, off_t((5 << 20) + 1234))
            close(fd)
        })
        let store = try await SeaweedPeer.openStore(bucket: bucket, transport: transport, partSize: 5 << 20, concurrency: 1)
        await #expect {
            _ = try await store.uploadFile(at: path, key: "rec/changed.cast", retention: retention())
        } throws: {
            guard let e = $0 as? EvidenceError else { return false }
            return e.code == .verificationFailed && e.message.contains("changed after it was hashed") && e.message.contains("part 2")
        }
        #expect(try await store.head("rec/changed.cast") == nil)
    }

    /// How the part answers are altered: "unconfirmed" drops the server's echo of the part
    /// SHA-256 (the part is then checked again from the file); "unconfirmed-changed" does so and
    /// rewrites part 2 in the file after it was stored (the check from the file must fail);
    /// "wrong" replaces the echo of part 2 with another checksum.
    @Test("a part's SHA-256 must be confirmed by the server or checked again from the file",
          arguments: ["unconfirmed", "unconfirmed-changed", "wrong"])
    func partChecksumConfirmation(_ mode: String) async throws {
        let bucket = try await SeaweedPeer.makeBucket()
        let (path, data) = try makeFile(bytes: (12 << 20) + 100, seed: 23)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let transport = InterceptingTransport(inner: LoopbackHTTPTransport()) { request, response in
            guard (request.url.query ?? "").hasPrefix("partNumber=") else { return response }
            #expect(response.header("x-amz-checksum-sha256") != nil, "SeaweedFS confirms part checksums")
            var r = response
            if mode == "wrong" {
                if (request.url.query ?? "").hasPrefix("partNumber=2&") { r.headers["x-amz-checksum-sha256"] = OpenSSLSHA256().hash(bytes: [1]).base64 }
                return r
            }
            r.headers["x-amz-checksum-sha256"] = nil
            if mode == "unconfirmed-changed", (request.url.query ?? "").hasPrefix("partNumber=2&") {
                let fd = open(path, O_WRONLY)
                let junk = [UInt8](repeating: 0x5a, count: 4096)
                _ = pwrite(fd, junk, junk.count, off_t((5 << 20) + 1234))
                close(fd)
            }
            return r
        }
        let store = try await SeaweedPeer.openStore(bucket: bucket, transport: transport, partSize: 5 << 20, concurrency: 1)
        if mode == "unconfirmed" {
            let info = try await store.uploadFile(at: path, key: "rec/confirm.cast", retention: retention())
            #expect(info.sha256 == OpenSSLSHA256().hash(bytes: data))
            try await store.verify(info)
            return
        }
        await #expect {
            _ = try await store.uploadFile(at: path, key: "rec/confirm.cast", retention: retention())
        } throws: {
            guard let e = $0 as? EvidenceError else { return false }
            return e.code == .verificationFailed && e.message.contains("part 2")
                && e.message.contains(mode == "wrong" ? "not the first pass's" : "did not confirm the checksum")
        }
        #expect(try await store.head("rec/confirm.cast") == nil)
    }

    @Test("a file truncated during the upload is refused as truncated, and no object is completed",
          arguments: ["loopback", "urlsession"])
    func fileTruncatedDuringUpload(_ transportName: String) async throws {
        let bucket = try await SeaweedPeer.makeBucket()
        let (path, _) = try makeFile(bytes: (12 << 20) + 100, seed: 31)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let transport = InterceptingTransport(inner: transportName == "loopback" ? LoopbackHTTPTransport() : URLSessionS3Transport(),
                                              before: { request in
            if (request.url.query ?? "").hasPrefix("partNumber=1&") { _ = truncate(path, off_t(7 << 20)) }
        })
        let store = try await SeaweedPeer.openStore(bucket: bucket, transport: transport, partSize: 5 << 20, concurrency: 1)
        await #expect {
            _ = try await store.uploadFile(at: path, key: "rec/truncated.cast", retention: retention())
        } throws: {
            guard let e = $0 as? EvidenceError else { return false }
            return e.code == .io && e.message.contains("truncated")
        }
        #expect(try await store.head("rec/truncated.cast") == nil)
        let parts = transport.sentParts()
        #expect(!parts.contains(3), "the upload stops at the first truncated part: \(parts)")
    }

    @Test("an upload over the loopback client cut after one part resumes with the same UploadId")
    func resumeOverLoopback() async throws {
        let bucket = try await SeaweedPeer.makeBucket()
        let (path, data) = try makeFile(bytes: (15 << 20) + 1, seed: 41)
        let stateFile = path + ".upload-state"
        defer { try? FileManager.default.removeItem(atPath: path); try? FileManager.default.removeItem(atPath: stateFile) }
        let crashing = InterceptingTransport(inner: LoopbackHTTPTransport(), before: { request in
            let q = request.url.query ?? ""
            if request.method == "PUT", q.contains("partNumber="), !q.hasPrefix("partNumber=1&") { throw EvidenceError(.io, "injected crash") }
        })
        let first = try await SeaweedPeer.openStore(bucket: bucket, transport: crashing, concurrency: 1)
        await #expect(throws: EvidenceError.self) {
            _ = try await first.uploadFile(at: path, key: "rec/resumed.cast", retention: retention(), stateFile: stateFile)
        }
        #expect(FileManager.default.fileExists(atPath: stateFile))
        let counting = InterceptingTransport(inner: LoopbackHTTPTransport())
        var second = try await SeaweedPeer.openStore(bucket: bucket, transport: counting)
        second.maxObjectSize = 64 << 20
        let info = try await second.uploadFile(at: path, key: "rec/resumed.cast", retention: retention(), stateFile: stateFile)
        #expect(counting.sentParts().sorted() == [2, 3, 4])
        let queries = counting.sentQueries()
        #expect(!queries.contains { $0.hasPrefix("uploads") }, "no second CreateMultipartUpload: \(queries)")
        #expect(try await second.get("rec/resumed.cast") == data)
        try await second.verify(info)
    }
}

/// Reads a socket to its end on a thread of its own.
private final class SocketReader: @unchecked Sendable {
    private var bytes: [UInt8] = []
    private let done = DispatchSemaphore(value: 0)

    init(_ fd: Int32) {
        Thread { [self] in
            var buf = [UInt8](repeating: 0, count: 64 << 10)
            while true {
                let n = read(fd, &buf, buf.count)
                if n <= 0 { break }
                bytes += buf[0..<n]
            }
            done.signal()
        }.start()
    }

    /// Everything read, once the writer has shut its side.
    func wait() -> [UInt8] { done.wait(); return bytes }
}

/// Set at most once, from any thread.
final class Flag: Sendable {
    private let state = Mutex(false)
    /// True for the one caller that set it.
    func setOnce() -> Bool { state.withLock { if $0 { return false }; $0 = true; return true } }
    var isSet: Bool { state.withLock { $0 } }
}

/// Forwards to a real transport, with a hook before each request (which may change the file
/// or throw as a crash would) and one that may replace the answer; records the part numbers
/// and queries sent.
final class InterceptingTransport: S3HTTPTransport {
    let inner: any S3HTTPTransport
    let before: @Sendable (S3HTTPRequest) throws -> Void
    let after: @Sendable (S3HTTPRequest, S3HTTPResponse) -> S3HTTPResponse
    private let log = Mutex<[String]>([])

    init(inner: any S3HTTPTransport, before: @escaping @Sendable (S3HTTPRequest) throws -> Void = { _ in },
         after: @escaping @Sendable (S3HTTPRequest, S3HTTPResponse) -> S3HTTPResponse = { $1 }) {
        self.inner = inner; self.before = before; self.after = after
    }

    convenience init(inner: any S3HTTPTransport, after: @escaping @Sendable (S3HTTPRequest, S3HTTPResponse) -> S3HTTPResponse) {
        self.init(inner: inner, before: { _ in }, after: after)
    }

    func send(_ request: S3HTTPRequest, timeout: TimeInterval) async throws -> S3HTTPResponse {
        try before(request)
        log.withLock { $0.append(request.url.query ?? "") }
        return after(request, try await inner.send(request, timeout: timeout))
    }

    func sentQueries() -> [String] { log.withLock { $0 } }

    func sentParts() -> [Int] {
        sentQueries().compactMap { q in
            guard q.hasPrefix("partNumber=") else { return nil }
            return Int(q.dropFirst("partNumber=".count).prefix { $0 != "&" })
        }
    }
}
