import Foundation

/// Subtree hashes of a stored log, answered from the block-hash file (one hash per complete
/// run of 256 records) and, only for the ragged ends, from the records themselves.
///
/// Proofs for any index of a log of n records cost O(n/256) hashes and at most one segment
/// read, instead of rehashing the whole log.
public struct StoredTree: MerkleHashSource {
    public static let blockHeight = 8
    public static let blockLeaves: UInt64 = 1 << 8

    public let treeSize: UInt64
    let blocks: [Digest]
    let leafHashes: (Range<UInt64>) throws -> [Digest]
    let backend: any SHA256Backend

    init(treeSize: UInt64, blocks: [Digest], backend: any SHA256Backend, leafHashes: @escaping (Range<UInt64>) throws -> [Digest]) {
        self.treeSize = treeSize; self.blocks = blocks; self.backend = backend; self.leafHashes = leafHashes
    }

    public func subtreeHash(_ range: Range<UInt64>) throws -> Digest {
        guard range.upperBound <= treeSize else {
            throw EvidenceError(.notFound, "records \(range.lowerBound)..<\(range.upperBound) are beyond the log's \(treeSize) records")
        }
        let b = Self.blockLeaves
        if range.lowerBound % b != 0 || range.count < Int(b) {
            let leaves = try leafHashes(range)
            return MerkleProofs.hashOfRange(0..<UInt64(leaves.count), leaf: { leaves[Int($0)] }, using: backend)
        }
        var c = CompactRange()
        let firstBlock = Int(range.lowerBound / b), endBlock = Int(range.upperBound / b)
        guard endBlock <= blocks.count else {
            throw EvidenceError.verification("block-hash file covers \(blocks.count * 256) records, but \(endBlock * 256) are needed")
        }
        for i in firstBlock..<endBlock { c.append(subtree: blocks[i], height: Self.blockHeight, using: backend) }
        let tailStart = UInt64(endBlock) * b
        if tailStart < range.upperBound {
            for h in try leafHashes(tailStart..<range.upperBound) { c.append(leafHash: h, using: backend) }
        }
        return c.root(using: backend)
    }
}
