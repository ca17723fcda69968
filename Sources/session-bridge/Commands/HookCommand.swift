import ArgumentParser
import SessionBridge

struct HookCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hook",
        abstract: "Entry point for the plugin's Claude Code / Codex hooks (reads the hook JSON on stdin).",
        discussion: "Events: session-end. A hook never blocks the agent because of the bridge: problems go to stderr, exit 0.")

    enum Event: String, ExpressibleByArgument, CaseIterable {
        case sessionEnd = "session-end"
    }

    @Argument(help: ArgumentHelp("The hook event.", valueName: "EVENT"))
    var event: Event

    func run() throws {
        let bytes = (try? ContentSource.standardInput.bytes(limit: 8 << 20)) ?? []
        guard let input = try? HookInput(json: bytes) else {
            Output.warning("hook \(event.rawValue): the input is not hook JSON; nothing done")
            return
        }
        let output: String?
        switch event {
        case .sessionEnd: output = Hooks.sessionEnd(input: input, environment: .current())
        }
        if let output { Output.line(output) }
    }
}
