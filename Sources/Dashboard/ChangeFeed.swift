import Dispatch
import SessionBridge
import Synchronization

/// Tells when the store or a talks folder may have changed, so the dashboard pushes a refresh. Two waits, each on a
/// thread of its own, never a loop re-reading the store: the store's change signal over every session
/// (`.allInboxesAndReceipts`: inotify on the file engine, the condition variable in memory, a blocking `XREAD` on
/// Redis) and a directory watcher on the talks folders (talks stay on local files whatever the engine). A wake-up
/// means "something may have changed": pages are rendered from the store afresh, so merged wake-ups lose nothing.
/// Shared by its threads: its state is immutable or behind `Atomic` / `Mutex`, and a semaphore.
package final class ChangeFeed: @unchecked Sendable {
    let store: any BridgeStore
    let talkFolders: [String]
    let forcePolling: Bool
    private let woken = DispatchSemaphore(value: 0)
    private let stopped = Atomic<Bool>(false)
    private let storeMode = Mutex("none")

    /// How often a polling watcher (network file systems, no inotify) reports a possible change.
    package static let pollMilliseconds = 1000
    /// How long one wait of a watching thread lasts before it looks whether the feed was stopped. Above the poll
    /// interval: a polling watcher reports a possible change only in a wait longer than its interval.
    static let sliceMilliseconds = 2 * pollMilliseconds

    package init(store: any BridgeStore, talkFolders: [String], forcePolling: Bool) {
        self.store = store
        self.talkFolders = talkFolders
        self.forcePolling = forcePolling
        // Made here, so a change right after `init` returns is seen; when the store cannot be reached now, the store's
        // thread tries again.
        let signal = try? store.changeSignal(.allInboxesAndReceipts, alsoWatching: [])
        if let signal { storeMode.withLock { $0 = Self.describe(signal) } }
        let talks = talkFolders.isEmpty ? nil : DirectoryWatcher(paths: talkPaths(), forcePolling: forcePolling,
                                                                 pollIntervalMilliseconds: Self.pollMilliseconds, includeRemovals: true)
        let box = FeedStart(signal, talks)
        DispatchQueue(label: "session-bridge-ui.store-changes").async { [self] in watchStore(box.signal) }
        if talks != nil { DispatchQueue(label: "session-bridge-ui.talk-changes").async { [self] in watchTalks(box.talks) } }
    }

    /// How the store is watched: "inotify", "memory", "redis", or "polling (reason)"; "none" while it cannot be.
    package var mode: String { storeMode.withLock { $0 } }

    static func describe(_ signal: any ChangeSignal) -> String {
        signal.pollingReason.map { "polling (\($0))" } ?? signal.mechanism
    }

    /// Ends the watching threads (within a slice).
    package func stop() { stopped.store(true, ordering: .relaxed) }

    var isStopped: Bool { stopped.load(ordering: .relaxed) }

    /// Blocks until something may have changed (true) or the timeout passes (false). After a wake-up, wake-ups that
    /// follow within `settleMilliseconds` are merged into it, so a burst makes one refresh.
    package func wait(timeoutMilliseconds: Int, settleMilliseconds: Int = 20) -> Bool {
        guard woken.wait(timeout: .now() + .milliseconds(max(0, timeoutMilliseconds))) == .success else { return false }
        let deadline = DispatchTime.now() + .milliseconds(max(0, settleMilliseconds))
        while woken.wait(timeout: deadline) == .success {}
        return true
    }

    /// The store's thread: its change signal, made again while the store cannot be reached (a wake-up once it can,
    /// since anything may have changed meanwhile).
    private func watchStore(_ first: (any ChangeSignal)?) {
        var signal = first
        while !isStopped {
            guard let current = signal else {
                do throws(StoreError) {
                    let made = try store.changeSignal(.allInboxesAndReceipts, alsoWatching: [])
                    storeMode.withLock { $0 = Self.describe(made) }
                    signal = made
                    woken.signal()
                } catch {
                    storeMode.withLock { $0 = "none (\(error.code.rawValue))" }
                    Clock.sleep(milliseconds: Self.pollMilliseconds)
                }
                continue
            }
            if current.wait(timeoutMilliseconds: Self.sliceMilliseconds) { woken.signal() }
        }
    }

    /// The talks folders; one not made yet is watched through its nearest existing parent, whose change tells when
    /// it appears.
    func talkPaths() -> [String] {
        var seen = Set<String>()
        return talkFolders.map { folder -> String in
            var p = folder
            while !FileSystem.isDirectory(p), p.count > 1 { p = FileSystem.parentDirectory(of: p) }
            return p
        }.filter { FileSystem.isDirectory($0) && seen.insert($0).inserted }
    }

    /// The talks' thread: a directory watcher, made again when a talks folder appears.
    private func watchTalks(_ first: DirectoryWatcher?) {
        guard var watcher = first else { return }
        while !isStopped {
            guard watcher.wait(timeoutMilliseconds: Self.sliceMilliseconds) else { continue }
            let now = talkPaths()
            if now != watcher.paths {
                watcher = DirectoryWatcher(paths: now, forcePolling: forcePolling, pollIntervalMilliseconds: Self.pollMilliseconds,
                                           includeRemovals: true)
            }
            woken.signal()
        }
    }
}

/// The first signal and watcher, handed from `init` to the thread that alone uses them from then on.
private final class FeedStart: @unchecked Sendable {
    let signal: (any ChangeSignal)?
    let talks: DirectoryWatcher?
    init(_ signal: (any ChangeSignal)?, _ talks: DirectoryWatcher?) {
        self.signal = signal
        self.talks = talks
    }
}
