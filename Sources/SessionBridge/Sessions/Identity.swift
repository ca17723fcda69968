/// Who "this session" is, from the runtime: an explicit `--session` / `SESSION_BRIDGE_SESSION` first, then Claude
/// Code's `CLAUDE_CODE_SESSION_ID` (set in every Bash tool call and hook), then Codex's thread id, then (outside agent
/// sessions) the person's terminal. Two agent sessions in one project folder have different runtime ids, so they get
/// different bridge sessions.
package struct Identity: Sendable, Equatable {
    package enum Source: Sendable, Equatable {
        /// `--session` or `SESSION_BRIDGE_SESSION`: a bridge id, or any key to bind a session to.
        case explicit(String)
        case claudeCode(sessionID: String)
        case codex(threadID: String)
        /// A person's terminal (see `TerminalID`). It binds only through `start`: other commands never register it.
        case terminal(TerminalID)
    }

    package var source: Source

    /// The binding key stored in `bindings/`.
    package var bindingKey: String {
        switch source {
        case .explicit(let v): return "key:" + v
        case .claudeCode(let s): return "claude:" + s
        case .codex(let t): return "codex:" + t
        case .terminal(let t): return "terminal:" + t.key
        }
    }

    package var agent: String {
        switch source {
        case .explicit: return "cli"
        case .claudeCode: return "claude-code"
        case .codex: return "codex"
        case .terminal: return "terminal"
        }
    }

    package static func resolve(override: String?, environment: Environment) -> Identity? {
        if let v = override ?? environment["SESSION_BRIDGE_SESSION"] { return Identity(source: .explicit(v)) }
        if let s = environment["CLAUDE_CODE_SESSION_ID"] { return Identity(source: .claudeCode(sessionID: s)) }
        if let t = environment["CODEX_THREAD_ID"] ?? environment["CODEX_SESSION_ID"] { return Identity(source: .codex(threadID: t)) }
        // The terminal is the process's own: read only for the real environment, never inside an agent session.
        if environment.isProcess, !HelperName.isAgentSession(environment), let t = TerminalID.current() {
            return Identity(source: .terminal(t))
        }
        return nil
    }

    /// Where a command without a bridge session runs, for advice that fits.
    package enum Situation: Sendable, Equatable {
        case agentSession
        case terminal
        /// No terminal and no key: a script, a service, a pipe from another program.
        case script
    }

    package static func situation(environment: Environment) -> Situation {
        if HelperName.isAgentSession(environment) { return .agentSession }
        if environment.isProcess, TerminalID.current() != nil { return .terminal }
        return .script
    }

    /// What to do when a command needs a bridge session and none is bound, in the words of the situation.
    package static func noSessionAdvice(_ situation: Situation, helper: HelperName) -> String {
        switch situation {
        case .agentSession:
            return "this agent session is not on the bridge yet: run `\(helper.command("start"))` "
                + "(or `\(helper.command("start --name NAME"))`) first; to act as another session, pass --session ID "
                + "or set SESSION_BRIDGE_SESSION=ID"
        case .terminal:
            return "this terminal has no bridge session yet: run `\(helper.command("start --name NAME"))` in it; "
                + "later commands in this terminal then act as that session, with no variable to set (to act as another "
                + "session, pass --session ID or set SESSION_BRIDGE_SESSION=ID)"
        case .script:
            return "no bridge session: this process has neither a terminal nor a session key. Run "
                + "`\(helper.command("start --name NAME"))`: it prints the session's id and the exact "
                + "`export SESSION_BRIDGE_SESSION=ID` line to use (or pass --session ID to each command)"
        }
    }

    /// The process whose life is this identity's session: a terminal's session leader, else `owningProcess`.
    package func owningProcess(environment: Environment) -> Int32 {
        if case .terminal(let t) = source, environment["SESSION_BRIDGE_PID"] == nil { return t.leader }
        return Identity.owningProcess(environment: environment)
    }

    /// The process whose life is the session's life: Claude Code's `CLAUDE_PID`, an explicit
    /// `SESSION_BRIDGE_PID`, the nearest `claude` / `codex` ancestor, or else the calling shell.
    package static func owningProcess(environment: Environment) -> Int32 {
        if let p = environment["SESSION_BRIDGE_PID"].flatMap({ Int32($0) }) { return p }
        if let p = environment["CLAUDE_PID"].flatMap({ Int32($0) }) { return p }
        var pid = Processes.parentPID()
        for _ in 0..<12 {
            guard pid > 1, let stat = Processes.stat(pid) else { break }
            if stat.name == "claude" || stat.name == "codex" || stat.name.hasPrefix("codex-") { return pid }
            pid = stat.parent
        }
        return Processes.parentPID()
    }
}

/// A person's terminal: its controlling tty and the session leader the terminal (or tmux pane) started, usually the
/// login shell, with that process's start time. It survives `cd`, subshells, nested shells and scripts run from
/// the terminal (all share the leader); a new tab or pane has a new leader, so it is another terminal; when the
/// terminal closes, the leader exits and the bound session goes stale.
package struct TerminalID: Sendable, Equatable {
    /// The controlling tty's device number (`tty_nr` in /proc/PID/stat).
    package var device: UInt64
    /// The session leader's pid (the process's session id).
    package var leader: Int32
    /// The leader's start time in clock ticks since boot: a reused pid is another terminal.
    package var leaderStart: UInt64

    package init(device: UInt64, leader: Int32, leaderStart: UInt64) {
        self.device = device
        self.leader = leader
        self.leaderStart = leaderStart
    }

    /// The binding key: `tty<device>-<leader pid>-<start>`.
    package var key: String { "tty\(device)-\(leader)-\(leaderStart)" }
}
