/// Every error the RFC 3161 client and verifier throw: a public struct around a stable code.
/// `message` says what was wrong and what to do.
public struct TSAError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure, stable for programmatic handling.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let raw: String
        private init(_ raw: String) { self.raw = raw }
        public var description: String { raw }

        /// The TSA answered with a status other than granted / grantedWithMods.
        public static let rejected = Code("rejected")
        /// Bytes that do not parse as a time-stamp response or token, or break a bound.
        public static let malformed = Code("malformed")
        /// The token does not verify: imprint, nonce, signature, chain, ESS signing certificate.
        public static let verificationFailed = Code("verificationFailed")
        /// The HTTP exchange failed (connection, status, content type, size).
        public static let transport = Code("transport")
        /// Configuration that cannot work (trust anchor file, URL).
        public static let configuration = Code("configuration")
    }

    public let code: Code
    public let message: String
    public let location: String

    public init(_ code: Code, _ message: String, file: String = #fileID, line: Int = #line) {
        self.code = code; self.message = message; self.location = "\(file):\(line)"
    }

    public var description: String { message }
    public static func == (a: TSAError, b: TSAError) -> Bool { a.code == b.code && a.message == b.message }
    public func hash(into h: inout Hasher) { h.combine(code); h.combine(message) }
}
