#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser

/// The command line as a library: the `session-bridge` executable only calls `CLI.main`, and tests parse and run
/// commands in process through the same dispatch.
package enum CLI {
    /// Runs the command `arguments` (the full argv, program name first) names, and exits.
    package static func main(_ arguments: [String]) -> Never {
        TransportNotice.printIfNeeded(arguments)
        // ask, reply, listen, talk say and `hook EVENT` in their plain forms skip the argument parser's set-up.
        FastPath.runIfPlain(arguments)
        root(for: arguments).main(Array(arguments.dropFirst()))
        exit(0)
    }

    /// The command tree that parses `arguments`. `talk`, `doctor`, `watch`, `launch` and `ui` are parsed in roots of their
    /// own: in the main tree their many subcommands and options would cost every other command about 1.5 ms of
    /// argument parsing. Help, completions and anything unknown go to the whole tree, so they know every command.
    static func root(for arguments: [String]) -> ParsableCommand.Type {
        guard arguments.count >= 2 else { return FullCommand.self }
        switch arguments[1] {
        case "talk": return TalkRoot.self
        case "doctor": return DoctorRoot.self
        case "watch": return WatchRoot.self
        case "launch": return LaunchRoot.self
        case "ui": return UIRoot.self
        case let name where SessionBridgeCommand.names.contains(name): return SessionBridgeCommand.self
        default: return FullCommand.self
        }
    }
}
