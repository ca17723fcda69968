#if canImport(Glibc)
import Glibc
#endif

/// The POSIX calls a signal can interrupt, retried on EINTR here and nowhere else. Each returns what the call returns,
/// with errno as the call left it, so callers keep their own error handling.
package enum SystemCall {
    /// read(2), retried until it is not interrupted.
    package static func read(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
        while true {
            let n = Glibc.read(fd, buffer, count)
            if n < 0 && errno == EINTR { continue }
            return n
        }
    }

    /// write(2), retried until it is not interrupted.
    package static func write(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
        while true {
            let n = Glibc.write(fd, buffer, count)
            if n < 0 && errno == EINTR { continue }
            return n
        }
    }

    /// Writes every byte, continuing after partial writes; false (errno set) when a write fails.
    package static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                guard let base = raw.baseAddress else { return true }
                let n = write(fd, base + offset, raw.count - offset)
                if n < 0 { return false }
                offset += n
            }
            return true
        }
    }

    /// Reads until end of file (or a failure) and closes `fd`.
    package static func drain(_ fd: Int32) -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { raw in raw.baseAddress.map { read(fd, $0, raw.count) } ?? 0 }
            if n <= 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        close(fd)
        return bytes
    }

    /// waitpid(2) for one child, retried until it is not interrupted; the wait status, or nil when there is no such
    /// child (already reaped).
    package static func wait(_ pid: pid_t) -> Int32? {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return nil }
        }
        return status
    }
}
