import ArgumentParser
import SessionBridge

struct ListenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "listen",
        abstract: "Wait for the next message to this session, claim it (exactly once) and print it with the reply command.",
        discussion: "Event-driven (inotify; polling on network file systems). Exits 10 with \"nothing yet, listen again\" when the timeout passes.")

    @OptionGroup var session: SessionOptions

    @Option(name: .long, help: ArgumentHelp("Give up after this many seconds (stays below Claude Code's 120 s Bash limit by default).", valueName: "SECONDS"))
    var timeout: Double = 90

    @Option(name: .long, help: ArgumentHelp("Only take messages for which this jq program is true, e.g. '.fromName == \"lib\"'.", valueName: "JQ"))
    var filter: String?

    @Flag(name: .long, help: "Print the message as JSON.")
    var json = false

    func run() throws {
        try reportingErrors { () throws(BridgeError) in
            let bridge = try session.bridge()
            let compiled = try filter.map { (p: String) throws(BridgeError) -> JQProgram in try JQProgram(p) }
            let delivery = try bridge.listen(timeoutSeconds: timeout, filter: compiled)
            for w in delivery.warnings { Output.warning(w) }
            if json { Output.json(delivery.message) } else { Output.line(Render.delivery(delivery.message, cli: bridge.config.cliPath)) }
        }
    }
}
