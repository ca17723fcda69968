/// What settling a session's due claims did.
package struct ClaimSettlement: Sendable {
    /// Due for redelivery: the next listener takes them over.
    package var redeliverable: [ClaimRecord] = []
    /// Answered by an interrupted `reply`, now finished.
    package var finished: [String] = []
    /// On their last delivery: marked expired.
    package var expired: [String] = []
    /// Unreadable claimed messages, moved to quarantine.
    package var quarantined: [String] = []
}

/// The lease and redelivery rules, applied to any engine: when a claim's lease runs out (`LeasePolicy`), whether an
/// in-flight query is finished (its reply exists), redelivered or expired, and when a waiting listener must wake to
/// take a crashed listener's message over. Engines only store claim records; every decision is made here.
package struct Leases {
    package let store: any BridgeStore
    package let policy: LeasePolicy

    package init(store: any BridgeStore, policy: LeasePolicy) {
        self.store = store
        self.policy = policy
    }

    /// True when a claim's lease ran out (it is due for redelivery or expiry).
    package func hasDue(_ claims: [ClaimRecord], now: Int64) -> Bool {
        claims.contains { policy.leaseEnd($0) <= now }
    }

    /// How long a listener may sleep: until `deadline` (nanoseconds from now) or the next lease end, whichever is
    /// first, so a crashed listener's message is redelivered on time.
    package func wait(remaining: Int64, claims: [ClaimRecord], now: Int64) -> Int64 {
        var wait = remaining
        for record in claims { wait = min(wait, max(1_000_000, policy.leaseEnd(record) - now)) }
        return wait
    }

    /// When the reply to claimed query `m` exists (published, or left complete by an interrupted `reply`), finishes
    /// the answer: publishes it if needed, writes the "answered" receipt if missing, finishes the claim. Call with
    /// the inbox lock held. True when the query is answered.
    package func completeIfAnswered(_ session: String, name: String, _ record: ClaimRecord, _ m: Message) throws(BridgeError) -> Bool {
        let replyID = Identifiers.replyID(for: m.id)
        let answered = try bridged { () throws(StoreError) -> Bool in
            switch try store.deliveryState(m.from, replyID) {
            case .absent: return false
            case .delivered: return true
            case .interrupted: return try store.finishDelivery(m.from, replyID)
            }
        }
        guard answered else { return false }
        try bridged { () throws(StoreError) in
            if !(try store.events(sender: m.from, messageID: m.id)).contains(where: { $0.event == .answered }) {
                try store.appendEvent(sender: m.from, messageID: m.id,
                                      DeliveryEvent(event: .answered, by: session, byName: name, via: "reply", replyId: replyID))
            }
            _ = try store.finishClaim(session, record)
        }
        return true
    }

    /// Settles the claims whose lease ran out, under the inbox lock: a query answered by an interrupted `reply` is
    /// finished, one on its last delivery is expired, the rest are due for redelivery. Safe with concurrent
    /// callers: each step happens once.
    package func settle(_ session: String, name: String, claims: [ClaimRecord]? = nil, now: Int64) -> ClaimSettlement {
        let due = ((claims ?? (try? store.claims(session))) ?? []).filter { policy.leaseEnd($0) <= now }
        var out = ClaimSettlement()
        if due.isEmpty { return out }
        _ = try? store.withInboxLock(session) { () throws(BridgeError) -> Void in
            for record in due where (try? store.claimRecord(session, record.messageID)) == record {
                guard let m = try bridged({ () throws(StoreError) in try store.message(session, record.messageID, in: .inFlight) }) else {
                    try bridged { () throws(StoreError) in try store.quarantine(session, record.messageID, from: .inFlight) }
                    out.quarantined.append(record.messageID)
                    continue
                }
                if try completeIfAnswered(session, name: name, record, m) {
                    out.finished.append(m.id)
                    continue
                }
                if policy.decide(record, now: now) == .expire {
                    let receipt = DeliveryEvent(event: .expired, by: session, byName: name)
                    if try bridged({ () throws(StoreError) in try store.expire(session, record, query: m, receipt: receipt) }) {
                        out.expired.append(m.id)
                    }
                } else {
                    out.redeliverable.append(record)
                }
            }
        }
        return out
    }

    /// Takes over a claim whose lease ran out, under the inbox lock so it cannot interleave with a reply: unless the
    /// query was answered meanwhile (then the answer's bookkeeping is finished instead), it becomes a new claim
    /// (delivery + 1) and the sender's receipt records the redelivery.
    package func takeOver(_ me: SessionManifest, _ record: ClaimRecord) throws(BridgeError) -> ClaimOutcome {
        let outcome = try store.withInboxLock(me.id) { () throws(BridgeError) -> ClaimOutcome in
            guard try bridged({ () throws(StoreError) in try store.claimRecord(me.id, record.messageID) }) == record else { return .gone }
            if let m = try bridged({ () throws(StoreError) in try store.message(me.id, record.messageID, in: .inFlight) }),
               try completeIfAnswered(me.id, name: me.name, record, m) {
                return .gone
            }
            return try bridged { () throws(StoreError) in try store.redeliver(me.id, record) }
        }
        if case .claimed(let m) = outcome {
            try? store.appendEvent(sender: m.from, messageID: m.id, DeliveryEvent(event: .redelivered, by: me.id, byName: me.name))
            CrashPoint.reached("lease", 2)
        }
        return outcome
    }
}
