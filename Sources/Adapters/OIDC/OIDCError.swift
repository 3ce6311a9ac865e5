import EvidenceCore

/// Every refusal of the OIDC relying party: a public struct around a code, so new cases
/// never break callers. `message` names what was wrong and what to check at the provider.
public struct OIDCError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let raw: String
        private init(_ raw: String) { self.raw = raw }
        public var description: String { raw }
        /// Not a compact JWS, bad base64url, bad JSON, or over a size bound.
        public static let malformedToken = Code("malformedToken")
        /// `alg` outside the allow-list (RS256, PS256, ES256, EdDSA), e.g. `none` or `HS256`.
        public static let algorithmRefused = Code("algorithmRefused")
        /// No key of the provider has the token's `kid` (after the one allowed refetch).
        public static let unknownKey = Code("unknownKey")
        public static let badSignature = Code("badSignature")
        public static let issuerMismatch = Code("issuerMismatch")
        public static let audienceMismatch = Code("audienceMismatch")
        /// `azp` missing with several audiences, or naming another client.
        public static let authorizedPartyMismatch = Code("authorizedPartyMismatch")
        public static let expired = Code("expired")
        /// `nbf` or `iat` lies in the future beyond the allowed clock skew.
        public static let notYetValid = Code("notYetValid")
        public static let nonceMismatch = Code("nonceMismatch")
        /// A callback whose `state` this relying party never issued (or already used).
        public static let stateMismatch = Code("stateMismatch")
        public static let discoveryFailed = Code("discoveryFailed")
        /// The provider answered with an OAuth error or an unexpected status.
        public static let providerError = Code("providerError")
        public static let transport = Code("transport")
        public static let configuration = Code("configuration")
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
