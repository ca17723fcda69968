/// Messages: ask, listen (and the hooks' claims), reply and await, each exactly once per message.
package struct MessageService {
    let bridge: Bridge

    /// Sends a message of any type from this session to a peer and keeps the sender's copy.
    @discardableResult
    package func send(to peerText: String, type: MessageType, content: String, inReplyTo: String? = nil) throws(BridgeError) -> Message {
        let me = try bridge.sessions.requireSession()
        let peer = try bridge.sessions.resolvePeer(peerText)
        if peer.id == me.id { throw .cannotMessageSelf }
        return try send(from: me, to: peer, type: type, content: content, inReplyTo: inReplyTo)
    }

    func send(from me: SessionManifest, to peer: SessionManifest, type: MessageType, content: String, inReplyTo: String?) throws(BridgeError) -> Message {
        let message = Message(from: me.id, fromName: me.name, to: peer.id, toName: peer.name, type: type,
                              inReplyTo: inReplyTo, content: content)
        try publish(message)
        return message
    }

    /// Delivers (keeping the sender's copy); nothing is left behind when delivery fails.
    func publish(_ message: Message) throws(BridgeError) {
        try bridged { () throws(StoreError) in try bridge.store.deliver(message) }
        bridge.sessions.connect(message.from, message.to)
    }

    /// Validates raw content bytes against the configured cap.
    package func validateContent(_ bytes: [UInt8]) throws(BridgeError) -> String {
        try MessageContent.validate(bytes, limit: bridge.config.maxMessageBytes)
    }

    /// Sends a query. The result's id is what `reply`, `status` and `await` take. With `willAwait`, listeners and
    /// hooks of this session leave the reply to the `waitForReply` that follows, so it is delivered once.
    package func ask(_ peerText: String, content: String, willAwait: Bool = false) throws(BridgeError) -> Message {
        let me = try bridge.sessions.requireSession()
        let peer = try bridge.sessions.resolvePeer(peerText)
        if peer.id == me.id { throw .cannotMessageSelf }
        let message = Message(from: me.id, fromName: me.name, to: peer.id, toName: peer.name, type: .query, content: content)
        if willAwait { try bridged { () throws(StoreError) in try bridge.store.setAwaiting(me.id, messageID: message.id, pid: Processes.currentPID()) } }
        do {
            try publish(message)
        } catch {
            try? bridge.store.clearAwaiting(me.id, messageID: message.id)
            throw error
        }
        return message
    }

    /// How waiting for a reply ended. Expected outcomes, not failures: the CLI maps them to exit codes.
    package enum AwaitOutcome: Sendable, Equatable {
        case answered(Message)
        /// Nothing came in time. `seenAt`: when the peer claimed the question (nil when it has not, or the time is
        /// unknown); `seen` says whether it has.
        case timedOut(peerName: String, seen: Bool, seenAt: String?)
        /// The peer ended its session (or is gone: stale, as `peers` says) without answering.
        case peerEnded(peerName: String)
    }

    /// Blocks until the reply to one of this session's messages arrives, and claims it. The reply is found by its
    /// id (derived from the question's), so a lost or late receipt cannot hide it. Ends as soon as the peer has
    /// ended its session without answering.
    package func waitForReply(to messageID: String, timeoutSeconds: Double) throws(BridgeError) -> AwaitOutcome {
        let id = try Identifiers.validateID(messageID)
        let me = try bridge.sessions.requireSession(register: false)
        guard let sent = try bridged({ () throws(StoreError) in try bridge.store.sentMessage(sender: me.id, id: id) }) else { throw .unknownMessage(id) }
        try bridged { () throws(StoreError) in try bridge.store.setAwaiting(me.id, messageID: id, pid: Processes.currentPID()) }
        defer { try? bridge.store.clearAwaiting(me.id, messageID: id) }
        let signal = bridge.park(try bridged { () throws(StoreError) in try bridge.store.changeSignal(.inboxAndReceipts(me.id), alsoWatching: []) })
        let deadline = Clock.monotonicNanoseconds() + Int64(max(0, timeoutSeconds) * 1e9)
        while true {
            if let reply = try takeReply(Identifiers.replyID(for: id), session: me) { return .answered(reply) }
            let events = try bridged { () throws(StoreError) in try bridge.store.events(sender: me.id, messageID: id) }
            // Replies made by versions that gave them random ids are found through the receipt.
            if let replyID = events.last(where: { $0.event == .answered })?.replyId, let reply = try takeReply(replyID, session: me) {
                return .answered(reply)
            }
            if try peerHasEnded(sent.to) { return .peerEnded(peerName: sent.toName) }
            let remaining = deadline - Clock.monotonicNanoseconds()
            if remaining <= 0 {
                let seen = events.last(where: { $0.event == .claimed })
                let claimed = try bridged { () throws(StoreError) in try bridge.store.claimRecord(sent.to, id) } != nil
                return .timedOut(peerName: sent.toName, seen: seen != nil || claimed, seenAt: seen?.at)
            }
            // A peer's `stop` wakes the signal (its session-ended message); a peer that dies is noticed by the
            // periodic look.
            _ = signal.wait(timeoutMilliseconds: Int(min(remaining, MessageService.peerCheckNanoseconds) / 1_000_000) + 1)
        }
    }

    /// How often a waiter looks at its peer's liveness when nothing wakes it.
    static let peerCheckNanoseconds: Int64 = 1_000_000_000

    /// True when the session will never answer: ended, removed, or stale (its process is gone), as `peers` says.
    func peerHasEnded(_ peerID: String) throws(BridgeError) -> Bool {
        guard let peer = try bridge.sessions.manifest(peerID) else { return !(try bridge.sessions.sessionExists(peerID)) }
        if peer.isEnded { return true }
        let seen = ((try? bridge.store.lastSeen(peerID)) ?? nil) ?? Clock.parseISO8601(peer.lastSeen) ?? 0
        return PeerState.of(peer, lastSeenNanoseconds: seen, now: Clock.nowNanoseconds(), localHost: bridge.host) == .stale
    }

    /// Claims a reply from this session's inbox wherever it is (a hook may have taken it first; a crashed replier
    /// may have left its publication interrupted, which is completed first).
    private func takeReply(_ replyID: String, session me: SessionManifest) throws(BridgeError) -> Message? {
        guard Identifiers.isValidID(replyID) else { return nil }
        return try bridged { () throws(StoreError) -> Message? in
            switch try bridge.store.deliveryState(me.id, replyID) {
            case .absent, .delivered(.quarantined):
                return nil
            case .interrupted:
                guard try bridge.store.finishDelivery(me.id, replyID) else { return nil }
            case .delivered(.pending), .delivered(.inFlight), .delivered(.done):
                break
            }
            if case .claimed(let m) = try bridge.store.claim(me.id, replyID, keepInFlight: false) {
                try? bridge.store.appendEvent(sender: m.from, messageID: m.id, DeliveryEvent(event: .claimed, by: me.id, byName: me.name, via: "ask"))
                return m
            }
            for state in [MessageState.done, .inFlight] {
                if let m = try bridge.store.message(me.id, replyID, in: state) { return m }
            }
            return nil
        }
    }

    /// What `listen` and the hooks hand over: the message, plus problems met on the way.
    package struct Delivery: Sendable {
        package var message: Message
        package var warnings: [String]
        /// The inbox it was claimed from (this session): what `acknowledge` finishes it in.
        package var session: String
    }

    /// How listening ended. Expected outcomes, not failures: the CLI maps a timeout to exit 10.
    package enum ListenOutcome: Sendable {
        case delivered(Delivery)
        /// Nothing came in time (with the problems met on the way).
        case timedOut(warnings: [String])
    }

    /// Claims the next pending message for this session, exactly once across any number of concurrent listeners.
    /// Pings are answered automatically and pongs consumed; everything else is returned.
    package func nextMessage(timeoutSeconds: Double, filter: JQProgram? = nil, via: String = "listen") throws(BridgeError) -> ListenOutcome {
        let me = try bridge.sessions.requireSession()
        let deadline = Clock.monotonicNanoseconds() + Int64(max(0, timeoutSeconds) * 1e9)
        var warnings: [String] = []
        // Fast path: something is already pending, so no signal is needed (creating and closing one costs more
        // than the whole claim).
        if let message = try claimNext(me, filter: filter, via: via, warnings: &warnings) {
            return .delivered(Delivery(message: message, warnings: warnings, session: me.id))
        }
        let signal = bridge.park(try bridged { () throws(StoreError) in try bridge.store.changeSignal(.inbox(me.id), alsoWatching: []) })
        if let reason = signal.pollingReason { warnings.append("watching by polling: \(reason)") }
        while true {
            if let message = try claimNext(me, filter: filter, via: via, warnings: &warnings) {
                return .delivered(Delivery(message: message, warnings: warnings, session: me.id))
            }
            let remaining = deadline - Clock.monotonicNanoseconds()
            if remaining <= 0 { return .timedOut(warnings: warnings) }
            // Wake for the next lease expiry too, so a crashed listener's message is redelivered on time.
            let claims = try bridged { () throws(StoreError) in try bridge.store.claims(me.id) }
            let waitNs = bridge.leases.wait(remaining: remaining, claims: claims, now: Clock.nowNanoseconds())
            _ = signal.wait(timeoutMilliseconds: Int(waitNs / 1_000_000) + 1)
        }
    }

    /// Whether anything could be delivered now: a pending message, or a claim whose lease ran out. One store call.
    package func hasDeliverable(_ session: String) throws(BridgeError) -> Bool {
        let inbox = try bridged { () throws(StoreError) in try bridge.store.inboxSnapshot(session) }
        return !inbox.pending.isEmpty || bridge.leases.hasDue(inbox.claims, now: Clock.nowNanoseconds())
    }

    /// One pass over the pending messages and the claims whose lease ran out; nil when nothing deliverable is there.
    package func claimNext(_ me: SessionManifest, filter: JQProgram?, via: String, warnings: inout [String]) throws(BridgeError) -> Message? {
        let inbox = try bridged { () throws(StoreError) in try bridge.store.inboxSnapshot(me.id) }
        let redeliverable = bridge.leases.settle(me.id, name: me.name, claims: inbox.claims, now: Clock.nowNanoseconds()).redeliverable
        if inbox.pending.isEmpty && redeliverable.isEmpty { return nil }
        // Oldest first, whether pending or due again.
        var candidates: [(id: String, record: ClaimRecord?)] = inbox.pending.map { ($0, nil) }
        candidates += redeliverable.map { ($0.messageID, $0) }
        if !redeliverable.isEmpty { candidates.sort { $0.id < $1.id } }
        // Replies that a live `ask --wait` of this session is blocked on belong to it.
        let awaited = Set(try bridged { () throws(StoreError) in try bridge.store.awaiting(me.id) }.filter { Processes.isAlive($0.value) }.keys)
        // A message is read without taking it, only when a choice is to be made (awaited replies, a filter), and
        // the chosen one is then claimed by id; one left alone stays pending.
        func read(_ id: String, _ record: ClaimRecord?) throws(BridgeError) -> Message? {
            try bridged { () throws(StoreError) in try bridge.store.message(me.id, id, in: record == nil ? .pending : .inFlight) }
        }
        for (id, record) in candidates {
            if !awaited.isEmpty, let peeked = try read(id, record), peeked.type == .response,
               let original = peeked.inReplyTo, awaited.contains(original) {
                continue
            }
            if let filter {
                guard let peeked = try read(id, record) else {
                    if record == nil, case .malformed(let reason) = try bridged({ () throws(StoreError) in
                        try bridge.store.claim(me.id, id, keepInFlight: true)
                    }) {
                        warnings.append("quarantined malformed message \(id): \(reason)")
                    }
                    continue
                }
                if !(try filter.matches(json: JSONCoding.string(peeked))) { continue }
            }
            let outcome: ClaimOutcome
            if let record {
                outcome = try bridge.leases.takeOver(me, record)
            } else {
                outcome = try bridged { () throws(StoreError) in try bridge.store.claim(me.id, id, keepInFlight: true) }
            }
            switch outcome {
            case .gone:
                continue
            case .malformed(let reason):
                warnings.append("quarantined malformed message \(id): \(reason)")
                continue
            case .claimed(let m):
                if m.from == me.id {
                    _ = try bridged { () throws(StoreError) in try bridge.store.finishInFlight(me.id, id) }
                    continue
                }
                let leaseUntil = m.type.expectsReply
                    ? Clock.iso8601(nanoseconds: Clock.nowNanoseconds() + bridge.config.lease.leaseNanoseconds) : nil
                try? bridge.store.appendEvent(sender: m.from, messageID: m.id,
                                       DeliveryEvent(event: .claimed, by: me.id, byName: me.name, via: via, leaseUntil: leaseUntil))
                CrashPoint.reached(record == nil ? "claim" : "lease", record == nil ? 2 : 3)
                switch m.type {
                case .ping:
                    try? bridge.store.addConnection(me.id, peer: m.from)
                    if let peer = bridge.sessions.readableManifest(m.from), !peer.isEnded {
                        let pong = Message(id: Identifiers.replyID(for: m.id), from: me.id, fromName: me.name, to: peer.id,
                                           toName: peer.name, type: .pong, inReplyTo: m.id, content: "pong from \(me.name)")
                        if (try? publish(pong)) != nil {
                            try? bridge.store.appendEvent(sender: m.from, messageID: m.id,
                                                   DeliveryEvent(event: .answered, by: me.id, byName: me.name, via: via, replyId: pong.id))
                        }
                    }
                    continue
                case .pong:
                    try? bridge.store.addConnection(me.id, peer: m.from)
                    continue
                case .query, .response, .sessionEnded:
                    return m
                }
            }
        }
        return nil
    }

    /// Finishes the claims of delivered messages that expect no reply (responses, a peer's end), once the caller has
    /// shown them: `claimNext` leaves them in flight until then, so a crash between the claim and the output (a
    /// SIGKILL, a hook killed at its timeout) redelivers them at the lease's end instead of losing them. Queries stay
    /// in flight until their reply.
    package func acknowledge(_ session: String, _ messages: [Message]) { Self.acknowledge(bridge.store, session, messages) }

    /// `acknowledge` on a store opened without a bridge (a hook, after its output is written).
    static func acknowledge(_ store: any BridgeStore, _ session: String, _ messages: [Message]) {
        for m in messages where !m.type.expectsReply {
            _ = try? store.finishInFlight(session, m.id)
        }
    }

    /// Settles the claims whose lease ran out (see `Leases.settle`); returns those due for redelivery.
    @discardableResult
    package func settleClaims(_ me: SessionManifest) -> [ClaimRecord] {
        bridge.leases.settle(me.id, name: me.name, now: Clock.nowNanoseconds()).redeliverable
    }

    /// Answers a query this session received. Exactly one reply per query, even with concurrent `reply` calls and a
    /// SIGKILL at any step. Under the session's inbox lock: the query is claimed if still pending, then
    /// `replyAndComplete` publishes the reply (its id derived from the query's), writes the "answered" receipt and
    /// finishes the claim. Once the reply exists the query counts as answered: the asker finds the reply by its id,
    /// and the next reply, lease check or `doctor` finishes what a crash left.
    package func reply(to messageID: String, content: String) throws(BridgeError) -> Message {
        let id = try Identifiers.validateID(messageID)
        let me = try bridge.sessions.requireSession(register: false)
        guard try bridged({ () throws(StoreError) in try bridge.store.locate(me.id, id) }) != nil else { throw .unknownMessage(id) }
        let response = try bridge.store.withInboxLock(me.id) { () throws(BridgeError) -> Message in
            func s<T>(_ body: () throws(StoreError) -> T) throws(BridgeError) -> T { try bridged(body) }
            if try s({ () throws(StoreError) in try bridge.store.claimRecord(me.id, id) }) == nil {
                switch try s({ () throws(StoreError) in try bridge.store.locate(me.id, id) }) {
                case nil:
                    throw .unknownMessage(id)
                case .pending?:
                    if case .malformed(let reason) = try s({ () throws(StoreError) in try bridge.store.claim(me.id, id, keepInFlight: true) }) {
                        throw .conflict(.messageQuarantined(id: id, reason: reason))
                    }
                    CrashPoint.reached("reply", 1)
                case .done?:
                    let original = try s { () throws(StoreError) in try bridge.store.message(me.id, id, in: .done) }
                    if let original, original.type == .query {
                        let unanswered = try s { () throws(StoreError) in try bridge.store.deliveryState(original.from, Identifiers.replyID(for: id)) } == .absent
                        let events = try s { () throws(StoreError) in try bridge.store.events(sender: original.from, messageID: id) }
                        let expired = unanswered && events.contains(where: { $0.event == .expired })
                        if expired {
                            throw .conflict(.messageExpired(id: id))
                        }
                        throw .conflict(.alreadyAnswered(id: id))
                    }
                    throw .conflict(.takesNoReply(id: id, type: original?.type))
                case .quarantined?:
                    throw .conflict(.messageQuarantined(id: id, reason: nil))
                case .inFlight?:
                    break
                }
            }
            guard let record = try s({ () throws(StoreError) in try bridge.store.claimRecord(me.id, id) }) else {
                throw .conflict(.alreadyAnswered(id: id))
            }
            guard let original = try s({ () throws(StoreError) in try bridge.store.message(me.id, id, in: .inFlight) }) else {
                try s { () throws(StoreError) in try bridge.store.quarantine(me.id, id, from: .inFlight) }
                throw .conflict(.messageQuarantined(id: id, reason: nil))
            }
            guard original.type == .query else {
                _ = try s { () throws(StoreError) in try bridge.store.finishClaim(me.id, record) }
                throw .conflict(.takesNoReply(id: id, type: original.type))
            }
            if try bridge.leases.completeIfAnswered(me.id, name: me.name, record, original) { throw .conflict(.alreadyAnswered(id: id)) }
            guard let asker = try bridge.sessions.manifest(original.from) else { throw .unknownPeer(original.fromName) }
            let response = Message(id: Identifiers.replyID(for: id), from: me.id, fromName: me.name, to: asker.id, toName: asker.name,
                                   type: .response, inReplyTo: id, content: content)
            let receipt = DeliveryEvent(event: .answered, by: me.id, byName: me.name, via: "reply", replyId: response.id)
            try s { () throws(StoreError) in try bridge.store.replyAndComplete(me.id, record, query: original, reply: response, receipt: receipt) }
            return response
        }
        bridge.sessions.connect(me.id, response.to)
        return response
    }

    /// One row of `inbox`.
    package struct InboxEntry: Codable, Sendable {
        package var box: String
        package var message: Message
    }

    /// Messages addressed to this session: pending ones, or with `all` the claimed and answered history too.
    /// Listing does not claim anything.
    package func inbox(all: Bool, filter: JQProgram?) throws(BridgeError) -> [InboxEntry] {
        let me = try bridge.sessions.requireSession(register: false)
        let due = Set(settleClaims(me).map { $0.messageID })
        let states: [MessageState] = all ? [.done, .inFlight, .pending] : [.pending, .inFlight]
        var entries: [InboxEntry] = []
        for state in states {
            for m in try bridged({ () throws(StoreError) in try bridge.store.messages(me.id, state) }) {
                // A claim whose lease ran out is pending again: the next listener gets it.
                if state == .inFlight && !all && !due.contains(m.id) { continue }
                if let filter, !(try filter.matches(json: JSONCoding.string(m))) { continue }
                let label = state == .done ? "answered" : (state == .pending || due.contains(m.id) ? "pending" : "claimed")
                entries.append(InboxEntry(box: label, message: m))
            }
        }
        return entries.sorted { $0.message.id < $1.message.id }
    }
}
