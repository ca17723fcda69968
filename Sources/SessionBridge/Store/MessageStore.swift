/// The storage a bridge runs on. The file store (`FileStore`) is the embedded default; a networked backend
/// (e.g. Redis Streams, for sessions on several machines) implements the same operations.
///
/// Contract: `claim` hands each pending message to exactly one caller, whatever the number of concurrent callers;
/// `deliver` publishes a message atomically (a reader sees all of it or nothing); "is anything pending?" costs
/// O(pending), never O(history).
public protocol MessageStore: Sendable {
    // Sessions
    func createSession(_ manifest: SessionManifest) throws(BridgeError)
    func manifest(_ id: String) -> SessionManifest?
    func saveManifest(_ manifest: SessionManifest) throws(BridgeError)
    func sessionIDs() -> [String]
    func removeSession(_ id: String)
    func touchHeartbeat(_ id: String)
    /// Nanoseconds since the epoch of the last heartbeat.
    func lastSeen(_ id: String) -> Int64?
    /// Runs `body` while holding the store-wide registration lock (unique names, bindings).
    func withRegistryLock<T>(_ body: () throws(BridgeError) -> T) throws(BridgeError) -> T

    // Bindings of runtime session keys (e.g. "claude:<uuid>") to bridge ids
    func binding(forKey key: String) -> String?
    func bind(key: String, to id: String) throws(BridgeError)
    func unbind(key: String)

    // Names: a hint for resolving a peer by name without reading every manifest (verified by the caller).
    func indexedSession(named name: String) -> String?
    func indexName(_ name: String, id: String)

    // Listening between turns
    func listenMode(_ id: String) -> ListenMode?
    func setListenMode(_ id: String, _ mode: ListenMode?) throws(BridgeError)

    // Connections
    func addConnection(_ id: String, peer: String)
    func connections(_ id: String) -> [String]

    // Messages
    /// Publishes a message into the recipient's pending box, keeping the sender's copy (for `status`, `await`).
    /// Either both exist afterwards or neither.
    func deliver(_ message: Message) throws(BridgeError)
    func sentMessage(sender: String, id: String) -> Message?
    /// Pending message ids of a session, oldest first.
    func pending(_ session: String) -> [String]
    func count(_ session: String, _ box: StoreLayout.Box) -> Int
    /// Reads a message without claiming it.
    func peek(_ session: String, _ box: StoreLayout.Box, _ id: String) -> Message?
    /// Moves a pending message to `claimed` (when a reply is expected, with a claim record: now, delivery 1) or
    /// `done`, exactly once.
    func claim(_ session: String, _ id: String, keepInFlight: Bool) throws(BridgeError) -> ClaimOutcome
    /// Takes over a claim whose lease ran out (a new claim record: now, delivery + 1), exactly once.
    func reclaim(_ session: String, _ record: ClaimRecord) throws(BridgeError) -> ClaimOutcome
    /// Moves this exact claim to `done`; false when it is gone (finished or taken over).
    func finishClaim(_ session: String, _ record: ClaimRecord) throws(BridgeError) -> Bool
    /// Moves a message between boxes (never into `claimed`); false when it is not in `from`.
    func move(_ session: String, _ id: String, from: StoreLayout.Box, to: StoreLayout.Box) throws(BridgeError) -> Bool
    /// Where a message addressed to `session` is now.
    func locate(_ session: String, _ id: String) -> StoreLayout.Box?
    /// The claims of a session (claimed, unanswered queries), with their claim time and delivery number.
    func claims(_ session: String) -> [ClaimRecord]
    func claimRecord(_ session: String, _ id: String) -> ClaimRecord?
    /// Where a message addressed to `recipient` is in its delivery (answers "has this been answered?" from the
    /// reply's existence, whatever receipts say).
    func deliveryState(_ recipient: String, _ id: String) -> DeliveryState
    /// Publishes a delivery interrupted after its temp file was written; true when the message is delivered.
    @discardableResult
    func finishDelivery(_ recipient: String, tempPath: String) -> Bool
    /// Runs `body` holding the session's inbox lock: finishing and taking over claims are serialized by it.
    func withInboxLock<T>(_ session: String, _ body: () throws(BridgeError) -> T) throws(BridgeError) -> T
    /// Every message in a box, oldest first (history listing; O(n) by nature).
    func messages(_ session: String, _ box: StoreLayout.Box) -> [Message]
    /// Moves a malformed pending file aside without reading it as a message.
    func quarantine(_ session: String, fileName: String)
    /// Moves any entry of a box aside into quarantine without opening or following it.
    func quarantine(_ session: String, fileName: String, from box: StoreLayout.Box)

    // Replies a process is blocked waiting for (`ask --wait`, `await`): listeners and hooks leave those alone.
    func setAwaiting(_ session: String, messageID: String, pid: Int32)
    func clearAwaiting(_ session: String, messageID: String)
    /// Message ids being awaited, with the waiting process.
    func awaiting(_ session: String) -> [String: Int32]

    // Receipts
    func appendEvent(sender: String, messageID: String, _ event: DeliveryEvent)
    func events(sender: String, messageID: String) -> [DeliveryEvent]

    /// Something to wait on for changes to a session's pending box (and its receipts, for `ask --wait`).
    func makeWatcher(_ session: String, includeReceipts: Bool) -> DirectoryWatcher
}

/// What settling a session's due claims did.
public struct ClaimSettlement: Sendable {
    /// Due for redelivery: the next listener takes them over.
    public var redeliverable: [ClaimRecord] = []
    /// Answered by an interrupted `reply`, now finished.
    public var finished: [String] = []
    /// On their last delivery: marked expired.
    public var expired: [String] = []
    /// Unreadable claimed files, moved to quarantine.
    public var quarantined: [String] = []
}

/// The step sequences built on the store's atomic operations, shared by the bridge and `doctor`.
extension MessageStore {
    /// True when a claim's lease ran out (it is due for redelivery or expiry).
    public func hasDueClaims(_ session: String, policy: LeasePolicy, now: Int64) -> Bool {
        claims(session).contains { policy.leaseEnd($0) <= now }
    }

    /// When the reply to claimed query `m` exists (published, or left complete by an interrupted `reply`), finishes
    /// the answer: publishes it if needed, writes the "answered" receipt if missing, moves the query to `done/`.
    /// Call with the inbox lock held. True when the query is answered.
    public func completeIfAnswered(_ session: String, name: String, _ record: ClaimRecord, _ m: Message) throws(BridgeError) -> Bool {
        let replyID = Identifiers.replyID(for: m.id)
        var state = deliveryState(m.from, replyID)
        if case .interrupted(let temp) = state {
            state = finishDelivery(m.from, tempPath: temp) ? .delivered(.new) : deliveryState(m.from, replyID)
        }
        guard case .delivered = state else { return false }
        if !events(sender: m.from, messageID: m.id).contains(where: { $0.event == .answered }) {
            appendEvent(sender: m.from, messageID: m.id,
                        DeliveryEvent(event: .answered, by: session, byName: name, via: "reply", replyId: replyID))
        }
        _ = try finishClaim(session, record)
        return true
    }

    /// Settles the claims whose lease ran out, under the inbox lock: a query answered by an interrupted `reply` is
    /// finished, one on its last delivery is marked expired (the receipt, then the move to `done/`), the rest are due
    /// for redelivery. Safe with concurrent callers: each move happens once.
    public func settleClaims(_ session: String, name: String, policy: LeasePolicy, now: Int64) -> ClaimSettlement {
        let due = claims(session).filter { policy.leaseEnd($0) <= now }
        var out = ClaimSettlement()
        if due.isEmpty { return out }
        _ = try? withInboxLock(session) { () throws(BridgeError) -> Void in
            for record in due where claimRecord(session, record.messageID) == record {
                guard let m = peek(session, .claimed, record.messageID) else {
                    quarantine(session, fileName: record.fileName, from: .claimed)
                    out.quarantined.append(record.messageID)
                    continue
                }
                if try completeIfAnswered(session, name: name, record, m) {
                    out.finished.append(m.id)
                    continue
                }
                if policy.decide(record, now: now) == .expire {
                    // The receipt comes first: a crash before the move leaves an expired claim that the next
                    // settling (or doctor) moves, never a query in done/ that reads as answered.
                    if !events(sender: m.from, messageID: m.id).contains(where: { $0.event == .expired }) {
                        appendEvent(sender: m.from, messageID: m.id, DeliveryEvent(event: .expired, by: session, byName: name))
                    }
                    CrashPoint.reached("expire", 1)
                    if try finishClaim(session, record) { out.expired.append(m.id) }
                } else {
                    out.redeliverable.append(record)
                }
            }
        }
        return out
    }
}
