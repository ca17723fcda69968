/// A directory watcher over a set of folders that changes with the store: after each wake-up the set is computed
/// again and, when it differs (a session made or removed, a session's folders made since), watched afresh. The
/// caller reads the store after the wait returns, so a change made while the watch is rebuilt is still seen.
final class FolderSetWatcher: ChangeSignal {
    let folders: () -> [String]
    let make: ([String]) -> DirectoryWatcher
    private var watched: [String]
    private var watcher: DirectoryWatcher

    init(folders: @escaping () -> [String], make: @escaping ([String]) -> DirectoryWatcher) {
        self.folders = folders
        self.make = make
        watched = Self.unique(folders())
        watcher = make(watched)
    }

    static func unique(_ paths: [String]) -> [String] {
        var seen = Set<String>()
        return paths.filter { seen.insert($0).inserted }
    }

    var mechanism: String { watcher.mechanism }
    var pollingReason: String? { watcher.pollingReason }

    func wait(timeoutMilliseconds: Int) -> Bool {
        guard watcher.wait(timeoutMilliseconds: timeoutMilliseconds) else { return false }
        let now = Self.unique(folders())
        if now != watched {
            watched = now
            watcher = make(now)
        }
        return true
    }
}
