import ArgumentParser
import SessionBridge

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show this session, its peers and inbox counts; or one message's life (sent, seen, answered, expired).")

    @OptionGroup var session: SessionOptions

    @Argument(help: ArgumentHelp("A message id to trace.", valueName: "MESSAGE_ID"))
    var messageID: String?

    @Flag(name: .long, help: "Print as JSON.")
    var json = false

    func run() throws {
        try reportingErrors { () throws(BridgeError) in
            let bridge = try session.bridge()
            if let messageID {
                let s = try bridge.status.messageStatus(messageID)
                if json { Output.json(s) } else { Output.line(Render.messageStatus(s)) }
            } else {
                let s = try bridge.status.status()
                if json { Output.json(s) } else { Output.line(Render.status(s)) }
            }
        }
    }
}
