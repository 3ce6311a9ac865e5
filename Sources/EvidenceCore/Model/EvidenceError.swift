import Foundation

/// Every error EvidenceCore throws. A public struct around a private code, so new cases never
/// break callers; `message` says what was wrong and what to do.
public struct EvidenceError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure, stable for programmatic handling.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let raw: String
        private init(_ raw: String) { self.raw = raw }
        public var description: String { raw }

        /// Input that does not parse or breaks a bound (untrusted bytes, CLI input).
        public static let malformedInput = Code("malformedInput")
        /// The log, a checkpoint, a proof or an object does not verify.
        public static let verificationFailed = Code("verificationFailed")
        /// A write-once rule was hit: put twice, delete inside retention or under legal hold.
        public static let immutable = Code("immutable")
        /// Something asked for does not exist (tenant, object, index).
        public static let notFound = Code("notFound")
        /// A folder or file is not what this library writes.
        public static let notOurStore = Code("notOurStore")
        /// The operating system refused an I/O call (disk full, permissions).
        public static let io = Code("io")
        /// A principal tried to act outside its tenant or role.
        public static let accessDenied = Code("accessDenied")
        /// The operation is not offered by this implementation.
        public static let unsupported = Code("unsupported")
        /// A bounded wait (durability, a peer) ran out.
        public static let timedOut = Code("timedOut")
        /// The store was closed after a fatal write error; reopen it to recover.
        public static let closed = Code("closed")
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

    public static func == (a: EvidenceError, b: EvidenceError) -> Bool { a.code == b.code && a.message == b.message }
    public func hash(into h: inout Hasher) { h.combine(code); h.combine(message) }

    static func malformed(_ m: String, file: String = #fileID, line: Int = #line) -> EvidenceError { .init(.malformedInput, m, file: file, line: line) }
    static func verification(_ m: String, file: String = #fileID, line: Int = #line) -> EvidenceError { .init(.verificationFailed, m, file: file, line: line) }
    static func io(_ m: String, errno e: Int32, file: String = #fileID, line: Int = #line) -> EvidenceError {
        let reason = String(cString: strerror(e))
        let hint = e == ENOSPC || e == EDQUOT ? " — the disk is full: free space, then retry; nothing acknowledged was lost"
            : e == EACCES || e == EPERM || e == EROFS ? " — check the folder's permissions and that the file system is writable" : ""
        return .init(.io, "\(m): \(reason)\(hint)", file: file, line: line)
    }
}
