#if canImport(Glibc)
import Glibc
#endif

// Hooks run on every tool call: `hook EVENT` skips argument parsing.
let arguments = CommandLine.arguments
if arguments.count == 3, arguments[1] == "hook", HookCommand.Event(rawValue: arguments[2]) != nil {
    exit(HookRunner.run(arguments[2]).exitCode)
}
SessionBridgeCommand.main()
