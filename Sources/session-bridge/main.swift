#if canImport(Glibc)
import Glibc
#endif

// Hooks run on every tool call: `hook EVENT` skips argument parsing.
let arguments = CommandLine.arguments
if arguments.count == 3, arguments[1] == "hook", HookCommand.Event(rawValue: arguments[2]) != nil {
    exit(HookRunner.run(arguments[2]).exitCode)
}
// ask, reply, listen and talk say in their plain forms skip the argument parser's set-up (see FastPath).
FastPath.runIfPlain(arguments)
// `talk`, `doctor`, `watch` and `launch` are parsed in roots of their own: in the main tree their many subcommands and
// options would cost every other command about 1.5 ms of argument parsing. Help, completions and anything unknown go
// to the whole tree, so they know every command.
if arguments.count >= 2 {
    switch arguments[1] {
    case "talk": TalkRoot.main(Array(arguments.dropFirst())); exit(0)
    case "doctor": DoctorRoot.main(Array(arguments.dropFirst())); exit(0)
    case "watch": WatchRoot.main(Array(arguments.dropFirst())); exit(0)
    case "launch": LaunchRoot.main(Array(arguments.dropFirst())); exit(0)
    case "ui": UIRoot.main(Array(arguments.dropFirst())); exit(0)
    default: break
    }
}
if arguments.count >= 2, SessionBridgeCommand.names.contains(arguments[1]) {
    SessionBridgeCommand.main()
} else {
    FullCommand.main()
}
