import Foundation

/// Every error the portal adapters throw: a public struct around an extensible code, so new
/// cases never break callers; `message` says what was wrong and what to do.
public struct PortalError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let raw: String
        private init(_ raw: String) { self.raw = raw }
        public var description: String { raw }

        /// No mapping of that name.
        public static let unknownMapping = Code("unknownMapping")
        /// The authority does not take this report stage.
        public static let unsupportedStage = Code("unsupportedStage")
        /// The draft lacks items the stage requires.
        public static let incompleteReport = Code("incompleteReport")
        /// The portal answered with a refusal (4xx): the payload must be changed, not retried.
        public static let refused = Code("refused")
        /// The portal stayed unavailable through every retry.
        public static let unavailable = Code("unavailable")
        /// The portal's answer is not a receipt (no reference, too large, not JSON).
        public static let badReceipt = Code("badReceipt")
        /// The drop folder cannot be written, or holds a different file under the same name.
        public static let dropFolder = Code("dropFolder")
        /// The portal address is not usable (scheme, host).
        public static let badAddress = Code("badAddress")
        /// This stage was already submitted for the incident.
        public static let alreadySubmitted = Code("alreadySubmitted")
    }

    public let code: Code
    public let message: String
    public let location: String

    public init(_ code: Code, _ message: String, file: String = #fileID, line: Int = #line) {
        self.code = code; self.message = message; self.location = "\(file):\(line)"
    }

    public var description: String { message }
    public static func == (a: PortalError, b: PortalError) -> Bool { a.code == b.code && a.message == b.message }
    public func hash(into h: inout Hasher) { h.combine(code); h.combine(message) }
}
