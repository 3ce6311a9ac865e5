import EvidenceCore
import Foundation
import Testing

@Suite("Tampered packs fail, naming the place", .timeLimit(.minutes(2)))
struct PackTamperTests {
    private func flip(_ path: String, at offset: UInt64, xor: UInt8) throws {
        let h = try #require(FileHandle(forUpdatingAtPath: path))
        defer { try? h.close() }
        try h.seek(toOffset: offset)
        let b = try #require(try h.read(upToCount: 1)).first!
        try h.seek(toOffset: offset)
        try h.write(contentsOf: Data([b ^ xor]))
    }

    @Test func aRandomByteChangedInAnyEntryIsNamed() async throws {
        let f = try await PackFixture(); defer { f.remove() }
        let original = try await f.export()
        let entries = try ZipArchiveReader(path: original).entries.filter { $0.size > 0 }
        var rng = SystemRandomNumberGenerator()
        for round in 0..<48 {
            let e = entries[round % entries.count]
            let copy = f.dir + "/t\(round).zip"
            try FileManager.default.copyItem(atPath: original, toPath: copy)
            let offset = e.dataOffset + UInt64.random(in: 0..<e.size, using: &rng)
            try flip(copy, at: offset, xor: UInt8.random(in: 1...255, using: &rng))
            let report = f.verifier().verify(copy)
            let place = report.failure?.place ?? "(passed)"
            #expect(!report.ok, "mutation at \(offset) in \(e.name) was not detected")
            #expect(place.contains(e.name) || (e.name == "manifest.sig" && place.hasPrefix("manifest")),
                    "mutation in \(e.name) reported at \(place)")
            try FileManager.default.removeItem(atPath: copy)
        }
    }

    @Test func anEditedOriginInTheManifestIsBlamedOnTheManifest() async throws {
        let f = try await PackFixture(); defer { f.remove() }
        let original = try await f.export()
        let manifest = try #require(try ZipArchiveReader(path: original).entries.first { $0.name == "manifest.json" })
        let bytes = try #require(FileManager.default.contents(atPath: original))
        let text = [UInt8](bytes[Int(manifest.dataOffset)..<Int(manifest.dataOffset + manifest.size)])
        let key = Array("\"origin\":\"".utf8)
        let at = try #require((0...(text.count - key.count)).first { Array(text[$0..<($0 + key.count)]) == key })
        try flip(original, at: manifest.dataOffset + UInt64(at + key.count), xor: 0x01)   // first letter of the origin
        let report = f.verifier().verify(original)
        #expect(report.failure?.place == "manifest.json", "\(report.failure?.place ?? "passed"): \(report.failure?.detail ?? "")")
    }

    @Test func aTruncatedPackFailsAtTheZipLayer() async throws {
        let f = try await PackFixture(); defer { f.remove() }
        let original = try await f.export()
        let size = try #require(try FileManager.default.attributesOfItem(atPath: original)[.size] as? UInt64)
        for cut in [UInt64(0), 10, size / 2, size - 1] {
            let copy = f.dir + "/cut\(cut).zip"
            try FileManager.default.copyItem(atPath: original, toPath: copy)
            let h = try #require(FileHandle(forUpdatingAtPath: copy)); try h.truncate(atOffset: cut); try h.close()
            #expect(f.verifier().verify(copy).failure?.place == "zip")
        }
    }

    @Test func aSelfSignedReplacementManifestIsRefusedWithTheTrustedKey() async throws {
        // An attacker re-signs a pack with their own key and puts it in the manifest.
        let f = try await PackFixture(); defer { f.remove() }
        let attacker = try PortableEd25519Signer(keyName: "msp-test", seed: [UInt8](repeating: 1, count: 32))
        let store2 = try EvidenceStore(at: f.store.root, backend: PortableSHA256(), signer: nil, clock: SystemWallClock())
        _ = store2
        let path = try await f.export()
        let report = EvidencePackVerifier(trustedKey: try PortableEd25519Verifier(keyName: attacker.keyName, publicKey: attacker.publicKey)).verify(path)
        #expect(report.failure?.place == "manifest.sig")
    }
}
