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

    /// Blocks until the reply to one of this session's messages arrives, and claims it.
    /// On timeout: `.seenNotAnswered` when the peer has claimed the question, `.timedOut` when it has not.
    public func awaitReply(to messageID: String, timeoutSeconds: Double) throws(BridgeError) -> Message {
        let id = try Identifiers.validateID(messageID)
        let me = try requireSession(register: false)
        guard let sent = store.sentMessage(sender: me.id, id: id) else { throw .unknownMessage(id) }
        store.setAwaiting(me.id, messageID: id, pid: Processes.currentPID())
        defer { store.clearAwaiting(me.id, messageID: id) }
        let watcher = park(store.makeWatcher(me.id, includeReceipts: true))
        let deadline = Clock.monotonicNanoseconds() + Int64(max(0, timeoutSeconds) * 1e9)
        while true {
            let events = store.events(sender: me.id, messageID: id)
            if let replyID = events.last(where: { $0.event == .answered })?.replyId, let reply = takeReply(replyID, session: me) {
                return reply
            }
            let remaining = deadline - Clock.monotonicNanoseconds()
            if remaining <= 0 {
                let seconds = Int(timeoutSeconds.rounded())
                if let seen = events.last(where: { $0.event == .claimed }), events.last?.event != .redelivered {
                    throw .seenNotAnswered("\(sent.toName) saw the message at \(seen.at) but has not answered within \(seconds) s; "
                        + "wait again with `\(config.cliPath) await \(id)`")
                }
                throw .timedOut("no reply from \(sent.toName) within \(seconds) s: the message has not been seen yet "
                    + "(is \(sent.toName) listening?); it stays queued, wait again with `\(config.cliPath) await \(id)`")
            }
            _ = watcher.wait(timeoutMilliseconds: Int(remaining / 1_000_000) + 1)
        }
    }

    /// Claims a reply from this session's inbox wherever it is (a hook may have taken it first).
    private func takeReply(_ replyID: String, session me: SessionManifest) -> Message? {
        guard Identifiers.isValidID(replyID) else { return nil }
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
        releaseExpiredClaims(me)
        if let message = try claimNext(me, filter: filter, via: via, warnings: &warnings) {
            return Delivery(message: message, warnings: warnings)
        }
        let watcher = park(store.makeWatcher(me.id, includeReceipts: false))
        if let reason = watcher.pollingReason { warnings.append("watching by polling: \(reason)") }
        while true {
            releaseExpiredClaims(me)
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
            for id in store.expiredClaims(me.id, leaseNanoseconds: 0, now: now) {
                if let t = store.claimTime(me.id, id) {
                    waitNs = min(waitNs, max(1_000_000, t + Int64(config.leaseSeconds) * 1_000_000_000 - now))
                }
            }
            _ = watcher.wait(timeoutMilliseconds: Int(waitNs / 1_000_000) + 1)
        }
    }

    /// One pass over the pending box; nil when nothing deliverable is there.
    public func claimNext(_ me: SessionManifest, filter: JQProgram?, via: String, warnings: inout [String]) throws(BridgeError) -> Message? {
        let pending = store.pending(me.id)
        if pending.isEmpty { return nil }
        // Replies that a live `ask --wait` of this session is blocked on belong to it.
        let awaited = Set(store.awaiting(me.id).filter { Processes.isAlive($0.value) }.keys)
        for id in pending {
            if !awaited.isEmpty, let peeked = store.peek(me.id, .new, id), peeked.type == .response,
               let original = peeked.inReplyTo, awaited.contains(original) {
                continue
            }
            if let filter {
                guard let peeked = store.peek(me.id, .new, id) else {
                    if case .malformed(let reason) = try store.claim(me.id, id, keepInFlight: true) {
                        warnings.append("quarantined malformed message \(id): \(reason)")
                    }
                    continue
                }
                if !(try filter.matches(json: JSONCoding.string(peeked))) { continue }
            }
            switch try store.claim(me.id, id, keepInFlight: true) {
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
                    ? Clock.iso8601(nanoseconds: Clock.nowNanoseconds() + Int64(config.leaseSeconds) * 1_000_000_000) : nil
                store.appendEvent(sender: m.from, messageID: m.id,
                                  DeliveryEvent(event: .claimed, by: me.id, byName: me.name, via: via, leaseUntil: leaseUntil))
                switch m.type {
                case .ping:
                    store.addConnection(me.id, peer: m.from)
                    if let peer = store.manifest(m.from), !peer.isEnded,
                       let pong = try? send(from: me, to: peer, type: .pong, content: "pong from \(me.name)", inReplyTo: m.id) {
                        store.appendEvent(sender: m.from, messageID: m.id,
                                          DeliveryEvent(event: .answered, by: me.id, byName: me.name, via: via, replyId: pong.id))
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

    /// Puts claimed queries whose lease ran out back into the pending box (or marks them expired after
    /// `maxDeliveries` claims). Safe with concurrent callers: each move happens once.
    @discardableResult
    public func releaseExpiredClaims(_ me: SessionManifest) -> [String] {
        let lease = Int64(config.leaseSeconds) * 1_000_000_000
        var released: [String] = []
        for id in store.expiredClaims(me.id, leaseNanoseconds: lease, now: Clock.nowNanoseconds()) {
            guard let m = store.peek(me.id, .claimed, id) else { continue }
            let claims = store.events(sender: m.from, messageID: id).filter { $0.event == .claimed }.count
            if claims >= config.maxDeliveries {
                if (try? store.move(me.id, id, from: .claimed, to: .done)) == true {
                    store.appendEvent(sender: m.from, messageID: id, DeliveryEvent(event: .expired, by: me.id, byName: me.name))
                }
            } else if (try? store.move(me.id, id, from: .claimed, to: .new)) == true {
                store.appendEvent(sender: m.from, messageID: id, DeliveryEvent(event: .redelivered, by: me.id, byName: me.name))
                released.append(id)
            }
        }
        return released
    }

    /// Answers a query this session received. Exactly one reply per query, even with concurrent `reply` calls.
    public func reply(to messageID: String, content: String) throws(BridgeError) -> Message {
        let id = try Identifiers.validateID(messageID)
        let me = try requireSession(register: false)
        switch store.locate(me.id, id) {
        case nil:
            throw .unknownMessage(id)
        case .new?:
            if case .malformed(let reason) = try store.claim(me.id, id, keepInFlight: true) {
                throw .conflict("message \(id) is malformed (\(reason)) and was quarantined")
            }
        case .done?:
            let original = store.peek(me.id, .done, id)
            if original?.type == .query { throw .conflict("message \(id) was already answered") }
            throw .conflict("message \(id) is a \(original?.type.rawValue ?? "message") and takes no reply")
        case .quarantine?:
            throw .conflict("message \(id) is malformed and was quarantined")
        case .claimed?, .tmp?:
            break
        }
        guard let original = store.peek(me.id, .claimed, id) else {
            throw .conflict("message \(id) was already answered")
        }
        guard original.type == .query else { throw .conflict("message \(id) is a \(original.type.rawValue) and takes no reply") }
        guard try store.move(me.id, id, from: .claimed, to: .done) else { throw .conflict("message \(id) was already answered") }
        guard let asker = store.manifest(original.from) else {
            _ = try? store.move(me.id, id, from: .done, to: .claimed)
            throw .unknownPeer(original.fromName)
        }
        let response: Message
        do {
            response = try send(from: me, to: asker, type: .response, content: content, inReplyTo: id)
        } catch {
            _ = try? store.move(me.id, id, from: .done, to: .claimed)
            throw error
        }
        store.appendEvent(sender: original.from, messageID: id,
                          DeliveryEvent(event: .answered, by: me.id, byName: me.name, via: "reply", replyId: response.id))
        return response
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
