extension Bridge {
    /// Sends a message of any type from this session to a peer and keeps the sender's copy.
    @discardableResult
    public func send(to peerText: String, type: MessageType, content: String, inReplyTo: String? = nil) throws(BridgeError) -> Message {
        let me = try requireSession()
        let peer = try resolvePeer(peerText)
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
        try store.deliver(message)
        // Both sides now know each other: whichever stops first tells the other.
        store.addConnection(message.from, peer: message.to)
        store.addConnection(message.to, peer: message.from)
    }

    /// Validates raw content bytes against the configured cap.
    public func validateContent(_ bytes: [UInt8]) throws(BridgeError) -> String {
        try MessageContent.validate(bytes, limit: config.maxMessageBytes)
    }

    /// Sends a query. The result's id is what `reply`, `status` and `await` take. With `willAwait`, listeners and
    /// hooks of this session leave the reply to the `awaitReply` that follows, so it is delivered once.
    public func ask(_ peerText: String, content: String, willAwait: Bool = false) throws(BridgeError) -> Message {
        let me = try requireSession()
        let peer = try resolvePeer(peerText)
        if peer.id == me.id { throw .cannotMessageSelf }
        let message = Message(from: me.id, fromName: me.name, to: peer.id, toName: peer.name, type: .query, content: content)
        if willAwait { store.setAwaiting(me.id, messageID: message.id, pid: Processes.currentPID()) }
        do {
            try publish(message)
        } catch {
            store.clearAwaiting(me.id, messageID: message.id)
            throw error
        }
        return message
    }

    /// Blocks until the reply to one of this session's messages arrives, and claims it. The reply is found by its
    /// id (derived from the question's), so a lost or late receipt cannot hide it.
    /// Throws `.peerEnded` as soon as the peer has ended its session (or is gone: stale, as `peers` says) without
    /// answering. On timeout: `.seenNotAnswered` when the peer has claimed the question, `.timedOut` when it has not.
    public func awaitReply(to messageID: String, timeoutSeconds: Double) throws(BridgeError) -> Message {
        let id = try Identifiers.validateID(messageID)
        let me = try requireSession(register: false)
        guard let sent = store.sentMessage(sender: me.id, id: id) else { throw .unknownMessage(id) }
        store.setAwaiting(me.id, messageID: id, pid: Processes.currentPID())
        defer { store.clearAwaiting(me.id, messageID: id) }
        let watcher = park(store.makeWatcher(me.id, includeReceipts: true))
        let deadline = Clock.monotonicNanoseconds() + Int64(max(0, timeoutSeconds) * 1e9)
        while true {
            if let reply = takeReply(Identifiers.replyID(for: id), session: me) { return reply }
            let events = store.events(sender: me.id, messageID: id)
            // Replies made by versions that gave them random ids are found through the receipt.
            if let replyID = events.last(where: { $0.event == .answered })?.replyId, let reply = takeReply(replyID, session: me) {
                return reply
            }
            if peerHasEnded(sent.to) {
                throw .peerEnded(sent.toName)
            }
            let remaining = deadline - Clock.monotonicNanoseconds()
            if remaining <= 0 {
                let seconds = Int(timeoutSeconds.rounded())
                let seen = events.last(where: { $0.event == .claimed })
                if seen != nil || store.claimRecord(sent.to, id) != nil {
                    let when = seen.map { " at \($0.at)" } ?? ""
                    throw .seenNotAnswered("\(sent.toName) saw the message\(when) but has not answered within \(seconds) s; "
                        + "wait again with `\(config.cliPath) await \(id)`")
                }
                throw .timedOut("no reply from \(sent.toName) within \(seconds) s: the message has not been seen yet "
                    + "(is \(sent.toName) listening?); it stays queued, wait again with `\(config.cliPath) await \(id)`")
            }
            // A peer's `stop` wakes the watcher (its session-ended message); a peer that dies is noticed by the
            // periodic look.
            _ = watcher.wait(timeoutMilliseconds: Int(min(remaining, Bridge.peerCheckNanoseconds) / 1_000_000) + 1)
        }
    }

    /// How often a waiter looks at its peer's liveness when nothing wakes it.
    static let peerCheckNanoseconds: Int64 = 1_000_000_000

    /// True when the session will never answer: ended, removed, or stale (its process is gone), as `peers` says.
    func peerHasEnded(_ peerID: String) -> Bool {
        guard let peer = store.manifest(peerID) else { return !FileSystem.exists((store as? FileStore)?.layout.session(peerID) ?? "") }
        if peer.isEnded { return true }
        let seen = store.lastSeen(peerID) ?? Clock.parseISO8601(peer.lastSeen) ?? 0
        return PeerState.of(peer, lastSeenNanoseconds: seen, now: Clock.nowNanoseconds(), localHost: host) == .stale
    }

    /// Claims a reply from this session's inbox wherever it is (a hook may have taken it first; a crashed replier
    /// may have left it as a complete temp file, which is published first).
    private func takeReply(_ replyID: String, session me: SessionManifest) -> Message? {
        guard Identifiers.isValidID(replyID) else { return nil }
        switch store.deliveryState(me.id, replyID) {
        case .absent, .delivered(.quarantine), .delivered(.tmp):
            return nil
        case .interrupted(let temp):
            guard store.finishDelivery(me.id, tempPath: temp) else { return nil }
        case .delivered(.new), .delivered(.claimed), .delivered(.done):
            break
        }
        if case .claimed(let m)? = try? store.claim(me.id, replyID, keepInFlight: false) {
            store.appendEvent(sender: m.from, messageID: m.id, DeliveryEvent(event: .claimed, by: me.id, byName: me.name, via: "ask"))
            return m
        }
        for box in [StoreLayout.Box.done, .claimed] {
            if let m = store.peek(me.id, box, replyID) { return m }
        }
        return nil
    }

    /// What `listen` and the hooks hand over: the message, plus problems met on the way.
    public struct Delivery: Sendable {
        public var message: Message
        public var warnings: [String]
    }

    /// Claims the next pending message for this session, exactly once across any number of concurrent listeners.
    /// Pings are answered automatically and pongs consumed; everything else is returned.
    public func listen(timeoutSeconds: Double, filter: JQProgram? = nil, via: String = "listen") throws(BridgeError) -> Delivery {
        let me = try requireSession()
        let deadline = Clock.monotonicNanoseconds() + Int64(max(0, timeoutSeconds) * 1e9)
        var warnings: [String] = []
        // Fast path: something is already pending, so no watch is needed (creating and closing one costs more
        // than the whole claim).
        if let message = try claimNext(me, filter: filter, via: via, warnings: &warnings) {
            return Delivery(message: message, warnings: warnings)
        }
        let watcher = park(store.makeWatcher(me.id, includeReceipts: false))
        if let reason = watcher.pollingReason { warnings.append("watching by polling: \(reason)") }
        while true {
            if let message = try claimNext(me, filter: filter, via: via, warnings: &warnings) {
                return Delivery(message: message, warnings: warnings)
            }
            let remaining = deadline - Clock.monotonicNanoseconds()
            if remaining <= 0 {
                throw .timedOut("nothing yet, listen again: `\(config.cliPath) listen`")
            }
            // Wake for the next lease expiry too, so a crashed listener's message is redelivered on time.
            var waitNs = remaining
            let now = Clock.nowNanoseconds()
            for record in store.claims(me.id) {
                waitNs = min(waitNs, max(1_000_000, config.lease.leaseEnd(record) - now))
            }
            _ = watcher.wait(timeoutMilliseconds: Int(waitNs / 1_000_000) + 1)
        }
    }

    /// Whether anything could be delivered now: a pending message, or a claim whose lease ran out.
    public func hasDeliverable(_ session: String) -> Bool {
        !store.pending(session).isEmpty || store.hasDueClaims(session, policy: config.lease, now: Clock.nowNanoseconds())
    }

    /// One pass over the pending box and the claims whose lease ran out; nil when nothing deliverable is there.
    public func claimNext(_ me: SessionManifest, filter: JQProgram?, via: String, warnings: inout [String]) throws(BridgeError) -> Message? {
        let pending = store.pending(me.id)
        let redeliverable = settleClaims(me)
        if pending.isEmpty && redeliverable.isEmpty { return nil }
        // Oldest first, whether pending or due again.
        var candidates: [(id: String, record: ClaimRecord?)] = pending.map { ($0, nil) }
        candidates += redeliverable.map { ($0.messageID, $0) }
        if !redeliverable.isEmpty { candidates.sort { $0.id < $1.id } }
        // Replies that a live `ask --wait` of this session is blocked on belong to it.
        let awaited = Set(store.awaiting(me.id).filter { Processes.isAlive($0.value) }.keys)
        for (id, record) in candidates {
            let box: StoreLayout.Box = record == nil ? .new : .claimed
            if !awaited.isEmpty, let peeked = store.peek(me.id, box, id), peeked.type == .response,
               let original = peeked.inReplyTo, awaited.contains(original) {
                continue
            }
            if let filter {
                guard let peeked = store.peek(me.id, box, id) else {
                    if record == nil, case .malformed(let reason) = try store.claim(me.id, id, keepInFlight: true) {
                        warnings.append("quarantined malformed message \(id): \(reason)")
                    }
                    continue
                }
                if !(try filter.matches(json: JSONCoding.string(peeked))) { continue }
            }
            let outcome: ClaimOutcome
            if let record {
                outcome = try takeOver(me, record)
            } else {
                outcome = try store.claim(me.id, id, keepInFlight: true)
            }
            switch outcome {
            case .gone:
                continue
            case .malformed(let reason):
                warnings.append("quarantined malformed message \(id): \(reason)")
                continue
            case .claimed(let m):
                if m.from == me.id {
                    _ = try store.move(me.id, id, from: .claimed, to: .done)
                    continue
                }
                if !m.type.expectsReply { _ = try store.move(me.id, id, from: .claimed, to: .done) }
                let leaseUntil = m.type.expectsReply
                    ? Clock.iso8601(nanoseconds: Clock.nowNanoseconds() + config.lease.leaseNanoseconds) : nil
                store.appendEvent(sender: m.from, messageID: m.id,
                                  DeliveryEvent(event: .claimed, by: me.id, byName: me.name, via: via, leaseUntil: leaseUntil))
                CrashPoint.reached(record == nil ? "claim" : "lease", record == nil ? 2 : 3)
                switch m.type {
                case .ping:
                    store.addConnection(me.id, peer: m.from)
                    if let peer = store.manifest(m.from), !peer.isEnded {
                        let pong = Message(id: Identifiers.replyID(for: m.id), from: me.id, fromName: me.name, to: peer.id,
                                           toName: peer.name, type: .pong, inReplyTo: m.id, content: "pong from \(me.name)")
                        if (try? publish(pong)) != nil {
                            store.appendEvent(sender: m.from, messageID: m.id,
                                              DeliveryEvent(event: .answered, by: me.id, byName: me.name, via: via, replyId: pong.id))
                        }
                    }
                    continue
                case .pong:
                    store.addConnection(me.id, peer: m.from)
                    continue
                case .query, .response, .sessionEnded:
                    return m
                }
            }
        }
        return nil
    }

    /// Takes over a claim whose lease ran out, under the inbox lock so it cannot interleave with a reply: unless the
    /// query was answered meanwhile (then the answer's bookkeeping is finished instead), one rename makes it a new
    /// claim (delivery + 1) and the sender's receipt records the redelivery.
    func takeOver(_ me: SessionManifest, _ record: ClaimRecord) throws(BridgeError) -> ClaimOutcome {
        let outcome = try store.withInboxLock(me.id) { () throws(BridgeError) -> ClaimOutcome in
            guard store.claimRecord(me.id, record.messageID) == record else { return .gone }
            if let m = store.peek(me.id, .claimed, record.messageID), try completeIfAnswered(me, record, m) { return .gone }
            return try store.reclaim(me.id, record)
        }
        if case .claimed(let m) = outcome {
            store.appendEvent(sender: m.from, messageID: m.id, DeliveryEvent(event: .redelivered, by: me.id, byName: me.name))
            CrashPoint.reached("lease", 2)
        }
        return outcome
    }

    /// Settles the claims whose lease ran out (see `MessageStore.settleClaims`); returns those due for redelivery.
    @discardableResult
    public func settleClaims(_ me: SessionManifest) -> [ClaimRecord] {
        store.settleClaims(me.id, name: me.name, policy: config.lease, now: Clock.nowNanoseconds()).redeliverable
    }

    func completeIfAnswered(_ me: SessionManifest, _ record: ClaimRecord, _ m: Message) throws(BridgeError) -> Bool {
        try store.completeIfAnswered(me.id, name: me.name, record, m)
    }

    /// Answers a query this session received. Exactly one reply per query, even with concurrent `reply` calls and a
    /// SIGKILL at any step. Under the session's inbox lock: (1) the query is claimed if still pending, (2) the reply
    /// (its id derived from the query's) is published to the asker, (3) the "answered" receipt is written, (4) the
    /// query moves to `done/`. After (2) the query counts as answered: the asker finds the reply by its id, and the
    /// next reply, lease check or `doctor` finishes (3) and (4).
    public func reply(to messageID: String, content: String) throws(BridgeError) -> Message {
        let id = try Identifiers.validateID(messageID)
        let me = try requireSession(register: false)
        guard store.locate(me.id, id) != nil else { throw .unknownMessage(id) }
        return try store.withInboxLock(me.id) { () throws(BridgeError) -> Message in
            if store.claimRecord(me.id, id) == nil {
                switch store.locate(me.id, id) {
                case nil:
                    throw .unknownMessage(id)
                case .new?:
                    if case .malformed(let reason) = try store.claim(me.id, id, keepInFlight: true) {
                        throw .conflict("message \(id) is malformed (\(reason)) and was quarantined")
                    }
                    CrashPoint.reached("reply", 1)
                case .done?:
                    let original = store.peek(me.id, .done, id)
                    if let original, original.type == .query {
                        if store.deliveryState(original.from, Identifiers.replyID(for: id)) == .absent,
                           store.events(sender: original.from, messageID: id).contains(where: { $0.event == .expired }) {
                            throw .conflict("message \(id) expired unanswered (delivered too many times); the asker can ask again")
                        }
                        throw .conflict("message \(id) was already answered")
                    }
                    throw .conflict("message \(id) is a \(original?.type.rawValue ?? "message") and takes no reply")
                case .quarantine?:
                    throw .conflict("message \(id) is malformed and was quarantined")
                case .claimed?, .tmp?:
                    break
                }
            }
            guard let record = store.claimRecord(me.id, id) else { throw .conflict("message \(id) was already answered") }
            guard let original = store.peek(me.id, .claimed, id) else {
                store.quarantine(me.id, fileName: record.fileName, from: .claimed)
                throw .conflict("message \(id) is malformed and was quarantined")
            }
            guard original.type == .query else {
                _ = try store.finishClaim(me.id, record)
                throw .conflict("message \(id) is a \(original.type.rawValue) and takes no reply")
            }
            if try completeIfAnswered(me, record, original) { throw .conflict("message \(id) was already answered") }
            guard let asker = store.manifest(original.from) else { throw .unknownPeer(original.fromName) }
            let response = Message(id: Identifiers.replyID(for: id), from: me.id, fromName: me.name, to: asker.id, toName: asker.name,
                                   type: .response, inReplyTo: id, content: content)
            try publish(response)
            CrashPoint.reached("reply", 2)
            store.appendEvent(sender: original.from, messageID: id,
                              DeliveryEvent(event: .answered, by: me.id, byName: me.name, via: "reply", replyId: response.id))
            CrashPoint.reached("reply", 3)
            _ = try store.finishClaim(me.id, record)
            CrashPoint.reached("reply", 4)
            return response
        }
    }

    public struct ConnectResult: Sendable {
        public var peer: SessionManifest
        public var ping: Message
        /// The peer's pong, when it answered within the wait.
        public var pong: Message?
    }

    /// Records the peer as connected and pings it; waits up to `waitSeconds` for the pong (a listening peer answers
    /// at once; one that is not listening answers when it next listens or runs a hook).
    public func connect(_ peerText: String, waitSeconds: Double) throws(BridgeError) -> ConnectResult {
        let me = try requireSession()
        let peer = try resolvePeer(peerText)
        if peer.id == me.id { throw .cannotMessageSelf }
        let ping = try send(from: me, to: peer, type: .ping, content: "ping from \(me.name)", inReplyTo: nil)
        var pong: Message?
        if waitSeconds > 0 { pong = try? awaitReply(to: ping.id, timeoutSeconds: waitSeconds) }
        return ConnectResult(peer: peer, ping: ping, pong: pong)
    }
}
