import EvidenceConformance
import EvidenceCore
import Foundation
import Testing

@Suite struct WORMStoreTests {
    @Test func inMemoryStorePassesTheConformanceSuite() async throws {
        let clock = ManualWallClock()
        let store = InMemoryWORMStore(clock: clock)
        try await WORMStoreConformance(store: store, keyPrefix: "c/", advance: { clock.advance(by: $0) }, now: { clock.now() }).run()
    }

    @Test func localFolderStorePassesTheConformanceSuite() async throws {
        let dir = TempDir("worm"); defer { dir.cleanup() }
        let clock = ManualWallClock()
        let store = try LocalFolderWORMStore(root: dir.path, backend: sha, clock: clock)
        try await WORMStoreConformance(store: store, keyPrefix: "c/", advance: { clock.advance(by: $0) }, now: { clock.now() }).run()
    }

    /// A store that overwrites must fail the same suite: the suite itself can fail.
    @Test func anOverwritingStoreFailsTheConformanceSuite() async throws {
        actor Overwriting: WORMStore {
            var objects: [String: [UInt8]] = [:]
            var guarantee: ImmutabilityGuarantee { .tamperEvidentOnly }
            func put(_ key: String, bytes: [UInt8], retention: RetentionPolicy) async throws -> StoredObjectInfo {
                try ObjectKey.validate(key)
                objects[key] = bytes
                return StoredObjectInfo(key: key, size: UInt64(bytes.count), sha256: sha.hash(bytes: bytes), retention: retention, storedAt: Date())
            }
            func get(_ key: String) async throws -> [UInt8] { guard let o = objects[key] else { throw EvidenceError(.notFound, key) }; return o }
            func head(_ key: String) async throws -> StoredObjectInfo? { nil }
            func list(prefix: String) async throws -> [String] { objects.keys.sorted() }
            func setLegalHold(_ key: String, _ on: Bool) async throws {}
            func delete(_ key: String) async throws { objects[key] = nil }
        }
        await #expect(throws: ConformanceFailure.self) {
            try await WORMStoreConformance(store: Overwriting(), keyPrefix: "c/", advance: { _ in }, now: { Date() }).putTwiceIsRefused()
        }
    }

    @Test func localFolderDetectsAlteredBytesOnRead() async throws {
        let dir = TempDir("worm"); defer { dir.cleanup() }
        let store = try LocalFolderWORMStore(root: dir.path, backend: sha, clock: ManualWallClock())
        let info = try await store.putContentAddressed(Array("recording chunk".utf8), retention: RetentionPolicy(retainUntil: Date.distantFuture), backend: sha)
        #expect(info.key.hasPrefix("sha256/"))
        let path = dir.path + "/data/" + info.key
        chmod(path, 0o644)
        let fh = FileHandle(forWritingAtPath: path)!
        fh.seek(toFileOffset: 3); fh.write(Data("X".utf8)); fh.closeFile()
        await #expect(throws: EvidenceError.self) { _ = try await store.get(info.key) }
    }

    @Test func relativeRootKeepsObjectsUnderTheWorkingDirectory() async throws {
        // A store opened as `--store st` must create its shard folders under ./st, not /st.
        let relative = "worm-relative-\(UUID().uuidString)"
        let absolute = FileManager.default.currentDirectoryPath + "/" + relative
        defer {
            _ = try? FileManager.default.subpathsOfDirectory(atPath: absolute).forEach { chmod(absolute + "/" + $0, 0o755) }
            try? FileManager.default.removeItem(atPath: absolute)
            try? FileManager.default.removeItem(atPath: "/" + relative)
        }
        let store = try LocalFolderWORMStore(root: relative, backend: sha, clock: ManualWallClock())
        let info = try await store.putContentAddressed(Array("chunk under a relative root".utf8), retention: RetentionPolicy(retainUntil: Date.distantFuture), backend: sha)
        #expect(FileManager.default.fileExists(atPath: absolute + "/data/" + info.key))
        #expect(FileManager.default.fileExists(atPath: absolute + "/meta/" + info.key + ".json"))
        #expect(!FileManager.default.fileExists(atPath: "/" + relative))
        #expect(try await store.get(info.key) == Array("chunk under a relative root".utf8))
    }

    @Test func storedObjectsAreReadOnlyFiles() async throws {
        let dir = TempDir("worm"); defer { dir.cleanup() }
        let store = try LocalFolderWORMStore(root: dir.path, backend: sha, clock: ManualWallClock())
        _ = try await store.put("a/b", bytes: [1, 2], retention: RetentionPolicy(retainUntil: Date.distantFuture))
        var st = stat()
        stat(dir.path + "/data/a/b", &st)
        #expect(st.st_mode & 0o222 == 0)
    }

    @Test func sameBytesContentAddressedTwiceIsOneObject() async throws {
        let store = InMemoryWORMStore(clock: ManualWallClock())
        let r = RetentionPolicy(retainUntil: Date.distantFuture)
        let a = try await store.putContentAddressed([1, 2, 3], retention: r, backend: sha)
        let b = try await store.putContentAddressed([1, 2, 3], retention: r, backend: sha)
        #expect(a == b)
        #expect(try await store.list(prefix: "sha256/").count == 1)
    }
}
