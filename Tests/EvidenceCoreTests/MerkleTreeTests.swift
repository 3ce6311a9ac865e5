import EvidenceCore
import Testing

/// MTH straight from RFC 9162 §2.1.1, recursive, as the reference.
func referenceRoot(_ leaves: ArraySlice<[UInt8]>) -> Digest {
    if leaves.isEmpty { return sha.hash(bytes: [UInt8]()) }
    if leaves.count == 1 { return sha.leafHash(leaves.first!) }
    var k = 1
    while k * 2 < leaves.count { k *= 2 }
    let s = leaves.startIndex
    return sha.hashChildren(referenceRoot(leaves[s..<s + k]), referenceRoot(leaves[(s + k)...]))
}

@Suite struct MerkleTreeTests {
    /// The 8-entry test vector used by Certificate Transparency implementations.
    static let ctLeaves: [[UInt8]] = [
        [], [0x00], [0x10], [0x20, 0x21], [0x30, 0x31], [0x40, 0x41, 0x42, 0x43],
        [0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57],
        [0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f],
    ]
    static let ctRoots = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]

    @Test func rootsMatchTheCertificateTransparencyVectors() {
        var c = CompactRange()
        for (i, leaf) in Self.ctLeaves.enumerated() {
            c.append(leafHash: sha.leafHash(leaf), using: sha)
            #expect(c.root(using: sha).hex == Self.ctRoots[i], "size \(i + 1)")
        }
    }

    @Test func emptyTreeRootIsTheHashOfNothing() {
        #expect(CompactRange().root(using: sha).hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func compactRangeAgreesWithTheRecursiveDefinitionForEverySizeUpTo130() {
        let leaves = (0..<130).map { record($0) }
        var c = CompactRange()
        for n in 1...130 {
            c.append(leafHash: sha.leafHash(leaves[n - 1]), using: sha)
            #expect(c.root(using: sha) == referenceRoot(leaves[0..<n]), "size \(n)")
        }
    }

    @Test func subtreeAppendsEqualLeafAppends() {
        let hashes = (0..<1024).map { sha.leafHash(record($0)) }
        var byLeaf = CompactRange(), byBlock = CompactRange()
        for h in hashes { byLeaf.append(leafHash: h, using: sha) }
        for b in 0..<4 {
            let block = MerkleProofs.hashOfRange(0..<256, leaf: { hashes[b * 256 + Int($0)] }, using: sha)
            byBlock.append(subtree: block, height: 8, using: sha)
        }
        #expect(byLeaf.root(using: sha) == byBlock.root(using: sha))
    }

    @Test func everyInclusionProofVerifiesAndNoTamperedOneDoes() throws {
        let hashes = (0..<40).map { sha.leafHash(record($0)) }
        let src = LeafHashList(hashes, backend: sha)
        for size in 1...40 {
            let root = try src.subtreeHash(0..<UInt64(size))
            for i in 0..<size {
                let p = try MerkleProofs.inclusionProof(index: UInt64(i), treeSize: UInt64(size), source: src)
                #expect(MerkleProofs.verifyInclusion(p, leafHash: hashes[i], root: root, using: sha))
                // Wrong leaf, wrong index, a flipped path element, a dropped element: all refused.
                #expect(!MerkleProofs.verifyInclusion(p, leafHash: hashes[(i + 1) % 40], root: root, using: sha))
                if size > 1 {
                    var q = p; q.index = UInt64((i + 1) % size)
                    #expect(!MerkleProofs.verifyInclusion(q, leafHash: hashes[i], root: root, using: sha))
                    var r = p; r.path[0].w3 ^= 1
                    #expect(!MerkleProofs.verifyInclusion(r, leafHash: hashes[i], root: root, using: sha))
                    var d = p; d.path.removeLast()
                    #expect(!MerkleProofs.verifyInclusion(d, leafHash: hashes[i], root: root, using: sha))
                }
            }
        }
    }

    @Test func everyConsistencyProofVerifiesAndWrongRootsDoNot() throws {
        let hashes = (0..<40).map { sha.leafHash(record($0)) }
        let src = LeafHashList(hashes, backend: sha)
        for n in 1...40 {
            let newRoot = try src.subtreeHash(0..<UInt64(n))
            for m in 1...n {
                let oldRoot = try src.subtreeHash(0..<UInt64(m))
                let p = try MerkleProofs.consistencyProof(oldSize: UInt64(m), newSize: UInt64(n), source: src)
                #expect(MerkleProofs.verifyConsistency(p, oldRoot: oldRoot, newRoot: newRoot, using: sha), "\(m) -> \(n)")
                if m < n {
                    #expect(!MerkleProofs.verifyConsistency(p, oldRoot: newRoot, newRoot: newRoot, using: sha))
                    var bad = p; bad.path[bad.path.count - 1].w0 ^= 1 << 63
                    #expect(!MerkleProofs.verifyConsistency(bad, oldRoot: oldRoot, newRoot: newRoot, using: sha))
                    let empty = ConsistencyProof(oldSize: UInt64(m), newSize: UInt64(n), path: [])
                    #expect(!MerkleProofs.verifyConsistency(empty, oldRoot: oldRoot, newRoot: newRoot, using: sha))
                }
            }
        }
    }

    @Test func proofsOutsideTheTreeAreRefused() {
        let src = LeafHashList((0..<5).map { sha.leafHash(record($0)) }, backend: sha)
        #expect(throws: EvidenceError.self) { try MerkleProofs.inclusionProof(index: 5, treeSize: 5, source: src) }
        #expect(throws: EvidenceError.self) { try MerkleProofs.inclusionProof(index: 0, treeSize: 6, source: src) }
        #expect(throws: EvidenceError.self) { try MerkleProofs.consistencyProof(oldSize: 4, newSize: 3, source: src) }
    }
}
