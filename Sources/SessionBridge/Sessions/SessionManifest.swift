/// What the store knows about one bridge session. Stored as `sessions/<id>/manifest.json`.
/// The live "last seen" time is the mtime of the session's heartbeat file, refreshed by every command and hook.
package struct SessionManifest: Codable, Sendable, Equatable {
    package var schema: Int = 1
    package var id: String
    package var name: String
    package var projectPath: String
    package var host: String
    /// The agent process (Claude Code's CLAUDE_PID, or the nearest agent ancestor), checked for liveness.
    package var pid: Int32
    package var pidStartTime: UInt64?
    /// The runtime that hosts the session: "claude-code", "codex", "terminal" (a person's terminal) or "cli" (a key).
    package var agent: String
    /// The Claude Code (or Codex) session id this bridge session is bound to, when there is one.
    package var claudeSessionId: String?
    package var codexThreadId: String?
    package var startedAt: String
    package var lastSeen: String
    /// "live" or "ended".
    package var state: String
    package var endedAt: String?
    /// Real paths of the helper installation that registered the session (its binary, jq helper and launcher), as
    /// the running binary found them from its own path, never from the environment. The guard trusts these as the
    /// sanctioned writers of the store, so a session of another installation (Claude Code's plugin folder, Codex's
    /// plugin cache) may run a command a peer printed with its own launcher path.
    package var helpers: [String]? = nil

    package var isEnded: Bool { state == "ended" }

    /// Reads a manifest with `JSONReader` (every command reads some), field by field as the synthesized
    /// `Decodable` does; nil when it is not one.
    package static func decode(_ bytes: [UInt8]) -> SessionManifest? {
        guard let node = JSONReader.node(bytes), let f = JSONFields(node),
              let schema = f.int64("schema").flatMap({ Int(exactly: $0) }), let id = f.string("id"), let name = f.string("name"),
              let projectPath = f.string("projectPath"), let host = f.string("host"), let pid = f.int32("pid"),
              case .some(let pidStartTime) = f.optionalUInt64("pidStartTime"), let agent = f.string("agent"),
              case .some(let claude) = f.optionalString("claudeSessionId"), case .some(let codex) = f.optionalString("codexThreadId"),
              let startedAt = f.string("startedAt"), let lastSeen = f.string("lastSeen"), let state = f.string("state"),
              case .some(let endedAt) = f.optionalString("endedAt"), case .some(let helpers) = f.optionalStrings("helpers") else { return nil }
        return SessionManifest(schema: schema, id: id, name: name, projectPath: projectPath, host: host, pid: pid, pidStartTime: pidStartTime,
                               agent: agent, claudeSessionId: claude, codexThreadId: codex, startedAt: startedAt, lastSeen: lastSeen,
                               state: state, endedAt: endedAt, helpers: helpers)
    }
}

/// A peer's liveness, derived from its manifest, heartbeat and process.
package enum PeerState: String, Codable, Sendable {
    /// Seen in the last two minutes.
    case active
    /// Not seen lately, but its process is alive.
    case idle
    /// Not seen lately and its process is gone: it will not answer.
    case stale
    /// Ended with `stop` (or its agent session ended).
    case ended

    package static let activeWindowNanoseconds: Int64 = 120 * 1_000_000_000
    package static let remoteStaleNanoseconds: Int64 = 3600 * 1_000_000_000

    package static func of(_ m: SessionManifest, lastSeenNanoseconds: Int64, now: Int64, localHost: String) -> PeerState {
        if m.isEnded { return .ended }
        // A closed terminal is gone at once: its session leader was the terminal's life.
        if m.agent == "terminal", m.host == localHost, !Processes.isSameProcessAlive(pid: m.pid, startTime: m.pidStartTime) {
            return .stale
        }
        let age = now - lastSeenNanoseconds
        if age < activeWindowNanoseconds { return .active }
        if m.host == localHost {
            return Processes.isSameProcessAlive(pid: m.pid, startTime: m.pidStartTime) ? .idle : .stale
        }
        return age < remoteStaleNanoseconds ? .idle : .stale
    }
}
