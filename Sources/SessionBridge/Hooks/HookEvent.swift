/// The hook events the plugin registers, named as `session-bridge hook EVENT` takes them.
package enum HookEvent: String, CaseIterable, Sendable {
    case preToolUse = "pre-tool-use"
    case sessionStart = "session-start"
    case postToolUse = "post-tool-use"
    case userPromptSubmit = "user-prompt-submit"
    case stop
    case stopBackground = "stop-background"
    case sessionEnd = "session-end"

    /// The name Claude Code / Codex put in the input's `hook_event_name`.
    package var runtimeName: String {
        switch self {
        case .preToolUse: return "PreToolUse"
        case .sessionStart: return "SessionStart"
        case .postToolUse: return "PostToolUse"
        case .userPromptSubmit: return "UserPromptSubmit"
        case .stop, .stopBackground: return "Stop"
        case .sessionEnd: return "SessionEnd"
        }
    }
}

extension Hooks {
    /// Runs one hook event on its input (the hook's stdin): the one entry the CLI and the fuzzers share.
    package static func run(event: HookEvent, input: [UInt8], environment: Environment) -> Outcome {
        switch event {
        case .preToolUse: return preToolUse(input: input, environment: environment)
        case .sessionStart: return sessionStart(input: input, environment: environment)
        case .postToolUse, .userPromptSubmit: return deliverPending(event: event.runtimeName, input: input, environment: environment)
        case .stop: return stop(input: input, environment: environment)
        case .stopBackground: return stopBackground(input: input, environment: environment)
        case .sessionEnd: return sessionEnd(input: input, environment: environment)
        }
    }
}
