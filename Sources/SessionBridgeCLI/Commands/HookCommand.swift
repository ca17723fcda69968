import ArgumentParser
import SessionBridge

struct HookCommand: FastPathCommand {
    static let configuration = CommandConfiguration(
        commandName: "hook",
        abstract: "Entry point for the plugin's Claude Code / Codex hooks (reads the hook JSON on stdin).",
        discussion: """
        pre-tool-use         the guard: deny hand edits of the message store and talks folders
        session-start        register this agent session; one line of context when peers are live
        post-tool-use        inject pending peer messages (claimed once) into the model's context
        user-prompt-submit   the same, when the user sends a prompt
        stop                 foreground listening: wait for the next message and continue with it
        stop-background      background listening (asyncRewake): wake the model when a message arrives
        session-end          end the bridge session; peers are told
        A hook never fails the agent's action because of the bridge.
        """)

    enum Event: String, ExpressibleByArgument, CaseIterable {
        case preToolUse = "pre-tool-use"
        case sessionStart = "session-start"
        case postToolUse = "post-tool-use"
        case userPromptSubmit = "user-prompt-submit"
        case stop
        case stopBackground = "stop-background"
        case sessionEnd = "session-end"
    }

    @Argument(help: ArgumentHelp("The hook event.", valueName: "EVENT"))
    var event: Event

    var invocation: FastPath.Invocation { .hook(event) }

    func run() throws { try invocation.run() }
}

/// Runs one hook event: reads stdin, calls the library, prints the outcome.
enum HookRunner {
    static func run(_ event: String) -> Hooks.Outcome {
        let input = (try? ContentSource.standardInput.bytes(limit: 64 << 20)) ?? []
        let env = Environment.current()
        let outcome: Hooks.Outcome
        switch event {
        case "pre-tool-use": outcome = Hooks.preToolUse(input: input, environment: env)
        case "session-start": outcome = Hooks.sessionStart(input: input, environment: env)
        case "post-tool-use": outcome = Hooks.deliverPending(event: "PostToolUse", input: input, environment: env)
        case "user-prompt-submit": outcome = Hooks.deliverPending(event: "UserPromptSubmit", input: input, environment: env)
        case "stop": outcome = Hooks.stop(input: input, environment: env)
        case "stop-background": outcome = Hooks.stopBackground(input: input, environment: env)
        case "session-end": outcome = Hooks.sessionEnd(input: input, environment: env)
        default:
            Output.warning("unknown hook event '\(event)'")
            return .silent
        }
        if let out = outcome.stdout { Output.line(out) }
        if let err = outcome.stderr { Output.write(2, err + "\n") }
        return outcome
    }
}
