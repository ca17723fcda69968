#if canImport(Glibc)
import Glibc
#endif
import JQ

enum HelperMain {
    static func run() -> Never {
        takeBackStandardError()
        let args = CommandLine.arguments
        guard args.count == 2 else {
            emit("E usage: session-bridge-jq PROGRAM")
            exit(64)
        }
        let filter: JQFilter
        do {
            filter = try JQFilter(args[1])
        } catch {
            emit("E " + error.message)
            exit(7)
        }
        emit("ready")
        while let line = readLine(strippingNewline: true) {
            do {
                emit(try filter.matches(json: line) ? "1" : "0")
            } catch {
                emit("E " + error.message.replacing("\n", with: " "))
            }
        }
        exit(0)
    }

    /// The caller sends stderr to a pipe it reads only if this process fails to start (a missing shared library makes
    /// the loader write there), and passes its own stderr as the descriptor in `SESSION_BRIDGE_JQ_STDERR_FD`: having
    /// started, take that one back, which also closes the pipe.
    static func takeBackStandardError() {
        guard let value = getenv("SESSION_BRIDGE_JQ_STDERR_FD"), let fd = Int32(String(cString: value)), fd > 2,
              fcntl(fd, F_GETFD) != -1 else { return }
        dup2(fd, 2)
        close(fd)
    }

    static func emit(_ s: String) {
        let bytes = Array((s + "\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(1, $0.baseAddress! + offset, $0.count - offset) }
            if n <= 0 { if n < 0 && errno == EINTR { continue }; exit(1) }
            offset += n
        }
    }
}
