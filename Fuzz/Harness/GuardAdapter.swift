@testable import SessionBridge

/// The guard's entry point as the fuzzers see it. Re-point here when the guard's API changes.
enum GuardAdapter {
    /// The verdict for one PreToolUse hook input: nil to allow, else the reason for the denial.
    static func deny(_ hookInput: [UInt8], environment: Environment) -> String? {
        switch Guard.evaluate(input: hookInput, environment: environment) {
        case .allow: return nil
        case .deny(let reason): return reason
        }
    }
}
