import ArgumentParser
import SessionBridge

struct SessionBridgeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "session-bridge",
        abstract: "Lets separate AI coding-agent sessions (Claude Code, Codex) ask each other questions.",
        discussion: """
        Messages are JSON files under $SESSION_BRIDGE_HOME (default ~/.claude/session-bridge).
        Inside Claude Code a session is identified by CLAUDE_CODE_SESSION_ID; elsewhere pass --session KEY
        or set SESSION_BRIDGE_SESSION=KEY.

        Exit codes: 0 ok, 1 unexpected failure, 3 no identity, 4 unknown peer or message, 5 peer ended,
        6 invalid input, 7 bad jq filter, 8 insecure store, 9 storage failure (disk full, read-only),
        10 timed out (nothing arrived / not seen), 11 timed out (seen, not answered), 12 conflict,
        13 doctor found problems, 14 the talk is closed, 64 usage.

        Also:
          talk      multi-turn conversations with enforced turn-taking (session-bridge talk --help)
          doctor    check and repair the message store and the talks (session-bridge doctor --help)
          launch    start an agent CLI in this tmux pane, bound to an alias (session-bridge launch --help)
          watch     wake launched sessions in tmux when a message or a turn waits (session-bridge watch --help)
        """,
        version: "0.1.0",
        subcommands: [
            StartCommand.self, ConnectCommand.self, PeersCommand.self, AskCommand.self, AwaitCommand.self,
            ListenCommand.self, ReplyCommand.self, StatusCommand.self, InboxCommand.self, StopCommand.self,
            GCCommand.self, HookCommand.self,
        ]
    )
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
        return try bridge.validateContent(source.bytes(limit: bridge.config.maxMessageBytes))
    }
}

/// Runs a command body, turning a `BridgeError` into its one-line message and documented exit code.
func reportingErrors(_ body: () throws(BridgeError) -> Void) throws {
    do {
        try body()
    } catch {
        switch error {
        case .timedOut, .seenNotAnswered, .talkClosed, .problemsFound: Output.notice(error.message)
        default: Output.error(error.message)
        }
        throw ExitCode(error.exitCode)
    }
}
