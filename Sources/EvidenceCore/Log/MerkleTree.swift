import Foundation

/// The right edge of an RFC 9162 Merkle tree: the roots of its perfect subtrees, largest
/// first. Appending a leaf costs O(1) amortised hashes; the root costs O(log n).
public struct CompactRange: Sendable, Equatable {
    /// Perfect-subtree roots from left (largest) to right (smallest).
    public private(set) var hashes: [Digest] = []
    public private(set) var size: UInt64 = 0

    public init() {}

    /// Rebuilds the range from the perfect-subtree roots of a tree of `size` leaves
    /// (one per set bit of `size`, most significant first).
    public init(size: UInt64, hashes: [Digest]) throws {
        guard hashes.count == size.nonzeroBitCount else {
            throw EvidenceError.malformed("a tree of \(size) leaves has \(size.nonzeroBitCount) edge hashes, not \(hashes.count)")
        }
        self.size = size; self.hashes = hashes
    }

    public mutating func append(leafHash: Digest, using h: some SHA256Backend) {
        var node = leafHash
        var s = size
        // Each trailing one-bit of the old size is a perfect subtree the new leaf completes.
        while s & 1 == 1 {
            node = h.hashChildren(hashes.removeLast(), node)
            s >>= 1
        }
        hashes.append(node)
        size += 1
    }

    /// Appends a perfect subtree of `2^height` leaves whose root is `hash`. The current size
    /// must be a multiple of `2^height`.
    public mutating func append(subtree hash: Digest, height: Int, using h: some SHA256Backend) {
        precondition(size & ((1 << UInt64(height)) - 1) == 0, "subtree not aligned")
        var node = hash
        var s = size >> UInt64(height)
        while s & 1 == 1 {
            node = h.hashChildren(hashes.removeLast(), node)
            s >>= 1
        }
        hashes.append(node)
        size += 1 << UInt64(height)
    }

    /// The root of this range followed by `tail`, a range that started where this one ends
    /// (a whole number of `tail`'s largest subtree). The log keeps complete 256-leaf blocks
    /// in one range and the ragged last block in another; this joins them.
    public func root(extendedBy tail: CompactRange, using h: some SHA256Backend) -> Digest {
        var t = self
        let heights = (0..<64).reversed().filter { tail.size & (1 << UInt64($0)) != 0 }
        for (hash, height) in zip(tail.hashes, heights) { t.append(subtree: hash, height: height, using: h) }
        return t.root(using: h)
    }

    /// RFC 9162 MTH of the leaves so far; the hash of the empty string for an empty tree.
    public func root(using h: some SHA256Backend) -> Digest {
        guard var acc = hashes.last else { return h.hash(bytes: [UInt8]()) }
        for d in hashes.dropLast().reversed() { acc = h.hashChildren(d, acc) }
        return acc
    }
}

/// Anything that can give the RFC 9162 hash of a contiguous range of leaves. Proof
/// generation is written against this, so a log answers it from stored block hashes and
/// only rereads the leaves it must.
public protocol MerkleHashSource {
    var treeSize: UInt64 { get }
    /// MTH(D[range]). Ranges asked for are always subtrees of the RFC 9162 decomposition.
    func subtreeHash(_ range: Range<UInt64>) throws -> Digest
}

/// Proof that the leaf at `index` is in the tree of `treeSize` leaves (RFC 9162 §2.1.3).
public struct InclusionProof: Hashable, Sendable, Codable {
    public var index: UInt64
    public var treeSize: UInt64
    public var path: [Digest]
    public init(index: UInt64, treeSize: UInt64, path: [Digest]) { self.index = index; self.treeSize = treeSize; self.path = path }
}

/// Proof that the tree of `newSize` leaves extends the tree of `oldSize` (RFC 9162 §2.1.4).
public struct ConsistencyProof: Hashable, Sendable, Codable {
    public var oldSize: UInt64
    public var newSize: UInt64
    public var path: [Digest]
    public init(oldSize: UInt64, newSize: UInt64, path: [Digest]) { self.oldSize = oldSize; self.newSize = newSize; self.path = path }
}

/// RFC 9162 proof generation and verification.
public enum MerkleProofs {
    /// Largest power of two strictly less than `n` (n > 1).
    @inlinable
    static func split(_ n: UInt64) -> UInt64 { 1 << UInt64(63 - (n - 1).leadingZeroBitCount) }

    public static func inclusionProof(index: UInt64, treeSize: UInt64, source: some MerkleHashSource) throws -> InclusionProof {
        guard treeSize <= source.treeSize else {
            throw EvidenceError(.notFound, "tree size \(treeSize) is larger than the log (\(source.treeSize) records)")
        }
        guard index < treeSize else {
            throw EvidenceError(.notFound, "record index \(index) is not in a tree of \(treeSize) records (indices run from 0 to \(Int64(treeSize) - 1))")
        }
        var path: [Digest] = []
        func walk(_ m: UInt64, _ lo: UInt64, _ hi: UInt64) throws {
            let n = hi - lo
            guard n > 1 else { return }
            let k = split(n)
            if m < k {
                try walk(m, lo, lo + k); path.append(try source.subtreeHash(lo + k..<hi))
            } else {
                try walk(m - k, lo + k, hi); path.append(try source.subtreeHash(lo..<lo + k))
            }
        }
        try walk(index, 0, treeSize)
        return InclusionProof(index: index, treeSize: treeSize, path: path)
    }

    public static func consistencyProof(oldSize: UInt64, newSize: UInt64, source: some MerkleHashSource) throws -> ConsistencyProof {
        guard oldSize <= newSize, newSize <= source.treeSize else {
            throw EvidenceError(.notFound, "no consistency proof from size \(oldSize) to \(newSize) in a log of \(source.treeSize) records")
        }
        var path: [Digest] = []
        guard oldSize > 0, oldSize < newSize else { return ConsistencyProof(oldSize: oldSize, newSize: newSize, path: []) }
        func sub(_ m: UInt64, _ lo: UInt64, _ hi: UInt64, _ complete: Bool) throws {
            let n = hi - lo
            if m == n {
                if !complete { path.append(try source.subtreeHash(lo..<hi)) }
                return
            }
            let k = split(n)
            if m <= k {
                try sub(m, lo, lo + k, complete); path.append(try source.subtreeHash(lo + k..<hi))
            } else {
                try sub(m - k, lo + k, hi, false); path.append(try source.subtreeHash(lo..<lo + k))
            }
        }
        try sub(oldSize, 0, newSize, true)
        return ConsistencyProof(oldSize: oldSize, newSize: newSize, path: path)
    }

    /// RFC 9162 §2.1.3.2. Returns the root the proof leads to, or nil if the proof is malformed.
    public static func rootFromInclusion(_ proof: InclusionProof, leafHash: Digest, using h: some SHA256Backend) -> Digest? {
        guard proof.index < proof.treeSize else { return nil }
        var fn = proof.index, sn = proof.treeSize - 1
        var r = leafHash
        for p in proof.path {
            if sn == 0 { return nil }
            if fn & 1 == 1 || fn == sn {
                r = h.hashChildren(p, r)
                if fn & 1 == 0 { while fn & 1 == 0 && fn != 0 { fn >>= 1; sn >>= 1 } }
            } else {
                r = h.hashChildren(r, p)
            }
            fn >>= 1; sn >>= 1
        }
        return sn == 0 ? r : nil
    }

    public static func verifyInclusion(_ proof: InclusionProof, leafHash: Digest, root: Digest, using h: some SHA256Backend) -> Bool {
        rootFromInclusion(proof, leafHash: leafHash, using: h) == root
    }

    /// RFC 9162 §2.1.4.2.
    public static func verifyConsistency(_ proof: ConsistencyProof, oldRoot: Digest, newRoot: Digest, using h: some SHA256Backend) -> Bool {
        let m = proof.oldSize, n = proof.newSize
        if m > n { return false }
        if m == n { return proof.path.isEmpty && oldRoot == newRoot }
        if m == 0 { return proof.path.isEmpty }
        guard !proof.path.isEmpty else { return false }
        var path = proof.path[...]
        if m & (m - 1) == 0 { path = [oldRoot][...] + path } // m is a power of two: the old root is the first node
        guard var fr = path.first else { return false }
        var sr = fr
        var fn = m - 1, sn = n - 1
        while fn & 1 == 1 { fn >>= 1; sn >>= 1 }
        for c in path.dropFirst() {
            if sn == 0 { return false }
            if fn & 1 == 1 || fn == sn {
                fr = h.hashChildren(c, fr); sr = h.hashChildren(c, sr)
                if fn & 1 == 0 { while fn & 1 == 0 && fn != 0 { fn >>= 1; sn >>= 1 } }
            } else {
                sr = h.hashChildren(sr, c)
            }
            fn >>= 1; sn >>= 1
        }
        return sn == 0 && fr == oldRoot && sr == newRoot
    }
}

/// A hash source over leaf hashes held in memory (small logs, tests, packs).
public struct LeafHashList: MerkleHashSource {
    public let leafHashes: [Digest]
    public let backend: any SHA256Backend
    public init(_ leafHashes: [Digest], backend: any SHA256Backend) { self.leafHashes = leafHashes; self.backend = backend }
    public var treeSize: UInt64 { UInt64(leafHashes.count) }
    public func subtreeHash(_ range: Range<UInt64>) throws -> Digest {
        guard range.upperBound <= treeSize else { throw EvidenceError(.notFound, "range \(range) beyond \(treeSize) leaves") }
        return MerkleProofs.hashOfRange(range, leaf: { leafHashes[Int($0)] }, using: backend)
    }
}

extension MerkleProofs {
    /// MTH over a range, given a way to read leaf hashes. O(n) hashes.
    public static func hashOfRange(_ range: Range<UInt64>, leaf: (UInt64) throws -> Digest, using h: some SHA256Backend) rethrows -> Digest {
        if range.isEmpty { return h.hash(bytes: [UInt8]()) }
        var c = CompactRange()
        for i in range { c.append(leafHash: try leaf(i), using: h) }
        return c.root(using: h)
    }
}
