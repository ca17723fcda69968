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
    /// Moves a pending message to `claimed` (when a reply is expected) or `done`, exactly once.
    func claim(_ session: String, _ id: String, keepInFlight: Bool) throws(BridgeError) -> ClaimOutcome
    /// Moves a message between boxes; false when it is not in `from` (someone else moved it).
    func move(_ session: String, _ id: String, from: StoreLayout.Box, to: StoreLayout.Box) throws(BridgeError) -> Bool
    /// Where a message addressed to `session` is now.
    func locate(_ session: String, _ id: String) -> StoreLayout.Box?
    /// Claimed messages whose lease ran out (claimed more than `leaseNanoseconds` ago).
    func expiredClaims(_ session: String, leaseNanoseconds: Int64, now: Int64) -> [String]
    /// When a claimed message was claimed (nanoseconds), for lease accounting.
    func claimTime(_ session: String, _ id: String) -> Int64?
    /// Every message in a box, oldest first (history listing; O(n) by nature).
    func messages(_ session: String, _ box: StoreLayout.Box) -> [Message]
    /// Moves a malformed pending file aside without reading it as a message.
    func quarantine(_ session: String, fileName: String)

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
