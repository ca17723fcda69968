@testable import SessionBridge

/// The hook entry points as the fuzzers see them. Re-point here when the hooks' API changes.
enum HookAdapter {
    /// The events, with the name Claude Code / Codex put in `hook_event_name`.
    /// In corpus order: the first byte of a saved input picks its event by this index.
    static let events: [(cli: String, name: String)] = [
        HookEvent.preToolUse, .postToolUse, .userPromptSubmit, .stop, .stopBackground, .sessionEnd, .sessionStart,
    ].map { ($0.rawValue, $0.runtimeName) }

    /// Runs one hook event in-process, as `session-bridge hook EVENT` does after reading stdin.
    static func run(_ event: String, input: [UInt8], environment: Environment) -> (stdout: String?, stderr: String?, exitCode: Int32) {
        guard let event = HookEvent(rawValue: event) else { return (nil, nil, 0) }
        let o = Hooks.run(event: event, input: input, environment: environment)
        Hooks.acknowledge(o, environment: environment)
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
