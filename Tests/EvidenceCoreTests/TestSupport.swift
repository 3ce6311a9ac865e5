import EvidenceCore
import Foundation

/// A fresh folder under the system temp dir, removed by `cleanup()`.
struct TempDir {
    let path: String
    init(_ label: String = "t") {
        path = NSTemporaryDirectory() + "evidence-\(label)-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    func cleanup() {
        // Sealed files are read-only; make everything writable so removal succeeds.
        _ = try? FileManager.default.subpathsOfDirectory(atPath: path).forEach { chmod(path + "/" + $0, 0o755) }
        try? FileManager.default.removeItem(atPath: path)
    }
}

let sha = PortableSHA256()

/// A fixed test signer (portable Ed25519), so log tests need no native library.
func testSigner(_ name: String = "test.example/log", seedByte: UInt8 = 7) throws -> PortableEd25519Signer {
    try PortableEd25519Signer(keyName: name, seed: [UInt8](repeating: seedByte, count: 32))
}

func testVerifier(_ s: PortableEd25519Signer) throws -> PortableEd25519Verifier {
    try PortableEd25519Verifier(keyName: s.keyName, publicKey: s.publicKey)
}

/// Deterministic record bytes for index i.
func record(_ i: Int, tag: String = "r") -> [UInt8] {
    Array("{\"i\":\(i),\"tag\":\"\(tag)\",\"pad\":\"\(String(repeating: "x", count: i % 37))\"}".utf8)
}

func copyTree(_ from: String, _ to: String) throws {
    try FileManager.default.copyItem(atPath: from, toPath: to)
    for p in try FileManager.default.subpathsOfDirectory(atPath: to) { chmod(to + "/" + p, 0o755) }
}
