import EvidenceCore
import Foundation

/// The facts of one incident, as the rule book's test-case format (section 0) defines them.
///
/// Guarantees: numbers are finite and never negative; `occurredAt` and `awareAt` are instants
/// (their source text carried a UTC offset). A missing boolean is `false`; a missing number is
/// `nil` ("not given"), which the engine reads as 0 unless the rules need the number, in which
/// case it refuses to decide rather than guess.
public struct IncidentFacts: Sendable, Hashable, Codable {
    public var occurredAt: Date
    public var awareAt: Date
    public var directFinancialLossEUR: Double?
    public var annualTurnoverPreviousFinancialYearEUR: Double?
    public var tradeSecretsExfiltrated = false
    public var deathCausedOrPossible = false
    public var considerableHealthDamageCausedOrPossible = false
    public var unauthorisedAccess: UnauthorisedAccess?
    public var scheduledMaintenance = false
    public var totalUsersInUnion: Double?
    public var completeUnavailabilityMinutes: Double?
    public var completeUnavailabilityUsersAffected: Double?
    public var limitedAvailabilityMinutes: Double?
    public var limitedAvailabilityUsersAffected: Double?
    public var unavailabilityMinutesInCalendarWeek: Double?
    public var averageResponseTimeSeconds: Double?
    public var averageResponseTimePeriodMinutes: Double?
    public var dataCompromise: DataCompromise?
    public var physicalAccessCompromised = false
    public var affectsTrustServiceProvision = false
    public var rootCause: String?
    public var previousIncidents: [PreviousIncident] = []

    public init(occurredAt: Date, awareAt: Date) {
        self.occurredAt = occurredAt; self.awareAt = awareAt
    }

    /// `{successful, suspectedMalicious, capableOfSevereOperationalDisruption}` (Art 3(1)(e)).
    public struct UnauthorisedAccess: Sendable, Hashable, Codable {
        public var successful = false
        public var suspectedMalicious = false
        public var capableOfSevereOperationalDisruption = false
        public init(successful: Bool = false, suspectedMalicious: Bool = false, capableOfSevereOperationalDisruption: Bool = false) {
            self.successful = successful; self.suspectedMalicious = suspectedMalicious
            self.capableOfSevereOperationalDisruption = capableOfSevereOperationalDisruption
        }
    }

    /// A compromise of integrity, confidentiality or authenticity of data (Arts 5-14).
    public struct DataCompromise: Sendable, Hashable, Codable {
        public var integrity = false
        public var confidentiality = false
        public var authenticity = false
        public var suspectedMalicious = false
        public var usersAffected: Double?
        public var relatedToServiceProvision = true
        public var cause: String?
        /// DNS only: `authoritativeResolution` or `recursiveResolution`.
        public var relatedService: String?
        public var domainNamesAffected: Double?
        public var domainNamesManaged: Double?
        public init() {}

        /// A compromise exists when at least one of the three CIA flags is set.
        public var exists: Bool { integrity || confidentiality || authenticity }
        /// Malicious action suspected, by flag or by the stated cause.
        public var malicious: Bool { suspectedMalicious || cause == "maliciousAction" }
        public var flagNames: String {
            [integrity ? "integrity" : nil, confidentiality ? "confidentiality" : nil, authenticity ? "authenticity" : nil]
                .compactMap { $0 }.joined(separator: ", ")
        }
    }

    /// An earlier incident that may combine with this one under Art 4.
    public struct PreviousIncident: Sendable, Hashable, Codable {
        public var id: String
        public var occurredAt: Date
        public var rootCause: String?
        public var directFinancialLossEUR: Double
        public var individuallySignificant: Bool
        public init(id: String, occurredAt: Date, rootCause: String?, directFinancialLossEUR: Double, individuallySignificant: Bool) {
            self.id = id; self.occurredAt = occurredAt; self.rootCause = rootCause
            self.directFinancialLossEUR = directFinancialLossEUR; self.individuallySignificant = individuallySignificant
        }
    }
}
