import EvidenceCore

/// Maps what a provider says about the login (`amr`, RFC 8176 values; `acr`) to an
/// `AssuranceLevel`. The stronger of the two readings wins; anything unknown counts as a
/// password.
///
/// Phishing-resistant: `amr` `hwk`, `sc`, `fido`, `passkey`, `webauthn`, or `acr` `phr`/`phrh`
/// (OpenID EAP ACR values). Multi-factor: `amr` `mfa`, `otp`, `sms`, `tel`, or a password plus
/// another factor. Deployments add their provider's own `acr` names with `acrLevels`.
public struct AssuranceMapping: Sendable {
    public var acrLevels: [String: AssuranceLevel]

    public init(acrLevels: [String: AssuranceLevel] = [:]) {
        var m: [String: AssuranceLevel] = ["phr": .phishingResistant, "phrh": .phishingResistant,
                                           "http://schemas.openid.net/pape/policies/2007/06/multi-factor": .multiFactor,
                                           "http://schemas.openid.net/pape/policies/2007/06/phishing-resistant": .phishingResistant]
        for (k, v) in acrLevels { m[k] = v }
        self.acrLevels = m
    }

    public func level(amr: [String], acr: String?) -> AssuranceLevel {
        let a = Set(amr.map { $0.lowercased() })
        var level = AssuranceLevel.password
        if !a.isDisjoint(with: ["hwk", "sc", "fido", "passkey", "webauthn"]) { level = .phishingResistant }
        else if !a.isDisjoint(with: ["mfa", "otp", "sms", "tel"]) || (a.contains("pwd") && a.count > 1) { level = .multiFactor }
        if let acr, let l = acrLevels[acr], l > level { level = l }
        return level
    }
}
