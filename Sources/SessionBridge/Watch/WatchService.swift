/// The watcher as a systemd user service, restarted on failure.
package enum WatchService {
    /// The unit text. `workingDirectory` gives the watcher the project whose `.talks/` it watches; `storeRoot` is set
    /// when the store is not the default one.
    package static func unit(cli: String, dirs: [String], workingDirectory: String, storeRoot: String?) -> String {
        let arguments = ([cli, "watch"] + dirs.flatMap { ["--dir", $0] }).map(quoted).joined(separator: " ")
        let environment = storeRoot.map { "Environment=\(quoted("SESSION_BRIDGE_HOME=" + $0))\n" } ?? ""
        return """
        [Unit]
        Description=session-bridge watcher: wake agent sessions in tmux when a message or a turn waits

        [Service]
        ExecStart=\(arguments)
        WorkingDirectory=\(workingDirectory)
        \(environment)Restart=on-failure
        RestartSec=2

        [Install]
        WantedBy=default.target

        """
    }

    /// systemd's quoting: words with spaces, quotes or backslashes in double quotes.
    static func quoted(_ word: String) -> String {
        guard word.contains(where: { " \t\"\\'".contains($0) }) else { return word }
        return "\"" + word.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"") + "\""
    }

    /// Writes `~/.config/systemd/user/session-bridge-watch.service`; returns what to run next.
    package static func install(environment: Environment, cli: String, dirs: [String]) throws(BridgeError) -> String {
        guard let home = environment["HOME"] ?? environment["XDG_CONFIG_HOME"] else { throw .invalidInput(.homeNotSet) }
        let folder = environment["XDG_CONFIG_HOME"].map { $0 + "/systemd/user" } ?? home + "/.config/systemd/user"
        try FileSystem.makeDirectories(folder, mode: 0o755)
        let path = folder + "/session-bridge-watch.service"
        let text = unit(cli: FileSystem.absolute(cli), dirs: dirs.map { FileSystem.absolute($0) },
                        workingDirectory: FileSystem.currentDirectory(), storeRoot: environment["SESSION_BRIDGE_HOME"].map { FileSystem.absolute($0) })
        try AtomicFile.write(text, to: path, mode: 0o644)
        return "wrote \(path)\nenable it with: systemctl --user daemon-reload && systemctl --user enable --now session-bridge-watch"
    }
}
