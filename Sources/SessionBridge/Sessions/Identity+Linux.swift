#if os(Linux)
import Glibc

extension TerminalID {
    /// This process's terminal, from /proc/self/stat (session id and controlling tty); nil without a controlling tty.
    public static func current() -> TerminalID? {
        guard let fields = statFields("/proc/self/stat"), fields.count > 4,
              let session = Int32(fields[3]), session > 0, let device = UInt64(fields[4]), device != 0,
              let leaderFields = statFields("/proc/\(session)/stat"), leaderFields.count > 19,
              let start = UInt64(leaderFields[19]) else { return nil }
        return TerminalID(device: device, leader: session, leaderStart: start)
    }

    /// The fields after the command name of a /proc stat file: [0] is the state (field 3), [3] the session (field 6),
    /// [4] the tty (field 7), [19] the start time (field 22). The name may hold spaces and parentheses.
    static func statFields(_ path: String) -> [Substring]? {
        guard let text = try? FileSystem.readString(path, limit: 1 << 16), let close = text.lastIndex(of: ")") else { return nil }
        return text[text.index(after: close)...].split(separator: " ")
    }
}
#endif
