import SessionBridge

/// Tells when the store or a talks folder may have changed, so the dashboard pushes a refresh: the store's change
/// signal (inotify on the file store's folders through `DirectoryWatcher`), never a loop re-reading the store.
/// A wake-up means "something may have changed"; pages are rendered from the store afresh, so merged events lose
/// nothing. The set of watched folders follows the sessions: it is rebuilt when one appears or goes.
public final class ChangeFeed {
    let store: any BridgeStore
    let talkFolders: [String]
    let forcePolling: Bool
    private var watcher: DirectoryWatcher?
    private var watched: [String] = []

    /// How often a polling watcher (network file systems, no inotify) reports a possible change.
    public static let pollMilliseconds = 1000

    public init(store: any BridgeStore, talkFolders: [String], forcePolling: Bool) {
        self.store = store
        self.talkFolders = talkFolders
        self.forcePolling = forcePolling
        rearm()
    }

    /// How the feed is watching: "inotify", or "polling (reason)".
    public var mode: String {
        guard let watcher else { return "none" }
        return watcher.mode == .inotify ? "inotify" : "polling (\(watcher.pollingReason ?? "no inotify"))"
    }

    /// The folders whose changes the pages show: the sessions folder (sessions come and go), each session's folder
    /// (manifest, listening mode), its inbox boxes and receipts, and the talks' conversations.
    func folders() -> [String] {
        let sessions = (try? store.sessionIDs()) ?? []
        // A talks folder not made yet: its nearest existing parent, whose change tells when it appears.
        var paths = talkFolders.map { folder -> String in
            var p = folder
            while !FileSystem.isDirectory(p), p.count > 1 { p = FileSystem.parentDirectory(of: p) }
            return p
        }
        guard let files = store as? FileStore else { return paths }
        let layout = files.layout
        paths.append(layout.sessionsFolder)
        for id in sessions {
            paths.append(layout.session(id))
            for box in [StoreLayout.Box.new, .claimed, .done] { paths.append(layout.box(id, box)) }
            paths.append(layout.receiptsFolder(id))
        }
        var seen = Set<String>()
        return paths.filter { FileSystem.isDirectory($0) && seen.insert($0).inserted }
    }

    func rearm(_ paths: [String]? = nil) {
        watched = paths ?? folders()
        watcher = DirectoryWatcher(paths: watched, forcePolling: forcePolling, pollIntervalMilliseconds: Self.pollMilliseconds,
                                   includeRemovals: true)
    }

    /// Blocks until something may have changed (true) or the timeout passes (false). After a wake-up, events that
    /// follow within `settleMilliseconds` are merged into it, so a burst makes one refresh.
    public func wait(timeoutMilliseconds: Int, settleMilliseconds: Int = 20) -> Bool {
        guard let watcher else { return false }
        guard watcher.wait(timeoutMilliseconds: timeoutMilliseconds) else { return false }
        if watcher.mode == .inotify {
            let deadline = Clock.monotonicNanoseconds() + Int64(settleMilliseconds) * 1_000_000
            while Clock.monotonicNanoseconds() < deadline {
                let left = Int((deadline - Clock.monotonicNanoseconds()) / 1_000_000)
                if !watcher.wait(timeoutMilliseconds: max(1, left)) { break }
            }
        }
        // A session created or removed (or its folders made since): watch them from now on. The refresh that follows
        // reads the store after this, so nothing between the two is missed.
        let now = folders()
        if now != watched { rearm(now) }
        return true
    }
}
