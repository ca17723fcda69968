#if canImport(Glibc)
import Glibc
#endif
import CSys

/// Runs a short external command (tmux) and collects its output.
package enum ChildProcess {
    package struct Result: Sendable {
        package var status: Int32
        package var stdout: String
        package var stderr: String
    }

    /// Runs `argv` (looked up on PATH) with stdin from /dev/null; `environment` replaces the inherited one when given.
    package static func run(_ argv: [String], environment: [String: String]? = nil) -> Result {
        guard let program = argv.first else { return Result(status: -1, stdout: "", stderr: "no command") }
        var out: [Int32] = [0, 0], err: [Int32] = [0, 0]
        guard csys_pipe_cloexec(&out) == 0 else { return Result(status: -1, stdout: "", stderr: "pipe failed") }
        guard csys_pipe_cloexec(&err) == 0 else {
            close(out[0]); close(out[1])
            return Result(status: -1, stdout: "", stderr: "pipe failed")
        }
        let spawned = Subprocess.spawn(argv, searchPath: true, environment: environment,
                                       streams: [.null(flags: O_RDONLY), .descriptor(out[1]), .descriptor(err[1])])
        close(out[1]); close(err[1])
        switch spawned {
        case .failure(let error):
            close(out[0]); close(err[0])
            return Result(status: -1, stdout: "", stderr: "cannot run \(program): \(FileSystem.errorText(error.code))")
        case .success(let pid):
            // Read one after the other, before waiting: tmux writes little to stderr.
            let o = SystemCall.drain(out[0]), e = SystemCall.drain(err[0])
            let code = SystemCall.wait(pid).map { Subprocess.exitCode(status: $0) } ?? -1
            return Result(status: code, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
        }
    }
}
