import Foundation

/// The hook target. The first byte picks the event (see `HookAdapter.events`), the rest is the hook's stdin
/// (with the world's path tokens substituted). Properties:
/// - when the input is a hook object whose first key is `session_id` (as both hosts send it), the session id
///   the hot path reads without decoding is the decoded one;
/// - the event's entry point exits 0 (or 2 for the Stop events, with text on stderr) and prints nothing or one
///   JSON object for that event: a deny for PreToolUse equal to the guard's verdict, `additionalContext` text
///   for the others.
/// SessionStart runs only for the world's bound session and SessionEnd only for unbound ones, so the world
/// neither grows nor ends.
enum HookFuzz {
    static func check(_ bytes: [UInt8], world: FuzzWorld) -> FuzzFailure? {
        guard let first = bytes.first else { return nil }
        let (event, name) = HookAdapter.events[Int(first) % HookAdapter.events.count]
        let input = Array(FuzzInput.text(bytes.dropFirst(), world: world).utf8)
        let decoded = HookAdapter.decodedSessionID(input)
        if startsWithSessionID(input), case .some(let sid?) = decoded {
            let fast = HookAdapter.fastSessionID(input)
            guard FuzzInput.same(fast, sid) else {
                return FuzzFailure(.hook, "fast-session-id", "decoded \(FuzzInput.show(sid)), hot path read \(FuzzInput.show(fast ?? "nothing"))")
            }
        }
        let sid: String? = decoded ?? nil
        let bound = sid == FuzzWorld.hookSessionID
        if event == "session-start" && !bound { return nil }
        if event == "session-end" && (bound || HookAdapter.fastSessionID(input) == FuzzWorld.hookSessionID) { return nil }
        let env = world.environment
        let out = HookAdapter.run(event, input: input, environment: env)
        let stopEvent = event == "stop" || event == "stop-background"
        guard out.exitCode == 0 || (stopEvent && out.exitCode == 2 && out.stderr != nil) else {
            return FuzzFailure(.hook, "exit-code", "\(event) exited \(out.exitCode)")
        }
        if event == "pre-tool-use" {
            return GuardFuzz.checkHookOutput(out, verdict: GuardAdapter.deny(input, environment: env), text: String(decoding: input, as: UTF8.self))
        }
        guard let stdout = out.stdout else { return nil }
        guard let object = try? JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any],
              let specific = object["hookSpecificOutput"] as? [String: Any], specific["hookEventName"] as? String == name,
              specific["additionalContext"] is String else {
            return FuzzFailure(.hook, "output-shape", "\(event) printed \(FuzzInput.show(stdout))")
        }
        return nil
    }

    /// `{` then `"session_id"` as the first key, with JSON whitespace allowed.
    static func startsWithSessionID(_ b: [UInt8]) -> Bool {
        var i = 0
        func skip() { while i < b.count && (b[i] == 32 || b[i] == 9 || b[i] == 10 || b[i] == 13) { i += 1 } }
        skip()
        guard i < b.count, b[i] == 123 else { return false }
        i += 1
        skip()
        let key = Array("\"session_id\"".utf8)
        return b.count - i >= key.count && Array(b[i ..< i + key.count]) == key
    }
}
