/// Waits for changes in a few folders: event-driven with inotify where it works, polling otherwise.
/// A wake-up means "something may have changed": callers rescan, so merged or lost events cannot lose a message.
package final class DirectoryWatcher {
    package enum Mode: String, Sendable { case inotify, polling }

    package let paths: [String]
    package private(set) var mode: Mode
    /// Why polling is used, when it is.
    package private(set) var pollingReason: String?
    let pollIntervalMilliseconds: Int
    var backend: InotifyBackend?

    /// `includeRemovals` also wakes for files deleted or moved out (the dashboard shows those; a listener does not
    /// need them).
    package init(paths: [String], forcePolling: Bool = false, pollIntervalMilliseconds: Int = 50, includeRemovals: Bool = false) {
        self.paths = paths
        self.pollIntervalMilliseconds = max(1, pollIntervalMilliseconds)
        self.mode = .polling
        if forcePolling {
            pollingReason = "polling forced by SESSION_BRIDGE_POLL"
            return
        }
        if let network = paths.lazy.compactMap({ NetworkFileSystem.kind(of: $0) }).first {
            pollingReason = "\(network) file system: inotify does not see other machines' writes"
            return
        }
        switch InotifyBackend.make(paths: paths, includeRemovals: includeRemovals) {
        case .success(let b):
            backend = b
            mode = .inotify
        case .failure(let reason):
            pollingReason = reason
        }
    }

    /// Blocks until a change may have happened or the timeout passes. Returns false on timeout.
    package func wait(timeoutMilliseconds: Int) -> Bool {
        if let backend { return backend.wait(timeoutMilliseconds: timeoutMilliseconds) }
        Clock.sleep(milliseconds: max(0, min(timeoutMilliseconds, pollIntervalMilliseconds)))
        return timeoutMilliseconds > pollIntervalMilliseconds
    }
}

extension DirectoryWatcher: ChangeSignal {
    package var mechanism: String { mode.rawValue }
}
