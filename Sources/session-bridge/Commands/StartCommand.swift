import ArgumentParser
import SessionBridge

struct StartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start",
        abstract: "Register this agent session on the bridge (or re-use the one already bound); prints its id last.")

    @OptionGroup var session: SessionOptions

    @Option(name: .long, help: ArgumentHelp("The name peers use to reach this session (default: the project folder's name, suffixed if taken).", valueName: "NAME"))
    var name: String?

    @Flag(name: .long, help: "Print the session as JSON.")
    var json = false

    func run() throws {
        try reportingErrors { () throws(BridgeError) in
            let bridge = try session.bridge()
            let result = try bridge.start(name: name)
            if json { Output.json(result.manifest); return }
            let m = result.manifest
            Output.line("\(result.reused ? "already registered" : "registered") as \(m.name) in \(m.projectPath)")
            Output.line("peers reach you with: session-bridge ask \(m.name) \"...\"")
            Output.line(m.id)
        }
    }
}
