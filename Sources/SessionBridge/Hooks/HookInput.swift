/// The JSON a Claude Code or Codex hook receives on stdin (the fields the bridge uses).
package struct HookInput: Decodable, Sendable {
    package var sessionID: String?
    package var cwd: String?
    package var hookEventName: String?
    package var transcriptPath: String?
    package var turnID: String?
    package var toolName: String?
    package var stopHookActive: Bool?
    package var source: String?
    package var reason: String?

    enum CodingKeys: String, CodingKey {
        case sessionID = "session_id", cwd, hookEventName = "hook_event_name", transcriptPath = "transcript_path"
        case turnID = "turn_id", toolName = "tool_name", stopHookActive = "stop_hook_active", source, reason
    }

    package init(json bytes: [UInt8]) throws(BridgeError) {
        guard let decoded = HookInput.decode(bytes) else {
            throw .invalidInput(.hookInputNotObject)
        }
        self = decoded
    }

    init(sessionID: String?, cwd: String?, hookEventName: String?, transcriptPath: String?, turnID: String?, toolName: String?,
         stopHookActive: Bool?, source: String?, reason: String?) {
        self.sessionID = sessionID
        self.cwd = cwd
        self.hookEventName = hookEventName
        self.transcriptPath = transcriptPath
        self.turnID = turnID
        self.toolName = toolName
        self.stopHookActive = stopHookActive
        self.source = source
        self.reason = reason
    }

    /// Reads a hook input with `JSONReader` (the hot path), field by field as the synthesized `Decodable` does;
    /// nil when it is not such an object.
    static func decode(_ bytes: [UInt8]) -> HookInput? {
        guard let node = JSONReader.node(bytes), let f = JSONFields(node),
              case .some(let sessionID) = f.optionalString("session_id"), case .some(let cwd) = f.optionalString("cwd"),
              case .some(let event) = f.optionalString("hook_event_name"), case .some(let transcript) = f.optionalString("transcript_path"),
              case .some(let turn) = f.optionalString("turn_id"), case .some(let tool) = f.optionalString("tool_name"),
              case .some(let stopActive) = f.optionalBool("stop_hook_active"), case .some(let source) = f.optionalString("source"),
              case .some(let reason) = f.optionalString("reason") else { return nil }
        return HookInput(sessionID: sessionID, cwd: cwd, hookEventName: event, transcriptPath: transcript, turnID: turn, toolName: tool,
                         stopHookActive: stopActive, source: source, reason: reason)
    }

    /// Codex sends a `turn_id` and keeps transcripts under CODEX_HOME; Claude Code does neither.
    package var isCodex: Bool {
        if turnID != nil { return true }
        return transcriptPath.map { $0.contains("/sessions/") && !$0.contains("/.claude/") } ?? false
    }

    /// The runtime identity this hook speaks for.
    package var identity: Identity? {
        guard let sessionID, !sessionID.isEmpty else { return nil }
        return Identity(source: isCodex ? .codex(threadID: sessionID) : .claudeCode(sessionID: sessionID))
    }
}
