import EvidenceCore
import Foundation

/// Every error NIS2Reporting throws. A public struct around a stable code, so new cases never
/// break callers. The message names the case (incident or test-case id) and the field that was
/// wrong, and says what to do about it.
///
/// Guarantees: `caseID` and `field` are set whenever the error comes from one case's facts, so a
/// batch run can point at the exact input. Refuses nothing itself; it only describes.
public struct ReportingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure, stable for programmatic handling.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let raw: String
        private init(_ raw: String) { self.raw = raw }
        public var description: String { raw }

        /// A fact or file is malformed (wrong type, negative number, timestamp without offset).
        public static let invalidFact = Code("invalidFact")
        /// A fact the rules need to decide the case is missing; the engine will not guess it.
        public static let missingFact = Code("missingFact")
        /// The entity type is not one this library knows.
        public static let unknownEntityType = Code("unknownEntityType")
        /// The file is not in the test-case format of the rule book (section 0).
        public static let wrongFormat = Code("wrongFormat")
        /// A lifecycle step was asked for in a state that does not allow it.
        public static let invalidTransition = Code("invalidTransition")
        /// An incident, timer or report asked for does not exist.
        public static let notFound = Code("notFound")
        /// A persistent store failed (SQLite, evidence log).
        public static let storage = Code("storage")
    }

    public let code: Code
    /// The incident or test case the error belongs to, when there is one.
    public let caseID: String?
    /// The fact or field path that was wrong (`dataCompromise.usersAffected`), when there is one.
    public let field: String?
    public let message: String
    public let location: String

    public init(_ code: Code, caseID: String? = nil, field: String? = nil, _ message: String,
                file: String = #fileID, line: Int = #line) {
        self.code = code; self.caseID = caseID; self.field = field; self.message = message
        self.location = "\(file):\(line)"
    }

    public var description: String {
        var prefix = ""
        if let caseID { prefix += "case \(caseID)" }
        if let field { prefix += prefix.isEmpty ? "field \(field)" : ", field \(field)" }
        return prefix.isEmpty ? message : "\(prefix): \(message)"
    }

    public static func == (a: ReportingError, b: ReportingError) -> Bool {
        a.code == b.code && a.caseID == b.caseID && a.field == b.field && a.message == b.message
    }
    public func hash(into h: inout Hasher) { h.combine(code); h.combine(caseID); h.combine(field); h.combine(message) }

    /// The same error attributed to a case, keeping a case id that is already set.
    func attributed(to id: String) -> ReportingError {
        caseID != nil ? self : ReportingError(code, caseID: id, field: field, message)
    }
}
