import EvidenceCore
import EvidenceOpenSSL
import EvidenceS3
import Foundation
import Testing

@Suite("S3 multipart upload, resume, and credentials", .timeLimit(.minutes(2)))
struct S3MultipartAndCredentialTests {
    func retention() -> RetentionPolicy { RetentionPolicy(mode: .compliance, retainUntil: Date().addingTimeInterval(3600)) }

    func makeFile(bytes: Int, seed: UInt8) throws -> (String, [UInt8]) {
        var data = [UInt8](repeating: 0, count: bytes)
        var x = UInt32(seed) | 1
        for i in 0..<bytes { x ^= x << 13; x ^= x >> 17; x ^= x << 5; data[i] = UInt8(truncatingIfNeeded: x) }
        let path = NSTemporaryDirectory() + "s3-upload-\(UUID().uuidString)"
        try Data(data).write(to: URL(fileURLWithPath: path))
        return (path, data)
    }

    @Test("a 12 MiB file goes up in 5 MiB parts with per-part checksums and reads back identical")
    func multipartRoundTrip() async throws {
        let bucket = try await SeaweedPeer.makeBucket()
        let transport = FaultInjectingTransport { _, _ in nil }
        let store = try await SeaweedPeer.openStore(bucket: bucket, transport: transport)
        let (path, data) = try makeFile(bytes: 12 << 20, seed: 3)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let info = try await store.uploadFile(at: path, key: "rec/big.cast", retention: retention())
        #expect(info.sha256 == OpenSSLSHA256().hash(bytes: data) && info.size == UInt64(data.count))
        let sent = await transport.sent()
        #expect(sent.filter { $0.hasPrefix("PUT partNumber=") }.count == 3, "\(sent)")
        #expect(try await store.get("rec/big.cast") == data)
        try await store.verify(info)
        #expect(try await store.retention("rec/big.cast").mode == .compliance)
        await #expect { _ = try await store.uploadFile(at: path, key: "rec/big.cast", retention: retention()) } throws: {
            ($0 as? EvidenceError)?.code == .immutable
        }
    }

    @Test("an upload that crashes after one part resumes with the same UploadId and sends only the missing parts")
    func multipartResume() async throws {
        let bucket = try await SeaweedPeer.makeBucket()
        let (path, data) = try makeFile(bytes: 16 << 20, seed: 9)
        let stateFile = path + ".upload-state"
        defer { try? FileManager.default.removeItem(atPath: path); try? FileManager.default.removeItem(atPath: stateFile) }
        // Crash: every part request after the first one fails as if the process died (one part
        // in flight at a time, so part 1 is complete when part 2 fails).
        let crashing = FaultInjectingTransport { request, _ in
            let q = request.url.query ?? ""
            return request.method == "PUT" && q.contains("partNumber=") && !q.contains("partNumber=1&")
                ? S3HTTPResponse(status: 0, headers: [:], body: []) : nil
        }
        var first = try await SeaweedPeer.openStore(bucket: bucket, transport: crashing, concurrency: 1)
        first.maxObjectSize = 64 << 20
        await #expect(throws: EvidenceError.self) {
            _ = try await first.uploadFile(at: path, key: "rec/resumed.cast", retention: retention(), stateFile: stateFile)
        }
        #expect(FileManager.default.fileExists(atPath: stateFile))
        #expect(try await first.head("rec/resumed.cast") == nil)

        let counting = FaultInjectingTransport { _, _ in nil }
        var second = try await SeaweedPeer.openStore(bucket: bucket, transport: counting)
        second.maxObjectSize = 64 << 20
        let info = try await second.uploadFile(at: path, key: "rec/resumed.cast", retention: retention(), stateFile: stateFile)
        let sent = await counting.sent()
        #expect(!sent.contains { $0.contains("uploads") }, "no second CreateMultipartUpload: \(sent)")
        #expect(!sent.contains { $0.contains("partNumber=1&") }, "part 1 was already stored: \(sent)")
        #expect(sent.filter { $0.hasPrefix("PUT partNumber=") }.count == 3)
        #expect(!FileManager.default.fileExists(atPath: stateFile))
        #expect(try await second.get("rec/resumed.cast") == data)
        try await second.verify(info)
        // Calling again after completion with a fresh state file is refused: the key is taken.
        await #expect { _ = try await second.uploadFile(at: path, key: "rec/resumed.cast", retention: retention()) } throws: {
            ($0 as? EvidenceError)?.code == .immutable
        }
    }

    @Test("credentials come from arguments, environment or a profile file, and never show the secret")
    func credentialSources() throws {
        let env = ["AWS_ACCESS_KEY_ID": "AKIAENV0000000000001", "AWS_SECRET_ACCESS_KEY": "env-secret-value", "AWS_SESSION_TOKEN": "tok"]
        let fromEnv = try #require(try S3Credentials.fromEnvironment(env))
        #expect(fromEnv.accessKeyID == "AKIAENV0000000000001" && fromEnv.hasSessionToken)
        #expect(!"\(fromEnv)".contains("env-secret-value") && !"\(fromEnv)".contains("tok)"))
        #expect(try S3Credentials.fromEnvironment([:]) == nil)

        let path = NSTemporaryDirectory() + "aws-credentials-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try """
        [default]
        aws_access_key_id = AKIADEFAULT000000001
        aws_secret_access_key = default-secret
        # comment
        [profile evidence]
        aws_access_key_id=AKIAEVIDENCE00000001
        aws_secret_access_key=evidence-secret
        aws_session_token=session
        """.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try S3Credentials.fromProfileFile(path: path).accessKeyID == "AKIADEFAULT000000001")
        let p = try S3Credentials.fromProfileFile(path: path, profile: "evidence")
        #expect(p.accessKeyID == "AKIAEVIDENCE00000001" && p.hasSessionToken)
        #expect(throws: EvidenceError.self) { try S3Credentials.fromProfileFile(path: path, profile: "absent") }
        let resolved = try S3Credentials.resolve(environment: ["AWS_SHARED_CREDENTIALS_FILE": path, "AWS_PROFILE": "evidence", "HOME": "/nonexistent"])
        #expect(resolved.accessKeyID == "AKIAEVIDENCE00000001")
        #expect(throws: EvidenceError.self) { try S3Credentials.resolve(environment: ["HOME": "/nonexistent"]) }
    }

    @Test("hostile XML answers are refused: DTDs, oversized documents, deep nesting")
    func boundedXML() async throws {
        let bucket = try await SeaweedPeer.makeBucket()
        let config = try SeaweedPeer.configuration(bucket: bucket)
        let entity = Array("<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"aaaa\">]><Error><Code>&a;</Code></Error>".utf8)
        let deep = Array((String(repeating: "<a>", count: 40) + String(repeating: "</a>", count: 40)).utf8)
        for hostile in [entity, deep, [UInt8](repeating: 0x20, count: 70 << 10)] {
            let e = S3ErrorMapping.error(status: 500, body: hostile, what: "probe", configuration: config)
            #expect(e.message.contains("HTTP 500"), "hostile XML must not be interpreted: \(e.message)")
        }
    }
}
