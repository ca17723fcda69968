#if canImport(Glibc)
import Glibc
#endif

/// Wakes when either of two change signals does: an engine's own signal (a blocking read on a server) and a watcher
/// of local folders, which no single wait can cover (the tmux watcher on Redis also watches `.talks/` folders and
/// its target registry). Each signal waits on its own thread and raises one shared flag; `wait` takes the flag.
/// A wake-up means "look again", as with every signal.
final class CombinedChangeSignal: ChangeSignal {
    /// The flag both threads raise, and whether the signal is still wanted (its threads end once it is not).
    struct Flag: Sendable {
        var raised = false
        var stopped = false
    }

    /// A signal and the thread that waits on it.
    final class Waiter: @unchecked Sendable {
        let signal: any ChangeSignal
        let shared: Monitor<Flag>
        /// How long one wait of the thread lasts: a signal no longer wanted is let go after at most this long.
        let roundMilliseconds: Int

        init(_ signal: any ChangeSignal, shared: Monitor<Flag>, roundMilliseconds: Int) {
            self.signal = signal
            self.shared = shared
            self.roundMilliseconds = roundMilliseconds
        }

        func run() {
            while !shared.withLock({ $0.stopped }) {
                if signal.wait(timeoutMilliseconds: roundMilliseconds) { shared.raise() }
            }
        }
    }

    let primary: any ChangeSignal
    let folders: DirectoryWatcher
    private let shared = Monitor(Flag())
    /// How often a polling folder watcher says "look again" (the interval `DirectoryWatcher` would poll at).
    static let folderPollMilliseconds = 1000

    /// `primaryRoundMilliseconds` bounds one wait of the engine's signal (a blocking read's timeout).
    init(primary: any ChangeSignal, folders: DirectoryWatcher, primaryRoundMilliseconds: Int = 30_000) {
        self.primary = primary
        self.folders = folders
        Self.start(Waiter(primary, shared: shared, roundMilliseconds: primaryRoundMilliseconds))
        // A polling folder watcher cannot tell a change from its interval: `wait` says "look again" on its own.
        if folders.mode == .inotify { Self.start(Waiter(folders, shared: shared, roundMilliseconds: 1000)) }
    }

    deinit { shared.withLock { $0.stopped = true } }

    var mechanism: String { folders.mode == .inotify ? "\(primary.mechanism) and inotify" : primary.mechanism }

    var pollingReason: String? {
        primary.pollingReason ?? folders.pollingReason.map { "local folders: \($0)" }
    }

    func wait(timeoutMilliseconds: Int) -> Bool {
        if folders.mode == .inotify { return shared.take(timeoutMilliseconds: timeoutMilliseconds) }
        let slice = min(max(0, timeoutMilliseconds), Self.folderPollMilliseconds)
        return shared.take(timeoutMilliseconds: slice) || timeoutMilliseconds > slice
    }

    private static func start(_ waiter: Waiter) {
        let box = Unmanaged.passRetained(waiter).toOpaque()
        var thread = pthread_t()
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        if pthread_create(&thread, &attributes, runWaiter, box) != 0 {
            // No thread: the waiter's signal never raises the flag; release it and let the caller's rescans cover it.
            Unmanaged<Waiter>.fromOpaque(box).release()
        }
        pthread_attr_destroy(&attributes)
    }
}

extension Monitor where Value == CombinedChangeSignal.Flag {
    /// Raises the flag and wakes the wait.
    func raise() { update { $0.raised = true } }

    /// Waits until the flag is raised (and lowers it) or the timeout passes; false on timeout.
    func take(timeoutMilliseconds: Int) -> Bool {
        wait(timeoutMilliseconds: max(0, timeoutMilliseconds)) { flag -> Bool? in
            guard flag.raised else { return nil }
            flag.raised = false
            return true
        } ?? false
    }
}

/// The thread body of a `CombinedChangeSignal.Waiter` (a C function: it owns the retained waiter it is given).
private let runWaiter: @convention(c) (UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? = { raw in
    guard let raw else { return nil }
    let waiter = Unmanaged<CombinedChangeSignal.Waiter>.fromOpaque(raw).takeRetainedValue()
    waiter.run()
    return nil
}
