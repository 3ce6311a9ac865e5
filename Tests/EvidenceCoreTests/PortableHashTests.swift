import EvidenceConformance
import EvidenceCore
import Testing

@Suite("Portable SHA-256 and SHA-512 (FIPS 180-4 vectors)")
struct PortableHashTests {
    @Test("PortableSHA256 matches the NIST examples", arguments: CryptoVectors.sha256.indices)
    func sha256Vector(_ i: Int) {
        let (message, expected) = CryptoVectors.sha256[i]
        #expect(PortableSHA256().hash(message).hex == expected)
    }

    @Test("PortableSHA256 of one million 'a' matches NIST")
    func sha256MillionA() {
        let million = [UInt8](repeating: 0x61, count: 1_000_000)
        #expect(PortableSHA256().hash(bytes: million).hex == CryptoVectors.sha256MillionA)
        // Same input fed in uneven chunks through the incremental hasher.
        var h = PortableSHA256().makeHasher()
        var offset = 0, step = 1
        while offset < million.count {
            let end = min(offset + step, million.count)
            h.update(bytes: million[offset..<end].map { $0 })
            offset = end; step = step * 3 % 1009 + 1
        }
        #expect(h.finalize().hex == CryptoVectors.sha256MillionA)
    }

    @Test("PortableSHA512 matches the NIST examples", arguments: CryptoVectors.sha512.indices)
    func sha512Vector(_ i: Int) {
        let (message, expected) = CryptoVectors.sha512[i]
        #expect(Hex.encode(PortableSHA512().hash(bytes: Array(message.utf8))) == expected)
    }

    @Test("PortableSHA512 of one million 'a' matches NIST, whole and in chunks")
    func sha512MillionA() {
        let million = [UInt8](repeating: 0x61, count: 1_000_000)
        #expect(Hex.encode(PortableSHA512().hash(bytes: million)) == CryptoVectors.sha512MillionA)
        var h = PortableSHA512Hasher()
        var offset = 0, step = 1
        while offset < million.count {
            let end = min(offset + step, million.count)
            h.update(bytes: Array(million[offset..<end]))
            offset = end; step = step * 7 % 2003 + 1
        }
        #expect(Hex.encode(h.finalize()) == CryptoVectors.sha512MillionA)
    }

    @Test("PortableSHA512 pads correctly around the 112-byte and 128-byte boundaries")
    func sha512Boundaries() {
        // Every length from 100 to 260: split hashing equals one-shot hashing, and lengths
        // differ pairwise (a padding bug makes neighbours collide or splits disagree).
        var seen = Set<[UInt8]>()
        for n in 100...260 {
            let m = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            let whole = PortableSHA512().hash(bytes: m)
            var h = PortableSHA512Hasher()
            h.update(bytes: Array(m[0..<(n / 3)]))
            h.update(bytes: Array(m[(n / 3)...]))
            #expect(h.finalize() == whole, "split hash differs at length \(n)")
            seen.insert(whole)
        }
        #expect(seen.count == 161)
    }
}

@Test func portableSHA256PassesTheBackendConformanceSuite() throws {
    try SHA256BackendConformance.run(PortableSHA256())
}

/// The backend suite can fail: a backend that hashes nodes without the 0x01 prefix is caught.
@Test func aBackendWithoutTheNodePrefixFailsTheConformanceSuite() {
    struct NoNodePrefix: SHA256Backend {
        let inner = PortableSHA256()
        func hash(_ data: UnsafeRawBufferPointer) -> Digest { inner.hash(data) }
        func hash(prefix: UInt8, _ data: UnsafeRawBufferPointer) -> Digest { prefix == 0x01 ? inner.hash(data) : inner.hash(prefix: prefix, data) }
        func makeHasher() -> any IncrementalSHA256 { inner.makeHasher() }
    }
    #expect(throws: ConformanceFailure.self) { try SHA256BackendConformance.run(NoNodePrefix()) }
}
