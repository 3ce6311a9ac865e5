import EvidenceConformance
import EvidenceCore
import Testing

@Suite("Portable Ed25519 (RFC 8032)")
struct PortableEd25519Tests {
    typealias V = CryptoVectors

    @Test("derives the RFC 8032 public key and signature", arguments: V.ed25519)
    func rfc8032Vector(_ v: V.Ed25519Case) throws {
        let signer = try PortableEd25519Signer(keyName: "rfc8032", seed: V.bytes(v.seed))
        #expect(Hex.encode(signer.publicKey) == v.publicKey)
        let signature = try signer.sign(V.bytes(v.message))
        #expect(Hex.encode(signature) == v.signature)
        let verifier = try PortableEd25519Verifier(keyName: "rfc8032", publicKey: V.bytes(v.publicKey))
        #expect(verifier.isValidSignature(V.bytes(v.signature), for: V.bytes(v.message)))
    }

    @Test("rejects a signature over another message or with any flipped bit")
    func rejectsTampering() throws {
        let v = V.ed25519[2]
        let verifier = try PortableEd25519Verifier(keyName: "t", publicKey: V.bytes(v.publicKey))
        let sig = V.bytes(v.signature), msg = V.bytes(v.message)
        #expect(!verifier.isValidSignature(sig, for: msg + [0]))
        #expect(!verifier.isValidSignature(sig, for: [0xaf, 0x83]))
        for bit in stride(from: 0, to: 512, by: 7) {
            var bad = sig
            bad[bit / 8] ^= 1 << UInt8(bit % 8)
            #expect(!verifier.isValidSignature(bad, for: msg), "bit \(bit) flipped still verifies")
        }
        #expect(!verifier.isValidSignature(Array(sig.prefix(63)), for: msg))
        #expect(!verifier.isValidSignature(sig + [0], for: msg))
    }

    @Test("rejects a non-canonical S (S + L verifies the same equation but is refused)")
    func rejectsNonCanonicalS() throws {
        let v = V.ed25519[1]
        let verifier = try PortableEd25519Verifier(keyName: "t", publicKey: V.bytes(v.publicKey))
        let sig = V.bytes(v.signature)
        // S' = S + L, little-endian 256-bit addition; S < 2^253 - L so S + L < 2^256.
        let l: [UInt8] = [0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
                          0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10]
        var s = Array(sig[32...]), carry = 0
        for i in 0..<32 { let t = Int(s[i]) + Int(l[i]) + carry; s[i] = UInt8(t & 0xff); carry = t >> 8 }
        #expect(carry == 0)
        #expect(!verifier.isValidSignature(Array(sig[..<32]) + s, for: V.bytes(v.message)))
        // S = L exactly, and S = all ones.
        #expect(!verifier.isValidSignature(Array(sig[..<32]) + l, for: V.bytes(v.message)))
        #expect(!verifier.isValidSignature(Array(sig[..<32]) + [UInt8](repeating: 0xff, count: 32), for: V.bytes(v.message)))
    }

    @Test("rejects bad point encodings for the public key and for R")
    func rejectsBadPoints() throws {
        // y = p (non-canonical encoding of 0... as y >= p), y = p + 1, and all-ones.
        let yEqualsP: [UInt8] = [0xed] + [UInt8](repeating: 0xff, count: 30) + [0x7f]
        let yEqualsPPlus1: [UInt8] = [0xee] + [UInt8](repeating: 0xff, count: 30) + [0x7f]
        // y = 2 is not the y of any curve point (x^2 = 3 / (4d + 1) is a non-square).
        let noSquareRoot: [UInt8] = [2] + [UInt8](repeating: 0, count: 31)
        // y = 1, x = 0 with the sign bit set: the "negative zero" encoding.
        let negativeZero: [UInt8] = [1] + [UInt8](repeating: 0, count: 30) + [0x80]
        for bad in [yEqualsP, yEqualsPPlus1, noSquareRoot, negativeZero] {
            #expect(throws: EvidenceError.self) { try PortableEd25519Verifier(keyName: "bad", publicKey: bad) }
        }
        #expect(throws: EvidenceError.self) { try PortableEd25519Verifier(keyName: "bad", publicKey: [1, 2, 3]) }

        let v = V.ed25519[1]
        let verifier = try PortableEd25519Verifier(keyName: "t", publicKey: V.bytes(v.publicKey))
        let s = Array(V.bytes(v.signature)[32...])
        for badR in [yEqualsP, yEqualsPPlus1, noSquareRoot, negativeZero] {
            #expect(!verifier.isValidSignature(badR + s, for: V.bytes(v.message)))
        }
    }

    @Test("signs and verifies messages of many lengths with a fresh key")
    func roundTrip() throws {
        var rng = SystemRandomNumberGenerator()
        let seed = (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let signer = try PortableEd25519Signer(keyName: "k", seed: seed)
        let verifier = try PortableEd25519Verifier(keyName: "k", publicKey: signer.publicKey)
        for n in [0, 1, 31, 64, 127, 128, 129, 1000] {
            let m = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let sig = try signer.sign(m)
            #expect(try signer.sign(m) == sig, "Ed25519 must be deterministic")
            #expect(verifier.isValidSignature(sig, for: m))
            #expect(!verifier.isValidSignature(sig, for: m + [1]))
        }
    }

    @Test("refuses a seed that is not 32 bytes")
    func refusesBadSeed() {
        #expect(throws: EvidenceError.self) { try PortableEd25519Signer(keyName: "k", seed: [UInt8](repeating: 1, count: 64)) }
    }
}
