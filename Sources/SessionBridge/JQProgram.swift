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
/// jq support is optional: where the helper's shared libraries (libjq1) are missing, a filter fails with one line
/// naming the package to install, and everything else works.
public final class JQProgram {
    public let program: String
    private let pid: pid_t
    private let input: Int32
    private let output: Int32
    private var pending: [UInt8] = []
    private var reaped = false

    /// Starts the helper and compiles `program`; a syntax error throws `.badFilter` with jq's own message.
    public init(_ program: String, helper: String? = nil) throws(BridgeError) {
        self.program = program
        if program.utf8.contains(0) { throw .badFilter("the program contains a NUL byte") }
        let path = helper ?? JQProgram.defaultHelperPath()
        guard access(path, X_OK) == 0 else {
            throw .badFilter("the jq helper is missing at \(path): build it with `swift build -c release`")
        }
        signal(SIGPIPE, SIG_IGN)
        var toChild: [Int32] = [0, 0], fromChild: [Int32] = [0, 0]
        guard csys_pipe_cloexec(&toChild) == 0, csys_pipe_cloexec(&fromChild) == 0 else {
            throw .io("cannot create pipes for the jq helper: \(FileSystem.errorText(errno))")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, toChild[0], 0)
        posix_spawn_file_actions_adddup2(&actions, fromChild[1], 1)
        // Everything the helper has to say comes over its protocol (the loader's own text about a missing library
        // would be a second, less helpful line: the exit status says it).
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup(path), strdup(program), nil]
        defer { for p in argv { free(p) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, path, &actions, nil, argv, environ)
        close(toChild[0])
        close(fromChild[1])
        guard rc == 0 else {
            close(toChild[1]); close(fromChild[0])
            throw .badFilter("cannot start the jq helper \(path): \(FileSystem.errorText(rc))")
        }
        pid = child
        input = toChild[1]
        output = fromChild[0]
        let first = readLine()
        if first == nil, let error = missingLibrariesFailure() { throw error }
        if first != "ready" {
            let reason = first.map { $0.hasPrefix("E ") ? String($0.dropFirst(2)) : $0 } ?? "the jq helper exited"
            throw .badFilter(reason)
        }
    }

    deinit {
        close(input)
        close(output)
        var status: Int32 = 0
        while !reaped && waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }

    /// Whether `json` (one compact JSON document) matches. Runtime errors throw `.badFilter`.
    public func matches(json: String) throws(BridgeError) -> Bool {
        let bytes = Array((json + "\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(input, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 { if errno == EINTR { continue }; throw .badFilter("the jq helper stopped: \(FileSystem.errorText(errno))") }
            offset += n
        }
        switch readLine() {
        case "1"?: return true
        case "0"?: return false
        case let line? where line.hasPrefix("E "): throw .badFilter(String(line.dropFirst(2)))
        default: throw .badFilter("the jq helper stopped unexpectedly")
        }
    }

    /// Matches an encodable value (encoded as compact JSON, which never contains a raw newline).
    public func matches<T: Encodable>(_ value: T) throws(BridgeError) -> Bool {
        try matches(json: JSONCoding.string(value))
    }

    private func readLine() -> String? {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            if let nl = pending.firstIndex(of: 10) {
                let line = String(decoding: pending[..<nl], as: UTF8.self)
                pending.removeSubrange(...nl)
                return line
            }
            let n = chunk.withUnsafeMutableBytes { read(output, $0.baseAddress!, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return nil }
            pending.append(contentsOf: chunk[0..<n])
        }
    }

    /// The exit status the dynamic loader gives a program whose shared libraries cannot be loaded.
    static let loaderFailureStatus: Int32 = 127

    /// For a helper that closed its output without a word (it exits then): reaps it, and gives the missing-libraries
    /// error when the loader could not start it.
    private func missingLibrariesFailure() -> BridgeError? {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 { if errno != EINTR { return nil } }
        reaped = true
        guard (status & 0x7f) == 0, (status >> 8) & 0xff == JQProgram.loaderFailureStatus else { return nil }
        return JQProgram.missingLibraries
    }

    /// jq support is optional: the one line a filter gets where libjq is not installed.
    public static let missingLibraries = BridgeError.io(
        "jq support (--filter) is unavailable: the jq helper cannot load libjq.so.1; install libjq1 (Debian, Ubuntu: sudo apt install libjq1)")

    /// `session-bridge-jq` beside the running executable, or `$SESSION_BRIDGE_JQ`.
    public static func defaultHelperPath() -> String {
        if let explicit = getenv("SESSION_BRIDGE_JQ") { return String(cString: explicit) }
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return "session-bridge-jq" }
        let exe = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return FileSystem.parentDirectory(of: exe) + "/session-bridge-jq"
    }
}
