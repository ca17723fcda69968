#if canImport(Glibc)
import Glibc
#endif
import CSys

/// A jq program applied to JSON values with select semantics: a value matches when the program's first output is
/// neither `false` nor `null` (so both `.type == "query"` and `select(.type == "query")` work).
///
/// libjq runs in the `session-bridge-jq` helper, started once per program and fed one value per line: the main
/// binary is fully static for fast start-up, and Debian ships libjq only as a shared library. The program is
/// compiled once (jq 1.6 spends ~20 ms doing it), and only when a user asked for a filter; hooks never build one.
///
/// The work is bounded: every answer must come before the program's deadline (or the helper is killed and the
/// command fails with `.badFilter`), the helper caps its own memory, and it dies with this process.
/// jq support is optional: where the helper's shared libraries (libjq1) are missing, a filter fails with one line
/// naming the package to install, and everything else works.
package final class JQProgram {
    /// How long a program may work.
    package struct Limits: Sendable, Equatable {
        /// Monotonic time (`Clock.monotonicNanoseconds`) by which every answer must have come.
        package var deadline: Int64
        /// Says which limit it is, for the error ("5 s, the limit for listings").
        package var label: String

        package init(deadline: Int64, label: String) {
            self.deadline = deadline
            self.label = label
        }

        /// One-shot listings (`inbox`, `peers`, `talk list`): a few seconds in all, compilation included.
        package static func listing(seconds: Double = JQProgram.listingSeconds) -> Limits {
            Limits(deadline: Clock.monotonicNanoseconds() + Int64(seconds * 1e9), label: "\(format(seconds)) s, the limit for listings")
        }

        /// A command with its own timeout (`listen --timeout`): the program shares it, with at least
        /// `JQProgram.minimumSeconds` so a zero timeout still evaluates what is already there.
        package static func timeout(_ seconds: Double, command: String) -> Limits {
            let s = max(seconds.isNaN ? JQProgram.minimumSeconds : seconds, JQProgram.minimumSeconds)
            let given = seconds.isNaN ? 0 : max(seconds, 0)
            return Limits(deadline: Clock.monotonicNanoseconds() + Int64(min(s, 1e9) * 1e9),
                          label: given < JQProgram.minimumSeconds
                              ? "\(format(s)) s, the least a program gets (\(command) \(format(given)))"
                              : "\(format(s)) s (\(command) \(format(given)))")
        }

        static func format(_ s: Double) -> String {
            s == s.rounded() && s < 1e15 ? String(Int(s)) : String(s)
        }
    }

    /// The time a one-shot listing's program may take in all.
    package static let listingSeconds: Double = 5
    /// The least time a program gets, however short the command's own timeout.
    package static let minimumSeconds: Double = 1

    package let program: String
    /// Settable inside the module (tests give compilation and evaluation different limits).
    package internal(set) var limits: Limits
    /// The helper's process id (tests watch it die).
    let pid: pid_t
    private let input: Int32
    private let output: Int32
    private var pending: [UInt8] = []
    /// Set once the helper is gone (killed at the deadline, out of memory, crashed): every later call fails the same.
    private var failure: BridgeError?
    private var reaped = false

    /// Starts the helper and compiles `program`; a syntax error throws `.badFilter` with jq's own message.
    package init(_ program: String, limits: Limits = .listing(), helper: String? = nil) throws(BridgeError) {
        self.program = program
        self.limits = limits
        if program.utf8.contains(0) { throw .badFilter(.nulInProgram) }
        let path = helper ?? JQProgram.defaultHelperPath()
        guard access(path, X_OK) == 0 else {
            throw .badFilter(.helperMissing(path: path))
        }
        signal(SIGPIPE, SIG_IGN)
        var toChild: [Int32] = [0, 0], fromChild: [Int32] = [0, 0]
        guard csys_pipe_cloexec(&toChild) == 0 else {
            throw .io(.jqPipes(errno: errno))
        }
        guard csys_pipe_cloexec(&fromChild) == 0 else {
            let code = errno
            close(toChild[0]); close(toChild[1])
            throw .io(.jqPipes(errno: code))
        }
        // Everything the helper has to say comes over its protocol; libjq's own stderr chatter would garble ours.
        let spawned = Subprocess.spawn([path, "--parent", String(getpid()), program],
                                       streams: [.descriptor(toChild[0]), .descriptor(fromChild[1]), .null(flags: O_WRONLY)])
        close(toChild[0])
        close(fromChild[1])
        switch spawned {
        case .failure(let error):
            close(toChild[1]); close(fromChild[0])
            throw .badFilter(.helperStart(path: path, errno: error.code))
        case .success(let child):
            pid = child
        }
        input = toChild[1]
        // Writes never block: a helper stuck in a program stops reading, and the deadline must still hold.
        _ = fcntl(input, F_SETFL, fcntl(input, F_GETFL) | O_NONBLOCK)
        output = fromChild[0]
        switch answer() {
        case .line("ready"):
            break
        case .line(let line):
            throw .badFilter(.jq(line.hasPrefix("E ") || line.hasPrefix("X ") ? String(line.dropFirst(2)) : line))
        case .failed(let error):
            throw error
        }
    }

    deinit {
        close(input)
        close(output)
        // The helper exits on its own once its input closes; one that is still computing is not waited for.
        if !reaped {
            if failure == nil && !pendingAnswer { reap() } else { kill(pid, SIGKILL); reap() }
        }
    }

    /// True between sending an input and reading its answer.
    private var pendingAnswer = false

    /// Whether `json` (one compact JSON document) matches. Runtime errors, the deadline and the helper's memory cap
    /// throw `.badFilter`.
    package func matches(json: String) throws(BridgeError) -> Bool {
        if let failure { throw failure }
        let bytes = Array((json + "\n").utf8)
        var offset = 0
        pendingAnswer = true
        while offset < bytes.count {
            // The helper reads one line at a time; a program that never finishes stops reading, and a large input
            // could then fill the pipe: wait for room only until the deadline.
            guard wait(for: input, events: Int16(POLLOUT)) else { throw stop(timedOut: true) }
            let n = bytes.withUnsafeBytes { SystemCall.write(input, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EAGAIN { continue }
                throw stop(timedOut: false)
            }
            offset += n
        }
        let reply = answer()
        pendingAnswer = false
        switch reply {
        case .line("1"): return true
        case .line("0"): return false
        case .line(let line) where line.hasPrefix("E "): throw .badFilter(.jq(String(line.dropFirst(2))))
        case .line(let line) where line.hasPrefix("X "):
            let error = BridgeError.badFilter(.jq(String(line.dropFirst(2))))
            kill(pid, SIGKILL)
            reap()
            failure = error
            throw error
        case .line: throw stop(timedOut: false)
        case .failed(let error): throw error
        }
    }

    /// Matches an encodable value (encoded as compact JSON, which never contains a raw newline).
    package func matches<T: Encodable>(_ value: T) throws(BridgeError) -> Bool {
        try matches(json: JSONCoding.string(value))
    }

    private enum Answer { case line(String), failed(BridgeError) }

    /// The helper's next line, or the failure that prevented it (deadline passed, helper gone).
    private func answer() -> Answer {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            if let nl = pending.firstIndex(of: 10) {
                let line = String(decoding: pending[..<nl], as: UTF8.self)
                pending.removeSubrange(...nl)
                return .line(line)
            }
            guard wait(for: output, events: Int16(POLLIN)) else { return .failed(stop(timedOut: true)) }
            let n = chunk.withUnsafeMutableBytes { SystemCall.read(output, $0.baseAddress!, $0.count) }
            if n < 0 && errno == EAGAIN { continue }
            if n <= 0 { return .failed(stop(timedOut: false)) }
            pending.append(contentsOf: chunk[0..<n])
        }
    }

    /// Waits until `fd` is ready or the deadline passes (false).
    private func wait(for fd: Int32, events: Int16) -> Bool {
        while true {
            let remaining = limits.deadline - Clock.monotonicNanoseconds()
            if remaining <= 0 { return false }
            var p = pollfd(fd: fd, events: events, revents: 0)
            let ms = Int32(min((remaining + 999_999) / 1_000_000, Int64(Int32.max)))
            let n = poll(&p, 1, ms)
            if n < 0 && errno == EINTR { continue }
            // Ready, or hung up / failed: the read or write that follows says which.
            if n != 0 { return true }
        }
    }

    /// Ends the helper after a failure and records why: past the deadline (killed here), or gone on its own.
    private func stop(timedOut: Bool) -> BridgeError {
        if let failure { return failure }
        let error: BridgeError
        if timedOut {
            kill(pid, SIGKILL)
            reap()
            error = .badFilter(.timedOut(limit: limits.label, program: program))
        } else {
            let status = reap()
            if let status, (status & 0x7f) != 0 {
                error = .badFilter(.killed(signal: status & 0x7f, program: program))
            } else if let status, (status >> 8) & 0xff == JQProgram.loaderFailureStatus {
                error = JQProgram.missingLibraries
            } else {
                error = .badFilter(.stopped(program: program))
            }
        }
        failure = error
        return error
    }

    /// Waits for the helper once; its wait status, or nil when it was already reaped.
    @discardableResult
    private func reap() -> Int32? {
        if reaped { return nil }
        reaped = true
        return SystemCall.wait(pid)
    }

    /// The dynamic loader's exit status when a shared library is missing.
    static let loaderFailureStatus: Int32 = 127

    /// jq support is optional: the one line a filter gets where libjq is not installed.
    package static let missingLibraries = BridgeError.io(.jqUnavailable)

    /// `session-bridge-jq` beside the running executable, or `$SESSION_BRIDGE_JQ`.
    package static func defaultHelperPath() -> String {
        if let explicit = getenv("SESSION_BRIDGE_JQ") { return String(cString: explicit) }
        guard let exe = Processes.executablePath() else { return "session-bridge-jq" }
        return FileSystem.parentDirectory(of: exe) + "/session-bridge-jq"
    }
}
