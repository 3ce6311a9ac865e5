import EvidenceCore
import Foundation

/// AWS-style credentials for SigV4: an access key, its secret, and an optional session token
/// (temporary credentials from STS or an SSO login).
///
/// Guarantees: the secret and the token never appear in `description`, `debugDescription`,
/// error messages or logs; only the access key ID is shown, and only its first four characters.
/// Refuses: an empty access key or secret (init throws).
public struct S3Credentials: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    public let accessKeyID: String
    let secretAccessKey: String
    let sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) throws {
        guard !accessKeyID.isEmpty, !secretAccessKey.isEmpty else {
            throw EvidenceError(.malformedInput, "S3 credentials need both an access key ID and a secret access key; one of them is empty")
        }
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken.flatMap { $0.isEmpty ? nil : $0 }
    }

    public var hasSessionToken: Bool { sessionToken != nil }
    public var description: String { "S3Credentials(\(accessKeyID.prefix(4))…, secret redacted\(sessionToken == nil ? "" : ", session token redacted"))" }
    public var debugDescription: String { description }

    /// From `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and optional `AWS_SESSION_TOKEN`.
    /// Returns nil when the two required variables are not both set.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> S3Credentials? {
        guard let id = environment["AWS_ACCESS_KEY_ID"], let secret = environment["AWS_SECRET_ACCESS_KEY"],
              !id.isEmpty, !secret.isEmpty else { return nil }
        return try S3Credentials(accessKeyID: id, secretAccessKey: secret, sessionToken: environment["AWS_SESSION_TOKEN"])
    }

    /// From an AWS shared credentials file (INI: `[profile]` sections with `aws_access_key_id`,
    /// `aws_secret_access_key`, `aws_session_token`). The file is untrusted input: at most
    /// 1 MiB and 10,000 lines are read.
    public static func fromProfileFile(path: String, profile: String = "default") throws -> S3Credentials {
        let url = URL(fileURLWithPath: path)
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        guard let size = attributes?[.size] as? NSNumber else {
            throw EvidenceError(.notFound, "AWS credentials file \(path) does not exist or cannot be read; create it or pass the keys explicitly")
        }
        guard size.intValue <= 1 << 20 else {
            throw EvidenceError(.malformedInput, "AWS credentials file \(path) is larger than 1 MiB; that is not a credentials file")
        }
        let text = String(decoding: try Data(contentsOf: url), as: UTF8.self)
        var section: String?
        var values: [String: String] = [:]
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            guard n < 10_000 else { break }
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                var name = String(line.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
                if name.hasPrefix("profile ") { name = String(name.dropFirst(8)).trimmingCharacters(in: .whitespaces) }
                section = name
                continue
            }
            guard section == profile, let eq = line.firstIndex(of: "=") else { continue }
            let key = line[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            values[key] = value
        }
        guard let id = values["aws_access_key_id"], let secret = values["aws_secret_access_key"] else {
            throw EvidenceError(.notFound, "profile [\(profile)] in \(path) has no aws_access_key_id and aws_secret_access_key; add them or choose another profile")
        }
        return try S3Credentials(accessKeyID: id, secretAccessKey: secret, sessionToken: values["aws_session_token"])
    }

    /// Explicit credentials first, then the environment, then `AWS_SHARED_CREDENTIALS_FILE`
    /// or `~/.aws/credentials` with profile `AWS_PROFILE` (default "default").
    public static func resolve(explicit: S3Credentials? = nil,
                               environment: [String: String] = ProcessInfo.processInfo.environment) throws -> S3Credentials {
        if let explicit { return explicit }
        if let fromEnv = try fromEnvironment(environment) { return fromEnv }
        let home = environment["HOME"] ?? NSHomeDirectory()
        let path = environment["AWS_SHARED_CREDENTIALS_FILE"] ?? "\(home)/.aws/credentials"
        guard FileManager.default.fileExists(atPath: path) else {
            throw EvidenceError(.notFound, "no S3 credentials: pass them explicitly, set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or create \(path)")
        }
        return try fromProfileFile(path: path, profile: environment["AWS_PROFILE"] ?? "default")
    }
}
