import Foundation

/// The relying party a ceremony is for: its RP ID (a registrable domain, `localhost` in
/// development) and the exact origins its pages are served from.
public struct RelyingPartyIdentity: Hashable, Sendable {
    public var id: String
    public var origins: Set<String>
    public init(id: String, origins: Set<String>) { self.id = id; self.origins = origins }
}

/// The fields of `clientDataJSON` (WebAuthn §5.8.1) that the relying party checks.
///
/// Guarantees: produced only by `check`, which refuses (`.malformedClientData`,
/// `.typeMismatch`, `.challengeMismatch`, `.originMismatch`) JSON over 16 KiB, a non-object,
/// a wrong `type`, a challenge other than the expected bytes, an origin outside the relying
/// party's list, and `crossOrigin: true`.
public struct CollectedClientData: Sendable {
    public static let maxBytes = 16 << 10
    public let type: String
    public let origin: String

    static func check(_ json: [UInt8], type expected: String, challenge: [UInt8], party: RelyingPartyIdentity) throws -> CollectedClientData {
        guard json.count <= maxBytes else {
            throw WebAuthnError(.malformedClientData, "clientDataJSON of \(json.count) bytes exceeds the \(maxBytes)-byte bound")
        }
        guard let o = (try? JSONSerialization.jsonObject(with: Data(json))) as? [String: Any] else {
            throw WebAuthnError(.malformedClientData, "clientDataJSON is not a JSON object; send the browser's bytes unchanged (base64url-decoded)")
        }
        guard let type = o["type"] as? String, let c = o["challenge"] as? String, let origin = o["origin"] as? String else {
            throw WebAuthnError(.malformedClientData, "clientDataJSON lacks a string type, challenge or origin")
        }
        guard type == expected else {
            throw WebAuthnError(.typeMismatch, "clientDataJSON type is '\(type.prefix(40))', expected '\(expected)'")
        }
        guard let got = Base64URL.decode(c), got == challenge else {
            throw WebAuthnError(.challengeMismatch, "the signed challenge '\(c.prefix(64))' is not the one issued for this ceremony; start the ceremony again")
        }
        guard party.origins.contains(origin) else {
            throw WebAuthnError(.originMismatch, "origin '\(origin.prefix(200))' is not an origin of relying party '\(party.id)' (allowed: \(party.origins.sorted().joined(separator: ", ")))")
        }
        if let cross = o["crossOrigin"] as? Bool, cross {
            throw WebAuthnError(.originMismatch, "the ceremony ran in a cross-origin frame; it is refused")
        }
        return CollectedClientData(type: type, origin: origin)
    }
}

/// Unpadded base64url (RFC 4648 §5), the encoding WebAuthn uses for binary in JSON.
public enum Base64URL {
    public static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// nil for characters outside the base64url alphabet or padding.
    public static func decode(_ s: String) -> [UInt8]? {
        guard s.utf8.allSatisfy({ ($0 >= 0x41 && $0 <= 0x5a) || ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2d || $0 == 0x5f }) else { return nil }
        var b = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        b += String(repeating: "=", count: (4 - b.utf8.count % 4) % 4)
        return Data(base64Encoded: b).map(Array.init)
    }
}
