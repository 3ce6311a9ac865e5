import EvidenceCore
import Foundation

/// Remembers every assertion the service provider accepted until that assertion expires, so
/// a captured SAMLResponse cannot be posted a second time.
///
/// Guarantees: `admit` succeeds at most once per (issuer, assertion ID) while `now` (from the
/// injected clock) is before the expiry given on admission; entries are dropped only after
/// they expire. When the cache is full of live entries it fails closed (refuses new logins)
/// instead of forgetting one. State is in memory: a restart forgets it, so assertion
/// lifetimes must stay short (the IdP's NotOnOrAfter bounds the window).
public actor SAMLReplayCache {
    private let clock: any WallClock
    private let capacity: Int
    private var expiries: [String: Date] = [:]
    private var nextSweep = Date.distantPast

    public init(clock: any WallClock, capacity: Int = 100_000) {
        self.clock = clock
        self.capacity = max(1, capacity)
    }

    /// Records the assertion, or throws `replayed` if it was admitted before and has not expired.
    public func admit(assertionID: String, issuer: String, until expiry: Date) throws(SAMLError) {
        let now = clock.now()
        let key = issuer + "\u{0}" + assertionID
        if let known = expiries[key], known > now {
            throw SAMLError(.replayed, "assertion '\(assertionID)' from '\(issuer)' was already used (it stays refused until \(Timestamp.format(known))); start a new login")
        }
        if expiries.count >= capacity || now >= nextSweep {
            expiries = expiries.filter { $0.value > now }
            nextSweep = now.addingTimeInterval(60)
        }
        guard expiries.count < capacity else {
            throw SAMLError(.replayed, "the replay cache holds \(capacity) live assertions; refusing new ones until some expire (raise the capacity or shorten assertion lifetimes)")
        }
        expiries[key] = expiry
    }

    /// How many assertions are remembered (expired ones may linger until the next sweep).
    public var count: Int { expiries.count }
}
