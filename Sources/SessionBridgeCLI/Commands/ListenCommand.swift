import ArgumentParser
import SessionBridge

struct ListenCommand: FastPathCommand {
    static let configuration = CommandConfiguration(
        commandName: "listen",
        abstract: "Wait for the next message to this session, claim it (exactly once) and print it with the reply command.",
        discussion: "Event-driven (inotify; polling on network file systems). Exits 10 with \"nothing yet, listen again\" when the timeout passes.")

    @OptionGroup var session: SessionOptions

    @Option(name: .long, help: ArgumentHelp("Give up after this many seconds (stays below Claude Code's 120 s Bash limit by default).", valueName: "SECONDS"))
    var timeout: Double = Self.defaultTimeout

    static let defaultTimeout: Double = 90

    @Option(name: .long, help: ArgumentHelp("Only take messages for which this jq program is true, e.g. '.fromName == \"lib\"'.", valueName: "JQ"))
    var filter: String?

    @Flag(name: .long, help: "Print the message as JSON.")
    var json = false

    @Flag(name: .long, help: "Listen between turns through a synchronous Stop hook: each message continues the session. Returns at once.")
    var foreground = false

    @Flag(name: .long, help: "Listen in the background (asyncRewake Stop hook): a message wakes the idle session while the user keeps working. Returns at once.")
    var background = false

    @Flag(name: .long, help: "Turn listening between turns off.")
    var off = false

    var invocation: FastPath.Invocation {
        .listen(session: session.session, timeout: timeout, filter: filter, json: json,
                foreground: foreground, background: background, off: off)
    }

    func run() throws { try invocation.run() }

    /// The command's work, shared with the fast path.
    static func execute(session: String?, timeout: Double, filter: String?, json: Bool, foreground: Bool, background: Bool, off: Bool) throws {
        try reportingOutcome { () throws(BridgeError) -> Ending in
            let bridge = try SessionOptions.bridge(session)
            if foreground || background || off {
                guard [foreground, background, off].filter({ $0 }).count == 1 else {
                    throw BridgeError.invalidInput(.listenModes)
                }
                let mode: ListenMode? = off ? nil : (background ? .background : .foreground)
                let me = try bridge.sessions.setListenMode(mode)
                switch mode {
                case .foreground?:
                    Output.line("\(me.name) listens in the foreground: end your turn; each peer message continues this session (off: `\(bridge.config.helper.command("listen --off"))`)")
                case .background?:
                    Output.line("\(me.name) listens in the background: a peer message wakes this session when it is idle (off: `\(bridge.config.helper.command("listen --off"))`)")
                case nil:
                    Output.line("\(me.name) stopped listening between turns")
                }
                return .success
            }
            let compiled = try filter.map { (p: String) throws(BridgeError) -> JQProgram in
                try JQProgram(p, limits: .timeout(timeout, command: "listen --timeout"))
            }
            guard case .delivered(let delivery) = try bridge.messages.nextMessage(timeoutSeconds: timeout, filter: compiled) else {
                return .nothingArrived
            }
            for w in delivery.warnings { Output.warning(w) }
            if json { Output.json(delivery.message) } else { Output.line(Render.delivery(delivery.message, cli: bridge.config.cliPath)) }
            CrashPoint.reached("shown", 1)
            bridge.messages.acknowledge(delivery.session, [delivery.message])
            return .success
        }
    }
}
