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

    @Argument(help: ArgumentHelp("The hook event.", valueName: "EVENT"))
    var event: HookEvent

    var invocation: FastPath.Invocation { .hook(event) }

    func run() throws { try invocation.run() }
}

extension HookEvent: ExpressibleByArgument {}

/// Runs one hook event: reads stdin, calls the library, prints the outcome.
enum HookRunner {
    static func run(_ event: HookEvent) -> Hooks.Outcome {
        let input = (try? ContentSource.standardInput.bytes(limit: 64 << 20)) ?? []
        let environment = Environment.current()
        let outcome = Hooks.run(event: event, input: input, environment: environment)
        if let out = outcome.stdout { Output.line(out) }
        if let err = outcome.stderr { Output.write(2, err + "\n") }
        CrashPoint.reached("shown", 1)
        Hooks.acknowledge(outcome, environment: environment)
        return outcome
    }
}
