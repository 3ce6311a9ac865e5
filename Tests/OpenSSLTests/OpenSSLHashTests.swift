import EvidenceConformance
import EvidenceCore
import EvidenceOpenSSL
import Testing

@Suite("OpenSSL SHA-256 (FIPS 180-4 vectors, incremental, cross-check with the portable one)")
struct OpenSSLHashTests {
    @Test("OpenSSLSHA256 matches the NIST examples", arguments: CryptoVectors.sha256.indices)
    func nistVector(_ i: Int) {
        let (message, expected) = CryptoVectors.sha256[i]
        #expect(OpenSSLSHA256().hash(message).hex == expected)
    }

    @Test("OpenSSLSHA256 of one million 'a' matches NIST")
    func millionA() {
        #expect(OpenSSLSHA256().hash(bytes: [UInt8](repeating: 0x61, count: 1_000_000)).hex == CryptoVectors.sha256MillionA)
    }

    @Test("incremental hashing split at every offset of a 200-byte input equals one-shot")
    func splitAtEveryOffset() {
        let input = (0..<200).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 17) }
        let whole = OpenSSLSHA256().hash(bytes: input)
        #expect(whole == PortableSHA256().hash(bytes: input))
        for split in 0...200 {
            var h = OpenSSLSHA256().makeHasher()
            h.update(bytes: Array(input[..<split]))
            h.update(bytes: Array(input[split...]))
            #expect(h.finalize() == whole, "split at \(split)")
        }
    }

    @Test("portable and OpenSSL SHA-256 agree on random inputs of length 0...1000, and on prefixed hashes")
    func crossCheckRandomLengths() {
        var rng = SystemRandomNumberGenerator()
        var lengths = Array(0...70) + [111, 112, 119, 120, 127, 128, 129, 1000]
        for _ in 0..<60 { lengths.append(Int.random(in: 0...1000, using: &rng)) }
        for n in lengths {
            let m = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            #expect(OpenSSLSHA256().hash(bytes: m) == PortableSHA256().hash(bytes: m), "length \(n)")
            #expect(OpenSSLSHA256().leafHash(m) == PortableSHA256().leafHash(m), "leaf, length \(n)")
        }
        let a = PortableSHA256().hash("a"), b = PortableSHA256().hash("b")
        #expect(OpenSSLSHA256().hashChildren(a, b) == PortableSHA256().hashChildren(a, b))
    }
}

@Suite("HMAC-SHA256 (RFC 4231) and Content-MD5")
struct HMACTests {
    /// RFC 4231 §4.2-4.8: (key, data, tag). Test 5's tag is truncated to 128 bits in the RFC.
    static let vectors: [(key: [UInt8], data: [UInt8], tag: String)] = [
        ([UInt8](repeating: 0x0b, count: 20), Array("Hi There".utf8),
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        (Array("Jefe".utf8), Array("what do ya want for nothing?".utf8),
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
        ([UInt8](repeating: 0xaa, count: 20), [UInt8](repeating: 0xdd, count: 50),
         "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
        (Array(1...25), [UInt8](repeating: 0xcd, count: 50),
         "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
        ([UInt8](repeating: 0x0c, count: 20), Array("Test With Truncation".utf8),
         "a3b6167473100ee06e0c796c2955552b"),
        ([UInt8](repeating: 0xaa, count: 131), Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
        ([UInt8](repeating: 0xaa, count: 131),
         Array("This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.".utf8),
         "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
    ]

    @Test("one-shot HMAC-SHA256 matches RFC 4231", arguments: vectors.indices)
    func oneShot(_ i: Int) {
        let v = Self.vectors[i]
        let tag = Hex.encode(HMACSHA256.authenticationCode(key: v.key, message: v.data))
        #expect(tag.hasPrefix(v.tag), "RFC 4231 test \(i + 1)")
    }

    @Test("incremental HMAC-SHA256 matches RFC 4231 when fed byte ranges of every split", arguments: vectors.indices)
    func incremental(_ i: Int) {
        let v = Self.vectors[i]
        for split in 0...v.data.count {
            var mac = HMACSHA256(key: v.key)
            mac.update(Array(v.data[..<split]))
            mac.update(Array(v.data[split...]))
            #expect(Hex.encode(mac.finalize()).hasPrefix(v.tag), "test \(i + 1), split \(split)")
        }
    }

    @Test("isValid accepts the right tag and refuses a changed one")
    func constantTimeCheck() {
        let v = Self.vectors[1]
        let tag = HMACSHA256.authenticationCode(key: v.key, message: v.data)
        #expect(HMACSHA256.isValid(tag, key: v.key, message: v.data))
        var bad = tag; bad[31] ^= 1
        #expect(!HMACSHA256.isValid(bad, key: v.key, message: v.data))
        #expect(!HMACSHA256.isValid(Array(tag.prefix(16)), key: v.key, message: v.data))
    }

    @Test("Content-MD5 matches RFC 1321's examples")
    func md5() {
        #expect(Hex.encode(ContentMD5.digest(Array("".utf8))) == "d41d8cd98f00b204e9800998ecf8427e")
        #expect(Hex.encode(ContentMD5.digest(Array("abc".utf8))) == "900150983cd24fb0d6963f7d28e17f72")
        #expect(Hex.encode(ContentMD5.digest(Array("message digest".utf8))) == "f96b697d7cb7938d525a2f31aaf161d0")
    }
}

@Test func openSSLSHA256PassesTheBackendConformanceSuite() throws {
    try SHA256BackendConformance.run(OpenSSLSHA256())
}
