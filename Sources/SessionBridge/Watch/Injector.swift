/// Types a prompt into a session's terminal, as if a person typed it.
public protocol Injector {
    /// Whether the target can take input now: its pane exists and runs the bound agent.
    func check(_ target: WatchTarget) -> TargetHealth
    func inject(_ text: String, into target: WatchTarget) throws(BridgeError)
}

public enum TargetHealth: Equatable, Sendable {
    case ready
    /// The pane is gone (or the tmux server is).
    case dead(String)
    /// The pane exists but something else runs in the foreground: never type there.
    case busyWithOther(String)
}

/// tmux: `send-keys -l` to the exact pane (`%N`) on the recorded server socket, then Enter.
public struct TmuxInjector: Injector {
    public init() {}

    func tmux(_ target: WatchTarget, _ args: [String]) -> ChildProcess.Result {
        ChildProcess.run(["tmux", "-S", target.socket] + args)
    }

    public func check(_ target: WatchTarget) -> TargetHealth {
        let r = tmux(target, ["display-message", "-p", "-t", target.pane, "#{pane_id} #{pane_dead} #{pane_pid} #{pane_current_command}"])
        guard r.status == 0 else { return .dead("pane \(target.pane) does not exist on \(target.socket)") }
        let parts = r.stdout.trimmed(" \n").split(separator: " ", maxSplits: 3).map(String.init)
        guard parts.count == 4, parts[0] == target.pane else { return .dead("pane \(target.pane) does not exist on \(target.socket)") }
        if parts[1] == "1" { return .dead("pane \(target.pane) is dead") }
        guard Processes.isSameProcessAlive(pid: target.pid, startTime: target.pidStartTime) else {
            return .dead("the agent bound to \(target.alias) (pid \(target.pid)) has exited")
        }
        // Typed keys go to the terminal's foreground process group: it must be the agent's (a suspended or
        // backgrounded agent, or a shell or pager in front of it, must not receive a prompt).
        let foreground = parts[3]
        switch Processes.ownsTerminalForeground(target.pid) {
        case .some(false):
            return .busyWithOther("pane \(target.pane) runs '\(foreground)' in the foreground, not the bound agent '\(target.command)'")
        case .none where foreground != target.command:
            return .busyWithOther("pane \(target.pane) runs '\(foreground)', not the bound agent '\(target.command)'")
        default: break
        }
        return .ready
    }

    public func inject(_ text: String, into target: WatchTarget) throws(BridgeError) {
        let typed = tmux(target, ["send-keys", "-t", target.pane, "-l", text])
        guard typed.status == 0 else { throw .io("tmux send-keys to \(target.pane) failed: \(typed.stderr.trimmed(" \n"))") }
        let enter = tmux(target, ["send-keys", "-t", target.pane, "Enter"])
        guard enter.status == 0 else { throw .io("tmux send-keys Enter to \(target.pane) failed") }
    }
}

/// `inject_method: none`: the watcher only reports what it would type.
public struct NoInjector: Injector {
    public init() {}
    public func check(_ target: WatchTarget) -> TargetHealth { .ready }
    public func inject(_ text: String, into target: WatchTarget) throws(BridgeError) {}
}

// Windows Terminal (SendKeys to a window found by its OSC title marker) would be another Injector; it cannot be
// built or tested on Linux and is not supported yet.
