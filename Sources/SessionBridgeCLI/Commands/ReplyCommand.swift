import ArgumentParser
import SessionBridge

struct ReplyCommand: FastPathCommand {
    static let configuration = CommandConfiguration(
        commandName: "reply",
        abstract: "Answer a question this session received; the asker's `ask --wait` returns it.")

    @OptionGroup var session: SessionOptions

    @Argument(help: ArgumentHelp("The id of the question.", valueName: "MESSAGE_ID"))
    var messageID: String

    @OptionGroup var content: ContentOptions

    @Flag(name: .long, help: "Print the reply message as JSON.")
    var json = false

    var invocation: FastPath.Invocation {
        .reply(session: session.session, messageID: messageID, text: content.text, file: content.file, json: json)
    }

    func run() throws { try invocation.run() }

    /// The command's work, shared with the fast path.
    static func execute(session: String?, messageID: String, text: String?, file: String?, json: Bool) throws {
        try reportingErrors { () throws(BridgeError) in
            let bridge = try SessionOptions.bridge(session)
            let text = try ContentOptions.content(text: text, file: file, bridge)
            let answer = try bridge.messages.reply(to: messageID, content: text)
            if json { Output.json(answer) } else { Output.line("answered \(answer.toName) (reply \(answer.id))") }
        }
    }
}
