import EvidenceCore

/// Every refusal of the SAML service provider. A public struct around a stable code, so new
/// codes never break callers; `message` says what was wrong and what to do about it.
public struct SAMLError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of refusal, stable for programmatic handling and for log records.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let raw: String
        private init(_ raw: String) { self.raw = raw }
        public var description: String { raw }

        /// Not base64, not well-formed XML, not a SAML Response, or a required element is missing.
        public static let malformed = Code("malformed")
        /// Larger than the configured bound, or too many nodes.
        public static let tooLarge = Code("tooLarge")
        /// A DOCTYPE (DTD, entity declarations): never accepted, which rules out XXE and entity expansion.
        public static let doctypeForbidden = Code("doctypeForbidden")
        /// A required signature is absent.
        public static let unsigned = Code("unsigned")
        /// A signature does not verify, or uses an algorithm or transform outside the allow-list.
        public static let badSignature = Code("badSignature")
        /// The structure could let a signature cover another element than the one read
        /// (duplicated IDs, several assertions, a reference to a different element).
        public static let signatureWrapping = Code("signatureWrapping")
        /// Issuer is not the configured IdP.
        public static let wrongIssuer = Code("wrongIssuer")
        /// Outside NotBefore / NotOnOrAfter (with the allowed skew).
        public static let expired = Code("expired")
        public static let notYetValid = Code("notYetValid")
        /// The assertion is not for this service provider.
        public static let wrongAudience = Code("wrongAudience")
        /// Destination or bearer Recipient is not this ACS URL.
        public static let wrongRecipient = Code("wrongRecipient")
        /// InResponseTo does not name the AuthnRequest this SP sent.
        public static let wrongRequest = Code("wrongRequest")
        /// The assertion was already used.
        public static let replayed = Code("replayed")
        /// The IdP answered with a non-success status.
        public static let idpStatus = Code("idpStatus")
        /// A feature this SP does not accept (encrypted assertions, unknown conditions, ...).
        public static let unsupported = Code("unsupported")
        /// The authentication context maps to no assurance level.
        public static let insufficientAssurance = Code("insufficientAssurance")
        /// IdP metadata or SP configuration that cannot be used.
        public static let configuration = Code("configuration")
    }

    public let code: Code
    public let message: String
    public let location: String

    public init(_ code: Code, _ message: String, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.location = "\(file):\(line)"
    }

    public var description: String { message }
    public static func == (a: SAMLError, b: SAMLError) -> Bool { a.code == b.code && a.message == b.message }
    public func hash(into h: inout Hasher) { h.combine(code); h.combine(message) }
}
