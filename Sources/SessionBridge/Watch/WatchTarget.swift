/// Where a session's terminal is: recorded by `session-bridge launch` (never by an agent), read by the watcher.
package struct WatchTarget: Codable, Sendable, Equatable {
    package var alias: String
    /// The tmux pane id (`%N`), addressed exactly: never a broadcast.
    package var pane: String
    /// The tmux server's socket (from `$TMUX`), so panes of any tmux server can be reached.
    package var socket: String
    /// The agent process the launcher became, and its start time (to tell a reused pid apart).
    package var pid: Int32
    package var pidStartTime: UInt64?
    /// The agent command's name; the pane's foreground command must still be it.
    package var command: String
    /// The terminal title marker set with an OSC escape, to find the window where there is no tmux.
    package var title: String
    package var launchedAt: String
}

/// The alias → target registry in `<store>/targets/<alias>.json`.
package struct TargetRegistry: Sendable {
    package let folder: String

    package init(storeRoot: String) { folder = storeRoot + "/targets" }

    package func save(_ t: WatchTarget) throws(BridgeError) {
        try FileSystem.makeDirectories(folder)
        try AtomicFile.write(JSONCoding.encode(t, pretty: true), to: folder + "/" + t.alias + ".json")
    }

    package func all() -> [WatchTarget] {
        FileSystem.list(folder).filter { $0.hasSuffix(".json") }.sorted().compactMap { name in
            (try? FileSystem.read(folder + "/" + name, limit: 1 << 16)).flatMap { JSONCoding.decode(WatchTarget.self, from: $0) }
        }
    }

    package func target(_ alias: String) -> WatchTarget? { all().first { $0.alias == alias } }
}
