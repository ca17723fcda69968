/// What `status` and the dashboard read: this session's counts, one message's life, every session and message.
package struct StatusService {
    let bridge: Bridge

    /// `status`: this session, its counts, and its peers.
    package struct SessionStatus: Codable, Sendable {
        package var session: SessionManifest?
        /// With no live session: the session this process names (`--session`, its key or binding) when it has ended.
        package var endedSession: SessionManifest?
        package var storeRoot: String
        package var pending: Int
        package var claimed: Int
        package var answered: Int
        package var peers: [SessionService.PeerInfo]
    }

    package func status() throws(BridgeError) -> SessionStatus {
        let me = bridge.sessions.currentSession()
        if let me { bridge.messages.settleClaims(me) }
        func count(_ state: MessageState) throws(BridgeError) -> Int {
            guard let me else { return 0 }
            return try bridged { () throws(StoreError) in try bridge.store.count(me.id, state) }
        }
        return SessionStatus(
            session: me, endedSession: me == nil ? bridge.sessions.endedSession() : nil, storeRoot: bridge.store.location,
            pending: try count(.pending), claimed: try count(.inFlight), answered: try count(.done),
            peers: try bridge.sessions.peers().filter { !$0.you })
    }

    /// One message's life as its sender (or recipient) sees it.
    package struct MessageStatus: Codable, Sendable {
        package enum State: String, Codable, Sendable {
            case pending, claimed, answered, done, expired, quarantined, unknown
        }
        package var message: Message
        /// sent (this session sent it) or received.
        package var direction: String
        package var state: State
        /// True once the recipient's model has seen it (claimed into a tool result or hook context).
        package var seen: Bool
        package var claimedAt: String?
        package var claimedBy: String?
        package var claimedVia: String?
        package var leaseUntil: String?
        package var answeredAt: String?
        package var replyId: String?
        package var redeliveries: Int
        package var events: [DeliveryEvent]
    }

    package func messageStatus(_ messageID: String) throws(BridgeError) -> MessageStatus {
        let id = try Identifiers.validateID(messageID)
        let me = try bridge.sessions.requireSession(register: false)
        if let sent = try bridged({ () throws(StoreError) in try bridge.store.sentMessage(sender: me.id, id: id) }) {
            if let recipient = try bridge.sessions.manifest(sent.to), !recipient.isEnded { bridge.messages.settleClaims(recipient) }
            let state = try bridged { () throws(StoreError) in try bridge.store.locate(sent.to, id) }
            return summarize(sent, direction: "sent", state: state, events: try eventsWithAnswer(sent))
        }
        if let state = try bridged({ () throws(StoreError) in try bridge.store.locate(me.id, id) }),
           let m = try bridged({ () throws(StoreError) in try bridge.store.message(me.id, id, in: state) }) {
            return summarize(m, direction: "received", state: state, events: try eventsWithAnswer(m))
        }
        throw .unknownMessage(id)
    }

    /// A query's receipt events, with its answer even when the receipt of it was not written (the reply exists;
    /// a crash came between the two).
    func eventsWithAnswer(_ m: Message) throws(BridgeError) -> [DeliveryEvent] {
        var events = try bridged { () throws(StoreError) in try bridge.store.events(sender: m.from, messageID: m.id) }
        guard m.type == .query, !events.contains(where: { $0.event == .answered }) else { return events }
        let replyID = Identifiers.replyID(for: m.id)
        if try bridged({ () throws(StoreError) in try bridge.store.deliveryState(m.from, replyID) }) != .absent {
            let sentReply = try bridged { () throws(StoreError) in try bridge.store.sentMessage(sender: m.to, id: replyID) }
            let at = sentReply?.createdAt ?? Clock.nowISO8601()
            events.append(DeliveryEvent(event: .answered, at: at, by: m.to, byName: m.toName, via: "reply", replyId: replyID))
        }
        return events
    }

    func summarize(_ m: Message, direction: String, state box: MessageState?, events: [DeliveryEvent]) -> MessageStatus {
        let claimed = events.last { $0.event == .claimed }
        let answered = events.last { $0.event == .answered }
        let state: MessageStatus.State
        if answered != nil {
            state = .answered
        } else if events.last?.event == .expired {
            state = .expired
        } else {
            switch box {
            case .pending?: state = .pending
            case .inFlight?: state = .claimed
            case .done?: state = .done
            case .quarantined?: state = .quarantined
            case nil: state = .unknown
            }
        }
        let lastRedelivery = events.lastIndex { $0.event == .redelivered }
        let lastClaim = events.lastIndex { $0.event == .claimed }
        let seen = lastClaim != nil
        return MessageStatus(
            message: m, direction: direction, state: state, seen: seen,
            claimedAt: claimed?.at, claimedBy: claimed?.byName ?? claimed?.by, claimedVia: claimed?.via,
            leaseUntil: state == .claimed && (lastRedelivery ?? -1) < (lastClaim ?? -1) ? claimed?.leaseUntil : nil,
            answeredAt: answered?.at, replyId: answered?.replyId,
            redeliveries: events.filter { $0.event == .redelivered }.count, events: events)
    }

    // MARK: Overview

    // A read-only view of the whole store for the dashboard: every session and every message, as a person watching
    // the bridge sees them. Nothing here writes: no heartbeat, no settling of claims, no quarantine of stray files.

    /// One session as the dashboard lists it.
    package struct SessionRow: Codable, Sendable, Equatable {
        package var id: String
        package var name: String
        package var agent: String
        package var projectPath: String
        package var host: String
        package var pid: Int32
        package var startedAt: String
        package var lastSeen: String
        package var state: PeerState
        /// How it listens between turns; nil when it does not.
        package var listening: ListenMode?
        /// Messages waiting in its inbox.
        package var pending: Int
        /// Questions it has claimed (its model has seen them) and not answered yet.
        package var inFlight: Int
    }

    /// Every session, live ones first, then by name.
    package func sessionRows() -> [SessionRow] {
        let now = Clock.nowNanoseconds()
        let rows = ((try? bridge.store.sessionSnapshots()) ?? []).map { row -> SessionRow in
            let m = row.manifest
            let seen = row.lastSeen ?? Clock.parseISO8601(m.lastSeen) ?? 0
            return SessionRow(
                id: m.id, name: m.name, agent: m.agent, projectPath: m.projectPath, host: m.host, pid: m.pid,
                startedAt: m.startedAt, lastSeen: Clock.iso8601(nanoseconds: seen),
                state: PeerState.of(m, lastSeenNanoseconds: seen, now: now, localHost: bridge.host),
                listening: m.isEnded ? nil : row.listenMode,
                pending: row.pending, inFlight: (try? bridge.store.count(m.id, .inFlight)) ?? 0)
        }
        let order: [PeerState: Int] = [.active: 0, .idle: 1, .stale: 2, .ended: 3]
        return rows.sorted { a, b in (order[a.state] ?? 9, a.name, a.id) < (order[b.state] ?? 9, b.name, b.id) }
    }

    /// Where one message lies: the recipient whose inbox holds it, and the box.
    package struct MessageRef: Sendable, Hashable {
        package var id: String
        package var recipient: String
        package var box: MessageState
    }

    /// The messages in the inboxes of `sessions` (all sessions when nil), newest first. Only ids are listed (a
    /// folder listing per box on the file store), no message is read.
    package func messageRefs(sessions: [String]? = nil) -> [MessageRef] {
        var refs: [MessageRef] = []
        for session in sessions ?? ((try? bridge.store.sessionIDs()) ?? []) {
            for box in [MessageState.pending, .inFlight, .done] {
                for id in messageIDs(session, box) { refs.append(MessageRef(id: id, recipient: session, box: box)) }
            }
        }
        // Message ids are time-ordered (UUIDv7), so the id orders by creation.
        return refs.sorted { $0.id > $1.id }
    }

    /// The messages `session` received or sent, newest first. What it sent is found through its own copies (one
    /// read each), not by reading every inbox.
    package func messageRefs(involving session: String) -> [MessageRef] {
        var refs = messageRefs(sessions: [session])
        var seen = Set(refs.map(\.id))
        for id in sentIDs(session) where !seen.contains(id) {
            guard let m = (try? bridge.store.sentMessage(sender: session, id: id)) ?? nil, Identifiers.isValidID(m.to),
                  let box = (try? bridge.store.locate(m.to, id)) ?? nil, box != .quarantined else { continue }
            refs.append(MessageRef(id: id, recipient: m.to, box: box))
            seen.insert(id)
        }
        return refs.sorted { $0.id > $1.id }
    }

    /// Ids of the sender's copies, without reading them.
    func sentIDs(_ session: String) -> [String] { (try? bridge.store.sentIDs(sender: session)) ?? [] }

    /// Ids in one box, without reading the messages.
    func messageIDs(_ session: String, _ box: MessageState) -> [String] { (try? bridge.store.messageIDs(session, box)) ?? [] }

    /// One message's life as the dashboard shows it (the sender's view: sent, seen, answered, redelivered,
    /// expired); nil when it is no longer there or fails its checksum.
    package func messageLife(_ ref: MessageRef) -> MessageStatus? {
        var box = ref.box
        var found = (try? bridge.store.message(ref.recipient, ref.id, in: box)) ?? nil
        if found == nil, let moved = (try? bridge.store.locate(ref.recipient, ref.id)) ?? nil, moved != .quarantined {
            // Moved on (claimed, answered) since it was listed.
            box = moved
            found = (try? bridge.store.message(ref.recipient, ref.id, in: moved)) ?? nil
        }
        guard let m = found, let events = try? eventsWithAnswer(m) else { return nil }
        return summarize(m, direction: "sent", state: box, events: events)
    }

    /// Finds a message by id in any session's inbox, else in a sender's copies.
    package func messageLife(id text: String) -> MessageStatus? {
        guard Identifiers.isValidID(text) else { return nil }
        let id = text.lowercased()
        let sessions = (try? bridge.store.sessionIDs()) ?? []
        for session in sessions {
            if let box = (try? bridge.store.locate(session, id)) ?? nil, box != .quarantined,
               let life = messageLife(MessageRef(id: id, recipient: session, box: box)) {
                return life
            }
        }
        for session in sessions {
            guard let m = (try? bridge.store.sentMessage(sender: session, id: id)) ?? nil, let events = try? eventsWithAnswer(m) else { continue }
            let box = (try? bridge.store.locate(m.to, id)) ?? nil
            return summarize(m, direction: "sent", state: box, events: events)
        }
        return nil
    }
}
