#if canImport(Glibc)
import Glibc
#endif

/// Facts about processes that liveness checks need, read from /proc on Linux.
public enum Processes {
    /// True when a process with this pid exists (EPERM means it exists but is not ours).
    public static func isAlive(_ pid: Int32) -> Bool {
        guard pid > 0 else { return false }
        if kill(pid, 0) == 0 { return true }
        return errno == EPERM
    }

    /// The process start time in clock ticks since boot (field 22 of /proc/PID/stat), to tell a reused pid apart.
    public static func startTime(_ pid: Int32) -> UInt64? {
        guard pid > 0, let text = try? FileSystem.readString("/proc/\(pid)/stat", limit: 1 << 16) else { return nil }
        // The command name (field 2) may hold spaces and parentheses: fields resume after the last ')'.
        guard let close = text.lastIndex(of: ")") else { return nil }
        let rest = text[text.index(after: close)...].split(separator: " ")
        // rest[0] is field 3 (state); field 22 is rest[19].
        guard rest.count > 19 else { return nil }
        return UInt64(rest[19])
    }

    /// How long ago the process started, in milliseconds (its start time against /proc/uptime). Nil when unknown.
    public static func ageMilliseconds(_ pid: Int32) -> Int? {
        guard let started = startTime(pid), let uptime = try? FileSystem.readString("/proc/uptime", limit: 256),
              let seconds = uptime.split(separator: " ").first.flatMap({ Double($0) }) else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        guard ticks > 0 else { return nil }
        return max(0, Int((seconds - Double(started) / ticks) * 1000))
    }

    /// Whether the process's group owns its terminal's foreground (fields 5 and 8 of /proc/PID/stat): what is typed
    /// into the terminal goes to it. Nil when unknown (no /proc, no terminal).
    public static func ownsTerminalForeground(_ pid: Int32) -> Bool? {
        guard pid > 0, let text = try? FileSystem.readString("/proc/\(pid)/stat", limit: 1 << 16),
              let close = text.lastIndex(of: ")") else { return nil }
        let rest = text[text.index(after: close)...].split(separator: " ")
        // rest[2] is field 5 (process group), rest[5] field 8 (the terminal's foreground process group).
        guard rest.count > 5, let group = Int32(rest[2]), let foreground = Int32(rest[5]), foreground > 0 else { return nil }
        return group == foreground
    }

    /// True for a process that has exited but is not reaped yet (state Z): kill(pid, 0) still finds it.
    public static func isZombie(_ pid: Int32) -> Bool {
        guard pid > 0, let text = try? FileSystem.readString("/proc/\(pid)/stat", limit: 1 << 16),
              let close = text.lastIndex(of: ")") else { return false }
        return text[text.index(after: close)...].split(separator: " ").first == "Z"
    }

    /// Alive (not a zombie) and, when a start time was recorded, still the same process.
    public static func isSameProcessAlive(pid: Int32, startTime: UInt64?) -> Bool {
        guard isAlive(pid), !isZombie(pid) else { return false }
        guard let recorded = startTime, let current = Processes.startTime(pid) else { return true }
        return recorded == current
    }

    public static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    public static func currentPID() -> Int32 { getpid() }
    public static func parentPID() -> Int32 { getppid() }
    public static func userID() -> UInt32 { getuid() }
}
