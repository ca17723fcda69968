#if canImport(Glibc)
import Glibc
#endif
import CSys

/// Runs a short external command (tmux) and collects its output.
public enum ChildProcess {
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// Runs `argv` (looked up on PATH) with stdin from /dev/null; `environment` replaces the inherited one when given.
    public static func run(_ argv: [String], environment: [String: String]? = nil) -> Result {
        guard let program = argv.first else { return Result(status: -1, stdout: "", stderr: "no command") }
        var out: [Int32] = [0, 0], err: [Int32] = [0, 0]
        guard csys_pipe_cloexec(&out) == 0, csys_pipe_cloexec(&err) == 0 else { return Result(status: -1, stdout: "", stderr: "pipe failed") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, out[1], 1)
        posix_spawn_file_actions_adddup2(&actions, err[1], 2)
        let cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for p in cargs { free(p) } }
        let cenv: [UnsafeMutablePointer<CChar>?]? = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer { for p in cenv ?? [] { free(p) } }
        // The child starts with no blocked signals and default dispositions: the first tmux client forks the server,
        // which would otherwise inherit a caller's blocked SIGTERM or ignored SIGPIPE and never quit on kill-server.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), defaults = sigset_t()
        sigemptyset(&none)
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let rc = cenv.map { e in e.withUnsafeBufferPointer { posix_spawnp(&pid, program, &actions, &attributes, cargs, UnsafePointer($0.baseAddress)) } }
            ?? posix_spawnp(&pid, program, &actions, &attributes, cargs, environ)
        close(out[1]); close(err[1])
        guard rc == 0 else {
            close(out[0]); close(err[0])
            return Result(status: -1, stdout: "", stderr: "cannot run \(program): \(FileSystem.errorText(rc))")
        }
        let o = drain(out[0]), e = drain(err[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let code: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Result(status: code, stdout: o, stderr: e)
    }

    static func drain(_ fd: Int32) -> String {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        close(fd)
        return String(decoding: bytes, as: UTF8.self)
    }
}
