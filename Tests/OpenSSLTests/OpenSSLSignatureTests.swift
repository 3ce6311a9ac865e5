import EvidenceConformance
import EvidenceCore
import EvidenceOpenSSL
import Foundation
import Testing

@Suite("OpenSSL Ed25519 and ECDSA P-256, cross-checked with the portable Ed25519 and the openssl CLI")
struct OpenSSLSignatureTests {
    typealias V = CryptoVectors

    @Test("OpenSSL Ed25519 reproduces the RFC 8032 vectors", arguments: V.ed25519)
    func rfc8032(_ v: V.Ed25519Case) throws {
        let signer = try Ed25519Signer(keyName: "rfc", seed: V.bytes(v.seed))
        #expect(Hex.encode(signer.publicKey) == v.publicKey)
        #expect(Hex.encode(try signer.sign(V.bytes(v.message))) == v.signature)
        let verifier = try Ed25519Verifier(keyName: "rfc", publicKey: V.bytes(v.publicKey))
        #expect(verifier.isValidSignature(V.bytes(v.signature), for: V.bytes(v.message)))
    }

    @Test("a portable Ed25519 signature verifies with OpenSSL and the other way round")
    func crossVerification() throws {
        var rng = SystemRandomNumberGenerator()
        for round in 0..<8 {
            let seed = (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let message = (0..<(round * 37)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let portable = try PortableEd25519Signer(keyName: "k", seed: seed)
            let native = try Ed25519Signer(keyName: "k", seed: seed)
            #expect(portable.publicKey == native.publicKey)
            let portableSig = try portable.sign(message)
            let nativeSig = try native.sign(message)
            #expect(portableSig == nativeSig, "deterministic signatures must be identical")
            let nativeVerifier = try Ed25519Verifier(keyName: "k", publicKey: portable.publicKey)
            let portableVerifier = try PortableEd25519Verifier(keyName: "k", publicKey: native.publicKey)
            #expect(nativeVerifier.isValidSignature(portableSig, for: message))
            #expect(portableVerifier.isValidSignature(nativeSig, for: message))
            var bad = nativeSig; bad[Int.random(in: 0..<64, using: &rng)] ^= 0x10
            #expect(!portableVerifier.isValidSignature(bad, for: message))
            #expect(!nativeVerifier.isValidSignature(bad, for: message))
        }
    }

    @Test("ECDSA P-256 signs and verifies; a changed message or signature is refused")
    func ecdsaRoundTrip() throws {
        let signer = try ECDSAP256Signer.generate(keyName: "p256")
        #expect(signer.publicKey.count == 65 && signer.publicKey[0] == 0x04)
        let message = Array("checkpoint 41".utf8)
        let sig = try signer.sign(message)
        #expect((68...72).contains(sig.count) && sig[0] == 0x30, "DER SEQUENCE expected")
        let verifier = try ECDSAP256Verifier(keyName: "p256", publicKey: signer.publicKey)
        #expect(verifier.isValidSignature(sig, for: message))
        #expect(!verifier.isValidSignature(sig, for: Array("checkpoint 42".utf8)))
        var bad = sig; bad[sig.count - 3] ^= 0x01
        #expect(!verifier.isValidSignature(bad, for: message))
        #expect(!verifier.isValidSignature([], for: message))
        // Another key's signature is refused.
        let other = try ECDSAP256Signer.generate(keyName: "other")
        #expect(!verifier.isValidSignature(try other.sign(message), for: message))
        // PEM round trip keeps the key.
        let reloaded = try ECDSAP256Signer(keyName: "p256", pem: try signer.privateKeyPEM())
        #expect(reloaded.publicKey == signer.publicKey)
        #expect(verifier.isValidSignature(try reloaded.sign(message), for: message))
    }

    @Test("ECDSA refuses a public key that is not a P-256 point")
    func ecdsaBadKey() {
        var notOnCurve = [UInt8](repeating: 0x11, count: 65); notOnCurve[0] = 0x04
        #expect(throws: (any Error).self) { try ECDSAP256Verifier(keyName: "bad", publicKey: notOnCurve) }
        #expect(throws: (any Error).self) { try ECDSAP256Verifier(keyName: "bad", publicKey: [4, 1, 2]) }
    }

    @Test("a signature made by the openssl CLI verifies; ours verifies with the CLI", .timeLimit(.minutes(1)))
    func ecdsaAgainstOpenSSLCLI() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ecdsa-cli-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let key = dir.appendingPathComponent("key.pem").path, pub = dir.appendingPathComponent("pub.pem").path
        let msg = dir.appendingPathComponent("msg").path, sig = dir.appendingPathComponent("sig.der").path
        let message = Array("manifest of evidence pack 7\n".utf8)
        try Data(message).write(to: URL(fileURLWithPath: msg))
        try runOpenSSL(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key])
        try runOpenSSL(["ec", "-in", key, "-pubout", "-out", pub])
        try runOpenSSL(["dgst", "-sha256", "-sign", key, "-out", sig, msg])

        let verifier = try ECDSAP256Verifier(keyName: "cli", pem: String(contentsOfFile: pub, encoding: .utf8))
        let cliSignature = [UInt8](try Data(contentsOf: URL(fileURLWithPath: sig)))
        #expect(verifier.isValidSignature(cliSignature, for: message))
        #expect(!verifier.isValidSignature(cliSignature, for: message + [0x20]))

        // The other direction: our signer with the CLI's key, checked by `openssl dgst -verify`.
        let signer = try ECDSAP256Signer(keyName: "cli", pem: String(contentsOfFile: key, encoding: .utf8))
        #expect(signer.publicKey == verifier.publicKey)
        try Data(try signer.sign(message)).write(to: URL(fileURLWithPath: sig))
        let out = try runOpenSSL(["dgst", "-sha256", "-verify", pub, "-signature", sig, msg])
        #expect(out.contains("Verified OK"))
    }

    @discardableResult
    private func runOpenSSL(_ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard p.terminationStatus == 0 else {
            throw EvidenceError(.io, "openssl \(args.joined(separator: " ")) exited \(p.terminationStatus): \(text)")
        }
        return text
    }
}
