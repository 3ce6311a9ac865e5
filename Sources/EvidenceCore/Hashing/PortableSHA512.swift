import Foundation

/// SHA-512 (FIPS 180-4) in plain Swift. It exists for Ed25519 (RFC 8032 hashes with SHA-512),
/// so that signatures can be checked with no native library. It is not a log hash: every
/// hash in a log or an evidence pack is SHA-256.
public struct PortableSHA512: Sendable {
    public init() {}

    /// SHA-512 of the bytes: 64 bytes.
    public func hash(_ data: UnsafeRawBufferPointer) -> [UInt8] {
        var h = PortableSHA512Hasher()
        h.update(data)
        return h.finalize()
    }

    public func hash<C: ContiguousBytes>(bytes: C) -> [UInt8] { bytes.withUnsafeBytes { hash($0) } }
}

/// The incremental state of `PortableSHA512`. A value type; not shared across tasks.
public struct PortableSHA512Hasher: Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (
        0x6a09e667f3bcc908, 0xbb67ae8584caa73b, 0x3c6ef372fe94f82b, 0xa54ff53a5f1d36f1,
        0x510e527fade682d1, 0x9b05688c2b3e6c1f, 0x1f83d9abfb41bd6b, 0x5be0cd19137e2179)
    private var block = [UInt8](repeating: 0, count: 128)
    private var blockUsed = 0
    /// Messages are bounded to 2^64 - 1 bytes here; FIPS 180-4 allows 2^128 - 1 bits, which no
    /// caller of this library reaches.
    private var totalBytes: UInt64 = 0

    public init() {}

    public mutating func update<C: ContiguousBytes>(bytes: C) { bytes.withUnsafeBytes { update($0) } }

    public mutating func update(_ data: UnsafeRawBufferPointer) {
        guard data.count > 0, let base = data.baseAddress else { return }
        totalBytes &+= UInt64(data.count)
        var offset = 0
        if blockUsed > 0 {
            let take = min(128 - blockUsed, data.count)
            block.withUnsafeMutableBytes { b in
                (b.baseAddress! + blockUsed).copyMemory(from: base, byteCount: take)
            }
            blockUsed += take; offset = take
            if blockUsed == 128 {
                block.withUnsafeBytes { Self.compress(&state, $0.baseAddress!) }
                blockUsed = 0
            }
        }
        while data.count - offset >= 128 {
            Self.compress(&state, base + offset)
            offset += 128
        }
        let rest = data.count - offset
        if rest > 0 {
            block.withUnsafeMutableBytes { b in b.baseAddress!.copyMemory(from: base + offset, byteCount: rest) }
            blockUsed = rest
        }
    }

    /// Pads, returns the 64-byte digest. The hasher must not be updated afterwards.
    public mutating func finalize() -> [UInt8] {
        let bitLength = totalBytes &* 8
        let high = totalBytes >> 61
        var pad = [UInt8](repeating: 0, count: blockUsed < 112 ? 112 - blockUsed : 240 - blockUsed)
        pad[0] = 0x80
        pad.withUnsafeBytes { update($0) }
        // The 128-bit length field: high 64 bits are (totalBytes >> 61), low 64 are the bit count.
        withUnsafeBytes(of: high.bigEndian) { update($0) }
        withUnsafeBytes(of: bitLength.bigEndian) { update($0) }
        let s = state
        var out = [UInt8](); out.reserveCapacity(64)
        for w in [s.0, s.1, s.2, s.3, s.4, s.5, s.6, s.7] {
            withUnsafeBytes(of: w.bigEndian) { out.append(contentsOf: $0) }
        }
        return out
    }

    private static let k: [UInt64] = [
        0x428a2f98d728ae22, 0x7137449123ef65cd, 0xb5c0fbcfec4d3b2f, 0xe9b5dba58189dbbc, 0x3956c25bf348b538,
        0x59f111f1b605d019, 0x923f82a4af194f9b, 0xab1c5ed5da6d8118, 0xd807aa98a3030242, 0x12835b0145706fbe,
        0x243185be4ee4b28c, 0x550c7dc3d5ffb4e2, 0x72be5d74f27b896f, 0x80deb1fe3b1696b1, 0x9bdc06a725c71235,
        0xc19bf174cf692694, 0xe49b69c19ef14ad2, 0xefbe4786384f25e3, 0x0fc19dc68b8cd5b5, 0x240ca1cc77ac9c65,
        0x2de92c6f592b0275, 0x4a7484aa6ea6e483, 0x5cb0a9dcbd41fbd4, 0x76f988da831153b5, 0x983e5152ee66dfab,
        0xa831c66d2db43210, 0xb00327c898fb213f, 0xbf597fc7beef0ee4, 0xc6e00bf33da88fc2, 0xd5a79147930aa725,
        0x06ca6351e003826f, 0x142929670a0e6e70, 0x27b70a8546d22ffc, 0x2e1b21385c26c926, 0x4d2c6dfc5ac42aed,
        0x53380d139d95b3df, 0x650a73548baf63de, 0x766a0abb3c77b2a8, 0x81c2c92e47edaee6, 0x92722c851482353b,
        0xa2bfe8a14cf10364, 0xa81a664bbc423001, 0xc24b8b70d0f89791, 0xc76c51a30654be30, 0xd192e819d6ef5218,
        0xd69906245565a910, 0xf40e35855771202a, 0x106aa07032bbd1b8, 0x19a4c116b8d2d0c8, 0x1e376c085141ab53,
        0x2748774cdf8eeb99, 0x34b0bcb5e19b48a8, 0x391c0cb3c5c95a63, 0x4ed8aa4ae3418acb, 0x5b9cca4f7763e373,
        0x682e6ff3d6b2b8a3, 0x748f82ee5defb2fc, 0x78a5636f43172f60, 0x84c87814a1f0ab72, 0x8cc702081a6439ec,
        0x90befffa23631e28, 0xa4506cebde82bde9, 0xbef9a3f7b2c67915, 0xc67178f2e372532b, 0xca273eceea26619c,
        0xd186b8c721c0c207, 0xeada7dd6cde0eb1e, 0xf57d4f7fee6ed178, 0x06f067aa72176fba, 0x0a637dc5a2c898a6,
        0x113f9804bef90dae, 0x1b710b35131c471b, 0x28db77f523047d84, 0x32caab7b40c72493, 0x3c9ebe0a15c9bebc,
        0x431d67c49c100d4c, 0x4cc5d4becb3e42b6, 0x597f299cfc657e2a, 0x5fcb6fab3ad6faec, 0x6c44198c4a475817,
    ]

    @inline(__always)
    private static func rotr(_ x: UInt64, _ n: UInt64) -> UInt64 { (x >> n) | (x << (64 - n)) }

    private static func compress(_ s: inout (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64),
                                 _ p: UnsafeRawPointer) {
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 80) { w in
            for i in 0..<16 {
                w[i] = UInt64(bigEndian: p.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))
            }
            for i in 16..<80 {
                let s0 = rotr(w[i - 15], 1) ^ rotr(w[i - 15], 8) ^ (w[i - 15] >> 7)
                let s1 = rotr(w[i - 2], 19) ^ rotr(w[i - 2], 61) ^ (w[i - 2] >> 6)
                w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
            }
            var (a, b, c, d, e, f, g, h) = s
            k.withUnsafeBufferPointer { k in
                for i in 0..<80 {
                    let S1 = rotr(e, 14) ^ rotr(e, 18) ^ rotr(e, 41)
                    let ch = (e & f) ^ (~e & g)
                    let t1 = h &+ S1 &+ ch &+ k[i] &+ w[i]
                    let S0 = rotr(a, 28) ^ rotr(a, 34) ^ rotr(a, 39)
                    let maj = (a & b) ^ (a & c) ^ (b & c)
                    let t2 = S0 &+ maj
                    h = g; g = f; f = e; e = d &+ t1; d = c; c = b; b = a; a = t1 &+ t2
                }
            }
            s = (s.0 &+ a, s.1 &+ b, s.2 &+ c, s.3 &+ d, s.4 &+ e, s.5 &+ f, s.6 &+ g, s.7 &+ h)
        }
    }
}
