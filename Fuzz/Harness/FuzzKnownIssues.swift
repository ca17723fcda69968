/// Property failures known on this code base, each with the fix that owns it. The fuzzer notes them once and
/// goes on (unless SESSION_BRIDGE_FUZZ_STRICT=1); the regression test expects them, so it fails as soon as the
/// fix lands and the entry must go. Each applies only to inputs of its own kind, so other failures of the same
/// property still stop the fuzzer.
public struct FuzzKnownIssue: Sendable {
    public var target: FuzzTarget
    public var property: String
    public var note: String
    let applies: @Sendable ([UInt8]) -> Bool

    public static let all: [FuzzKnownIssue] = []

    /// The known issue a failure on `bytes` is, if any.
    public static func match(_ failure: FuzzFailure, _ bytes: [UInt8]) -> FuzzKnownIssue? {
        all.first { $0.target == failure.target && $0.property == failure.property && $0.applies(bytes) }
    }
}
