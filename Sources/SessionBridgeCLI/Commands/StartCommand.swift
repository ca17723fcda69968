import ArgumentParser
import SessionBridge

struct StartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start",
        abstract: "Register this agent session or terminal on the bridge (or re-use the one already bound); prints its id last.")

    @OptionGroup var session: SessionOptions

    @Option(name: .long, help: ArgumentHelp("The name peers use to reach this session (default: the project folder's name, suffixed if taken).", valueName: "NAME"))
    var name: String?

    @Flag(name: .long, help: "Print the session as JSON.")
    var json = false

    func run() throws {
        try reportingErrors { () throws(BridgeError) in
            let bridge = try session.bridge()
            let result = try bridge.sessions.start(name: name)
            if json { Output.json(result.manifest); return }
            let m = result.manifest
            Output.line("\(result.reused ? "already registered" : "registered") as \(m.name) in \(m.projectPath)")
            Output.line("peers reach you with: " + HelperName.forAgents.command("ask \(m.name) \"...\""))
            if result.needsKey {
                // Nothing else identifies this caller: later commands must carry the id.
                Output.line("no terminal or agent session identifies this process; before later commands run:")
                Output.line("export SESSION_BRIDGE_SESSION=\(m.id)")
            } else if case .terminal? = bridge.identity?.source, !result.reused {
                Output.line("bound to this terminal: later commands typed here act as \(m.name), with no variable to set")
            }
            Output.line(m.id)
        }
    }
}
