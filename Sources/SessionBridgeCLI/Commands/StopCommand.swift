import ArgumentParser
import SessionBridge

struct StopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop",
        abstract: "End this session: connected peers get a session-ended message; the history stays until `gc`.")

    @OptionGroup var session: SessionOptions

    @Flag(name: .long, help: "Print the result as JSON.")
    var json = false

    func run() throws {
        try reportingErrors { () throws(BridgeError) in
            let bridge = try session.bridge()
            let r = try bridge.sessions.stop()
            if json { Output.json(r); return }
            Output.line("ended \(r.session.name) (\(r.session.id))" + (r.notified.isEmpty ? "" : "; told \(r.notified.joined(separator: ", "))"))
        }
    }
}

struct GCCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Delete ended sessions (and their history) older than an age.")

    @OptionGroup var session: SessionOptions

    @Option(name: .long, help: ArgumentHelp("Age in days (fractions allowed).", valueName: "DAYS"))
    var olderThan: Double = 7

    @Flag(name: .long, help: "Print the removed ids as JSON.")
    var json = false

    func run() throws {
        try reportingErrors { () throws(BridgeError) in
            let bridge = try session.bridge()
            let removed = try bridge.sessions.collectGarbage(olderThanSeconds: Int(olderThan * 86400))
            if json { Output.json(removed) } else { Output.line("removed \(removed.count) ended session(s)") }
        }
    }
}
