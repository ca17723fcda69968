import ArgumentParser
import SessionBridge

struct ConnectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connect",
        abstract: "Ping a peer (by id or name) and remember it as connected; it is told when this session stops.")

    @OptionGroup var session: SessionOptions

    @Argument(help: ArgumentHelp("The peer's id or name.", valueName: "PEER"))
    var peer: String

    @Option(name: .long, help: ArgumentHelp("Seconds to wait for the pong.", valueName: "SECONDS"))
    var wait: Double = 2

    @Flag(name: .long, help: "Print the result as JSON.")
    var json = false

    struct Result: Encodable {
        var peer: String
        var peerName: String
        var ping: String
        var answered: Bool
    }

    func run() throws {
        try reportingErrors { () throws(BridgeError) in
            let bridge = try session.bridge()
            let r = try bridge.sessions.connect(peer, waitSeconds: wait)
            if json {
                Output.json(Result(peer: r.peer.id, peerName: r.peer.name, ping: r.ping.id, answered: r.pong != nil))
                return
            }
            if r.pong != nil {
                Output.line("connected to \(r.peer.name) (\(r.peer.id)): it answered the ping")
            } else {
                Output.line("connected to \(r.peer.name) (\(r.peer.id)): ping sent; it is not listening right now and will answer when it does")
            }
        }
    }
}
