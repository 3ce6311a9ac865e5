/// Every error the NTS client throws: a public struct around a stable code, so new cases never
/// break callers. `message` names the server and says what was wrong and what to do.
public struct NTSError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure, stable for programmatic handling.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let raw: String
        private init(_ raw: String) { self.raw = raw }
        public var description: String { raw }

        /// The server's certificate chain does not lead to a trusted CA.
        public static let untrustedCertificate = Code("untrustedCertificate")
        /// The certificate is trusted but not issued for the name or address we dialled.
        public static let hostNameMismatch = Code("hostNameMismatch")
        /// The TLS server did not select ALPN `ntske/1` (not an NTS-KE server).
        public static let alpnNotNegotiated = Code("alpnNotNegotiated")
        /// The NTS-KE server answered with an Error or Warning record.
        public static let keServerError = Code("keServerError")
        /// Bytes from the network that break the protocol or one of our bounds.
        public static let malformed = Code("malformed")
        /// The server offered nothing we can use (AEAD, next protocol, cookies).
        public static let negotiationFailed = Code("negotiationFailed")
        /// An NTP reply whose AEAD tag or NTS fields do not authenticate it.
        public static let authenticationFailed = Code("authenticationFailed")
        /// An NTP reply that does not answer our request (unique identifier, origin timestamp): replayed or misdirected.
        public static let replyMismatch = Code("replyMismatch")
        /// The server sent a Kiss-o'-Death other than NTSN (RATE, DENY, RSTR, …): back off.
        public static let kissOfDeath = Code("kissOfDeath")
        /// NTS NAK (kiss code `NTSN`): the server refused our cookie or tag; the session is dead and a new NTS-KE is needed.
        public static let ntsNAK = Code("ntsNAK")
        /// The server says it is not synchronised (leap 3, bad stratum).
        public static let unsynchronised = Code("unsynchronised")
        /// Servers disagree: no majority of intervals intersects.
        public static let noMajority = Code("noMajority")
        /// No answer within the configured time.
        public static let timedOut = Code("timedOut")
        /// The operating system refused a network call (resolve, connect, send).
        public static let network = Code("network")
        /// TLS failed for another reason (protocol version, handshake).
        public static let tls = Code("tls")
    }

    public let code: Code
    public let message: String
    public let location: String

    public init(_ code: Code, _ message: String, file: String = #fileID, line: Int = #line) {
        self.code = code; self.message = message; self.location = "\(file):\(line)"
    }

    public var description: String { message }
    public static func == (a: NTSError, b: NTSError) -> Bool { a.code == b.code && a.message == b.message }
    public func hash(into h: inout Hasher) { h.combine(code); h.combine(message) }
}
