/// What the plugin's hooks do. Each runs on the hot path of an agent session, so each is a few file operations,
/// never a jq compile, and a hook never fails the agent's action because of the bridge.
public enum Hooks {
    /// SessionEnd: the agent session is over, so its bridge session ends too (peers are told).
    public static func sessionEnd(input: HookInput, environment: Environment) -> String? {
        guard let identity = input.identity, let bridge = try? Bridge.open(environment: environment, identity: identity),
              bridge.currentSession() != nil else { return nil }
        _ = try? bridge.stop()
        return nil
    }
}
