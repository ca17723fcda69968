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
        try reportingOutcome { () throws(BridgeError) -> Ending in
            let bridge = try session.bridge()
            return try Self.show(try bridge.messages.waitForReply(to: messageID, timeoutSeconds: timeout), to: messageID, timeout: timeout,
                                 json: json, bridge)
        }
    }

    /// Prints the answer, or says how the wait ended (10 not seen, 11 seen and not answered); an ended peer is an
    /// error (5).
    static func show(_ outcome: MessageService.AwaitOutcome, to messageID: String, timeout: Double, json: Bool, _ bridge: Bridge)
        throws(BridgeError) -> Ending {
        switch outcome {
        case .answered(let answer):
            if json { Output.json(answer) } else { Output.line(Render.delivery(answer, cli: bridge.config.cliPath)) }
            return .success
        case .peerEnded(let name):
            throw .peerEnded(name)
        case .timedOut(let name, let seen, let seenAt):
            return .replyTimedOut(peer: name, messageID: messageID, seen: seen, seenAt: seenAt, seconds: timeout)
        }
    }
}
