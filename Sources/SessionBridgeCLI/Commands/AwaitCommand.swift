import ArgumentParser
import SessionBridge

struct AwaitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "await",
        abstract: "Wait for the answer to a question this session sent earlier (after `ask` without --wait, or a timeout).",
        discussion: "Exits 10 when the peer has not seen the question yet, 11 when it has seen it but not answered.")

    @OptionGroup var session: SessionOptions

    @Argument(help: ArgumentHelp("The id `ask` printed.", valueName: "MESSAGE_ID"))
    var messageID: String

    @Option(name: .long, help: ArgumentHelp("Seconds to wait.", valueName: "SECONDS"))
    var timeout: Double = 90

    @Flag(name: .long, help: "Print the answer as JSON.")
    var json = false

    func run() throws {
        try reportingErrors { () throws(BridgeError) in
            let bridge = try session.bridge()
            let answer = try bridge.awaitReply(to: messageID, timeoutSeconds: timeout)
            if json { Output.json(answer) } else { Output.line(Render.delivery(answer, cli: bridge.config.cliPath)) }
        }
    }
}
