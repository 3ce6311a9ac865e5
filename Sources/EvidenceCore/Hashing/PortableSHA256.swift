/// SHA-256 (FIPS 180-4) in plain Swift: no native library, so a verifier built on EvidenceCore
/// alone can check every hash in a log or an evidence pack.
public struct PortableSHA256: SHA256Backend {
    public init() {}

    public func hash(_ data: UnsafeRawBufferPointer) -> Digest {
        var h = PortableSHA256Hasher()
        h.update(data)
        return h.finalize()
    }

    public func hash(prefix: UInt8, _ data: UnsafeRawBufferPointer) -> Digest {
        var h = PortableSHA256Hasher()
        withUnsafeBytes(of: prefix) { h.update($0) }
        h.update(data)
        return h.finalize()
    }

    public func makeHasher() -> any IncrementalSHA256 { PortableSHA256Hasher() }
}

/// The incremental state of `PortableSHA256`.
public struct PortableSHA256Hasher: IncrementalSHA256 {
    private var state: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) =
        (0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19)
    private var block = [UInt8](repeating: 0, count: 64)
    private var blockUsed = 0
    private var totalBytes: UInt64 = 0

    public init() {}

    public mutating func update(_ data: UnsafeRawBufferPointer) {
        guard data.count > 0, let base = data.baseAddress else { return }
        totalBytes &+= UInt64(data.count)
        var offset = 0
        if blockUsed > 0 {
            let take = min(64 - blockUsed, data.count)
            block.withUnsafeMutableBytes { b in
                (b.baseAddress! + blockUsed).copyMemory(from: base, byteCount: take)
            }
            blockUsed += take; offset = take
            if blockUsed == 64 {
                block.withUnsafeBytes { Self.compress(&state, $0.baseAddress!) }
                blockUsed = 0
            }
        }
        while data.count - offset >= 64 {
            Self.compress(&state, base + offset)
            offset += 64
        }
        let rest = data.count - offset
        if rest > 0 {
            block.withUnsafeMutableBytes { b in b.baseAddress!.copyMemory(from: base + offset, byteCount: rest) }
            blockUsed = rest
        }
    }

    public mutating func finalize() -> Digest {
        let bitLength = totalBytes &* 8
        var pad = [UInt8](repeating: 0, count: blockUsed < 56 ? 56 - blockUsed : 120 - blockUsed)
        pad[0] = 0x80
        let saved = totalBytes
        pad.withUnsafeBytes { update($0) }
        withUnsafeBytes(of: bitLength.bigEndian) { update($0) }
        totalBytes = saved
        let s = state
        return Digest(w0: UInt64(s.0) << 32 | UInt64(s.1), w1: UInt64(s.2) << 32 | UInt64(s.3),
                      w2: UInt64(s.4) << 32 | UInt64(s.5), w3: UInt64(s.6) << 32 | UInt64(s.7))
    }

    private static let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

    @inline(__always)
    private static func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }

    private static func compress(_ s: inout (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32),
                                 _ p: UnsafeRawPointer) {
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
            for i in 0..<16 {
                w[i] = UInt32(bigEndian: p.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))
            }
            for i in 16..<64 {
                let s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3)
                let s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10)
                w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
            }
            var (a, b, c, d, e, f, g, h) = s
            k.withUnsafeBufferPointer { k in
                for i in 0..<64 {
                    let S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
                    let ch = (e & f) ^ (~e & g)
                    let t1 = h &+ S1 &+ ch &+ k[i] &+ w[i]
                    let S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
                    let maj = (a & b) ^ (a & c) ^ (b & c)
                    let t2 = S0 &+ maj
                    h = g; g = f; f = e; e = d &+ t1; d = c; c = b; b = a; a = t1 &+ t2
                }
            }
            s = (s.0 &+ a, s.1 &+ b, s.2 &+ c, s.3 &+ d, s.4 &+ e, s.5 &+ f, s.6 &+ g, s.7 &+ h)
        }
    }
}
