import EvidenceCore
import Foundation

/// Every subcommand of nis2ctl. Each group lives in its own file under Commands/.
let commands: [CommandSpec] = StoreCommands.all + LogCommands.all + ClassifyCommands.all + TimeCommands.all + IncidentCommands.all + ReportCommands.all + GrantCommands.all + RecordingCommands.all + PackCommands.all + S3Commands.all + SAMLCommands.all + IdentityCommands.all + DemoCommand.all + PortalCommands.all + KPICommands.all

func printOverview() {
    Console.out("""
    nis2ctl — evidence of privileged sessions and NIS2 incident reporting for MSPs

    usage: nis2ctl <command> [options]    (nis2ctl <command> --help for details)

    commands:
    """)
    for c in commands { Console.out("  " + c.path.joined(separator: " ").padding(toLength: 22, withPad: " ", startingAt: 0) + c.summary) }
    Console.out("\nexit status: 0 success, 1 verification failed, 2 usage or input error, 3 other failure")
}

func dispatch(_ argv: [String]) async -> Int32 {
    let args = Array(argv.dropFirst())
    if args.isEmpty || args == ["--help"] || args == ["-h"] || args == ["help"] { printOverview(); return args.isEmpty ? 2 : 0 }
    // The longest command path that prefixes the arguments wins.
    let match = commands
        .filter { $0.path.count <= args.count && Array(args.prefix($0.path.count)) == $0.path }
        .max { $0.path.count < $1.path.count }
    guard let spec = match else {
        let group = commands.filter { $0.path.first == args.first }
        if !group.isEmpty {
            Console.err("'\(args.prefix(2).joined(separator: " "))' is not a command; '\(args[0])' has: " + group.map { $0.path.dropFirst().joined(separator: " ") }.joined(separator: ", "))
        } else {
            Console.err("unknown command '\(args[0])'; run 'nis2ctl --help' for the list")
        }
        return ExitCode.usage.rawValue
    }
    let rest = Array(args.dropFirst(spec.path.count))
    if rest.prefix(while: { $0 != "--" }).contains(where: { $0 == "--help" || $0 == "-h" }) {
        Console.out(spec.help)
        return 0
    }
    do {
        let parsed = try ParsedArguments(rest, options: spec.options, flags: spec.flags)
        return try await spec.run(parsed).rawValue
    } catch let e as UsageError {
        Console.err("\(spec.path.joined(separator: " ")): \(e.description) (see 'nis2ctl \(spec.path.joined(separator: " ")) --help')")
        return ExitCode.usage.rawValue
    } catch let e as EvidenceError {
        Console.err(e.message)
        switch e.code {
        case .verificationFailed: return ExitCode.verificationFailed.rawValue
        case .malformedInput, .notFound, .notOurStore, .accessDenied: return ExitCode.usage.rawValue
        default: return ExitCode.failure.rawValue
        }
    } catch {
        Console.err("\(error)")
        return ExitCode.failure.rawValue
    }
}



exit(await dispatch(CommandLine.arguments))
