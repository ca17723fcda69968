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
/// jq support is optional where the helper's shared libraries (libjq1) are not installed: the helper's standard error
/// goes to a pipe until it has started (it then takes back the caller's standard error, passed as fd 3), so a loader
/// failure becomes one clear line naming the package to install instead of the loader's own text.
public final class JQProgram {
    public let program: String
    private let pid: pid_t
    private let input: Int32
    private let output: Int32
    private var pending: [UInt8] = []

    /// Starts the helper and compiles `program`; a syntax error throws `.badFilter` with jq's own message.
    public init(_ program: String, helper: String? = nil) throws(BridgeError) {
        self.program = program
        if program.utf8.contains(0) { throw .badFilter("the program contains a NUL byte") }
        let path = helper ?? JQProgram.defaultHelperPath()
        guard access(path, X_OK) == 0 else {
            throw .badFilter("the jq helper is missing at \(path): build it with `swift build -c release`")
        }
        signal(SIGPIPE, SIG_IGN)
        var toChild: [Int32] = [0, 0], fromChild: [Int32] = [0, 0], errors: [Int32] = [0, 0]
        guard csys_pipe_cloexec(&toChild) == 0, csys_pipe_cloexec(&fromChild) == 0, csys_pipe_cloexec(&errors) == 0 else {
            throw .io("cannot create pipes for the jq helper: \(FileSystem.errorText(errno))")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, toChild[0], 0)
        posix_spawn_file_actions_adddup2(&actions, fromChild[1], 1)
        posix_spawn_file_actions_adddup2(&actions, 2, JQProgram.stderrDescriptor)
        posix_spawn_file_actions_adddup2(&actions, errors[1], 2)
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup(path), strdup(program), nil]
        defer { for p in argv { free(p) } }
        var child: pid_t = 0
        let environment = JQProgram.helperEnvironment()
        defer { for p in environment { free(p) } }
        let rc = posix_spawn(&child, path, &actions, nil, argv, environment)
        close(toChild[0])
        close(fromChild[1])
        close(errors[1])
        guard rc == 0 else {
            close(toChild[1]); close(fromChild[0]); close(errors[0])
            throw .badFilter("cannot start the jq helper \(path): \(FileSystem.errorText(rc))")
        }
        pid = child
        input = toChild[1]
        output = fromChild[0]
        let first = readLine()
        let stderrText = first == "ready" ? "" : JQProgram.readAll(errors[0])
        close(errors[0])
        if first != "ready" {
            if first == nil, let library = JQProgram.missingLibrary(inLoaderText: stderrText) {
                let remedy = JQProgram.package(providing: library).map { "install \($0) (Debian, Ubuntu: sudo apt install \($0))" }
                    ?? "install the package that provides it"
                throw .io("jq support (--filter) is unavailable: the shared library \(library) is missing; \(remedy)")
            }
            let said = stderrText.split(separator: "\n").first.map { ": " + String($0) } ?? ""
            let reason = first.map { $0.hasPrefix("E ") ? String($0.dropFirst(2)) : $0 } ?? "the jq helper exited\(said)"
            throw .badFilter(reason)
        }
    }

    /// The descriptor on which the helper finds the caller's standard error (see `SESSION_BRIDGE_JQ_STDERR_FD`).
    static let stderrDescriptor: Int32 = 3

    /// The environment of the helper: this process's, with `SESSION_BRIDGE_JQ_STDERR_FD` set so the helper knows to
    /// take fd 3 back as its standard error once it has started. The strings are the caller's to free.
    private static func helperEnvironment() -> [UnsafeMutablePointer<CChar>?] {
        var result: [UnsafeMutablePointer<CChar>?] = []
        var entry: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = environ
        while let at = entry, let variable = at.pointee {
            if strncmp(variable, "SESSION_BRIDGE_JQ_STDERR_FD=", 28) != 0 { result.append(strdup(variable)) }
            entry = at + 1
        }
        result.append(strdup("SESSION_BRIDGE_JQ_STDERR_FD=\(stderrDescriptor)"))
        result.append(nil)
        return result
    }

    /// Everything readable from `fd` until end of file (at most 64 KiB).
    private static func readAll(_ fd: Int32) -> String {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < 65536 {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The library named in the dynamic loader's "error while loading shared libraries: NAME: cannot open shared
    /// object file" message, or nil when `text` is not that message.
    static func missingLibrary(inLoaderText text: String) -> String? {
        let marker = "error while loading shared libraries: "
        guard let start = text.firstRange(of: marker)?.upperBound else { return nil }
        let name = text[start...].prefix(while: { $0 != ":" && $0 != "\n" })
        guard !name.isEmpty, name.count <= 255, !name.contains(" ") else { return nil }
        return String(name)
    }

    /// The Debian package that ships a library the helper links to, when known.
    static func package(providing library: String) -> String? {
        if library.hasPrefix("libjq.") { return "libjq1" }
        if library.hasPrefix("libonig.") { return "libonig5" }
        if library.hasPrefix("libstdc++.") { return "libstdc++6" }
        if library.hasPrefix("libgcc_s.") { return "libgcc-s1" }
        return nil
    }

    deinit {
        close(input)
        close(output)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
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
