/// The authenticator data structure (WebAuthn Level 3 §6.1), parsed from untrusted bytes.
///
/// Guarantees: the fixed 37-byte header is present; when the AT flag is set the attested
/// credential data is complete (credential id at most 1023 bytes, a parseable COSE key);
/// when ED is set the extensions are one CBOR map; nothing follows the last section.
/// Refuses (`.malformedAuthenticatorData`, or the CBOR/COSE errors of the inner parts):
/// anything else, including attested credential data in an assertion.
public struct AuthenticatorData: Sendable {
    /// The flag bits (byte 32).
    public struct Flags: OptionSet, Hashable, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let userPresent = Flags(rawValue: 0x01)
        public static let userVerified = Flags(rawValue: 0x04)
        public static let backupEligible = Flags(rawValue: 0x08)
        public static let backedUp = Flags(rawValue: 0x10)
        public static let attestedCredentialData = Flags(rawValue: 0x40)
        public static let extensionData = Flags(rawValue: 0x80)
    }

    /// The credential an authenticator created, as reported during registration.
    public struct AttestedCredential: Sendable {
        /// The authenticator model (all zero for `none` attestation).
        public let aaguid: [UInt8]
        public let credentialID: [UInt8]
        public let publicKey: COSEPublicKey
    }

    /// Longest credential id the specification allows.
    public static let maxCredentialIDBytes = 1023

    public let raw: [UInt8]
    public let rpIDHash: [UInt8]
    public let flags: Flags
    public let signCount: UInt32
    public let attestedCredential: AttestedCredential?
    public let extensions: CBORValue?

    public init(_ bytes: [UInt8], decoder: CBORDecoder = CBORDecoder()) throws {
        guard bytes.count >= 37 else {
            throw WebAuthnError(.malformedAuthenticatorData, "authenticator data is \(bytes.count) bytes; at least 37 (rpIdHash, flags, counter) are required")
        }
        guard bytes.count <= decoder.limits.maxInputBytes else {
            throw WebAuthnError(.limitExceeded, "authenticator data of \(bytes.count) bytes exceeds the \(decoder.limits.maxInputBytes)-byte bound")
        }
        raw = bytes
        rpIDHash = Array(bytes[0..<32])
        flags = Flags(rawValue: bytes[32])
        signCount = bytes[33..<37].reduce(0) { $0 << 8 | UInt32($1) }
        var at = 37
        if flags.contains(.attestedCredentialData) {
            guard bytes.count >= at + 18 else {
                throw WebAuthnError(.malformedAuthenticatorData, "the AT flag is set but the attested credential data is cut short (\(bytes.count - at) bytes)")
            }
            let aaguid = Array(bytes[at..<(at + 16)])
            let idLength = Int(bytes[at + 16]) << 8 | Int(bytes[at + 17])
            at += 18
            guard idLength >= 1, idLength <= Self.maxCredentialIDBytes else {
                throw WebAuthnError(.malformedAuthenticatorData, "credential id length \(idLength) is outside 1...\(Self.maxCredentialIDBytes)")
            }
            guard bytes.count - at >= idLength else {
                throw WebAuthnError(.malformedAuthenticatorData, "credential id of \(idLength) bytes runs past the end of the authenticator data")
            }
            let id = Array(bytes[at..<(at + idLength)])
            at += idLength
            let (keyValue, end) = try decoder.decodePrefix(bytes, from: at)
            let key = try COSEPublicKey(keyValue, encoded: Array(bytes[at..<end]))
            at = end
            attestedCredential = AttestedCredential(aaguid: aaguid, credentialID: id, publicKey: key)
        } else {
            attestedCredential = nil
        }
        if flags.contains(.extensionData) {
            let (ext, end) = try decoder.decodePrefix(bytes, from: at)
            guard ext.mapValue != nil else {
                throw WebAuthnError(.malformedAuthenticatorData, "the ED flag is set but the extension data is not a CBOR map")
            }
            extensions = ext
            at = end
        } else {
            extensions = nil
        }
        guard at == bytes.count else {
            throw WebAuthnError(.malformedAuthenticatorData, "\(bytes.count - at) unexpected bytes after the authenticator data (flags 0x\(String(flags.rawValue, radix: 16)))")
        }
    }
}
