import ArgumentParser
import SessionBridge

struct PeersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peers",
        abstract: "List bridge sessions: name, id, state (active, idle, stale, ended), last seen, and which one is you.")

    @OptionGroup var session: SessionOptions

    @Flag(name: .long, help: "Print a JSON list of {id, name, projectPath, lastSeen, state, you, ...}.")
    var json = false

    @Option(name: .long, help: ArgumentHelp("Keep only peers for which this jq program is true, e.g. '.state == \"active\"'.", valueName: "JQ"))
    var filter: String?

    @Flag(name: .long, help: "Include ended sessions.")
    var all = false

    func run() throws {
        try reportingErrors { () throws(BridgeError) in
            let bridge = try session.bridge()
            let compiled = try filter.map { (p: String) throws(BridgeError) -> JQProgram in try JQProgram(p) }
            var rows = try bridge.sessions.peers(includeEnded: all || filter != nil)
            if let compiled {
                var kept: [SessionService.PeerInfo] = []
                for r in rows where try compiled.matches(json: JSONCoding.string(r)) { kept.append(r) }
                rows = kept
            }
            if json { Output.json(rows) } else { Output.line(Render.peers(rows)) }
        }
    }
}
