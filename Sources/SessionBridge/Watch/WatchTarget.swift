/// Where a session's terminal is: recorded by `session-bridge launch` (never by an agent), read by the watcher.
public struct WatchTarget: Codable, Sendable, Equatable {
    public var alias: String
    /// The tmux pane id (`%N`), addressed exactly: never a broadcast.
    public var pane: String
    /// The tmux server's socket (from `$TMUX`), so panes of any tmux server can be reached.
    public var socket: String
    /// The agent process the launcher became, and its start time (to tell a reused pid apart).
    public var pid: Int32
    public var pidStartTime: UInt64?
    /// The agent command's name; the pane's foreground command must still be it.
    public var command: String
    /// The terminal title marker set with an OSC escape, to find the window where there is no tmux.
    public var title: String
    public var launchedAt: String
}

/// The alias → target registry in `<store>/targets/<alias>.json`.
public struct TargetRegistry: Sendable {
    public let folder: String

    public init(storeRoot: String) { folder = storeRoot + "/targets" }

    public func save(_ t: WatchTarget) throws(BridgeError) {
        try FileSystem.makeDirectories(folder)
        try AtomicFile.write(JSONCoding.encode(t, pretty: true), to: folder + "/" + t.alias + ".json")
    }

    public func all() -> [WatchTarget] {
        FileSystem.list(folder).filter { $0.hasSuffix(".json") }.sorted().compactMap { name in
            (try? FileSystem.read(folder + "/" + name, limit: 1 << 16)).flatMap { JSONCoding.decode(WatchTarget.self, from: $0) }
        }
    }

    public func target(_ alias: String) -> WatchTarget? { all().first { $0.alias == alias } }
}
