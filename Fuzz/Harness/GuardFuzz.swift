import Foundation

/// The guard target. The first byte picks the tool-call shape, the rest is its text (with the world's path
/// tokens substituted):
///   0 Claude Code Bash `command` · 1 Codex Bash `command` · 2 Codex shell argument list `["bash","-lc",TEXT]`
///   3 Codex `apply_patch` patch text · 4 a file tool (`Write`, `Edit`, `MultiEdit`, `NotebookEdit`) on path TEXT
///   5 TEXT is the whole hook input
/// Properties: the PreToolUse hook, evaluating the input again, prints exactly the guard's verdict (a deny JSON,
/// or nothing), so the verdict is deterministic too. With `wrap`, also: a Bash command that is denied stays denied when wrapped in
/// the shapes a shell runs the same way (`bash -c`, a script piped to `bash`, a subshell, `if`, `for`, `{ …; }`, `&&`,
/// `$(…)`, `eval`), and so does its Codex argument-list form.
enum GuardFuzz {
    static let shapes = 6

    struct Call: Encodable {
        var session_id = "s-1"
        var hook_event_name = "PreToolUse"
        var cwd: String
        var tool_name: String
        var tool_input: [String: Value]
        var turn_id: String?
        var transcript_path: String?
    }

    enum Value: Encodable {
        case string(String)
        case list([String])
        func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .string(let s): try c.encode(s)
            case .list(let l): try c.encode(l)
            }
        }
    }

    /// The hook input for one shape.
    static func hookInput(shape: Int, text: String, world: FuzzWorld) -> [UInt8] {
        var call = Call(cwd: world.project, tool_name: "Bash", tool_input: ["command": .string(text)])
        switch shape {
        case 0: call.transcript_path = world.home + "/.claude/projects/p/s-1.jsonl"
        case 1: call.turn_id = "t-1"
        case 2: call.turn_id = "t-1"; call.tool_name = "shell"; call.tool_input = ["command": .list(["bash", "-lc", text])]
        case 3: call.turn_id = "t-1"; call.tool_name = "apply_patch"
        case 4:
            let tools = ["Write", "Edit", "MultiEdit", "NotebookEdit"]
            call.tool_name = tools[text.utf8.count % tools.count]
            call.tool_input = [call.tool_name == "NotebookEdit" ? "notebook_path" : "file_path": .string(text),
                               "content": .string("x"), "old_string": .string("a"), "new_string": .string("b")]
        default: return Array(text.utf8)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return (try? Array(encoder.encode(call))) ?? []
    }

    static func check(_ bytes: [UInt8], world: FuzzWorld, wrap: Bool) -> FuzzFailure? {
        guard let first = bytes.first else { return nil }
        let shape = Int(first) % shapes
        let text = FuzzInput.text(bytes.dropFirst(), world: world)
        let input = hookInput(shape: shape, text: text, world: world)
        let env = world.environment
        let verdict = GuardAdapter.deny(input, environment: env)
        // The hook evaluates the same input again: its output must be this verdict (so the verdict is also
        // deterministic).
        let hook = HookAdapter.run("pre-tool-use", input: input, environment: env)
        if let failure = checkHookOutput(hook, verdict: verdict, text: text) { return failure }
        guard wrap, shape <= 2, verdict != nil, !text.contains("\0") else { return nil }
        for (name, wrapped) in wrappings(text) {
            for s in [0, 2] where GuardAdapter.deny(hookInput(shape: s, text: wrapped, world: world), environment: env) == nil {
                // Only a script bash reads whole, in both forms, means the same wrapped (checked only here: it
                // costs a process).
                guard bashAccepts(text), bashAccepts(wrapped) else { continue }
                return FuzzFailure(.guardWrap, "stays-denied-\(name)",
                                   "denied: \(FuzzInput.show(text)) · allowed (shape \(s)): \(FuzzInput.show(wrapped))")
            }
        }
        return nil
    }

    /// The PreToolUse hook's output must be the guard's verdict: a deny JSON naming the reason, or silence.
    static func checkHookOutput(_ hook: (stdout: String?, stderr: String?, exitCode: Int32), verdict: String?, text: String) -> FuzzFailure? {
        guard hook.exitCode == 0 else { return FuzzFailure(.guard, "hook-exit", "exit \(hook.exitCode) for \(FuzzInput.show(text))") }
        guard let reason = verdict else {
            return hook.stdout == nil ? nil : FuzzFailure(.guard, "hook-output", "allowed, but the hook printed \(FuzzInput.show(hook.stdout ?? ""))")
        }
        guard let out = hook.stdout, let object = try? JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any],
              let specific = object["hookSpecificOutput"] as? [String: Any],
              specific["permissionDecision"] as? String == "deny", specific["hookEventName"] as? String == "PreToolUse",
              let printed = specific["permissionDecisionReason"] as? String, FuzzInput.same(printed, reason) else {
            return FuzzFailure(.guard, "hook-output", "denied, but the hook printed \(FuzzInput.show(hook.stdout ?? "nothing"))")
        }
        return nil
    }

    /// Whether bash reads `command` as a complete script (`bash -n`): a wrapping means the same only then.
    static func bashAccepts(_ command: String) -> Bool {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = ["-n", "-c", command]
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }

    /// Shapes in which a shell runs `command` just as it runs it alone (spaces keep `( (` and `$( (` from being
    /// read as arithmetic).
    static func wrappings(_ command: String) -> [(String, String)] {
        let q = "'" + command.replacing("'", with: "'\\''") + "'"
        return [
            ("bash-c", "bash -c " + q),
            ("bash-stdin", "printf '%s\\n' " + q + " | bash"),
            ("subshell", "( " + command + "\n)"),
            ("if", "if true; then\n" + command + "\nfi"),
            ("for", "for i in 1; do\n" + command + "\ndone"),
            ("group", "{\n" + command + "\n}"),
            ("and", "true && " + command),
            ("substitution", "echo \"$( " + command + "\n)\""),
            ("eval", "eval " + q),
        ]
    }
}
