import EvidenceCore
import Foundation

/// The eleven entity types whose significant incidents IR 2024/2690 defines (Arts 5-14), with
/// the raw values of the rule book's test-case format (section 0).
///
/// Guarantees: every case maps to exactly one article; MSP and MSSP share Art 10.
public enum EntityType: String, Sendable, CaseIterable, Codable {
    case dnsServiceProvider
    case tldNameRegistry
    case cloudComputingServiceProvider
    case dataCentreServiceProvider
    case contentDeliveryNetworkProvider
    case managedServiceProvider
    case managedSecurityServiceProvider
    case onlineMarketplaceProvider
    case onlineSearchEngineProvider
    case socialNetworkingServicesPlatformProvider
    case trustServiceProvider

    /// The IR 2024/2690 article holding this entity type's specific criteria.
    public var article: Int {
        switch self {
        case .dnsServiceProvider: 5
        case .tldNameRegistry: 6
        case .cloudComputingServiceProvider: 7
        case .dataCentreServiceProvider: 8
        case .contentDeliveryNetworkProvider: 9
        case .managedServiceProvider, .managedSecurityServiceProvider: 10
        case .onlineMarketplaceProvider: 11
        case .onlineSearchEngineProvider: 12
        case .socialNetworkingServicesPlatformProvider: 13
        case .trustServiceProvider: 14
        }
    }

    /// Whether Art 3(3) user counting applies (Arts 7 and 9-14; not DNS, TLD or data centres).
    public var countsUsersPerArticle3_3: Bool { ![5, 6, 8].contains(article) }
}

/// A NIS2 entity that IR 2024/2690 does not cover (hospitals, energy, banks, ...). Its
/// significance follows the open test of NIS2 Art 23(3), which the engine does not decide.
///
/// Guarantees: only the sector names listed here are accepted, so a misspelt IR entity type is
/// refused as unknown rather than silently sent to a human.
public enum OutsideIRSector: String, Sendable, CaseIterable, Codable {
    case energy, transport, banking, financialMarketInfrastructure, health, drinkingWater, wasteWater
    case internetExchangePointProvider, publicElectronicCommunicationsProvider
    case publicAdministration, space, postalAndCourier, wasteManagement, chemicals, food, manufacturing, research
    /// Any other essential or important entity, where the operator names the sector in the description.
    case otherNIS2Entity
}

/// The subject of a classification: an IR 2024/2690 entity type, or a NIS2 entity outside it.
public enum ReportingEntity: Sendable, Hashable, Codable {
    case regulated(EntityType)
    case outsideIR(OutsideIRSector)

    /// Parses the `entityType` field; unknown values are refused with the list of known ones.
    public init(rawValue: String, caseID: String? = nil) throws {
        if let t = EntityType(rawValue: rawValue) { self = .regulated(t); return }
        if let s = OutsideIRSector(rawValue: rawValue) { self = .outsideIR(s); return }
        throw ReportingError(.unknownEntityType, caseID: caseID, field: "entityType",
                             "unknown entity type '\(rawValue.prefix(80))'; use one of the IR 2024/2690 types ("
                             + EntityType.allCases.map(\.rawValue).joined(separator: ", ")
                             + ") or, for other NIS2 entities, one of " + OutsideIRSector.allCases.map(\.rawValue).joined(separator: ", "))
    }

    public init(from decoder: Decoder) throws { try self.init(rawValue: try decoder.singleValueContainer().decode(String.self)) }
    public func encode(to encoder: Encoder) throws { var c = encoder.singleValueContainer(); try c.encode(rawValue) }

    public var rawValue: String {
        switch self { case .regulated(let t): t.rawValue; case .outsideIR(let s): s.rawValue }
    }
}
