/// Everything the in-memory engine holds, as plain values. One `Monitor` guards it whole, so every operation is one
/// critical section: atomic by construction, exactly once with any number of threads.
struct MemoryState {
    var sessions: [String: SessionSlot] = [:]
    var bindings: [String: String] = [:]
    var names: [String: String] = [:]
    var locks: [StoreLockName: LockSlot] = [:]
    /// Bumped by every change a `.allInboxes` signal wakes for (a delivery anywhere, a new or removed session).
    var generation: UInt64 = 0
    var nextLockToken: UInt64 = 1
}

/// One session: its manifest, liveness, inbox by state, what it sent and the receipts of what it sent.
struct SessionSlot {
    var manifest: ManifestSlot
    var heartbeat: Int64?
    var listenMode: ListenMode?
    var connections: Set<String> = []
    /// Pending messages by id (the inbox's order is the ids' order: UUIDv7 ids sort by creation time).
    var pending: [String: Payload] = [:]
    /// In-flight queries by id, each with its claim.
    var inFlight: [String: (payload: Payload, claim: ClaimRecord)] = [:]
    var done: [String: Payload] = [:]
    /// Moved aside, oldest first; the same id may be quarantined more than once.
    var quarantined: [(id: String, payload: Payload)] = []
    /// Copies of the messages this session sent, by id.
    var sent: [String: Message] = [:]
    /// Delivery events of the messages this session sent, by message id, in append order.
    var receipts: [String: [DeliveryEvent]] = [:]
    /// Replies a process of this session is blocked on: question id → pid.
    var awaiting: [String: Int32] = [:]
    /// Bumped by every change to the inbox (wakes `.inbox` signals).
    var inboxGeneration: UInt64 = 0
    /// Bumped by every receipt appended to this session's log (wakes `.inboxAndReceipts` signals).
    var receiptGeneration: UInt64 = 0

    init(manifest: ManifestSlot) { self.manifest = manifest }

    func state(of id: String) -> MessageState? {
        if pending[id] != nil { return .pending }
        if inFlight[id] != nil { return .inFlight }
        if done[id] != nil { return .done }
        if quarantined.contains(where: { $0.id == id }) { return .quarantined }
        return nil
    }
}

/// A manifest as held: readable, or damaged (planted by a test: reads report `.corrupt`).
enum ManifestSlot {
    case readable(SessionManifest)
    case unreadable
}

/// A message as held. Engines store what was delivered; a test may plant bytes that are no message at all, which
/// the engine must then quarantine rather than deliver, as the file engine does with a damaged file.
enum Payload {
    case message(Message)
    case bytes([UInt8])

    /// The intact message for `session` with id `id`, or why it is not one.
    func validated(id: String, for session: String) -> Result<Message, PayloadProblem> {
        let m: Message
        switch self {
        case .message(let message): m = message
        case .bytes(let bytes):
            guard let decoded = JSONCoding.decode(Message.self, from: bytes) else { return .failure(.notAMessage) }
            m = decoded
        }
        if m.isIntact && m.id == id && m.to == session { return .success(m) }
        return .failure(m.sha256 != SHA256.hex(m.content) ? .checksum : .idsDiffer)
    }

    /// The message it holds when intact and named `id` (whatever its recipient), for reads that change nothing.
    func readable(id: String) -> Message? {
        switch self {
        case .message(let m): return m.isIntact && m.id == id ? m : nil
        case .bytes(let bytes):
            guard let m = JSONCoding.decode(Message.self, from: bytes), m.isIntact, m.id == id else { return nil }
            return m
        }
    }
}

/// Why a held payload is not an intact message (the texts are the file engine's).
enum PayloadProblem: Error {
    case notAMessage, checksum, idsDiffer

    var reason: String {
        switch self {
        case .notAMessage: return "not a valid message JSON object"
        case .checksum: return "checksum mismatch"
        case .idsDiffer: return "ids do not match the file"
        }
    }
}

/// A held named lock: who holds it (a token only its `HeldLock` knows) and until when.
struct LockSlot {
    var token: UInt64
    /// Wall-clock nanoseconds (the engine's clock) after which the lock is free whatever its holder does.
    var expiresAt: Int64
}
