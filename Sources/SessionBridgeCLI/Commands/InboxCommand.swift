import ArgumentParser
import SessionBridge

struct InboxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inbox",
        abstract: "List messages to this session without claiming them: pending ones, or with --all the history too.")

    @OptionGroup var session: SessionOptions

    @Flag(name: .long, help: "Include claimed and answered messages.")
    var all = false

    @Option(name: .long, help: ArgumentHelp("Keep only messages for which this jq program is true, e.g. '.type == \"query\"'.", valueName: "JQ"))
    var filter: String?

    @Flag(name: .long, help: "Print a JSON list of {box, message}.")
    var json = false

    func run() throws {
        try reportingErrors { () throws(BridgeError) in
            let bridge = try session.bridge()
            let compiled = try filter.map { (p: String) throws(BridgeError) -> JQProgram in try JQProgram(p) }
            let entries = try bridge.messages.inbox(all: all, filter: compiled)
            if json { Output.json(entries) } else { Output.line(Render.inbox(entries)) }
        }
    }
}
