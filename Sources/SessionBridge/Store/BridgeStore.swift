/// The storage a bridge runs on, in the domain's terms: sessions, messages moving through their states, receipts,
/// locks and a change signal. One engine per kind of storage: the file engine (`FileStore`, the embedded default,
/// one folder tree), the in-memory engine (tests) and a networked engine (Redis Streams, for sessions on several
/// machines). Nothing outside `StoreFactory` constructs an engine; callers hold `any BridgeStore`.
///
/// ## A message's life (as its recipient's store holds it)
///
///     deliver ──▶ pending ──claim──▶ in flight ──finish / replyAndComplete──▶ done
///                    │                   │  ▲
///                    │                   └──┘ redeliver (lease ran out: a new claim, delivery + 1)
///                    └── claim (no reply expected) ──▶ done            in flight ──expire──▶ done (+ expired receipt)
///     anything unreadable ──▶ quarantined
///
/// "Answered" and "expired" are `done` messages told apart by their receipts and by whether the reply exists
/// (its id is derived from the question's: `Identifiers.replyID(for:)`), which is how `status` tells them.
///
/// ## The contract every engine keeps
/// - Exactly once: `claim`, `redeliver`, `finishClaim`, `expire` and `replyAndComplete` each succeed for one caller
///   of any number of concurrent callers, on any number of hosts. The loser gets `.gone` / false, never an error.
/// - Atomic publication: a reader sees all of a delivered message or nothing; the sender's copy exists with it.
/// - No lost step: an operation killed at any instant leaves the store in a state the next reader completes
///   (`deliveryState` reports `.interrupted`, `finishDelivery` completes it; an in-flight query whose reply exists
///   is completed by the next reader through `completeIfAnswered`).
/// - Lease data, not lease policy: an engine records a claim's time and delivery count (`ClaimRecord`); whether a
///   lease ran out, and whether the query is redelivered or expired, is decided by `LeasePolicy` alone.
/// - Failure is explicit: every requirement throws `StoreError` when the store cannot answer. nil, false and empty
///   results mean only "nothing there".
/// - Cheap "anything for me?": `inboxSnapshot` costs O(pending + in flight), never O(history).
///
/// ## Skipping a pending message without taking it
/// An engine need not list folders. What today skips a pending message without taking it (`listen --filter`, and
/// listeners leaving alone the reply an `ask --wait` of the same session is blocked on, see `awaiting`) works on
/// every engine the same way: the caller reads the pending messages without taking them (`pendingMessages`, a
/// snapshot: a stream engine reads the range of its inbox stream not yet claimed; or one by one with
/// `message(session, id, in: .pending)` from the ids of `inboxSnapshot`), decides per message, and takes the chosen
/// one with `claim(session, id, …)`, a claim BY ID that is exactly once per id whatever else is pending. A message
/// left alone simply stays pending.
package protocol BridgeStore: SessionRegistry, Mailbox, ReceiptLog, StoreLocks, Sendable {
    /// Where the store is, for people (`status`, `doctor`): a folder, or a URL without its password.
    var location: String { get }

    /// Something to wait on for changes in `scope`: event-driven where the engine can (inotify on a folder, a
    /// blocking read on a network engine), polling otherwise. `alsoWatching` are local folders whose changes must
    /// wake the same wait (the tmux watcher's talk folders and target registry).
    func changeSignal(_ scope: ChangeScope, alsoWatching folders: [String]) throws(StoreError) -> any ChangeSignal

    /// `doctor`: the engine checks its own representation (and with `fix`, repairs it), reporting every finding with
    /// area "messages". Claims left half-finished by a crash are completed or expired as `policy` says.
    func check(fix: Bool, policy: LeasePolicy) -> [Doctor.Finding]
}

// MARK: - Sessions, bindings, names, heartbeats

/// Who is there: session manifests, runtime bindings, the name index, heartbeats, listen modes and connections.
package protocol SessionRegistry: Sendable {
    /// Creates a session's storage and saves its manifest (and a first heartbeat).
    func createSession(_ manifest: SessionManifest) throws(StoreError)
    /// nil when there is no such session (or `id` is not a valid id); `.corrupt` when it exists but cannot be read.
    func manifest(_ id: String) throws(StoreError) -> SessionManifest?
    func saveManifest(_ manifest: SessionManifest) throws(StoreError)
    /// Every session id, sorted.
    func sessionIDs() throws(StoreError) -> [String]
    /// Deletes a session and everything it holds (`gc`).
    func removeSession(_ id: String) throws(StoreError)
    /// Records that the session is alive now (an engine may skip a refresh made less than a second ago).
    func touchHeartbeat(_ id: String) throws(StoreError)
    /// Nanoseconds since the epoch of the last heartbeat; nil when there is none.
    func lastSeen(_ id: String) throws(StoreError) -> Int64?
    /// Every session with what `peers` shows of it, in one call. Sessions whose manifest cannot be read are left out.
    func sessionSnapshots() throws(StoreError) -> [SessionSnapshot]

    /// The bridge id bound to a runtime session key (e.g. "claude:<uuid>"), nil when unbound.
    func binding(forKey key: String) throws(StoreError) -> String?
    func bind(key: String, to id: String) throws(StoreError)
    func unbind(key: String) throws(StoreError)

    /// A hint for resolving a peer by name without reading every manifest (verified by the caller against the
    /// manifest); nil when no session took the name.
    func indexedSession(named name: String) throws(StoreError) -> String?
    func indexName(_ name: String, id: String) throws(StoreError)

    /// Listening between turns (foreground or background); nil when off.
    func listenMode(_ id: String) throws(StoreError) -> ListenMode?
    func setListenMode(_ id: String, _ mode: ListenMode?) throws(StoreError)

    /// Records that `id` and `peer` exchanged messages: `stop` tells connected peers.
    func addConnection(_ id: String, peer: String) throws(StoreError)
    func connections(_ id: String) throws(StoreError) -> [String]
}

/// One row of `peers`, read in one store call.
package struct SessionSnapshot: Sendable, Equatable {
    package var manifest: SessionManifest
    /// Nanoseconds since the epoch of the last heartbeat, nil when none was recorded.
    package var lastSeen: Int64?
    /// How many messages are pending for it.
    package var pending: Int
    package var listenMode: ListenMode?

    package init(manifest: SessionManifest, lastSeen: Int64?, pending: Int, listenMode: ListenMode?) {
        self.manifest = manifest
        self.lastSeen = lastSeen
        self.pending = pending
        self.listenMode = listenMode
    }
}

// MARK: - Messages

/// Where a message addressed to a session is in its life.
package enum MessageState: String, Sendable, CaseIterable {
    /// Delivered, not yet taken.
    case pending
    /// Claimed, a reply expected, under a lease (see `ClaimRecord`).
    case inFlight
    /// Finished: consumed, answered or expired (history).
    case done
    /// Unreadable or failing its checksum; moved aside, never delivered.
    case quarantined
}

/// Where a message is in its delivery, as its recipient's store holds it.
package enum DeliveryState: Sendable, Equatable {
    /// Not in the recipient's store at all.
    case absent
    /// Its publication began and was interrupted with the complete message saved: `finishDelivery` completes it.
    case interrupted
    /// Published; now in this state.
    case delivered(MessageState)
}

/// Result of trying to claim one message.
package enum ClaimOutcome: Sendable, Equatable {
    case claimed(Message)
    /// Another process took it first, or it is no longer there.
    case gone
    /// It was unreadable or failed validation and was quarantined (the reason).
    case malformed(String)
}

/// One pending message of a snapshot; `message` is nil when it cannot be read (claiming it quarantines it).
package struct PendingMessage: Sendable, Equatable {
    package var id: String
    package var message: Message?

    package init(id: String, message: Message?) {
        self.id = id
        self.message = message
    }
}

/// What is deliverable to a session right now: the hooks' "anything for me?" and the first pass of `listen`.
package struct InboxSnapshot: Sendable, Equatable {
    /// Pending message ids, oldest first.
    package var pending: [String]
    /// The in-flight claims, by message id.
    package var claims: [ClaimRecord]

    package init(pending: [String], claims: [ClaimRecord]) {
        self.pending = pending
        self.claims = claims
    }

    package var isEmpty: Bool { pending.isEmpty && claims.isEmpty }
}

/// Messages between sessions and their states. `session` is always the recipient whose inbox is meant.
package protocol Mailbox: Sendable {
    /// Publishes a message as pending for its recipient, keeping the sender's copy (for `status`, `await`): both
    /// exist afterwards or neither. `.notFound` when the recipient has no inbox; `.conflict` when a message with
    /// this id was delivered already.
    func deliver(_ message: Message) throws(StoreError)
    /// The sender's copy of a message it sent; nil when there is none.
    func sentMessage(sender: String, id: String) throws(StoreError) -> Message?
    /// Where message `id` addressed to `recipient` is (a reply's existence answers "was this answered?", whatever
    /// the receipts say).
    func deliveryState(_ recipient: String, _ id: String) throws(StoreError) -> DeliveryState
    /// Completes a publication that was interrupted (`.interrupted`); true when the message is now delivered.
    /// Exactly once with concurrent callers. An engine whose `deliver` is one atomic step never needs it.
    func finishDelivery(_ recipient: String, _ id: String) throws(StoreError) -> Bool

    /// Pending ids and in-flight claims, in one call costing O(pending + in flight).
    func inboxSnapshot(_ session: String) throws(StoreError) -> InboxSnapshot
    /// The pending messages themselves, oldest first: to choose among them without taking any (see the protocol's
    /// notes on skipping a message).
    func pendingMessages(_ session: String) throws(StoreError) -> [PendingMessage]
    /// How many messages are in `state` (O(n) for `done` on engines that count history by listing it).
    func count(_ session: String, _ state: MessageState) throws(StoreError) -> Int
    /// Reads a message in `state` without changing it; nil when it is not there or unreadable.
    func message(_ session: String, _ id: String, in state: MessageState) throws(StoreError) -> Message?
    /// Every message in `state`, oldest first (history listing; O(n) by nature).
    func messages(_ session: String, _ state: MessageState) throws(StoreError) -> [Message]
    /// The state of message `id` in `session`'s inbox; nil when it is not there.
    func locate(_ session: String, _ id: String) throws(StoreError) -> MessageState?
    /// The ids of the messages in `state`, sorted, without reading the messages (a listing of history: O(n)).
    func messageIDs(_ session: String, _ state: MessageState) throws(StoreError) -> [String]
    /// The ids of the sender's copies of what `sender` sent, sorted, without reading them.
    func sentIDs(sender: String) throws(StoreError) -> [String]

    /// Takes pending message `id`, exactly once: into flight with a new claim (now, delivery 1) when
    /// `keepInFlight` (a reply is expected), else straight to done. A message that cannot be read as an intact message
    /// for `session` is quarantined (`.malformed`).
    func claim(_ session: String, _ id: String, keepInFlight: Bool) throws(StoreError) -> ClaimOutcome
    /// Takes over claim `record` (its lease ran out, as `LeasePolicy` decided): a new claim (now, delivery + 1),
    /// exactly once; `.gone` when the claim is no longer exactly `record`.
    func redeliver(_ session: String, _ record: ClaimRecord) throws(StoreError) -> ClaimOutcome
    /// Moves this exact claim to done; false when it is gone (finished or taken over).
    func finishClaim(_ session: String, _ record: ClaimRecord) throws(StoreError) -> Bool
    /// Moves an in-flight message to done whatever its claim (a claimed message that takes no reply); false when it
    /// is not in flight.
    func finishInFlight(_ session: String, _ id: String) throws(StoreError) -> Bool
    /// Gives the query of this exact claim up (its last delivery's lease ran out): done, and `receipt` (expired)
    /// recorded in the sender's log. False when the claim is gone.
    func expire(_ session: String, _ record: ClaimRecord, query: Message, receipt: DeliveryEvent) throws(StoreError) -> Bool
    /// Answers the query of this exact claim, exactly once: publishes `reply` to the asker (with the replier's
    /// copy), records `receipt` (answered) in the asker's log, and finishes the claim. The reply's id is derived
    /// from the query's, so once the reply exists the query counts as answered: a crash after publishing leaves
    /// the receipt and the finish to the next reader (`completeIfAnswered`). Call holding the inbox lock.
    func replyAndComplete(_ session: String, _ record: ClaimRecord, query: Message, reply: Message,
                          receipt: DeliveryEvent) throws(StoreError)
    /// The in-flight claims, by message id.
    func claims(_ session: String) throws(StoreError) -> [ClaimRecord]
    /// The claim of message `id`, nil when it is not in flight.
    func claimRecord(_ session: String, _ id: String) throws(StoreError) -> ClaimRecord?
    /// Moves message `id` in `state` aside into quarantine without reading it as a message (it failed to read).
    func quarantine(_ session: String, _ id: String, from state: MessageState) throws(StoreError)

    /// Replies a process of `session` is blocked waiting for (`ask --wait`, `await`): listeners and hooks of the
    /// session leave those to it. Keyed by the question's id, with the waiting process's pid.
    func setAwaiting(_ session: String, messageID: String, pid: Int32) throws(StoreError)
    func clearAwaiting(_ session: String, messageID: String) throws(StoreError)
    func awaiting(_ session: String) throws(StoreError) -> [String: Int32]
}

// MARK: - Receipts

/// Delivery events of every message a session sent (claimed, answered, redelivered, expired…), appended by whoever
/// caused them, kept in the sender's log.
package protocol ReceiptLog: Sendable {
    func appendEvent(sender: String, messageID: String, _ event: DeliveryEvent) throws(StoreError)
    /// The events in the order they were appended; empty when there are none.
    func events(sender: String, messageID: String) throws(StoreError) -> [DeliveryEvent]
}

// MARK: - Locks

/// A lock of the store, by what it protects.
package enum StoreLockName: Sendable, Hashable {
    /// Registration: unique names, bindings.
    case registry
    /// A session's inbox: finishing, expiring and taking over claims are serialized by it.
    case inbox(String)
    /// The one background waiter (the asynchronous Stop hook) of a session.
    case listener(String)
    /// The one tmux watcher of a host (it types into that host's terminals).
    case watcher(host: String)
}

/// A held lock. Its TTL bounds how long it outlives a holder that dies without releasing it (an engine whose locks
/// end with their process, like flock(2), needs no TTL); a long holder calls `renew` within each TTL.
package protocol HeldLock: AnyObject {
    /// Extends the TTL; false when the lock was lost (it expired and another process took it).
    func renew() throws(StoreError) -> Bool
    func release()
}

package protocol StoreLocks: Sendable {
    /// Acquires `name` for `ttlMilliseconds`; with `wait`, blocks until it is free, else returns nil when it is held.
    func acquire(_ name: StoreLockName, ttlMilliseconds: Int, wait: Bool) throws(StoreError) -> (any HeldLock)?
}

extension StoreLocks {
    /// TTL of the short locks (registry, inbox): far above the few store calls made under them.
    package static var shortLockMilliseconds: Int { 30_000 }

    /// Runs `body` holding `name` (blocking until it is free).
    package func withLock<T>(_ name: StoreLockName, _ body: () throws(BridgeError) -> T) throws(BridgeError) -> T {
        guard let lock = try bridged({ () throws(StoreError) in try acquire(name, ttlMilliseconds: Self.shortLockMilliseconds, wait: true) }) else {
            throw BridgeError(StoreError(.conflict, "the store's \(name) lock could not be taken"))
        }
        defer { lock.release() }
        return try body()
    }
}

// MARK: - Change signal

/// What a change signal wakes for.
package enum ChangeScope: Sendable, Equatable {
    /// New pending messages of a session.
    case inbox(String)
    /// New pending messages of a session and receipts of what it sent (`ask --wait`, `await`).
    case inboxAndReceipts(String)
    /// New pending messages of any session, and new sessions (the tmux watcher).
    case allInboxes
    /// What a person watching the whole bridge sees change (the dashboard): sessions made, changed (manifest,
    /// listening mode) or removed, any delivery, answer or expiry, and any receipt (so a claim is seen with the
    /// receipt the bridge writes with it). It follows the sessions: one made after the signal is watched too.
    case allInboxesAndReceipts
}

/// A wait that ends when something may have changed. A wake-up means "look again": callers rescan, so merged or lost
/// signals cannot lose a message. Each engine implements it its own way.
package protocol ChangeSignal: AnyObject {
    /// Blocks until a change may have happened or the timeout passes. Returns false on timeout.
    func wait(timeoutMilliseconds: Int) -> Bool
    /// How it waits ("inotify", "polling", "redis"…), for logs.
    var mechanism: String { get }
    /// Why it polls rather than being woken by the change; nil when event-driven.
    var pollingReason: String? { get }
}

// MARK: - Steps shared by every engine

extension BridgeStore {
    /// Runs `body` holding the store-wide registration lock.
    package func withRegistryLock<T>(_ body: () throws(BridgeError) -> T) throws(BridgeError) -> T {
        try withLock(.registry, body)
    }

    /// Runs `body` holding `session`'s inbox lock.
    package func withInboxLock<T>(_ session: String, _ body: () throws(BridgeError) -> T) throws(BridgeError) -> T {
        try withLock(.inbox(session), body)
    }
}
