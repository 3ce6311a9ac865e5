import EvidenceCore
import Testing

@Suite struct CheckpointTests {
    @Test func checkpointBodyRoundTrips() throws {
        let cp = Checkpoint(origin: "msp.example/evidence/acme", size: 1024, root: sha.hash("x"), extensions: ["ext one"])
        #expect(try Checkpoint(body: cp.body) == cp)
        #expect(cp.body.hasSuffix("\n"))
        #expect(cp.body.split(separator: "\n")[1] == "1024")
    }

    @Test(arguments: ["a\n01\nAAAA\n", "a\n1\nnot-base64\n", "a\n1\n", "a\n-1\n" + Digest.zero.base64 + "\n", "a\n1\n" + Digest.zero.base64])
    func malformedBodiesAreRefused(_ body: String) {
        #expect(throws: EvidenceError.self) { try Checkpoint(body: body) }
    }

    /// The example key and note published with the Go sumdb note package (C2SP signed-note).
    @Test func publishedSignedNoteExampleVerifies() throws {
        let (name, pub) = try NoteKey.parseVerifierKey("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
        let v = try PortableEd25519Verifier(keyName: name, publicKey: pub)
        let text = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
        let note = try SignedNote(parsing: Array(text.utf8))
        #expect(note.isSigned(by: v))
        #expect(note.serialized == text)
        var altered = note
        altered.text = altered.text.replacingOccurrences(of: "answer", with: "Answer")
        #expect(!altered.isSigned(by: v))
        let (pname, seed, id) = try NoteKey.parsePrivateKey("PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")
        #expect(pname == "PeterNeumann" && id == 0xc74f20a3)
        #expect(try PortableEd25519Signer(keyName: pname, seed: seed).publicKey == pub)
    }

    @Test func signedCheckpointVerifiesOnlyWithItsKey() throws {
        let s = try testSigner(), other = try testSigner(seedByte: 8)
        let cp = Checkpoint(origin: "o/t", size: 3, root: sha.hash("r"))
        let note = try SignedNote.sign(cp.body, with: s)
        let parsed = try SignedNote(parsing: Array(note.serialized.utf8))
        #expect(parsed.isSigned(by: try testVerifier(s)))
        #expect(!parsed.isSigned(by: try testVerifier(other)))
        #expect(try Checkpoint(body: parsed.text) == cp)
    }

    @Test(arguments: ["no blank line\n", "text\n\n", "text\n\n— k notbase64!!\n", "text\n\n- k AAAAAAAA\n", "text\n\n— k AAAAAAAA"])
    func malformedNotesAreRefused(_ s: String) {
        #expect(throws: EvidenceError.self) { try SignedNote(parsing: Array(s.utf8)) }
    }

    @Test func oversizeNotesAreRefusedBeforeParsing() {
        #expect(throws: EvidenceError.self) { try SignedNote(parsing: [UInt8](repeating: 0x41, count: SignedNote.maxBytes + 1)) }
    }

    @Test func verifierKeyWithWrongIdIsRefused() {
        #expect(throws: EvidenceError.self) { try NoteKey.parseVerifierKey("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW") }
    }
}
