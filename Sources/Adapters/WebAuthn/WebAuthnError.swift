/// Every refusal of the WebAuthn relying-party checks: a public struct around a code, so new
/// cases never break callers. `message` names what was wrong and what to do about it.
public struct WebAuthnError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let raw: String
        private init(_ raw: String) { self.raw = raw }
        public var description: String { raw }
        /// Bytes that are not the CBOR subset WebAuthn uses (or trailing bytes after it).
        public static let malformedCBOR = Code("malformedCBOR")
        /// A length, count, nesting depth or total size over the decoder's bounds.
        public static let limitExceeded = Code("limitExceeded")
        /// A COSE key of an unsupported type, curve or algorithm, or with missing parameters.
        public static let unsupportedKey = Code("unsupportedKey")
        /// Authenticator data that is too short, has trailing bytes or a bad credential section.
        public static let malformedAuthenticatorData = Code("malformedAuthenticatorData")
        /// clientDataJSON that is not a JSON object with `type`, `challenge` and `origin`.
        public static let malformedClientData = Code("malformedClientData")
        /// `webauthn.create` where `webauthn.get` was expected, or the reverse.
        public static let typeMismatch = Code("typeMismatch")
        public static let challengeMismatch = Code("challengeMismatch")
        public static let originMismatch = Code("originMismatch")
        /// The authenticator data's rpIdHash is not SHA-256 of this relying party's id.
        public static let rpIDMismatch = Code("rpIDMismatch")
        /// The UP flag is not set: nobody touched the authenticator.
        public static let userNotPresent = Code("userNotPresent")
        /// The UV flag is not set although the ceremony requires user verification.
        public static let userNotVerified = Code("userNotVerified")
        /// The signature counter did not increase: a possibly cloned authenticator.
        public static let counterRegression = Code("counterRegression")
        public static let badSignature = Code("badSignature")
        /// An attestation format or statement this verifier does not accept.
        public static let attestationRefused = Code("attestationRefused")
        /// No registered credential with this id, or it belongs to someone else.
        public static let unknownCredential = Code("unknownCredential")
        /// A credential id registered twice.
        public static let duplicateCredential = Code("duplicateCredential")
    }

    public let code: Code
    public let message: String
    public let location: String

    public init(_ code: Code, _ message: String, file: String = #fileID, line: Int = #line) {
        self.code = code; self.message = message; location = "\(file):\(line)"
    }

    public var description: String { "\(code): \(message)" }
    public static func == (a: Self, b: Self) -> Bool { a.code == b.code && a.message == b.message }
    public func hash(into h: inout Hasher) { h.combine(code); h.combine(message) }
}
