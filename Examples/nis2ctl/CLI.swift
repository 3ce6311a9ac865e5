import EvidenceCore
import Foundation

/// Exit codes shared by every subcommand.
enum ExitCode: Int32 {
    case success = 0
    /// Something did not verify (log, proof, pack, token, identity).
    case verificationFailed = 1
    /// The command line or its input was wrong; nothing was changed.
    case usage = 2
    /// The operation failed for another reason (I/O, peer); nothing acknowledged was lost.
    case failure = 3
}

/// A usage error: printed with the subcommand's help hint, exit 2.
struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

/// The parsed command line of one subcommand. Options are declared by the command, so an
/// unknown or misspelled option is a usage error, never silently ignored.
struct ParsedArguments: Sendable {
    private(set) var options: [String: [String]] = [:]
    private(set) var flags: Set<String> = []
    private(set) var positional: [String] = []
    /// Everything after a bare `--`.
    private(set) var trailing: [String] = []

    init(_ args: [String], options allowed: Set<String>, flags allowedFlags: Set<String>) throws {
        var i = 0
        while i < args.count {
            let a = args[i]
            if a == "--" { trailing = Array(args[(i + 1)...]); break }
            if a.hasPrefix("--") {
                var name = String(a.dropFirst(2))
                var value: String?
                if let eq = name.firstIndex(of: "=") { value = String(name[name.index(after: eq)...]); name = String(name[..<eq]) }
                if allowed.contains(name) {
                    if value == nil {
                        guard i + 1 < args.count else { throw UsageError("option --\(name) needs a value") }
                        i += 1; value = args[i]
                    }
                    options[name, default: []].append(value!)
                } else if allowedFlags.contains(name) {
                    guard value == nil else { throw UsageError("--\(name) takes no value") }
                    flags.insert(name)
                } else {
                    throw UsageError("unknown option --\(name)")
                }
            } else {
                positional.append(a)
            }
            i += 1
        }
    }

    func flag(_ name: String) -> Bool { flags.contains(name) }
    func value(_ name: String) -> String? { options[name]?.last }
    func values(_ name: String) -> [String] { options[name] ?? [] }

    func required(_ name: String) throws -> String {
        guard let v = value(name), !v.isEmpty else { throw UsageError("missing required option --\(name)") }
        return v
    }

    func uint64(_ name: String) throws -> UInt64? {
        guard let v = value(name) else { return nil }
        guard let n = UInt64(v) else { throw UsageError("--\(name) must be a non-negative integer, not '\(v)'") }
        return n
    }

    func tenant() throws -> TenantID {
        do { return try TenantID(try required("tenant")) } catch let e as EvidenceError { throw UsageError(e.message) }
    }
}

/// One subcommand: its words (`["log", "append"]`), help text and declared options.
struct CommandSpec: Sendable {
    var path: [String]
    var summary: String
    /// Full help: usage line(s), then a description of every option.
    var help: String
    var options: Set<String> = []
    var flags: Set<String> = []
    var run: @Sendable (ParsedArguments) async throws -> ExitCode
}

/// Terminal output helpers. Errors go to stderr with the program name.
enum Console {
    static func out(_ s: String) { FileHandle.standardOutput.write(Data((s + "\n").utf8)) }
    static func err(_ s: String) { FileHandle.standardError.write(Data(("nis2ctl: " + s + "\n").utf8)) }
    static func json(_ value: JSONValue) { out(String(decoding: JCS.canonicalize(value), as: UTF8.self)) }
}
