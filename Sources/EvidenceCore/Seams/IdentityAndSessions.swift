import Foundation

/// Turns a login response from the MSP's IdP into a `Principal`.
///
/// Guarantees: returns a principal only for a response it has fully verified (signature,
/// issuer, audience, freshness, replay); anything else throws a typed error saying why.
public protocol IdentityProvider: Sendable {
    associatedtype LoginResponse: Sendable
    func authenticate(_ response: LoginResponse) async throws -> Principal
}

/// One event of a privileged session, in the order the host observed it.
///
/// `data` depends on `kind`:
/// - `output`, `input`: the raw terminal bytes, exactly as they passed.
/// - `maskedInput`: always empty. The host saw keystrokes while the terminal had echo off
///   (a password prompt) and did not pass them on; the recorder only notes that it happened.
/// - `resize`: the UTF-8 text `COLSxROWS`, e.g. `120x40`.
/// - `command`, `fileTransfer`, `configurationChange`, `elevation`: one JSON object with the
///   facts of the privileged action (e.g. `{"argv":["systemctl","restart","nginx"]}`), at most
///   `SessionEvent.maxActionBytes` bytes.
/// - `marker`: free UTF-8 text the host wants on the timeline.
public struct SessionEvent: Hashable, Sendable, Codable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case output, input, maskedInput, resize, command, fileTransfer, configurationChange, elevation, marker

        /// The structured privileged actions, each also logged as its own `session.action` record.
        public var isPrivilegedAction: Bool {
            switch self { case .command, .fileTransfer, .configurationChange, .elevation: true; default: false }
        }
    }
    /// Largest accepted JSON body of a privileged action: actions are facts, not payloads.
    public static let maxActionBytes = 16 << 10

    public var kind: Kind
    public var time: Date
    public var data: [UInt8]
    public init(kind: Kind, time: Date, data: [UInt8]) { self.kind = kind; self.time = time; self.data = data }
}

/// Where a host sends the events of one privileged session (see `SessionRecorder`).
///
/// Guarantees: events are kept in the order given; `record` returns once the events are
/// durable or held under the sink's explicit, bounded policy (at most its durability bound
/// old); when an event cannot be made durable within that bound the sink fails closed: this
/// and every later `record` throws, and the host must stop the session. `finish` makes
/// everything durable and closes the session with its end record. A sink never drops an
/// event silently: a sink configured for best effort logs every gap.
public protocol SessionEventSink: Sendable {
    /// The session being recorded: tenant, principal, grant, target.
    var session: SessionDescriptor { get }
    func record(_ events: [SessionEvent]) async throws
    func finish(_ ending: SessionEnding) async throws -> SessionSummary
}

/// A report handed to a national authority.
public struct RegulatorSubmission: Hashable, Sendable, Codable {
    public var tenant: TenantID
    public var incidentID: String
    public var stage: String
    public var payload: [UInt8]
    public var contentType: String
    public init(tenant: TenantID, incidentID: String, stage: String, payload: [UInt8], contentType: String) {
        self.tenant = tenant; self.incidentID = incidentID; self.stage = stage; self.payload = payload; self.contentType = contentType
    }
}

/// What the authority (or the file drop) acknowledged.
public struct RegulatorReceipt: Hashable, Sendable, Codable {
    public var portal: String
    public var reference: String
    public var receivedAt: Date
    public var payloadSHA256: Digest
    public init(portal: String, reference: String, receivedAt: Date, payloadSHA256: Digest) {
        self.portal = portal; self.reference = reference; self.receivedAt = receivedAt; self.payloadSHA256 = payloadSHA256
    }
}

/// Maps a report to a national form and submits it.
///
/// Guarantees: returns a receipt only once the authority (or the drop folder) has the
/// payload; retries are idempotent per (incident, stage, payload digest).
public protocol RegulatorPortal: Sendable {
    var name: String { get }
    func submit(_ submission: RegulatorSubmission) async throws -> RegulatorReceipt
}
