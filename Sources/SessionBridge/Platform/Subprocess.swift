#if canImport(Glibc)
import Glibc
#endif
import CSys

/// The one way the bridge starts a child process (the jq helper, tmux). The child gets no blocked signals and the
/// default disposition for the common ones: a caller's blocked SIGTERM or ignored SIGPIPE would otherwise pass to it,
/// and a tmux server forked by the first client would then never quit on kill-server.
package enum Subprocess {
    /// What one of the child's descriptors is connected to.
    package enum Stream {
        /// /dev/null, opened with `flags` (O_RDONLY for input, O_WRONLY for output).
        case null(flags: Int32)
        /// A descriptor of ours (a pipe end), duplicated onto the child's.
        case descriptor(Int32)
        /// The same as ours.
        case inherited
    }

    /// The signals every child starts with at their default action.
    static let defaultedSignals = [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2]

    /// Starts `arguments[0]`: the file at that path, or with `searchPath` the program found on PATH. Descriptors 0, 1
    /// and 2 are connected as `streams` says (in that order); every other descriptor is closed in the child.
    /// `environment` replaces the inherited one when given. Returns the child's pid, or the spawn error (an errno).
    package static func spawn(_ arguments: [String], searchPath: Bool = false, environment: [String: String]? = nil,
                              streams: [Stream]) -> Result<pid_t, SpawnError> {
        guard let program = arguments.first else { return .failure(SpawnError(code: EINVAL)) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (fd, stream) in streams.enumerated() {
            switch stream {
            case .null(let flags): posix_spawn_file_actions_addopen(&actions, Int32(fd), "/dev/null", flags, 0)
            case .descriptor(let source): posix_spawn_file_actions_adddup2(&actions, source, Int32(fd))
            case .inherited: break
            }
        }
        // Nothing else passes to the child: a descriptor another thread opened without close-on-exec (a file being
        // written, say) would otherwise stay open in a long-lived child, and exec'ing that file then fails (ETXTBSY).
        _ = csys_spawn_add_closefrom(&actions, Int32(streams.count))
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), defaults = sigset_t()
        sigemptyset(&none)
        sigemptyset(&defaults)
        for signal in defaultedSignals { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let cargs: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for p in cargs { free(p) } }
        let cenv: [UnsafeMutablePointer<CChar>?]? = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer { for p in cenv ?? [] { free(p) } }
        var pid: pid_t = 0
        let start = { (env: UnsafePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 in
            searchPath ? posix_spawnp(&pid, program, &actions, &attributes, cargs, env)
                       : posix_spawn(&pid, program, &actions, &attributes, cargs, env)
        }
        let rc = cenv.map { e in e.withUnsafeBufferPointer { start($0.baseAddress) } } ?? start(environ)
        return rc == 0 ? .success(pid) : .failure(SpawnError(code: rc))
    }

    /// The exit code a shell would report for a wait status: the process's own, or 128 + the signal that killed it.
    package static func exitCode(status: Int32) -> Int32 {
        (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }
}

/// Why a child could not be started: the errno posix_spawn returned.
package struct SpawnError: Error, Equatable {
    package let code: Int32
}
