extension Bridge {
    /// `status`: this session, its counts, and its peers.
    public struct SessionStatus: Codable, Sendable {
        public var session: SessionManifest?
        public var storeRoot: String
        public var pending: Int
        public var claimed: Int
        public var answered: Int
        public var peers: [PeerInfo]
    }

    public func status() throws(BridgeError) -> SessionStatus {
        let me = currentSession()
        if let me { settleClaims(me) }
        func count(_ state: MessageState) throws(BridgeError) -> Int {
            guard let me else { return 0 }
            return try bridged { () throws(StoreError) in try store.count(me.id, state) }
        }
        return SessionStatus(
            session: me, storeRoot: store.location,
            pending: try count(.pending), claimed: try count(.inFlight), answered: try count(.done),
            peers: try peers().filter { !$0.you })
    }

    /// One message's life as its sender (or recipient) sees it.
    public struct MessageStatus: Codable, Sendable {
        public enum State: String, Codable, Sendable {
            case pending, claimed, answered, done, expired, quarantined, unknown
        }
        public var message: Message
        /// sent (this session sent it) or received.
        public var direction: String
        public var state: State
        /// True once the recipient's model has seen it (claimed into a tool result or hook context).
        public var seen: Bool
        public var claimedAt: String?
        public var claimedBy: String?
        public var claimedVia: String?
        public var leaseUntil: String?
        public var answeredAt: String?
        public var replyId: String?
        public var redeliveries: Int
        public var events: [DeliveryEvent]
    }

    public func messageStatus(_ messageID: String) throws(BridgeError) -> MessageStatus {
        let id = try Identifiers.validateID(messageID)
        let me = try requireSession(register: false)
        if let sent = try bridged({ () throws(StoreError) in try store.sentMessage(sender: me.id, id: id) }) {
            if let recipient = try manifest(sent.to), !recipient.isEnded { settleClaims(recipient) }
            let state = try bridged { () throws(StoreError) in try store.locate(sent.to, id) }
            return summarize(sent, direction: "sent", state: state, events: try eventsWithAnswer(sent))
        }
        if let state = try bridged({ () throws(StoreError) in try store.locate(me.id, id) }),
           let m = try bridged({ () throws(StoreError) in try store.message(me.id, id, in: state) }) {
            return summarize(m, direction: "received", state: state, events: try eventsWithAnswer(m))
        }
        throw .unknownMessage(id)
    }

    /// A query's receipt events, with its answer even when the receipt of it was not written (the reply exists;
    /// a crash came between the two).
    func eventsWithAnswer(_ m: Message) throws(BridgeError) -> [DeliveryEvent] {
        var events = try bridged { () throws(StoreError) in try store.events(sender: m.from, messageID: m.id) }
        guard m.type == .query, !events.contains(where: { $0.event == .answered }) else { return events }
        let replyID = Identifiers.replyID(for: m.id)
        if try bridged({ () throws(StoreError) in try store.deliveryState(m.from, replyID) }) != .absent {
            let sentReply = try bridged { () throws(StoreError) in try store.sentMessage(sender: m.to, id: replyID) }
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

    /// One row of `inbox`.
    public struct InboxEntry: Codable, Sendable {
        public var box: String
        public var message: Message
    }

    /// Messages addressed to this session: pending ones, or with `all` the claimed and answered history too.
    /// Listing does not claim anything.
    public func inbox(all: Bool, filter: JQProgram?) throws(BridgeError) -> [InboxEntry] {
        let me = try requireSession(register: false)
        let due = Set(settleClaims(me).map { $0.messageID })
        let states: [MessageState] = all ? [.done, .inFlight, .pending] : [.pending, .inFlight]
        var entries: [InboxEntry] = []
        for state in states {
            for m in try bridged({ () throws(StoreError) in try store.messages(me.id, state) }) {
                // A claim whose lease ran out is pending again: the next listener gets it.
                if state == .inFlight && !all && !due.contains(m.id) { continue }
                if let filter, !(try filter.matches(json: JSONCoding.string(m))) { continue }
                let label = state == .done ? "answered" : (state == .pending || due.contains(m.id) ? "pending" : "claimed")
                entries.append(InboxEntry(box: label, message: m))
            }
        }
        return entries.sorted { $0.message.id < $1.message.id }
    }

    public struct StopResult: Codable, Sendable {
        public var session: SessionManifest
        public var notified: [String]
    }

    /// Ends this session: marks it ended, tells connected peers, and releases the runtime binding.
    /// The history stays for audit until `gc`.
    public func stop() throws(BridgeError) -> StopResult {
        guard var me = currentSession() else { throw .noIdentity }
        me.state = "ended"
        me.endedAt = Clock.nowISO8601()
        try bridged { () throws(StoreError) in try store.saveManifest(me) }
        try? store.setListenMode(me.id, nil)
        reservations.releaseAll(holder: me.id)
        var notified: [String] = []
        for peerID in (try? store.connections(me.id)) ?? [] {
            guard let peer = readableManifest(peerID), !peer.isEnded else { continue }
            if (try? send(from: me, to: peer, type: .sessionEnded, content: "\(me.name) (\(me.id)) ended its session", inReplyTo: nil)) != nil {
                notified.append(peer.name)
            }
        }
        if let identity { try? store.unbind(key: identity.bindingKey) }
        return StopResult(session: me, notified: notified)
    }

    /// Deletes sessions that ended more than `olderThanSeconds` ago. Returns their ids.
    public func collectGarbage(olderThanSeconds: Int) throws(BridgeError) -> [String] {
        let cutoff = Clock.nowNanoseconds() - Int64(olderThanSeconds) * 1_000_000_000
        var removed: [String] = []
        for row in try bridged({ () throws(StoreError) in try store.sessionSnapshots() }) {
            let m = row.manifest
            guard m.isEnded else { continue }
            let ended = m.endedAt.flatMap { Clock.parseISO8601($0) } ?? row.lastSeen ?? 0
            if ended <= cutoff {
                try bridged { () throws(StoreError) in try store.removeSession(m.id) }
                removed.append(m.id)
            }
        }
        return removed
    }
}
