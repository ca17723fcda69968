@testable import SessionBridge

/// The hook entry points as the fuzzers see them. Re-point here when the hooks' API changes.
enum HookAdapter {
    /// The events, with the name Claude Code / Codex put in `hook_event_name`.
    static let events: [(cli: String, name: String)] = [
        ("pre-tool-use", "PreToolUse"), ("post-tool-use", "PostToolUse"), ("user-prompt-submit", "UserPromptSubmit"),
        ("stop", "Stop"), ("stop-background", "Stop"), ("session-end", "SessionEnd"), ("session-start", "SessionStart"),
    ]

    /// Runs one hook event in-process, as `session-bridge hook EVENT` does after reading stdin.
    static func run(_ event: String, input: [UInt8], environment: Environment) -> (stdout: String?, stderr: String?, exitCode: Int32) {
        let o: Hooks.Outcome
        switch event {
        case "pre-tool-use": o = Hooks.preToolUse(input: input, environment: environment)
        case "session-start": o = Hooks.sessionStart(input: input, environment: environment)
        case "post-tool-use": o = Hooks.deliverPending(event: "PostToolUse", input: input, environment: environment)
        case "user-prompt-submit": o = Hooks.deliverPending(event: "UserPromptSubmit", input: input, environment: environment)
        case "stop": o = Hooks.stop(input: input, environment: environment)
        case "stop-background": o = Hooks.stopBackground(input: input, environment: environment)
        case "session-end": o = Hooks.sessionEnd(input: input, environment: environment)
        default: return (nil, nil, 0)
        }
        return (o.stdout, o.stderr, o.exitCode)
    }

    /// The decoded hook input's session id (nil: not a hook input, or none).
    static func decodedSessionID(_ input: [UInt8]) -> String?? {
        guard let hook = try? HookInput(json: input) else { return .none }
        return .some(hook.sessionID)
    }

    /// The session id the hot path takes from the input without decoding it (no host variables set).
    static func fastSessionID(_ input: [UInt8]) -> String? {
        guard let identity = Hooks.identity(input: input, environment: Environment([:])) else { return nil }
        if case .codex(let thread) = identity.source { return thread }
        return nil
    }
}
