import EvidenceCore
import EvidencePDF
import Foundation
import Testing

@Suite("Evidence pack export and verify", .timeLimit(.minutes(2)))
struct PackRoundTripTests {
    @Test func anExportedPackVerifiesWithTheStoreKey() async throws {
        let f = try await PackFixture(); defer { f.remove() }
        let report = f.verifier().verify(try await f.export())
        #expect(report.ok, "\(String(describing: report.failure))")
        #expect(report.recordings == 1)
        #expect(report.records >= 3)
    }

    @Test func aPackIsRefusedUnderAnotherKey() async throws {
        let f = try await PackFixture(); defer { f.remove() }
        let other = try PortableEd25519Signer(keyName: "msp-test", seed: [UInt8](repeating: 9, count: 32))
        let v = EvidencePackVerifier(trustedKey: try PortableEd25519Verifier(keyName: other.keyName, publicKey: other.publicKey))
        let report = v.verify(try await f.export())
        #expect(report.failure?.place == "manifest.sig")
    }

    @Test func theRecordingIsStoredByteForByte() async throws {
        let f = try await PackFixture(); defer { f.remove() }
        let zip = try ZipArchiveReader(path: try await f.export())
        let entry = try #require(zip.entries.first { $0.name.hasPrefix("recordings/") })
        #expect(try zip.read(entry, limit: 1 << 20) == f.recording)
    }

    @Test func thePDFEmbedsTheManifest() async throws {
        let f = try await PackFixture(); defer { f.remove() }
        let zip = try ZipArchiveReader(path: try await f.export())
        let manifest = try zip.read(try #require(zip.entry("manifest.json")), limit: 1 << 24)
        let pdf = try zip.read(try #require(zip.entry("report.pdf")), limit: 1 << 26)
        #expect(EvidencePackVerifier.contains(pdf, manifest))
    }

    @Test func anIncidentScopeTakesTheIncidentsSessions() async throws {
        let f = try await PackFixture(); defer { f.remove() }
        let report = f.verifier().verify(try await f.export(.incident("INC-1")))
        #expect(report.ok)
        #expect(report.recordings == 1)
    }

    @Test func aScopeWithoutRecordsIsRefused() async throws {
        let f = try await PackFixture(); defer { f.remove() }
        await #expect(throws: EvidenceError.self) { _ = try await f.export(.session("nope")) }
    }

    @Test func custodyOfAnEarlierExportIsCarriedIntoTheNext() async throws {
        let f = try await PackFixture(); defer { f.remove() }
        _ = try await f.export(name: "first.zip")
        let second = try await f.export(name: "second.zip")
        let zip = try ZipArchiveReader(path: second)
        let m = try JSONParser.parse(try zip.read(try #require(zip.entry("manifest.json")), limit: 1 << 24))
        #expect(m["custody"]?.arrayValue?.count == 2)
        #expect(f.verifier().verify(second).ok)
    }
}
