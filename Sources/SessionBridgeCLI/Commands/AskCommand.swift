import ArgumentParser
import SessionBridge

struct AskCommand: FastPathCommand {
    static let configuration = CommandConfiguration(
        commandName: "ask",
        abstract: "Send a question to a peer. Prints the message id, or with --wait blocks and prints the answer.",
        discussion: "On timeout --wait exits 10 when the peer has not seen the question, 11 when it has seen it but not answered.")

    @OptionGroup var session: SessionOptions

    @Argument(help: ArgumentHelp("The peer's id or name.", valueName: "PEER"))
    var peer: String

    @OptionGroup var content: ContentOptions

    @Option(name: .long, help: ArgumentHelp("Wait up to this many seconds for the answer and print it.", valueName: "SECONDS"))
    var wait: Double?

    @Flag(name: .long, help: "Print the message (or the answer) as JSON.")
    var json = false

    var invocation: FastPath.Invocation {
        .ask(session: session.session, peer: peer, text: content.text, file: content.file, wait: wait, json: json)
    }

    func run() throws { try invocation.run() }

    /// The command's work, shared with the fast path.
    static func execute(session: String?, peer: String, text: String?, file: String?, wait: Double?, json: Bool) throws {
        try reportingOutcome { () throws(BridgeError) -> Ending in
            let bridge = try SessionOptions.bridge(session)
            let text = try ContentOptions.content(text: text, file: file, bridge)
            let question = try bridge.messages.ask(peer, content: text, willAwait: wait != nil)
            if let wait {
                if !json { Output.line("asked \(question.toName) (message \(question.id)); waiting up to \(Int(wait)) s…") }
                return try AwaitCommand.show(try bridge.messages.waitForReply(to: question.id, timeoutSeconds: wait), to: question.id,
                                             timeout: wait, json: json, bridge)
            }
            if json { Output.json(question) } else { Output.line(question.id) }
            return .success
        }
    }
}
