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
public struct SessionEvent: Hashable, Sendable, Codable {
    public enum Kind: String, Sendable, Codable {
        case output, input, resize, command, fileTransfer, configurationChange, elevation, marker
    }
    public var kind: Kind
    public var time: Date
    public var data: [UInt8]
    public init(kind: Kind, time: Date, data: [UInt8]) { self.kind = kind; self.time = time; self.data = data }
}

/// Where a recorder sends session events.
///
/// Guarantees: `record` returns only once the event is durable in the evidence log (or held
/// under an explicit, bounded buffering policy); if it cannot be made durable in the
/// configured bound it throws, and the recorder must fail closed (stop the session).
public protocol SessionEventSink: Sendable {
    func record(_ events: [SessionEvent], session: String, tenant: TenantID) async throws
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
