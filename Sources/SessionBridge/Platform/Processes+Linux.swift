#if os(Linux)
import Glibc

/// The fields of `/proc/PID/stat` the bridge reads, parsed in this one place. The command name (field 2) may hold
/// spaces and parentheses, so the other fields resume after its last ')'.
package struct ProcessStat: Sendable, Equatable {
    /// The command name (field 2, at most 15 bytes).
    package var name: String
    /// The state letter (field 3): R, S, D, Z, T, …
    package var state: String
    /// The parent's pid (field 4).
    package var parent: Int32
    /// The process group (field 5).
    package var group: Int32
    /// The session id (field 6): the session leader's pid.
    package var session: Int32
    /// The controlling terminal's device number (field 7, `tty_nr`); 0 without one.
    package var terminal: UInt64
    /// The terminal's foreground process group (field 8, `tpgid`); -1 without a terminal.
    package var terminalForegroundGroup: Int32
    /// The start time in clock ticks since boot (field 22), to tell a reused pid apart.
    package var startTime: UInt64

    /// Parses the text of a stat file; nil when it is not one.
    package init?(_ text: String) {
        guard let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")"), open < close else { return nil }
        let rest = text[text.index(after: close)...].split(separator: " ")
        // rest[0] is field 3; field N is rest[N - 3].
        guard rest.count > 19, let parent = Int32(rest[1]), let group = Int32(rest[2]), let session = Int32(rest[3]),
              let terminal = UInt64(rest[4]), let foreground = Int32(rest[5]), let start = UInt64(rest[19]) else { return nil }
        self.name = String(text[text.index(after: open)..<close])
        self.state = String(rest[0])
        self.parent = parent
        self.group = group
        self.session = session
        self.terminal = terminal
        self.terminalForegroundGroup = foreground
        self.startTime = start
    }
}

extension Processes {
    /// The stat of a live (or zombie) process; nil when it is gone or /proc is unreadable.
    package static func stat(_ pid: Int32) -> ProcessStat? {
        guard pid > 0, let text = try? FileSystem.readString("/proc/\(pid)/stat", limit: 1 << 16) else { return nil }
        return ProcessStat(text)
    }

    /// The process start time in clock ticks since boot, to tell a reused pid apart.
    package static func startTime(_ pid: Int32) -> UInt64? { stat(pid)?.startTime }

    /// How long ago the process started, in milliseconds (its start time against /proc/uptime). Nil when unknown.
    package static func ageMilliseconds(_ pid: Int32) -> Int? {
        guard let started = startTime(pid), let uptime = try? FileSystem.readString("/proc/uptime", limit: 256),
              let seconds = uptime.split(separator: " ").first.flatMap({ Double($0) }) else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        guard ticks > 0 else { return nil }
        return max(0, Int((seconds - Double(started) / ticks) * 1000))
    }

    /// Whether the process's group owns its terminal's foreground: what is typed into the terminal goes to it. Nil
    /// when unknown (no /proc, no terminal).
    package static func ownsTerminalForeground(_ pid: Int32) -> Bool? {
        guard let s = stat(pid), s.terminalForegroundGroup > 0 else { return nil }
        return s.group == s.terminalForegroundGroup
    }

    /// True for a process that has exited but is not reaped yet (state Z): kill(pid, 0) still finds it.
    package static func isZombie(_ pid: Int32) -> Bool { stat(pid)?.state == "Z" }

    /// This executable's resolved path; nil when it cannot be read.
    package static func executablePath() -> String? { FileSystem.realPath("/proc/self/exe") }
}
#endif
