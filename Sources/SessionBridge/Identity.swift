/// Who "this session" is, from the runtime: an explicit `--session` / `SESSION_BRIDGE_SESSION` first, then Claude
/// Code's `CLAUDE_CODE_SESSION_ID` (set in every Bash tool call and hook), then Codex's thread id. Two agent sessions
/// in one project folder have different runtime ids, so they get different bridge sessions.
public struct Identity: Sendable, Equatable {
    public enum Source: Sendable, Equatable {
        /// `--session` or `SESSION_BRIDGE_SESSION`: a bridge id, or any key to bind a session to.
        case explicit(String)
        case claudeCode(sessionID: String)
        case codex(threadID: String)
    }

    public var source: Source

    /// The binding key stored in `bindings/`.
    public var bindingKey: String {
        switch source {
        case .explicit(let v): return "key:" + v
        case .claudeCode(let s): return "claude:" + s
        case .codex(let t): return "codex:" + t
        }
    }

    public var agent: String {
        switch source {
        case .explicit: return "cli"
        case .claudeCode: return "claude-code"
        case .codex: return "codex"
        }
    }

    public static func resolve(override: String?, environment: Environment) -> Identity? {
        if let v = override ?? environment["SESSION_BRIDGE_SESSION"] { return Identity(source: .explicit(v)) }
        if let s = environment["CLAUDE_CODE_SESSION_ID"] { return Identity(source: .claudeCode(sessionID: s)) }
        if let t = environment["CODEX_THREAD_ID"] ?? environment["CODEX_SESSION_ID"] { return Identity(source: .codex(threadID: t)) }
        return nil
    }

    /// The process whose life is the session's life: Claude Code's `CLAUDE_PID`, an explicit
    /// `SESSION_BRIDGE_PID`, the nearest `claude` / `codex` ancestor, or else the calling shell.
    public static func owningProcess(environment: Environment) -> Int32 {
        if let p = environment["SESSION_BRIDGE_PID"].flatMap({ Int32($0) }) { return p }
        if let p = environment["CLAUDE_PID"].flatMap({ Int32($0) }) { return p }
        var pid = Processes.parentPID()
        for _ in 0..<12 {
            guard pid > 1, let stat = try? FileSystem.readString("/proc/\(pid)/stat", limit: 4096),
                  let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")") else { break }
            let comm = stat[stat.index(after: open)..<close]
            if comm == "claude" || comm == "codex" || comm.hasPrefix("codex-") { return pid }
            let rest = stat[stat.index(after: close)...].split(separator: " ")
            guard rest.count > 1, let parent = Int32(rest[1]) else { break }
            pid = parent
        }
        return Processes.parentPID()
    }
}
