#if canImport(Glibc)
import Glibc
#endif

/// Facts about processes that liveness checks need. The system-specific readings (start times, terminals, the
/// executable's path) are in `Processes+Linux.swift`.
package enum Processes {
    /// True when a process with this pid exists (EPERM means it exists but is not ours).
    package static func isAlive(_ pid: Int32) -> Bool {
        guard pid > 0 else { return false }
        if kill(pid, 0) == 0 { return true }
        return errno == EPERM
    }

    /// Alive (not a zombie) and, when a start time was recorded, still the same process.
    package static func isSameProcessAlive(pid: Int32, startTime: UInt64?) -> Bool {
        guard isAlive(pid), !isZombie(pid) else { return false }
        guard let recorded = startTime, let current = Processes.startTime(pid) else { return true }
        return recorded == current
    }

    package static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    package static func currentPID() -> Int32 { getpid() }
    package static func parentPID() -> Int32 { getppid() }
}
