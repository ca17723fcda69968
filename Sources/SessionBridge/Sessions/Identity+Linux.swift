#if os(Linux)
import Glibc

extension TerminalID {
    /// This process's terminal (its session leader and controlling tty); nil without a controlling tty.
    package static func current() -> TerminalID? {
        guard let me = Processes.stat(Processes.currentPID()), me.session > 0, me.terminal != 0,
              let leader = Processes.stat(me.session) else { return nil }
        return TerminalID(device: me.terminal, leader: me.session, leaderStart: leader.startTime)
    }
}
#endif
