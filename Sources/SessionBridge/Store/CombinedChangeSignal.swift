#if canImport(Glibc)
import Glibc
#endif

/// Wakes when either of two change signals does: an engine's own signal (a blocking read on a server) and a watcher
/// of local folders, which no single wait can cover (the tmux watcher on Redis also watches `.talks/` folders and
/// its target registry). Each signal waits on its own thread and raises one shared flag; `wait` takes the flag.
/// A wake-up means "look again", as with every signal.
final class CombinedChangeSignal: ChangeSignal {
    /// The flag both threads raise, and whether the signal is still wanted (its threads end once it is not).
    final class Shared: @unchecked Sendable {
        private let mutex: UnsafeMutablePointer<pthread_mutex_t>
        private let condition: UnsafeMutablePointer<pthread_cond_t>
        // Guarded by `mutex`.
        private var raised = false
        private var stopped = false

        init() {
            mutex = .allocate(capacity: 1)
            mutex.initialize(to: pthread_mutex_t())
            pthread_mutex_init(mutex, nil)
            condition = .allocate(capacity: 1)
            condition.initialize(to: pthread_cond_t())
            var attributes = pthread_condattr_t()
            pthread_condattr_init(&attributes)
            pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
            pthread_cond_init(condition, &attributes)
            pthread_condattr_destroy(&attributes)
        }

        deinit {
            pthread_cond_destroy(condition)
            pthread_mutex_destroy(mutex)
            condition.deallocate()
            mutex.deallocate()
        }

        var isStopped: Bool {
            pthread_mutex_lock(mutex)
            defer { pthread_mutex_unlock(mutex) }
            return stopped
        }

        func raise() {
            pthread_mutex_lock(mutex)
            raised = true
            pthread_cond_broadcast(condition)
            pthread_mutex_unlock(mutex)
        }

        func stop() {
            pthread_mutex_lock(mutex)
            stopped = true
            pthread_mutex_unlock(mutex)
        }

        /// Waits until the flag is raised (and lowers it) or the timeout passes; false on timeout.
        func take(timeoutMilliseconds: Int) -> Bool {
            let deadline = Clock.monotonicNanoseconds() + Int64(max(0, timeoutMilliseconds)) * 1_000_000
            var ts = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
            pthread_mutex_lock(mutex)
            defer { pthread_mutex_unlock(mutex) }
            while !raised {
                if pthread_cond_timedwait(condition, mutex, &ts) == ETIMEDOUT { break }
            }
            let was = raised
            raised = false
            return was
        }
    }

    /// A signal and the thread that waits on it.
    final class Waiter: @unchecked Sendable {
        let signal: any ChangeSignal
        let shared: Shared
        /// How long one wait of the thread lasts: a signal no longer wanted is let go after at most this long.
        let roundMilliseconds: Int

        init(_ signal: any ChangeSignal, shared: Shared, roundMilliseconds: Int) {
            self.signal = signal
            self.shared = shared
            self.roundMilliseconds = roundMilliseconds
        }

        func run() {
            while !shared.isStopped {
                if signal.wait(timeoutMilliseconds: roundMilliseconds) { shared.raise() }
            }
        }
    }

    let primary: any ChangeSignal
    let folders: DirectoryWatcher
    private let shared = Shared()
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

    deinit { shared.stop() }

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

/// The thread body of a `CombinedChangeSignal.Waiter` (a C function: it owns the retained waiter it is given).
private let runWaiter: @convention(c) (UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? = { raw in
    guard let raw else { return nil }
    let waiter = Unmanaged<CombinedChangeSignal.Waiter>.fromOpaque(raw).takeRetainedValue()
    waiter.run()
    return nil
}
