/// The in-memory engine: every requirement of `BridgeStore` held in process memory, beside the file engine as
/// swift-nio's EmbeddedChannel sits beside a real channel. Each operation is one critical section over one
/// `MemoryState` (a mutex), and every change broadcasts one condition variable, which is the change signal: a
/// waiting listener or asker wakes at once. Nothing is written anywhere; the store lives as long as the value.
///
/// Uses: tests (directly, with a manual `StoreClock` so leases and lock TTLs run out without sleeping), and
/// `SESSION_BRIDGE_STORE=memory:NAME`, which opens the named store of this process (`InMemoryStore.named`), so that
/// several bridges in one test process share it as separate processes share a folder.
package final class InMemoryStore: BridgeStore {
    let state: Monitor<MemoryState>
    package let clock: StoreClock
    package let location: String

    package init(name: String = "", clock: StoreClock = .system) {
        self.state = Monitor(MemoryState())
        self.clock = clock
        self.location = "memory:" + name
        clock.hand?.onAdvance { [weak state] in state?.broadcast() }
    }

    // MARK: Named stores of this process

    private static let registry = NamedStores { InMemoryStore(name: $0) }

    /// The process's store called `name`, made on first use (what `memory:NAME` opens).
    package static func named(_ name: String) -> InMemoryStore { registry.named(name) }

    /// Forgets the named store (its holders keep their reference; a later `named` makes a fresh one).
    package static func discard(named name: String) { registry.discard(name) }

    // MARK: Sessions

    package func createSession(_ manifest: SessionManifest) throws(StoreError) {
        guard Identifiers.isValidID(manifest.id) else { throw StoreError(.io, "invalid session id '\(Identifiers.printable(manifest.id))'") }
        let now = clock.now()
        state.update { s in
            if s.sessions[manifest.id] == nil {
                s.sessions[manifest.id] = SessionSlot(manifest: .readable(manifest))
            } else {
                s.sessions[manifest.id]?.manifest = .readable(manifest)
            }
            s.sessions[manifest.id]?.heartbeat = now
            s.generation &+= 1
        }
    }

    package func manifest(_ id: String) throws(StoreError) -> SessionManifest? {
        let slot = state.withLock { $0.sessions[id]?.manifest }
        switch slot {
        case nil: return nil
        case .readable(let m)?: return m
        case .unreadable?: throw StoreError(.corrupt, "the manifest of session \(id) cannot be read")
        }
    }

    package func saveManifest(_ manifest: SessionManifest) throws(StoreError) {
        guard Identifiers.isValidID(manifest.id) else { throw StoreError(.io, "invalid session id '\(Identifiers.printable(manifest.id))'") }
        state.update { s in
            if s.sessions[manifest.id] == nil {
                s.sessions[manifest.id] = SessionSlot(manifest: .readable(manifest))
                s.generation &+= 1
            } else {
                s.sessions[manifest.id]?.manifest = .readable(manifest)
            }
        }
    }

    package func sessionIDs() throws(StoreError) -> [String] {
        state.withLock { $0.sessions.keys.sorted() }
    }

    package func removeSession(_ id: String) throws(StoreError) {
        state.update { s in
            if s.sessions.removeValue(forKey: id) != nil { s.generation &+= 1 }
        }
    }

    package func touchHeartbeat(_ id: String) throws(StoreError) {
        let now = clock.now()
        state.withLock { s in
            if s.sessions[id] != nil { s.sessions[id]?.heartbeat = now }
        }
    }

    package func lastSeen(_ id: String) throws(StoreError) -> Int64? {
        state.withLock { $0.sessions[id]?.heartbeat }
    }

    package func sessionSnapshots() throws(StoreError) -> [SessionSnapshot] {
        state.withLock { s in
            s.sessions.keys.sorted().compactMap { id -> SessionSnapshot? in
                guard let slot = s.sessions[id], case .readable(let m) = slot.manifest else { return nil }
                return SessionSnapshot(manifest: m, lastSeen: slot.heartbeat, pending: slot.pending.count, listenMode: slot.listenMode)
            }
        }
    }

    package func binding(forKey key: String) throws(StoreError) -> String? {
        state.withLock { $0.bindings[key] }
    }

    package func bind(key: String, to id: String) throws(StoreError) {
        guard Identifiers.isValidID(id) else { throw StoreError(.io, "invalid session id '\(Identifiers.printable(id))'") }
        state.withLock { $0.bindings[key] = id }
    }

    package func unbind(key: String) throws(StoreError) {
        state.withLock { _ = $0.bindings.removeValue(forKey: key) }
    }

    package func indexedSession(named name: String) throws(StoreError) -> String? {
        guard Identifiers.isValidName(name) else { return nil }
        return state.withLock { $0.names[name] }
    }

    package func indexName(_ name: String, id: String) throws(StoreError) {
        guard Identifiers.isValidName(name), Identifiers.isValidID(id) else { return }
        state.withLock { $0.names[name] = id }
    }

    package func listenMode(_ id: String) throws(StoreError) -> ListenMode? {
        state.withLock { $0.sessions[id]?.listenMode }
    }

    package func setListenMode(_ id: String, _ mode: ListenMode?) throws(StoreError) {
        try state.update { (s) throws(StoreError) in
            guard s.sessions[id] != nil else { throw StoreError(.notFound, id) }
            s.sessions[id]?.listenMode = mode
        }
    }

    package func addConnection(_ id: String, peer: String) throws(StoreError) {
        guard Identifiers.isValidID(peer) else { return }
        state.withLock { s in
            if s.sessions[id] != nil { s.sessions[id]?.connections.insert(peer) }
        }
    }

    package func connections(_ id: String) throws(StoreError) -> [String] {
        state.withLock { s in (s.sessions[id]?.connections).map { $0.sorted() } ?? [] }
    }

    // MARK: Messages

    package func deliver(_ message: Message) throws(StoreError) {
        try state.update { (s) throws(StoreError) in try Self.deliver(message, into: &s) }
    }

    /// Publication in one step: the recipient's pending entry and the sender's copy appear together.
    static func deliver(_ message: Message, into s: inout MemoryState) throws(StoreError) {
        guard Identifiers.isValidID(message.to), Identifiers.isValidID(message.id), var slot = s.sessions[message.to] else {
            throw StoreError(.notFound, message.to)
        }
        if slot.state(of: message.id) != nil { throw StoreError(.conflict, "message \(message.id) was already delivered") }
        slot.pending[message.id] = .message(message)
        slot.inboxGeneration &+= 1
        s.sessions[message.to] = slot
        if s.sessions[message.from] != nil { s.sessions[message.from]?.sent[message.id] = message }
        s.generation &+= 1
    }

    package func sentMessage(sender: String, id: String) throws(StoreError) -> Message? {
        state.withLock { $0.sessions[sender]?.sent[id] }
    }

    package func deliveryState(_ recipient: String, _ id: String) throws(StoreError) -> DeliveryState {
        state.withLock { s in s.sessions[recipient]?.state(of: id).map { .delivered($0) } ?? .absent }
    }

    /// Publication is one step here, so nothing is ever interrupted: true when the message is delivered.
    package func finishDelivery(_ recipient: String, _ id: String) throws(StoreError) -> Bool {
        state.withLock { s in s.sessions[recipient]?.state(of: id) != nil }
    }

    package func inboxSnapshot(_ session: String) throws(StoreError) -> InboxSnapshot {
        state.withLock { s in
            guard let slot = s.sessions[session] else { return InboxSnapshot(pending: [], claims: []) }
            return InboxSnapshot(pending: slot.pending.keys.sorted(), claims: Self.sortedClaims(slot))
        }
    }

    package func pendingMessages(_ session: String) throws(StoreError) -> [PendingMessage] {
        state.withLock { s in
            guard let slot = s.sessions[session] else { return [] }
            return slot.pending.keys.sorted().map { id in
                PendingMessage(id: id, message: try? slot.pending[id]?.validated(id: id, for: session).get())
            }
        }
    }

    package func count(_ session: String, _ messageState: MessageState) throws(StoreError) -> Int {
        state.withLock { s in
            guard let slot = s.sessions[session] else { return 0 }
            switch messageState {
            case .pending: return slot.pending.count
            case .inFlight: return slot.inFlight.count
            case .done: return slot.done.count
            case .quarantined: return slot.quarantined.count
            }
        }
    }

    package func message(_ session: String, _ id: String, in messageState: MessageState) throws(StoreError) -> Message? {
        state.withLock { s in
            guard let slot = s.sessions[session] else { return nil }
            switch messageState {
            case .pending: return slot.pending[id]?.readable(id: id)
            case .inFlight: return slot.inFlight[id]?.payload.readable(id: id)
            case .done: return slot.done[id]?.readable(id: id)
            case .quarantined: return slot.quarantined.last { $0.id == id }?.payload.readable(id: id)
            }
        }
    }

    package func messages(_ session: String, _ messageState: MessageState) throws(StoreError) -> [Message] {
        state.withLock { s in
            guard let slot = s.sessions[session] else { return [] }
            switch messageState {
            case .pending: return slot.pending.keys.sorted().compactMap { slot.pending[$0]?.readable(id: $0) }
            case .inFlight: return Self.sortedClaims(slot).compactMap { slot.inFlight[$0.messageID]?.payload.readable(id: $0.messageID) }
            case .done: return slot.done.keys.sorted().compactMap { slot.done[$0]?.readable(id: $0) }
            case .quarantined:
                return slot.quarantined.sorted { $0.id < $1.id }.compactMap { $0.payload.readable(id: $0.id) }
            }
        }
    }

    package func locate(_ session: String, _ id: String) throws(StoreError) -> MessageState? {
        state.withLock { $0.sessions[session]?.state(of: id) }
    }

    package func messageIDs(_ session: String, _ state: MessageState) throws(StoreError) -> [String] {
        self.state.withLock { s -> [String] in
            guard let slot = s.sessions[session] else { return [] }
            switch state {
            case .pending: return slot.pending.keys.sorted()
            case .inFlight: return slot.inFlight.keys.sorted()
            case .done: return slot.done.keys.sorted()
            case .quarantined: return Array(Set(slot.quarantined.map(\.id))).sorted()
            }
        }
    }

    package func sentIDs(sender: String) throws(StoreError) -> [String] {
        state.withLock { $0.sessions[sender]?.sent.keys.sorted() ?? [] }
    }

    package func claim(_ session: String, _ id: String, keepInFlight: Bool) throws(StoreError) -> ClaimOutcome {
        let now = clock.now()
        return state.update { s in
            guard var slot = s.sessions[session], let payload = slot.pending.removeValue(forKey: id) else { return .gone }
            defer { slot.inboxGeneration &+= 1; s.sessions[session] = slot }
            switch payload.validated(id: id, for: session) {
            case .failure(let problem):
                slot.quarantined.append((id, payload))
                return .malformed(problem.reason)
            case .success(let m):
                if keepInFlight {
                    slot.inFlight[id] = (.message(m), ClaimRecord(messageID: id, claimedAt: now, delivery: 1))
                } else {
                    slot.done[id] = .message(m)
                }
                return .claimed(m)
            }
        }
    }

    package func redeliver(_ session: String, _ record: ClaimRecord) throws(StoreError) -> ClaimOutcome {
        let now = clock.now()
        return state.update { s in
            guard var slot = s.sessions[session], let held = slot.inFlight[record.messageID], held.claim == record else { return .gone }
            defer { slot.inboxGeneration &+= 1; s.sessions[session] = slot }
            switch held.payload.validated(id: record.messageID, for: session) {
            case .failure(let problem):
                slot.inFlight[record.messageID] = nil
                slot.quarantined.append((record.messageID, held.payload))
                return .malformed(problem.reason)
            case .success(let m):
                let next = ClaimRecord(messageID: record.messageID, claimedAt: max(now, record.claimedAt &+ 1), delivery: record.delivery + 1)
                slot.inFlight[record.messageID] = (held.payload, next)
                return .claimed(m)
            }
        }
    }

    package func finishClaim(_ session: String, _ record: ClaimRecord) throws(StoreError) -> Bool {
        state.update { s in Self.finish(session, record.messageID, only: record, in: &s) }
    }

    package func finishInFlight(_ session: String, _ id: String) throws(StoreError) -> Bool {
        state.update { s in Self.finish(session, id, only: nil, in: &s) }
    }

    /// Moves an in-flight message to done (when `only` is given, only if its claim is exactly that one).
    static func finish(_ session: String, _ id: String, only record: ClaimRecord?, in s: inout MemoryState) -> Bool {
        guard let held = s.sessions[session]?.inFlight[id] else { return false }
        if let record, held.claim != record { return false }
        s.sessions[session]?.inFlight[id] = nil
        s.sessions[session]?.done[id] = held.payload
        s.sessions[session]?.inboxGeneration &+= 1
        return true
    }

    package func expire(_ session: String, _ record: ClaimRecord, query: Message, receipt: DeliveryEvent) throws(StoreError) -> Bool {
        state.update { s in
            guard Self.finish(session, record.messageID, only: record, in: &s) else { return false }
            Self.append(receipt, sender: query.from, messageID: query.id, in: &s)
            return true
        }
    }

    package func replyAndComplete(_ session: String, _ record: ClaimRecord, query: Message, reply: Message,
                                 receipt: DeliveryEvent) throws(StoreError) {
        try state.update { (s) throws(StoreError) in
            guard s.sessions[session]?.inFlight[record.messageID]?.claim == record else {
                throw StoreError(.conflict, "message \(record.messageID) was already answered")
            }
            try Self.deliver(reply, into: &s)
            Self.append(receipt, sender: query.from, messageID: query.id, in: &s)
            _ = Self.finish(session, record.messageID, only: record, in: &s)
        }
    }

    package func claims(_ session: String) throws(StoreError) -> [ClaimRecord] {
        state.withLock { s in s.sessions[session].map(Self.sortedClaims) ?? [] }
    }

    static func sortedClaims(_ slot: SessionSlot) -> [ClaimRecord] {
        slot.inFlight.values.map(\.claim).sorted { ($0.messageID, $0.claimedAt) < ($1.messageID, $1.claimedAt) }
    }

    package func claimRecord(_ session: String, _ id: String) throws(StoreError) -> ClaimRecord? {
        state.withLock { $0.sessions[session]?.inFlight[id]?.claim }
    }

    package func quarantine(_ session: String, _ id: String, from messageState: MessageState) throws(StoreError) {
        state.update { s in
            guard var slot = s.sessions[session] else { return }
            let payload: Payload?
            switch messageState {
            case .pending: payload = slot.pending.removeValue(forKey: id)
            case .inFlight: payload = slot.inFlight.removeValue(forKey: id)?.payload
            case .done: payload = slot.done.removeValue(forKey: id)
            case .quarantined: payload = nil
            }
            guard let payload else { return }
            slot.quarantined.append((id, payload))
            slot.inboxGeneration &+= 1
            s.sessions[session] = slot
        }
    }

    package func setAwaiting(_ session: String, messageID: String, pid: Int32) throws(StoreError) {
        guard Identifiers.isValidID(messageID) else { return }
        state.withLock { s in
            if s.sessions[session] != nil { s.sessions[session]?.awaiting[messageID] = pid }
        }
    }

    package func clearAwaiting(_ session: String, messageID: String) throws(StoreError) {
        state.withLock { s in _ = s.sessions[session]?.awaiting.removeValue(forKey: messageID) }
    }

    package func awaiting(_ session: String) throws(StoreError) -> [String: Int32] {
        state.withLock { $0.sessions[session]?.awaiting ?? [:] }
    }

    // MARK: Receipts

    package func appendEvent(sender: String, messageID: String, _ event: DeliveryEvent) throws(StoreError) {
        guard Identifiers.isValidID(messageID) else { return }
        state.update { s in Self.append(event, sender: sender, messageID: messageID, in: &s) }
    }

    static func append(_ event: DeliveryEvent, sender: String, messageID: String, in s: inout MemoryState) {
        guard s.sessions[sender] != nil else { return }
        s.sessions[sender]?.receipts[messageID, default: []].append(event)
        s.sessions[sender]?.receiptGeneration &+= 1
    }

    package func events(sender: String, messageID: String) throws(StoreError) -> [DeliveryEvent] {
        state.withLock { $0.sessions[sender]?.receipts[messageID] ?? [] }
    }

    // MARK: Locks

    package func acquire(_ name: StoreLockName, ttlMilliseconds: Int, wait: Bool) throws(StoreError) -> (any HeldLock)? {
        let ttl = Int64(max(1, ttlMilliseconds)) * 1_000_000
        let clock = self.clock
        func take(_ s: inout MemoryState) -> UInt64? {
            let now = clock.now()
            if let held = s.locks[name], held.expiresAt > now { return nil }
            let token = s.nextLockToken
            s.nextLockToken &+= 1
            s.locks[name] = LockSlot(token: token, expiresAt: now &+ ttl)
            return token
        }
        let token: UInt64?
        if wait {
            token = state.wait(timeoutMilliseconds: nil) { take(&$0) }
        } else {
            token = state.withLock { take(&$0) }
        }
        return token.map { MemoryLock(store: self, name: name, token: $0, ttl: ttl) }
    }

    /// A lock held in this engine; it ends with `release`, or when its TTL runs out on the engine's clock.
    final class MemoryLock: HeldLock {
        let store: InMemoryStore
        let name: StoreLockName
        let token: UInt64
        let ttl: Int64

        init(store: InMemoryStore, name: StoreLockName, token: UInt64, ttl: Int64) {
            self.store = store
            self.name = name
            self.token = token
            self.ttl = ttl
        }

        /// Extends the TTL while this holder still has the lock (even past its TTL when nobody took it since).
        func renew() throws(StoreError) -> Bool {
            let now = store.clock.now()
            let (name, token, ttl) = (self.name, self.token, self.ttl)
            return store.state.withLock { s in
                guard s.locks[name]?.token == token else { return false }
                s.locks[name]?.expiresAt = now &+ ttl
                return true
            }
        }

        func release() {
            let (name, token) = (self.name, self.token)
            store.state.update { s in
                if s.locks[name]?.token == token { s.locks[name] = nil }
            }
        }
    }

    // MARK: Change signal

    package func changeSignal(_ scope: ChangeScope, alsoWatching folders: [String]) throws(StoreError) -> any ChangeSignal {
        MemoryChangeSignal(store: self, scope: scope, folders: folders)
    }

    /// The generation a signal of `scope` compares: it moves with every change the scope wakes for. `updates`
    /// counts every change to the state (`.allInboxesAndReceipts` wakes for any).
    func generation(_ scope: ChangeScope, _ s: MemoryState, updates: UInt64) -> UInt64 {
        switch scope {
        case .inbox(let id):
            return s.sessions[id]?.inboxGeneration ?? 0
        case .inboxAndReceipts(let id):
            guard let slot = s.sessions[id] else { return 0 }
            return slot.inboxGeneration &+ slot.receiptGeneration
        case .allInboxes:
            return s.generation
        case .allInboxesAndReceipts:
            return updates
        }
    }

    // MARK: Doctor

    /// The logical checks of the file engine's doctor that can fail here: unreadable pending or claimed messages
    /// (quarantined), claims an interrupted reply answered (finished), claims past their last lease (expired),
    /// awaiting entries of waiters that are gone, and bindings to missing sessions (removed).
    package func check(fix: Bool, policy: LeasePolicy) -> [Doctor.Finding] {
        var out: [Doctor.Finding] = []
        func add(_ subject: String, _ problem: String, _ repair: String?) {
            out.append(Doctor.Finding(area: "messages", subject: subject, problem: problem, repair: fix ? repair : nil,
                                      repaired: fix && repair != nil))
        }
        let now = clock.now()
        let snapshot = state.withLock { $0 }
        for id in snapshot.sessions.keys.sorted() {
            guard let slot = snapshot.sessions[id] else { continue }
            guard case .readable(let manifest) = slot.manifest else {
                add("session \(id)", "manifest is missing or unreadable", nil)
                continue
            }
            for mid in slot.pending.keys.sorted() where (try? slot.pending[mid]?.validated(id: mid, for: id).get()) == nil {
                if fix { try? quarantine(id, mid, from: .pending) }
                add("session \(id): pending \(mid)", "malformed message", "moved to quarantine")
            }
            for record in Self.sortedClaims(slot) {
                guard let m = try? slot.inFlight[record.messageID]?.payload.validated(id: record.messageID, for: id).get() else {
                    if fix { try? quarantine(id, record.messageID, from: .inFlight) }
                    add("session \(id): in flight \(record.messageID)", "malformed message", "moved to quarantine")
                    continue
                }
                let answered = snapshot.sessions[m.from]?.state(of: Identifiers.replyID(for: m.id)) != nil
                if answered {
                    var repair: String? = "finished the reply (receipt written, moved to done)"
                    if fix, (try? completeAnswered(id, name: manifest.name, record, m)) != true,
                       (try? claimRecord(id, m.id)) == record {
                        repair = nil
                    }
                    add("session \(id): message \(m.id)", "answered by an interrupted reply but still claimed", repair)
                } else if policy.decide(record, now: now) == .expire {
                    if fix {
                        _ = try? expire(id, record, query: m, receipt: DeliveryEvent(event: .expired, by: id, byName: manifest.name))
                    }
                    add("session \(id): message \(m.id)", "claimed \(record.delivery) time(s) without an answer, past its lease",
                        "marked expired")
                }
            }
            for (mid, pid) in slot.awaiting.sorted(by: { $0.key < $1.key }) where pid <= 0 || !Processes.isAlive(pid) {
                if fix { try? clearAwaiting(id, messageID: mid) }
                add("session \(id): awaiting/\(mid)", "left by a waiter that is gone", "removed")
            }
        }
        for (key, target) in snapshot.bindings.sorted(by: { $0.key < $1.key }) where snapshot.sessions[target] == nil {
            if fix { try? unbind(key: key) }
            add("binding \(String(SHA256.hex(key).prefix(40)))", "points to a missing session '\(Identifiers.printable(target))'", "removed")
        }
        return out
    }

    /// Finishes claim `record` of query `m` whose reply exists: the answered receipt if missing, then done. One
    /// critical section, so it cannot interleave with a reply or a takeover.
    func completeAnswered(_ session: String, name: String, _ record: ClaimRecord, _ m: Message) throws(StoreError) -> Bool {
        let replyID = Identifiers.replyID(for: m.id)
        return state.update { s in
            guard s.sessions[m.from]?.state(of: replyID) != nil, s.sessions[session]?.inFlight[m.id]?.claim == record else { return false }
            if !(s.sessions[m.from]?.receipts[m.id] ?? []).contains(where: { $0.event == .answered }) {
                Self.append(DeliveryEvent(event: .answered, by: session, byName: name, via: "reply", replyId: replyID),
                            sender: m.from, messageID: m.id, in: &s)
            }
            return Self.finish(session, m.id, only: record, in: &s)
        }
    }

    // MARK: Test hooks

    /// Puts bytes that are not (or not quite) a message into `session`'s pending messages under `id`, as a damaged
    /// file would be in the file engine: readers must quarantine it, never deliver it.
    package func plantPending(_ session: String, id: String, bytes: [UInt8]) {
        state.update { s in
            s.sessions[session]?.pending[id] = .bytes(bytes)
            s.sessions[session]?.inboxGeneration &+= 1
        }
    }

    /// Makes `session`'s manifest unreadable (reads report `.corrupt`).
    package func damageManifest(_ session: String) {
        state.update { s in s.sessions[session]?.manifest = .unreadable }
    }
}

/// The in-memory change signal: waits on the engine's condition variable until the generation of its scope moves
/// past the one it last saw (changes between waits are not missed: the first wait returns at once). Local folders
/// to watch as well are looked at between short waits.
final class MemoryChangeSignal: ChangeSignal {
    let store: InMemoryStore
    let scope: ChangeScope
    let folders: DirectoryWatcher?
    private var seen: UInt64

    init(store: InMemoryStore, scope: ChangeScope, folders: [String]) {
        self.store = store
        self.scope = scope
        self.folders = folders.isEmpty ? nil : DirectoryWatcher(paths: folders)
        self.seen = store.state.withLockCounting { s, updates in store.generation(scope, s, updates: updates) }
    }

    var mechanism: String { "memory" }

    var pollingReason: String? {
        guard let folders else { return nil }
        return folders.pollingReason.map { "local folders: \($0)" }
    }

    static let folderSliceMilliseconds = 50

    func wait(timeoutMilliseconds: Int) -> Bool {
        let scope = self.scope, store = self.store, seen = self.seen
        guard let folders else {
            guard let now = store.state.waitCounting(timeoutMilliseconds: timeoutMilliseconds, until: { (s: inout MemoryState, updates: UInt64) -> UInt64? in
                let g = store.generation(scope, s, updates: updates)
                return g != seen ? g : nil
            }) else { return false }
            self.seen = now
            return true
        }
        let deadline = Clock.monotonicNanoseconds() + Int64(max(0, timeoutMilliseconds)) * 1_000_000
        while true {
            let slice = Int(min(Int64(MemoryChangeSignal.folderSliceMilliseconds), max(0, (deadline - Clock.monotonicNanoseconds()) / 1_000_000)))
            if let now = store.state.waitCounting(timeoutMilliseconds: slice, until: { (s: inout MemoryState, updates: UInt64) -> UInt64? in
                let g = store.generation(scope, s, updates: updates)
                return g != seen ? g : nil
            }) {
                self.seen = now
                return true
            }
            // A polling folder watcher cannot tell: each slice is a "look again", as its own waits are.
            if folders.mode == .polling || folders.wait(timeoutMilliseconds: 0) { return true }
            if Clock.monotonicNanoseconds() >= deadline { return false }
        }
    }
}
