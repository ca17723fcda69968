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
            let answer = try Self.answer(try bridge.waitForReply(to: messageID, timeoutSeconds: timeout), to: messageID, timeout: timeout, bridge)
            if json { Output.json(answer) } else { Output.line(Render.delivery(answer, cli: bridge.config.cliPath)) }
        }
    }

    /// The answer, or the exit a timeout or an ended peer means (10 not seen, 11 seen and not answered, 5 ended).
    static func answer(_ outcome: Bridge.AwaitOutcome, to messageID: String, timeout: Double, _ bridge: Bridge) throws(BridgeError) -> Message {
        switch outcome {
        case .answered(let m): return m
        case .peerEnded(let name): throw .peerEnded(name)
        case .timedOut(let name, let seen, let seenAt):
            throw bridge.awaitTimeout(messageID: messageID, peerName: name, seen: seen, seenAt: seenAt, seconds: timeout)
        }
    }
}
