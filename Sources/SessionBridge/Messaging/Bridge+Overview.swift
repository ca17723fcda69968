/// A read-only view of the whole store for the dashboard: every session and every message, as a person watching
/// the bridge sees them. Nothing here writes: no heartbeat, no settling of claims, no quarantine of stray files.
extension Bridge {
    /// One session as the dashboard lists it.
    public struct SessionRow: Codable, Sendable, Equatable {
        public var id: String
        public var name: String
        public var agent: String
        public var projectPath: String
        public var host: String
        public var pid: Int32
        public var startedAt: String
        public var lastSeen: String
        public var state: PeerState
        /// How it listens between turns; nil when it does not.
        public var listening: ListenMode?
        /// Messages waiting in its inbox.
        public var pending: Int
        /// Questions it has claimed (its model has seen them) and not answered yet.
        public var inFlight: Int
    }

    /// Every session, live ones first, then by name.
    public func sessionRows() -> [SessionRow] {
        let now = Clock.nowNanoseconds()
        let rows = ((try? store.sessionSnapshots()) ?? []).map { row -> SessionRow in
            let m = row.manifest
            let seen = row.lastSeen ?? Clock.parseISO8601(m.lastSeen) ?? 0
            return SessionRow(
                id: m.id, name: m.name, agent: m.agent, projectPath: m.projectPath, host: m.host, pid: m.pid,
                startedAt: m.startedAt, lastSeen: Clock.iso8601(nanoseconds: seen),
                state: PeerState.of(m, lastSeenNanoseconds: seen, now: now, localHost: host),
                listening: m.isEnded ? nil : row.listenMode,
                pending: row.pending, inFlight: (try? store.count(m.id, .inFlight)) ?? 0)
        }
        let order: [PeerState: Int] = [.active: 0, .idle: 1, .stale: 2, .ended: 3]
        return rows.sorted { a, b in (order[a.state] ?? 9, a.name, a.id) < (order[b.state] ?? 9, b.name, b.id) }
    }

    /// Where one message lies: the recipient whose inbox holds it, and the box.
    public struct MessageRef: Sendable, Hashable {
        public var id: String
        public var recipient: String
        public var box: MessageState
    }

    /// The messages in the inboxes of `sessions` (all sessions when nil), newest first. Only ids are listed (a
    /// folder listing per box on the file store), no message is read.
    public func messageRefs(sessions: [String]? = nil) -> [MessageRef] {
        var refs: [MessageRef] = []
        for session in sessions ?? ((try? store.sessionIDs()) ?? []) {
            for box in [MessageState.pending, .inFlight, .done] {
                for id in messageIDs(session, box) { refs.append(MessageRef(id: id, recipient: session, box: box)) }
            }
        }
        // Message ids are time-ordered (UUIDv7), so the id orders by creation.
        return refs.sorted { $0.id > $1.id }
    }

    /// The messages `session` received or sent, newest first. What it sent is found through its own copies (one
    /// read each), not by reading every inbox.
    public func messageRefs(involving session: String) -> [MessageRef] {
        var refs = messageRefs(sessions: [session])
        var seen = Set(refs.map(\.id))
        for id in sentIDs(session) where !seen.contains(id) {
            guard let m = (try? store.sentMessage(sender: session, id: id)) ?? nil, Identifiers.isValidID(m.to),
                  let box = (try? store.locate(m.to, id)) ?? nil, box != .quarantined else { continue }
            refs.append(MessageRef(id: id, recipient: m.to, box: box))
            seen.insert(id)
        }
        return refs.sorted { $0.id > $1.id }
    }

    /// Ids of the sender's copies, without reading them.
    func sentIDs(_ session: String) -> [String] { (try? store.sentIDs(sender: session)) ?? [] }

    /// Ids in one box, without reading the messages.
    func messageIDs(_ session: String, _ box: MessageState) -> [String] { (try? store.messageIDs(session, box)) ?? [] }

    /// One message's life as the dashboard shows it (the sender's view: sent, seen, answered, redelivered,
    /// expired); nil when it is no longer there or fails its checksum.
    public func messageLife(_ ref: MessageRef) -> MessageStatus? {
        var box = ref.box
        var found = (try? store.message(ref.recipient, ref.id, in: box)) ?? nil
        if found == nil, let moved = (try? store.locate(ref.recipient, ref.id)) ?? nil, moved != .quarantined {
            // Moved on (claimed, answered) since it was listed.
            box = moved
            found = (try? store.message(ref.recipient, ref.id, in: moved)) ?? nil
        }
        guard let m = found, let events = try? eventsWithAnswer(m) else { return nil }
        return summarize(m, direction: "sent", state: box, events: events)
    }

    /// Finds a message by id in any session's inbox, else in a sender's copies.
    public func messageLife(id text: String) -> MessageStatus? {
        guard Identifiers.isValidID(text) else { return nil }
        let id = text.lowercased()
        let sessions = (try? store.sessionIDs()) ?? []
        for session in sessions {
            if let box = (try? store.locate(session, id)) ?? nil, box != .quarantined,
               let life = messageLife(MessageRef(id: id, recipient: session, box: box)) {
                return life
            }
        }
        for session in sessions {
            guard let m = (try? store.sentMessage(sender: session, id: id)) ?? nil, let events = try? eventsWithAnswer(m) else { continue }
            let box = (try? store.locate(m.to, id)) ?? nil
            return summarize(m, direction: "sent", state: box, events: events)
        }
        return nil
    }
}
