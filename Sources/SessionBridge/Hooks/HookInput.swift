/// The JSON a Claude Code or Codex hook receives on stdin (the fields the bridge uses).
public struct HookInput: Decodable, Sendable {
    public var sessionID: String?
    public var cwd: String?
    public var hookEventName: String?
    public var transcriptPath: String?
    public var turnID: String?
    public var toolName: String?
    public var stopHookActive: Bool?
    public var source: String?
    public var reason: String?

    enum CodingKeys: String, CodingKey {
        case sessionID = "session_id", cwd, hookEventName = "hook_event_name", transcriptPath = "transcript_path"
        case turnID = "turn_id", toolName = "tool_name", stopHookActive = "stop_hook_active", source, reason
    }

    public init(json bytes: [UInt8]) throws(BridgeError) {
        guard let decoded = JSONCoding.decode(HookInput.self, from: bytes) else {
            throw .invalidInput("hook input is not a JSON object")
        }
        self = decoded
    }

    /// Codex sends a `turn_id` and keeps transcripts under CODEX_HOME; Claude Code does neither.
    public var isCodex: Bool {
        if turnID != nil { return true }
        return transcriptPath.map { $0.contains("/sessions/") && !$0.contains("/.claude/") } ?? false
    }

    /// The runtime identity this hook speaks for.
    public var identity: Identity? {
        guard let sessionID, !sessionID.isEmpty else { return nil }
        return Identity(source: isCodex ? .codex(threadID: sessionID) : .claudeCode(sessionID: sessionID))
    }
}
