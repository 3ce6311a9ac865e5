import EvidenceCore
import EvidenceOpenSSL
import Testing

private func hex(_ s: String) -> [UInt8] { Hex.decode(s.replacingOccurrences(of: " ", with: ""))! }

@Suite("AES-SIV-CMAC-256 (RFC 5297)", .timeLimit(.minutes(1)))
struct AESSIVTests {
    @Test func rfc5297A1DeterministicVectorSealsAndOpens() throws {
        let siv = try AESSIVCMAC256(key: hex("fffefdfc fbfaf9f8 f7f6f5f4 f3f2f1f0 f0f1f2f3 f4f5f6f7 f8f9fafb fcfdfeff"))
        let ad = hex("10111213 14151617 18191a1b 1c1d1e1f 20212223 24252627")
        let pt = hex("11223344 55667788 99aabbcc ddee")
        let expected = hex("85632d07 c6e8f37f 950acd32 0a2ecc93 40c02b96 90c4dc04 daef7f6a fe5c")
        #expect(try siv.seal(pt, associatedData: [ad]) == expected)
        #expect(try siv.open(expected, associatedData: [ad]) == pt)
    }

    @Test func rfc5297A2NonceBasedVectorSealsAndOpens() throws {
        let siv = try AESSIVCMAC256(key: hex("7f7e7d7c 7b7a7978 77767574 73727170 40414243 44454647 48494a4b 4c4d4e4f"))
        let ad1 = hex("00112233 44556677 8899aabb ccddeeff deaddada deaddada ffeeddcc bbaa9988 77665544 33221100")
        let ad2 = hex("10203040 50607080 90a0")
        let nonce = hex("09f91102 9d74e35b d84156c5 635688c0")
        let pt = hex("74686973 20697320 736f6d65 20706c61 696e7465 78742074 6f20656e 63727970 74207573 696e6720 5349562d 414553")
        let expected = hex("7bdb6e3b 432667eb 06f4d14b ff2fbd0f cb900f2f ddbe4043 26601965 c889bf17 dba77ceb 094fa663 b7a3f748 ba8af829 ea64ad54 4a272e9c 485b62a3 fd5c0d")
        #expect(try siv.seal(pt, associatedData: [ad1, ad2, nonce]) == expected)
        #expect(try siv.open(expected, associatedData: [ad1, ad2, nonce]) == pt)
    }

    @Test func emptyPlaintextGivesTheSIVThatNettleAndChronyCompute() throws {
        let siv = try AESSIVCMAC256(key: Array(0...31))
        let ad = Array(UInt8(0x23)...UInt8(0x52))
        let nonce = Array(UInt8(0xa0)...UInt8(0xaf))
        let sealed = try siv.seal([], associatedData: [ad, nonce])
        #expect(sealed == hex("8682f6cade5a7a7b06cce2ceb0a5e904"))
        #expect(try siv.open(sealed, associatedData: [ad, nonce]) == [])
    }

    @Test func alteredAssociatedDataOrTagIsRefused() throws {
        let siv = try AESSIVCMAC256(key: Array(0...31))
        let sealed = try siv.seal([1, 2, 3], associatedData: [[9, 9]])
        #expect(throws: (any Error).self) { try siv.open(sealed, associatedData: [[9, 8]]) }
        var bad = sealed; bad[0] ^= 1
        #expect(throws: (any Error).self) { try siv.open(bad, associatedData: [[9, 9]]) }
        let empty = try siv.seal([], associatedData: [[7]])
        var badEmpty = empty; badEmpty[15] ^= 0x80
        #expect(throws: (any Error).self) { try siv.open(badEmpty, associatedData: [[7]]) }
        #expect(throws: (any Error).self) { try AESSIVCMAC256(key: Array(0...15)) }
    }
}
