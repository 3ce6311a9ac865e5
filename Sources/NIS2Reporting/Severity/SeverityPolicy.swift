import EvidenceCore
import Foundation

/// The engine's conventions that are not in the law (rule book tag [I]) or not verified ([U]).
/// Every one is a setting, with the rule book's reading as the default.
///
/// Guarantees: the defaults reproduce the rule book's reference algorithm (section 2.4). Refuses
/// nothing; values out of range are clamped where they are used (a negative margin acts as 0).
public struct SeverityPolicy: Sendable {
    /// Margin around a threshold inside which a criterion is reported as a close call. [I]
    public var closeCallMargin: Double = 0.10
    /// Length of the Art 4 window in calendar months; earlier incidents must lie strictly
    /// after (current occurredAt - this many months). The exact-boundary reading is [U].
    public var recurringWindowMonths: Int = 6
    /// How root causes are matched for Art 4.
    public var rootCauses: RootCauseVocabulary = .standard
    /// Whether limited availability counts towards the Art 14(b) weekly total. [U]; default: no.
    public var limitedAvailabilityCountsTowardsWeeklyTotal = false
    /// Art 5(c) exception: whether it covers only wrong data (integrity), so that a
    /// confidentiality or authenticity compromise caused by misconfiguration stays significant. [I]
    public var dnsMisconfigurationExceptionOnlyForWrongData = true

    public init() {}
    public static let standard = SeverityPolicy()
}

/// A controlled vocabulary of apparent root causes for Art 4 (recurring incidents): free-text
/// equality is too weak, so codes are normalised and synonyms mapped to one term.
///
/// Guarantees: two root causes match only when both normalise to the same term of the
/// vocabulary. With `acceptsUnlistedCodes` (the default), a well-formed code outside the list
/// (lower-case words joined by '-') is its own term and the match carries a note asking a person
/// to confirm it; without it, such a cause never matches automatically.
public struct RootCauseVocabulary: Sendable {
    /// Canonical terms.
    public var terms: Set<String>
    /// Synonym -> canonical term (keys normalised).
    public var synonyms: [String: String]
    public var acceptsUnlistedCodes: Bool

    public init(terms: Set<String>, synonyms: [String: String] = [:], acceptsUnlistedCodes: Bool = true) {
        self.terms = terms; self.acceptsUnlistedCodes = acceptsUnlistedCodes
        self.synonyms = Dictionary(synonyms.map { (Self.slug($0.key), Self.slug($0.value)) }, uniquingKeysWith: { a, _ in a })
    }

    public static let standard = RootCauseVocabulary(terms: [
        "faulty-storage-firmware", "faulty-firmware", "software-defect", "misconfiguration", "operator-error",
        "expired-certificate", "capacity-exhaustion", "power-failure", "cooling-failure", "network-failure",
        "third-party-failure", "ddos", "malware", "ransomware", "phishing", "credential-compromise",
        "vulnerability-exploitation", "insider-misuse", "physical-damage", "natural-phenomenon",
    ], synonyms: [
        "human-error": "operator-error", "configuration-error": "misconfiguration", "bug": "software-defect",
        "certificate-expiry": "expired-certificate", "denial-of-service": "ddos", "stolen-credentials": "credential-compromise",
        "power-outage": "power-failure",
    ])

    public enum Match: Equatable, Sendable {
        /// Both causes are the same listed term.
        case listed(String)
        /// Both are the same well-formed code outside the list; a person should confirm.
        case unlisted(String)
        case different
    }

    /// The canonical term for a cause, or nil when the vocabulary does not accept it.
    public func term(for cause: String) -> (term: String, listed: Bool)? {
        let s = Self.slug(cause)
        guard !s.isEmpty else { return nil }
        if terms.contains(s) { return (s, true) }
        if let t = synonyms[s] { return (t, true) }
        return acceptsUnlistedCodes ? (s, false) : nil
    }

    public func match(_ a: String, _ b: String) -> Match {
        guard let x = term(for: a), let y = term(for: b), x.term == y.term else { return .different }
        return x.listed && y.listed ? .listed(x.term) : .unlisted(x.term)
    }

    /// Lower-case, with runs of spaces, underscores and dots turned into one '-'.
    static func slug(_ s: String) -> String {
        var out = ""
        var pendingDash = false
        for ch in s.lowercased() {
            if ch.isLetter || ch.isNumber {
                if pendingDash, !out.isEmpty { out.append("-") }
                pendingDash = false
                out.append(ch)
            } else {
                pendingDash = true
            }
        }
        return out
    }
}
