import Foundation

/// The one hashing seam of the project: SHA-256 with the two RFC 9162 prefixes.
///
/// Guarantees: every implementation returns the FIPS 180-4 SHA-256 of its input, so a log
/// written with one backend verifies with any other. `PortableSHA256` (this module, no native
/// code) is the reference; the OpenSSL adapter offers a faster one. Both run the same NIST
/// vectors in the tests.
public protocol SHA256Backend: Sendable {
    /// SHA-256 of the bytes.
    func hash(_ data: UnsafeRawBufferPointer) -> Digest
    /// SHA-256 of `prefix || data`, without copying `data` (RFC 9162 leaf hash with prefix 0x00).
    func hash(prefix: UInt8, _ data: UnsafeRawBufferPointer) -> Digest
    /// SHA-256 of `0x01 || left || right` (RFC 9162 interior node hash).
    func hashChildren(_ left: Digest, _ right: Digest) -> Digest
    /// An incremental hasher for streams (payload objects, files).
    func makeHasher() -> any IncrementalSHA256
}

/// A running SHA-256 over a stream of byte chunks. Not shared across tasks.
public protocol IncrementalSHA256 {
    mutating func update(_ data: UnsafeRawBufferPointer)
    mutating func finalize() -> Digest
}

extension IncrementalSHA256 {
    public mutating func update<C: ContiguousBytes>(bytes: C) { bytes.withUnsafeBytes { update($0) } }
}

extension SHA256Backend {
    public func hash<C: ContiguousBytes>(bytes: C) -> Digest { bytes.withUnsafeBytes { hash($0) } }
    public func hash(_ string: String) -> Digest { hash(bytes: Array(string.utf8)) }

    /// RFC 9162 §2.1.1: MTH of one entry = SHA-256(0x00 || entry).
    public func leafHash<C: ContiguousBytes>(_ entry: C) -> Digest {
        entry.withUnsafeBytes { hash(prefix: 0x00, $0) }
    }

    public func hashChildren(_ left: Digest, _ right: Digest) -> Digest {
        withUnsafeTemporaryAllocation(byteCount: 64, alignment: 8) { buf in
            left.store(to: buf.baseAddress!)
            right.store(to: buf.baseAddress! + 32)
            return hash(prefix: 0x01, UnsafeRawBufferPointer(buf))
        }
    }
}

