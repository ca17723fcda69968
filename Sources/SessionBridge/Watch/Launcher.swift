/// `session-bridge launch`: binds an alias to the terminal pane an agent CLI is about to run in. Only a person
/// launching a session may bind; an agent cannot bind itself, so no session can redirect another's prompts.
package enum Launcher {
    /// Environment variables that show the caller is an agent session.
    static let agentMarkers = ["CLAUDECODE", "CLAUDE_CODE_SESSION_ID", "CODEX_THREAD_ID", "CODEX_SANDBOX"]

    /// The caller's tmux server socket and pane, after refusing agents and checking the arguments.
    static func context(alias: String, command: [String], environment: Environment) throws(BridgeError) -> (socket: String, pane: String) {
        guard Identifiers.isValidName(alias) else { throw .invalidName(Identifiers.printable(alias)) }
        if let marker = agentMarkers.first(where: { environment[$0] != nil }) {
            throw .conflict(.launchInsideAgent(marker: marker))
        }
        guard !command.isEmpty else { throw .invalidInput(.launchWithoutCommand) }
        guard let tmux = environment["TMUX"], let pane = environment["TMUX_PANE"], pane.hasPrefix("%") else {
            throw .invalidInput(.launchOutsideTmux)
        }
        let socket = String(tmux.split(separator: ",", maxSplits: 1).first ?? "")
        guard socket.hasPrefix("/") else { throw .invalidInput(.tmuxSocket(tmux: tmux)) }
        return (socket, pane)
    }

    /// Records the target for `alias` in the current tmux pane, for this process, which then execs `command`.
    package static func bind(alias: String, command: [String], environment: Environment) throws(BridgeError) -> WatchTarget {
        let (socket, pane) = try context(alias: alias, command: command, environment: environment)
        let pid = Processes.currentPID()
        let target = WatchTarget(alias: alias, pane: pane, socket: socket, pid: pid, pidStartTime: Processes.startTime(pid),
                                 command: FileSystem.lastComponent(of: command[0]), title: "session-bridge:\(alias)",
                                 launchedAt: Clock.nowISO8601())
        try TargetRegistry(storeRoot: StoreFactory.openForCommand(environment: environment).localRoot).save(target)
        return target
    }

    /// `launch --new-window`: opens a tmux window on the caller's server, in the current folder, that runs
    /// `launch --alias NAME -- COMMAND` (so the binding happens in that window's pane). Returns the new pane id.
    package static func openWindow(alias: String, command: [String], environment: Environment, executable: String) throws(BridgeError) -> String {
        let (socket, _) = try context(alias: alias, command: command, environment: environment)
        var args = ["tmux", "-S", socket, "new-window", "-P", "-F", "#{pane_id}", "-n", alias, "-c", FileSystem.currentDirectory()]
        // A tmux window starts with the server's environment: carry over what decides the store and the identity.
        for key in ["SESSION_BRIDGE_HOME", "SESSION_BRIDGE_STORE", "SESSION_BRIDGE_CLI"] { if let v = environment[key] { args += ["-e", "\(key)=\(v)"] } }
        args += ["--", executable, "launch", "--alias", alias, "--"] + command
        let r = ChildProcess.run(args)
        guard r.status == 0 else { throw .io(.tmuxNewWindow(stderr: r.stderr.trimmed(" \n"))) }
        return r.stdout.trimmed(" \n")
    }
}
