#if canImport(Glibc)
import Glibc
#endif

/// A test-only fault injector: with `SESSION_BRIDGE_CRASH_AT=<op>:<step>` set, the process kills itself with SIGKILL
/// when it reaches that step of that operation, so a test can prove the store is consistent after a crash at every
/// step. Inert (one cached getenv) when the variable is unset.
package enum CrashPoint {
    private static let target: String? = getenv("SESSION_BRIDGE_CRASH_AT").map { String(cString: $0) }

    /// Whether a crash step is set at all (so a step inside a write can split the write only under test).
    package static var isArmed: Bool { target != nil }

    /// Marks that step `step` of `op` is complete; dies here when the test asked for it.
    @inline(__always)
    package static func reached(_ op: String, _ step: Int) {
        guard let target else { return }
        if target == "\(op):\(step)" { raise(SIGKILL) }
    }
}
