import COpenSSL
import EvidenceCore

/// SHA-256 from libcrypto (SHA-NI / AVX2 code paths where the CPU has them).
///
/// Same results as `PortableSHA256` (both run the NIST vectors); several times faster, which
/// is what lets the log ingest a million records a second and verify faster than `sha256sum`.
public struct OpenSSLSHA256: SHA256Backend {
    public init() {}

    @inline(__always)
    private static func digest(_ ctx: inout SHA256_CTX) -> Digest {
        withUnsafeTemporaryAllocation(byteCount: 32, alignment: 8) { out in
            SHA256_Final(out.baseAddress!.assumingMemoryBound(to: UInt8.self), &ctx)
            return Digest(loadingFrom: UnsafeRawPointer(out.baseAddress!))
        }
    }

    public func hash(_ data: UnsafeRawBufferPointer) -> Digest {
        var ctx = SHA256_CTX()
        SHA256_Init(&ctx)
        if data.count > 0 { SHA256_Update(&ctx, data.baseAddress, data.count) }
        return Self.digest(&ctx)
    }

    public func hash(prefix: UInt8, _ data: UnsafeRawBufferPointer) -> Digest {
        var ctx = SHA256_CTX()
        SHA256_Init(&ctx)
        var p = prefix
        SHA256_Update(&ctx, &p, 1)
        if data.count > 0 { SHA256_Update(&ctx, data.baseAddress, data.count) }
        return Self.digest(&ctx)
    }

    public func hashChildren(_ left: Digest, _ right: Digest) -> Digest {
        withUnsafeTemporaryAllocation(byteCount: 65, alignment: 8) { buf in
            let p = buf.baseAddress!
            p.storeBytes(of: 0x01, as: UInt8.self)
            left.store(to: p + 1)
            right.store(to: p + 33)
            var ctx = SHA256_CTX()
            SHA256_Init(&ctx)
            SHA256_Update(&ctx, p, 65)
            return Self.digest(&ctx)
        }
    }

    public func makeHasher() -> any IncrementalSHA256 { OpenSSLSHA256Hasher() }
}

/// Incremental libcrypto SHA-256.
public struct OpenSSLSHA256Hasher: IncrementalSHA256 {
    private var ctx = SHA256_CTX()
    public init() { SHA256_Init(&ctx) }
    public mutating func update(_ data: UnsafeRawBufferPointer) {
        if data.count > 0 { SHA256_Update(&ctx, data.baseAddress, data.count) }
    }
    public mutating func finalize() -> Digest {
        withUnsafeTemporaryAllocation(byteCount: 32, alignment: 8) { out in
            SHA256_Final(out.baseAddress!.assumingMemoryBound(to: UInt8.self), &ctx)
            return Digest(loadingFrom: UnsafeRawPointer(out.baseAddress!))
        }
    }
}
