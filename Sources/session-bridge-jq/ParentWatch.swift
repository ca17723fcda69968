#if canImport(Glibc)
import Glibc
#endif

/// The helper never outlives the command that started it: a watcher thread exits the process when its stdin pipe
/// loses its writer (the parent closed it or died), even while the main thread is deep in a jq program; on Linux
/// the kernel also kills it when the parent dies (ParentWatch+Linux.swift).
enum ParentWatch {
    /// Starts the thread that waits for the input pipe to hang up (poll with no events reports only POLLHUP,
    /// POLLERR and POLLNVAL, so pending input does not wake it).
    static func exitOnClosedInput() {
        var thread = pthread_t()
        _ = pthread_create(&thread, nil, waitForHangUp, nil)
    }

    #if !os(Linux)
    /// Without PR_SET_PDEATHSIG the closed-input watch above is the only tie to the parent.
    static func dieWithParent(_ parent: pid_t) {}
    #endif
}

/// Kept out of main.swift so it is not main-actor isolated (Swift 6).
let waitForHangUp: @convention(c) (UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? = { _ in
    var fds = [pollfd(fd: 0, events: 0, revents: 0)]
    while true {
        let n = poll(&fds, 1, -1)
        if n < 0 && errno == EINTR { continue }
        if n < 0 || fds[0].revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0 { _exit(0) }
    }
}
