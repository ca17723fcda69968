import ArgumentParser
import SessionBridge

/// The main command tree without the command groups (talk, doctor, watch, launch), which `CLI.root` dispatches to
/// roots of their own: their many subcommands and options would cost every other command about 1.5 ms of parsing.
struct SessionBridgeCommand: ParsableCommand {
    static let abstract = "Lets separate AI coding-agent sessions (Claude Code, Codex) and people in their terminals ask each other questions and hold multi-turn talks."

    /// Paragraphs are single lines, so the parser wraps them cleanly at any width; list lines stay under 80 columns.
    static let discussion = """
        Messages are JSON files under $SESSION_BRIDGE_HOME (default ~/.claude/session-bridge). A command acts as a bridge session: this Claude Code or Codex session, this terminal once `start` has run in it, or the session given by --session ID or $SESSION_BRIDGE_SESSION.

        Exit codes:
          0  success                         9  storage failure (disk full, read-only)
          1  unexpected failure             10  timed out: nothing arrived, or not seen
          3  no bridge session here         11  timed out: seen, not answered yet
          4  unknown peer or message        12  conflict (answered, not your turn, ...)
          5  the peer has ended             13  doctor found problems
          6  invalid input                  14  the talk is closed
          7  bad jq filter                  64  usage error
          8  insecure store
        """

    static let version = "0.1.0"

    /// The commands of this tree; `FullCommand` adds the groups.
    static let commands: [ParsableCommand.Type] = [
        StartCommand.self, ConnectCommand.self, PeersCommand.self, AskCommand.self, AwaitCommand.self,
        ListenCommand.self, ReplyCommand.self, StatusCommand.self, InboxCommand.self, StopCommand.self,
        GCCommand.self, HookCommand.self, ReserveCommand.self, ReleaseCommand.self, ReservationsCommand.self,
    ]

    /// The names `CLI.root` sends to this tree.
    static let names = ["start", "connect", "peers", "ask", "await", "listen", "reply", "status", "inbox", "stop", "gc", "hook", "reserve", "release", "reservations"]

    static let configuration = CommandConfiguration(
        commandName: "session-bridge", abstract: abstract, discussion: discussion, version: version, subcommands: commands)
}

/// Every command, the groups included: top-level help, `help COMMAND`, shell completions and unknown commands.
struct FullCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "session-bridge", abstract: SessionBridgeCommand.abstract, discussion: SessionBridgeCommand.discussion,
        version: SessionBridgeCommand.version,
        subcommands: SessionBridgeCommand.commands.filter { $0 != HookCommand.self }
            + [TalkCommand.self, DoctorCommand.self, LaunchCommand.self, WatchCommand.self, UICommand.self, HookCommand.self])
}

/// One command group under a root named `session-bridge`, so its usage and errors read `session-bridge talk …` while
/// parsing stays as small as the group.
struct TalkRoot: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "session-bridge", version: SessionBridgeCommand.version,
                                                    subcommands: [TalkCommand.self])
}

struct DoctorRoot: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "session-bridge", version: SessionBridgeCommand.version,
                                                    subcommands: [DoctorCommand.self])
}

struct WatchRoot: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "session-bridge", version: SessionBridgeCommand.version,
                                                    subcommands: [WatchCommand.self])
}

struct LaunchRoot: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "session-bridge", version: SessionBridgeCommand.version,
                                                    subcommands: [LaunchCommand.self])
}

/// Options every command that acts as a session shares.
struct SessionOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Act as this bridge session (an id, or any key to bind one to). Default: $SESSION_BRIDGE_SESSION, then the Claude Code or Codex session.", valueName: "ID"))
    var session: String?

    func bridge() throws(BridgeError) -> Bridge { try Self.bridge(session) }

    static func bridge(_ session: String?) throws(BridgeError) -> Bridge {
        try Bridge.open(environment: .current(), sessionOverride: session, argv0: CommandLine.arguments.first ?? "session-bridge")
    }
}

/// The text of a message: an argument, `-` for stdin, or `--file`.
struct ContentOptions: ParsableArguments {
    @Argument(help: ArgumentHelp("The message text, or - to read it from standard input (the default when no text and no --file is given).", valueName: "TEXT"))
    var text: String?

    @Option(name: .long, help: ArgumentHelp("Read the message text from this file.", valueName: "PATH"))
    var file: String?

    func content(_ bridge: Bridge) throws(BridgeError) -> String { try Self.content(text: text, file: file, bridge) }

    static func content(text: String?, file: String?, _ bridge: Bridge) throws(BridgeError) -> String {
        let source = try ContentSource.from(text: text, file: file)
        return try bridge.messages.validateContent(source.bytes(limit: bridge.config.maxMessageBytes))
    }
}
