/// What the plugin's hooks do, for Claude Code and Codex alike (one hooks.json serves both).
///
/// PostToolUse and UserPromptSubmit run on every tool call and prompt, so with nothing pending they cost a binding
/// read, one readdir and a stat: no JSON decoding of the (possibly large) hook input, no manifest decoding, and
/// never a jq compile. A hook never fails the agent's action because of the bridge: problems are swallowed and the
/// hook prints nothing.
package enum Hooks {
    /// What a hook process should print and exit with.
    package struct Outcome: Equatable, Sendable {
        package var stdout: String?
        package var stderr: String?
        package var exitCode: Int32
        /// The messages this output shows, claimed from `session`: `acknowledge` finishes those that expect no
        /// reply once the output is written, so a hook killed before that (at its timeout) loses none of them.
        package var shown: Shown?

        package init(stdout: String?, stderr: String?, exitCode: Int32, shown: Shown? = nil) {
            self.stdout = stdout
            self.stderr = stderr
            self.exitCode = exitCode
            self.shown = shown
        }

        package static let silent = Outcome(stdout: nil, stderr: nil, exitCode: 0)
    }

    /// Messages a hook's output shows, and the inbox they were claimed from.
    package struct Shown: Equatable, Sendable {
        package var session: String
        package var messages: [Message]
    }

    /// After a hook's output is written: finishes the claims of the messages it showed that expect no reply
    /// (queries stay in flight until answered). Without it they are delivered again when their lease ends.
    package static func acknowledge(_ outcome: Outcome, environment: Environment) {
        guard let shown = outcome.shown, shown.messages.contains(where: { !$0.type.expectsReply }),
              let store = openStore(environment) else { return }
        MessageService.acknowledge(store, shown.session, shown.messages)
    }

    /// The largest part of one message injected into context; the rest is reachable with `inbox`.
    package static let injectedContentLimit = 32 * 1024
    /// At most this many messages are injected by one hook call; the rest wait for the next one.
    package static let injectedMessageLimit = 5

    // MARK: Identity from the hook

    /// The runtime session a hook speaks for. Claude Code puts it in CLAUDE_CODE_SESSION_ID (the same value as
    /// the input's session_id), so the input is not even parsed; Codex hooks carry it only in the input.
    package static func identity(input: [UInt8], environment: Environment) -> Identity? {
        if let explicit = environment["SESSION_BRIDGE_SESSION"] { return Identity(source: .explicit(explicit)) }
        if let claude = environment["CLAUDE_CODE_SESSION_ID"] { return Identity(source: .claudeCode(sessionID: claude)) }
        if let id = topLevelString("session_id", in: input) { return Identity(source: .codex(threadID: id)) }
        if let thread = environment["CODEX_THREAD_ID"] { return Identity(source: .codex(threadID: thread)) }
        return nil
    }

    /// The value of a top-level string key, found without decoding the whole document. Hook inputs put
    /// `session_id` first; a full decode is the fallback.
    static func topLevelString(_ key: String, in bytes: [UInt8]) -> String? {
        let needle = Array("\"\(key)\"".utf8)
        let limit = min(bytes.count, 4096)
        var i = 0
        while i + needle.count < limit {
            if bytes[i] == needle[0] && Array(bytes[i..<(i + needle.count)]) == needle {
                var j = i + needle.count
                while j < bytes.count && (bytes[j] == 32 || bytes[j] == 9 || bytes[j] == 10 || bytes[j] == 13 || bytes[j] == 58) { j += 1 }
                guard j < bytes.count, bytes[j] == 34 else { break }
                var k = j + 1
                while k < bytes.count && bytes[k] != 34 && bytes[k] != 92 { k += 1 }
                if k < bytes.count && bytes[k] == 34 { return String(decoding: bytes[(j + 1)..<k], as: UTF8.self) }
                break
            }
            i += 1
        }
        return (try? HookInput(json: bytes))?.sessionID
    }

    /// The store, or nil when it cannot be opened: a hook stays silent rather than fail the agent's action.
    static func openStore(_ environment: Environment) -> (any BridgeStore)? {
        try? StoreFactory.open(environment: environment, forHook: true).messages
    }

    /// The bridge id bound to the hook's session, nil when unbound or the store cannot answer.
    static func boundSession(_ store: any BridgeStore, _ identity: Identity) -> String? {
        (try? store.binding(forKey: identity.bindingKey)) ?? nil
    }

    /// Pending messages left for later (the "more waiting" line).
    static func pendingCount(_ store: any BridgeStore, _ id: String) -> Int {
        (try? store.count(id, .pending)) ?? 0
    }

    static func bridge(_ store: any BridgeStore, _ identity: Identity, _ environment: Environment) -> Bridge {
        Bridge(store: store, environment: environment, config: BridgeConfig(environment: environment), identity: identity)
    }

    // MARK: Events

    /// SessionStart: registers (or re-binds) the session, refreshes its heartbeat, and says in one line who this
    /// session is when that is useful: when other sessions are live or messages wait.
    package static func sessionStart(input: [UInt8], environment: Environment) -> Outcome {
        exportHelperPath(environment)
        guard let identity = identity(input: input, environment: environment), let store = openStore(environment) else { return .silent }
        let bridge = bridge(store, identity, environment)
        let cwd = (try? HookInput(json: input))?.cwd ?? FileSystem.currentDirectory()
        guard let me = try? bridge.sessions.start(name: nil, projectPath: cwd).manifest else { return .silent }
        let others = ((try? bridge.sessions.peers(includeEnded: false)) ?? []).filter { !$0.you && ($0.state == .active || $0.state == .idle) }
        let pending = pendingCount(store, me.id)
        guard !others.isEmpty || pending > 0 else { return .silent }
        var line = "session-bridge: this session is '\(me.name)' (id \(me.id)); other agent sessions can ask it questions "
            + "(the helper: \(bridge.config.cliPath))"
        if !others.isEmpty {
            line += "; live peers: " + others.prefix(8).map { "\($0.name) (\($0.projectPath))" }.joined(separator: ", ")
        }
        if pending > 0 { line += "; \(pending) peer message(s) are waiting and will be shown to you" }
        return context(event: "SessionStart", line + ".")
    }

    /// Claude Code's SessionStart gives `CLAUDE_ENV_FILE`, which later Bash tool calls source: put this plugin's `bin/`
    /// first on their PATH, so a bare `session-bridge` typed there is this installation even when another one comes
    /// earlier on PATH (Claude Code appends plugin folders at the end). Printed commands use the full launcher path
    /// anyway; this is for the name people and instructions type. Written once per file.
    static func exportHelperPath(_ environment: Environment) {
        guard let file = environment["CLAUDE_ENV_FILE"], file.hasPrefix("/"), let root = environment["CLAUDE_PLUGIN_ROOT"],
              root.hasPrefix("/"), HelperName.isExecutable(HelperName.trimmedSlashes(root) + "/bin/session-bridge") else { return }
        let line = "export PATH=" + HelperName.singleQuoted(HelperName.trimmedSlashes(root) + "/bin") + ":\"$PATH\""
        if let existing = try? FileSystem.readString(file, limit: 1 << 20), existing.split(separator: "\n").contains(Substring(line)) { return }
        try? FileSystem.appendLine(line, to: file)
    }

    /// PostToolUse and UserPromptSubmit: injects pending peer messages (claimed exactly once) with their reply
    /// commands; prints nothing when none are pending.
    package static func deliverPending(event: String, input: [UInt8], environment: Environment) -> Outcome {
        guard let identity = identity(input: input, environment: environment), let store = openStore(environment),
              let id = boundSession(store, identity) else { return .silent }
        try? store.touchHeartbeat(id)
        let bridge = bridge(store, identity, environment)
        guard (try? bridge.messages.hasDeliverable(id)) == true else { return .silent }
        guard let me = bridge.sessions.currentSession() else { return .silent }
        var messages: [Message] = []
        var warnings: [String] = []
        while messages.count < injectedMessageLimit,
              let m = try? bridge.messages.claimNext(me, filter: nil, via: "hook", warnings: &warnings) {
            messages.append(m)
        }
        guard !messages.isEmpty else { return .silent }
        var outcome = context(event: event, renderForContext(messages, cli: bridge.config.cliPath, more: pendingCount(store, id)))
        outcome.shown = Shown(session: me.id, messages: messages)
        return outcome
    }

    /// Stop, synchronous (foreground listening): while the session listens in the foreground, waits for the next
    /// message and continues the session with it. Returns at once for sessions that are not listening.
    package static func stop(input: [UInt8], environment: Environment) -> Outcome {
        guard let identity = identity(input: input, environment: environment), let store = openStore(environment),
              let id = boundSession(store, identity), (try? store.listenMode(id)) == .foreground else { return .silent }
        let bridge = bridge(store, identity, environment)
        let wait = Double(environment.integer("SESSION_BRIDGE_STOP_WAIT_SECONDS") ?? 540)
        switch try? bridge.messages.nextMessage(timeoutSeconds: wait, via: "hook") {
        case .delivered(let delivery)?:
            var outcome = block(renderForContext([delivery.message], cli: bridge.config.cliPath, more: pendingCount(store, id)))
            outcome.shown = Shown(session: delivery.session, messages: [delivery.message])
            return outcome
        case .timedOut?:
            return block("session-bridge: no peer message in the last \(duration(seconds: wait)); still listening. "
                + "End your turn to keep waiting, or run `\(bridge.config.cliPath) listen --off` to stop listening.")
        case nil:
            return .silent
        }
    }

    /// A wait as a person says it: whole minutes from a minute up, seconds below ("1 second", "45 seconds", "9 minutes").
    static func duration(seconds: Double) -> String {
        let whole = max(0, Int(seconds))
        let (n, unit) = whole < 60 ? (whole, "second") : (whole / 60, "minute")
        return "\(n) \(unit)" + (n == 1 ? "" : "s")
    }

    /// Stop, asyncRewake (background listening): one waiter per session waits, event-driven, for a message and
    /// wakes the model with it (exit 2, message on stderr) while the user keeps working. Returns at once for
    /// sessions not listening in the background, or when another waiter of the session already runs.
    package static func stopBackground(input: [UInt8], environment: Environment) -> Outcome {
        guard let identity = identity(input: input, environment: environment), let store = openStore(environment),
              let id = boundSession(store, identity), (try? store.listenMode(id)) == .background else { return .silent }
        let slice = Double(environment.integer("SESSION_BRIDGE_BACKGROUND_CHECK_SECONDS") ?? 5)
        // The lock outlives a waiter that died by at most a few slices; a live waiter renews it every slice.
        let ttl = Int(max(slice, 1) * 3_000) + 10_000
        guard let lock = (try? store.acquire(.listener(id), ttlMilliseconds: ttl, wait: false)) ?? nil else { return .silent }
        defer { lock.release() }
        let bridge = bridge(store, identity, environment)
        while (try? store.listenMode(id)) == .background, (try? lock.renew()) == true {
            switch try? bridge.messages.nextMessage(timeoutSeconds: slice, via: "hook") {
            case .delivered(let delivery)?:
                let text = renderForContext([delivery.message], cli: bridge.config.cliPath, more: pendingCount(store, id))
                return Outcome(stdout: nil, stderr: text, exitCode: 2, shown: Shown(session: delivery.session, messages: [delivery.message]))
            case .timedOut?:
                continue
            case nil:
                return .silent
            }
        }
        return .silent
    }

    /// SessionEnd: the agent session is over, so its bridge session ends too (peers are told).
    package static func sessionEnd(input: [UInt8], environment: Environment) -> Outcome {
        guard let identity = identity(input: input, environment: environment), let store = openStore(environment) else { return .silent }
        let bridge = bridge(store, identity, environment)
        if bridge.sessions.currentSession() != nil { _ = try? bridge.sessions.stop() }
        return .silent
    }

    /// PreToolUse: the guard. Denies edits of the bridge's files with a reason naming the command to use.
    package static func preToolUse(input: [UInt8], environment: Environment) -> Outcome {
        switch Guard.evaluate(input: input, environment: environment) {
        case .allow:
            return .silent
        case .deny(let reason):
            return Outcome(stdout: JSONCoding.string(DenyOutput(hookSpecificOutput: Deny(permissionDecisionReason: reason))), stderr: nil, exitCode: 0)
        }
    }

    struct Deny: Encodable {
        var hookEventName = "PreToolUse"
        var permissionDecision = "deny"
        var permissionDecisionReason: String
    }

    struct DenyOutput: Encodable {
        var hookSpecificOutput: Deny
    }

    // MARK: Output

    /// Peer messages as the model should see them: each with its sender, content and reply command.
    package static func renderForContext(_ messages: [Message], cli: String, more: Int) -> String {
        var parts = ["session-bridge: \(messages.count == 1 ? "a message" : "\(messages.count) messages") from peer sessions. "
            + "Answer each query from your own context with its reply command, then go on with what you were doing."]
        for var m in messages {
            if m.content.utf8.count > injectedContentLimit {
                m.content = String(decoding: Array(m.content.utf8.prefix(injectedContentLimit)), as: UTF8.self)
                    + "\n[… truncated; the whole message: \(cli) inbox --all --json --filter '.message.id == \"\(m.id)\"']"
            }
            parts.append(Render.delivery(m, cli: cli))
        }
        if more > 0 { parts.append("(\(more) more message(s) waiting: they come with your next tool call, or run `\(cli) listen`.)") }
        return parts.joined(separator: "\n\n")
    }

    struct HookSpecific: Encodable {
        var hookEventName: String
        var additionalContext: String
    }

    struct ContextOutput: Encodable {
        var hookSpecificOutput: HookSpecific
    }

    static func context(event: String, _ text: String) -> Outcome {
        Outcome(stdout: JSONCoding.string(ContextOutput(hookSpecificOutput: HookSpecific(hookEventName: event, additionalContext: text))),
                stderr: nil, exitCode: 0)
    }

    /// Continues the session with `reason` as the next user message. Exit 2 with the text on stderr: the JSON
    /// `decision: block` form makes Claude Code show the text twice in the next request (as feedback and as a
    /// system line); exit 2 shows it once, and Codex treats both the same.
    static func block(_ reason: String) -> Outcome {
        Outcome(stdout: nil, stderr: reason, exitCode: 2)
    }
}
