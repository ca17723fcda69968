#if os(Linux)
import Glibc
import CProcessLimits

extension ParentWatch {
    /// Asks the kernel for SIGKILL when the parent dies, then checks the parent is still the one that started this
    /// helper: if it died before the request took effect, the helper was already handed to another process.
    /// The parent starts the helper from its main thread, whose exit is the process's exit.
    static func dieWithParent(_ parent: pid_t) {
        _ = pl_set_parent_death_signal(SIGKILL)
        if getppid() != parent { _exit(0) }
    }
}
#endif
