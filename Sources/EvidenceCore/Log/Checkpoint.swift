import Foundation

/// A C2SP `tlog-checkpoint` body: origin, tree size, root hash, optional extension lines.
///
/// ```
/// example.msp.eu/evidence/acme
/// 1024
/// 3h0ZyN1QXoUYj2PGdKwI0pVH7lmC4BAqTRbHBxMs6b0=
/// ```
/// Signed as a C2SP `signed-note` (see `SignedNote`), so transparency-log witnesses and
/// tooling read it as is.
public struct Checkpoint: Hashable, Sendable {
    public var origin: String
    public var size: UInt64
    public var root: Digest
    public var extensions: [String]

    public init(origin: String, size: UInt64, root: Digest, extensions: [String] = []) {
        self.origin = origin; self.size = size; self.root = root; self.extensions = extensions
    }

    /// The note text, ending in a newline.
    public var body: String {
        ([origin, String(size), root.base64] + extensions).joined(separator: "\n") + "\n"
    }

    public init(body: String) throws {
        guard body.hasSuffix("\n") else { throw EvidenceError.malformed("checkpoint body must end with a newline") }
        let lines = body.dropLast().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.count >= 3, !lines[0].isEmpty else { throw EvidenceError.malformed("checkpoint body needs origin, size and root lines") }
        guard let size = UInt64(lines[1]), String(size) == lines[1] else {
            throw EvidenceError.malformed("checkpoint size '\(lines[1].prefix(30))' is not a decimal number without leading zeros")
        }
        guard let rootBytes = Base64.decode(lines[2]), let root = Digest(bytes: rootBytes) else {
            throw EvidenceError.malformed("checkpoint root '\(lines[2].prefix(60))' is not a base64 SHA-256 hash")
        }
        guard lines.dropFirst(3).allSatisfy({ !$0.isEmpty }) else { throw EvidenceError.malformed("checkpoint has an empty extension line") }
        self.init(origin: lines[0], size: size, root: root, extensions: Array(lines.dropFirst(3)))
    }
}

/// A C2SP signed note: text, a blank line, then signature lines
/// `— <key name> <base64(key id (4 bytes) || signature)>`.
public struct SignedNote: Hashable, Sendable {
    public struct Signature: Hashable, Sendable {
        public var keyName: String
        public var keyID: UInt32
        public var bytes: [UInt8]
    }

    public var text: String
    public var signatures: [Signature]

    /// Notes larger than this are refused before parsing.
    public static let maxBytes = 1 << 16

    /// Signs `text` (which must end in a newline) with `signer`.
    public static func sign(_ text: String, with signer: any Signer) throws -> SignedNote {
        guard text.hasSuffix("\n"), !text.contains("\n\n") else { throw EvidenceError.malformed("note text must end with one newline and contain no blank line") }
        guard signer.algorithm == .ed25519 else { throw EvidenceError(.unsupported, "signed notes use Ed25519 keys; \(signer.keyName) is \(signer.algorithm)") }
        let sig = try signer.sign(Array(text.utf8))
        let id = NoteKey.keyID(name: signer.keyName, algorithm: 0x01, publicKey: signer.publicKey)
        return SignedNote(text: text, signatures: [Signature(keyName: signer.keyName, keyID: id, bytes: sig)])
    }

    public var serialized: String {
        text + "\n" + signatures.map { s in
            var b: [UInt8] = []
            withUnsafeBytes(of: s.keyID.bigEndian) { b.append(contentsOf: $0) }
            b.append(contentsOf: s.bytes)
            return "\u{2014} \(s.keyName) \(Base64.encode(b))\n"
        }.joined()
    }

    public init(text: String, signatures: [Signature]) { self.text = text; self.signatures = signatures }

    public init(parsing bytes: [UInt8]) throws {
        guard bytes.count <= Self.maxBytes else { throw EvidenceError.malformed("signed note of \(bytes.count) bytes exceeds \(Self.maxBytes)") }
        guard let s = String(validating: bytes, as: UTF8.self) else { throw EvidenceError.malformed("signed note is not valid UTF-8") }
        guard let split = s.range(of: "\n\n", options: .backwards) else { throw EvidenceError.malformed("signed note has no blank line before its signatures") }
        let text = String(s[..<split.lowerBound]) + "\n"
        let sigPart = s[split.upperBound...]
        guard sigPart.hasSuffix("\n") else { throw EvidenceError.malformed("signed note must end with a newline") }
        var sigs: [Signature] = []
        for line in sigPart.dropLast().split(separator: "\n", omittingEmptySubsequences: false) {
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 3, parts[0] == "\u{2014}", !parts[1].isEmpty,
                  let raw = Base64.decode(String(parts[2])), raw.count > 4 else {
                throw EvidenceError.malformed("signed note has a malformed signature line '\(line.prefix(80))'")
            }
            let id = raw.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            sigs.append(Signature(keyName: String(parts[1]), keyID: id, bytes: Array(raw.dropFirst(4))))
        }
        guard !sigs.isEmpty, sigs.count <= 64 else { throw EvidenceError.malformed("signed note must carry 1 to 64 signatures, not \(sigs.count)") }
        self.init(text: text, signatures: sigs)
    }

    /// True if a signature by `verifier`'s key (matching name and key id) verifies.
    public func isSigned(by verifier: any SignatureVerifier) -> Bool {
        let id = NoteKey.keyID(name: verifier.keyName, algorithm: 0x01, publicKey: verifier.publicKey)
        return signatures.contains { $0.keyName == verifier.keyName && $0.keyID == id && verifier.isValidSignature($0.bytes, for: Array(text.utf8)) }
    }
}

/// C2SP note key encodings: verifier keys `<name>+<hex id>+<base64(0x01 || public key)>` and
/// private keys `PRIVATE+KEY+<name>+<hex id>+<base64(0x01 || seed)>`.
public enum NoteKey {
    /// Key id: the first 4 bytes of SHA-256(name || 0x0A || algorithm || public key), big-endian.
    public static func keyID(name: String, algorithm: UInt8, publicKey: [UInt8]) -> UInt32 {
        let d = PortableSHA256().hash(bytes: Array(name.utf8) + [0x0A, algorithm] + publicKey)
        return UInt32(truncatingIfNeeded: d.w0 >> 32)
    }

    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && !name.contains("+") && name.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value != 0x7f && !$0.properties.isWhitespace }
    }

    public static func verifierKey(name: String, publicKey: [UInt8]) -> String {
        let id = keyID(name: name, algorithm: 0x01, publicKey: publicKey)
        return "\(name)+\(String(format: "%08x", id))+\(Base64.encode([0x01] + publicKey))"
    }

    public static func privateKey(name: String, seed: [UInt8], publicKey: [UInt8]) -> String {
        let id = keyID(name: name, algorithm: 0x01, publicKey: publicKey)
        return "PRIVATE+KEY+\(name)+\(String(format: "%08x", id))+\(Base64.encode([0x01] + seed))"
    }

    /// Parses a verifier key; returns (name, Ed25519 public key).
    public static func parseVerifierKey(_ s: String) throws -> (name: String, publicKey: [UInt8]) {
        // Base64 may itself contain '+': split only at the first two.
        let parts = s.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, isValidName(String(parts[0])), let id = UInt32(parts[1], radix: 16), parts[1].count == 8,
              let raw = Base64.decode(String(parts[2])), raw.count == 33, raw[0] == 0x01 else {
            throw EvidenceError.malformed("'\(s.prefix(100))' is not a C2SP Ed25519 verifier key (name+hexid+base64)")
        }
        let pub = Array(raw.dropFirst())
        guard keyID(name: String(parts[0]), algorithm: 0x01, publicKey: pub) == id else {
            throw EvidenceError.malformed("verifier key for \(parts[0]): key id \(parts[1]) does not match the key")
        }
        return (String(parts[0]), pub)
    }

    /// Parses a private key; returns (name, seed, claimed key id).
    public static func parsePrivateKey(_ s: String) throws -> (name: String, seed: [UInt8], keyID: UInt32) {
        let parts = s.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "+", maxSplits: 4, omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "PRIVATE", parts[1] == "KEY", isValidName(String(parts[2])),
              parts[3].count == 8, let id = UInt32(parts[3], radix: 16),
              let raw = Base64.decode(String(parts[4])), raw.count == 33, raw[0] == 0x01 else {
            throw EvidenceError.malformed("the signing key file is not a C2SP Ed25519 private key (PRIVATE+KEY+name+hexid+base64)")
        }
        return (String(parts[2]), Array(raw.dropFirst()), id)
    }
}
