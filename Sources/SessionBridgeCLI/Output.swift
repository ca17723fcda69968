#if canImport(Glibc)
import Glibc
#endif
import SessionBridge

/// Writes results to stdout and one-line diagnostics to stderr.
enum Output {
    static func line(_ s: String) { write(1, s + "\n") }

    static func json<T: Encodable>(_ value: T) { write(1, JSONCoding.string(value, pretty: true) + "\n") }

    static func error(_ s: String) { write(2, "session-bridge: error: \(s)\n") }

    /// An expected, non-error outcome with a non-zero exit code (timeouts).
    static func notice(_ s: String) { write(2, "session-bridge: \(s)\n") }

    static func warning(_ s: String) { write(2, "session-bridge: warning: \(s)\n") }

    /// Unbuffered, whole-string write (loops over partial writes).
    static func write(_ fd: Int32, _ s: String) { _ = SystemCall.writeAll(fd, Array(s.utf8)) }
}
